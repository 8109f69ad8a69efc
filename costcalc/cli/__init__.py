"""The `costcalc` command: glue from arguments to the library and back to text.

Each command imports what it uses when it runs, so start-up stays at click's
own cost; every command calls the same functions a Python user calls.
"""

from __future__ import annotations

import os
import re
import sys
from functools import wraps

import click

from .. import __version__
from ..catalog.tables import DETAILS, Tables
from ..errors import CostcalcError, InvalidSizeError
from ..interrupt import INTERRUPTED, exit_interrupted, quiet_stdout
from ..words import escape

EXIT_CODES = """\b
Exit codes:
  0  every image priced
  1  some image could not be priced (unreadable, not an image, rejected by the API's limits;
     damaged, with --strict)
  2  bad arguments (unknown model, a model or detail whose image-token rule is unpublished,
     unsupported detail, bad --size, bad table file)
  130  interrupted (Ctrl-C)"""

_SIZE = re.compile(r"^\s*(\d+)\s*[x×X*]\s*(\d+)\s*$")

FORMAT_HELP = {
    "json": "One JSON document.",
    "csv": "CSV with a header row.",
    "nl": "JSON lines: one object per row, streamed.",
}
"""The one set of output switches every command shares (each takes those that fit it)."""


class ArgumentError(click.ClickException):
    """A bad argument: one line naming it, exit code 2."""

    exit_code = 2


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


def _tables(files: tuple[str, ...]) -> Tables:
    from ..catalog.tables import load_tables

    try:
        return load_tables(*files)
    except CostcalcError as error:
        raise ArgumentError(f"--tables: {error}") from None


def _models(tables: Tables, names, detail: str | None = None) -> list[str]:
    """The table names of the -m models, each once (aliases of one row count once), checked against `detail`."""
    resolved = []
    for name in names:
        try:
            model = tables.model(name)
            if detail is not None:
                model.rule(detail)
        except CostcalcError as error:
            raise ArgumentError(f"--model {name}: {error}") from None
        resolved.append(model.name)
    return list(dict.fromkeys(resolved))


def _max_usd(context, parameter, value):
    """--max-usd as an exact Decimal, or a one-line usage error."""
    if value is None:
        return None
    from ..money import parse_usd

    try:
        return parse_usd(value)
    except ValueError as error:
        raise ArgumentError(f"--max-usd: {error}") from None


def _fps(context, parameter, value):
    """--fps: a finite rate over 0 (nan and inf pass click's range check), or a one-line usage error (SPEC §5)."""
    if value is None:
        return None
    from ..inspection.clip import sampling_rate

    try:
        sampling_rate(value)
    except ValueError as error:
        raise ArgumentError(f"--fps: {str(error).removeprefix('fps ')}") from None
    return value


def _table_files(context, parameter, value):
    """--tables / COSTCALC_TABLES without its empty entries (`::`, a trailing `:`), as PATH-like lists read."""
    return tuple(name for name in value or () if name)


def tables_option(command):
    """--tables FILE: your own model/price rows over the shipped ones."""
    return click.option(
        "--tables",
        "table_files",
        multiple=True,
        type=click.Path(dir_okay=False),
        envvar="COSTCALC_TABLES",
        callback=_table_files,
        metavar="FILE",
        help="A TOML file of your own models/prices over the shipped tables (repeatable; "
        "env COSTCALC_TABLES, separated by ':'). Format: see tables/models/README.md.",
    )(command)


def _emit(rows: list[dict], output: str, fields=None) -> None:
    """Rows as one JSON document, CSV (with `fields`) or JSON lines, to stdout."""
    from ..output.report import to_csv, to_json, to_lines

    if output == "json":
        click.echo(to_json(rows))
    elif output == "csv":
        click.echo(to_csv(rows, fields or list(rows[0]) if rows else ()), nl=False)
    else:
        click.echo(to_lines(rows), nl=False)


def _budget(max_tokens, budget_usd, problems) -> dict:
    """The `budget` member of a JSON document: the --max-tokens/--max-usd limits given and what went over them."""
    return {"max_tokens": max_tokens, "max_usd": None if budget_usd is None else float(budget_usd), "over": problems}


class _Group(click.Group):
    """The command group: Ctrl-C exits 130 in every command; no error ever ends in a traceback (issue 9)."""

    def invoke(self, ctx):
        """Run the command: KeyboardInterrupt → "interrupted", 130; a stray CostcalcError → one line, 2."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted()
        except CostcalcError as error:
            raise ArgumentError(escape(str(error))) from None
        except MemoryError:
            raise click.ClickException("out of memory") from None
        except click.ClickException as error:  # names from outside never reach the terminal raw (words.escape)
            error.message = escape(error.message)
            raise
        except (click.exceptions.Exit, click.Abort):
            raise
        except OSError as error:  # the output closed, a disk full: one line, not a traceback
            if isinstance(error, BrokenPipeError):
                raise
            raise click.ClickException(f"{getattr(error, 'filename', None) or 'output'}: "
                                       f"{error.strerror or error}") from None  # fmt: skip


def _interrupted(message: str = "interrupted"):
    """Ctrl-C: say so on stderr and exit 130 (128 + SIGINT), whatever was running."""
    try:
        click.echo(f"\n{message}", err=True)
    finally:
        raise click.exceptions.Exit(INTERRUPTED)


def _text_streams() -> None:
    """Standard output writes a path's undecodable bytes back as those bytes (errors='surrogateescape').

    A file named in Latin-1 comes in as os.fsdecode gives it ('caf\\udce9.png'):
    CSV carries the very bytes of its name; JSON and JSON lines write the escape
    `\\udce9` (output.report.json_text), valid UTF-8 that json.loads and os.fsencode
    turn back into those bytes. Either way a program can open the file (issue 9, 10).
    """
    for stream in (sys.stdout,):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="surrogateescape")
            except (ValueError, OSError):  # a stream that cannot change: leave it
                pass


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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


def tier_option(command):
    """--tier: the service tier to price at (SPEC §7); a tier a model lacks is a bad argument (exit 2)."""
    from ..catalog.tables import TIERS

    return click.option("--tier", default="standard", show_default=True, type=click.Choice(TIERS),
                        help="Service tier: standard, batch, flex or priority, as the model's vendor offers it "
                             "(SPEC §7).")(command)  # fmt: skip


def _check_tier(tables: Tables, names, tier: str) -> None:
    """ArgumentError (exit 2) naming the tiers a model has, when one of `names` lacks `tier`."""
    for name in names:
        try:
            tables.check_tier(name, tier)
        except CostcalcError as error:
            raise ArgumentError(f"--tier {tier}: {error}") from None


def _tier_line(tables: Tables, names, tier: str) -> str:
    """`tier: batch`, with why a model's USD is unknown at it (a rate its vendor does not publish)."""
    unknown = []
    for name in names:
        price = tables.price(name)
        rates = price.rates(tier) if price is not None else None
        if rates is not None and rates.usd_per_1m_input is None:
            unknown.append(f"{name}: USD unknown, {rates.note}")
    return f"tier: {tier}" + "".join(f"\n  {line}" for line in unknown)


def strict_option(command):
    """--strict: a damaged file (priced from its header, with a warning) becomes an error (exit 1)."""
    return click.option("--strict", is_flag=True,
                        help="Treat a damaged file (a warning: priced from its header) as an error.")(command)  # fmt: skip


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
@click.option("--limits", "edition", metavar="EDITION", help="Input rules to check against (`costcalc limits`); default: newest.")
@tier_option
@strict_option
@output_options("json", "csv", "nl", help={"json": "One JSON document: a list of rows."})
@tables_option
def estimate(images, sizes, models, detail, edition, tier, strict, output, table_files):
    """Tokens and USD for IMAGE files or --size WxH, for one or more models.

    Sizes come from the file header; no pixels are decoded.

    \b
    Examples:
      costcalc estimate photo.jpg -m gpt-4o
      costcalc estimate a.png b.jpg -m gpt-4o -m gpt-5.4 -d high
      costcalc estimate --size 1024x1024 --size 2049x513 -m gpt-4o --csv
    """
    from ..catalog.limits import limits_for
    from ..errors import ImageRejectedError
    from ..inspection.headers import inspect
    from ..output.report import ESTIMATE_FIELDS, error_row, estimate_row, estimates_table
    from ..pricing.estimate import estimate as estimate_one
    from ..words import display_path

    if not images and not sizes:
        raise ArgumentError("nothing to price: give IMAGE files or --size WxH (see `costcalc estimate -h`)")
    tables = _tables(table_files)
    names = _models(tables, models, detail)
    _check_tier(tables, names, tier)
    try:
        for name in names:
            limits_for(tables.model(name), edition)
    except CostcalcError as error:
        raise ArgumentError(f"--limits: {error}") from None

    sources: list[tuple[str | None, object, object]] = []  # (label, ImageInfo or (w, h), problem)
    for path in images:
        try:
            sources.append((path, inspect(path, name=display_path(path)), None))
        except CostcalcError as error:
            sources.append((path, None, error))
    for text in sizes:
        sources.append((None, _parse_size(text), None))

    results = {}
    rows = []
    for index, (label, source, problem) in enumerate(sources):
        size = _size_of(source)
        for name in names:
            error = problem
            if error is None:
                try:  # the verdict every command gives a file (pricing.verdict)
                    result = estimate_one(source, model=name, detail=detail, tables=tables, limits=edition,
                                          strict=strict, tier=tier)  # fmt: skip
                    if label is not None:
                        result = result.with_source(label)
                    results[(index, name)] = result
                    rows.append(estimate_row(result))
                    continue
                except CostcalcError as caught:
                    error = caught
            message, shown = str(error), display_path(label) if label is not None else None
            problem_here = message if shown is None or message.startswith(shown) else f"{shown}: {message}"
            rule = error.rule if isinstance(error, ImageRejectedError) else None
            results[(index, name)] = problem_here
            rows.append(error_row(label, name, detail, problem_here, size, rule,
                                  getattr(source, "warning", None)))  # fmt: skip
    for message in dict.fromkeys(r["error"] for r in rows if r["error"]):
        click.echo(f"Error: {escape(message)}", err=True)
    for message in dict.fromkeys(f"{display_path(r['source'])}: {escape(r['warning'])}" for r in rows
                                 if r["warning"] and not r["error"]):  # fmt: skip
        click.echo(f"Warning: {message}", err=True)

    if output:
        _emit(rows, output, ESTIMATE_FIELDS)
    else:
        shown = [(display_path(label) if label else "-", _size_of(source)) for label, source, _ in sources]
        click.echo(estimates_table(shown, names, results))
        applied = ", ".join(f"{name} → {tables.model(name).rule(detail)[0]}" for name in names)
        click.echo(f"\ndetail: {detail} ({applied})" if detail == "auto" else f"\ndetail: {detail}")
        if tier != "standard":
            click.echo(_tier_line(tables, names, tier))
    sys.exit(1 if any(row["error"] for row in rows) else 0)


def _limits_label(tables: Tables, names, edition: str | None) -> str:
    """The limits editions an audit checked: one edition, or each vendor's newest ("openai 2026-10, ...")."""
    from ..catalog.limits import limits_for

    editions = dict.fromkeys((tables.model(n).provider or "openai", limits_for(tables.model(n), edition).edition)
                             for n in names)  # fmt: skip
    if len(editions) == 1:
        return next(iter(editions))[1]
    return ", ".join(f"{provider} {edition}" for provider, edition in editions)


def _size_of(source) -> tuple[int, int] | None:
    """(width, height) of an inspected file or a --size pair; None when unreadable."""
    if source is None or isinstance(source, tuple) and len(source) == 2:
        return source
    return source.width, source.height


def _parse_size(text: str) -> tuple[int, int]:
    match = _SIZE.match(text)
    if not match:
        raise ArgumentError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1024x768")
    from ..pricing.cost import check_size

    try:
        return check_size(int(match[1]), int(match[2]))
    except InvalidSizeError as error:
        raise ArgumentError(f"--size {text!r}: {error}") from None


@cli.command(epilog="Exit codes: 0 success; 2 bad arguments or table file.")
@output_options("json", "csv", "nl", help={"json": "One JSON document: a list of models."})
@tables_option
def models(output, table_files):
    """The model table: billing scheme, detail rules, price, and sources.

    Tile cells read base+tile per 512 px tile; patch cells read
    max_dimension/patch_budget ("-" = no budget).

    \b
    Examples:
      costcalc models
      costcalc models --json
      costcalc models --tables my-models.toml
    """
    from ..output.report import model_row, models_table

    tables = _tables(table_files)
    listed = tables.models()
    if output:
        _emit([model_row(model, tables) for model in listed], output)
    else:
        click.echo(models_table(listed, tables))


AUDIT_EXIT_CODES = """\b
Exit codes:
  0  every file priced, within budget
  1  some files could not be priced (rejected by the API's rules, or unreadable; damaged, with --strict);
     or no file at all with --max-tokens/--max-usd, or none matching --glob (unless --allow-empty)
  2  bad arguments (unknown model, a model or detail whose image-token rule is unpublished,
     unsupported detail, unknown --limits edition, a --glob or --exclude that is not a valid pattern)
  4  over budget (--max-tokens / --max-usd, for any model)
  5  over budget, and some files could not be priced
  130  interrupted (Ctrl-C; 143 SIGTERM, 129 SIGHUP)
Skipped files (symlinks not followed) do not count as unpriced."""


@cli.command(epilog=AUDIT_EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-m", "--model", "models", multiple=True, required=True, envvar="COSTCALC_MODEL", metavar="MODEL",
              help="Model to price for; repeat for several (env COSTCALC_MODEL).")
@click.option("-d", "--detail", default="auto", show_default=True, type=click.Choice(DETAILS))
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="Only files matching (case-insensitive; on the name, or the path below PATH if it has '/').")
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN", help="Leave out matching files and folders.")
@click.option("--recursive/--no-recursive", default=True, show_default=True, help="Walk into subfolders.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links (loops are detected).")
@click.option("--hidden", is_flag=True, help="Include hidden files and folders (names starting with '.').")
@click.option("--limits", "edition", metavar="EDITION", help="Input rules to check against (`costcalc limits`); default: newest.")
@click.option("--max-tokens", type=click.IntRange(min=0), help="Budget: exit 4 if a model's total tokens exceed N.")
@click.option("--max-usd", "budget_usd", metavar="USD", callback=_max_usd,
              help="Budget: exit 4 if a model's total USD exceeds this (unknown price fails).")
@output_options("json", "csv", "nl", help={"json": "One JSON document: rows and totals.",
                                            "csv": "CSV, one row per file and model.",
                                            "nl": "JSON lines, one object per file and model, streamed."})
@click.option("--summary", is_flag=True, help="Table output: totals only, no line per file.")
@click.option("--allow-empty", is_flag=True, help="No file to audit (or none matching --glob) is not an error.")
@tier_option
@strict_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1,
              show_default="number of CPUs", help="Worker processes reading headers.")
@tables_option
def audit(paths, models, detail, globs, excludes, recursive, follow_symlinks, hidden, edition, max_tokens, budget_usd,
          output, summary, allow_empty, tier, strict, jobs, table_files):  # fmt: skip
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
    """
    from itertools import chain

    from ..money import over_budget
    from ..output.audit import Progress, format_for, totals_files, totals_table
    from ..runs.audit import Totals, audit_rendered

    tables = _tables(table_files)
    names = _models(tables, models)
    _check_tier(tables, names, tier)
    try:
        render = format_for(output, names, summary)
        chunks = audit_rendered(paths, models=names, render=render, detail=detail, tables=tables, limits=edition,
                                jobs=jobs, strict=strict, tier=tier, recursive=recursive, globs=globs, excludes=excludes,
                                follow_symlinks=follow_symlinks, hidden=hidden)  # fmt: skip
        chunks = chain([next(chunks)], chunks)
    except StopIteration:
        chunks = iter(())
    except CostcalcError as error:
        raise ArgumentError(str(error)) from None
    totals = Totals(names)
    out = sys.stdout
    progress = Progress(sys.stderr.isatty() and (bool(output) or summary or not out.isatty()))
    out.write(render.header())
    written = False
    try:
        for text, chunk_totals, files in chunks:
            if text:
                out.write(text if written else render.first(text))
                written = True
            totals.merge(chunk_totals)
            progress.add(files)
    except KeyboardInterrupt:
        progress.done()
        _interrupted()
    except BrokenPipeError:  # the reader left (| head): the status of the files read so far, quietly
        quiet_stdout()
    progress.done()
    problems = [
        problem
        for name, t in totals.by_model.items()
        for problem in over_budget(name, None if t.unknown_tokens else t.tokens,
                                   None if t.unknown_price or t.unknown_tokens else t.usd,
                                   max_tokens=max_tokens, max_usd=budget_usd)  # fmt: skip
    ]
    budget = _budget(max_tokens, budget_usd, problems)
    out.write(render.footer(totals, {"limits": _limits_label(tables, names, edition), "budget": budget}))
    out.flush()  # rows first, then whatever goes to stderr
    if output:
        click.echo(totals_table(totals), err=True)
    for problem in problems:
        click.echo(f"over budget: {problem}", err=True)
    unpriced = any(t.rejected or t.unreadable for t in totals.by_model.values())
    empty = not allow_empty and (globs or max_tokens is not None or budget_usd is not None) and \
        totals_files(totals) == 0  # fmt: skip
    if empty:  # a CI gate over nothing proves nothing
        what = f"no file matches --glob {' --glob '.join(map(escape, globs))}" if globs else "no file to audit"
        click.echo(f"Warning: {what}: a budget over no file passes whatever it holds; check the PATHs and "
                   f"patterns, or pass --allow-empty", err=True)  # fmt: skip
    sys.exit((1 if unpriced or empty else 0) | (4 if problems else 0))


OPTIMIZE_EXIT_CODES = """\b
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


@cli.command(epilog=OPTIMIZE_EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False, path_type=str),
              help="Folder to write into: a FILE goes straight in, a folder's tree is mirrored there.")
@click.option("-m", "--model", "models", multiple=True, required=True, envvar="COSTCALC_MODEL", metavar="MODEL",
              help="Model the images are for (repeatable: one file every model sees as it would the original).")
@click.option("-d", "--detail", default="auto", show_default=True, type=click.Choice(DETAILS))
@click.option("--max-tokens", type=click.IntRange(min=0),
              help="Shrink further: the largest size costing at most N tokens (on every model; refused for a "
                   "model whose tokens are approximate).")
@click.option("--format", "image_format", type=click.Choice(["keep", "jpeg", "webp", "png"]), default="keep",
              show_default=True, help="Output format.")
@click.option("--quality", type=click.IntRange(1, 100), help="JPEG/WebP quality (default 85).")
@click.option("--keep-metadata", is_flag=True, help="Keep ICC profile and EXIF (orientation is always applied).")
@click.option("--first-frame", is_flag=True, help="Turn an animated GIF/WebP into its first frame.")
@click.option("--in-place", is_flag=True,
              help="Allow OUTDIR to be a source folder: an original is replaced by its output of the same name. "
                   "With --format the output's name differs (a.png → a.webp): it is written beside, and the "
                   "original is kept.")
@click.option("--force", is_flag=True, help="Redo outputs even when up to date.")
@click.option("--overwrite", is_flag=True,
              help="Replace files in OUTDIR that optimize did not write (its manifest does not own them).")
@click.option("--max-bytes", type=click.IntRange(min=1), default=256 * 1024 * 1024, show_default="256 MB",
              metavar="N", help="Largest source read; a larger one is its error row.")
@click.option("--glob", "globs", multiple=True, metavar="PATTERN", help="Only files matching (as in audit).")
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN", help="Leave out matching files and folders.")
@click.option("--recursive/--no-recursive", default=True, show_default=True)
@click.option("--hidden", is_flag=True, help="Include hidden files and folders.")
@output_options("json", "nl", help={"json": "One JSON document: rows and totals.",
                                   "nl": "JSON lines, one object per image, streamed."})
@strict_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1,
              show_default="number of CPUs", help="Worker processes.")
@tables_option
def optimize(paths, outdir, models, detail, max_tokens, image_format, quality, keep_metadata, first_frame, in_place,
             force, overwrite, max_bytes, globs, excludes, recursive, hidden, output, strict, jobs,
             table_files):  # fmt: skip
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
    them works from that gives every model its tokens from the original.

    \b
    Examples:
      costcalc optimize photos/ -o ready/ -m gpt-4o
      costcalc optimize photos/ -o ready/ -m gpt-4o -m claude-sonnet-4-5 -m mistral-small-latest
      costcalc optimize scans/ -o small/ -m gpt-5.4 --max-tokens 1000 --format webp
      costcalc optimize shot.png -o out/ -m gpt-4.1-mini -d low --nl
    """
    from ..output.audit import Progress
    from ..output.report import json_rows_end, json_text, optimize_line, optimize_summary
    from ..preflight.tree import OptimizeTotals, optimize_paths

    report = output
    tables = _tables(table_files)
    fmt = None if image_format == "keep" else image_format
    try:
        names = _models(tables, models, detail)
        chunks = optimize_paths(paths, outdir, model=names[0] if len(names) == 1 else tuple(names), detail=detail,
                        max_tokens=max_tokens, format=fmt, quality=quality, keep_metadata=keep_metadata,
                        first_frame=first_frame, in_place=in_place, force=force, tables=tables, jobs=jobs,
                        recursive=recursive, globs=globs, excludes=excludes, hidden=hidden, strict=strict,
                        overwrite=overwrite, max_bytes=max_bytes)  # fmt: skip
    except (CostcalcError, ValueError) as error:
        raise ArgumentError(str(error)) from None
    totals = OptimizeTotals()
    out = sys.stdout
    progress = Progress(sys.stderr.isatty() and (bool(report) or not out.isatty()))
    if report == "json":
        out.write('{\n  "rows": [')
    first = True
    try:
        for rows in chunks:
            for row in rows:
                totals.add(row)
                if report == "nl":
                    out.write(json_text(row.as_dict()) + "\n")
                elif report == "json":
                    text = json_text(row.as_dict())
                    out.write(("\n    " if first else ",\n    ") + text)
                else:
                    out.write(optimize_line(row) + "\n")
                first = False
            progress.add(len(rows))
    except KeyboardInterrupt:
        progress.done()
        _interrupted("interrupted: every file written so far is whole")
    except BrokenPipeError:  # the reader left (| head): the status of the files written so far, quietly
        quiet_stdout()
    progress.done()
    if report == "json":
        out.write(json_rows_end({"totals": totals.as_dict()}, not first))
    elif report is None:
        out.write(("\n" if not first else "") + optimize_summary(totals) + "\n")
    out.flush()
    if report:
        click.echo(optimize_summary(totals), err=True)
    sys.exit(1 if totals.errors else 0)


REQUEST_EXIT_CODES = """\b
Exit codes:
  0  every image priced, within budget and the request limits
  1  some images could not be priced, or the request breaks a limit (image count, payload size);
     a batch file or log: also a request that could not be read or priced, or a batch limit broken
  2  bad payload or arguments (not JSON, no messages/input/contents, a part of unknown type, unknown model,
     a --tier the model lacks: a batch file's too, before any line is priced)
  4  over budget (--max-tokens / --max-usd; a batch file: its totals; unpriced images or an unknown price fail it)
  5  over budget, and some images unpriced or a limit broken
  130  interrupted (Ctrl-C)"""


@cli.command(epilog=REQUEST_EXIT_CODES)
@click.argument("payload", type=click.File("rb"), metavar="FILE|-")
@click.option("-m", "--model", metavar="MODEL",
              help="Price for this model instead of the payload's (a Gemini body names none: give it here).")
@click.option("--fetch", is_flag=True, help="Read the headers of http(s) image URLs (off by default: no network).")
@click.option("--allow-private", is_flag=True,
              help="With --fetch, also fetch from loopback, private and link-local addresses (refused by default).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds per remote URL, redirects included.")
@click.option("--file-size", "file_sizes", multiple=True, metavar="ID=WxH",
              help="The size of an uploaded file: a file_id, Gemini file URI or S3 URI (repeatable).")
@click.option("--limits", "edition", metavar="EDITION", help="Request limits to check (`costcalc limits`).")
@click.option("--max-tokens", type=click.IntRange(min=0), help="Budget: exit 4 if the images' tokens exceed N.")
@click.option("--max-usd", "budget_usd", metavar="USD", callback=_max_usd,
              help="Budget: exit 4 if the images' USD exceeds this.")
@tier_option
@click.option("--cached-tokens", type=click.IntRange(min=0), default=0, metavar="N",
              help="Input tokens read from the prompt cache: priced at the cached-input rate in the input total.")
@output_options("json", "csv", "nl", help={"json": "One JSON document: images, totals, findings.",
                                            "csv": "CSV, one row per image.",
                                            "nl": "JSON lines, one object per image."})
@strict_option
@tables_option
def request(payload, model, fetch, allow_private, timeout, file_sizes, edition, max_tokens, budget_usd, tier,
            cached_tokens, output, strict, table_files):  # fmt: skip
    """Price every image in a request payload, in any vendor's shape, before sending it.

    Shapes, told apart by their structure: OpenAI Chat Completions and
    Responses (also Mistral, Qwen and xAI), Anthropic Messages, Gemini
    generateContent, Bedrock Converse, legacy GPT-4V. The payload's model
    (or -m) picks the rules and the request limits. Data URLs and base64 are
    decoded only as far as their headers; paths and file:// URLs are read
    locally (relative to the payload file); http(s) URLs only with --fetch,
    header bytes only.

    FILE may also hold many requests, read a line at a time (SPEC §9): an
    OpenAI Batch input file (JSON lines of custom_id, method, url, body), an
    Anthropic Message Batches body ({"requests": [{custom_id, params}]}) or a
    JSON-lines log of payloads: one row per request (the table shows the
    costliest), the totals at the batch tier for batch files, and the batch
    limits (requests, bytes per file) checked. A bad line is its own error row.

    \b
    Examples:
      costcalc request payload.json
      costcalc request payload.json -m gpt-5.4 --max-usd 0.05
      costcalc request batch-input.jsonl --max-usd 20 --nl
      costcalc request gemini.json -m gemini-3-pro-preview --file-size files/abc=1920x1080
      python make_request.py | costcalc request - --fetch --json
    """
    from ..output.report import json_text, request_table
    from ..pricing.request import budget_problems, count_request

    tables = _tables(table_files)
    sizes = {}
    for text in file_sizes:
        file_id, _, size = text.rpartition("=")  # an id or URI may hold '=' itself
        sizes[file_id] = _parse_size(size)
    name = getattr(payload, "name", "-")
    base = os.path.dirname(os.path.abspath(name)) if name not in ("-", "<stdin>") else None
    from ..runs.batchfile import BatchRun

    try:  # a batch file or a log is told by its structure, not its name (SPEC §9)
        run = BatchRun(payload, name=name, model=model, tier=_given_tier(), tables=tables, limits=edition,
                       file_sizes=sizes, base_dir=base, fetch=fetch, timeout=timeout, allow_private=allow_private,
                       strict=strict)  # fmt: skip
        if run.kind != "payload":
            if click.get_current_context().params.get("cached_tokens"):
                raise ArgumentError("--cached-tokens is one request's; a batch file or log holds many")
            _request_file(run, output, max_tokens, budget_usd)
        payload = run
    except CostcalcError as error:
        raise ArgumentError(str(error)) from None
    try:
        estimate = count_request(payload.payload(), model=model, fetch=fetch, file_sizes=sizes, base_dir=base,
                                 tables=tables, limits=edition, timeout=timeout,
                                 allow_private=allow_private, strict=strict, tier=tier,
                                 cached_tokens=cached_tokens)  # fmt: skip
    except CostcalcError as error:
        raise ArgumentError(f"{name}: {error}") from None
    problems = budget_problems(estimate, max_tokens, budget_usd)
    if output == "json":
        document = {**estimate.as_dict(), "budget": _budget(max_tokens, budget_usd, problems)}
        click.echo(json_text(document, indent=2))
    elif output:
        _emit(estimate.as_dict()["images"], output)
    else:
        click.echo(request_table(estimate))
    _request_messages(estimate)
    for problem in problems:
        click.echo(f"over budget: {problem}", err=True)
    sys.exit((1 if estimate.unpriced or estimate.findings else 0) | (4 if problems else 0))


def _request_messages(estimate, place: str = "") -> None:
    """A request's image errors and warnings and its broken limits on stderr, each after `place` (a batch line's)."""
    for image in estimate.images:
        if image.error:
            click.echo(f"Error: {escape(place)}{escape(image.error)}", err=True)
        elif image.warning:
            click.echo(f"Warning: {escape(place)}{escape(image.where)}: {escape(image.warning)}", err=True)
    for finding in estimate.findings:
        click.echo(f"limit: {place}{finding.message}", err=True)


def _given_tier() -> str | None:
    """The --tier given on the command line; None when left at its default (a batch file then takes batch)."""
    from click.core import ParameterSource

    context = click.get_current_context()
    if context.params.get("tier") is None or context.get_parameter_source("tier") is ParameterSource.DEFAULT:
        return None
    return context.params["tier"]


def _request_file(run, output, max_tokens, budget_usd):
    """`request` on a batch file or log: rows streamed, then totals, whole-file findings and the budget (SPEC §9)."""
    from ..output.batchfile import BatchWriter, batch_summary, batch_table
    from ..runs.batchfile import budget_problems

    writer = BatchWriter(output, sys.stdout, {"file": run.name, "kind": run.kind, "tier": run.tier,
                                              "tier_note": run.tier_note})  # fmt: skip
    failed = False
    for row in run:
        writer.row(row)
        if row.error:
            click.echo(f"Error: {escape(row.error)}", err=True)
            failed = True
            continue
        _request_messages(row.estimate, f"{row.place(run.name)}: ")
        failed = failed or bool(row.estimate.unpriced or row.estimate.findings)
    findings = run.findings()
    problems = budget_problems(run.totals, max_tokens, budget_usd)
    writer.end({"totals": run.totals.as_dict(), "findings": [{"rule": f.rule, "message": f.message} for f in findings],
                "budget": _budget(max_tokens, budget_usd, problems)})  # fmt: skip
    summary = batch_summary(run.name, run.kind, run.tier, run.tier_note, run.totals)
    if output is None:
        click.echo(batch_table(writer.top(), writer.count) + "\n\n" + summary)
    elif output != "json":
        click.echo(summary, err=True)
    for finding in findings:
        click.echo(f"limit: {finding.message}", err=True)
    for problem in problems:
        click.echo(f"over budget: {problem}", err=True)
    sys.exit((1 if failed or findings else 0) | (4 if problems else 0))


VIDEO_EXIT_CODES = """\b
Exit codes:
  0  every clip priced (and extracted, with --extract)
  1  some clips could not be read (not a video, a codec FFmpeg cannot decode, PyAV missing)
  2  bad arguments (unknown model or detail, two samplings at once, two clips of one name to --extract)
  130  interrupted (Ctrl-C)"""


@cli.command(epilog=VIDEO_EXIT_CODES)
@click.argument("clips", nargs=-1, required=True, type=click.Path(path_type=str), metavar="FILE...")
@click.option("-m", "--model", "models", multiple=True, required=True, envvar="COSTCALC_MODEL", metavar="MODEL",
              help="Model to price for; repeat for several side by side.")
@click.option("-d", "--detail", default="auto", show_default=True, type=click.Choice(DETAILS))
@click.option("--every", type=click.IntRange(min=1), metavar="N", help="Send every Nth frame (seed 001: 50).")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), metavar="F", callback=_fps,
              help="Send F frames a second (default 1; above the clip's rate: every frame).")
@click.option("--frames", type=click.IntRange(min=1), metavar="K", help="Send K frames spread evenly.")
@click.option("--max-side", type=click.IntRange(min=1), metavar="PX", help="Frames are resized to fit PX × PX before sending.")
@click.option("--extract", "outdir", type=click.Path(file_okay=False, path_type=str), metavar="OUTDIR",
              help="Also write the sampled frames, upright, at the size the model works from (for the first -m).")
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
    from ..preflight.frames import extract_frames, plan_frame_folders
    from ..runs.video import video_estimate

    tables = _tables(table_files)
    names = _models(tables, models, detail)
    _check_tier(tables, names, tier)
    sampling = {"every": every, "fps": fps, "frames": frames, "max_side": max_side}
    if outdir:
        try:  # every clip's frame folder, before any frame is written (issue 9)
            plan_frame_folders(clips, outdir)
        except CostcalcError as error:
            raise ArgumentError(str(error)) from None
    rows, failed = [], False
    for clip in clips:
        try:
            estimates = [video_estimate(clip, model=name, detail=detail, tables=tables, tier=tier, **sampling)
                         for name in names]  # fmt: skip
            if outdir:
                written = extract_frames(clip, outdir, model=names[0], detail=detail, tables=tables,
                                         format=image_format, **sampling)  # fmt: skip
                click.echo(f"{clip}: wrote {written} frame{'' if written == 1 else 's'} to {outdir}", err=True)
        except CostcalcError as error:
            click.echo(f"Error: {escape(str(error))}", err=True)
            rows.append((clip, str(error)))
            failed = True
            continue
        rows.append((clip, estimates))
    if output:
        documents = []
        for clip, result in rows:
            if isinstance(result, str):
                documents.append({"path": clip, "error": result})
            else:
                documents.extend({**estimate.as_dict(), "error": None} for estimate in result)
        fields = list(next((d for d in documents if d.get("error") is None), documents[0] if documents else {}))
        _emit(documents, output, fields + [f for f in ("path", "error") if f not in fields])
    else:
        click.echo(video_table(rows, names))
        if tier != "standard":
            click.echo(_tier_line(tables, names, tier))
    sys.exit(1 if failed else 0)


@cli.command(epilog="Exit codes: 0 success; 2 bad arguments.")
@output_options("json", "csv", "nl", help={"json": "One JSON document: a list of rules."})
def limits(output):
    """The API's input rules, by edition, with their sources (checked by `costcalc audit`).

    Rows of scope `size` are the size limits in the model rules (edition
    `model table`): sides, aspect ratio, patches a model's API rejects.

    \b
    Examples:
      costcalc limits
      costcalc audit photos/ -m gpt-4o --limits 2023-2025
    """
    from ..catalog.limits import limit_editions, limit_providers, load_limits, size_limits
    from ..output.report import render_table

    rows = [load_limits(edition, provider=provider).rules
            for provider in limit_providers() for edition in limit_editions(provider=provider)]  # fmt: skip
    listed = [rule for edition in rows for rule in edition.values()] + size_limits()  # the model rules' own (issue 10)
    if output:
        _emit([vars(rule) | {"value": list(rule.value) if isinstance(rule.value, tuple) else rule.value}
               for rule in listed], output)  # fmt: skip
        return
    def shown(value) -> str:
        if isinstance(value, bool):
            return "allowed" if value else "rejected"
        if isinstance(value, int):
            return f"{value:,}"
        return ", ".join(value)

    body = [[r.provider, r.edition, r.scope, r.rule, shown(r.value), r.source] for r in listed]
    click.echo(render_table([["vendor", "edition", "scope", "rule", "value", "source"]], body, right=set()))
    click.echo("\nVendors not listed have no input rules on file: what they refuse is unknown, not borrowed.")


RECONCILE_EXIT_CODES = """\b
Exit codes:
  0  every model's bills agree with the prediction (within 5%, or 1 token per image)
  1  some model cannot be judged (nothing reconciled, or text and image tokens not separable), none disagrees
  2  a file that cannot be read (names the file and line), bad arguments
  4  some model's bills are 5% or more away from the prediction
  130  interrupted (Ctrl-C)
Lines that cannot be joined, billed or priced are skipped with the reason (on stderr)."""


@cli.command(epilog=RECONCILE_EXIT_CODES)
@click.argument("files", nargs=-1, required=True, metavar="LOG | BATCH_INPUT BATCH_OUTPUT")
@click.option("-m", "--model", metavar="MODEL", help="Predict for this model instead of the one each request names.")
@output_options("json", help={"json": 'One JSON document: {"models": {MODEL: {requests, predicted_image_tokens, '
                                      'billed_image_tokens, ratio, agrees, ...}}}.'})
@tables_option
def reconcile(files, model, output, table_files):
    """Check the API's bills against the predicted image tokens, per model (SPEC §8).

    LOG is JSON lines of {"request": PAYLOAD, "response": ANSWER} ("-" reads
    standard input); or give an OpenAI Batch input file and its output file,
    joined by custom_id. Image tokens billed come from each answer's usage:
    as reported (Gemini's IMAGE modality), or the prompt tokens less the
    request's text — counted, or fitted per model as a per-request framing.

    \b
    Examples:
      costcalc reconcile calls.jsonl
      costcalc reconcile batch-input.jsonl batch-output.jsonl --json
    """
    from ..output.reconcile import reconcile_table
    from ..output.report import json_text
    from ..truth.reconcile import reconcile as reconcile_files

    if len(files) > 2:
        raise ArgumentError(f"give one LOG, or BATCH_INPUT and BATCH_OUTPUT; got {len(files)} files")
    tables = _tables(table_files)
    if model is not None:
        model = _models(tables, [model])[0]
    try:
        result = reconcile_files(*files, model=model, tables=tables)
    except CostcalcError as error:
        raise ArgumentError(str(error)) from None
    if output == "json":
        click.echo(json_text(result.as_dict(), indent=2))
    else:
        click.echo(reconcile_table(result))
    shown = 20
    for entry in result.skipped[:shown]:
        click.echo(f"skipped: {entry.where}: {entry.reason}", err=True)
    if len(result.skipped) > shown:
        click.echo(f"skipped: ... and {len(result.skipped) - shown} more", err=True)
    sys.exit({True: 0, None: 1, False: 4}[result.agrees])


@cli.command(epilog="Exit codes: 0 the client closed the connection; 2 the MCP SDK is not installed.")
@click.option("--root", "roots", multiple=True, metavar="DIR",
              type=click.Path(exists=True, file_okay=False, path_type=str),
              help="A folder the tools may read and write (repeatable; default: the current folder). Any other "
                   "path, links resolved, is refused.")
@click.option("--allow-overwrite", is_flag=True, help="Let optimize_image replace an existing file (never a source).")
def mcp(roots, allow_overwrite):
    """Serve costcalc to agents over the Model Context Protocol, on standard input and output (SPEC §9).

    Tools: price_image (a file or data URL → tokens, USD, how sure, the size
    the model sees, for one model or several), optimize_image (a file → a
    smaller copy beside it, same tokens, never over the source or any other
    file unless --allow-overwrite), price_request (a payload → its estimate),
    list_models. Every path a tool reads or writes must lie, links resolved,
    inside a --root (default: the current folder).
    Standard output carries the protocol only. Needs `pip install 'costcalc[mcp]'`.

    \b
    Agent configuration (Claude Desktop, Claude Code, ...):
      {"mcpServers": {"costcalc": {"command": "costcalc", "args": ["mcp"]}}}
    """
    from ..mcp_server import INSTALL_HINT, Roots, serve

    try:  # the SDK is an extra (mcp>=2, where MCPServer lives): one line, not a traceback, without it
        import mcp.server.mcpserver  # noqa: F401
    except ImportError as error:
        missing = (getattr(error, "name", None) or "").partition(".")[0] == "mcp"
        raise ArgumentError(INSTALL_HINT if missing else f"{INSTALL_HINT} ({error})") from None
    serve(Roots(roots, allow_overwrite=allow_overwrite))


PROBE_EXIT_CODES = """\b
Exit codes:
  0  the rule was measured, and agrees with the table (or the table does not know the model)
  1  the answers fit no rule (the measurements are shown), or the endpoint failed (HTTP error, unreachable)
  2  bad arguments: no API key in the environment, an unknown model without --api, a detail the API lacks,
     an --api other than the table's for the model, a --base-url that is not an http(s) URL with a host and
     a valid port, a --write FILE that is empty or already exists (nothing is ever replaced)
  4  the rule was measured, and disagrees with the table
  130  interrupted (Ctrl-C)"""


@cli.command(epilog=PROBE_EXIT_CODES)
@click.option("-m", "--model", required=True, metavar="MODEL", help="The model to measure.")
@click.option("--api", type=click.Choice(["openai", "anthropic", "gemini"]),
              help="The vendor API to probe (needed only for a model the table does not know).")
@click.option("--base-url", metavar="URL", help="The API's base URL, as its SDK takes it (default: the vendor's "
              "own: https://api.openai.com/v1, https://api.anthropic.com, https://generativelanguage.googleapis.com).")
@click.option("-d", "--detail", default="auto", show_default=True, type=click.Choice(DETAILS),
              help="The detail level (Gemini: media resolution) to measure.")
@click.option("--write", "row_file", type=click.Path(path_type=str), metavar="FILE",  # checked by check_row_file
              help="Write the measured rule as a model-table row that --tables FILE loads.")
@output_options("json", help={"json": "One JSON document: fitted and table parameters, verdict, measurements."})
@tables_option
def probe(model, api, base_url, detail, row_file, output, table_files):
    """Measure a model's image-token rule at the vendor's free token-counting endpoint (SPEC §8).

    Sends synthetic images of chosen sizes, each counted against the same
    request without it, with your key from OPENAI_API_KEY, ANTHROPIC_API_KEY
    or GEMINI_API_KEY (GOOGLE_API_KEY); fits the scheme's parameters (tile:
    base, tile; patch: multiplier, pixel limit, budget; Claude: max edge, max
    tokens), checks the fit on sizes it was not fitted on, and prints it
    beside the table's rule. Counting tokens is free; it takes 10 to 40 requests.

    \b
    Examples:
      costcalc probe -m gpt-6-sol
      costcalc probe -m gpt-6-sol -d high --write gpt-6-sol.toml
      costcalc probe -m my-model --api openai --base-url http://localhost:8000/v1 --json
    """
    from ..errors import ProbeError, ProbeUsageError, UnknownModelError
    from ..output.probe import probe_report
    from ..output.report import json_text
    from ..truth.probe import check_base_url, check_row_file, key_for, resolve_api, row_toml, write_row
    from ..truth.probe import probe as run_probe

    tables = _tables(table_files)
    try:  # every argument checked before the first request (SPEC §8)
        if base_url is not None:
            check_base_url(base_url)
        if row_file is not None:
            check_row_file(row_file)
    except ProbeUsageError as error:
        raise ArgumentError(str(error)) from None
    try:
        api, _ = resolve_api(model, api, tables)
    except UnknownModelError as error:
        raise ArgumentError(f"--model {model}: {error}; give --api openai|anthropic|gemini to probe a model "
                            f"the table does not know") from None  # fmt: skip
    except ProbeUsageError as error:
        raise ArgumentError(f"--model {model}: {error}") from None
    key, names = key_for(api)
    if key is None:
        raise ArgumentError(f"probe needs your {api} API key: set {' or '.join(names)}")
    try:
        result = run_probe(model, api=api, base_url=base_url, detail=detail, key=key, tables=tables)
    except ProbeUsageError as error:
        raise ArgumentError(str(error)) from None
    except ProbeError as error:
        measured = getattr(error, "result", None)
        if output == "json" and measured is not None:  # --json: a document even when the endpoint fails
            click.echo(json_text(measured.as_dict(), indent=2))
        raise click.ClickException(str(error)) from None
    if output == "json":
        click.echo(json_text(result.as_dict(), indent=2))
    else:
        click.echo(probe_report(result))
    if row_file and result.ok:
        try:
            write_row(row_file, row_toml(result))
        except ProbeUsageError as error:  # made meanwhile
            raise ArgumentError(str(error)) from None
        except OSError as error:
            raise click.ClickException(f"--write {row_file}: {error.strerror or error}") from None
        click.echo(f"wrote {row_file}: load it with --tables {row_file}", err=True)
    elif row_file:
        click.echo(f"--write {row_file}: not written, no rule fits the answers", err=True)
    sys.exit(1 if not result.ok else 4 if result.agrees is False else 0)


def main() -> None:
    """Entry point of the `costcalc` console script: Ctrl-C at any moment exits 130."""
    try:
        cli.main(prog_name="costcalc")
    except KeyboardInterrupt:  # outside a command (while parsing, or on the way out)
        exit_interrupted()
