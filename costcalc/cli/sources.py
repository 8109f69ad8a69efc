"""Where `costcalc audit` reads: local folders, or data where it lives (object stores, URL lists, tables of
images, size columns, WebDataset shards; optionally on a Ray cluster). The rows are the same either way."""

from __future__ import annotations

import os
from itertools import islice

from ..errors import CostcalcError
from .common import BadArgument

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
    import click  # here, not at import: a plain audit line starts without click (cli/quick.py)

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


def remote_chunks(paths, names, render, audit_options: dict, options: dict, report=None, progress: bool = False):
    """(rendered text, the chunk's totals, images, images in all or None while unknown) for every image of
    `paths`, as the local audit's chunks are; each row also added to `report` (output.html.HtmlReport) when given.
    The totals are `runs.summary.Summary`s: per model, per prefix or shard, and tokens per image. With
    `progress` (a progress line is shown), store listings are also counted ahead of the reads, for the whole."""
    from ..runs.summary import Summary

    _check(options)
    writer = _parquet(options)
    skip = writer.done if writer is not None and options["resume"] else None
    try:
        if options["width_column"]:
            yield from _size_chunks(paths, names, render, audit_options, options, writer, report, skip)
            return
        total = _row_count(paths, options)
        count = None
        if progress and total is None and options["engine"] != "ray":
            from ..inspection.remote import ListingCount

            count = ListingCount()
        rows = _rows(paths, names, audit_options, options, skip, _after(paths, options, writer), count)
        group_of = _grouper(paths, options)
        images = len(names)
        while True:
            chunk = list(islice(rows, CHUNK * images))
            if not chunk:
                break
            if writer is not None:
                writer.write(chunk)
            totals = Summary(names, group_of)
            for row in chunk:
                totals.add(row)
                if report is not None:
                    report.add(row)
            yield render.render(chunk), totals, len(chunk) // images, total if count is None else count.total
    finally:
        if writer is not None:
            writer.close()


def _grouper(paths, options: dict):
    """How rows are grouped in the summary: by table file, shard, host, or first folder below each root."""
    from ..runs.summary import group_by_sources

    if options["urls"]:
        kind = "urls"
    elif options["column"]:
        kind = "table"
    elif all(p.lower().rstrip("/").endswith(SHARD_SUFFIXES) for p in paths):
        kind = "shard"
    else:
        kind = "store"
    return group_by_sources(paths, kind)


def _row_count(paths, options: dict) -> int | None:
    """Images in all of `paths` when known before reading them (an image column of Parquet files), for the ETA."""
    if not options["column"]:
        return None
    from ..inspection.columns import open_table, table_format

    total = 0
    for path in paths:
        if table_format(path) != "parquet":
            return None
        try:
            total += open_table(path).count_rows()
        except CostcalcError:  # the read says what is wrong, in its place
            return None
    return total


def _size_chunks(paths, names, render, audit_options: dict, options: dict, writer, report, skip):
    """Size columns, column by column (runs.sizes): totals by NumPy, --parquet as Arrow tables, rows only for a
    format that shows them (or the HTML report)."""
    from ..runs.sizes import SizeAudit
    from ..runs.summary import Summary

    audit = SizeAudit(
        names,
        width_column=options["width_column"],
        height_column=options["height_column"],
        detail=audit_options["detail"],
        tier=audit_options["tier"],
        tables=audit_options["tables"],
    )
    rows_wanted = render.shows_rows or report is not None
    total = audit.row_counts(paths)
    for path in paths:
        for part in audit.parts(path, skip):
            totals = audit.totals(part)
            if writer is not None:
                writer.write_table(audit.table(part))
            if not rows_wanted:
                yield "", totals, part.size, total
                continue
            rows = audit.rows(part)
            while chunk := list(islice(rows, CHUNK * len(names))):
                if report is not None:
                    for row in chunk:
                        report.add(row)
                yield render.render(chunk), totals, len(chunk) // len(names), total
                totals = Summary(names)  # the part's totals go with its first chunk


def _check(options: dict) -> None:
    if bool(options["width_column"]) != bool(options["height_column"]):
        raise BadArgument("give --width-column and --height-column together")
    if options["column"] and options["width_column"]:
        raise BadArgument("give --column or --width-column/--height-column, not both")
    if options["url_column"] and not options["urls"]:
        raise BadArgument("--url-column goes with --urls")
    if options["resume"] and not options["parquet_out"]:
        raise BadArgument("--resume goes with --parquet OUT")


def _parquet(options: dict):
    if not options["parquet_out"]:
        return None
    from ..output.parquet_rows import ParquetRows

    try:
        return ParquetRows(options["parquet_out"], resume=options["resume"])
    except (CostcalcError, OSError, ImportError) as error:
        raise BadArgument(f"--parquet {options['parquet_out']}: {error}") from None


def _after(paths, options: dict, writer) -> str | None:
    """Where a resumed listing starts (runs.remote.resume_after), or None."""
    if writer is None or not options["resume"] or options["urls"] or options["column"]:
        return None
    from ..runs.remote import resume_after

    return resume_after(list(paths), writer.last, writer.in_order)


def _rows(paths, names, audit_options: dict, options: dict, skip, after: str | None = None, count=None):
    """Audit rows of every source, in order; `skip(path)` leaves out what a resumed --parquet file has; a listing
    starts `after` that URL when given; `count` (inspection.remote.ListingCount) is filled by a listing ahead."""
    from ..runs.remote import audit_heads, heads_of
    from ..runs.totals import AuditRow

    priced = {k: audit_options[k] for k in ("detail", "tables", "edition", "strict", "tier")}
    if options["engine"] == "ray":
        return _ray_rows(paths, names, priced, options, AuditRow)

    heads = heads_of(
        paths,
        count=count,
        column=options["column"],
        urls=options["urls"],
        url_column=options["url_column"],
        concurrency=options["concurrency"],
        allow_private=options["allow_private"],
        skip=skip,
        after=after,
    )
    return audit_heads(heads, models=names, **priced)


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
            edition=priced["edition"],
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
        raise BadArgument(f"--engine ray: {error}") from None
