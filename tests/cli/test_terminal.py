"""What reaches a terminal: a name's control characters shown as escapes in every output format, while a pipe
gets the name's very bytes (a program reading CSV or JSON lines opens the file by them)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pty = pytest.importorskip("pty")


def _on_a_terminal(args: list[str]) -> bytes:
    master, slave = pty.openpty()
    process = subprocess.Popen(args, stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    process.wait(timeout=60)
    return out


@pytest.mark.parametrize("fmt", ["--csv", "--nl", None])
def test_a_name_with_escapes_reaches_a_terminal_escaped_and_a_pipe_as_it_is(tmp_path, fmt):
    (tmp_path / "x\x1b[2J\u202e.png").write_bytes(b"not an image")
    args = [sys.executable, "-m", "costcalc", "audit", str(tmp_path), "-m", "gpt-4o", *([fmt] if fmt else [])]
    shown = _on_a_terminal(args)
    assert b"x" in shown and b"\x1b" not in shown and "\u202e".encode() not in shown, shown
    assert b"\\x1b[2J" in shown or b"\\u001b[2J" in shown
    if fmt == "--csv":  # a pipe: the name's own bytes, so that a program can open the file
        piped = subprocess.run(args, capture_output=True).stdout
        assert "x\x1b[2J\u202e.png".encode() in piped
