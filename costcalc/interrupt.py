"""Ending the process on a signal: one place for Ctrl-C (exit 130), SIGTERM (143) and SIGHUP (129), for every layer.

SIGTERM and SIGHUP are handled as Ctrl-C is (`handle_stop_signals`): they raise
KeyboardInterrupt in the main thread, so every command stops its workers and
leaves nothing half-written the way it does for Ctrl-C, and the process then
exits 128 + the signal's number, as shells report a signal. A closed standard
output (`costcalc audit DIR --nl | head -1`) is `quiet_stdout`: standard output
goes to the null device, as the Python documentation advises for SIGPIPE
(https://docs.python.org/3/library/signal.html#note-on-sigpipe), and the run
ends with the status it had so far.

Imports nothing of costcalc's, so the console script can use it before any
command module loads (a Ctrl-C during start-up imports still exits 130).
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["exit_interrupted", "exit_status", "handle_stop_signals", "quiet_stdout", "INTERRUPTED", "STOP_SIGNALS"]

INTERRUPTED = 130
"""The exit status after Ctrl-C: 128 + SIGINT, as shells report it."""

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that end a run as Ctrl-C does (workers hold them off while they start, then ignore them)."""

_received: int | None = None
"""The last stop signal other than SIGINT that arrived, or None."""


def _stop(signum, frame) -> None:
    global _received
    _received = signum
    raise KeyboardInterrupt


def handle_stop_signals() -> None:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread, as Ctrl-C does (call from the main thread)."""
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:  # nohup's SIG_IGN is kept
            signal.signal(number, _stop)


def exit_status() -> int:
    """The status an interrupted run exits with: 128 + the signal that stopped it (130 for Ctrl-C)."""
    return INTERRUPTED if _received is None else 128 + _received


def exit_interrupted(message: str = "interrupted", status: int | None = None) -> None:
    """Say `message` on stderr and end the process with `status` (default `exit_status()`), whatever a second
    signal does meanwhile."""
    try:
        sys.stderr.write(f"\n{message}\n")
        sys.stdout.flush()
    except BaseException:  # a second Ctrl-C, a closed pipe: exit all the same
        pass
    os._exit(exit_status() if status is None else status)


def quiet_stdout() -> None:
    """Standard output was closed by its reader: send what is still to be written to the null device, so neither
    this run nor the interpreter's last flush says a word about it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no descriptor (a test's captured stdout)
        pass
