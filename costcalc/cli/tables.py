"""`costcalc tables update` and `costcalc tables status`: the price layers, and today's prices without a release."""

from __future__ import annotations

import click

from .app import Failure, cli
from .common import write_rows
from .options import as_of_option, load, output_options, tables_option


@cli.group()
def tables():
    """Where the tables come from, and today's prices from genai-prices.

    Commands read the shipped tables, then your data folder (prices from
    `costcalc tables update`, rows from `costcalc probe --write`), then
    --tables files. The data folder is $COSTCALC_DATA_DIR, else your
    platform's user data folder for costcalc.
    """


@tables.command(
    epilog="Exit codes: 0 updated; 1 the data file could not be read or used (nothing changed); 2 bad arguments."
)
@click.option(
    "--from",
    "source",
    metavar="URL|FILE",
    help="genai-prices' data file to read (default: the URL genai-prices' own auto-update reads).",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds for the whole download."
)
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@as_of_option
def update(source, timeout, dry_run):
    """Fetch genai-prices' published prices and write them into your data folder.

    The data file is parsed by genai-prices' own loader (pip install
    'costcalc[update]'), turned into price rows as the shipped ones are,
    checked by costcalc's own table loader, and only then written, all at
    once. Any error changes nothing. Each changed price is printed as
    `model: old → new (window)`.

    \b
    Examples:
      costcalc tables update
      costcalc tables update --from data.json --dry-run
    """
    from ..catalog import update as updating
    from ..catalog.tables import default_tables
    from ..errors import UpdateError

    day = _day()
    try:
        where, data = updating.read_source(source, timeout=timeout)
        prepared = updating.prepare(updating.load_snapshot(where, data), where, day)
    except UpdateError as error:
        raise Failure(str(error)) from None
    lines = updating.changes(default_tables().at(day), prepared.tables.at(day))
    for line in lines:
        click.echo(line)
    if dry_run:
        click.echo(f"{len(lines)} price rows would change; nothing written (--dry-run)", err=True)
        return
    try:
        folder = updating.apply(prepared)
    except UpdateError as error:
        raise Failure(str(error)) from None
    what = f"{len(lines)} price rows changed" if lines else "no price changed"
    click.echo(f"{what}; {len(prepared.texts)} price files written to {folder} (checked {day})", err=True)


@tables.command(epilog="Exit codes: 0 success; 2 bad arguments or table file.")
@output_options("json", help={"json": "One JSON document: a list of layers."})
@tables_option
def status(output, table_files):
    """Where each layer of the tables comes from and how old its prices are."""
    from ..catalog.tables import default_tables, shipped_tables, tables_dir
    from ..catalog.userdata import data_dir, data_files, price_dir, stale_prices, update_checked

    tables = load(table_files)
    day = tables.as_of
    folder = data_dir()
    files = data_files(folder)
    prices = [path for path in files if path.parent == price_dir(folder)]
    shipped = shipped_tables().checked
    stale = stale_prices(folder, shipped)
    checked = update_checked(folder)
    rows = [
        _layer("shipped", str(tables_dir()), shipped, day, f"{len(shipped_tables().files)} files"),
        _layer("data folder", str(folder), checked, day, _data_note(prices, len(files) - len(prices), stale)),
        *(_layer("your file", name, None, day, "") for name in table_files),
    ]
    if output:
        write_rows(rows, output)
        return
    for row in rows:
        age = f"prices checked {row['checked']} ({row['age_days']} days before {day})" if row["checked"] else ""
        click.echo(f"{row['layer']:<12} {row['path']}\n{'':<12} {'; '.join(t for t in (age, row['note']) if t)}")
    click.echo(
        f"in use: prices checked {tables.checked or 'on an unknown day'}"
        f"{'' if default_tables() is not shipped_tables() else ' (shipped)'}"
    )


def _layer(name: str, path: str, checked, day, note: str) -> dict:
    return {
        "layer": name,
        "path": path,
        "checked": checked.isoformat() if checked else None,
        "age_days": (day - checked).days if checked else None,
        "note": note,
    }


def _data_note(prices, models: int, stale: bool) -> str:
    if not prices and not models:
        return "empty (`costcalc tables update` fills it)"
    parts = [f"{len(prices)} price files" + (" (older than the shipped ones: not read)" if stale else "")]
    return ", ".join(parts + ([f"{models} model files from `costcalc probe --write`"] if models else []))


def _day():
    """--as-of, else today (UTC)."""
    from ..catalog.dates import today

    return click.get_current_context().meta.get("costcalc.as_of") or today()
