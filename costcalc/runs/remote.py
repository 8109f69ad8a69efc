"""Audit rows for images read anywhere: object stores, tables, shards, URL lists (issue 19).

Every source of `costcalc.inspection` (`remote.iter_remote_heads`, `columns.iter_column_heads`,
`shards.iter_shard_heads`, `urllist.iter_url_heads`) yields `RemoteHead`s; `audit_heads`
turns them into the same `AuditRow`s a local audit gives (`runs.audit`), judged by the
same verdict (`pricing.verdict.verdict`: formats, animated, max_image_bytes, the model's own
limits): an object read remotely and the same file read locally get equal rows. `heads_for`
picks the source for a command-line argument, so the command needs one call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["audit_heads", "heads_for", "heads_of", "resume_after"]


def audit_heads(
    heads: Iterable[Any],
    *,
    models: Iterable[str],
    detail: str = "auto",
    tables=None,
    edition: str | None = None,
    strict: bool = False,
    tier: str = "standard",
) -> Iterator[Any]:
    """One `runs.audit.AuditRow` per head and model, in the heads' order; never raises for an item.

    Models, detail, tier and limits edition are checked before the first head is taken
    (UnknownModelError, UnsupportedDetailError, TierError, TableError).
    """
    from ..catalog.limits import limits_for
    from ..catalog.tables import default_tables
    from ..pricing.cost import Pricer
    from ..pricing.verdict import unique_models

    tables = tables or default_tables()
    pricers = tuple(Pricer(name, detail, tables, tier=tier) for name in unique_models(models, tables))
    rules = tuple(limits_for(p.model, edition) for p in pricers)
    return _rows(heads, pricers, rules, detail, strict)


def _rows(heads, pricers, rules, detail, strict):
    from .audit import header_rows

    for head in heads:
        yield from header_rows(head.path, head.path, head.info, head.error, pricers, rules, detail, strict)


def heads_of(sources: Iterable[str | os.PathLike], *, count=None, **options) -> Iterator[Any]:
    """The heads of every command-line source, in order (`heads_for` each, same options). When every source
    is a store listing (no URL list, table or shard), they are read as one pipeline (the next source's
    listing starts while the last reads of the one before are in flight), and `count`, a
    `inspection.remote.ListingCount`, is filled by a listing of them all that runs ahead of the reads (its
    `total` for a progress line's ETA); otherwise `count` stays without a total."""
    sources = [os.fspath(s) for s in sources]
    if options.get("urls") or options.get("column") is not None or any(_is_shard(s) for s in sources):
        return (head for source in sources for head in heads_for(source, **options))
    from ..inspection.remote import iter_remote_heads

    return iter_remote_heads(
        sources,
        concurrency=options.get("concurrency", 64),
        body=options.get("body", False),
        storage_options=options.get("storage_options"),
        skip=options.get("skip"),
        after=options.get("after"),
        count=count,
    )


def _is_shard(source: str) -> bool:
    return source.lower().rstrip("/").endswith((".tar", ".tar.gz", ".tgz"))


def heads_for(
    source: str | os.PathLike,
    *,
    column: str | None = None,
    urls: bool = False,
    url_column: str | None = None,
    concurrency: int = 64,
    allow_private: bool = False,
    body: bool = False,
    storage_options: dict[str, Any] | None = None,
    skip=None,
    after: str | None = None,
) -> Iterator[Any]:
    """The heads of what one command-line source names, by its kind:

    - `urls=True`: a URL list file (`--urls FILE`, with `url_column` for CSV/Parquet): urllist.iter_url_heads;
    - `column`: a table (.parquet/.arrow/.feather/.jsonl, a folder or glob of them): columns.iter_column_heads;
    - a `.tar` / `.tar.gz` shard, or a glob of them: shards.iter_shard_heads;
    - anything else (s3://, gs://, az://, hf://, https:// URLs, globs, prefixes, local paths):
      remote.iter_remote_heads.

    `skip(path)`: leave out, unread, what a resumed run has done (`output.parquet_rows.ParquetRows.done`);
    URL lists and stores honour it before any request; tables and shards are read anyway (cheap), and
    the caller drops their done rows. `after`: a store's listing starts after this URL (`resume_after`).
    """
    source = os.fspath(source)
    if urls:
        from ..inspection.urllist import iter_url_heads

        return iter_url_heads(
            source,
            url_column=url_column,
            concurrency=concurrency,
            allow_private=allow_private,
            storage_options=storage_options,
            skip=skip,
        )
    if column is not None:
        from ..inspection.columns import iter_column_heads

        return iter_column_heads(source, column, storage_options=storage_options, concurrency=concurrency)
    if _is_shard(source):
        from ..inspection.shards import iter_shard_heads

        return iter_shard_heads(source, storage_options=storage_options)
    from ..inspection.remote import iter_remote_heads

    return iter_remote_heads(
        source, concurrency=concurrency, body=body, storage_options=storage_options, skip=skip, after=after
    )


def resume_after(sources: list[str], last: str | None, in_order: dict[str, bool]) -> str | None:
    """Where a resumed audit's listing may start: after `last`, the last path the output holds, when that is
    safe, else None (every object is listed again, and those done are skipped unread).

    Safe when the run audits one store listing (not a URL list, table or shard; one source), `last` lies under
    it, and the output's paths stand in that store's listing order (`in_order`: "keys" for S3, whose listings
    are in key order; "walk" for local folders and other stores, walked folder by folder, sorted): the rows
    written are then those of every object up to `last`.
    """
    if last is None or len(sources) != 1:
        return None
    source = os.fspath(sources[0])
    if _is_shard(source) or source.startswith(("http://", "https://")):
        return None
    from ..inspection.remote import redact

    shown = redact(source)
    if shown.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        shown = unquote(urlsplit(shown).path)
    magic = min((shown.find(c) for c in "*?[" if c in shown), default=-1)
    if magic >= 0:  # a pattern: below the text before its first glob character
        under = last.startswith(shown[:magic])
    else:  # a folder or prefix: below it as a folder (`data/` holds data/x.png, not data2/x.png)
        root = shown.rstrip("/")
        under = last == root or last.startswith(root + "/")
    kind = "keys" if source.lower().startswith("s3://") else "walk"
    return last if in_order.get(kind) and under else None
