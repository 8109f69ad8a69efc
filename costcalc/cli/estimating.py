"""`costcalc estimate` without click: what the command does once its arguments are parsed (`run`), shared by the
click command (cli/estimate.py) and the click-free path of plain command lines (cli/quick.py)."""

from __future__ import annotations

import sys

from ..errors import CostcalcError
from .common import (
    BadArgument,
    ExitCode,
    check_tier,
    echo,
    freshness,
    load,
    parse_size,
    resolve_models,
    tier_line,
    write_rows,
)
from .words import line_words

__all__ = ["EXIT_CODES", "run"]

EXIT_CODES = """\b
Exit codes:
  0  every image priced
  1  some image could not be priced (unreadable, not an image, rejected by the API's limits;
     damaged, with --strict)
  2  bad arguments (unknown model, a model or detail whose image-token rule is unpublished,
     unsupported detail, bad --size, bad table file)
  130  interrupted (Ctrl-C)"""


def run(
    images, sizes, models, detail, edition, tier, strict, remote, output, table_files, *, day=None, regional=False
) -> int:
    """`costcalc estimate` once its arguments are parsed: the rows or the table on stdout, errors and warnings on
    stderr; the exit status. BadArgument (exit 2) before anything is written."""
    from ..output.report import ESTIMATE_FIELDS, estimates_table

    if not images and not sizes:
        raise BadArgument("nothing to price: give IMAGE files or --size WxH (see `costcalc estimate -h`)")
    tables = load(table_files, day, regional)
    names = resolve_models(tables, models, detail)
    check_tier(tables, names, tier)
    _check_edition(tables, names, edition)
    sources = _sources(images, sizes, remote)
    options = {"detail": detail, "tables": tables, "edition": edition, "strict": strict, "tier": tier}
    results, rows = _priced(sources, names, options)
    _messages(rows)
    if output:
        write_rows(rows, output, ESTIMATE_FIELDS)
    else:
        from ..words import display_path

        shown = [(display_path(label) if label else "-", _size_of(source)) for label, source, _ in sources]
        echo(estimates_table(shown, names, results))
        applied = ", ".join(f"{name} → {tables.model(name).rule(detail)[0]}" for name in names)
        echo(f"\ndetail: {detail} ({applied})" if detail == "auto" else f"\ndetail: {detail}")
        if tier != "standard":
            echo(tier_line(tables, names, tier))
        if not all(row["error"] for row in rows):  # something was priced: say how fresh its price is
            echo(freshness(tables, day is not None), err=True)
    return ExitCode.of(any(row["error"] for row in rows))


def _check_edition(tables, names, edition) -> None:
    """ArgumentError (exit 2) when a model's vendor has no --limits `edition`."""
    from ..catalog.limits import limits_for

    try:
        for name in names:
            limits_for(tables.model(name), edition)
    except CostcalcError as error:
        raise BadArgument(f"--limits: {error}") from None


def _sources(images, sizes, remote: dict) -> list[tuple[str | None, object, object]]:
    """(label, ImageInfo or (w, h), problem) for each IMAGE and --size, in order."""
    sources: list[tuple[str | None, object, object]] = []
    for path in images:
        try:
            sources.append((path, _header(path, remote), None))
        except CostcalcError as error:
            sources.append((path, None, error))
    for text in sizes:
        sources.append((None, parse_size(text), None))
    return sources


def _header(path: str, remote: dict):
    """The header facts of one IMAGE argument: standard input (`-`), an http(s) URL (with --fetch), or a file."""
    import os

    from ..errors import ImageReadError
    from ..inspection.headers import inspect
    from ..words import display_path

    if path == "-":
        return inspect(sys.stdin.buffer, name="-")
    if path[:8].lower().startswith(("http://", "https://")):
        if not remote["fetch"]:
            raise ImageReadError(f"{display_path(path)}: a remote URL is read only with --fetch (no network otherwise)")
        from ..inspection.fetch import inspect_url

        return inspect_url(
            path, name=display_path(path), timeout=remote["timeout"], allow_private=remote["allow_private"]
        ).info
    if os.path.isdir(path):
        raise ImageReadError(
            f"{display_path(path)}: is a folder; `costcalc audit {display_path(path)}` prices every image in it"
        )
    return inspect(path, name=display_path(path))


def _priced(sources, names, options) -> tuple[dict, list[dict]]:
    """Each source for each model: {(index, model): Estimate or its problem}, and the rows in order."""
    from ..output.report import error_row, estimate_row
    from ..pricing.estimate import estimate as estimate_one
    from ..words import display_path

    results, rows = {}, []
    for index, (label, source, problem) in enumerate(sources):
        for name in names:
            error = problem
            if error is None:
                try:  # the verdict every command gives a file (pricing.verdict)
                    result = estimate_one(source, model=name, **options)
                    if label is not None:
                        result = result.with_source(label)
                    results[(index, name)] = result
                    rows.append(estimate_row(result))
                    continue
                except CostcalcError as caught:
                    error = caught
            message, rule = _problem(error, error is problem, name, options)
            shown = display_path(label) if label is not None else None
            problem_here = message if shown is None or message.startswith(shown) else f"{shown}: {message}"
            results[(index, name)] = problem_here
            warning = getattr(source, "warning", None)
            rows.append(error_row(label, name, options["detail"], problem_here, _size_of(source), rule, warning))
    return results, rows


def _problem(error, unread: bool, name: str, options: dict) -> tuple[str, str | None]:
    """(message, input rule) of a source that could not be priced for `name`: a header costcalc could not read
    is rejected only where the model's API refuses its format too (pricing.verdict.unread_verdict)."""
    from ..errors import ImageRejectedError

    if unread:
        from ..catalog.limits import limits_for
        from ..pricing.verdict import unread_verdict

        outcome = unread_verdict(error, limits_for(options["tables"].model(name), options["edition"]))
        return outcome.reason, outcome.rule
    return str(error), error.rule if isinstance(error, ImageRejectedError) else None


def _messages(rows: list[dict]) -> None:
    """Each distinct error once, naming the models it applies to when not all of them; then each warning of a
    priced row once; on stderr."""
    from ..words import display_path, escape

    models = list(dict.fromkeys(r["model"] for r in rows))
    by_error: dict[str, list[str]] = {}
    for r in rows:
        if r["error"]:
            by_error.setdefault(r["error"], []).append(r["model"])
    names = [name for r in rows if isinstance(r["source"], str) for name in (r["source"], display_path(r["source"]))]
    for message, named in by_error.items():
        which = "" if len(models) == 1 or set(named) == set(models) else f" (for {', '.join(dict.fromkeys(named))})"
        echo(f"Error{which}: {line_words(message, names)}", err=True)
    warnings = (
        f"{display_path(r['source'])}: {escape(r['warning'])}" if r["source"] is not None else r["warning"]
        for r in rows
        if r["warning"] and not r["error"]
    )  # a --size row has no file to name
    for message in dict.fromkeys(warnings):
        echo(f"Warning: {message}", err=True)


def _size_of(source) -> tuple[int, int] | None:
    """(width, height) of an inspected file or a --size pair; None when unreadable."""
    if source is None or isinstance(source, tuple) and len(source) == 2:
        return source
    return source.width, source.height
