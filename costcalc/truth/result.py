"""What a probe measured: the fitted rule beside the table's, per-parameter agreement, the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..catalog.tables import Model
from .fitters import Fit, Reading

__all__ = ["ProbeResult", "compare"]


@dataclass(frozen=True)
class ProbeResult:
    """What a probe measured: the fitted rule beside the table's, every measurement, and the verdict."""

    model: str
    api: str
    base_url: str
    endpoint: str
    detail: str
    date: str
    requests: int
    """Requests that were counted: the one without an image, then one per size (retries not included)."""
    measurements: tuple[Reading, ...]
    ok: bool
    """True when a rule fits every measurement, the checks included."""
    problem: str | None = None
    """Why no rule fits (when not ok)."""
    fit: Fit | None = None
    family: str | None = None
    """The table row the model resolved to (None: the table does not know it)."""
    vendor: str = ""
    table: dict[str, Any] | None = None
    """The table's parameters for the fitted scheme and level ("unknown" where it has none)."""
    table_scheme: str | None = None
    comparison: dict[str, str] = field(default_factory=dict)
    """Per parameter: agree, disagree or new (the table does not know it)."""
    row: Model | None = field(default=None, repr=False)
    retries: int = 0
    """Requests sent again after HTTP 429 (rate limited) or 503 / 529 (overloaded)."""
    error: str | None = None
    """The endpoint's failure that stopped the probe (None when every request was answered)."""

    @property
    def agrees(self) -> bool | None:
        """False when a fitted parameter (or the scheme) disagrees with the table; None when it has no row."""
        if not self.ok or self.table_scheme is None:
            return None
        if self.fit is not None and self.table_scheme != self.fit.scheme:
            return False
        return "disagree" not in self.comparison.values()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        fit = self.fit
        return {
            "model": self.model,
            "family": self.family,
            "api": self.api,
            "base_url": self.base_url,
            "endpoint": self.endpoint,
            "detail": self.detail,
            "level": fit.level if fit else None,
            "sent": fit.sent if fit else None,
            "scheme": fit.scheme if fit else None,
            "ok": self.ok,
            "problem": self.problem,
            "fitted": _json_params(fit.params) if fit else None,
            "equivalent": dict(fit.equivalent) if fit else {},
            "notes": list(fit.notes) if fit else [],
            "table_scheme": self.table_scheme,
            "table": _json_params(self.table) if self.table is not None else None,
            "comparison": dict(self.comparison),
            "agrees": self.agrees,
            "requests": self.requests,
            "retries": self.retries,
            "error": self.error,
            "date": self.date,
            "measurements": [m.as_dict() for m in self.measurements],
        }


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, (Decimal, Fraction)) else v) for k, v in params.items()}


def compare(fit: Fit, table: dict[str, Any] | None) -> dict[str, str]:
    """Per parameter: agree, disagree, or new (the table does not know it)."""
    if table is None:
        return {}
    verdicts = {}
    for name, value in fit.params.items():
        known = table.get(name, "unknown")
        if isinstance(known, str) and known == "unknown":
            verdicts[name] = "new"
        else:
            verdicts[name] = "agree" if known == value else "disagree"
    return verdicts
