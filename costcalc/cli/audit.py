"""`costcalc audit`: every image under folders priced for each model, streamed, with totals and a budget gate."""

from __future__ import annotations

import sys

import click

from ..errors import CostcalcError
from ..interrupt import quiet_stdout
from ..words import escape
from .app import ArgumentError, ExitCode, cli, interrupted
from .common import check_tier, resolve_models
from .options import (
    budget_document,
    budget_options,
    detail_option,
    freshness,
    jobs_option,
    limits_option,
    load,
    model_option,
    output_options,
    strict_option,
    tables_option,
    tier_option,
)
from .sources import SOURCE_KEYS, is_where_it_lives, remote_chunks, source_options
from .words import flag_words

EXIT_CODES = """\b
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
    from ..output.audit import format_for

    walk = {key: given[key] for key in ("recursive", "globs", "excludes", "follow_symlinks", "hidden")}
    where = {key: given[key] for key in SOURCE_KEYS}
    detail, edition, max_tokens, budget_usd = (
        given["detail"],
        given["edition"],
        given["max_tokens"],
        given["budget_usd"],
    )
    output, summary, html_path, tier = given["output"], given["summary"], given["html_path"], given["tier"]
    tables = load(given["table_files"])
    names = resolve_models(tables, models)
    check_tier(tables, names, tier)
    render = format_for(output, names, summary)
    options = dict(
        detail=detail, tables=tables, edition=edition, jobs=given["jobs"], strict=given["strict"], tier=tier, **walk
    )
    report = _report(html_path, paths, names, detail, tables, tier) if html_path else None
    remote = is_where_it_lives(paths, where)
    progress = sys.stderr.isatty() and (bool(output) or summary or not sys.stdout.isatty())
    if remote:
        chunks = _first(remote_chunks(paths, names, render, options, where, report, progress))
    else:
        chunks = _chunks(paths, names, render, options, report)
    totals, whole = _write(chunks, render, names, progress, people=output is None, remote=remote)
    overruns = _overruns(totals, max_tokens, budget_usd)
    unpriced = any(t.rejected or t.unreadable for t in totals.by_model.values())
    if not whole:  # the reader left (| head): the status of the files read so far, and not a word more
        sys.exit(ExitCode.of(unpriced, bool(overruns)))
    extra = {
        "limits": _limits_label(tables, names, edition),
        "budget": budget_document(max_tokens, budget_usd, overruns),
    }
    sys.stdout.write(render.footer(totals, extra))
    sys.stdout.flush()  # rows first, then whatever goes to stderr
    if output:
        from ..output.audit import summary_tables, totals_table

        click.echo(totals_table(totals) + summary_tables(totals), err=True)
    if report is not None:
        _write_report(html_path, report, totals, extra["limits"])
    if not output:
        click.echo(freshness(tables), err=True)
    for line in extra["budget"]["over"]:
        click.echo(f"over budget: {line}", err=True)
    empty = not given["allow_empty"] and _gate_over_nothing(totals, walk["globs"], max_tokens, budget_usd)
    sys.exit(ExitCode.of(unpriced or empty, bool(overruns)))


def _gate_over_nothing(totals, globs, max_tokens, budget_usd) -> bool:
    """A CI gate (a budget, or a --glob) over no file proves nothing: say so on stderr; whether it is one."""
    from ..output.audit import totals_files

    if totals_files(totals) or not (globs or max_tokens is not None or budget_usd is not None):
        return False
    what = f"no file matches --glob {' --glob '.join(map(escape, globs))}" if globs else "no file to audit"
    click.echo(
        f"Warning: {what}: a budget over no file passes whatever it holds; check the PATHs and patterns, "
        f"or pass --allow-empty",
        err=True,
    )
    return True


def _report(html_path, paths, names, detail, tables, tier):
    """The HTML report to fill (output.html), once its file is known to be free or an earlier report."""
    from ..output.html import HtmlReport, check_report_path

    try:
        check_report_path(html_path)
    except CostcalcError as error:
        raise ArgumentError(f"--html: {error}") from None
    return HtmlReport(names, tables=tables, detail=detail, tier=tier, roots=paths)


def _write_report(html_path, report, totals, limits: str) -> None:
    from ..output.html import write_report

    try:
        write_report(html_path, report.render(totals, limits=limits))
    except CostcalcError as error:
        raise ArgumentError(f"--html: {error}") from None


def _chunks(paths, names, render, options, report=None):
    """The audit's rendered chunks, the first already read (so a bad argument is one line before any output).
    With a `report`, the rows come back here (runs.audit.audit), each added to it, and are rendered here."""
    from itertools import chain

    from ..runs.audit import audit, audit_rendered

    try:
        if report is not None:
            from ..output.html import rendered_rows

            chunks = rendered_rows(audit(paths, models=names, **options), render, names, report)
        else:
            chunks = audit_rendered(paths, models=names, render=render, **options)
        return chain([next(chunks)], chunks)
    except StopIteration:
        return iter(())
    except CostcalcError as error:
        raise ArgumentError(str(error)) from None


def _first(chunks):
    """The chunks, the first already read (so a bad argument is one line before any output)."""
    from itertools import chain

    try:
        return chain([next(chunks)], chunks)
    except StopIteration:
        return iter(())
    except CostcalcError as error:
        raise ArgumentError(str(error)) from None


def _write(chunks, render, names, shown: bool, people: bool, remote: bool = False):
    """Write the header and each chunk's text to stdout (for `people`, in the command line's words), counting
    files on the progress line (with an ETA where a chunk says how many there are in all); the totals, a
    runs.summary.Summary: per model, per prefix and tokens per image; and False when the reader left (| head)."""
    from ..output.progress import Progress
    from ..runs.summary import Summary

    totals = Summary(names)
    out = sys.stdout
    progress = Progress(shown, unit="images" if remote else "files")
    out.write(render.header())
    written = False
    try:
        for text, chunk_totals, files, *whole in chunks:
            if text:
                text = flag_words(text) if people else text
                out.write(text if written else render.first(text))
                written = True
            totals.merge(chunk_totals)
            progress.add(files, total=whole[0] if whole else None)
    except KeyboardInterrupt:
        progress.done()
        interrupted()
    except BrokenPipeError:  # the reader left (| head): the status of the files read so far, quietly
        quiet_stdout()
        progress.done()
        return totals, False  # and the reader did not take them all
    progress.done()
    return totals, True


def _overruns(totals, max_tokens, budget_usd):
    """How each model's totals break the budget (unknown tokens or prices fail closed)."""
    from ..money import over_budget

    return [
        overrun
        for name, t in totals.by_model.items()
        for overrun in over_budget(
            name,
            None if t.unknown_tokens else t.tokens,
            None if t.unknown_price or t.unknown_tokens else t.usd,
            max_tokens=max_tokens,
            max_usd=budget_usd,
        )
    ]


def _limits_label(tables, names, edition: str | None) -> str:
    """The limits editions an audit checked: one edition, or each vendor's newest ("openai 2026-10, ...")."""
    from ..catalog.limits import limits_for

    editions = dict.fromkeys(
        (tables.model(n).vendor or "openai", limits_for(tables.model(n), edition).edition) for n in names
    )
    if len(editions) == 1:
        return next(iter(editions))[1]
    return ", ".join(f"{vendor} {edition}" for vendor, edition in editions)
