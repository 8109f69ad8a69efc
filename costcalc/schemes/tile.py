"""`scheme = "tile"`: OpenAI's tile models (docs/openai.md): low is a flat `base`, high fits, caps the short side, counts tiles.

https://developers.openai.com/api/docs/guides/images-vision
"""

from __future__ import annotations

from ..records import record
from .base import Grid, Parsed, Rule, Scheme, Sizing
from .fields import Row
from .geometry import cap_short_side, ceil_div, fit_within, tile_count

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FixedRule", "TileRule", "SCHEME"]


@record
class FixedRule(Rule):
    """Low detail on a tile model: `tokens` whatever the size (docs/openai.md).

    The model sees a copy fitted within `fit` × `fit` (measured).
    """

    tokens: int
    fit: int

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        scaled_w, scaled_h = fit_within(width, height, self.fit)
        return Sizing(scaled_w, scaled_h, None, None, self.tokens)

    def cell(self) -> str:
        """`85`: the count."""
        return f"{self.tokens}"

    def as_dict(self) -> dict[str, Any]:
        """tokens and fit."""
        return {"tokens": self.tokens, "fit": self.fit}

    def long_short_array(self, long, short):
        """Fitted sizes, the count at every size."""
        import numpy as np

        from . import arrays

        long, short = arrays.fit_within(long, short, self.fit)
        return long, short, None, np.full(long.shape, self.tokens, dtype=np.int64)


@record
class TileRule(Rule):
    """High detail on a tile model: fit, cap the short side, count tiles (docs/openai.md)."""

    base: int
    tile: int
    fit: int
    short_side: int
    tile_size: int

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        fitted_w, fitted_h = fit_within(width, height, self.fit)
        scaled_w, scaled_h = cap_short_side(fitted_w, fitted_h, self.short_side)
        tiles = tile_count(scaled_w, scaled_h, self.tile_size)
        return Sizing(scaled_w, scaled_h, tiles, None, self.base + self.tile * tiles)

    def grid(self, width: int, height: int) -> Grid:
        """`tile_size` tiles over the fitted, short-side-capped size (the tiles counted)."""
        sizing = self.size(width, height)
        w, h, cell = sizing.scaled_width, sizing.scaled_height, self.tile_size
        return Grid(w, h, cell, ceil_div(w, cell), ceil_div(h, cell), "tile")

    def cell(self) -> str:
        """`85+170/tile`."""
        return f"{self.base}+{self.tile}/tile"

    def as_dict(self) -> dict[str, Any]:
        """Its five parameters."""
        return {
            "base": self.base,
            "tile": self.tile,
            "fit": self.fit,
            "short_side": self.short_side,
            "tile_size": self.tile_size,
        }

    def long_short_array(self, long, short):
        """Fitted and capped sizes, tiles, tokens."""
        from . import arrays

        long, short = arrays.cap_short_side(*arrays.fit_within(long, short, self.fit), self.short_side)
        tiles = arrays.ceil_div(long, self.tile_size) * arrays.ceil_div(short, self.tile_size)
        return long, short, tiles, self.base + self.tile * tiles


def parse(row: Row) -> Parsed:
    """low: `base` tokens within `low_fit`; high: the tile rule; auto is high."""
    base = row.integer("base", low=0)
    high = TileRule(
        base=base,
        tile=row.integer("tile", low=0),
        fit=row.integer("fit"),
        short_side=row.integer("short_side"),
        tile_size=row.integer("tile_size"),
    )
    return Parsed((("low", FixedRule(tokens=base, fit=row.integer("low_fit"))), ("high", high)), "high")


def probe_params(model: Any, rule: Rule | None) -> dict[str, Any]:
    """The high rule's parameters, which a probe fits."""
    return {
        "base": rule.base,
        "tile": rule.tile,
        "short_side": rule.short_side,
        "fit": rule.fit,
        "tile_size": rule.tile_size,
    }


def fitted_row(params: dict[str, Any], rule: Rule, level: str, row: Any) -> tuple[dict[str, Any], list[str]]:
    """A fitted high rule as row settings; low keeps the table's fit (else 512)."""
    low_fit = dict(row.rules)["low"].fit if row is not None else 512
    return {name: params[name] for name in ("base", "tile", "fit", "short_side", "tile_size")} | {
        "low_fit": low_fit
    }, []


SCHEME = Scheme(
    keys=frozenset({"base", "tile", "fit", "short_side", "tile_size", "low_fit"}),
    parse=parse,
    probe_params=probe_params,
    probe_level="high",
    fitted_row=fitted_row,
)
