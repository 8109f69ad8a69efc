"""The geometry several schemes share, one size at a time: fitting, capping, counting tiles and patches.

OpenAI's rules (docs/openai.md) use no floats: every rounding the spec names is done
exactly. A scheme's own geometry lives in its module (`claude`, `qwen`, ...).
`arrays` holds the same maths over NumPy arrays; the tests hold the two to each other.
"""

from __future__ import annotations

from fractions import Fraction
from math import isqrt

__all__ = [
    "ceil_div",
    "fit_within",
    "cap_short_side",
    "tile_count",
    "patch_count",
    "fit_patch_budget",
    "ceil_times",
]


def ceil_div(a: int, b: int) -> int:
    """ceil(a / b) for positive integers."""
    return -(-a // b)


def fit_within(width: int, height: int, box: int) -> tuple[int, int]:
    """Fit within box × box keeping the aspect ratio, never upscaling (docs/openai.md).

    The long side becomes `box`; the scaled side is rounded to the nearest whole
    pixel, halves up, and is never less than 1.
    """
    if width <= box and height <= box:
        return width, height
    if width >= height:
        return box, max(1, (2 * height * box + width) // (2 * width))
    return max(1, (2 * width * box + height) // (2 * height)), box


def cap_short_side(width: int, height: int, short: int) -> tuple[int, int]:
    """Scale the short side down to `short`, the other side rounded down (docs/openai.md).

    A short side of `short` or less is left alone (never upscale).
    """
    if min(width, height) <= short:
        return width, height
    if width <= height:
        return short, height * short // width
    return width * short // height, short


def tile_count(width: int, height: int, tile_size: int) -> int:
    """ceil(w / tile) × ceil(h / tile) (docs/openai.md)."""
    return ceil_div(width, tile_size) * ceil_div(height, tile_size)


def patch_count(width: int, height: int, patch_size: int) -> int:
    """ceil(w / patch) × ceil(h / patch) (docs/openai.md)."""
    return ceil_div(width, patch_size) * ceil_div(height, patch_size)


def fit_patch_budget(width: int, height: int, patch_size: int, budget: int) -> tuple[int, int]:
    """Shrink until the patches fit the budget, exactly (docs/openai.md).

    The spec's float recipe, taken at full precision, reduces to integers:
    w·shrink/patch = sqrt(budget·w/h), so floor(w·shrink/patch) = isqrt(budget·w // h);
    the side with the smaller floor/actual ratio is the one that lands on a whole
    number of patches, and the other is floor(patch·k·other/side). The shrink
    factor itself cancels out. A size already within the budget is returned as is.
    """
    if patch_count(width, height, patch_size) <= budget:
        return width, height
    whole_w = isqrt(budget * width // height)  # floor(w·shrink / patch)
    whole_h = isqrt(budget * height // width)  # floor(h·shrink / patch)
    # min(whole_w / exact_w, whole_h / exact_h), compared without roots:
    # whole_w / sqrt(B·w/h) <= whole_h / sqrt(B·h/w)  <=>  whole_w·h <= whole_h·w
    if whole_w * height <= whole_h * width:
        new_w, new_h = patch_size * whole_w, patch_size * whole_w * height // width
    else:
        new_w, new_h = patch_size * whole_h * width // height, patch_size * whole_h
    return max(1, new_w), max(1, new_h)


def ceil_times(count: int, multiplier: Fraction) -> int:
    """ceil(count × multiplier), the product taken exactly (docs/openai.md)."""
    return ceil_div(count * multiplier.numerator, multiplier.denominator)
