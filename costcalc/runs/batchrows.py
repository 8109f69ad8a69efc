"""The rows and totals of a priced batch file or log: one row per request, sums per model, the budget on them.

A row's image tokens and USD are unknown (None) when the request is unread or any of its parts is
unpriced, never a partial figure; a budget on the totals fails closed on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from ..catalog.limits import Finding
from ..money import MONEY, Overrun, over_budget
from ..pricing.request import RequestEstimate

__all__ = [
    "WHOLE_REQUEST",
    "BatchRow",
    "BatchSums",
    "BatchTotals",
    "BatchEstimate",
    "batch_budget_overruns",
    "batch_budget_problems",
    "row_fields",
    "row_image_tokens",
    "row_image_usd",
]


WHOLE_REQUEST = ("text_tokens", "input_tokens", "input_usd")
"""Whole-request figures of each row and sum: text tokens, the whole input and its USD."""


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
        return (
            f"{name}:{self.line}"
            + (f": {self.where}" if self.where else "")
            + (f" ({self.custom_id})" if self.custom_id is not None else "")
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the same keys for every row (usd a number or null)."""
        estimate = self.estimate
        row: dict[str, Any] = {
            "line": self.line,
            "custom_id": self.custom_id,
            "model": estimate.model if estimate else None,
            "endpoint": self.endpoint,
            "images": len(estimate.images) if estimate else None,
            "unpriced": estimate.unpriced if estimate else None,
            "image_tokens": row_image_tokens(estimate),
        }
        row["usd"] = _number(row_image_usd(estimate))
        for name in WHOLE_REQUEST:
            row[name] = _number(getattr(estimate, name)) if estimate else None
        row["tier"] = self.tier
        row["findings"] = [finding.message for finding in estimate.findings] if estimate else []
        row["image_errors"] = [image.error for image in estimate.images if image.error] if estimate else []
        row["error"] = self.error
        return row


def row_image_tokens(estimate: RequestEstimate | None) -> int | None:
    """A request's image tokens; None (unknown) when it is unread or any image is unpriced (fail closed)."""
    return None if estimate is None or estimate.unpriced else estimate.image_tokens


def row_image_usd(estimate: RequestEstimate | None) -> Decimal | None:
    """A request's image USD; None (unknown) when it is unread or any image is unpriced, never a partial $0.00."""
    return None if estimate is None or estimate.unpriced else estimate.usd


def row_fields() -> tuple[str, ...]:
    """The keys of `BatchRow.as_dict()`, in order (the CSV header)."""
    return (
        "line",
        "custom_id",
        "model",
        "endpoint",
        "images",
        "unpriced",
        "image_tokens",
        "usd",
        *WHOLE_REQUEST,
        "tier",
        "findings",
        "image_errors",
        "error",
    )


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
        for name in WHOLE_REQUEST:
            setattr(self, name, _plus(getattr(self, name), getattr(estimate, name)))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the whole-request figures only when count_request gives them)."""
        sums = {
            "requests": self.requests,
            "images": self.images,
            "unpriced": self.unpriced,
            "image_tokens": self.image_tokens,
            "usd": _number(self.usd),
        }
        sums.update({name: _number(getattr(self, name)) for name in WHOLE_REQUEST})
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
        return {
            "requests": self.requests,
            "errors": self.errors,
            "bytes": self.bytes,
            **priced,
            "requests_over_limits": self.findings,
            "models": {name: sums.as_dict() for name, sums in self.models.items()},
        }


def batch_budget_overruns(totals: BatchTotals, max_tokens: int | None, max_usd: Decimal | None) -> list[Overrun]:
    """How the whole file breaks the budget; fails closed (an unread line, unpriced image or unknown figure)."""
    if max_tokens is None and max_usd is None:
        return []
    label = f"{totals.requests:,} requests"
    tokens = totals.priced.image_tokens
    overruns = over_budget(label, tokens or 0, totals.priced.usd, max_tokens=max_tokens, max_usd=max_usd)
    if tokens is None and max_tokens is not None:
        overruns.insert(0, Overrun(label, "max_tokens", max_tokens, None, "image tokens unknown"))
    if totals.errors or totals.priced.unpriced:
        overruns.append(
            Overrun(
                "",
                "budget",
                None,
                None,
                f"{totals.errors:,} request(s) could not be read and "
                f"{totals.priced.unpriced:,} image(s) could not be priced",
            )
        )
    return overruns


def batch_budget_problems(totals: BatchTotals, max_tokens: int | None, max_usd: Decimal | None) -> list[str]:
    """`batch_budget_overruns` worded with the parameter names."""
    return [str(overrun) for overrun in batch_budget_overruns(totals, max_tokens, max_usd)]


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
        return batch_budget_problems(self.totals, max_tokens, max_usd)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: file, kind, tier, rows, totals and findings."""
        return {
            "file": self.name,
            "kind": self.kind,
            "tier": self.tier,
            "tier_note": self.tier_note,
            "rows": [row.as_dict() for row in self.rows],
            "totals": self.totals.as_dict(),
            "findings": [{"rule": f.rule, "message": f.message} for f in self.findings],
        }
