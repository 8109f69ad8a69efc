"""Pricing a file of many requests, a request at a time: batch files and logs (SPEC §9).

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
tier, when `count_request` knows tiers (`tier=`, SPEC §7); without them every
line is priced at standard rates and `tier_note` says "batch tier not applied".
The batch limits (requests and bytes per file, `tables/limits.toml`, scope
`batch`), unique `custom_id`s, and OpenAI's one model and one endpoint per file
are checked over the whole file.
"""

from __future__ import annotations

import codecs
import inspect as _inspect
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from itertools import chain
from typing import Any, BinaryIO, Self

from ..catalog.limits import Finding, Limit, load_limits
from ..catalog.tables import Tables, check_tier, default_tables
from ..errors import CostcalcError, RequestError, TableError, TierError, UnknownModelError
from ..files import MAX_SOURCE_BYTES, LineTooLongError, bounded_lines, bounded_read
from ..money import MONEY, Overrun, over_budget
from ..pricing.request import (
    RequestEstimate,
    _cite,
    _file_sizes,
    _no_constant,
    _parse_int,
    _show,
    count_request,
)
from ..words import os_reason

__all__ = [
    "KINDS",
    "PRICED_ENDPOINTS",
    "BatchEstimate",
    "BatchRow",
    "BatchRun",
    "BatchSums",
    "BatchTotals",
    "count_batch",
]  # fmt: skip

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
_PAYLOAD_KEYS = ("messages", "input", "contents")
_BOM = codecs.BOM_UTF8
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_int=_parse_int)
_SPACE = re.compile(r"[ \t\n\r]*")
_SHOWN = 3
"""How many offenders a whole-file finding names."""


_EXTRA = ("text_tokens", "input_tokens", "input_usd")
"""Whole-request figures (text tokens, the whole input and its USD) shown when `count_request` gives them."""


def _extra_fields() -> tuple[str, ...]:
    """The whole-request fields this build's `count_request` gives (issue 11)."""
    return tuple(name for name in _EXTRA if name in RequestEstimate.__dataclass_fields__)


def tiers_supported() -> bool:
    """Whether `count_request` prices tiers (takes `tier=`, SPEC §7)."""
    return "tier" in _inspect.signature(count_request).parameters


# ------------------------------------------------------------------ rows and totals


@dataclass(frozen=True)
class BatchRow:
    """One request of a file: its line, custom_id and estimate, or why it could not be read or priced."""

    line: int
    """The line the request starts on (1-based)."""
    custom_id: str | None
    estimate: RequestEstimate | None
    """None when the request could not be read or priced (`error` says why)."""
    error: str | None = None
    """FILE:LINE and the reason; None when priced."""
    endpoint: str | None = None
    """The OpenAI Batch line's `url`."""
    where: str | None = None
    """The element in a Message Batches document, e.g. requests[3]."""
    tier: str = "standard"

    def place(self, name: str) -> str:
        """Where the request is, for messages: `FILE:LINE`, then the element and the custom_id when known."""
        return (f"{name}:{self.line}" + (f": {self.where}" if self.where else "")
                + (f" ({self.custom_id})" if self.custom_id is not None else ""))  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the same keys for every row (usd a number or null)."""
        estimate = self.estimate
        row: dict[str, Any] = {"line": self.line, "custom_id": self.custom_id,
                               "model": estimate.model if estimate else None, "endpoint": self.endpoint,
                               "images": len(estimate.images) if estimate else None,
                               "unpriced": estimate.unpriced if estimate else None,
                               "image_tokens": row_image_tokens(estimate)}  # fmt: skip
        row["usd"] = _number(row_image_usd(estimate))
        for name in _extra_fields():
            row[name] = _number(getattr(estimate, name)) if estimate else None
        row["tier"] = self.tier
        row["findings"] = [finding.message for finding in estimate.findings] if estimate else []
        row["image_errors"] = [image.error for image in estimate.images if image.error] if estimate else []
        row["error"] = self.error
        return row


def row_image_tokens(estimate: RequestEstimate | None) -> int | None:
    """A request's image tokens; None (unknown) when it is unread or any image is unpriced (fail closed, SPEC §7)."""
    return None if estimate is None or estimate.unpriced else estimate.image_tokens


def row_image_usd(estimate: RequestEstimate | None) -> Decimal | None:
    """A request's image USD; None (unknown) when it is unread or any image is unpriced, never a partial $0.00."""
    return None if estimate is None or estimate.unpriced else estimate.usd


def row_fields() -> tuple[str, ...]:
    """The keys of `BatchRow.as_dict()`, in order (the CSV header)."""
    return ("line", "custom_id", "model", "endpoint", "images", "unpriced", "image_tokens", "usd", *_extra_fields(),
            "tier", "findings", "image_errors", "error")  # fmt: skip


def _number(value: Any) -> Any:
    """USD as a JSON number; counts as they are."""
    return float(value) if isinstance(value, Decimal) else value


@dataclass
class BatchSums:
    """Priced requests added up; a token or USD sum becomes None (unknown) once any part of it is."""

    requests: int = 0
    images: int = 0
    unpriced: int = 0
    image_tokens: int | None = 0
    text_tokens: int | None = 0
    input_tokens: int | None = 0
    usd: Decimal | None = Decimal(0)
    """USD of the priced images (RequestEstimate.usd)."""
    input_usd: Decimal | None = Decimal(0)
    bases: set[str] = field(default_factory=set)
    """How sure the priced images' tokens are (exact, maximum, approximate), for `total_basis`."""

    def add(self, estimate: RequestEstimate) -> None:
        """Count one priced request."""
        self.requests += 1
        self.images += len(estimate.images)
        self.unpriced += estimate.unpriced
        self.bases.update(image.basis for image in estimate.images if image.basis and image.tokens is not None)
        self.image_tokens = _plus(self.image_tokens, row_image_tokens(estimate))
        self.usd = _plus(self.usd, row_image_usd(estimate))
        for name in _extra_fields():
            setattr(self, name, _plus(getattr(self, name), getattr(estimate, name)))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the whole-request figures only when count_request gives them)."""
        sums = {"requests": self.requests, "images": self.images, "unpriced": self.unpriced,
                "image_tokens": self.image_tokens, "usd": _number(self.usd)}  # fmt: skip
        sums.update({name: _number(getattr(self, name)) for name in _extra_fields()})
        return sums


def _plus(total, part):
    """An exact sum of counts or USD (in MONEY); None once either is unknown."""
    if total is None or part is None:
        return None
    if isinstance(part, int):
        return total + part
    with localcontext(MONEY):
        return total + part


@dataclass
class BatchTotals:
    """The whole file so far: requests read, lines in error, bytes, priced sums overall and per model."""

    requests: int = 0
    """Requests in the file (non-empty lines, or elements), whether priced or not."""
    errors: int = 0
    """Requests that could not be read or priced."""
    bytes: int = 0
    """Bytes of the file read so far."""
    priced: BatchSums = field(default_factory=BatchSums)
    models: dict[str, BatchSums] = field(default_factory=dict)
    findings: int = 0
    """Requests breaking a request limit (image count, payload size)."""

    def add(self, row: BatchRow) -> None:
        """Count one row."""
        self.requests += 1
        if row.estimate is None:
            self.errors += 1
            return
        self.priced.add(row.estimate)
        self.models.setdefault(row.estimate.model, BatchSums()).add(row.estimate)
        self.findings += bool(row.estimate.findings)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the counts, the priced sums, and the sums per model."""
        priced = self.priced.as_dict()
        priced["priced_requests"] = priced.pop("requests")
        return {"requests": self.requests, "errors": self.errors, "bytes": self.bytes, **priced,
                "requests_over_limits": self.findings,
                "models": {name: sums.as_dict() for name, sums in self.models.items()}}  # fmt: skip


def budget_overruns(totals: BatchTotals, max_tokens: int | None, max_usd: Decimal | None) -> list[Overrun]:
    """How the whole file breaks the budget; fails closed (an unread line, unpriced image or unknown figure)."""
    if max_tokens is None and max_usd is None:
        return []
    label = f"{totals.requests:,} requests"
    tokens = totals.priced.image_tokens
    overruns = over_budget(label, tokens or 0, totals.priced.usd, max_tokens=max_tokens, max_usd=max_usd)
    if tokens is None and max_tokens is not None:
        overruns.insert(0, Overrun(label, "max_tokens", max_tokens, None, "image tokens unknown"))
    if totals.errors or totals.priced.unpriced:
        overruns.append(Overrun("", "budget", None, None, f"{totals.errors:,} request(s) could not be read and "
                                f"{totals.priced.unpriced:,} image(s) could not be priced"))  # fmt: skip
    return overruns


def budget_problems(totals: BatchTotals, max_tokens: int | None, max_usd: Decimal | None) -> list[str]:
    """`budget_overruns` worded with the parameter names."""
    return [str(overrun) for overrun in budget_overruns(totals, max_tokens, max_usd)]


@dataclass(frozen=True)
class BatchEstimate:
    """A whole file priced: its kind, tier, one row per request, totals, and the whole-file findings."""

    name: str
    kind: str
    tier: str
    tier_note: str | None
    """Why the tier asked for was not applied (`batch tier not applied: ...`); None when it was."""
    rows: tuple[BatchRow, ...]
    totals: BatchTotals
    findings: tuple[Finding, ...]

    def budget_problems(self, max_tokens: int | None = None, max_usd: Decimal | None = None) -> list[str]:
        """Why the file's totals break the budget (failing closed); empty when they fit."""
        return budget_problems(self.totals, max_tokens, max_usd)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: file, kind, tier, rows, totals and findings."""
        return {"file": self.name, "kind": self.kind, "tier": self.tier, "tier_note": self.tier_note,
                "rows": [row.as_dict() for row in self.rows], "totals": self.totals.as_dict(),
                "findings": [{"rule": f.rule, "message": f.message} for f in self.findings]}  # fmt: skip


# ------------------------------------------------------------------ the run


class _Broken(Exception):
    """A Message Batches document that cannot be read on from here: the line and the reason."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


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
        limits: str | None = None,
        file_sizes: dict[str, tuple[int, int]] | None = None,
        base_dir: str | os.PathLike | None = None,
        **options,
    ):
        if base_dir is None and isinstance(source, (str, os.PathLike)):
            base_dir = os.path.dirname(os.path.abspath(source))
        self._options = dict(options, model=model, tables=tables or default_tables(), limits=limits,
                             file_sizes=_file_sizes(file_sizes), base_dir=base_dir)  # fmt: skip
        if tier is not None and tiers_supported():
            check_tier(tier)
        self._stream, self.name, self._owned = _open(source, name)
        self._head: list[bytes] = []
        try:
            self.kind, self._document = self._sniff()
        except BaseException:
            self.close()
            raise
        wanted = tier or ("batch" if self.kind in BATCH_KINDS else "standard")
        if tiers_supported():
            self.tier, self.tier_note = wanted, None
            self._options["tier"] = wanted
        else:
            self.tier = "standard"
            self.tier_note = None if wanted == "standard" else (
                f"{wanted} tier not applied: this costcalc prices the standard tier only")  # fmt: skip
        if tier is not None and self.kind != "payload":
            try:
                self._check_tier(model, tier)
            except BaseException:
                self.close()
                raise
        self._limits = _batch_limits(self.kind, limits)
        self.totals = BatchTotals()
        self._ids: dict[str, int] = {}
        self._repeated: list[tuple[str, int, int]] = []
        self._bad_ids: list[tuple[str, int]] = []
        self._models: dict[str, int] = {}
        self._endpoints: dict[str, int] = {}

    def _check_tier(self, model: str | None, tier: str) -> None:
        """TierError, before any row, when the tier asked for is one the file's model lacks (SPEC §7).

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
        """(kind, is a Message Batches document) from the first two non-empty lines."""
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
        """(line, element, value) of each request; value a parsed object, raw bytes (payload) or a _Broken."""
        if self.kind == "payload":
            yield 1, None, self.payload()
        elif self._document:
            chunks = chain(self._head, self._read(iter(lambda: self._stream.read(_Document.CHUNK), b"")))
            document = _Document(chunks, self.totals)
            try:
                for line, index, value in document.requests():
                    yield line, f"requests[{index}]", value
            except _Broken as broken:
                yield broken.line, None, broken
        else:
            for number, raw in enumerate(self._lines(), start=1):
                if number == 1:
                    raw = raw.removeprefix(_BOM)
                if raw.strip():
                    try:
                        yield number, None, _DECODER.decode(raw.decode("utf-8"))
                    except UnicodeDecodeError as error:
                        yield number, None, _Broken(number, f"not UTF-8 text (byte {error.object[error.start]:#04x})")
                    except RequestError as error:  # NaN, Infinity
                        yield number, None, _Broken(number, str(error))
                    except json.JSONDecodeError as error:
                        yield number, None, _Broken(number, f"not JSON: {error.msg} (column {error.colno})")
                    except RecursionError:
                        yield number, None, _Broken(number, "JSON nested too deeply to read")

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
        if isinstance(value, _Broken):
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
            found.append(Finding(count.rule, f"{self.totals.requests:,} requests, over the {count.value:,} allowed "
                                             f"per batch [{_cite(count)}]"))  # fmt: skip
        if size is not None and self.totals.bytes > size.value:
            found.append(Finding(size.rule, f"{self.totals.bytes:,} bytes, over the {size.value:,} allowed per "
                                            f"batch file [{_cite(size)}]"))  # fmt: skip
        if self._repeated:
            named = ", ".join(f"{_show(cid)} (lines {a} and {b})" for cid, a, b in self._repeated[:_SHOWN])
            found.append(Finding("custom_id", f"custom_id repeated: {named}{_more(self._repeated)}; each must be "
                                              f"unique in a batch [{_ID_SOURCE[self.kind]}]"))  # fmt: skip
        if self._bad_ids:
            named = ", ".join(f"{_show(cid)} (line {line})" for cid, line in self._bad_ids[:_SHOWN])
            found.append(Finding("custom_id", f"custom_id {named}{_more(self._bad_ids)}: must be 1-64 letters, "
                                              f"digits, '_' or '-' [Anthropic API reference, Create a Message "
                                              f"Batch]"))  # fmt: skip
        for rule, seen, what in (("one_model", self._models, "models"), ("one_endpoint", self._endpoints, "urls")):
            if len(seen) > 1:
                named = ", ".join(f"{_show(name)} (line {line})" for name, line in list(seen.items())[:_SHOWN])
                found.append(Finding(rule, f"{len(seen)} {what} in one file: {named}{_more(seen)}; "
                                           f"{_ONE_SOURCE[rule]}"))  # fmt: skip
        return tuple(found)

    def result(self, rows: tuple[BatchRow, ...] = ()) -> BatchEstimate:
        """The BatchEstimate of a run read to the end, holding `rows`."""
        return BatchEstimate(self.name, self.kind, self.tier, self.tier_note, tuple(rows), self.totals,
                             self.findings())  # fmt: skip


_ID_SOURCE = {"openai_batch": "OpenAI API reference, The request input object",
              "anthropic_batch": "Anthropic API reference, Create a Message Batch"}  # fmt: skip
_ONE_SOURCE = {
    "one_model": "each input file may hold requests to a single model [OpenAI Batch guide]",
    "one_endpoint": "a batch runs against one endpoint [OpenAI API reference, Create batch: endpoint]",
}


def _more(items) -> str:
    return f" and {len(items) - _SHOWN:,} more" if len(items) > _SHOWN else ""


def count_batch(source: str | os.PathLike | bytes | BinaryIO, **options) -> BatchEstimate:
    """Price every request of a batch file or log (a path, bytes or binary file): rows, totals and findings.

    Takes `count_request`'s options (model, tables, limits, fetch, file_sizes,
    base_dir, strict, ...) plus `tier` (default: batch for batch files, standard
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
        return _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


def _shape(value: dict) -> tuple[str, bool] | None:
    """(kind, is a document) a first object shows, or None for a bare payload."""
    if "custom_id" in value and any(key in value for key in ("body", "url", "method")):
        return "openai_batch", False
    if "custom_id" in value and "params" in value:
        return "anthropic_batch", False
    payload = any(key in value for key in _PAYLOAD_KEYS)
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
        return None, None, None, f"a request must be a JSON object, not {_show(value)}"
    if kind == "log":
        inner = value.get("request")
        if isinstance(inner, dict) and not any(key in value for key in _PAYLOAD_KEYS):
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
            problem = f"method {_show(method)}: the Batch API takes POST only"
        elif url not in PRICED_ENDPOINTS:
            problem = f"url {_show(url)}: costcalc prices {' and '.join(PRICED_ENDPOINTS)} requests"
        elif not isinstance(body, dict):
            problem = f"body must be a request object, not {_show(body)}"
        else:
            problem = _id_problem(custom_id)
        return body, custom_id if isinstance(custom_id, str) else None, endpoint, problem
    params = value.get("params")
    if "params" not in value or "custom_id" not in value:
        problem = "not a Message Batches request: needs custom_id and params"
    elif not isinstance(params, dict):
        problem = f"params must be a Messages request object, not {_show(params)}"
    else:
        problem = _id_problem(custom_id)
    return params, custom_id if isinstance(custom_id, str) else None, None, problem


def _id_problem(custom_id: Any) -> str | None:
    if isinstance(custom_id, str) and custom_id:
        return None
    return f"custom_id must be a non-empty string, not {_show(custom_id)}"


def _batch_limits(kind: str, edition: str | None) -> dict[str, Limit]:
    """The batch-scope rules of the kind's vendor (tables/limits.toml): `edition` if it has one, else the newest."""
    provider = _LIMITS_OF.get(kind)
    if provider is None:
        return {}
    try:
        rules = load_limits(edition, provider=provider)
    except TableError:
        rules = load_limits(None, provider=provider)
    return {name: rule for name, rule in rules.rules.items() if rule.scope == "batch"}


class _Document:
    """The elements of `{"requests": [...]}` read a piece at a time (never the whole document), with line numbers.

    Each element is decoded once it is whole: the buffer holds what is not yet
    read, growing at least twofold while an element is cut off, so a large
    element costs linear time and the memory of that element only.
    """

    CHUNK = 1 << 20

    def __init__(self, chunks: Iterator[bytes], totals: BatchTotals):
        self._chunks, self._totals = chunks, totals
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text, self.pos, self.eof = "", 0, False
        self._line, self._line_pos = 1, 0  # the line number at text[_line_pos]

    def _line_at(self, index: int) -> int:
        """The line number of text[index], counted forward only."""
        if index > self._line_pos:
            self._line += self.text.count("\n", self._line_pos, index)
            self._line_pos = index
        return self._line

    def _more(self, wanted: int = 1) -> bool:
        """Read on, at least `wanted` characters when the file has them; False at the end."""
        if self.eof:
            return False
        if self.pos > self.CHUNK:  # drop what has been read
            self._line_at(self.pos)
            self.text, self._line_pos, self.pos = self.text[self.pos :], self._line_pos - self.pos, 0
        parts, size = [self.text], len(self.text)
        target = size + max(wanted, 1)
        try:
            while size < target:
                chunk = next(self._chunks, None)
                if chunk is None:
                    parts.append(self._decoder.decode(b"", final=True))
                    self.eof = True
                    break
                self._totals.bytes += len(chunk)
                parts.append(self._decoder.decode(chunk))
                size += len(parts[-1])
        except UnicodeDecodeError as error:
            raise _Broken(self._line_at(len(self.text)), f"not UTF-8 text ({error.reason})") from None
        self.text = "".join(parts)
        return True

    def _next(self) -> str:
        """The next character that is not white space ('' at the end); pos is on it."""
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                return ""

    def _value(self) -> Any:
        """The JSON value at the next non-space character, reading on while it is cut off; _Broken when not JSON."""
        self._next()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                cut = error.msg.startswith("Unterminated string") or error.pos >= len(self.text) - 8
                if cut and self._more(len(self.text) - self.pos):
                    continue
                raise _Broken(self._line_at(error.pos), f"not JSON: {error.msg}") from None
            except RequestError as error:
                raise _Broken(self._line_at(self.pos), str(error)) from None
            except RecursionError:
                raise _Broken(self._line_at(self.pos), "JSON nested too deeply to read") from None
            if end == len(self.text) and not isinstance(value, (dict, list, str)) and self._more():
                continue  # a number (or literal) may go on in the next piece
            self.pos = end
            return value

    def _expect(self, chars: str, what: str) -> str:
        char = self._next()
        if not char or char not in chars:
            found = repr(char) if char else "the end of the file"
            raise _Broken(self._line_at(self.pos), f"not a Message Batches body: expected {what}, found {found}")
        self.pos += 1
        return char

    def requests(self) -> Iterator[tuple[int, int, Any]]:
        """(line, index, value) of each element of the top-level `requests` list."""
        self._expect("{", "'{'")
        found = False
        if self._next() == "}":
            self.pos += 1
        else:
            while True:
                if self._next() != '"':
                    self._expect('"', "a key")
                key = self._value()
                self._expect(":", "':'")
                if key == "requests" and self._next() == "[":
                    found = True
                    self.pos += 1
                    yield from self._elements()
                else:
                    self._value()  # another key's value: skipped
                if self._expect(",}", "',' or '}'") == "}":
                    break
        if self._next():
            raise _Broken(self._line_at(self.pos), "not a Message Batches body: more after the document's end")
        if not found:
            raise _Broken(1, "not a Message Batches body: no \"requests\" list")

    def _elements(self) -> Iterator[tuple[int, int, Any]]:
        if self._next() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            self._next()
            yield self._line_at(self.pos), index, self._value()
            index += 1
            if self._expect(",]", f"',' or ']' after requests[{index - 1}]") == "]":
                return
