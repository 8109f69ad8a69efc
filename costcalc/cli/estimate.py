"""`costcalc estimate`: tokens and USD for image files or sizes, for one or more models."""

from __future__ import annotations

import sys

import click

from .app import cli
from .estimating import EXIT_CODES, run
from .options import (
    detail_option,
    fetch_options,
    limits_option,
    model_option,
    output_options,
    strict_option,
    tables_option,
    tier_option,
)


@cli.command(epilog=EXIT_CODES)
@click.argument("images", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-s", "--size", "sizes", multiple=True, metavar="WxH", help="Price a size instead of a file (repeatable)."
)
@model_option("Model to price for; repeat (or separate by commas) for several side by side (env COSTCALC_MODEL).")
@detail_option()
@limits_option()
@tier_option
@strict_option
@fetch_options
@output_options("json", "csv", "nl", help={"json": "One JSON document: a list of rows."})
@tables_option
def estimate(images, sizes, models, detail, edition, tier, strict, fetch, allow_private, timeout, output, table_files):
    """Tokens and USD for IMAGE files (`-` reads standard input; http(s) URLs with --fetch) or --size WxH,
    for one or more models.

    Sizes come from the file header; no pixels are decoded. A folder: use `costcalc audit`.

    \b
    Examples:
      costcalc estimate photo.jpg -m gpt-4o
      costcalc estimate a.png b.jpg -m gpt-4o,gpt-5.4 -d high
      costcalc estimate --size 1024x1024 --size 2049x513 -m gpt-4o --csv
      curl -s https://example.com/cat.jpg | costcalc estimate - -m gpt-4o
      costcalc estimate https://example.com/cat.jpg --fetch -m claude-opus-4-7
    """
    remote = {"fetch": fetch, "allow_private": allow_private, "timeout": timeout}
    context = click.get_current_context()
    day, regional = context.meta.get("costcalc.as_of"), bool(context.meta.get("costcalc.regional"))
    given = (images, sizes, models, detail, edition, tier, strict, remote, output, table_files)
    sys.exit(run(*given, day=day, regional=regional))
