"""The `costcalc` command: glue from arguments to the library and back to text.

Read in this order: `app` (the group, exit codes, the one error handler, Ctrl-C),
`options` (the options commands share, each declared once), `words` (the flag
names the command line says for the library's parameters), then one module per
command or small group of commands. A command's module is imported when the
command is named (app.COMMAND_MODULES; the command list loads them all), and each
command imports what it uses when it runs, so start-up stays near click's own
cost; every command calls the same functions a Python user calls.
"""

from __future__ import annotations

from .app import ExitCode, cli, main

__all__ = ["ExitCode", "cli", "main"]
