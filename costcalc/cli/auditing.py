"""`costcalc audit` without click: what the command does once its arguments are parsed (`run`), shared by the
click command (cli/audit.py) and the click-free path of plain command lines (cli/quick.py)."""

from __future__ import annotations

import sys

from ..errors import CostcalcError
from ..interrupt import quiet_stdout
from ..words import escape
from .common import BadArgument, ExitCode, budget_document, check_tier, echo, freshness, load, resolve_models
from .sources import SOURCE_KEYS, is_where_it_lives, remote_chunks
from .words import flag_words

__all__ = ["EXIT_CODES", "run"]

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


def run(paths, models, given: dict, *, day=None, regional=False) -> int:
    """`costcalc audit PATHS -m MODELS` once its options (`given`, by the click parameters' names) are parsed: the
    rows and totals, the exit status. BadArgument (exit 2) before anything is written; KeyboardInterrupt once the
    workers are gone."""
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
    tables = load(given["table_files"], day, regional)
    names = resolve_models(tables, models)
    check_tier(tables, names, tier)
    render = format_for(output, names, summary, words=flag_words)
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
    totals, whole = _write(chunks, render, names, progress, remote=remote)
    overruns = _overruns(totals, max_tokens, budget_usd)
    unpriced = any(t.rejected or t.unreadable for t in totals.by_model.values())
    if not whole:  # the reader left (| head): the status of the files read so far, and not a word more
        return ExitCode.of(unpriced, bool(overruns))
    extra = {
        "limits": _limits_label(tables, names, edition),
        "budget": budget_document(max_tokens, budget_usd, overruns),
    }
    sys.stdout.write(render.footer(totals, extra))
    sys.stdout.flush()  # rows first, then whatever goes to stderr
    if output:
        from ..output.audit import summary_tables, totals_table

        echo(totals_table(totals) + summary_tables(totals), err=True)
    if report is not None:
        _write_report(html_path, report, totals, extra["limits"])
    if not output:
        echo(freshness(tables, day is not None), err=True)
    for line in extra["budget"]["over"]:
        echo(f"over budget: {line}", err=True)
    empty = not given["allow_empty"] and _gate_over_nothing(totals, walk["globs"], max_tokens, budget_usd)
    return ExitCode.of(unpriced or empty, bool(overruns))


def _gate_over_nothing(totals, globs, max_tokens, budget_usd) -> bool:
    """A CI gate (a budget, or a --glob) over no file proves nothing: say so on stderr; whether it is one."""
    from ..output.audit import totals_files

    if totals_files(totals) or not (globs or max_tokens is not None or budget_usd is not None):
        return False
    what = f"no file matches --glob {' --glob '.join(map(escape, globs))}" if globs else "no file to audit"
    echo(
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
        raise BadArgument(f"--html: {error}") from None
    return HtmlReport(names, tables=tables, detail=detail, tier=tier, roots=paths)


def _write_report(html_path, report, totals, limits: str) -> None:
    from ..output.html import write_report

    try:
        write_report(html_path, report.render(totals, limits=limits))
    except CostcalcError as error:
        raise BadArgument(f"--html: {error}") from None


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
            chunks = audit_rendered(paths, models=names, render=render, own_process=True, **options)
        return chain([next(chunks)], chunks)
    except StopIteration:
        return iter(())
    except CostcalcError as error:
        raise BadArgument(str(error)) from None


def _first(chunks):
    """The chunks, the first already read (so a bad argument is one line before any output)."""
    from itertools import chain

    try:
        return chain([next(chunks)], chunks)
    except StopIteration:
        return iter(())
    except CostcalcError as error:
        raise BadArgument(str(error)) from None


def _write(chunks, render, names, shown: bool, remote: bool = False):
    """Write the header and each chunk's text to stdout, counting
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
                out.write(text if written else render.first(text))
                written = True
            totals.merge(chunk_totals)
            progress.add(files, total=whole[0] if whole else None)
    except KeyboardInterrupt:  # the group, or quick, says "interrupted" (exit 130) once the workers are gone
        progress.done()
        raise
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
