"""Where `costcalc audit` reads: local folders, or data where it lives (object stores, URL lists, tables of
images, size columns, WebDataset shards; optionally on a Ray cluster). The rows are the same either way."""

from __future__ import annotations

import os
from itertools import islice

import click

from ..errors import CostcalcError
from .app import ArgumentError

__all__ = ["source_options", "is_where_it_lives", "remote_chunks", "TABLE_SUFFIXES", "SOURCE_KEYS"]

SOURCE_KEYS = (
    "urls",
    "url_column",
    "column",
    "width_column",
    "height_column",
    "concurrency",
    "allow_private",
    "parquet_out",
    "resume",
    "engine",
)
"""The parameters `source_options` adds to a command."""

TABLE_SUFFIXES = (".parquet", ".arrow", ".feather", ".jsonl", ".ndjson")
SHARD_SUFFIXES = (".tar", ".tar.gz", ".tgz")
CHUNK = 256
"""Images per rendered chunk."""


def source_options(command):
    """The options of data where it lives (issue 19): URL lists, table columns, concurrency, Parquet output, Ray."""
    options = [
        click.option(
            "--urls",
            is_flag=True,
            help="Each PATH is a list of image URLs (one a line, or a CSV/Parquet "
            "column with --url-column); each is read by its header only, never a private address unless "
            "--allow-private.",
        ),
        click.option("--url-column", metavar="NAME", help="With --urls: the column of URLs in a CSV or Parquet list."),
        click.option(
            "--column",
            metavar="NAME",
            help="PATH is a table (.parquet, .arrow, .jsonl, a folder or glob of "
            "them): price its image column (bytes, a {bytes, path} struct, or paths/URLs).",
        ),
        click.option(
            "--width-column",
            metavar="NAME",
            help="PATH is a table: price its sizes from this column and --height-column, touching no image.",
        ),
        click.option("--height-column", metavar="NAME", help="See --width-column."),
        click.option(
            "--concurrency", type=click.IntRange(1, 1024), default=64, show_default=True, help="Remote reads in flight."
        ),
        click.option(
            "--allow-private",
            is_flag=True,
            help="With --urls: also read from loopback, private and link-local addresses.",
        ),
        click.option(
            "--parquet",
            "parquet_out",
            type=click.Path(dir_okay=False, path_type=str),
            metavar="OUT",
            help="Also write one row per image and model (the --nl fields) to OUT.parquet, as it goes.",
        ),
        click.option("--resume", is_flag=True, help="With --parquet: keep OUT's rows and skip what it already has."),
        click.option(
            "--engine",
            type=click.Choice(["local", "ray"]),
            default="local",
            show_default=True,
            help="ray: list here, read the heads on a Ray cluster (RAY_ADDRESS, else a local one).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def is_where_it_lives(paths, options: dict) -> bool:
    """Whether the audit reads data where it lives rather than walking local folders."""
    if options["urls"] or options["column"] or options["width_column"] or options["parquet_out"]:
        return True
    if options["engine"] == "ray":
        return True
    return any(
        _is_remote(p)
        or p.startswith("file://")
        or p.lower().endswith(TABLE_SUFFIXES + SHARD_SUFFIXES)
        or (not os.path.exists(p) and any(c in p for c in "*?["))
        for p in paths
    )  # a glob left to us


def _is_remote(path: str) -> bool:
    """inspection.remote.is_remote, imported (with asyncio, tens of milliseconds) only for a path with a scheme."""
    if "://" not in path:
        return False
    from ..inspection.remote import is_remote

    return is_remote(path)


def remote_chunks(paths, names, render, audit_options: dict, options: dict, report=None):
    """(rendered text, the chunk's totals, images) for every image of `paths`, as the local audit's chunks are;
    each row also added to `report` (output.html.HtmlReport) when given."""
    from ..runs.audit import Totals

    _check(options)
    writer = _parquet(options)
    rows = _rows(
        paths, names, audit_options, options, writer.done if writer is not None and options["resume"] else None
    )
    images = len(names)
    try:
        while True:
            chunk = list(islice(rows, CHUNK * images))
            if not chunk:
                break
            if writer is not None:
                writer.write(chunk)
            totals = Totals(names)
            for row in chunk:
                totals.add(row)
                if report is not None:
                    report.add(row)
            yield render.render(chunk), totals, len(chunk) // images
    finally:
        if writer is not None:
            writer.close()


def _check(options: dict) -> None:
    if bool(options["width_column"]) != bool(options["height_column"]):
        raise ArgumentError("give --width-column and --height-column together")
    if options["column"] and options["width_column"]:
        raise ArgumentError("give --column or --width-column/--height-column, not both")
    if options["url_column"] and not options["urls"]:
        raise ArgumentError("--url-column goes with --urls")
    if options["resume"] and not options["parquet_out"]:
        raise ArgumentError("--resume goes with --parquet OUT")


def _parquet(options: dict):
    if not options["parquet_out"]:
        return None
    from ..output.parquet_rows import ParquetRows

    try:
        return ParquetRows(options["parquet_out"], resume=options["resume"])
    except (CostcalcError, OSError, ImportError) as error:
        raise ArgumentError(f"--parquet {options['parquet_out']}: {error}") from None


def _rows(paths, names, audit_options: dict, options: dict, skip):
    """Audit rows of every source, in order; `skip(path)` leaves out what a resumed --parquet file has."""
    from ..runs.audit import AuditRow
    from ..runs.remote import audit_heads, heads_for

    priced = {k: audit_options[k] for k in ("detail", "tables", "limits", "strict", "tier")}
    if options["width_column"]:
        return _size_rows(paths, names, priced, options, AuditRow)
    if options["engine"] == "ray":
        return _ray_rows(paths, names, priced, options, AuditRow)

    def heads():
        for path in paths:
            yield from heads_for(
                path,
                column=options["column"],
                urls=options["urls"],
                url_column=options["url_column"],
                concurrency=options["concurrency"],
                allow_private=options["allow_private"],
                skip=skip,
            )

    return audit_heads(heads(), models=names, **priced)


def _size_rows(paths, names, priced: dict, options: dict, AuditRow):
    """One row per table row and model, priced from the size columns by the vectorised path (costcalc.arrow)."""
    from ..arrow import PriceBatch
    from ..inspection.columns import iter_batches, open_table
    from ..pricing.cost import Pricer

    exact = {name: Pricer(name, priced["detail"], priced["tables"], tier=priced["tier"]) for name in names}

    pricer = PriceBatch(
        names,
        width_column=options["width_column"],
        height_column=options["height_column"],
        detail=priced["detail"],
        tier=priced["tier"],
        tables=priced["tables"],
    )
    columns = [options["width_column"], options["height_column"]]
    for path in paths:
        for source, start, batch in iter_batches(open_table(path), columns, 65536):
            out = pricer(batch).to_pydict()
            widths, heights = out[columns[0]], out[columns[1]]
            for i in range(len(widths)):
                for name in names:
                    status, tokens = out[f"{name}_status"][i], out[f"{name}_tokens"][i]
                    usd = exact[name].usd(tokens) if status == "priced" else None  # exact Decimal, as every row
                    rule = out[f"{name}_rule"][i]
                    yield AuditRow(
                        f"{source}#{start + i}",
                        name,
                        priced["detail"],
                        status,
                        None,
                        _whole(widths[i]),
                        _whole(heights[i]),
                        tokens=tokens,
                        usd=usd,
                        rule=rule,
                        error=None
                        if status == "priced"
                        else f"{source}#{start + i}: {status}" + (f" ({rule})" if rule else ""),
                        tier=priced["tier"],
                        basis=out[f"{name}_basis"][i] if status == "priced" else None,
                    )


def _whole(value):
    return int(value) if isinstance(value, (int, float)) and value == value else None


def _ray_rows(paths, names, priced: dict, options: dict, AuditRow):
    from ..pricing.cost import Pricer
    from ..ray_engine import audit_with_ray

    exact = {name: Pricer(name, priced["detail"], priced["tables"], tier=priced["tier"]) for name in names}
    try:
        batches = audit_with_ray(
            paths,
            models=names,
            detail=priced["detail"],
            tier=priced["tier"],
            limits=priced["limits"],
            strict=priced["strict"],
            concurrency=options["concurrency"],
        )
        for batch in batches:
            columns = batch.to_pydict()
            for values in zip(*(columns[field] for field in AuditRow._fields)):
                row = AuditRow(*values)
                usd = exact[row.model].usd(row.tokens) if row.status == "priced" else None  # exact, as every row
                yield row._replace(usd=usd)
    except CostcalcError as error:
        raise ArgumentError(f"--engine ray: {error}") from None
