"""`scheme = "gemini_tiles"`: Gemini 2.0 / 1.5 (docs/google.md): a small image is one count, a larger one crop tiles.

https://ai.google.dev/gemini-api/docs/tokens
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

from ..records import record
from .base import Parsed, Rule, Scheme, Sizing
from .fields import Row

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import ClassVar

__all__ = ["GeminiTileRule", "gemini_legacy_tiles", "SCHEME"]


def gemini_legacy_tiles(width: int, height: int, min_unit: int, max_unit: int) -> int:
    """Gemini 2.0 / 1.5 crop tiles: unit = clamp(min side / 1.5, min_unit, max_unit), ceil(w/u)·ceil(h/u) (docs/google.md).

    Exact: the unit is the fraction 2·min / 3 unless clamped.
    """
    unit = min(max(Fraction(2 * min(width, height), 3), Fraction(min_unit)), Fraction(max_unit))
    return ceil(width / unit) * ceil(height / unit)


@record
class GeminiTileRule(Rule):
    """Gemini 2.0 / 1.5 (docs/google.md): both sides ≤ small_side → small_tokens, exact;
    else crop tiles of tile_tokens each, unit clamp(min side / 1.5, min_unit, max_unit), approximate."""

    small_side: int = 384
    small_tokens: int = 258
    tile_tokens: int = 258
    min_unit: int = 256
    max_unit: int = 768
    basis: ClassVar[str] = "approximate"
    budget_note = "Google never printed a count above 384 px; the tiles are a community reading"
    kept_note = "its tiles are cut from the image as sent"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        if width <= self.small_side and height <= self.small_side:
            return Sizing(width, height, 1, None, self.small_tokens, "exact")
        tiles = gemini_legacy_tiles(width, height, self.min_unit, self.max_unit)
        return Sizing(width, height, tiles, None, self.tile_tokens * tiles, "approximate")

    def cell(self) -> str:
        """`258; ≈ 258/tile`."""
        return f"{self.small_tokens}; ≈ {self.tile_tokens}/tile"

    def long_short_array(self, long, short):
        """`gemini_legacy_tiles` on (long, short) arrays: unit = clamp(2·short/3) as a fraction."""
        import numpy as np

        num = np.clip(2 * short, 3 * self.min_unit, 3 * self.max_unit)  # the unit is num / 3
        tiles = -(-3 * long // num) * -(-3 * short // num)
        tiles = np.where(long <= self.small_side, 1, tiles)  # long <= small_side: both sides are
        tokens = np.where(long <= self.small_side, self.small_tokens, self.tile_tokens * tiles)
        return long, short, tiles, tokens


def parse(row: Row) -> Parsed:
    """The one rule, at auto."""
    rule = GeminiTileRule(
        row.integer("small_side"),
        row.integer("small_tokens"),
        row.integer("tile_tokens"),
        row.integer("min_unit"),
        row.integer("max_unit"),
    )
    return Parsed((("auto", rule),), "auto")


SCHEME = Scheme(keys=frozenset({"small_side", "small_tokens", "tile_tokens", "min_unit", "max_unit"}), parse=parse)
