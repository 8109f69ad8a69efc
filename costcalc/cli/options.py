"""The options commands share, each declared once, and the checks that go with them.

`-m/--model`, `-d/--detail`, `--limits EDITION`, `--tier`, `--strict`, `--tables`, the
`--json/--csv/--nl` set, `--max-tokens/--max-usd` and `-j/--jobs` mean the same in
every command that takes them. A new option several commands share (a pricing date,
say) goes here too, next to `tables_option`, and each command adds it with one line.
"""

from __future__ import annotations

import os
from functools import wraps

import click

from ..catalog.tables import DETAILS, TIERS, Tables
from ..errors import CostcalcError
from .app import ArgumentError
from .common import BadArgument, parse_day, split_models
from .common import freshness as _freshness
from .common import load as _load

FORMAT_HELP = {
    "json": "One JSON document.",
    "csv": "CSV with a header row.",
    "nl": "JSON lines: one object per row, streamed.",
}
"""The one set of output switches every command shares (each takes those that fit it)."""

# ------------------------------------------------------------------ -m/--model


def _model_names(context, parameter, value):
    """-m as given, commas splitting one value into several (`-m a,b` is `-m a -m b`); empty names dropped."""
    if value is None:
        return None
    names = split_models(value if isinstance(value, tuple) else (value,))
    if parameter.multiple:
        if not names and parameter.required:
            raise ArgumentError("--model: give a model name")
        return names
    if len(names) != 1:
        raise ArgumentError(f"--model {value}: give one model here")
    return names[0]


def _complete_models(context, parameter, incomplete: str):
    """Shell completion of -m: the model table's names (the shipped table, and --tables files given before -m)."""
    from click.shell_completion import CompletionItem

    from ..catalog.tables import default_tables, load_tables

    try:
        files = (context.params or {}).get("table_files") or ()
        tables = load_tables(*files) if files else default_tables()
        names = sorted({name for model in tables.models() for name in model.names})
    except (CostcalcError, OSError):
        return []
    head, _, last = incomplete.rpartition(",")  # `-m gpt-4o,cl<TAB>` completes the name after the comma
    prefix = head + "," if head else ""
    return [CompletionItem(prefix + name) for name in names if name.startswith(last)]


def model_option(help: str, multiple: bool = True, required: bool = True, env: bool = True):
    """-m/--model MODEL: repeatable (and comma-separated) when `multiple`, env COSTCALC_MODEL when `env`."""
    return click.option(
        "-m",
        "--model",
        "models" if multiple else "model",
        multiple=multiple,
        required=required,
        envvar="COSTCALC_MODEL" if env else None,
        metavar="MODEL",
        callback=_model_names,
        shell_complete=_complete_models,
        help=help,
    )


# ------------------------------------------------------------------ -d, --limits, --tier, --strict


def detail_option(help: str | None = "Detail level of the request."):
    """-d/--detail: the detail level (default auto)."""
    return click.option("-d", "--detail", default="auto", show_default=True, type=click.Choice(DETAILS), help=help)


def limits_option(help: str = "Input rules to check against (`costcalc limits`); default: newest."):
    """--limits EDITION: which edition of the vendors' input rules to check."""
    return click.option("--limits", "edition", metavar="EDITION", help=help)


def tier_option(command):
    """--tier: the service tier to price at; a tier a model lacks is a bad argument (exit 2)."""
    return click.option(
        "--tier",
        default="standard",
        show_default=True,
        type=click.Choice(TIERS),
        help="Service tier: standard, batch, flex, priority, fast or ultrafast, as the model's vendor "
        "offers it (OpenAI: priority is fast) "
        "(see README, Tiers).",
    )(command)


def given_tier() -> str | None:
    """The --tier given on the command line; None when left at its default (a batch file then takes batch)."""
    from click.core import ParameterSource

    context = click.get_current_context()
    if context.params.get("tier") is None or context.get_parameter_source("tier") is ParameterSource.DEFAULT:
        return None
    return context.params["tier"]


def strict_option(command):
    """--strict: a damaged file, or a model past its shutdown date (each priced with a warning), becomes an error."""
    return click.option(
        "--strict",
        is_flag=True,
        help="Treat a damaged file (priced from its header) or a model past its shutdown date "
        "(priced with a warning) as an error.",
    )(command)


# ------------------------------------------------------------------ --tables


def _table_files(context, parameter, value):
    """--tables / COSTCALC_TABLES without its empty entries (`::`, a trailing `:`), as PATH-like lists read."""
    return tuple(name for name in value or () if name)


def _as_of(context, parameter, value):
    """--as-of DATE kept for `load` (every command that reads the tables reads them on that day)."""
    if value is None:
        return None
    try:
        day = parse_day(value)
    except BadArgument as error:  # an option's callback runs before the group's handler
        raise ArgumentError(str(error)) from None
    context.meta["costcalc.as_of"] = day
    return day


def as_of_option(command):
    """--as-of DATE: price with what was in force that day (default: today, UTC)."""
    return click.option(
        "--as-of",
        metavar="DATE",
        callback=_as_of,
        expose_value=False,
        is_eager=True,
        help="Use the prices and model lifecycles in force on this day (YYYY-MM-DD; default: today, UTC).",
    )(command)


def _regional(context, parameter, value):
    """--regional kept for `load`."""
    if value:
        context.meta["costcalc.regional"] = True
    return value


def tables_option(command):
    """--tables FILE: your own model/price rows over the shipped ones; with it, --as-of DATE and --regional."""
    command = as_of_option(command)
    command = click.option(
        "--regional",
        is_flag=True,
        callback=_regional,
        expose_value=False,
        is_eager=True,
        help="Price regional processing (data residency): +10% where the vendor documents it "
        "(OpenAI gpt-6.2, Bedrock nova-2-lite); unknown elsewhere.",
    )(command)
    return click.option(
        "--tables",
        "table_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        envvar="COSTCALC_TABLES",
        callback=_table_files,
        metavar="FILE",
        is_eager=True,  # read before -m, so completing -m sees the rows these files add
        help="A TOML file of your own models/prices over the shipped tables (repeatable; "
        "env COSTCALC_TABLES, separated by ':'). Format: see tables/models/README.md.",
    )(command)


def load(files: tuple[str, ...]) -> Tables:
    """The tables for this command line (common.load): its --tables files, read on its --as-of day, --regional."""
    context = click.get_current_context(silent=True)
    meta = context.meta if context is not None else {}
    return _load(files, meta.get("costcalc.as_of"), bool(meta.get("costcalc.regional")))


def freshness(tables: Tables) -> str:
    """How fresh the prices are (common.freshness), saying the day read for when --as-of was given."""
    context = click.get_current_context(silent=True)
    return _freshness(tables, context is not None and context.meta.get("costcalc.as_of") is not None)


# ------------------------------------------------------------------ --json / --csv / --nl


def output_options(*formats: str, help: dict[str, str] | None = None):
    """Add --json/--csv/--nl (those named) as one `output` argument; two at once is an error."""

    def decorate(command):
        @wraps(command)
        def run(*args, **kwargs):
            chosen = [name for name in formats if kwargs.pop(f"as_{name}")]
            if len(chosen) > 1:
                raise ArgumentError(f"{' and '.join('--' + n for n in chosen)} conflict: give one output format")
            return command(*args, output=chosen[0] if chosen else None, **kwargs)

        for name in reversed(formats):
            text = (help or {}).get(name, FORMAT_HELP[name])
            run = click.option(f"--{name}", f"as_{name}", is_flag=True, help=text)(run)
        return run

    return decorate


# ------------------------------------------------------------------ --max-tokens / --max-usd, -j


def _max_usd(context, parameter, value):
    """--max-usd as an exact Decimal, or a one-line usage error."""
    if value is None:
        return None
    from ..money import parse_usd

    try:
        return parse_usd(value)
    except ValueError as error:
        raise ArgumentError(f"--max-usd: {error}") from None


def budget_options(tokens: str, usd: str):
    """--max-tokens N and --max-usd USD (an exact amount; `budget_usd`), with each command's help."""

    def decorate(command):
        command = click.option("--max-usd", "budget_usd", metavar="USD", callback=_max_usd, help=usd)(command)
        return click.option("--max-tokens", type=click.IntRange(min=0), help=tokens)(command)

    return decorate


def jobs_option(help: str = "Worker processes."):
    """-j/--jobs N: worker processes (default: the number of CPUs; at most 4 per CPU, parallel.WORKERS_PER_CPU)."""
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=lambda: os.cpu_count() or 1,
        show_default="number of CPUs",
        help=help + " At most 4 per CPU.",
    )


# ------------------------------------------------------------------ sizes


def fetch_options(command):
    """--fetch, --allow-private, --timeout: reading remote http(s) images, off by default (no network)."""
    command = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=10.0,
        show_default=True,
        help="Seconds per remote URL, redirects included.",
    )(command)
    command = click.option(
        "--allow-private",
        is_flag=True,
        help="With --fetch, also fetch from loopback, private and link-local addresses (refused by default).",
    )(command)
    return click.option(
        "--fetch", is_flag=True, help="Read the headers of http(s) image URLs (off by default: no network)."
    )(command)
