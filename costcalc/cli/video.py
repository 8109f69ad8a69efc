"""`costcalc video`: the frames a clip would be sent as, priced from its metadata, optionally extracted."""

from __future__ import annotations

import sys

import click

from ..errors import CostcalcError
from ..words import display_path
from .app import ArgumentError, ExitCode, cli
from .common import check_tier, resolve_models, tier_line, write_rows
from .options import detail_option, freshness, load, model_option, output_options, tables_option, tier_option
from .words import line_words

EXIT_CODES = """\b
Exit codes:
  0  every clip priced (and extracted, with --extract)
  1  some clips could not be read (not a video, a codec FFmpeg cannot decode, PyAV missing)
  2  bad arguments (unknown model or detail, two samplings at once, two clips of one name to --extract)
  130  interrupted (Ctrl-C)"""


def _fps(context, parameter, value):
    """--fps: a finite rate over 0 (nan and inf pass click's range check), or a one-line usage error."""
    if value is None:
        return None
    from ..inspection.clip import sampling_rate

    try:
        sampling_rate(value)
    except ValueError as error:
        raise ArgumentError(f"--fps: {str(error).removeprefix('fps ')}") from None
    return value


@cli.command(epilog=EXIT_CODES)
@click.argument("clips", nargs=-1, required=True, type=click.Path(path_type=str), metavar="FILE...")
@model_option("Model to price for; repeat (or separate by commas) for several side by side.")
@detail_option(help=None)
@click.option("--every", type=click.IntRange(min=1), metavar="N", help="Send every Nth frame (e.g. 50).")
@click.option(
    "--fps",
    type=click.FloatRange(min=0, min_open=True),
    metavar="F",
    callback=_fps,
    help="Send F frames a second (default 1; above the clip's rate: every frame).",
)
@click.option("--frames", type=click.IntRange(min=1), metavar="K", help="Send K frames spread evenly.")
@click.option(
    "--max-side", type=click.IntRange(min=1), metavar="PX", help="Frames are resized to fit PX × PX before sending."
)
@click.option(
    "--extract",
    "outdir",
    type=click.Path(file_okay=False, path_type=str),
    metavar="OUTDIR",
    help="Also write the sampled frames, upright, at the size the model works from (for the first -m).",
)
@click.option("--format", "image_format", type=click.Choice(["jpeg", "png", "webp"]), default="jpeg", show_default=True)
@tier_option
@output_options("json", "csv", "nl", help={"json": "One JSON document: a row per clip and model."})
@tables_option
def video(clips, models, detail, every, fps, frames, max_side, outdir, image_format, tier, output, table_files):
    """Price the frames a clip would be sent as, from its metadata; optionally extract exactly those frames.

    Vision models take no video: a clip costs its sampled frames, each at the
    size it is sent. Animated GIF and WebP count as clips. Videos need PyAV
    (pip install 'costcalc[video]').

    \b
    Examples:
      costcalc video clip.mp4 -m gpt-4o -m gpt-5.4
      costcalc video clip.mp4 -m gpt-4o --every 50 --max-side 768
      costcalc video *.mov -m gpt-4.1-mini --fps 0.5 --extract frames/ --json
    """
    if sum(option is not None for option in (every, fps, frames)) > 1:
        raise ArgumentError("give one of --every, --fps or --frames")
    from ..output.report import video_table
    from ..preflight.frames import plan_frame_folders

    tables = load(table_files)
    names = resolve_models(tables, models, detail)
    check_tier(tables, names, tier)
    sampling = {"every": every, "fps": fps, "frames": frames, "max_side": max_side}
    if outdir:
        try:  # every clip's frame folder, before any frame is written
            plan_frame_folders(clips, outdir)
        except CostcalcError as error:
            raise ArgumentError(str(error)) from None
    rows = [(clip, _clip(clip, names, detail, tables, tier, sampling, outdir, image_format)) for clip in clips]
    if output:
        _write(rows, output)
    else:
        click.echo(video_table(rows, names))
        if tier != "standard":
            click.echo(tier_line(tables, names, tier))
        click.echo(freshness(tables), err=True)
    sys.exit(ExitCode.of(any(isinstance(result, str) for _, result in rows)))


def _clip(clip, names, detail, tables, tier, sampling, outdir, image_format):
    """One clip priced for each model (and its frames extracted with --extract); its error's text if it fails."""
    from ..preflight.frames import extract_frames
    from ..runs.video import video_estimate

    try:
        estimates = [
            video_estimate(clip, model=name, detail=detail, tables=tables, tier=tier, **sampling) for name in names
        ]
        if outdir:
            written = extract_frames(
                clip, outdir, model=names[0], detail=detail, tables=tables, format=image_format, **sampling
            )
            click.echo(f"{clip}: wrote {written} frame{'' if written == 1 else 's'} to {outdir}", err=True)
    except CostcalcError as error:
        click.echo(f"Error: {line_words(str(error), (str(clip), display_path(str(clip))))}", err=True)
        return str(error)
    return estimates


def _write(rows, output: str) -> None:
    """A row per clip and model (an unread clip: its path and error), in `output`'s format."""
    documents = []
    for clip, result in rows:
        if isinstance(result, str):
            documents.append({"path": clip, "error": result})
        else:
            documents.extend({**estimate.as_dict(), "error": None} for estimate in result)
    fields = list(next((d for d in documents if d.get("error") is None), documents[0] if documents else {}))
    write_rows(documents, output, fields + [f for f in ("path", "error") if f not in fields])
