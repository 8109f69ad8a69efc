"""What an audit yields: a row per file and model (`AuditRow`), and the running totals per model (`Totals`).

Shared by the audits of local folders (runs.audit), of data where it lives (runs.remote, runs.sizes) and
their summaries (runs.summary), so that each counts a row the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from ..money import MONEY
from ..pricing.verdict import STATUSES as VERDICT_STATUSES
from ..records import field, named_tuple, record

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["AuditRow", "AUDIT_FIELDS", "ModelTotals", "STATUSES", "Totals"]

STATUSES = (*VERDICT_STATUSES, "skipped")
"""priced; rejected (the API would refuse it: the rule is named); unreadable; skipped (left out by an option)."""


_COUNTS = (
    "files",
    "priced",
    "rejected",
    "unreadable",
    "skipped",
    "tokens",
    "unknown_price",
    "unknown_tokens",
    "warnings",
)
"""The counts of a `ModelTotals` (and `usd`, a Decimal) that totals merge by adding."""


@named_tuple
class AuditRow:
    """One file for one model: what its header says and what it costs, or why it cannot be priced.

    path is the path as walked: a name that is not UTF-8 keeps its bytes as
    surrogates (os.fsdecode), so os.fsencode(path) opens the file. status is one
    of STATUSES; rule names the input rule a rejected file breaks; error is the
    reason (null when priced); usd is None when the price is unknown; warning
    names the defect of a damaged file (null when whole); basis says how sure
    tokens is (null when not priced).
    """

    path: str
    model: str
    detail: str
    status: str
    format: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    animated: bool | None = None
    orientation: int | None = None
    bytes: int | None = None
    applied_detail: str | None = None
    tokens: int | None = None
    usd: Decimal | None = None
    rule: str | None = None
    error: str | None = None
    warning: str | None = None
    tier: str = "standard"
    """The service tier `usd` is priced at (docs/prices.md)."""
    basis: str | None = None
    """How sure `tokens` is (docs/README.md): exact, maximum (at most), approximate, flat, or unknown; null when not priced."""
    model_status: str | None = None
    """The model's status on the day priced: active, deprecated or retired (docs/lifecycle.md); `status` is the
    file's."""
    shutdown: str | None = None
    """The model's shutdown date (ISO), where one is known."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the fields of AUDIT_FIELDS; `usd` a number or null."""
        values = dict(zip(AUDIT_FIELDS, self))
        if self.usd is not None:
            values["usd"] = float(self.usd)
        return values


AUDIT_FIELDS = AuditRow._fields
"""The fields of one audit row in --nl, --json and --csv output, in order."""


@record(frozen=False)
class ModelTotals:
    """Running sums for one model."""

    files: int = 0
    priced: int = 0
    rejected: int = 0
    unreadable: int = 0
    skipped: int = 0
    tokens: int = 0
    usd: Decimal = Decimal(0)
    unknown_price: int = 0
    """Priced files whose model has no known price: `usd` leaves them out."""
    unknown_tokens: int = 0
    """Priced files whose tokens are unknown (an unpublished multiplier, docs/openai.md): `tokens` and `usd` leave them out."""
    warnings: int = 0
    """Priced files with a warning (damaged data, priced from the header)."""
    rules: Counter = field(default_factory=Counter)
    """Rejections by the rule they break."""
    bases: set = field(default_factory=set)
    """How sure the priced files' tokens are (docs/README.md): the sum is as sure as its least sure part."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `usd` null when some priced file has no known price; `basis` how sure `tokens` is."""
        from ..schemes.base import total_basis

        return {
            "files": self.files,
            "priced": self.priced,
            "rejected": self.rejected,
            "unreadable": self.unreadable,
            "skipped": self.skipped,
            "tokens": None if self.unknown_tokens else self.tokens,
            "basis": None if self.unknown_tokens else total_basis(self.bases),
            "warnings": self.warnings,
            "usd": None if self.unknown_price or self.unknown_tokens else float(self.usd),
            "rejected_by_rule": dict(sorted(self.rules.items())),
        }


class Totals:
    """Running totals per model over audit rows."""

    def __init__(self, models: Iterable[str]):
        self.by_model = {name: ModelTotals() for name in models}

    def merge(self, other: Totals) -> None:
        """Add another run's totals (a worker's chunk) into these."""
        for name, theirs in other.by_model.items():
            ours = self.by_model.setdefault(name, ModelTotals())
            for count in _COUNTS:
                setattr(ours, count, getattr(ours, count) + getattr(theirs, count))
            ours.usd = MONEY.add(ours.usd, theirs.usd)  # exact whatever the caller's decimal context
            ours.rules.update(theirs.rules)
            ours.bases |= theirs.bases

    def add(self, row: AuditRow, count: int = 1) -> None:
        """Count one row, or `count` rows alike but for their paths and byte sizes."""
        totals = self.by_model.get(row.model)
        if totals is None:
            totals = self.by_model[row.model] = ModelTotals()
        totals.files += count
        setattr(totals, row.status, getattr(totals, row.status) + count)
        if row.status == "priced":
            totals.warnings += count if row.warning is not None else 0
            if row.tokens is None:  # an unpublished multiplier (docs/openai.md): the totals are unknown
                totals.unknown_tokens += count
                return
            totals.tokens += row.tokens * count
            totals.bases.add(row.basis)
            if row.usd is None:
                totals.unknown_price += count
            else:  # exact whatever the caller's decimal context: MONEY is wide enough for any sum
                totals.usd = MONEY.add(totals.usd, row.usd if count == 1 else MONEY.multiply(row.usd, count))
        elif row.status == "rejected":
            totals.rules[row.rule] += count
