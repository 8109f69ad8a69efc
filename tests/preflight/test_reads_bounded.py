"""Reads have bounds (issue 15): optimize, the MCP tools and estimate read a source as audit does — a non-blocking
open, fstat says a regular file, a size cap — so a 5 GB sparse JPEG, /dev/zero, a FIFO, an endless stream, or a
source swapped for one mid-run is one error, in bounded time and memory."""

import io
import os
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import costcalc
from costcalc.cli import cli
from costcalc.errors import ImageReadError
from costcalc.inspection import headers
from costcalc.preflight.tree import optimize_paths

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photo.jpg"


def within(seconds, work):
    """work() in a daemon thread; its result (or exception), failing if it takes longer than `seconds` (a blocking
    open of a FIFO would hang there, not the test run)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - the test looks at it
            outcome["value"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still reading after {seconds} s"
    return outcome["value"]


def sparse_jpeg(path: Path, size: int = 5 << 30) -> Path:
    """A real JPEG's bytes at the start of a 5 GB sparse file (nothing on disk but the first blocks)."""
    with path.open("wb") as out:
        out.write(PHOTO.read_bytes())
        out.truncate(size)
    return path


def test_optimize_refuses_a_5_gb_sparse_jpeg_by_its_size(tmp_path):
    (tmp_path / "src").mkdir()
    sparse_jpeg(tmp_path / "src" / "huge.jpg")
    shutil.copyfile(PHOTO, tmp_path / "src" / "ok.jpg")
    result = within(
        60,
        lambda: CliRunner().invoke(
            cli, ["optimize", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "-m", "gpt-4o", "-j", "1", "--nl"]
        ),
    )
    assert result.exit_code == 1, result.output
    assert "huge.jpg" in result.output and "over the cap of 268,435,456 bytes" in result.output
    assert (tmp_path / "out" / "ok.jpg").is_file() and not (tmp_path / "out" / "huge.jpg").exists()


@pytest.mark.parametrize("swap", ["fifo", "dev-zero"])
def test_a_source_swapped_mid_run_is_an_error_row(tmp_path, swap):
    """Planned as a regular file, replaced before its worker reads it: by a FIFO nobody writes to (an open that
    blocks on main), or by a link to /dev/zero (a read that never ends)."""
    (tmp_path / "src").mkdir()
    shutil.copyfile(PHOTO, tmp_path / "src" / "a.jpg")
    shutil.copyfile(PHOTO, tmp_path / "src" / "b.jpg")
    chunks = optimize_paths([tmp_path / "src"], tmp_path / "out", model="gpt-4o")  # planned here
    (tmp_path / "src" / "a.jpg").unlink()
    if swap == "fifo":
        os.mkfifo(tmp_path / "src" / "a.jpg")
    else:
        (tmp_path / "src" / "a.jpg").symlink_to("/dev/zero")
    rows = within(30, lambda: {Path(row.path).name: row for chunk in chunks for row in chunk})
    assert not isinstance(rows, BaseException), rows
    assert rows["a.jpg"].status == "error" and "not a regular file" in rows["a.jpg"].error
    assert rows["b.jpg"].status == "written"


def test_optimize_of_a_fifo_path_never_blocks(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    error = within(10, lambda: costcalc.optimize(tmp_path / "pipe.jpg", model="gpt-4o"))
    assert isinstance(error, ImageReadError) and "named pipe" in str(error)


def test_estimate_of_an_endless_stream_stops_at_the_cap(monkeypatch):
    monkeypatch.setattr(headers, "STREAM_CAP", 1 << 20)

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[: len(buffer)] = b"\0" * len(buffer)
            return len(buffer)

    error = within(30, lambda: costcalc.estimate(io.BufferedReader(Endless()), model="gpt-4o"))
    assert isinstance(error, ImageReadError) and "longer than 1,048,576 bytes" in str(error)


def test_estimate_of_dev_zero_on_stdin_is_one_error_line():
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [sys.executable, "-m", "costcalc", "estimate", "-", "-m", "gpt-4o"],
            stdin=zero,
            capture_output=True,
            env=env,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: -: ")
