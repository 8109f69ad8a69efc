"""One settings object for a run: which tables, read on which day, at which tier, how strict, which edition.

Built once from a caller's keywords (`Settings.build(tables=..., tier=..., as_of=...)`) and passed
down whole, as an HTTP client holds its settings once. Its `tables` are already read on `as_of`
(`Tables.at`), so every price looked up through them is the one in force that day, and every
model's status is its status that day.
"""

from __future__ import annotations

import datetime as _dt

from ..errors import RetiredModelError, TierError
from ..records import record
from .dates import today
from .tables import TIERS, Model, Tables, default_tables

__all__ = ["Settings", "lifecycle_warning", "dated", "check_retired"]


@record
class Settings:
    """What every lookup of a run shares. Frozen: built once with `build`, never changed."""

    tables: Tables
    """The tables, read on `as_of`."""
    tier: str = "standard"
    strict: bool = False
    """A damaged file, or a model past its shutdown date, is an error rather than a warning."""
    edition: str | None = None
    """The input-limits edition (None: the newest)."""
    as_of: _dt.date | None = None
    """The day prices and lifecycles are read for (None until built: today, UTC)."""

    @classmethod
    def build(
        cls,
        *,
        tables: Tables | None = None,
        tier: str = "standard",
        strict: bool = False,
        edition: str | None = None,
        as_of: _dt.date | None = None,
        regional: bool = False,
    ) -> Settings:
        """Settings from a public function's keywords: the shipped tables by default, `as_of` today (UTC);
        `regional`: priced for regional processing (Tables.in_region)."""
        if not isinstance(tier, str) or tier not in TIERS:
            raise TierError("costcalc", tier, TIERS)
        if as_of is not None and not isinstance(as_of, _dt.date):
            raise TypeError(f"as_of must be a datetime.date, not {as_of!r}")
        day = as_of.date() if isinstance(as_of, _dt.datetime) else (as_of or today())
        tables = (tables or default_tables()).at(day)
        return cls(tables.in_region() if regional else tables, tier, bool(strict), edition, day)

    def status(self, model: str | Model) -> str:
        """active, deprecated or retired on `as_of`."""
        return self.tables.model(model).lifecycle.status(self.tables.as_of)


def dated(tables: Tables | None, as_of: _dt.date | None) -> Tables:
    """`tables` (default: the shipped ones) read on `as_of`; as they are when `as_of` is None (today unless they
    were read on another day already, as a Settings' tables are)."""
    tables = tables or default_tables()
    return tables if as_of is None else tables.at(as_of)


def check_retired(model: Model, day: _dt.date) -> None:
    """RetiredModelError when `model` is past its shutdown on `day` (what `strict` asks for)."""
    life = model.lifecycle
    if life.status(day) == "retired":
        raise RetiredModelError(model.name, life.shutdown, life.replacement, day)


def lifecycle_warning(model: Model, day: _dt.date) -> str | None:
    """The warning of a model past its shutdown on `day` (the date and the replacement), else None."""
    life = model.lifecycle
    if life.status(day) != "retired":
        return None
    when = f"shut down on {life.shutdown}" if life.shutdown else "retired by its vendor"
    instead = f"; use {life.replacement}" if life.replacement else ""
    return f"{model.name} was {when}{instead} (priced at the rates in force on {day})"
