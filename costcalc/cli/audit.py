"""`costcalc audit`: every image under folders priced for each model, streamed, with totals and a budget gate."""

from __future__ import annotations

import sys

import click

from .app import cli
from .auditing import EXIT_CODES, run
from .options import (
    budget_options,
    detail_option,
    jobs_option,
    limits_option,
    model_option,
    output_options,
    strict_option,
    tables_option,
    tier_option,
)
from .sources import source_options


@cli.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@model_option("Model to price for; repeat (or separate by commas) for several (env COSTCALC_MODEL).")
@detail_option(help=None)
@click.option(
    "--glob",
    "globs",
    multiple=True,
    metavar="PATTERN",
    help="Only files matching (case-insensitive; on the name, or the path below PATH if it has '/').",
)
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN", help="Leave out matching files and folders.")
@click.option("--recursive/--no-recursive", default=True, show_default=True, help="Walk into subfolders.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links (loops are detected).")
@click.option("--hidden", is_flag=True, help="Include hidden files and folders (names starting with '.').")
@limits_option()
@budget_options(
    "Budget: exit 4 if a model's total tokens exceed N.",
    "Budget: exit 4 if a model's total USD exceeds this (unknown price fails).",
)
@output_options(
    "json",
    "csv",
    "nl",
    help={
        "json": "One JSON document: rows and totals.",
        "csv": "CSV, one row per file and model.",
        "nl": "JSON lines, one object per file and model, streamed.",
    },
)
@click.option("--summary", is_flag=True, help="Table output: totals only, no line per file.")
@click.option("--allow-empty", is_flag=True, help="No file to audit (or none matching --glob) is not an error.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Also write a self-contained HTML report (totals per model and tier, cost by folder, a histogram, "
    "the 50 dearest images, what optimize would save); replaces only an earlier report.",
)
@tier_option
@strict_option
@jobs_option("Worker processes reading headers.")
@source_options
@tables_option
def audit(paths, models, **given):
    """Tokens, USD and problems for every image under PATHs, per file and in total per model.

    Reads headers only; never decodes pixels. One bad file never stops the
    run: it gets a row saying why. Totals go to stdout with the table, to
    stderr with --nl/--csv/--json (which carry them too, --json in its document).

    \b
    Examples:
      costcalc audit photos/ -m gpt-4o
      costcalc audit dataset/ -m gpt-4o -m gpt-5.4 -d high --summary
      costcalc audit catalogue/ -m gpt-4.1-mini --glob '*.jpg' --nl > rows.jsonl
      costcalc audit fixtures/ -m gpt-4o --max-usd 5 --summary   # a budget gate for CI
      costcalc audit 's3://bucket/imgs/**/*.jpg' -m gpt-4o --summary   # header bytes only, ranged reads
      costcalc audit data/train-*.parquet --column image -m gpt-4o -m claude-opus-4-7 --parquet priced.parquet
      costcalc audit laion.parquet --width-column WIDTH --height-column HEIGHT -m gpt-4o --summary
      costcalc audit shards/*.tar -m gpt-4o --nl
      costcalc audit --urls urls.txt -m gpt-4o --summary
      costcalc audit photos/ -m gpt-4o -m claude-sonnet-4-6 --summary --html report.html
    """
    context = click.get_current_context()
    day, regional = context.meta.get("costcalc.as_of"), bool(context.meta.get("costcalc.regional"))
    sys.exit(run(paths, models, given, day=day, regional=regional))
