"""`scheme = "llama4"`: Llama 4 Scout / Maverick as transformers' processor counts (docs/meta.md), approximate on a host.

https://github.com/huggingface/transformers/tree/main/src/transformers/models/llama4
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from ..records import record
from .base import Parsed, Rule, Scheme, Sizing
from .fields import Row

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import ClassVar

__all__ = ["Llama4Rule", "llama4_canvases", "llama4_best_fit", "SCHEME"]


@lru_cache(maxsize=8)
def llama4_canvases(tile: int, max_tiles: int) -> tuple[tuple[int, int], ...]:
    """Llama 4's possible canvases as (height, width) in pixels, in transformers' order (docs/meta.md).

    `find_supported_resolutions` in transformers' Llama 4 image processor: for
    every tile count from max_tiles down to 1, its factor pairs (rows, columns),
    grouped by their ratio rows / columns in first-seen order.
    """
    by_ratio: dict[Fraction, list[tuple[int, int]]] = {}
    for count in range(max_tiles, 0, -1):
        for rows in sorted(f for f in range(1, count + 1) if count % f == 0):
            by_ratio.setdefault(Fraction(rows, count // rows), []).append((rows, count // rows))
    return tuple((rows * tile, columns * tile) for pairs in by_ratio.values() for rows, columns in pairs)


def _scale(canvas_h: int, canvas_w: int, height: int, width: int) -> Fraction:
    return min(Fraction(canvas_w, width), Fraction(canvas_h, height))


def llama4_best_fit(width: int, height: int, tile: int, max_tiles: int) -> tuple[int, int]:
    """The canvas (width, height) transformers' `get_best_fit` picks for an image (docs/meta.md).

    The scale of a canvas is the smaller of its two side ratios (no distortion).
    The smallest scale of at least 1 wins (least upscaling); without one, the
    largest below 1 (least downscaling); ties go to the smallest area, then to
    the first canvas. Scales are compared as exact fractions (transformers uses
    float32 tensors, which can only differ on near-ties).
    """
    canvases = llama4_canvases(tile, max_tiles)
    scales = [_scale(ch, cw, height, width) for ch, cw in canvases]
    up = [s for s in scales if s >= 1]
    chosen = min(up) if up else max(scales)
    best = min((ch * cw, i) for i, ((ch, cw), s) in enumerate(zip(canvases, scales)) if s == chosen)[1]
    return canvases[best][1], canvases[best][0]


def _best_fit_array(w, h, tile: int, max_tiles: int):
    """`llama4_best_fit` on (width, height) arrays, exact fractions: (canvas widths, canvas heights).

    A canvas's scale is num / den with num a canvas side and den an image side;
    two scales compare by cross products (under 2**44). Pass 1 finds the chosen
    scale, pass 2 the smallest canvas of that scale, first on ties: as the scalar path.
    """
    import numpy as np

    canvases = llama4_canvases(tile, max_tiles)

    def scale(ch: int, cw: int):
        by_width = cw * h <= ch * w  # cw / w <= ch / h
        return np.where(by_width, cw, ch), np.where(by_width, w, h)

    up_num = np.zeros(w.shape, dtype=np.int64)
    up_den = np.zeros(w.shape, dtype=np.int64)  # den 0: no upscale seen yet
    down_num = np.zeros(w.shape, dtype=np.int64)
    down_den = np.ones(w.shape, dtype=np.int64)
    for ch, cw in canvases:
        num, den = scale(ch, cw)
        up = num >= den
        lower = up & ((up_den == 0) | (num * up_den < up_num * den))
        up_num, up_den = np.where(lower, num, up_num), np.where(lower, den, up_den)
        higher = ~up & (num * down_den > down_num * den)
        down_num, down_den = np.where(higher, num, down_num), np.where(higher, den, down_den)
    has_up = up_den > 0
    chosen_num, chosen_den = np.where(has_up, up_num, down_num), np.where(has_up, up_den, down_den)
    best = np.zeros(w.shape, dtype=np.int64)
    best_area = np.full(w.shape, np.iinfo(np.int64).max)
    for index, (ch, cw) in enumerate(canvases):
        num, den = scale(ch, cw)
        better = (num * chosen_den == chosen_num * den) & (ch * cw < best_area)
        best = np.where(better, index, best)
        best_area = np.where(better, ch * cw, best_area)
    canvas_w = np.array([cw for _, cw in canvases], dtype=np.int64)[best]
    canvas_h = np.array([ch for ch, _ in canvases], dtype=np.int64)[best]
    return canvas_w, canvas_h


@record
class Llama4Rule(Rule):
    """Llama 4 Scout / Maverick as transformers' processor counts (docs/meta.md), approximate on a host.

    The canvas is `get_best_fit`'s (`llama4_best_fit`), n = its tiles:
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
    oriented = True  # a canvas is rows × columns: a wide and a tall image fit different canvases
    budget_note = "hosts publish no rule; the processor's tile count is a reading, not the bill"
    kept_note = "a copy at its canvas size could fit a smaller canvas"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        canvas_w, canvas_h = llama4_best_fit(width, height, self.tile_size, self.max_tiles)
        tiles = (canvas_w // self.tile_size) * (canvas_h // self.tile_size)
        tokens = self.global_tokens + (self.tile_tokens * tiles if tiles > 1 else 0)
        return Sizing(width, height, tiles, None, tokens, "approximate")

    def cell(self) -> str:
        """`≈ 147+145/tile`."""
        return f"≈ {self.global_tokens}+{self.tile_tokens}/tile"

    def size_array(self, w, h):
        """The image's own sizes, the canvas's tiles and the tokens, on (width, height) arrays."""
        import numpy as np

        canvas_w, canvas_h = _best_fit_array(w, h, self.tile_size, self.max_tiles)
        tiles = (canvas_w // self.tile_size) * (canvas_h // self.tile_size)
        return w, h, tiles, self.global_tokens + np.where(tiles > 1, self.tile_tokens * tiles, 0)


def parse(row: Row) -> Parsed:
    """The one rule, at auto."""
    rule = Llama4Rule(
        row.integer("tile_size"), row.integer("max_tiles"), row.integer("tile_tokens"), row.integer("global_tokens")
    )
    return Parsed((("auto", rule),), "auto")


SCHEME = Scheme(keys=frozenset({"tile_size", "max_tiles", "tile_tokens", "global_tokens"}), parse=parse)
