"""`costcalc estimate`: tokens and USD for image files or sizes, for one or more models."""

from __future__ import annotations

import sys

import click

from ..errors import CostcalcError
from .app import ArgumentError, ExitCode, cli
from .options import (
    check_tier,
    detail_option,
    fetch_options,
    freshness,
    limits_option,
    load,
    model_option,
    output_options,
    parse_size,
    resolve_models,
    strict_option,
    tables_option,
    tier_line,
    tier_option,
    write_rows,
)
from .words import line_words

EXIT_CODES = """\b
Exit codes:
  0  every image priced
  1  some image could not be priced (unreadable, not an image, rejected by the API's limits;
     damaged, with --strict)
  2  bad arguments (unknown model, a model or detail whose image-token rule is unpublished,
     unsupported detail, bad --size, bad table file)
  130  interrupted (Ctrl-C)"""


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
    from ..output.report import ESTIMATE_FIELDS, estimates_table

    if not images and not sizes:
        raise ArgumentError("nothing to price: give IMAGE files or --size WxH (see `costcalc estimate -h`)")
    tables = load(table_files)
    names = resolve_models(tables, models, detail)
    check_tier(tables, names, tier)
    _check_edition(tables, names, edition)
    sources = _sources(images, sizes, {"fetch": fetch, "allow_private": allow_private, "timeout": timeout})
    options = {"detail": detail, "tables": tables, "edition": edition, "strict": strict, "tier": tier}
    results, rows = _priced(sources, names, options)
    _messages(rows)
    if output:
        write_rows(rows, output, ESTIMATE_FIELDS)
    else:
        from ..words import display_path

        shown = [(display_path(label) if label else "-", _size_of(source)) for label, source, _ in sources]
        click.echo(estimates_table(shown, names, results))
        applied = ", ".join(f"{name} → {tables.model(name).rule(detail)[0]}" for name in names)
        click.echo(f"\ndetail: {detail} ({applied})" if detail == "auto" else f"\ndetail: {detail}")
        if tier != "standard":
            click.echo(tier_line(tables, names, tier))
        if not all(row["error"] for row in rows):  # something was priced: say how fresh its price is
            click.echo(freshness(tables), err=True)
    sys.exit(ExitCode.of(any(row["error"] for row in rows)))


def _check_edition(tables, names, edition) -> None:
    """ArgumentError (exit 2) when a model's vendor has no --limits `edition`."""
    from ..catalog.limits import limits_for

    try:
        for name in names:
            limits_for(tables.model(name), edition)
    except CostcalcError as error:
        raise ArgumentError(f"--limits: {error}") from None


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
    for message, named in by_error.items():
        which = "" if len(models) == 1 or set(named) == set(models) else f" (for {', '.join(dict.fromkeys(named))})"
        click.echo(f"Error{which}: {line_words(message)}", err=True)
    warnings = (
        f"{display_path(r['source'])}: {escape(r['warning'])}" if r["source"] is not None else r["warning"]
        for r in rows
        if r["warning"] and not r["error"]
    )  # a --size row has no file to name
    for message in dict.fromkeys(warnings):
        click.echo(f"Warning: {message}", err=True)


def _size_of(source) -> tuple[int, int] | None:
    """(width, height) of an inspected file or a --size pair; None when unreadable."""
    if source is None or isinstance(source, tuple) and len(source) == 2:
        return source
    return source.width, source.height
