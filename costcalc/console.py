"""The `costcalc` console script and `python -m costcalc`: Ctrl-C at any moment exits 130, without a traceback.

This module imports nothing of costcalc's own at load time, so the command's
modules (click, the CLI) load inside `main`, where a Ctrl-C while they load is
caught like one during the command (issue 9: 130 = 128 + SIGINT).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run the `costcalc` command; KeyboardInterrupt, even during start-up imports, exits 130."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        interrupted()
    run()


def interrupted() -> None:
    """Say "interrupted" on stderr and end the process with status 130, whatever a second Ctrl-C does meanwhile."""
    try:
        sys.stderr.write("\ninterrupted\n")
        sys.stdout.flush()
    except BaseException:  # a second Ctrl-C, a closed pipe: exit all the same
        pass
    os._exit(130)
