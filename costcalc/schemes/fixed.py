"""`scheme = "fixed"`: one count per image whatever its size, per detail level, with how sure it is (docs/google.md).

Gemini 3 media resolutions (`maximum`), Gemini 2.5 (`approximate`), Nova 2 (`flat`).
A row gives each level as `{ tokens = N, basis = "..." }` or "unknown"; `auto` names
a level or is a table of its own.
"""

from __future__ import annotations

from ..errors import TableError
from ..records import record
from .base import BASES, MARKS, Parsed, Rule, Scheme, Sizing
from .fields import UNKNOWN, Row, check_keys, integer
from .unknown import UnpublishedRule

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FlatRule", "SCHEME"]

LEVELS = ("low", "medium", "high", "ultra_high", "auto")


@record
class FlatRule(Rule):
    """One count per image whatever its size, with how sure it is.

    Nothing is known of a resize, so the size seen is the image's own.
    """

    tokens: int
    basis: str = "flat"
    size_dependent = False
    budget_note = "a measured count, not a published one"
    kept_note = "its tokens do not depend on the size"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        return Sizing(width, height, None, None, self.tokens, self.basis)

    def cell(self) -> str:
        """The count, marked by its basis: `258`, `≤ 1,120`, `≈ 258`."""
        return f"{MARKS.get(self.basis, '')}{self.tokens:,}"

    def long_short_array(self, long, short):
        """The count at every size."""
        import numpy as np

        return long, short, None, np.full(long.shape, self.tokens, dtype=np.int64)


def parse(row: Row) -> Parsed:
    """A fixed row: each level `{ tokens = N, basis = "..." }` or "unknown"; auto a level's name or its own table."""
    rules: list[tuple[str, Rule]] = []
    for level in LEVELS:
        spec = row.get(level)
        if spec is None or (level == "auto" and isinstance(spec, str) and spec != UNKNOWN):
            continue
        if spec == UNKNOWN:
            rules.append((level, UnpublishedRule(row.note or "not published")))
            continue
        rules.append((level, _flat(spec, f"{row.where}: {level}")))
    auto = row.get("auto")
    auto = "auto" if not isinstance(auto, str) or auto == UNKNOWN else auto
    if auto not in {level for level, _ in rules}:
        raise row.error(f"auto must name one of its detail levels or be a table of its own, not {auto!r}")
    return Parsed(tuple(rules), auto)


def _flat(spec: Any, where: str) -> FlatRule:
    if not isinstance(spec, dict):
        raise TableError(f'{where} must be "unknown" or an inline table like {{ tokens = 258, basis = "flat" }}')
    check_keys(spec, {"tokens", "basis"}, where)
    basis = spec.get("basis", "flat")
    if basis not in BASES:
        raise TableError(f"{where}: basis must be one of {', '.join(BASES)}, not {basis!r}")
    return FlatRule(integer(spec, "tokens", where), basis)


def probe_params(model: Any, rule: Rule | None) -> dict[str, Any]:
    """The count a probe's fit is compared with, or unknown."""
    return {"tokens": rule.tokens} if isinstance(rule, FlatRule) else {"tokens": "unknown"}


def fitted_row(params: dict[str, Any], rule: Rule, level: str, row: Any) -> tuple[dict[str, Any], list[str]]:
    """A fitted level's count as row settings; the table row's other levels kept; auto names a level."""
    levels = list(row.rules) if row is not None else []
    if level not in dict(levels):
        levels.append((level, None))
    entries: dict[str, Any] = {}
    kept = []
    for name, known in levels:
        if name == level:
            entries[name] = {"tokens": params["tokens"], "basis": "flat"}
        elif isinstance(known, FlatRule):
            entries[name] = {"tokens": known.tokens, "basis": known.basis}
            kept.append(name)
        else:
            entries[name] = UNKNOWN
            kept.append(name)
    if "auto" not in entries:  # auto names a level (the table's, else the one measured)
        entries["auto"] = row.auto if row is not None and row.auto != "auto" else level
    return entries, kept


SCHEME = Scheme(keys=frozenset(LEVELS), parse=parse, probe_params=probe_params, fitted_row=fitted_row)
