"""request and reconcile read documents in bounded memory (issue 15): /dev/zero or an endless stdin (no newline ever)
is an error after a cap, one line, not an out-of-memory."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import costcalc

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, stdin=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "costcalc", *args], stdin=stdin, capture_output=True, env=env, timeout=120
    )


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


def test_a_message_batches_element_that_never_ends_is_an_error_after_the_cap(monkeypatch, tmp_path):
    """One request of a minified Anthropic batch document that goes on and on: an error at the cap, not an OOM."""
    from costcalc.runs import batchread

    monkeypatch.setattr(batchread, "MAX_SOURCE_BYTES", 1 << 20)
    path = tmp_path / "endless.json"
    with open(path, "wb") as handle:
        handle.write(b'{"requests": [{"custom_id": "a", "params": {"model": "claude-opus-4-7", "messages": "')
        handle.write(b"x" * (6 << 20))  # 6 MiB of one string, never closed
    result = costcalc.count_batch(str(path))
    assert result.totals.errors == 1 and len(result.rows) == 1
    assert "over 1,048,576 bytes" in result.rows[0].error
