"""`scheme = "nearest"`: Amazon Nova 1 (docs/amazon.md): only a "~" table exists, so the image costs its nearest entry.

https://docs.aws.amazon.com/nova/latest/userguide/modalities-image.html
"""

from __future__ import annotations

from ..records import record
from .base import Parsed, Rule, Scheme, Sizing, too_large
from .fields import MAX_LIMIT, Row

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = ["NearestRule", "nearest_entry", "SCHEME"]


def nearest_entry(width: int, height: int, entries: tuple[tuple[int, int, int], ...]) -> int:
    """Index of the (width, height, tokens) entry nearest in aspect ratio, then in pixel count (docs/amazon.md).

    Amazon's Nova guide: the image is matched to the closest aspect ratio, its
    example 800×400 → 900×450 → ~800. Orientation does not matter (H×W or W×H).
    Distances are multiplicative: max(a / b, b / a), in floats computed once from
    exact integer products, so the NumPy path can repeat them bit for bit.
    """
    long, short = max(width, height), min(width, height)
    pixels = width * height
    best, best_key = 0, None
    for index, (w, h, _) in enumerate(entries):
        e_long, e_short = max(w, h), min(w, h)
        aspect = max(long * e_short / (short * e_long), short * e_long / (long * e_short))
        area = max(pixels / (w * h), (w * h) / pixels)
        key = (aspect, area)
        if best_key is None or key < best_key:
            best, best_key = index, key
    return best


@record
class NearestRule(Rule):
    """Amazon Nova 1 (docs/amazon.md): only a "~" table exists, so the image costs its nearest entry.

    Nearest by aspect ratio, then by pixel count, as the guide's own example
    (800×400 → 900×450 → ~800) reads it (`nearest_entry`). Sides over
    `max_side` (8000 px) are rejected.
    """

    entries: tuple[tuple[int, int, int], ...]
    """(width, height, tokens) of each table entry."""
    max_side: int = 8000
    basis: ClassVar[str] = "approximate"
    budget_note = "only ≈ figures for a few sizes are published"
    kept_note = "only approximate figures per size are published"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        tokens = self.entries[nearest_entry(width, height, self.entries)][2]
        return Sizing(width, height, None, None, tokens, "approximate")

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Larger than max_side × max_side: rejected (docs/amazon.md)."""
        return too_large("max_side", self.max_side, width, height)

    def cell(self) -> str:
        """`≈ 85-1,600`: the range of its entries."""
        return f"≈ {min(t for *_, t in self.entries):,}-{max(t for *_, t in self.entries):,}"

    def as_dict(self) -> dict[str, Any]:
        """Entries as lists, max_side, basis."""
        return {"entries": [list(entry) for entry in self.entries], "max_side": self.max_side, "basis": self.basis}

    def long_short_array(self, long, short):
        """`nearest_entry` on (long, short) arrays: the same float distances, first on ties."""
        import numpy as np

        pixels = (long * short).astype(np.float64)
        best = np.zeros(long.shape, dtype=np.int64)
        best_aspect = np.full(long.shape, np.inf)
        best_area = np.full(long.shape, np.inf)
        for index, (w, h, _) in enumerate(self.entries):
            e_long, e_short = max(w, h), min(w, h)
            ratio = (long * e_short).astype(np.float64) / (short * e_long).astype(np.float64)
            inverse = (short * e_long).astype(np.float64) / (long * e_short).astype(np.float64)
            aspect = np.maximum(ratio, inverse)
            area = np.maximum(pixels / (w * h), (w * h) / pixels)
            better = (aspect < best_aspect) | ((aspect == best_aspect) & (area < best_area))
            best = np.where(better, index, best)
            best_aspect = np.where(better, aspect, best_aspect)
            best_area = np.where(better, area, best_area)
        tokens = np.array([t for _, _, t in self.entries], dtype=np.int64)[best]
        return long, short, None, tokens

    def reject_array(self, long, short, units):
        """A side over max_side."""
        return long > self.max_side


def parse(row: Row) -> Parsed:
    """The one rule, at auto: `entries` a list of [width, height, tokens]."""
    value = row.get("entries")
    if (
        not isinstance(value, list)
        or not value
        or not all(
            isinstance(e, list)
            and len(e) == 3
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_LIMIT for n in e)
            for e in value
        )
    ):
        raise row.error("entries must be a list of [width, height, tokens] whole numbers")
    return Parsed((("auto", NearestRule(tuple(tuple(e) for e in value), row.integer("max_side"))),), "auto")


SCHEME = Scheme(keys=frozenset({"entries", "max_side"}), parse=parse)
