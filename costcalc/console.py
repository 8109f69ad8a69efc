"""The `costcalc` console script and `python -m costcalc`: Ctrl-C at any moment exits 130, without a traceback.

This module imports nothing of costcalc's but `interrupt` at load time, so the
command's modules (click, the CLI) load inside `main`, where a Ctrl-C while they
load is caught like one during the command (130 = 128 + SIGINT).
"""

from __future__ import annotations

from .interrupt import exit_interrupted


def main() -> None:
    """Run the `costcalc` command; KeyboardInterrupt, even during start-up imports, exits 130."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        exit_interrupted()
    run()
