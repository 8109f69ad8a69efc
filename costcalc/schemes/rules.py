"""The kinds of detail rule a model table row is made of, each applied to one size (SPEC §1, §6).

Every rule is a frozen dataclass with `size(width, height) -> Sizing`, a
`basis` (how sure its figures are, SPEC §6) and `reject(width, height, sizing)`,
which names an input rule the size breaks (the API refuses rather than
resizes) or returns None. `size` itself never raises, so the batch path and
the preflight planner can price rejected sizes too and leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import ClassVar, NamedTuple

from .geometry import (
    cap_short_side,
    ceil_times,
    claude_size,
    fit_patch_budget,
    fit_within,
    gemini_legacy_tiles,
    llama4_best_fit,
    mistral_grid,
    mistral_size,
    nearest_entry,
    patch_count,
    qwen_size,
    tile_count,
)

__all__ = [
    "BASES",
    "Sizing",
    "FixedRule",
    "TileRule",
    "PatchRule",
    "ClaudeRule",
    "FlatRule",
    "GeminiTileRule",
    "MistralRule",
    "QwenRule",
    "NearestRule",
    "Llama4Rule",
    "UnpublishedRule",
    "Rule",
    "can_reject",
    "total_basis",
]

BASES = ("exact", "maximum", "approximate", "flat")
"""How sure a figure is (SPEC §6): a published algorithm or the vendor's code; a documented
ceiling (`≤ N`); only "~" figures (`≈ N`); one fixed count per image."""

def total_basis(bases) -> str:
    """How sure a sum is: as sure as its least sure part (approximate, then maximum, else exact); a sum
    with an unknown part is None, which `tokens_cell` shows as unknown."""
    return next((basis for basis in ("approximate", "maximum") if basis in bases), "exact")


class Sizing(NamedTuple):
    """One image at one detail level: the size the model works from, its units, tokens and basis.

    The scaled size is never larger than the image and a copy written at it costs
    the same (what preflight writes). Where that is not sure (a vendor upscales,
    or publishes no resize) it is the image's own size.
    """

    scaled_width: int
    scaled_height: int
    tiles: int | None
    patches: int | None
    tokens: int | None
    """None when the rule knows the size but not the tokens (an unpublished multiplier, SPEC §2a)."""
    basis: str = "exact"


class _Rule:
    """What every rule shares: an `exact` basis and no rejection, unless it says otherwise."""

    __slots__ = ()
    basis: ClassVar[str] = "exact"

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """(input rule, reason) when the API refuses this size instead of resizing it, else None."""
        return None


def can_reject(rule: Rule) -> bool:
    """True when the rule has input limits of its own (its `reject` may name one): a fast path for pricers."""
    return type(rule).reject is not _Rule.reject


def _too_large(rule_name: str, limit: int, width: int, height: int) -> tuple[str, str] | None:
    if max(width, height) > limit:
        return rule_name, f"has a side over {limit:,} px; the API rejects it rather than resizing it"
    return None


@dataclass(frozen=True, slots=True)
class FixedRule(_Rule):
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
class TileRule(_Rule):
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
class PatchRule(_Rule):
    """A detail level of a patch model: pixel limit, optional budget, multiplier (SPEC §1b).

    Over `max_patches` after sizing the API rejects the image (step 4): `reject` says so.
    A multiplier of None is one nobody published (SPEC §2a, gpt-6-sol): the size seen and
    the patches are known, the tokens are not (None, basis `unknown`); never a borrowed number.
    """

    max_dimension: int
    patch_budget: int | None
    patch_size: int
    max_patches: int
    multiplier: Fraction | None

    @property
    def basis(self) -> str:
        """`exact`, or `unknown` when the multiplier is unpublished (SPEC §2a, §6)."""
        return "unknown" if self.multiplier is None else "exact"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule (tokens None when the multiplier is unpublished)."""
        scaled_w, scaled_h = fit_within(width, height, self.max_dimension)
        if self.patch_budget is not None:
            scaled_w, scaled_h = fit_patch_budget(scaled_w, scaled_h, self.patch_size, self.patch_budget)
        patches = patch_count(scaled_w, scaled_h, self.patch_size)
        if self.multiplier is None:
            return Sizing(scaled_w, scaled_h, None, patches, None, "unknown")
        return Sizing(scaled_w, scaled_h, None, patches, ceil_times(patches, self.multiplier))

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Over max_patches after sizing: rejected, not resized (SPEC §1b step 4)."""
        if sizing.patches > self.max_patches:
            return "max_patches", (
                f"needs {sizing.patches:,} patches after sizing; "
                f"the API rejects images over {self.max_patches:,} patches instead of resizing them"
            )
        return None


@dataclass(frozen=True, slots=True)
class ClaudeRule(_Rule):
    """Anthropic Claude: 28-px patches within a pixel edge and a token cap (SPEC §6a).

    The size seen is found by the reference search (`geometry.claude_size`),
    tokens = ceil(w/28) × ceil(h/28); padding to whole patches is free. Sides
    over `max_side` (8000 px) are rejected.
    """

    max_edge: int
    max_tokens: int
    patch_size: int = 28
    max_side: int = 8000

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        w, h = claude_size(width, height, self.patch_size, self.max_edge, self.max_tokens)
        patches = patch_count(w, h, self.patch_size)
        return Sizing(w, h, None, patches, patches)

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Larger than max_side × max_side: rejected (SPEC §6a limits)."""
        return _too_large("max_side", self.max_side, width, height)


@dataclass(frozen=True, slots=True)
class FlatRule(_Rule):
    """One count per image whatever its size, with how sure it is (SPEC §6b, §6e).

    Gemini 3 media resolutions (`maximum`), Gemini 2.5 (`approximate`), Nova 2 (`flat`).
    Nothing is known of a resize, so the size seen is the image's own.
    """

    tokens: int
    basis: str = "flat"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        return Sizing(width, height, None, None, self.tokens, self.basis)


@dataclass(frozen=True, slots=True)
class GeminiTileRule(_Rule):
    """Gemini 2.0 / 1.5 (SPEC §6b): both sides ≤ small_side → small_tokens, exact;
    else crop tiles of tile_tokens each, unit clamp(min side / 1.5, min_unit, max_unit), approximate."""

    small_side: int = 384
    small_tokens: int = 258
    tile_tokens: int = 258
    min_unit: int = 256
    max_unit: int = 768
    basis: ClassVar[str] = "approximate"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        if width <= self.small_side and height <= self.small_side:
            return Sizing(width, height, 1, None, self.small_tokens, "exact")
        tiles = gemini_legacy_tiles(width, height, self.min_unit, self.max_unit)
        return Sizing(width, height, tiles, None, self.tile_tokens * tiles, "approximate")


@dataclass(frozen=True, slots=True)
class MistralRule(_Rule):
    """Mistral: a patch × merge grid plus one break token per row, as mistral-common counts (SPEC §6c).

    Downscale within max_size × max_size (`geometry.mistral_size`), then
    columns × rows + rows tokens. `patches` is the grid (columns × rows).
    Sides over `max_side` (10,000 px) are rejected.
    """

    patch_size: int
    merge: int
    max_size: int
    max_side: int = 10000

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        w, h = mistral_size(width, height, self.max_size)
        columns, rows = mistral_grid(w, h, self.patch_size, self.merge)
        return Sizing(w, h, None, columns * rows, columns * rows + rows)

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Larger than max_side × max_side: rejected (SPEC §6c limits)."""
        return _too_large("max_side", self.max_side, width, height)


@dataclass(frozen=True, slots=True)
class QwenRule(_Rule):
    """Qwen-VL on DashScope: the factor-32/28 smart resize, w'·h'/f² + 2 tokens (SPEC §6d).

    `max_pixels` is the row's default (or `vl_high_resolution_images`); a
    request's own is applied with `with_max_pixels`. Sides under `min_side` px
    and aspect ratios over `max_aspect`:1 are rejected. `patches` is w'·h'/f².
    The size seen is the resized one capped at the image's own, or the image's
    own where the rule upscales it (then no smaller copy costs the same), where
    the capped size would itself break the input limits (rounding can stretch
    the aspect ratio), or where the capped copy would be resized differently (a
    thin image just under max_pixels: one side grows, the other shrinks): a copy
    written at it is accepted and costs the same.
    """

    factor: int
    max_pixels: int
    min_pixels: int | None = None
    min_side: int = 11
    max_aspect: int = 200

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        f = self.factor
        w, h = qwen_size(width, height, f, self.max_pixels, self.min_pixels)
        patches = (w // f) * (h // f)
        seen_w, seen_h = min(w, width), min(h, height)
        least = 4 * f * f if self.min_pixels is None else self.min_pixels
        if round(width / f) * round(height / f) * f * f < least or self._refused(seen_w, seen_h):
            seen_w, seen_h = width, height  # upscaled: no smaller copy costs the same
        elif (w > width or h > height) and qwen_size(seen_w, seen_h, f, self.max_pixels, self.min_pixels) != (w, h):
            seen_w, seen_h = width, height  # one side grew, one shrank: the capped copy would be resized otherwise
        return Sizing(seen_w, seen_h, None, patches, patches + 2)

    def _refused(self, width: int, height: int) -> bool:
        return min(width, height) < self.min_side or max(width, height) > self.max_aspect * min(width, height)

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """A side under min_side, or an aspect ratio over max_aspect: rejected (SPEC §6d limits)."""
        if not self._refused(width, height):
            return None
        if min(width, height) < self.min_side:
            return "min_side", f"has a side under {self.min_side} px; the API rejects it"
        return "max_aspect", f"has an aspect ratio over {self.max_aspect}:1; the API rejects it"

    def with_max_pixels(self, max_pixels: int) -> QwenRule:
        """This rule with a request's own `max_pixels` (SPEC §6d, §6g)."""
        return replace(self, max_pixels=max_pixels)


@dataclass(frozen=True, slots=True)
class NearestRule(_Rule):
    """Amazon Nova 1 (SPEC §6e): only a "~" table exists, so the image costs its nearest entry.

    Nearest by aspect ratio, then by pixel count, as the guide's own example
    (800×400 → 900×450 → ~800) reads it (`geometry.nearest_entry`). Sides over
    `max_side` (8000 px) are rejected.
    """

    entries: tuple[tuple[int, int, int], ...]
    """(width, height, tokens) of each table entry."""
    max_side: int = 8000
    basis: ClassVar[str] = "approximate"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        tokens = self.entries[nearest_entry(width, height, self.entries)][2]
        return Sizing(width, height, None, None, tokens, "approximate")

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Larger than max_side × max_side: rejected (SPEC §6e)."""
        return _too_large("max_side", self.max_side, width, height)


@dataclass(frozen=True, slots=True)
class Llama4Rule(_Rule):
    """Llama 4 Scout / Maverick as transformers' processor counts (SPEC §6e), approximate on a host.

    The canvas is `get_best_fit`'s (`geometry.llama4_best_fit`), n = its tiles:
    one tile costs `global_tokens` (147), n > 1 tiles `tile_tokens`·n + `global_tokens` (145·n + 147).
    The size seen is given as the image's own: the image is resized into its
    canvas, but a copy written at that size could fit a smaller canvas (fewer
    tokens), so only the original is sure to cost the same.
    """

    tile_size: int = 336
    max_tiles: int = 16
    tile_tokens: int = 145
    global_tokens: int = 147
    basis: ClassVar[str] = "approximate"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        canvas_w, canvas_h = llama4_best_fit(width, height, self.tile_size, self.max_tiles)
        tiles = (canvas_w // self.tile_size) * (canvas_h // self.tile_size)
        tokens = self.global_tokens + (self.tile_tokens * tiles if tiles > 1 else 0)
        return Sizing(width, height, tiles, None, tokens, "approximate")


@dataclass(frozen=True, slots=True)
class UnpublishedRule(_Rule):
    """A model or detail level with no public rule (SPEC §2b, §6): pricing it is an error, never a guess.

    `Model.rule` raises UnpublishedRuleError before a size is priced; `size` raises it too.
    """

    note: str
    basis: ClassVar[str] = "unknown"

    def size(self, width: int, height: int) -> Sizing:
        """Always UnpublishedRuleError: there is no rule to apply."""
        from ..errors import UnpublishedRuleError

        raise UnpublishedRuleError("this model", "auto", self.note)


Rule = (
    FixedRule | TileRule | PatchRule | ClaudeRule | FlatRule | GeminiTileRule | MistralRule | QwenRule
    | NearestRule | Llama4Rule | UnpublishedRule
)
