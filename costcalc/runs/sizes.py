"""Auditing size columns (LAION-style WIDTH / HEIGHT) column by column, never a Python object per row.

`SizeAudit(models, width_column=..., height_column=...)` reads a table (`inspection.columns`:
Parquet, Arrow IPC, JSON Lines; a file, folder or glob; local or remote) a record batch at a
time and prices each batch with NumPy (`arrow.PriceBatch.size_prices`: the same tokens,
status, basis and rule as `costcalc.estimate((width, height))` gives each row). From a
batch's arrays (a `SizePart`) it gives, only as asked:

- `totals(part)`: the totals per model (a `runs.summary.Summary`) by NumPy aggregation: USD as
  the exact sum over distinct token counts of count × `Pricer.usd(tokens)`, the same Decimal
  that adding each row's USD gives;
- `table(part)`: the audit rows (the fields of `--nl`, `output.parquet_rows.AUDIT_SCHEMA_TYPES`)
  as one Arrow table, image by image and model by model, for `--parquet` to write as it is;
- `rows(part)`: the same rows as `AuditRow`s (exact USD), for the text formats.

A row is named `file#row` (the row within that file). width/height are the sides read (null
where a side is not a whole number of pixels from 1 to 2**31 - 1); such a row is unreadable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal, localcontext
from functools import cache, lru_cache
from typing import Any, NamedTuple

from ..money import MONEY
from .summary import Summary
from .totals import AuditRow, ModelTotals

__all__ = ["SizeAudit", "SizePart"]

UNUSABLE = "no usable size (a side is null, or not a whole number of pixels from 1 to 2147483647)"


class SizePart(NamedTuple):
    """One record batch priced: where it is from, its sides (0 where unusable) and each model's prices."""

    source: str
    start: int
    widths: Any
    heights: Any
    valid: Any
    prices: list
    histograms: list
    """Per model: (distinct token counts, images with each) over its priced rows with known tokens."""
    batch: Any
    """The record batch read (its two size columns)."""

    @property
    def size(self) -> int:
        return len(self.widths)


class SizeAudit:
    """Size columns priced for `models`; ImageReadError for a table that cannot be read or a wrong column."""

    def __init__(
        self,
        models: Iterable[str],
        *,
        width_column: str,
        height_column: str,
        detail: str = "auto",
        tier: str = "standard",
        tables=None,
        storage_options: dict[str, Any] | None = None,
        batch_rows: int | None = None,
    ):
        from ..arrow import PriceBatch
        from ..inspection.columns import SIZE_BATCH_ROWS

        self.price = PriceBatch(
            models, width_column=width_column, height_column=height_column, detail=detail, tier=tier, tables=tables
        )
        self.names, self.pricers = self.price.names, self.price.pricers
        self.columns = [width_column, height_column]
        self.detail, self.tier = detail, tier
        self.storage_options = storage_options
        self.batch_rows = batch_rows or SIZE_BATCH_ROWS

    # -- reading

    def row_counts(self, paths: Iterable[str]) -> int | None:
        """Rows in all `paths` from the files' metadata (Parquet footers), or None when a count is not cheap."""
        from ..inspection.columns import open_table, table_format

        total = 0
        for path in paths:
            if table_format(str(path)) != "parquet":
                return None
            try:
                total += open_table(path, storage_options=self.storage_options).count_rows()
            except Exception:  # noqa: BLE001 - the count is for the progress line only; the read says what is wrong
                return None
        return total

    def parts(self, path: str, skip=None) -> Iterator[SizePart]:
        """The priced batches of one table, in order. `skip(name)`: rows a resumed --parquet file has (left out)."""
        import os

        from ..arrow import histogram
        from ..inspection.columns import _check_columns, iter_batches, open_table

        dataset = open_table(path, storage_options=self.storage_options)
        _check_columns(dataset, os.fspath(path), self.columns)
        _check_types(dataset.schema, os.fspath(path), self.columns)
        for source, start, batch in iter_batches(dataset, self.columns, self.batch_rows):
            runs = _unskipped(batch, source, start, skip) if skip is not None and batch.num_rows else [(batch, start)]
            for piece, first in runs:
                widths, heights, valid, prices = self.price.size_prices(piece)
                histograms = [histogram(p.tokens, p.known) for p in prices]
                yield SizePart(source, first, widths, heights, valid, prices, histograms, piece)

    # -- totals

    def totals(self, part: SizePart) -> Summary:
        """The part's totals per model, its group (the table file) and its token counts, by NumPy aggregation."""
        import numpy as np

        summary = Summary(self.names)
        group = summary.group(part.source)
        for index, (name, pricer, prices, (distinct, counts)) in enumerate(
            zip(self.names, self.pricers, part.prices, part.histograms)
        ):
            t = ModelTotals()
            t.files = part.size
            t.priced, t.rejected, t.unreadable = (int(c) for c in np.bincount(prices.status, minlength=3)[:3])
            t.unknown_tokens = t.priced - int(counts.sum())
            pairs = list(zip(distinct.tolist(), counts.tolist()))
            with localcontext(MONEY):
                for tokens, n in pairs:
                    t.tokens += tokens * n
                    usd = pricer.usd(tokens)
                    if usd is None:
                        t.unknown_price += n
                    else:
                        t.usd += usd * n
            t.usd = Decimal(t.usd)
            if prices.rules:
                t.rules.update(prices.rules.values())
            if pairs:
                t.bases = {prices.basis} if isinstance(prices.basis, str) else set(prices.basis) - {None}
            summary.by_model[name] = t
            group.by_model[name] = _copy(t)
            summary.count_tokens(name, pairs)
        return summary

    # -- rows

    def table(self, part: SizePart):
        """The part's audit rows as one pyarrow Table (the --nl fields), image by image, model by model, typed by
        `rowschema.written_schema`: the few-valued strings (model, status, basis...) as dictionary arrays built from
        codes (no string per row), the rest as plain arrays."""
        import numpy as np
        import pyarrow as pa

        from .rowschema import DICTIONARY_FIELDS, written_schema

        schema = written_schema()
        n, m = part.size, len(self.names)
        names = numbered(f"{part.source}#", part.start, n)
        per_model = [
            self._model_columns(index, name, pricer, prices, part, names, n)
            for index, (name, pricer, prices) in enumerate(zip(self.names, self.pricers, part.prices))
        ]
        order = None if m == 1 else pa.array(np.add.outer(np.arange(n), np.arange(m) * n).ravel())
        arrays = []
        for field in schema:
            parts = [columns[field.name] for columns in per_model]
            if field.name in DICTIONARY_FIELDS:
                arrays.append(_coded_column(parts, n))
            else:
                parts = [a if a.type == field.type else a.cast(field.type) for a in parts]
                arrays.append(parts[0] if m == 1 else pa.concat_arrays(parts).take(order))
        return pa.Table.from_arrays(arrays, schema=schema)

    def _model_columns(self, index, name, pricer, prices, part, names, n) -> dict:
        """One model's columns: plain arrays, and for DICTIONARY_FIELDS (codes, words) pairs (`_coded_column`)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from ..arrow import STATUSES

        priced = prices.status == 0
        usd, usd_known = self.price._usd_of(index, prices.tokens, prices.known)
        rule_codes, rule_words = _rule_codes(prices, n)
        if isinstance(prices.basis, str):
            basis = (0 if priced.all() else np.where(priced, 0, -1).astype(np.int32), [prices.basis])
        else:
            encoded = pa.array(prices.basis, type=pa.string()).dictionary_encode()
            basis = (pc.fill_null(encoded.indices, -1).to_numpy(), encoded.dictionary.to_pylist())

        def side(values):
            unusable = values < 1
            return pa.array(values, mask=unusable) if unusable.any() else pa.array(values)

        def masked(values, present, kind):
            return pa.array(values, type=kind) if present.all() else pa.array(values, type=kind, mask=~present)

        def same(value):
            return (-1, []) if value is None else (0, [value])

        widths, heights = _sides(part)
        return {
            "path": names,
            "model": same(name),
            "detail": same(self.detail),
            "status": (prices.status, list(STATUSES)),
            "format": same(None),
            "width": side(widths),
            "height": side(heights),
            "frames": pa.nulls(n, pa.int64()),
            "animated": pa.nulls(n, pa.bool_()),
            "orientation": pa.nulls(n, pa.int64()),
            "bytes": pa.nulls(n, pa.int64()),
            "applied_detail": same(pricer.applied_detail),
            "tokens": masked(prices.tokens, prices.known, pa.int64()),
            "usd": masked(usd, usd_known, pa.float64()),
            "rule": (rule_codes, rule_words),
            "error": _errors(prices.status, priced, names, rule_codes, rule_words),
            "warning": same(None),
            "tier": same(pricer.tier),
            "basis": basis,
            "model_status": same(pricer.status),
            "shutdown": same(pricer.shutdown),
        }

    def rows(self, part: SizePart) -> Iterator[AuditRow]:
        """The part's audit rows as AuditRows (exact Decimal USD), image by image, model by model."""
        from ..arrow import STATUSES

        widths, heights = (side.tolist() for side in _sides(part))
        per_model = []
        for pricer, prices in zip(self.pricers, part.prices):
            basis = prices.basis if isinstance(prices.basis, list) else None
            per_model.append(
                (pricer, prices.status.tolist(), prices.tokens.tolist(), prices.known.tolist(), basis, prices)
            )
        for i in range(part.size):
            path = f"{part.source}#{part.start + i}"
            width, height = widths[i] or None, heights[i] or None
            for name, (pricer, status, tokens, known, basis, prices) in zip(self.names, per_model):
                code = status[i]
                rule = prices.rules.get(i) if code == 1 else None
                count = tokens[i] if known[i] else None
                yield AuditRow(
                    path,
                    name,
                    self.detail,
                    STATUSES[code],
                    None,
                    width,
                    height,
                    applied_detail=pricer.applied_detail,
                    tokens=count,
                    usd=pricer.usd(count) if count is not None else None,
                    rule=rule,
                    error=None if code == 0 else f"{path}: " + (f"rejected ({rule})" if code == 1 else UNUSABLE),
                    tier=pricer.tier,
                    basis=None if code else (basis[i] if basis is not None else prices.basis),
                    model_status=pricer.status,
                    shutdown=pricer.shutdown,
                )


def numbered(prefix: str, start: int, n: int):
    """A pyarrow string array `prefix + str(start + i)` for i < n, built from NumPy buffers (no string per row):
    consecutive numbers of one width at a time, each a byte matrix (prefix, then digits) used whole."""
    import numpy as np

    head = np.frombuffer(prefix.encode("utf-8", "surrogateescape"), dtype=np.uint8)
    pieces, offsets, end = [], [], 0
    low = start
    while low < start + n:
        width = len(str(low))
        high = min(start + n, 10**width)
        matrix = _empty((high - low) * (head.size + width)).reshape(high - low, head.size + width)
        matrix[:, : head.size] = head
        _digits(matrix[:, head.size :], low)
        pieces.append(matrix.ravel())
        offsets.append(end + np.arange(high - low, dtype=np.int64) * (head.size + width))
        end += matrix.size
        low = high
    offsets.append(np.array([end], dtype=np.int64))
    data = pieces[0] if len(pieces) == 1 else np.concatenate(pieces or [np.zeros(0, dtype=np.uint8)])
    return _strings(np.concatenate(offsets), data)


def _empty(size: int):
    """A writable uint8 NumPy array over a buffer of pyarrow's memory pool, which keeps its pages from one batch to
    the next (a NumPy array as large is mapped afresh, and faulted in page by page, every time)."""
    import numpy as np
    import pyarrow as pa

    return np.frombuffer(pa.allocate_buffer(size), dtype=np.uint8)


_LOW_DIGITS = 4


def _digits(out, low: int) -> None:
    """Write the decimal digits (ASCII) of low, low + 1, ... into the rows of `out`, a (count, width) byte matrix
    (each number `width` digits long): the last four digits repeat every 10,000 numbers (a table, tiled), the
    others change once every 10,000 (each block's digits, repeated)."""
    import numpy as np

    count, width = out.shape
    period = 10**_LOW_DIGITS
    first = low % period
    tiled = np.tile(_low_table(), (-(-(first + count) // period), 1))[first : first + count]
    tail = min(width, _LOW_DIGITS)
    out[:, width - tail :] = tiled[:, _LOW_DIGITS - tail :]
    if width > tail:
        blocks = np.arange(low // period, (low + count - 1) // period + 1, dtype=np.int64)
        starts = np.maximum(blocks * period, low)
        ends = np.minimum((blocks + 1) * period, low + count)
        out[:, : width - tail] = np.repeat(_ascii(blocks, width - tail), ends - starts, axis=0)


def _ascii(values, width: int):
    """The last `width` decimal digits of each of `values` (ASCII), as a (len(values), width) byte matrix."""
    import numpy as np

    return np.stack([(48 + (values // 10 ** (width - 1 - j)) % 10).astype(np.uint8) for j in range(width)], axis=1)


@cache
def _low_table():
    """The four-digit ASCII forms of 0 to 9999 ("0000" ... "9999"), a (10000, 4) byte matrix."""
    import numpy as np

    return _ascii(np.arange(10**_LOW_DIGITS, dtype=np.int64), _LOW_DIGITS)


def _rule_codes(prices, n: int):
    """(codes, words) of the rules the rejected rows break: -1 where a row breaks none (or is not rejected)."""
    import numpy as np

    words = sorted(set(prices.rules.values()) - {None})
    if not words:
        return -1, []
    index = {rule: code for code, rule in enumerate(words)}
    codes = np.full(n, -1, dtype=np.int32)
    for i, rule in prices.rules.items():
        if rule is not None and prices.status[i] == 1:
            codes[i] = index[rule]
    return codes, words


def _errors(status, priced, names, rule_codes, rule_words):
    """The error column: null for priced rows; `name: rejected (rule)` or `name: ` UNUSABLE for the others, built
    for those rows only."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    error = pa.nulls(len(status), pa.string())
    if priced.all():
        return error
    where = np.flatnonzero(~priced)
    rule = pa.nulls(where.size, pa.string())
    if rule_words:
        picked = rule_codes[where]
        rule = pa.array(rule_words, type=pa.string()).take(pa.array(picked, mask=picked < 0))
    why = pc.if_else(
        pa.array(status[where] == 1), pc.binary_join_element_wise("rejected (", rule, ")", ""), pa.scalar(UNUSABLE)
    )
    return pc.replace_with_mask(error, pa.array(~priced), pc.binary_join_element_wise(names.take(where), why, ": "))


@lru_cache(maxsize=2)
def _zeros(n: int):
    """n zero indices (int32), one buffer that every constant column of a batch (and the next batches) shares."""
    import numpy as np
    import pyarrow as pa

    return pa.array(np.zeros(n, dtype=np.int32))


def _coded_column(parts: list, n: int):
    """A dictionary<int32, string> array from each model's (codes, words): codes an int array over the images
    (-1: null) or one int for them all, indices into `words`; rows image by image, model by model. The words of
    all models become one dictionary without repeats (a Parquet dictionary page holds each value once)."""
    import numpy as np
    import pyarrow as pa

    seen: dict[str, int] = {}
    maps = [np.array([seen.setdefault(w, len(seen)) for w in words] + [-1], dtype=np.int32) for _, words in parts]
    dictionary = pa.array(list(seen), type=pa.string())
    if all(isinstance(codes, int) for codes, _ in parts):
        row = np.array([table[codes] for (codes, _), table in zip(parts, maps)], dtype=np.int32)
        if (row < 0).all():
            return pa.DictionaryArray.from_arrays(pa.nulls(n * len(parts), pa.int32()), dictionary)
        if len(parts) == 1:
            return pa.DictionaryArray.from_arrays(_zeros(n), dictionary)  # row[0] is 0: the one word
        indices = np.tile(row, n)
    elif len(parts) == 1 and not parts[0][0].any() and maps[0][0] == 0:
        return pa.DictionaryArray.from_arrays(_zeros(n), dictionary)  # every row the first word (all priced...)
    else:
        indices = np.empty((n, len(parts)), dtype=np.int32)
        for j, ((codes, _), table) in enumerate(zip(parts, maps)):
            indices[:, j] = table[codes]
        indices = indices.ravel()
    missing = indices < 0
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=missing if missing.any() else None), dictionary)


def _strings(offsets, data):
    """A pyarrow string array from int64 offsets (one more than the strings) and the bytes they index."""
    import numpy as np
    import pyarrow as pa

    count = len(offsets) - 1
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(count, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))
    return pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data)).cast(pa.string())


def _check_types(schema, path: str, columns: list[str]) -> None:
    """ImageReadError naming the table and the column when a size column does not hold numbers (before any row)."""
    import pyarrow as pa

    from ..errors import ImageReadError
    from ..inspection.remote import redact

    for what, name in zip(("width", "height"), columns):
        kind = schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise ImageReadError(
                f"{redact(path)}: {what} column {name!r} is of type {kind}: expected whole numbers of pixels"
            )


def _sides(part: SizePart):
    """Each side as read, 0 where that side is unusable (a null, not a whole number, not from 1 to 2**31 - 1),
    whatever the other side is."""
    if part.valid.all():
        return part.widths, part.heights
    from ..inspection.columns import size_arrays

    return [size_arrays(part.batch.column(i), part.batch.column(i))[0] for i in range(2)]


def _copy(t: ModelTotals) -> ModelTotals:
    from copy import copy

    out = copy(t)
    out.rules, out.bases = t.rules.copy(), set(t.bases)
    return out


def _unskipped(batch, source: str, start: int, skip) -> list:
    """(slice, its first row) of the batch's rows a resumed file lacks. A batch is judged by its first and last
    row (a resumed file holds the rows of a table in order, up to where the run stopped), and looked at row by
    row only when they differ."""
    import numpy as np

    n = batch.num_rows
    first, last = skip(f"{source}#{start}"), skip(f"{source}#{start + n - 1}")
    if first and last:
        return []
    if not first and not last:
        return [(batch, start)]
    keep = np.array([not skip(f"{source}#{start + i}") for i in range(n)])
    edges = np.flatnonzero(np.diff(np.concatenate(([False], keep, [False])).astype(np.int8)))
    return [(batch.slice(a, b - a), start + a) for a, b in zip(edges[::2].tolist(), edges[1::2].tolist())]
