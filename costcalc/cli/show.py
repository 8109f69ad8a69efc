"""`costcalc show`: the picture that explains a bill — the image as each model sees it, with its billed grid."""

from __future__ import annotations

import os

import click

from ..errors import CostcalcError, OutputConflictError
from .app import ArgumentError, ExitCode, cli
from .common import check_tier, resolve_models
from .options import detail_option, load, model_option, tables_option, tier_option
from .words import line_words

EXIT_CODES = """\b
Exit codes:
  0  the picture is written
  1  the image cannot be read or decoded
  2  bad arguments (unknown model or detail, an output that is not .png or .svg, an output that exists
     without --force); nothing written
  130  interrupted (Ctrl-C)"""


@cli.command(epilog=EXIT_CODES)
@click.argument("image", type=click.Path(dir_okay=False, path_type=str))
@model_option("Model to draw the image for; repeat (or separate by commas) for a panel each, side by side.")
@detail_option()
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="The picture to write: FILE.png, or FILE.svg (self-contained).",
)
@click.option("--palette", is_flag=True, help="A PNG of 256 colours: about a third of the bytes.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@tier_option
@tables_option
def show(image, models, detail, output_path, palette, force, tier, table_files):
    """Draw IMAGE as each model sees it, with the grid it is billed by, tokens and USD under each panel.

    512-px tiles for OpenAI's tile models, 32-px patches for its patch models,
    28-px cells for Claude and Mistral, Qwen's factor cells; a model billed the
    same at any size gets no grid and a note.

    \b
    Examples:
      costcalc show photo.jpg -m gpt-4o -m claude-sonnet-4-6 -o grid.png
      costcalc show shot.png -m gpt-5.4,gemini-3-flash-preview -o grid.svg
    """
    from ..preflight.picture import write_show
    from ..words import display_path

    tables = load(table_files)
    names = resolve_models(tables, models, detail)
    check_tier(tables, names, tier)
    try:
        drawn = write_show(
            image, names, output_path, detail=detail, tables=tables, tier=tier, replace=force, palette=palette
        )
    except OutputConflictError as error:
        raise ArgumentError(f"--output: {error}") from None
    except CostcalcError as error:  # the image: unreadable, undecodable
        message, name, shown = str(error), os.fspath(image), display_path(os.fspath(image))
        named = message if message.startswith((name, shown)) else f"{shown}: {message}"
        click.echo(f"Error: {line_words(named, (name, shown))}", err=True)  # the name as it is, in one line
        raise click.exceptions.Exit(ExitCode.UNPRICED) from None
    except ValueError as error:  # the output's kind
        raise ArgumentError(f"--output: {error}") from None
    for panel in drawn:
        click.echo(" · ".join(panel.caption()))
    click.echo(f"wrote {display_path(output_path)}")
