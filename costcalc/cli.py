"""The `costcalc` command: glue from arguments to the library and back to text."""

from __future__ import annotations

import re
import sys

import click

from . import __version__
from .cost import Estimate, check_size, price_size
from .errors import CostcalcError, InvalidSizeError
from .headers import inspect
from .report import estimate_row, error_row, estimates_table, model_row, models_table, to_csv, to_json
from .tables import DETAILS, Tables, load_tables

EXIT_CODES = """\b
Exit codes:
  0  every image priced
  1  some image could not be priced (unreadable, not an image, rejected by the API's limits)
  2  bad arguments (unknown model, unsupported detail, bad --size, bad table file)"""

_SIZE = re.compile(r"^\s*(\d+)\s*[x×X*]\s*(\d+)\s*$")


class ArgumentError(click.ClickException):
    """A bad argument: one line naming it, exit code 2."""

    exit_code = 2


def _tables(files: tuple[str, ...]) -> Tables:
    try:
        return load_tables(*files)
    except CostcalcError as error:
        raise ArgumentError(f"--tables: {error}") from None


def tables_option(command):
    """--tables FILE: your own model/price rows over the shipped ones."""
    return click.option(
        "--tables",
        "table_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        envvar="COSTCALC_TABLES",
        metavar="FILE",
        help="A TOML file of your own models/prices over the shipped tables (repeatable; "
        "env COSTCALC_TABLES, separated by ':'). Format: see tables/models.toml.",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@cli.command(epilog=EXIT_CODES)
@click.argument("images", nargs=-1, type=click.Path(path_type=str))
@click.option("-s", "--size", "sizes", multiple=True, metavar="WxH", help="Price a size instead of a file (repeatable).")
@click.option(
    "-m",
    "--model",
    "models",
    multiple=True,
    required=True,
    envvar="COSTCALC_MODEL",
    metavar="MODEL",
    help="Model to price for; repeat for several side by side (env COSTCALC_MODEL).",
)
@click.option(
    "-d", "--detail", default="auto", show_default=True, type=click.Choice(DETAILS), help="Detail level of the request."
)
@click.option("--json", "output", flag_value="json", help="One JSON document: a list of rows.")
@click.option("--csv", "output", flag_value="csv", help="CSV with a header row.")
@tables_option
def estimate(images, sizes, models, detail, output, table_files):
    """Tokens and USD for IMAGE files or --size WxH, for one or more models.

    Sizes come from the file header; no pixels are decoded.

    \b
    Examples:
      costcalc estimate photo.jpg -m gpt-4o
      costcalc estimate a.png b.jpg -m gpt-4o -m gpt-5.4 -d high
      costcalc estimate --size 1024x1024 --size 2049x513 -m gpt-4o --csv
    """
    if not images and not sizes:
        raise ArgumentError("nothing to price: give IMAGE files or --size WxH (see `costcalc estimate -h`)")
    tables = _tables(table_files)
    names = []
    for name in models:
        try:
            model = tables.model(name)
            model.rule(detail)
        except CostcalcError as error:
            raise ArgumentError(f"--model {name}: {error}") from None
        names.append(model.name)

    sources: list[tuple[str | None, tuple[int, int] | None, str | None]] = []
    for path in images:
        try:
            info = inspect(path)
            sources.append((path, (info.width, info.height), None))
        except CostcalcError as error:
            sources.append((path, None, str(error)))
    for text in sizes:
        sources.append((None, _parse_size(text), None))

    results: dict[tuple[int, str], Estimate | str] = {}
    rows = []
    failed = False
    for index, (label, size, problem) in enumerate(sources):
        for name in names:
            if problem is None:
                try:
                    result = price_size(*size, model=name, detail=detail, tables=tables, source=label)
                    results[(index, name)] = result
                    rows.append(estimate_row(result))
                    continue
                except CostcalcError as error:
                    problem_here = f"{label}: {error}" if label else str(error)
            else:
                problem_here = problem
            failed = True
            results[(index, name)] = problem_here
            rows.append(error_row(label, name, detail, problem_here, size))
    for message in dict.fromkeys(r["error"] for r in rows if r["error"]):
        click.echo(f"Error: {message}", err=True)

    if output == "json":
        click.echo(to_json(rows))
    elif output == "csv":
        click.echo(to_csv(rows), nl=False)
    else:
        click.echo(estimates_table([(label or "-", size) for label, size, _ in sources], names, results))
        applied = ", ".join(f"{name} → {tables.model(name).rule(detail)[0]}" for name in names)
        click.echo(f"\ndetail: {detail} ({applied})" if detail == "auto" else f"\ndetail: {detail}")
    sys.exit(1 if failed else 0)


def _parse_size(text: str) -> tuple[int, int]:
    match = _SIZE.match(text)
    if not match:
        raise ArgumentError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1024x768")
    try:
        return check_size(int(match[1]), int(match[2]))
    except InvalidSizeError as error:
        raise ArgumentError(f"--size {text!r}: {error}") from None


@cli.command(epilog="Exit codes: 0 success; 2 bad arguments or table file.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: a list of models.")
@tables_option
def models(as_json, table_files):
    """The model table: billing scheme, detail rules, price, and sources.

    Tile cells read base+tile per 512 px tile; patch cells read
    max_dimension/patch_budget ("-" = no budget).

    \b
    Examples:
      costcalc models
      costcalc models --json
      costcalc models --tables my-models.toml
    """
    tables = _tables(table_files)
    listed = tables.models()
    if as_json:
        click.echo(to_json([model_row(model, tables) for model in listed]))
    else:
        click.echo(models_table(listed, tables))


def main() -> None:
    """Entry point of the `costcalc` console script."""
    cli()
