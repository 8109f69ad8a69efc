"""Pricing a file of many requests, a request at a time: batch files and logs (docs/README.md).

What a file is comes from its structure (its first non-empty lines, or the
start of the document), never from its name:

- `openai_batch`: an OpenAI Batch input file, JSON lines of
  `{"custom_id", "method": "POST", "url": "/v1/chat/completions" | "/v1/responses", "body"}`
  (OpenAI API reference, "The request input object"); each body is priced as a request.
- `anthropic_batch`: an Anthropic Message Batches body, `{"requests": [{"custom_id", "params"}, ...]}`
  (Anthropic API reference, "Create a Message Batch"), read element by element
  without loading the document; also JSON lines of `{"custom_id", "params"}`.
- `log`: JSON lines of request payloads (an agent's turns), each a payload or
  `{"request": PAYLOAD, ...}` (a logged call with its answer).
- `payload`: one request, as `count_request` reads it (pretty-printed or not).

Files are read a line (or an element) at a time, so a 200 MB batch never sits
in memory whole; one model table serves every line. A line that cannot be
read or priced becomes that line's error row (FILE:LINE and the reason) and the
run goes on. Batch files are priced at the batch tier and logs at the standard
tier (`tier=` to choose another).
The batch limits (requests and bytes per file, `tables/limits.toml`, scope
`batch`), unique `custom_id`s, and OpenAI's one model and one endpoint per file
are checked over the whole file.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import replace
from itertools import chain
from typing import Any, BinaryIO, Self

from ..catalog.limits import Finding, Limit, load_limits
from ..catalog.settings import dated
from ..catalog.tables import Tables, check_tier
from ..errors import CostcalcError, RequestError, TableError, TierError, UnknownModelError
from ..files import MAX_SOURCE_BYTES, LineTooLongError, bounded_lines, bounded_read
from ..pricing.findings import cite_limit
from ..pricing.payload import check_file_sizes
from ..pricing.request import count_request
from ..vendors import root_keys
from ..words import os_reason, show_value
from .batchread import DECODER, Broken, JsonDocument
from .batchrows import (
    BatchEstimate,
    BatchRow,
    BatchSums,
    BatchTotals,
    batch_budget_overruns,
    batch_budget_problems,
    row_fields,
    row_image_tokens,
    row_image_usd,
)

__all__ = [
    "KINDS",
    "PRICED_ENDPOINTS",
    "BatchEstimate",
    "BatchRow",
    "BatchRun",
    "BatchSums",
    "BatchTotals",
    "count_batch",
    "batch_budget_overruns",
    "batch_budget_problems",
    "row_fields",
    "row_image_tokens",
    "row_image_usd",
]

KINDS = {
    "openai_batch": "OpenAI Batch input file",
    "anthropic_batch": "Anthropic Message Batches requests",
    "log": "JSON-lines log of requests",
    "payload": "one request payload",
}
"""The kinds of file `costcalc request` reads, as their names are shown."""

BATCH_KINDS = ("openai_batch", "anthropic_batch")
"""Kinds billed at the batch tier (OpenAI Batch guide; Anthropic Batch processing guide: 50% of standard)."""

PRICED_ENDPOINTS = ("/v1/chat/completions", "/v1/responses")
"""The OpenAI Batch `url`s whose bodies carry images (OpenAI API reference, The request input object)."""

_LIMITS_OF = {"openai_batch": "openai", "anthropic_batch": "anthropic"}
"""Whose batch limits a kind is checked against (tables/limits.toml, scope `batch`)."""

_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}\Z")
"""Anthropic's custom_id: 1-64 letters, digits, '_' or '-' (API reference, Create a Message Batch)."""

_DOCUMENT_START = re.compile(rb'\s*\{\s*"requests"\s*:')
_BOM = codecs.BOM_UTF8
_PEEK = 4096
"""Bytes looked at (not read) to tell a Message Batches document before reading any line."""
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SHOWN = 3
"""How many offenders a whole-file finding names."""


# ------------------------------------------------------------------ the run


class BatchRun:
    """A file being priced: `kind` and `tier` at once, then one BatchRow per request as it is iterated.

    `totals` grows as rows are read; `findings()` gives the whole-file findings
    once the rows are all read. A `payload` (a single request) is read whole by
    `payload()` for `count_request`, or iterated as one row. Close it (or use
    `with`) when not iterated to the end.
    """

    def __init__(
        self,
        source: str | os.PathLike | bytes | BinaryIO,
        *,
        name: str | None = None,
        model: str | None = None,
        tier: str | None = None,
        tables: Tables | None = None,
        edition: str | None = None,
        file_sizes: dict[str, tuple[int, int]] | None = None,
        base_dir: str | os.PathLike | None = None,
        as_of: _dt.date | None = None,
        **options,
    ):
        if base_dir is None and isinstance(source, (str, os.PathLike)):
            base_dir = os.path.dirname(os.path.abspath(source))
        self._options = dict(
            options,
            model=model,
            tables=dated(tables, as_of),
            edition=edition,
            file_sizes=check_file_sizes(file_sizes),
            base_dir=base_dir,
        )
        if tier is not None:
            check_tier(tier)
        self._stream, self.name, self._owned = _open(source, name)
        self._head: list[bytes] = []
        try:
            self.kind, self._document = self._sniff()
        except BaseException:
            self.close()
            raise
        wanted = tier or ("batch" if self.kind in BATCH_KINDS else "standard")
        self.tier, self.tier_note = wanted, None
        self._options["tier"] = wanted
        if tier is not None and self.kind != "payload":
            try:
                self._check_tier(model, tier)
            except BaseException:
                self.close()
                raise
        self._limits = _batch_limits(self.kind, edition)
        self.totals = BatchTotals()
        self._ids: dict[str, int] = {}
        self._repeated: list[tuple[str, int, int]] = []
        self._bad_ids: list[tuple[str, int]] = []
        self._models: dict[str, int] = {}
        self._endpoints: dict[str, int] = {}

    def _check_tier(self, model: str | None, tier: str) -> None:
        """TierError, before any row, when the tier asked for is one the file's model lacks (docs/prices.md).

        As for a single request (exit 2 there): `model` when given, else the
        model each request read so far names (a batch file's first lines: an
        OpenAI Batch file holds one model). A model the tables do not know is
        left to its row's own error.
        """
        names = [model] if model is not None else []
        if model is None and not self._document:
            for number, raw in enumerate(self._head, start=1):
                value = _json(raw.removeprefix(_BOM)) if raw.strip() else None
                request = _unwrap(self.kind, value)[0] if isinstance(value, dict) else None
                named = request.get("model") if isinstance(request, dict) else None
                if isinstance(named, str):
                    names.append((named, number))
        tables = self._options["tables"]
        for entry in dict.fromkeys(names):
            name, line = entry if isinstance(entry, tuple) else (entry, None)
            try:
                tables.check_tier(name, tier)
            except UnknownModelError:
                continue
            except TierError as error:
                where = f"{self.name}:{line}: " if line is not None else f"{self.name}: "
                error.args = (f"{where}{error}",)
                raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def size(self) -> int | None:
        """The size of the file read, in bytes, when it is a regular file (for a progress line); None for a pipe."""
        try:
            status = os.fstat(self._stream.fileno())
        except (AttributeError, OSError, ValueError):
            return None
        return status.st_size if stat.S_ISREG(status.st_mode) and status.st_size else None

    def close(self) -> None:
        """Close the file if this run opened it."""
        if self._owned:
            self._stream.close()

    # ---------------------------------------------------------- reading

    def _lines(self) -> Iterator[bytes]:
        """The lines sniffed, then the rest of the file, each counted into totals.bytes."""
        for raw in chain(self._head, self._read(self._stream)):
            self.totals.bytes += len(raw)
            yield raw

    def _read(self, stream) -> Iterator[bytes]:
        try:
            for raw in bounded_lines(stream):  # noqa: UP028 (`yield from` would close the file with this generator)
                yield raw
        except OSError as error:
            raise RequestError(f"{self.name}: {os_reason(error)}") from None
        except LineTooLongError as error:  # /dev/zero, an endless stdin: an error after the cap, not an OOM
            raise RequestError(f"{self.name}: a line {error}") from None

    def _nonblank(self) -> bytes | None:
        """The next non-blank line, kept for the rows (None at the end)."""
        for raw in self._read(self._stream):
            self._head.append(raw)
            if raw.strip():
                return raw
        return None

    def _sniff(self) -> tuple[str, bool]:
        """(kind, is a Message Batches document) from the first two non-empty lines.

        A Message Batches document is told from the first bytes alone when the stream can peek, reading no line:
        a minified 200 MB document is one line, which is then read a piece at a time (JsonDocument), never whole.
        """
        peek = getattr(self._stream, "peek", None)
        if peek is not None:
            try:
                start = peek(_PEEK)[:_PEEK]
            except (OSError, ValueError):
                start = b""
            if _DOCUMENT_START.match(start.removeprefix(_BOM)):
                return "anthropic_batch", True
        first = self._nonblank()
        if first is None or first.startswith(_UTF16):
            return "payload", False  # empty, or UTF-16: count_request reads (or refuses) it whole
        first = first.removeprefix(_BOM)
        if _DOCUMENT_START.match(first):
            return "anthropic_batch", True
        values = [_json(first)]
        second = self._nonblank()
        if second is not None:
            if not isinstance(values[0], dict) and _DOCUMENT_START.match(b"".join(self._head).removeprefix(_BOM)):
                return "anthropic_batch", True  # a pretty-printed document
            values.append(_json(second))
        objects = [value for value in values if isinstance(value, dict)]
        for value in objects:  # the first line may be a bad one: the second tells then
            shape = _shape(value)
            if shape is not None:
                return shape
        if second is None or not objects:
            return "payload", False  # one request, on one line or pretty-printed
        return "log", False

    def payload(self) -> bytes:
        """The whole file (kind `payload`): what `count_request` reads."""
        try:
            data = b"".join(self._head) + bounded_read(self._stream, MAX_SOURCE_BYTES - sum(map(len, self._head)))
        except OSError as error:
            raise RequestError(f"{self.name}: {os_reason(error)}") from None
        except LineTooLongError as error:
            raise RequestError(f"{self.name}: {error}") from None
        self.totals.bytes = len(data)
        return data

    def _items(self) -> Iterator[tuple[int, str | None, Any]]:
        """(line, element, value) of each request; value a parsed object, raw bytes (payload) or a Broken."""
        if self.kind == "payload":
            yield 1, None, self.payload()
        elif self._document:
            chunks = chain(self._head, self._read(iter(lambda: self._stream.read(JsonDocument.CHUNK), b"")))
            document = JsonDocument(chunks, self.totals)
            try:
                for line, index, value in document.requests():
                    yield line, f"requests[{index}]", value
            except Broken as broken:
                yield broken.line, None, broken
        else:
            for number, raw in enumerate(self._lines(), start=1):
                if number == 1:
                    raw = raw.removeprefix(_BOM)
                if raw.strip():
                    try:
                        yield number, None, DECODER.decode(raw.decode("utf-8"))
                    except UnicodeDecodeError as error:
                        yield number, None, Broken(number, f"not UTF-8 text (byte {error.object[error.start]:#04x})")
                    except RequestError as error:  # NaN, Infinity
                        yield number, None, Broken(number, str(error))
                    except json.JSONDecodeError as error:
                        yield number, None, Broken(number, f"not JSON: {error.msg} (column {error.colno})")
                    except RecursionError:
                        yield number, None, Broken(number, "JSON nested too deeply to read")

    # ---------------------------------------------------------- pricing

    def __iter__(self) -> Iterator[BatchRow]:
        try:
            for line, where, value in self._items():
                row = self._row(line, where, value)
                self.totals.add(row)
                yield row
        finally:
            self.close()

    def _row(self, line: int, where: str | None, value: Any) -> BatchRow:
        if isinstance(value, Broken):
            row = BatchRow(line, None, None, where=where, tier=self.tier)
            return replace(row, error=f"{row.place(self.name)}: {value.reason}")
        request, custom_id, endpoint, problem = _unwrap(self.kind, value)
        self._note(line, custom_id, endpoint, request)
        if problem is None:
            try:
                estimate = count_request(request, **self._options)
                return BatchRow(line, custom_id, estimate, endpoint=endpoint, where=where, tier=self.tier)
            except CostcalcError as error:
                problem = str(error)
        row = BatchRow(line, custom_id, None, endpoint=endpoint, where=where, tier=self.tier)
        return replace(row, error=f"{row.place(self.name)}: {problem}")

    def _note(self, line: int, custom_id, endpoint, request) -> None:
        """Record what the whole-file checks need: custom_ids, models and endpoints."""
        if self.kind not in BATCH_KINDS:
            return
        if isinstance(custom_id, str):
            if custom_id in self._ids:
                self._repeated.append((custom_id, self._ids[custom_id], line))
            else:
                self._ids[custom_id] = line
            if self.kind == "anthropic_batch" and not _CUSTOM_ID.match(custom_id):
                self._bad_ids.append((custom_id, line))
        if self.kind == "openai_batch":
            model = request.get("model") if isinstance(request, dict) else None
            if isinstance(model, str):
                self._models.setdefault(model, line)
            if isinstance(endpoint, str):
                self._endpoints.setdefault(endpoint, line)

    def findings(self) -> tuple[Finding, ...]:
        """The whole-file rules the file breaks: batch limits, repeated or malformed custom_ids, mixed models."""
        found = []
        count, size = self._limits.get("max_batch_requests"), self._limits.get("max_batch_bytes")
        if count is not None and self.totals.requests > count.value:
            found.append(
                Finding(
                    count.rule,
                    f"{self.totals.requests:,} requests, over the {count.value:,} allowed "
                    f"per batch [{cite_limit(count)}]",
                )
            )
        if size is not None and self.totals.bytes > size.value:
            found.append(
                Finding(
                    size.rule,
                    f"{self.totals.bytes:,} bytes, over the {size.value:,} allowed per batch file [{cite_limit(size)}]",
                )
            )
        if self._repeated:
            named = ", ".join(f"{show_value(cid)} (lines {a} and {b})" for cid, a, b in self._repeated[:_SHOWN])
            found.append(
                Finding(
                    "custom_id",
                    f"custom_id repeated: {named}{_more(self._repeated)}; each must be "
                    f"unique in a batch [{_ID_SOURCE[self.kind]}]",
                )
            )
        if self._bad_ids:
            named = ", ".join(f"{show_value(cid)} (line {line})" for cid, line in self._bad_ids[:_SHOWN])
            found.append(
                Finding(
                    "custom_id",
                    f"custom_id {named}{_more(self._bad_ids)}: must be 1-64 letters, "
                    f"digits, '_' or '-' [Anthropic API reference, Create a Message "
                    f"Batch]",
                )
            )
        for rule, seen, what in (("one_model", self._models, "models"), ("one_endpoint", self._endpoints, "urls")):
            if len(seen) > 1:
                named = ", ".join(f"{show_value(name)} (line {line})" for name, line in list(seen.items())[:_SHOWN])
                found.append(
                    Finding(rule, f"{len(seen)} {what} in one file: {named}{_more(seen)}; {_ONE_SOURCE[rule]}")
                )
        return tuple(found)

    def result(self, rows: tuple[BatchRow, ...] = ()) -> BatchEstimate:
        """The BatchEstimate of a run read to the end, holding `rows`."""
        return BatchEstimate(self.name, self.kind, self.tier, self.tier_note, tuple(rows), self.totals, self.findings())


_ID_SOURCE = {
    "openai_batch": "OpenAI API reference, The request input object",
    "anthropic_batch": "Anthropic API reference, Create a Message Batch",
}
_ONE_SOURCE = {
    "one_model": "each input file may hold requests to a single model [OpenAI Batch guide]",
    "one_endpoint": "a batch runs against one endpoint [OpenAI API reference, Create batch: endpoint]",
}


def _more(items) -> str:
    return f" and {len(items) - _SHOWN:,} more" if len(items) > _SHOWN else ""


def count_batch(source: str | os.PathLike | bytes | BinaryIO, **options) -> BatchEstimate:
    """Price every request of a batch file or log (a path, bytes or binary file): rows, totals and findings.

    Takes `count_request`'s options (model, tables, edition, fetch, file_sizes,
    base_dir, strict, as_of, ...) plus `tier` (default: batch for batch files, standard
    for logs) and `name` (for messages). Raises only CostcalcError, for a file
    that cannot be opened or read, or a `tier` asked for that its model (`model`,
    or the one its first requests name) lacks (TierError, as for one request);
    each bad request is its own error row.
    """
    with BatchRun(source, **options) as run:
        rows = tuple(run)
        return run.result(rows)


# ------------------------------------------------------------------ helpers


def _open(source, name: str | None) -> tuple[BinaryIO, str, bool]:
    """(binary stream, name for messages, whether we opened it)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), name or "<bytes>", True
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        shown = name or (path if isinstance(path, str) else os.fsdecode(path))
        try:
            if os.path.isdir(path):
                raise IsADirectoryError(path)
            return open(path, "rb"), shown, True
        except OSError as error:
            reason = "is a folder, not a file" if isinstance(error, IsADirectoryError) else os_reason(error)
            raise RequestError(f"{shown}: {reason}") from None
    buffer = getattr(source, "buffer", source)  # a text stream: its bytes
    if not hasattr(buffer, "read"):
        raise RequestError(f"a batch file is a path, bytes or a binary file, not {type(source).__name__}")
    return buffer, name or str(getattr(source, "name", "-")), False


def _json(raw: bytes) -> Any:
    """A line as JSON, or None when it is not."""
    try:
        return DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def _shape(value: dict) -> tuple[str, bool] | None:
    """(kind, is a document) a first object shows, or None for a bare payload."""
    if "custom_id" in value and any(key in value for key in ("body", "url", "method")):
        return "openai_batch", False
    if "custom_id" in value and "params" in value:
        return "anthropic_batch", False
    payload = any(key in value for key in root_keys())
    if isinstance(value.get("requests"), list) and not payload:
        return "anthropic_batch", True
    if isinstance(value.get("request"), dict) and not payload:
        return "log", False
    return None


def _unwrap(kind: str, value: Any) -> tuple[Any, str | None, str | None, str | None]:
    """(request payload, custom_id, endpoint, problem) of one line or element; `problem` None when it is fine."""
    if kind == "payload":
        return value, None, None, None
    if not isinstance(value, dict):
        return None, None, None, f"a request must be a JSON object, not {show_value(value)}"
    if kind == "log":
        inner = value.get("request")
        if isinstance(inner, dict) and not any(key in value for key in root_keys()):
            return inner, None, None, None
        return value, None, None, None
    custom_id = value.get("custom_id")
    if kind == "openai_batch":
        missing = [key for key in ("custom_id", "method", "url", "body") if key not in value]
        body, method, url = value.get("body"), value.get("method"), value.get("url")
        endpoint = url if isinstance(url, str) else None
        if missing:
            problem = f"not an OpenAI Batch request line: no {', '.join(missing)}"
        elif method != "POST":
            problem = f"method {show_value(method)}: the Batch API takes POST only"
        elif url not in PRICED_ENDPOINTS:
            problem = f"url {show_value(url)}: costcalc prices {' and '.join(PRICED_ENDPOINTS)} requests"
        elif not isinstance(body, dict):
            problem = f"body must be a request object, not {show_value(body)}"
        else:
            problem = _id_problem(custom_id)
        return body, custom_id if isinstance(custom_id, str) else None, endpoint, problem
    params = value.get("params")
    if "params" not in value or "custom_id" not in value:
        problem = "not a Message Batches request: needs custom_id and params"
    elif not isinstance(params, dict):
        problem = f"params must be a Messages request object, not {show_value(params)}"
    else:
        problem = _id_problem(custom_id)
    return params, custom_id if isinstance(custom_id, str) else None, None, problem


def _id_problem(custom_id: Any) -> str | None:
    if isinstance(custom_id, str) and custom_id:
        return None
    return f"custom_id must be a non-empty string, not {show_value(custom_id)}"


def _batch_limits(kind: str, edition: str | None) -> dict[str, Limit]:
    """The batch-scope rules of the kind's vendor (tables/limits.toml): `edition` if it has one, else the newest."""
    vendor = _LIMITS_OF.get(kind)
    if vendor is None:
        return {}
    try:
        rules = load_limits(edition, vendor=vendor)
    except TableError:
        rules = load_limits(None, vendor=vendor)
    return {name: rule for name, rule in rules.rules.items() if rule.scope == "batch"}
