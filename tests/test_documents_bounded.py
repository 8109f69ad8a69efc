"""request and reconcile read documents in bounded memory (issue 15): /dev/zero or an endless stdin (no newline ever)
is an error after a cap, one line, not an out-of-memory."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, stdin=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "costcalc", *args], stdin=stdin, capture_output=True, env=env,
                          timeout=120)  # fmt: skip



@pytest.mark.parametrize("args", [["request", "-", "-m", "gpt-4o"], ["reconcile", "-"]])
def test_dev_zero_on_stdin_is_an_error_after_the_cap(args):
    with open("/dev/zero", "rb") as zero:
        done = _run(*args, stdin=zero)
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode in (1, 2), done.stderr[-500:]
    assert len(lines) == 1 and "268,435,456 bytes" in lines[0] and "Traceback" not in lines[0], lines


def test_a_file_of_zeros_is_an_error_after_the_cap(tmp_path):
    endless = tmp_path / "zeros.jsonl"
    with endless.open("wb") as out:  # sparse: 300 MB of zeros and no newline, nothing on disk
        out.truncate(300 << 20)
    done = _run("reconcile", str(endless))
    assert done.returncode == 2 and "zeros.jsonl:1: a line longer than 268,435,456 bytes" in done.stderr.decode()
