"""The `costcalc` group: exit codes, the one error handler, Ctrl-C, and the entry point.

Every command ends through here: a CostcalcError that reaches the group is one
line and exit 2, an OSError (a disk full, an output closed) or a MemoryError one
line and exit 1, Ctrl-C "interrupted" and exit 130 (`costcalc.interrupt`). Commands
exit with an `ExitCode`, never a literal number.
"""

from __future__ import annotations

import click

from .. import __version__
from ..errors import CostcalcError
from ..interrupt import exit_interrupted
from ..words import escape
from .common import BadArgument, ExitCode, failure, text_streams
from .words import line_words, named_paths

__all__ = ["ArgumentError", "ExitCode", "cli", "interrupted", "main"]


class ArgumentError(click.ClickException):
    """A bad argument: one line naming it, exit code 2."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(line_words(message, typed_paths()))


class Failure(click.ClickException):
    """A run that failed for a reason outside the arguments (an endpoint, the disk): one line, exit code 1."""

    exit_code = ExitCode.UNPRICED

    def __init__(self, message: str) -> None:
        super().__init__(line_words(message, typed_paths()))


TYPED = "costcalc.typed"
"""Where the group keeps the command line's words (in its context's `meta`)."""


def typed_paths() -> list[str]:
    """The paths typed on this command line (`words.named_paths`): an error line says them as they are."""
    context = click.get_current_context(silent=True)
    return named_paths(context.find_root().meta.get(TYPED, ()) if context is not None else ())


def interrupted(message: str = "interrupted"):
    """Ctrl-C: say so on stderr and exit 130 (128 + SIGINT), whatever was running."""
    try:
        click.echo(f"\n{message}", err=True)
    finally:
        raise click.exceptions.Exit(ExitCode.INTERRUPTED)


COMMAND_MODULES = {
    "estimate": "estimate",
    "audit": "audit",
    "models": "listing",
    "limits": "listing",
    "mcp": "mcp",
    "optimize": "optimize",
    "request": "request",
    "reconcile": "truth",
    "probe": "truth",
    "video": "video",
    "show": "show",
    "tables": "tables",
}
"""Where each command is defined (a module of this package): a command line loads only its command's module.
A command missing here is still found: an unknown name loads every module of the package first."""


class _Group(click.Group):
    """The command group: Ctrl-C exits 130 in every command; no error ever ends in a traceback.

    Commands load on demand: `costcalc estimate` imports the estimate module only (COMMAND_MODULES), while the
    command list (help, completion, `cli.commands`) loads every command module of the package first.
    """

    def __init__(self, *args, **kwargs):
        self._loaded_all = False
        super().__init__(*args, **kwargs)

    @property
    def commands(self) -> dict:
        """Every command, each module loaded first."""
        self._load_all()
        return self._commands

    @commands.setter
    def commands(self, value: dict) -> None:
        self._commands = value

    def add_command(self, cmd, name=None):
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._commands[name] = cmd

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self._commands and cmd_name in COMMAND_MODULES:
            from importlib import import_module

            import_module(f"{__package__}.{COMMAND_MODULES[cmd_name]}")
        return self.commands.get(cmd_name) if cmd_name not in self._commands else self._commands[cmd_name]

    def list_commands(self, ctx):
        return sorted(self.commands)

    def _load_all(self) -> None:
        if self._loaded_all:
            return
        self._loaded_all = True
        import os
        import pkgutil
        from importlib import import_module

        for module in pkgutil.iter_modules([os.path.dirname(__file__)]):
            import_module(f"{__package__}.{module.name}")

    def parse_args(self, ctx, args):
        ctx.meta[TYPED] = tuple(arg for arg in args if isinstance(arg, str))  # typed_paths reads them
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        """Run the command: KeyboardInterrupt → "interrupted", 130; a stray CostcalcError → one line, 2."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted()
        except click.ClickException as error:  # names from outside never reach the terminal raw (words.escape)
            error.message = escape(error.message)
            raise
        except (CostcalcError, BadArgument, MemoryError, OSError) as error:  # one line, not a traceback
            worded = failure(error)  # the words quick.py says too
            if worded is None:  # a closed pipe: console.py ends quietly
                raise
            message, status = worded
            raise (ArgumentError if status == ExitCode.USAGE else Failure)(message) from None


COMPLETION = """\b
Shell completion (model names included), e.g. for bash in ~/.bashrc:
  eval "$(_COSTCALC_COMPLETE=bash_source costcalc)"
zsh: _COSTCALC_COMPLETE=zsh_source; fish: _COSTCALC_COMPLETE=fish_source costcalc | source"""


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=COMPLETION)
@click.version_option(__version__, "-V", "--version", prog_name="costcalc")
def cli():
    """What an image costs a vision model, in tokens and dollars, before you send it.

    \b
    Examples:
      costcalc estimate photo.jpg -m gpt-4o
      costcalc estimate photo.jpg -m gpt-4o -m gpt-4.1-mini -m gpt-5.4 -d high
      costcalc estimate --size 2560x1669 -m gpt-5.4 --json
      costcalc models
    """
    text_streams()


def main() -> None:
    """Entry point of the `costcalc` console script: Ctrl-C at any moment exits 130."""
    try:
        cli.main(prog_name="costcalc")
    except KeyboardInterrupt:  # outside a command (while parsing, or on the way out)
        exit_interrupted()
