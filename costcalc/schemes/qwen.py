"""`scheme = "qwen"`: Qwen-VL on DashScope, the factor-32/28 smart resize, w'·h'/f² + 2 tokens (docs/qwen.md).

https://www.alibabacloud.com/help/en/model-studio/vision
"""

from __future__ import annotations

from math import ceil, floor, sqrt

from ..records import record, replace
from .base import Grid, Parsed, Rule, Scheme, Sizing
from .fields import Row

__all__ = ["QwenRule", "qwen_size", "SCHEME"]


def qwen_size(width: int, height: int, factor: int, max_pixels: int, min_pixels: int | None = None) -> tuple[int, int]:
    """The size Qwen-VL resizes to on DashScope: (width, height), multiples of `factor` (docs/qwen.md).

    Alibaba Model Studio's billing rule, in its own float operations: each side
    rounded to the factor; over max_pixels both shrink by sqrt(h·w / max_pixels)
    and floor; under min_pixels (default 4·factor²) both grow and ceil. Tokens
    are w'·h' / factor² + 2. The result may be larger than the image (the rule
    rounds up and upscales tiny images). A request's own `max_pixels` goes here.
    """
    if min_pixels is None:
        min_pixels = 4 * factor * factor
    new_h, new_w = round(height / factor) * factor, round(width / factor) * factor
    if new_h * new_w > max_pixels:
        beta = sqrt(height * width / max_pixels)
        new_h, new_w = floor(height / beta / factor) * factor, floor(width / beta / factor) * factor
    elif new_h * new_w < min_pixels:
        beta = sqrt(min_pixels / (height * width))
        new_h, new_w = ceil(height * beta / factor) * factor, ceil(width * beta / factor) * factor
    return new_w, new_h


@record
class QwenRule(Rule):
    """Qwen-VL on DashScope: the factor-32/28 smart resize, w'·h'/f² + 2 tokens (docs/qwen.md).

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

    def grid(self, width: int, height: int) -> Grid:
        """`factor` cells over the resized size itself (larger than the image where the rule upscales it)."""
        w, h = qwen_size(width, height, self.factor, self.max_pixels, self.min_pixels)
        return Grid(w, h, self.factor, w // self.factor, h // self.factor, "cell", "plus 2 tokens per image")

    def _refused(self, width: int, height: int) -> bool:
        return min(width, height) < self.min_side or max(width, height) > self.max_aspect * min(width, height)

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """A side under min_side, or an aspect ratio over max_aspect: rejected (docs/qwen.md limits)."""
        if not self._refused(width, height):
            return None
        if min(width, height) < self.min_side:
            return "min_side", f"has a side under {self.min_side} px; the API rejects it"
        return "max_aspect", f"has an aspect ratio over {self.max_aspect}:1; the API rejects it"

    def with_max_pixels(self, max_pixels: int) -> QwenRule:
        """This rule with a request's own `max_pixels` (docs/qwen.md)."""
        return replace(self, max_pixels=max_pixels)

    def cell(self) -> str:
        """`f32/1,003,520px`: factor/max_pixels."""
        return f"f{self.factor}/{self.max_pixels:,}px"

    def long_short_array(self, long, short):
        """`qwen_size` on (long, short) arrays, Alibaba's floats; tokens w'·h'/f² + 2 (as `size`)."""
        import numpy as np

        from .arrays import EXACT_FLOAT

        f, most = self.factor, self.max_pixels
        least = 4 * f * f if self.min_pixels is None else self.min_pixels
        new_long = np.rint(long / f).astype(np.int64) * f
        new_short = np.rint(short / f).astype(np.int64) * f
        area = new_long * new_short
        product = long * short
        big, small = area > most, area < least
        if big.any():
            beta = np.sqrt(product[big] / most)
            new_long[big] = np.floor(long[big] / beta / f).astype(np.int64) * f
            new_short[big] = np.floor(short[big] / beta / f).astype(np.int64) * f
        if small.any():
            beta = np.sqrt(least / product[small])
            new_long[small] = np.ceil(long[small] * beta / f).astype(np.int64) * f
            new_short[small] = np.ceil(short[small] * beta / f).astype(np.int64) * f
        for i in np.flatnonzero(product >= EXACT_FLOAT):  # beyond float64's integers: Python's exact int / int
            new_long[i], new_short[i] = qwen_size(int(long[i]), int(short[i]), f, most, self.min_pixels)
        patches = (new_long // f) * (new_short // f)
        seen_long, seen_short = np.minimum(new_long, long), np.minimum(new_short, short)
        seen_long, seen_short = self._seen_array(long, short, new_long, new_short, seen_long, seen_short, big, small)
        return seen_long, seen_short, patches, patches + 2

    def _seen_array(self, long, short, new_long, new_short, seen_long, seen_short, big, small):
        """The capped size where it keeps to the input limits, else the image's own (as `size`)."""
        import numpy as np

        from .arrays import select

        seen_long, seen_short = np.maximum(seen_long, seen_short), np.minimum(seen_long, seen_short)
        keep = small | (seen_short < self.min_side) | (seen_long > self.max_aspect * seen_short)
        grew = np.flatnonzero(big & ~keep & ((new_long > long) | (new_short > short)))  # rare: thin, near max_pixels
        for i in grew:  # the capped copy resized again, one by one (as `size`)
            again = qwen_size(int(seen_long[i]), int(seen_short[i]), self.factor, self.max_pixels, self.min_pixels)
            keep[i] |= sorted(again) != sorted((int(new_long[i]), int(new_short[i])))
        return select(keep, long, seen_long), select(keep, short, seen_short)

    def reject_array(self, long, short, units):
        """A side under min_side, or an aspect ratio over max_aspect."""
        return (short < self.min_side) | (long > self.max_aspect * short)


def parse(row: Row) -> Parsed:
    """The rule at auto; with `high_max_pixels` (vl_high_resolution_images, docs/qwen.md) the same at high."""
    factor = row.integer("factor")
    least = row.integer("min_pixels") if "min_pixels" in row else None
    most = row.integer("max_pixels", low=4 * factor * factor if least is None else least)
    rule = QwenRule(factor, most, least, row.integer("min_side"), row.integer("max_aspect"))
    rules: tuple[tuple[str, Rule], ...] = (("auto", rule),)
    if "high_max_pixels" in row:
        rules += (("high", replace(rule, max_pixels=row.integer("high_max_pixels"))),)
    return Parsed(rules, "auto")


SCHEME = Scheme(
    keys=frozenset({"factor", "max_pixels", "high_max_pixels", "min_pixels", "min_side", "max_aspect"}), parse=parse
)
