"""Audit rows to Parquet as they come, in row groups, and resuming an interrupted run (issue 19).

`ParquetRows(path)` writes `runs.audit.AuditRow`s (the fields of `--nl`, AUDIT_FIELDS, in
order; `usd` as float64 as in JSON) with pyarrow's `ParquetWriter`
(https://arrow.apache.org/docs/python/generated/pyarrow.parquet.ParquetWriter.html), one
row group every `row_group_rows` rows, so memory holds one row group at most. It writes
to `path + ".partial"` and renames it to `path` when closed (an interrupted run closes it
too: Ctrl-C leaves a whole file).

`resume=True` keeps the rows of an existing `path` (copied a row group at a time into
the new file) and `done(path)` says which items they cover: each path is kept as an
8-byte BLAKE2b digest in a sorted NumPy array (8 bytes an item: 100 M items in 800 MB;
the chance that a new item's digest matches one of 100 M is below 1e-11 per item).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import Any, Self

from ..runs.rowschema import AUDIT_SCHEMA_TYPES, audit_schema, written_schema

__all__ = ["AUDIT_SCHEMA_TYPES", "ParquetRows", "audit_schema"]


def _digest(path: str) -> int:
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest(), "little")


def _check_out(path: str, pq, fields: tuple[str, ...], resume: bool) -> None:
    """OutputConflictError unless `path` is free or a regular file of an earlier audit's columns (which the new file
    replaces, or a resumed one continues): never a user's own file, nor a symbolic link's target or the link."""
    import stat

    from ..errors import OutputConflictError

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputConflictError(f"cannot be checked ({error.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputConflictError("is a symbolic link; name the file itself, or another name")
    if not stat.S_ISREG(st.st_mode):
        raise OutputConflictError("exists and is not a regular file; choose another name")
    if resume:  # ParquetRows says what is wrong with a file it cannot resume from
        return
    try:
        names = pq.ParquetFile(path).schema_arrow.names
    except Exception:  # noqa: BLE001 - not a Parquet file at all
        names = None
    if names != list(fields):
        raise OutputConflictError("exists and is not a costcalc audit's Parquet file; choose another name, or move it")


WRITE_BATCH = 1 << 16
"""Values a column writer takes at a time (pyarrow's default 1,024): fewer calls per row group, same pages."""


class ParquetRows:
    """A Parquet file of audit rows, written in row groups; with `resume`, the rows already there kept."""

    def __init__(self, path: str | os.PathLike, *, resume: bool = False, row_group_rows: int = 65536):
        from ..errors import OutputFormatError

        try:
            import numpy as np
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise OutputFormatError("writing Parquet needs pyarrow: pip install 'costcalc[parquet]'") from None
        from ..runs.totals import AUDIT_FIELDS

        self.fields = AUDIT_FIELDS
        missing = [name for name in AUDIT_FIELDS if name not in AUDIT_SCHEMA_TYPES]
        if missing:  # a field added to AuditRow: it needs a type here
            raise OutputFormatError(f"no Parquet type for audit field(s) {', '.join(missing)}")
        self.pa, self.pq = pa, pq
        self.schema = audit_schema()
        self.path = os.fspath(path)
        _check_out(self.path, pq, AUDIT_FIELDS, resume)
        self.partial = self.path + ".partial"
        self.row_group_rows = row_group_rows
        self.buffer: list[tuple] = []
        self.kept = 0
        digests = np.zeros(0, dtype=np.uint64)
        self.written = written_schema()  # the few-valued strings as dictionary arrays: no string hashed per row
        self.writer = pq.ParquetWriter(
            self.partial,
            self.written,
            store_schema=False,  # readers see the Parquet types: audit_schema's, whatever the arrays in memory
            use_dictionary=[name for name in AUDIT_FIELDS if name not in ("path", "error")],
            column_encoding={"path": "DELTA_BYTE_ARRAY"},  # names are distinct and sorted-ish: half the size
            write_statistics=[name for name, kind in AUDIT_SCHEMA_TYPES.items() if kind in ("int64", "float64")],
            write_batch_size=WRITE_BATCH,
        )
        if resume and os.path.exists(self.path):
            try:
                old = pq.ParquetFile(self.path)
            except Exception as error:  # noqa: BLE001 - pyarrow's reason, as one line
                self.writer.close()
                os.unlink(self.partial)
                raise OutputFormatError(
                    f"cannot resume from {self.path}: not a whole Parquet file ({error}); remove it or write elsewhere"
                ) from None
            if old.schema_arrow.names != list(AUDIT_FIELDS):
                self.writer.close()
                os.unlink(self.partial)
                raise OutputFormatError(f"cannot resume from {self.path}: its columns are not an audit's")
            parts = []
            for index in range(old.num_row_groups):
                group = old.read_row_group(index).cast(self.written)
                self.writer.write_table(group)
                self.kept += group.num_rows
                paths = group.column("path").to_pylist()
                self._order(paths)
                parts.append(np.fromiter((_digest(p) for p in paths), dtype=np.uint64))
            if parts:
                digests = np.unique(np.concatenate(parts))
        self.digests = digests

    last: str | None = None
    """The last path a resumed file holds (None for a new file)."""
    in_order = {"keys": True, "walk": True}
    """Whether a resumed file's paths stand in key order (S3 listings) and in a sorted walk's order (other stores)."""

    def _order(self, paths: list) -> None:
        from ..inspection.remote import walk_key

        previous = self.last
        order = dict(self.in_order)
        for path in paths:
            if not (order["keys"] or order["walk"]):
                break
            if previous is not None and path != previous:
                order["keys"] = order["keys"] and previous < path
                order["walk"] = order["walk"] and walk_key(previous) < walk_key(path)
            previous = path
        self.in_order = order
        if paths:
            self.last = paths[-1]

    def done(self, path: str) -> bool:
        """True when a resumed file already has rows for `path`."""
        import numpy as np

        if not self.digests.size:
            return False
        key = np.uint64(_digest(path))
        at = int(np.searchsorted(self.digests, key))
        return at < self.digests.size and self.digests[at] == key

    def write(self, rows: Iterable[Any]) -> None:
        """Add rows (AuditRows); a row group is written every `row_group_rows` rows."""
        for row in rows:
            self.buffer.append(tuple(row))
            if len(self.buffer) >= self.row_group_rows:
                self._flush()

    def write_table(self, table) -> None:
        """Add rows already in a pyarrow Table of the audit schema (the columnar paths): one row group, as it is.

        Written on a thread of its own (pyarrow writes without the GIL) while the caller prices the next batch;
        one table at most waits, so memory holds two.
        """
        self._flush()
        if not table.num_rows:
            return
        if self._pending is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="costcalc-parquet")
        else:
            self._pending.result()  # the previous table is written (its error, if any, raised here)
        self._pending = self._pool.submit(
            self.writer.write_table, table.cast(self.written), row_group_size=table.num_rows
        )

    _pending = None
    _pool = None

    def _drain(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            try:
                pending.result()
            finally:
                self._pool.shutdown()

    def _flush(self) -> None:
        if not self.buffer:
            return
        self._drain()
        columns = list(zip(*self.buffer))
        arrays = []
        for name, values in zip(self.fields, columns):
            if name == "usd":
                values = [None if v is None else float(v) for v in values]
            arrays.append(self.pa.array(values, type=self.written.field(name).type))
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.written))
        self.buffer.clear()

    def close(self) -> None:
        """Write what is left, the footer, and move the file into place."""
        if self.writer is None:
            return
        self._flush()
        self._drain()
        self.writer.close()
        self.writer = None
        os.replace(self.partial, self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
