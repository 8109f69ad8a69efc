"""Pure geometry of the billing rules, one size at a time (SPEC §1, §6).

OpenAI's rules (SPEC §1) use no floats: every rounding the spec names is done
exactly. Where a vendor's own code computes in binary floating point (Claude's
resize search, mistral-common, Qwen's smart resize: SPEC §6a, §6c, §6d), the
same float operations are done in the same order, so the result is the
vendor's, rounding quirks included. `costcalc.pricing.batch` holds the same
maths over NumPy arrays; the tests hold the two to each other.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import ceil, floor, isqrt, sqrt

__all__ = [
    "ceil_div",
    "fit_within",
    "cap_short_side",
    "tile_count",
    "patch_count",
    "fit_patch_budget",
    "ceil_times",
    "claude_fits",
    "claude_size",
    "mistral_size",
    "mistral_grid",
    "qwen_size",
    "gemini_legacy_tiles",
    "llama4_canvases",
    "llama4_best_fit",
    "nearest_entry",
]


def ceil_div(a: int, b: int) -> int:
    """ceil(a / b) for positive integers."""
    return -(-a // b)


def fit_within(width: int, height: int, box: int) -> tuple[int, int]:
    """Fit within box × box keeping the aspect ratio, never upscaling (SPEC §1a step 1, §1b step 1).

    The long side becomes `box`; the scaled side is rounded to the nearest whole
    pixel, halves up, and is never less than 1.
    """
    if width <= box and height <= box:
        return width, height
    if width >= height:
        return box, max(1, (2 * height * box + width) // (2 * width))
    return max(1, (2 * width * box + height) // (2 * height)), box


def cap_short_side(width: int, height: int, short: int) -> tuple[int, int]:
    """Scale the short side down to `short`, the other side rounded down (SPEC §1a step 2).

    A short side of `short` or less is left alone (never upscale).
    """
    if min(width, height) <= short:
        return width, height
    if width <= height:
        return short, height * short // width
    return width * short // height, short


def tile_count(width: int, height: int, tile_size: int) -> int:
    """ceil(w / tile) × ceil(h / tile) (SPEC §1a step 3)."""
    return ceil_div(width, tile_size) * ceil_div(height, tile_size)


def patch_count(width: int, height: int, patch_size: int) -> int:
    """ceil(w / patch) × ceil(h / patch) (SPEC §1b step 2)."""
    return ceil_div(width, patch_size) * ceil_div(height, patch_size)


def fit_patch_budget(width: int, height: int, patch_size: int, budget: int) -> tuple[int, int]:
    """Shrink until the patches fit the budget, exactly (SPEC §1b step 3).

    The spec's float recipe, taken at full precision, reduces to integers:
    w·shrink/patch = sqrt(budget·w/h), so floor(w·shrink/patch) = isqrt(budget·w // h);
    the side with the smaller floor/actual ratio is the one that lands on a whole
    number of patches, and the other is floor(patch·k·other/side). The shrink
    factor itself cancels out. A size already within the budget is returned as is.
    """
    if patch_count(width, height, patch_size) <= budget:
        return width, height
    whole_w = isqrt(budget * width // height)   # floor(w·shrink / patch)
    whole_h = isqrt(budget * height // width)   # floor(h·shrink / patch)
    # min(whole_w / exact_w, whole_h / exact_h), compared without roots:
    # whole_w / sqrt(B·w/h) <= whole_h / sqrt(B·h/w)  <=>  whole_w·h <= whole_h·w
    if whole_w * height <= whole_h * width:
        new_w, new_h = patch_size * whole_w, patch_size * whole_w * height // width
    else:
        new_w, new_h = patch_size * whole_h * width // height, patch_size * whole_h
    return max(1, new_w), max(1, new_h)


def ceil_times(count: int, multiplier: Fraction) -> int:
    """ceil(count × multiplier), the product taken exactly (SPEC §1b step 5)."""
    return ceil_div(count * multiplier.numerator, multiplier.denominator)


# ------------------------------------------------------------------ other vendors (SPEC §6)


def claude_fits(width: int, height: int, patch: int, max_edge: int, max_tokens: int) -> bool:
    """Claude's fits(): both padded sides within max_edge and the patches within max_tokens (SPEC §6a)."""
    across, down = ceil_div(width, patch), ceil_div(height, patch)
    return across * patch <= max_edge and down * patch <= max_edge and across * down <= max_tokens


def claude_size(width: int, height: int, patch: int, max_edge: int, max_tokens: int) -> tuple[int, int]:
    """The size Claude works from, before padding to whole patches (SPEC §6a, Anthropic's reference code).

    A fitting image is kept. Otherwise, long side first: the largest long side L
    whose short side max(round(L / aspect), 1) fits, aspect = long / short in
    floats and round half to even, as the reference code computes it. fits() is
    monotone in L, and no L over max_edge fits, so the search runs over
    [1, min(long, max_edge)].
    """
    if claude_fits(width, height, patch, max_edge, max_tokens):
        return width, height
    long, short = max(width, height), min(width, height)
    aspect = long / short
    low, high = 1, min(long, max_edge)
    while low < high:
        mid = (low + high + 1) // 2
        if claude_fits(mid, max(round(mid / aspect), 1), patch, max_edge, max_tokens):
            low = mid
        else:
            high = mid - 1
    other = max(round(low / aspect), 1)
    return (low, other) if width >= height else (other, low)


def mistral_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """mistral-common's downscale to within max_size (SPEC §6c; `ImageEncoder._image_to_num_tokens`).

    ratio = max(h / M, w / M) in floats; over 1 each side becomes max(round(side / ratio), 1).
    """
    ratio = max(height / max_size, width / max_size)
    if ratio > 1:
        return max(round(width / ratio), 1), max(round(height / ratio), 1)
    return width, height


def mistral_grid(width: int, height: int, patch: int, merge: int) -> tuple[int, int]:
    """Token columns and rows: ceil(side / (patch × merge)) each (SPEC §6c)."""
    step = patch * merge
    return ceil_div(width, step), ceil_div(height, step)


def qwen_size(width: int, height: int, factor: int, max_pixels: int, min_pixels: int | None = None) -> tuple[int, int]:
    """The size Qwen-VL resizes to on DashScope: (width, height), multiples of `factor` (SPEC §6d).

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


def gemini_legacy_tiles(width: int, height: int, min_unit: int, max_unit: int) -> int:
    """Gemini 2.0 / 1.5 crop tiles: unit = clamp(min side / 1.5, min_unit, max_unit), ceil(w/u)·ceil(h/u) (SPEC §6b).

    Exact: the unit is the fraction 2·min / 3 unless clamped.
    """
    unit = min(max(Fraction(2 * min(width, height), 3), Fraction(min_unit)), Fraction(max_unit))
    return ceil(width / unit) * ceil(height / unit)


@lru_cache(maxsize=8)
def llama4_canvases(tile: int, max_tiles: int) -> tuple[tuple[int, int], ...]:
    """Llama 4's possible canvases as (height, width) in pixels, in transformers' order (SPEC §6e).

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
    """The canvas (width, height) transformers' `get_best_fit` picks for an image (SPEC §6e).

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


def nearest_entry(width: int, height: int, entries: tuple[tuple[int, int, int], ...]) -> int:
    """Index of the (width, height, tokens) entry nearest in aspect ratio, then in pixel count (SPEC §6e).

    Amazon's Nova guide: the image is matched to the closest aspect ratio, its
    example 800×400 → 900×450 → ~800. Orientation does not matter (H×W or W×H).
    Distances are multiplicative: max(a / b, b / a), in floats computed once from
    exact integer products, so the batch path can repeat them bit for bit.
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
