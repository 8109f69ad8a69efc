"""`costcalc audit SOURCE --engine ray`: the same audit rows, with the heads read on a Ray cluster (issue 19).

The driver lists the source as a stream (`remote.list_objects`: S3 a page at a time) and
puts the keys, `keys_per_block` at a time, into Ray's object store as Arrow tables
(`ray.put`); `ray.data.from_arrow_refs` makes them a Dataset, and `Dataset.map_batches`
runs `AuditBlock` on the workers: each block's heads are read there
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
    from .runs.audit import AUDIT_FIELDS

    schema = pa.schema([(name, getattr(pa, AUDIT_SCHEMA_TYPES[name])()) for name in AUDIT_FIELDS])
    columns: list[list] = [[] for _ in AUDIT_FIELDS]
    usd = AUDIT_FIELDS.index("usd")
    for row in rows:
        for i, value in enumerate(row):
            columns[i].append(float(value) if i == usd and value is not None else value)
    return pa.Table.from_arrays([pa.array(c, type=schema.field(i).type) for i, c in enumerate(columns)], schema=schema)


class AuditBlock:
    """A block of listed keys (columns url, size, error) -> its audit rows, on a Ray worker."""

    def __init__(self, models: list[str], detail: str = "auto", tier: str = "standard", limits: str | None = None,
                 strict: bool = False, body: bool = False, concurrency: int = 64,
                 storage_options: dict[str, Any] | None = None):  # fmt: skip
        from .runs.remote import audit_heads

        self.options = {"models": models, "detail": detail, "tier": tier, "limits": limits, "strict": strict}
        list(audit_heads([], **self.options))  # check the models, detail and tier once per worker
        self.body, self.concurrency, self.storage_options = body, concurrency, storage_options

    def __call__(self, block):
        from .errors import ImageReadError
        from .inspection.remote import RemoteHead, RemoteObject, iter_remote_heads
        from .runs.remote import audit_heads

        items = []
        for url, size, error in zip(block.column("url").to_pylist(), block.column("size").to_pylist(),
                                    block.column("error").to_pylist()):  # fmt: skip
            items.append(RemoteHead(url, None, ImageReadError(error)) if error else RemoteObject(url, size))
        heads = iter_remote_heads(items, expand=False, body=self.body, concurrency=self.concurrency,
                                  storage_options=self.storage_options)  # fmt: skip
        return rows_table(audit_heads(heads, **self.options))


def _blocks(sources: Iterable[str], keys_per_block: int, storage_options) -> Iterator[Any]:
    """Arrow tables (url, size, error) of `keys_per_block` listed keys each, as the listing streams."""
    import pyarrow as pa

    from .errors import CostcalcError
    from .inspection.remote import list_objects, redact

    urls: list[str] = []
    sizes: list[int | None] = []
    errors: list[str | None] = []

    def block():
        table = pa.table({"url": pa.array(urls, pa.string()), "size": pa.array(sizes, pa.int64()),
                          "error": pa.array(errors, pa.string())})  # fmt: skip
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


def audit_with_ray(sources: str | Iterable[str], *, models: Iterable[str], detail: str = "auto",
                   tier: str = "standard", limits: str | None = None, strict: bool = False, body: bool = False,
                   concurrency: int = 64, keys_per_block: int = 10_000, storage_options: dict[str, Any] | None = None,
                   address: str | None = None, workers: int | None = None) -> Iterator[Any]:  # fmt: skip
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
    list(audit_heads([], models=names, detail=detail, tier=tier, limits=limits, strict=strict))
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    refs = [ray.put(table) for table in _blocks(sources, keys_per_block, storage_options)]
    if not refs:
        return
    dataset = ray.data.from_arrow_refs(refs).map_batches(
        AuditBlock, batch_size=None, batch_format="pyarrow", concurrency=workers or 2,
        fn_constructor_kwargs={"models": names, "detail": detail, "tier": tier, "limits": limits, "strict": strict,
                               "body": body, "concurrency": concurrency, "storage_options": storage_options})  # fmt: skip
    for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
        yield from batch.to_batches()
