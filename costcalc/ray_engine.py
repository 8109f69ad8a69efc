"""`costcalc audit SOURCE --engine ray`: the same audit rows, with the heads read on a Ray cluster (issue 19).

Each source is listed as a stream (`remote.list_objects`: S3 a page at a time) by a read
task of a Ray Data datasource (`Listing`, read with `ray.data.read_datasource`), which
yields the keys `keys_per_block` at a time as Arrow blocks; `Dataset.map_batches` runs
`AuditBlock` on the workers as blocks come. Ray Data's streaming executor bounds the blocks
in flight, so a listing of 10 M keys never sits in memory (or the object store) at once
(https://docs.ray.io/en/latest/data/api/doc/ray.data.read_datasource.html). Each block's heads are read there
(`remote.iter_remote_heads`, its sizes from the listing, `concurrency` requests in
flight per worker) and judged by `remote_audit.audit_heads`, giving the audit's fields as
Arrow columns. Ray Data schedules the blocks; order is preserved
(`DataContext.execution_options.preserve_order`), so the rows are those one process
gives, in the same order (https://docs.ray.io/en/latest/data/api/doc/ray.data.Dataset.map_batches.html).

The cluster is the one `RAY_ADDRESS` names (`ray.init(address=...)`), else a local one.
ray is an extra (`pip install 'costcalc[ray]'`), imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["AuditBlock", "audit_with_ray", "rows_table"]


def rows_table(rows: Iterable[Any]):
    """A pyarrow Table of AuditRows: the fields of `--nl`, typed as `output.parquet_rows` writes them."""
    import pyarrow as pa

    from .output.parquet_rows import AUDIT_SCHEMA_TYPES
    from .runs.totals import AUDIT_FIELDS

    schema = pa.schema([(name, getattr(pa, AUDIT_SCHEMA_TYPES[name])()) for name in AUDIT_FIELDS])
    columns: list[list] = [[] for _ in AUDIT_FIELDS]
    usd = AUDIT_FIELDS.index("usd")
    for row in rows:
        for i, value in enumerate(row):
            columns[i].append(float(value) if i == usd and value is not None else value)
    return pa.Table.from_arrays([pa.array(c, type=schema.field(i).type) for i, c in enumerate(columns)], schema=schema)


class AuditBlock:
    """A block of listed keys (columns url, size, error) -> its audit rows, on a Ray worker."""

    def __init__(
        self,
        models: list[str],
        detail: str = "auto",
        tier: str = "standard",
        edition: str | None = None,
        strict: bool = False,
        body: bool = False,
        concurrency: int = 64,
        storage_options: dict[str, Any] | None = None,
    ):
        from .runs.remote import audit_heads

        self.options = {"models": models, "detail": detail, "tier": tier, "edition": edition, "strict": strict}
        list(audit_heads([], **self.options))  # check the models, detail and tier once per worker
        self.body, self.concurrency, self.storage_options = body, concurrency, storage_options

    def __call__(self, block):
        from .errors import ImageReadError
        from .inspection.remote import RemoteHead, RemoteObject, iter_remote_heads
        from .runs.remote import audit_heads

        items = []
        for url, size, error in zip(
            block.column("url").to_pylist(), block.column("size").to_pylist(), block.column("error").to_pylist()
        ):
            items.append(RemoteHead(url, None, ImageReadError(error)) if error else RemoteObject(url, size))
        heads = iter_remote_heads(
            items, expand=False, body=self.body, concurrency=self.concurrency, storage_options=self.storage_options
        )
        return rows_table(audit_heads(heads, **self.options))


def _listing(sources: list[str], keys_per_block: int, storage_options):
    """A Ray Data datasource: one read task per source, yielding its listing's blocks as they are listed."""
    from functools import partial

    import ray.data
    from ray.data.block import BlockMetadata

    class Listing(ray.data.Datasource):
        def estimate_inmemory_data_size(self):
            return None

        def get_read_tasks(self, parallelism, **_):
            metadata = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
            return [
                ray.data.ReadTask(partial(_blocks, [source], keys_per_block, storage_options), metadata)
                for source in sources
            ]

    return Listing()


def _blocks(sources: Iterable[str], keys_per_block: int, storage_options) -> Iterator[Any]:
    """Arrow tables (url, size, error) of `keys_per_block` listed keys each, as the listing streams."""
    import pyarrow as pa

    from .errors import CostcalcError
    from .inspection.remote import list_objects, redact

    urls: list[str] = []
    sizes: list[int | None] = []
    errors: list[str | None] = []

    def block():
        table = pa.table(
            {
                "url": pa.array(urls, pa.string()),
                "size": pa.array(sizes, pa.int64()),
                "error": pa.array(errors, pa.string()),
            }
        )
        urls.clear(), sizes.clear(), errors.clear()
        return table

    for source in [sources] if isinstance(sources, str) else sources:
        try:
            for obj in list_objects(os.fspath(source), storage_options=storage_options):
                urls.append(obj.url)
                sizes.append(obj.size)
                errors.append(None)
                if len(urls) >= keys_per_block:
                    yield block()
        except CostcalcError as error:
            urls.append(redact(os.fspath(source)))
            sizes.append(None)
            errors.append(str(error))
    if urls:
        yield block()


def audit_with_ray(
    sources: str | Iterable[str],
    *,
    models: Iterable[str],
    detail: str = "auto",
    tier: str = "standard",
    edition: str | None = None,
    strict: bool = False,
    body: bool = False,
    concurrency: int = 64,
    keys_per_block: int = 10_000,
    storage_options: dict[str, Any] | None = None,
    address: str | None = None,
    workers: int | None = None,
) -> Iterator[Any]:
    """pyarrow RecordBatches of audit rows (the `--nl` fields), in listing order, the heads read on Ray workers.

    Models, detail and tier are checked on the driver first. `address`: the cluster (default
    RAY_ADDRESS, else a local cluster); `workers`: actors reading at once (default Ray's choice).
    """
    try:
        import ray
    except ImportError:
        from .errors import CostcalcError

        raise CostcalcError("audit_with_ray needs ray: pip install 'costcalc[ray]'") from None
    from .runs.remote import audit_heads

    names = list(models)
    list(audit_heads([], models=names, detail=detail, tier=tier, edition=edition, strict=strict))
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    sources = [os.fspath(sources)] if isinstance(sources, (str, os.PathLike)) else [os.fspath(s) for s in sources]
    if not sources:
        return
    listing = _listing(sources, keys_per_block, storage_options)
    dataset = ray.data.read_datasource(listing, override_num_blocks=len(sources)).map_batches(
        AuditBlock,
        batch_size=None,
        batch_format="pyarrow",
        concurrency=workers or 2,
        fn_constructor_kwargs={
            "models": names,
            "detail": detail,
            "tier": tier,
            "edition": edition,
            "strict": strict,
            "body": body,
            "concurrency": concurrency,
            "storage_options": storage_options,
        },
    )
    for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
        yield from batch.to_batches()
