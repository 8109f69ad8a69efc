"""Images and sizes in tables: Parquet, Arrow IPC (Feather v2) and JSON Lines, read in record batches.

A table is a file, a folder or a glob of shards, local or remote (any fsspec URL); it is
read with pyarrow's dataset API (https://arrow.apache.org/docs/python/dataset.html) one
record batch at a time, only the columns asked for, so memory stays at a few batches
whatever the table's size.

An image column may hold the image bytes (binary), the Hugging Face `Image` feature's
`{bytes, path}` struct (https://huggingface.co/docs/datasets/image_load: bytes when
embedded, else a path), or paths/URLs (strings). Bytes are parsed in place by the header
parser (`headers.inspect_reader` over a zero-copy view of the Arrow buffer): never
decoded, never copied whole. Paths and URLs are read with `remote.iter_remote_heads`
(ranged reads).

Size columns (`width_column`, `height_column`, e.g. LAION's WIDTH / HEIGHT) give NumPy
arrays per batch without touching any image.

pyarrow (`pip install 'costcalc[parquet]'`) and fsspec are imported only here, when used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ..errors import CostcalcError, ImageReadError, InvalidImageError
from .headers import HEAD_BYTES, ImageInfo, inspect_reader
from .remote import RemoteHead, is_remote, iter_remote_heads, redact

__all__ = [
    "BATCH_ROWS",
    "INSTALL_HINT",
    "SizeBatch",
    "column_heads",
    "iter_batches",
    "iter_column_heads",
    "iter_sizes",
    "open_table",
]

BATCH_ROWS = 1024
"""Rows per record batch for an image column (images may be MBs each)."""
SIZE_BATCH_ROWS = 1 << 20
"""Rows per record batch for size columns (16 bytes a row)."""
MAX_SIDE = 2**31 - 1
"""The largest side a size column may give: `pricing.cost.MAX_SIDE` (PNG's limit), kept here since inspection
sits below pricing (tests/runs/test_arrow.py checks they agree)."""
INSTALL_HINT = "reading Parquet, Arrow and JSON Lines tables needs pyarrow: pip install 'costcalc[parquet]'"

_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}


class SizeBatch(NamedTuple):
    """One record batch of sizes: int64 widths and heights (0 where `valid` is False), and where they are usable.

    `valid` is False for a null, a non-whole or a non-positive value, or a side over MAX_SIDE (whose
    width and height are then 0).
    `start`: the index of the batch's first row in the whole table.
    """

    widths: Any
    heights: Any
    valid: Any
    start: int


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.dataset
    except ImportError:
        raise ImageReadError(INSTALL_HINT) from None
    return pyarrow


def table_format(source: str) -> str:
    """parquet, ipc or json, from the name's suffix (a folder or glob: from its first file's)."""
    name = source.rstrip("/").lower()
    for suffix, kind in _FORMATS.items():
        if name.endswith(suffix):
            return kind
    return "parquet"


def open_table(source: str | os.PathLike, *, format: str | None = None, storage_options: dict[str, Any] | None = None):
    """A pyarrow Dataset over a table file, a folder or a glob of shards, local or at a URL.

    ImageReadError (one line, no credential) when it cannot be opened.
    """
    pa = _pyarrow()
    source = os.fspath(source)
    kind = format or table_format(source)
    if kind == "json":
        kind = pa.dataset.JsonFileFormat()
    try:
        if is_remote(source):
            import fsspec

            fs, path = fsspec.core.url_to_fs(source, **(storage_options or {}))
            paths = sorted(fs.glob(path)) if any(c in path for c in "*?[") else path
            return pa.dataset.dataset(paths, format=kind, filesystem=fs)
        if any(c in source for c in "*?["):
            import glob

            paths = sorted(glob.glob(source, recursive=True))
            if not paths:
                raise FileNotFoundError(f"no file matches {source}")
            return pa.dataset.dataset(paths, format=kind)
        return pa.dataset.dataset(source, format=kind)
    except CostcalcError:
        raise
    except ImportError as error:
        raise ImageReadError(f"{redact(source)}: {error}") from None
    except Exception as error:  # noqa: BLE001 - pyarrow's and the store's own errors, as one line
        text = " ".join(str(error).split())[:300]
        raise ImageReadError(f"{redact(source)}: cannot read the table: {redact(text)}") from None


def _check_columns(dataset, source: str, columns: Iterable[str]) -> None:
    names = dataset.schema.names
    for column in columns:
        if column not in names:
            raise ImageReadError(f"{redact(source)}: no column {column!r}; it has {', '.join(map(repr, names[:20]))}")


def iter_batches(dataset, columns: list[str], batch_size: int) -> Iterator[tuple[str, int, Any]]:
    """(file, first row in that file, record batch) in file order, only `columns`, `batch_size` rows at a time."""
    for fragment in dataset.get_fragments():
        row = 0
        for batch in fragment.to_batches(columns=columns, batch_size=batch_size):
            yield fragment.path, row, batch
            row += batch.num_rows


# ------------------------------------------------------------------ image columns


def _binary_views(array) -> Iterator[memoryview | None]:
    """Each element of a binary / large_binary Arrow array as a zero-copy memoryview (None for a null)."""
    import numpy as np

    pa = _pyarrow()
    if pa.types.is_binary_view(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.large_binary())
    wide = pa.types.is_large_binary(array.type) or pa.types.is_large_string(array.type)
    _validity, offsets_buffer, data_buffer = array.buffers()[:3]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if wide else np.int32)[
        array.offset : array.offset + len(array) + 1
    ]
    data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
    nulls = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    for i in range(len(array)):
        if nulls is not None and nulls[i]:
            yield None
        else:
            yield data[offsets[i] : offsets[i + 1]]


def inspect_view(view: memoryview, name: str) -> ImageInfo:
    """`headers.inspect` of image bytes held elsewhere (an Arrow buffer), copying only what the parser reads."""
    size = len(view)
    return inspect_reader(
        bytes(view[:HEAD_BYTES]), lambda offset, count: bytes(view[offset : offset + count]), size, name=name
    )


def column_heads(array, names: list[str], *, storage_options=None, concurrency: int = 64) -> list[RemoteHead]:
    """The header facts of each element of an image column (bytes, {bytes, path} struct, or path/URL strings).

    `names` label each row's errors. A null or an element of no image is an error item; a column of
    another type is an ImageReadError naming the type.
    """
    pa = _pyarrow()
    kind = array.type
    out: list[RemoteHead | None] = [None] * len(array)
    fetch: list[tuple[int, str]] = []
    if pa.types.is_struct(kind):
        fields = [kind.field(i).name for i in range(kind.num_fields)]
        if "bytes" not in fields and "path" not in fields:
            raise ImageReadError(
                f"image column of type {kind}: a struct needs a 'bytes' or 'path' field "
                "(the Hugging Face Image feature)"
            )
        struct_nulls = array.is_null().to_pylist() if array.null_count else [False] * len(array)
        views = list(_binary_views(array.field("bytes"))) if "bytes" in fields else [None] * len(array)
        paths = array.field("path").to_pylist() if "path" in fields else [None] * len(array)
        for i in range(len(array)):
            if struct_nulls[i]:
                out[i] = RemoteHead(names[i], None, InvalidImageError(f"{names[i]}: no image (null)"))
            elif views[i] is not None:
                out[i] = _parse_view(views[i], names[i])
            elif paths[i]:
                fetch.append((i, paths[i]))
            else:
                out[i] = RemoteHead(names[i], None, InvalidImageError(f"{names[i]}: no image (neither bytes nor path)"))
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
        for i, view in enumerate(_binary_views(array)):
            out[i] = (
                _parse_view(view, names[i])
                if view is not None
                else RemoteHead(names[i], None, InvalidImageError(f"{names[i]}: no image (null)"))
            )
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        for i, value in enumerate(array.to_pylist()):
            if value:
                fetch.append((i, value))
            else:
                out[i] = RemoteHead(names[i], None, InvalidImageError(f"{names[i]}: no image (empty path)"))
    else:
        raise ImageReadError(
            f"image column of type {kind}: expected image bytes (binary), a {{bytes, path}} struct "
            "(the Hugging Face Image feature) or paths/URLs (strings)"
        )
    remote = [(i, value) for i, value in fetch if is_remote(value)]
    for i, value in fetch:  # local paths: read here, as inspect_path reads them (no event loop, no thread)
        if not is_remote(value):
            out[i] = _local_head(value, names[i])
    if remote:
        heads = iter_remote_heads(
            [value for _, value in remote], expand=False, concurrency=concurrency, storage_options=storage_options
        )
        for (i, _), head in zip(remote, heads):
            out[i] = head
    return out  # type: ignore[return-value]


def _local_head(value: str, name: str) -> RemoteHead:
    from urllib.parse import unquote, urlsplit

    from .headers import inspect_path

    path = unquote(urlsplit(value).path) if value.startswith("file://") else value
    try:
        info = inspect_path(path, name=value)
    except CostcalcError as error:
        return RemoteHead(value, None, error)
    return RemoteHead(value, info, None, min(info.bytes or 0, HEAD_BYTES), 1)


def _parse_view(view: memoryview, name: str) -> RemoteHead:
    try:
        return RemoteHead(name, inspect_view(view, name), None, min(len(view), HEAD_BYTES), 0)
    except CostcalcError as error:
        return RemoteHead(name, None, error, min(len(view), HEAD_BYTES), 0)


def iter_column_heads(
    source: str | os.PathLike,
    column: str,
    *,
    batch_size: int = BATCH_ROWS,
    format: str | None = None,
    storage_options: dict[str, Any] | None = None,
    concurrency: int = 64,
) -> Iterator[RemoteHead]:
    """The header facts of every image in `column` of a table, row by row, a record batch at a time.

    Each item's path is `file#row` (the row within that file). ImageReadError for a table that cannot
    be read, a missing column or a column of the wrong type; an unreadable image is an error item.
    """
    dataset = open_table(source, format=format, storage_options=storage_options)
    _check_columns(dataset, os.fspath(source), [column])
    for path, first, batch in iter_batches(dataset, [column], batch_size):
        names = [f"{path}#{first + i}" for i in range(batch.num_rows)]
        yield from column_heads(batch.column(0), names, storage_options=storage_options, concurrency=concurrency)


# ------------------------------------------------------------------ size columns


def size_arrays(widths, heights):
    """(widths, heights, valid) as int64 NumPy arrays from two Arrow arrays of sizes (ints or floats)."""
    import numpy as np

    pa = _pyarrow()
    out = []
    valid = np.ones(len(widths), dtype=bool)
    for array, what in ((widths, "width"), (heights, "height")):
        kind = array.type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise ImageReadError(f"{what} column of type {kind}: expected whole numbers of pixels")
        if array.null_count:
            valid &= array.is_valid().to_numpy(zero_copy_only=False)
            array = array.fill_null(0)
        values = array.to_numpy(zero_copy_only=False)
        if values.dtype.kind == "f":
            whole = np.isfinite(values) & (values == np.floor(values)) & (values >= 1) & (values <= MAX_SIDE)
            valid &= whole
            values = np.where(whole, values, 0).astype(np.int64)
        else:
            if values.dtype.kind == "u":
                values = np.minimum(values, MAX_SIDE + 1)
            values = values.astype(np.int64, copy=False)
            if values.size and not (values.min() >= 1 and values.max() <= MAX_SIDE):  # the common case: all valid
                valid &= (values >= 1) & (values <= MAX_SIDE)
                values = np.where(valid, values, 0)
        out.append(values)
    return out[0], out[1], valid


def iter_sizes(
    source: str | os.PathLike,
    width_column: str,
    height_column: str,
    *,
    batch_size: int = SIZE_BATCH_ROWS,
    format: str | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Iterator[SizeBatch]:
    """Sizes from two columns of a table, a record batch at a time, without touching any image."""
    dataset = open_table(source, format=format, storage_options=storage_options)
    _check_columns(dataset, os.fspath(source), [width_column, height_column])
    start = 0
    for batch in dataset.to_batches(
        columns=[width_column, height_column], batch_size=batch_size, batch_readahead=2, fragment_readahead=1
    ):
        w, h, valid = size_arrays(batch.column(0), batch.column(1))
        yield SizeBatch(w, h, valid, start)
        start += batch.num_rows
