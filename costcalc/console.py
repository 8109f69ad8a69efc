"""The `costcalc` console script and `python -m costcalc`: Ctrl-C at any moment exits 130, without a traceback.

SIGTERM and SIGHUP end a run as Ctrl-C does, exiting 143 and 129
(interrupt.handle_stop_signals). A reader that closes standard output early
(`costcalc audit DIR --nl | head -1`) ends the run quietly, with the status it
had so far (interrupt.quiet_stdout).

This module imports nothing of costcalc's but `interrupt` at load time, so the
command's modules (click, the CLI) load inside `main`, where a Ctrl-C while they
load is caught like one during the command (130 = 128 + SIGINT). The plainest
command lines run without click (cli/quick.py); every other one through click.
"""

from __future__ import annotations

import sys

from .interrupt import INTERRUPTED, exit_interrupted, exit_status, handle_stop_signals, quiet_stdout


def main() -> None:
    """Run the `costcalc` command; KeyboardInterrupt (or SIGTERM, SIGHUP), even during start-up imports, exits
    128 + the signal; a closed standard output exits quietly."""
    try:
        handle_stop_signals()
        from .cli.quick import run as quick
    except KeyboardInterrupt:  # Ctrl-C while the handlers are set up or the command loads
        exit_interrupted()
    try:
        status = quick(sys.argv[1:])  # the plainest command lines, without click (cli/quick.py)
        if status is not None:
            sys.exit(status)
        from .cli import main as run

        run()
        sys.stdout.flush()
    except SystemExit as end:
        if end.code == INTERRUPTED:  # the command said "interrupted": by which signal
            end.code = exit_status()
        _flush_or_quiet()
        raise
    except BrokenPipeError:
        quiet_stdout()
        sys.exit(0)
    except KeyboardInterrupt:
        exit_interrupted()


def _flush_or_quiet() -> None:
    """Flush standard output; if its reader is gone, send the rest to the null device (no 'Exception ignored')."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_stdout()
    except (OSError, ValueError):
        pass
