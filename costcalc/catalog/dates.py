"""Dates in the tables: validity windows of prices and the lifecycle of models (docs/lifecycle.md).

A price row (and a tier, or a long-context rate, inside it) may carry `valid_from` and
`valid_until`: ISO dates, both **inclusive**, read as UTC days. A row without them holds
from and until any date. Several rows of one name in one file must not overlap; the one

whose window holds `as_of` is the price in force that day, and a name whose rows hold none
that day has no price then (unknown, never a neighbour's).

A model's lifecycle (`[[lifecycle]]` rows, shipped in tables/lifecycle.toml) gives the day
it was released, the day its retirement was announced (`deprecated`), the day requests
stop working (`shutdown`) and what replaces it. At `as_of` a model is `retired` from its
shutdown day on (or when a vendor lists it retired without a date), `deprecated` before
that once its retirement is announced (a scheduled shutdown counts as announced when no
`deprecated` day is given), else `active`.
"""

from __future__ import annotations

import datetime as _dt

from ..errors import TableError
from ..records import record

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Lifecycle",
    "LIFECYCLE_STATUSES",
    "today",
    "parse_date",
    "optional_date",
    "check_window",
    "in_window",
    "window_text",
    "parse_lifecycle",
    "check_overlaps",
    "WINDOW_KEYS",
]

LIFECYCLE_STATUSES = ("active", "deprecated", "retired")
"""A model's status on a day: in service, retirement announced, or past its shutdown."""

WINDOW_KEYS = {"valid_from", "valid_until"}
"""The keys of a validity window (inclusive ISO dates)."""

_LIFECYCLE_KEYS = {
    "names",
    "name",
    "released",
    "deprecated",
    "shutdown",
    "status",
    "replacement",
    "source",
    "checked",
    "confidence",
    "doubt",
    "note",
}
CONFIDENCE = ("H", "M", "L")
"""How sure a dated row is: H a vendor page (or genai-prices) states it; M a dated third-party copy or a
scheduled date not yet confirmed; L weak or conflicting (such a row carries a `doubt`)."""


def today() -> _dt.date:
    """Today in UTC: the default `as_of` of every lookup."""
    return _dt.datetime.now(_dt.UTC).date()


def parse_date(value: Any, where: str) -> _dt.date:
    """An ISO date (TOML date or text `YYYY-MM-DD`); TableError naming `where` otherwise."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise TableError(f"{where} must be an ISO date like 2026-12-01, not {value!r}")


def optional_date(row: dict, key: str, where: str) -> _dt.date | None:
    """The date under `key`, or None when the row does not give it."""
    return parse_date(row[key], f"{where}: {key}") if key in row else None


def check_window(row: dict, where: str) -> tuple[_dt.date | None, _dt.date | None]:
    """(valid_from, valid_until) of a row; TableError when the window ends before it starts."""
    start, end = optional_date(row, "valid_from", where), optional_date(row, "valid_until", where)
    if start is not None and end is not None and end < start:
        raise TableError(f"{where}: valid_until {end} is before valid_from {start}")
    return start, end


def in_window(start: _dt.date | None, end: _dt.date | None, day: _dt.date) -> bool:
    """Whether `day` is inside the inclusive window [start, end] (None: open on that side)."""
    return (start is None or start <= day) and (end is None or day <= end)


def window_text(start: _dt.date | None, end: _dt.date | None) -> str:
    """`2026-12-01 →`, `→ 2026-11-30`, `2026-12-01 → 2026-12-31`, or '' for an open window."""
    if start is None and end is None:
        return ""
    return f"{start or ''} → {end or ''}".strip()


def check_overlaps(windows: list[tuple[str, _dt.date | None, _dt.date | None]], where: str) -> None:
    """TableError naming both rows when two windows of one name overlap (`windows`: (row label, start, end))."""
    low = _dt.date.min
    ordered = sorted(windows, key=lambda w: w[1] or low)
    for (first, _, end), (second, start, _) in zip(ordered, ordered[1:]):
        if end is None or start is None or start <= end:
            raise TableError(
                f"{where}: {first} and {second} overlap (their valid_from / valid_until windows share "
                f"days); one name may have one price per day"
            )


@record
class Lifecycle:
    """When a model came and goes (docs/lifecycle.md): dates, its replacement, the source."""

    released: _dt.date | None = None
    deprecated: _dt.date | None = None
    """The day its retirement was announced."""
    shutdown: _dt.date | None = None
    """The first day requests to it fail."""
    replacement: str = ""
    retired: bool = False
    """Listed as retired by its vendor without a shutdown date."""
    source: str = ""
    checked: str = ""
    doubt: str = ""

    def status(self, day: _dt.date) -> str:
        """active, deprecated or retired on `day`."""
        if self.retired or (self.shutdown is not None and day >= self.shutdown):
            return "retired"
        if self.deprecated is not None:
            return "deprecated" if day >= self.deprecated else "active"
        return "deprecated" if self.shutdown is not None else "active"

    def as_dict(self, day: _dt.date) -> dict[str, Any]:
        """status, released, deprecated, shutdown, replacement as JSON-ready values (dates as ISO text or null)."""
        return {
            "status": self.status(day),
            "released": _iso(self.released),
            "deprecated": _iso(self.deprecated),
            "shutdown": _iso(self.shutdown),
            "replacement": self.replacement or None,
        }


ACTIVE = Lifecycle()
"""The lifecycle of a model no row speaks of: active, no dates known."""


def _iso(day: _dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def parse_lifecycle(row: dict, where: str, names_of, check_keys, text_field) -> tuple[tuple[str, ...], Lifecycle]:
    """(names, Lifecycle) of one [[lifecycle]] row; TableError naming `where` and the key for anything wrong."""
    check_keys(row, _LIFECYCLE_KEYS, where)
    names = names_of(row, where)
    where = f"{where} ({names[0]})"
    dates = {key: optional_date(row, key, where) for key in ("released", "deprecated", "shutdown")}
    status = text_field(row, "status", where, default="")
    if status not in ("", "retired"):
        raise TableError(f'{where}: status may only be "retired" (a model retired without a date), not {status!r}')
    if dates["deprecated"] and dates["shutdown"] and dates["shutdown"] < dates["deprecated"]:
        raise TableError(f"{where}: shutdown {dates['shutdown']} is before deprecated {dates['deprecated']}")
    if dates["released"] and dates["shutdown"] and dates["shutdown"] < dates["released"]:
        raise TableError(f"{where}: shutdown {dates['shutdown']} is before released {dates['released']}")
    confidence = text_field(row, "confidence", where, default="H")
    if confidence not in CONFIDENCE:
        raise TableError(f"{where}: confidence must be one of {', '.join(CONFIDENCE)}, not {confidence!r}")
    doubt = text_field(row, "doubt", where, default="")
    if confidence == "L" and not doubt:
        raise TableError(f"{where}: a row of confidence L needs a doubt saying why it may be wrong")
    if not row.get("source"):
        raise TableError(f"{where}: needs a source (the vendor's page)")
    replacement = text_field(row, "replacement", where, default="").strip().lower()
    if replacement in names:
        raise TableError(f"{where}: replacement {replacement!r} is the model itself")
    return names, Lifecycle(
        replacement=replacement,
        retired=status == "retired",
        doubt=doubt,
        source=text_field(row, "source", where, default=""),
        checked=text_field(row, "checked", where, default=""),
        **dates,
    )
