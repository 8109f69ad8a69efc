"""What the commands share that needs no click: exit codes, a bad argument, the text streams, the tables a
command reads, and the checks of its models, tier and sizes.

Kept apart from `app` and `options` (which build on click) so that `quick`, the
click-free path of the plainest commands, starts without click's ~35 ms; the
click commands call the same functions. A `BadArgument` raised here becomes
`app.ArgumentError` (one line, exit 2) in the group's error handler.
"""

from __future__ import annotations

import io
import re
import sys
from enum import IntEnum

from ..errors import CostcalcError, InvalidSizeError
from ..interrupt import INTERRUPTED
from ..words import escape

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    import datetime as _dt

    from ..catalog.tables import Tables

__all__ = [
    "ExitCode",
    "BadArgument",
    "text_streams",
    "load",
    "freshness",
    "resolve_models",
    "check_tier",
    "tier_line",
    "parse_size",
    "write_rows",
    "budget_document",
    "echo",
    "split_models",
    "parse_day",
    "failure",
]

_SIZE = re.compile(r"^\s*(\d+)\s*[x×X*]\s*(\d+)\s*$")


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


class BadArgument(Exception):
    """A bad argument, worded for the command line: `app.ArgumentError` (one line, exit 2) once it reaches the group."""


def text_streams() -> None:
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


def load(files: tuple[str, ...], day: _dt.date | None = None, regional: bool = False) -> Tables:
    """The tables: the shipped ones, with the --tables files over them, read on `day` (--as-of; default today),
    `regional` (--regional) or not; a bad file is a bad argument."""
    from ..catalog.tables import default_tables, load_tables

    try:
        base = default_tables()
    except CostcalcError as error:  # a file in the data folder (tables update, probe --write)
        raise BadArgument(f"data folder: {error} (see `costcalc tables status`)") from None
    try:
        tables = load_tables(*files, base=base)
    except CostcalcError as error:
        raise BadArgument(f"--tables: {error}") from None
    tables = tables.at(day) if day is not None else tables
    return tables.in_region() if regional else tables


def freshness(tables: Tables, given: bool = False) -> str:
    """`prices checked 2026-12-06, read as of 2026-12-06` (the day said when `given`: --as-of), with the update
    suggested when checked more than 30 days before the day they are read for (--as-of, default today)."""
    checked = tables.checked
    if checked is None:
        return f"prices as of {tables.as_of}"
    line = f"prices checked {checked}" + (f", read as of {tables.as_of}" if given else "")
    age = (tables.as_of - checked).days
    if age > 30:
        line += f"; {age} days old: `costcalc tables update` fetches genai-prices' newest"
    return line


def resolve_models(tables: Tables, names, detail: str | None = None) -> list[str]:
    """The table names of the -m models, each once (aliases of one row count once), checked against `detail`."""
    resolved = []
    for name in names:
        try:
            model = tables.model(name)
            if detail is not None:
                model.rule(detail)
        except CostcalcError as error:
            raise BadArgument(f"--model {name}: {error}") from None
        resolved.append(model.name)
    return list(dict.fromkeys(resolved))


def check_tier(tables: Tables, names, tier: str) -> None:
    """BadArgument (exit 2) naming the tiers a model has, when one of `names` lacks `tier`."""
    for name in names:
        try:
            tables.check_tier(name, tier)
        except CostcalcError as error:
            raise BadArgument(f"--tier {tier}: {error}") from None


def tier_line(tables: Tables, names, tier: str) -> str:
    """`tier: batch`, with why a model's USD is unknown at it (a rate its vendor does not publish)."""
    unknown = []
    for name in names:
        price = tables.price(name)
        rates = price.rates(tier) if price is not None else None
        if rates is not None and rates.usd_per_1m_input is None:
            unknown.append(f"{name}: USD unknown, {rates.note}")
    return f"tier: {tier}" + "".join(f"\n  {line}" for line in unknown)


def parse_size(text: str, flag: str = "--size") -> tuple[int, int]:
    """WIDTHxHEIGHT as a checked (width, height); a one-line usage error naming `flag` otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise BadArgument(f"{flag} {text!r}: expected WIDTHxHEIGHT, e.g. 1024x768")
    from ..pricing.cost import check_size

    try:
        return check_size(int(match[1]), int(match[2]))
    except InvalidSizeError as error:
        raise BadArgument(f"{flag} {text!r}: {error}") from None


def write_rows(rows, output: str, fields=None) -> None:
    """Rows as one JSON document (a list), CSV (with `fields`, else the first row's) or JSON lines, to stdout."""
    import sys

    from ..output.stream import RowWriter

    rows = list(rows)
    fields = fields or (list(rows[0]) if rows else ())
    RowWriter(output, sys.stdout, fields).rows(rows).end()


def budget_document(max_tokens, budget_usd, overruns) -> dict:
    """The `budget` member of a JSON document: the limits given and what went over them (worded by flag)."""
    from .words import overrun_words

    return {
        "max_tokens": max_tokens,
        "max_usd": None if budget_usd is None else float(budget_usd),
        "over": overrun_words(overruns),
    }


def echo(text: str, err: bool = False) -> None:
    """A line on stdout (or stderr), as click.echo writes it (nothing to a closed stream: 2>&- makes it None)."""
    stream = sys.stderr if err else sys.stdout
    if stream is not None:
        stream.write(f"{text}\n")
        stream.flush()


def split_models(given) -> tuple[str, ...]:
    """-m values as names: commas split one value into several (`-m a,b` is `-m a -m b`); empty names dropped."""
    return tuple(name.strip() for text in given for name in text.split(",") if name.strip())


def parse_day(text: str) -> _dt.date:
    """--as-of DATE as a date; BadArgument otherwise."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadArgument(f"--as-of {text!r}: expected a date like 2026-12-06") from None


def failure(error: BaseException) -> tuple[str, int] | None:
    """How the command line ends on an error that reaches it, once its output may have begun: (the message for
    `Error: ...`, before `words.line_words`; the exit status) — a bad argument or a stray CostcalcError 2, memory
    or an OSError (a disk full) 1; None for what it lets through (a closed pipe: quiet; Ctrl-C; a bug)."""
    if isinstance(error, (CostcalcError, BadArgument)):
        return str(error), ExitCode.USAGE
    if isinstance(error, MemoryError):
        return "out of memory", ExitCode.UNPRICED
    if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
        return f"{getattr(error, 'filename', None) or 'output'}: {error.strerror or error}", ExitCode.UNPRICED
    return None
