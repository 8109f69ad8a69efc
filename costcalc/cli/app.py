"""The `costcalc` group: exit codes, the one error handler, Ctrl-C, and the entry point.

Every command ends through here: a CostcalcError that reaches the group is one
line and exit 2, an OSError (a disk full, an output closed) or a MemoryError one
line and exit 1, Ctrl-C "interrupted" and exit 130 (`costcalc.interrupt`). Commands
exit with an `ExitCode`, never a literal number.
"""

from __future__ import annotations

import io
import sys
from enum import IntEnum

import click

from .. import __version__
from ..errors import CostcalcError
from ..interrupt import INTERRUPTED, exit_interrupted
from ..words import escape
from .words import line_words

__all__ = ["ArgumentError", "ExitCode", "cli", "interrupted", "main"]


class ExitCode(IntEnum):
    """The statuses `costcalc` ends with; UNPRICED and OVER_BUDGET combine (`ExitCode.of`) into 5."""

    OK = 0
    UNPRICED = 1
    """Some item could not be priced, written, read or judged (or broke a request limit)."""
    USAGE = 2
    """Bad arguments, a bad table file, a payload that is not one: nothing was done."""
    OVER_BUDGET = 4
    """Over --max-tokens / --max-usd; for `reconcile` and `probe`: the measurement disagrees with the table."""
    DISAGREES = 4
    INTERRUPTED = INTERRUPTED

    @classmethod
    def of(cls, unpriced: bool, over_budget: bool = False) -> int:
        """0, 1, 4 or 5: some items unpriced, the budget broken, or both."""
        return (cls.UNPRICED if unpriced else cls.OK) | (cls.OVER_BUDGET if over_budget else cls.OK)


class ArgumentError(click.ClickException):
    """A bad argument: one line naming it, exit code 2."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(line_words(message))


class Failure(click.ClickException):
    """A run that failed for a reason outside the arguments (an endpoint, the disk): one line, exit code 1."""

    exit_code = ExitCode.UNPRICED

    def __init__(self, message: str) -> None:
        super().__init__(line_words(message))


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

    def invoke(self, ctx):
        """Run the command: KeyboardInterrupt → "interrupted", 130; a stray CostcalcError → one line, 2."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted()
        except CostcalcError as error:
            raise ArgumentError(str(error)) from None
        except MemoryError:
            raise Failure("out of memory") from None
        except click.ClickException as error:  # names from outside never reach the terminal raw (words.escape)
            error.message = escape(error.message)
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except OSError as error:  # the output closed, a disk full: one line, not a traceback
            if isinstance(error, BrokenPipeError):
                raise
            where = getattr(error, "filename", None) or "output"
            raise Failure(f"{where}: {error.strerror or error}") from None


def _text_streams() -> None:
    """Standard output writes a path's undecodable bytes back as those bytes (errors='surrogateescape').

    A file named in Latin-1 comes in as os.fsdecode gives it ('caf\\udce9.png'):
    CSV carries the very bytes of its name; JSON and JSON lines write the escape
    `\\udce9` (output.report.json_text), valid UTF-8 that json.loads and os.fsencode
    turn back into those bytes. Either way a program can open the file.
    """
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="surrogateescape")
        except (ValueError, OSError):  # a stream that cannot change: leave it
            pass
    _terminal_stdout()


def _terminal_stdout() -> None:
    """On a terminal, standard output shows every character from outside as `words.escape` does (line breaks
    kept): a name's ESC or bidirectional mark never reaches the terminal raw, in CSV and JSON lines too, whose
    very bytes go to a pipe or a file (where a program reads them back), not to a person's screen."""
    stdout = sys.stdout
    buffer = getattr(stdout, "buffer", None)
    try:
        if buffer is None or not stdout.isatty() or isinstance(stdout, _Terminal):
            return
        stdout.flush()
    except (ValueError, OSError):
        return
    sys.stdout = _Terminal(buffer, encoding=stdout.encoding, errors="surrogateescape", line_buffering=True)
    sys.stdout._original = stdout  # kept open: it shares the buffer (it is sys.__stdout__ too)


class _Terminal(io.TextIOWrapper):
    """A text stream that writes `words.escape`'s visible form of each line of what it is given."""

    def write(self, text: str) -> int:
        if not text.isprintable():
            text = "\n".join(escape(line) for line in text.split("\n"))
        return super().write(text)


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
    _text_streams()


def main() -> None:
    """Entry point of the `costcalc` console script: Ctrl-C at any moment exits 130."""
    try:
        cli.main(prog_name="costcalc")
    except KeyboardInterrupt:  # outside a command (while parsing, or on the way out)
        exit_interrupted()
