"""Reading a model table row's values: whole numbers, exact decimals, known keys (TableError otherwise).

The schemes' parsers read their settings with these, and the catalog the rest of a
row and the price rows: every table value is checked the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ..errors import TableError

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MAX_LIMIT", "DECIMAL_PLACES", "UNKNOWN", "Row", "check_keys", "integer", "decimal"]

MAX_LIMIT = 2**24
"""Largest number a table may give as a pixel limit, budget or multiplier term."""

DECIMAL_PLACES = 12
"""Most decimal places a table's price or multiplier may have (keeps money exact; issue 9)."""

UNKNOWN = "unknown"
"""A value nobody published: a patch row's `multiplier`, or a detail level."""


RENAMED = {"provider": "vendor"}
"""Table keys of earlier releases and their names now: an old table gets the new name in its error."""


def check_keys(row: Mapping, allowed: set[str] | frozenset[str], where: str) -> None:
    """TableError naming any key of `row` not in `allowed` (typos are caught, not ignored)."""
    unknown = sorted(set(row) - allowed)
    renamed = [f"{old} is now called {new}" for old, new in RENAMED.items() if old in unknown and new in allowed]
    if unknown:
        hint = f" ({'; '.join(renamed)})" if renamed else ""
        raise TableError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}{hint}")


def integer(row: Mapping, key: str, where: str, *, low: int = 1) -> int:
    """A whole number from `low` to MAX_LIMIT."""
    value = row.get(key)
    if value is None:
        raise TableError(f"{where}: missing {key}")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_LIMIT:
        raise TableError(f"{where}: {key} must be a whole number from {low} to {MAX_LIMIT}, not {value!r}")
    return value


def decimal(row: Mapping, key: str, where: str) -> Decimal:
    """A positive number kept exact: finite (TOML's inf and nan are table errors, issue 9), at most MAX_LIMIT,
    and at most DECIMAL_PLACES decimals, so that every USD amount is exact in money.MONEY."""
    value = row.get(key)
    if value is None:
        raise TableError(f"{where}: missing {key}")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TableError(f"{where}: {key} must be a positive number, not {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise TableError(f"{where}: {key} must be a finite positive number, not {str(value).lower()}")
    numerator, denominator = value.as_integer_ratio()  # in lowest terms: Fraction(value), without building one
    if not 0 < numerator <= MAX_LIMIT * denominator:
        raise TableError(f"{where}: {key} must be a positive number up to {MAX_LIMIT:,}, not {value}")
    if 10**DECIMAL_PLACES % denominator:
        raise TableError(f"{where}: {key} {value} has more than {DECIMAL_PLACES} decimal places")
    return Decimal(value)


class Row:
    """A model row's settings for its scheme's parser: the file's [defaults.<scheme>] under the row's own keys.

    A plain class, not a dataclass: start-up builds one per table row.
    """

    __slots__ = ("settings", "where", "note")

    def __init__(self, settings: Mapping[str, Any], where: str, note: str = "") -> None:
        self.settings = settings
        self.where = where
        """Where the row is, for messages: `path: model row 3 (gpt-4o)`."""
        self.note = note
        """The row's note (what is not published, on an unknown level)."""

    def __contains__(self, key: str) -> bool:
        return key in self.settings

    def get(self, key: str, default: Any = None) -> Any:
        """A setting as written, or `default`."""
        return self.settings.get(key, default)

    def integer(self, key: str, low: int = 1) -> int:
        """A whole number from `low` to MAX_LIMIT."""
        return integer(self.settings, key, self.where, low=low)

    def decimal(self, key: str) -> Decimal:
        """A positive exact decimal."""
        return decimal(self.settings, key, self.where)

    def error(self, message: str) -> TableError:
        """A TableError naming the row."""
        return TableError(f"{self.where}: {message}")
