"""The `costcalc` command: glue from arguments to the library and back to text.

Read in this order: `common` (exit codes, bad arguments, the text streams and the
checks every command makes, without click), `app` (the group, the one error handler,
Ctrl-C), `options` (the options commands share, each declared once), `words` (the flag
names the command line says for the library's parameters), then one module per
command or small group of commands. A command's module is imported when the
command is named (app.COMMAND_MODULES; the command list loads them all), and each
command imports what it uses when it runs, so start-up stays near click's own
cost; every command calls the same functions a Python user calls. `quick` runs the
plainest command lines (`estimate --size 1024x1024 -m gpt-4o`) without click at all.
"""

from __future__ import annotations

__all__ = ["ExitCode", "cli", "main"]


def __getattr__(name: str):
    """`cli`, `main` and `ExitCode` from `app`, imported when first asked for: `quick` and `common` start without
    click."""
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
