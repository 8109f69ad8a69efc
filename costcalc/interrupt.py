"""Ending the process on a signal: one place for Ctrl-C (exit 130) and the like, for every layer.

Imports nothing of costcalc's, so the console script can use it before any
command module loads (a Ctrl-C during start-up imports still exits 130).
"""

from __future__ import annotations

import os
import sys

__all__ = ["exit_interrupted", "INTERRUPTED"]

INTERRUPTED = 130
"""The exit status after Ctrl-C: 128 + SIGINT, as shells report it."""


def exit_interrupted(message: str = "interrupted", status: int = INTERRUPTED) -> None:
    """Say `message` on stderr and end the process with `status`, whatever a second Ctrl-C does meanwhile."""
    try:
        sys.stderr.write(f"\n{message}\n")
        sys.stdout.flush()
    except BaseException:  # a second Ctrl-C, a closed pipe: exit all the same
        pass
    os._exit(status)
