"""The three kinds of detail rule a model table row is made of, each applied to one size."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from .geometry import (
    cap_short_side,
    ceil_times,
    fit_patch_budget,
    fit_within,
    patch_count,
    tile_count,
)

__all__ = ["Sizing", "FixedRule", "TileRule", "PatchRule", "Rule"]


class Sizing(NamedTuple):
    """One image at one detail level: the size the model works from, its units and tokens."""

    scaled_width: int
    scaled_height: int
    tiles: int | None
    patches: int | None
    tokens: int


@dataclass(frozen=True, slots=True)
class FixedRule:
    """Low detail on a tile model: `tokens` whatever the size (SPEC §1a).

    The model sees a copy fitted within `fit` × `fit` (seeds 000, 003).
    """

    tokens: int
    fit: int

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        scaled_w, scaled_h = fit_within(width, height, self.fit)
        return Sizing(scaled_w, scaled_h, None, None, self.tokens)


@dataclass(frozen=True, slots=True)
class TileRule:
    """High detail on a tile model: fit, cap the short side, count tiles (SPEC §1a)."""

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


@dataclass(frozen=True, slots=True)
class PatchRule:
    """A detail level of a patch model: pixel limit, optional budget, multiplier (SPEC §1b).

    `size` does not reject: callers compare `patches` with `max_patches` (step 4)
    so that the error can name the model and detail.
    """

    max_dimension: int
    patch_budget: int | None
    patch_size: int
    max_patches: int
    multiplier: Fraction

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        scaled_w, scaled_h = fit_within(width, height, self.max_dimension)
        if self.patch_budget is not None:
            scaled_w, scaled_h = fit_patch_budget(scaled_w, scaled_h, self.patch_size, self.patch_budget)
        patches = patch_count(scaled_w, scaled_h, self.patch_size)
        return Sizing(scaled_w, scaled_h, None, patches, ceil_times(patches, self.multiplier))


Rule = FixedRule | TileRule | PatchRule
