"""`costcalc optimize`: images resized ahead of time to the size each model works from."""

from __future__ import annotations

import sys

import click

from ..errors import CostcalcError
from ..interrupt import quiet_stdout
from .app import ArgumentError, ExitCode, cli, interrupted
from .common import resolve_models
from .options import detail_option, jobs_option, load, model_option, output_options, strict_option, tables_option
from .words import flag_words

EXIT_CODES = """\b
Exit codes:
  0  every image written or up to date
  1  some images could not be written (unreadable, damaged data that cannot be decoded, unsupported,
     animated without --first-frame, over budget)
  2  bad arguments (unknown model or detail, OUTDIR inside a source without --in-place, --max-tokens for a
     model whose tokens are approximate or unknown), or outputs that would overwrite a source or another
     original, or two sources bound for one output (or for a file and a folder of one name), or be written
     through a symbolic link in OUTDIR, or replace a file in OUTDIR that optimize did not write (without
     --overwrite); nothing written
  130  interrupted (Ctrl-C; 143 SIGTERM, 129 SIGHUP); every file written so far is whole"""


@cli.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write into: a FILE goes straight in, a folder's tree is mirrored there.",
)
@model_option(
    "Model the images are for (repeatable, or separated by commas: one file every model sees as it would the original)."
)
@detail_option(help=None)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=0),
    help="Shrink further: the largest size costing at most N tokens (on every model; refused for a "
    "model whose tokens are approximate).",
)
@click.option(
    "--format",
    "image_format",
    type=click.Choice(["keep", "jpeg", "webp", "png"]),
    default="keep",
    show_default=True,
    help="Output format.",
)
@click.option("--quality", type=click.IntRange(1, 100), help="JPEG/WebP quality (default 85).")
@click.option("--keep-metadata", is_flag=True, help="Keep ICC profile and EXIF (orientation is always applied).")
@click.option("--first-frame", is_flag=True, help="Turn an animated GIF/WebP into its first frame.")
@click.option(
    "--in-place",
    is_flag=True,
    help="Allow OUTDIR to be a source folder: an original is replaced by its output of the same name. "
    "With --format the output's name differs (a.png → a.webp): it is written beside, and the "
    "original is kept.",
)
@click.option("--force", is_flag=True, help="Redo outputs even when up to date.")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace files in OUTDIR that optimize did not write (its manifest does not own them).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=256 * 1024 * 1024,
    show_default="256 MB",
    metavar="N",
    help="Largest source read; a larger one is its error row.",
)
@click.option(
    "--images-per-request",
    "request_images",
    type=click.IntRange(min=1),
    metavar="N",
    help="How many images each request will carry: over a vendor's count, its smaller side limit applies "
    "(Claude: 2000 px above 20 images).",
)
@click.option("--glob", "globs", multiple=True, metavar="PATTERN", help="Only files matching (as in audit).")
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN", help="Leave out matching files and folders.")
@click.option("--recursive/--no-recursive", default=True, show_default=True)
@click.option("--hidden", is_flag=True, help="Include hidden files and folders.")
@output_options(
    "json",
    "nl",
    help={"json": "One JSON document: rows and totals.", "nl": "JSON lines, one object per image, streamed."},
)
@strict_option
@jobs_option()
@tables_option
def optimize(
    paths,
    outdir,
    models,
    detail,
    max_tokens,
    image_format,
    quality,
    keep_metadata,
    first_frame,
    in_place,
    force,
    overwrite,
    max_bytes,
    request_images,
    globs,
    excludes,
    recursive,
    hidden,
    output,
    strict,
    jobs,
    table_files,
):
    """Resize images ahead of time to the size the model works from: same tokens, fewer bytes.

    A FILE is written straight into OUTDIR (OUTDIR/photo.jpg); a folder's
    tree is mirrored under OUTDIR (with several PATHs, under the folder's own
    name). Outputs are upright, metadata is stripped, every file is written
    whole or not at all, and originals are never touched unless --in-place
    (and then only replaced by an output of the very same name). An output
    that would be larger than an original giving every model the same
    tokens is that original, metadata stripped. An output is up to date,
    and skipped (--force redoes it), when OUTDIR's manifest
    (.costcalc-optimize.json) says it was made from this very source with the
    same options; a file in OUTDIR the manifest does not own is never
    replaced (--overwrite), and nothing is written through a link in OUTDIR.
    With several -m, each image is written once, at the largest size any of
    them works from that gives every model its tokens from the original; a
    model billed the same at any size (Gemini 3, Nova 2) is planned around.
    An image the API would reject for its size is written as the largest copy
    every model accepts; a format a model refuses is converted; an output over
    a byte limit is re-encoded at lower quality.

    \b
    Examples:
      costcalc optimize photos/ -o ready/ -m gpt-4o
      costcalc optimize photos/ -o ready/ -m gpt-4o -m claude-sonnet-4-6 -m mistral-small-3.2
      costcalc optimize scans/ -o small/ -m gpt-5.4 --max-tokens 1000 --format webp
      costcalc optimize shot.png -o out/ -m gpt-4.1-mini -d low --nl
    """
    from ..preflight.tree import optimize_paths

    tables = load(table_files)
    try:
        names = resolve_models(tables, models, detail)
        chunks = optimize_paths(
            paths,
            outdir,
            model=names[0] if len(names) == 1 else tuple(names),
            detail=detail,
            max_tokens=max_tokens,
            format=None if image_format == "keep" else image_format,
            quality=quality,
            keep_metadata=keep_metadata,
            first_frame=first_frame,
            in_place=in_place,
            force=force,
            tables=tables,
            jobs=jobs,
            recursive=recursive,
            globs=globs,
            excludes=excludes,
            hidden=hidden,
            strict=strict,
            overwrite=overwrite,
            max_bytes=max_bytes,
            request_images=request_images,
        )
        from ..preflight.planning import any_size_models

        any_size = tuple(any_size_models(names, detail, tables))
    except (CostcalcError, ValueError) as error:
        raise ArgumentError(str(error)) from None
    totals = _write(chunks, output, any_size)
    if output:
        from ..output.report import optimize_summary

        click.echo(optimize_summary(totals), err=True)
    sys.exit(ExitCode.of(bool(totals.errors)))


def _write(chunks, output: str | None, any_size: tuple[str, ...] = ()):
    """Each row as it is written: a line for people, or `output`'s rows; then the summary or document's end."""
    from ..output.progress import Progress
    from ..output.report import optimize_line, optimize_summary
    from ..output.stream import RowWriter
    from ..preflight.tree import OptimizeTotals

    totals = OptimizeTotals(any_size=any_size)
    out = sys.stdout
    progress = Progress(sys.stderr.isatty() and (bool(output) or not out.isatty()))
    writer = RowWriter(output, out, head={}) if output else None
    count = 0
    try:
        for rows in chunks:
            for row in rows:
                totals.add(row)
                if writer is not None:
                    writer.row(row.as_dict())
                else:
                    out.write(optimize_line(row, flag_words) + "\n")
            count += len(rows)
            progress.add(len(rows))
    except KeyboardInterrupt:
        progress.done()
        interrupted("interrupted: every file written so far is whole")
    except BrokenPipeError:  # the reader left (| head): the status of the files written so far, quietly
        quiet_stdout()
    progress.done()
    if writer is not None:
        writer.end({"totals": totals.as_dict()} if output == "json" else None)
    else:
        out.write(("\n" if count else "") + optimize_summary(totals) + "\n")
        out.flush()
    return totals
