"""The billing rules over NumPy arrays of sizes: `costcalc.pricing.geometry`, vectorised (SPEC §1, §6).

Every rule but Llama 4's is symmetric in width and height, so the arrays are
worked as (long side, short side): clamps become `minimum`/`maximum` instead of
masked selects, which are several times slower. Sizes are mapped back to
(width, height) only when asked for.

OpenAI's rules are all int64 and exact: the only float is a square root,
corrected to the exact integer square root before use. Sides are at most
MAX_SIDE (2**31 - 1) and every table limit and multiplier term at most
MAX_LIMIT (2**24), both checked where sizes and tables come in, so no product
here leaves int64. Where a vendor computes in floats (Claude, Mistral, Qwen),
the same IEEE operations run on float64 arrays: a side or product below 2**53
converts exactly, so each result is bit for bit the scalar one (Qwen's larger
products, beyond any real image, are priced one by one).
"""

from __future__ import annotations

import numpy as np

from .geometry import llama4_canvases, qwen_size
from .rules import (
    ClaudeRule,
    FixedRule,
    FlatRule,
    GeminiTileRule,
    Llama4Rule,
    MistralRule,
    NearestRule,
    PatchRule,
    QwenRule,
    Rule,
    TileRule,
)

__all__ = [
    "sizes",
    "tokens",
    "rejected",
    "fit_within",
    "cap_short_side",
    "fit_patch_budget",
    "claude_size",
    "isqrt",
    "floor_sqrt_ratio",
]

_EXACT_FLOAT = 2**53
"""Integers below this convert to float64 exactly."""


def _ceil_div(a: np.ndarray, b: int) -> np.ndarray:
    if b & (b - 1) == 0:  # a power of two: a shift, several times faster than division
        return (a + (b - 1)) >> (b.bit_length() - 1)
    return -(-a // b)


def _select(mask: np.ndarray, yes: np.ndarray, no: np.ndarray) -> np.ndarray:
    """np.where(mask, yes, no) as arithmetic: over twice as fast on a random mask."""
    return no + mask * (yes - no)


def isqrt(n: np.ndarray) -> np.ndarray:
    """Exact floor(sqrt(n)) for int64 n in [0, 2**56]."""
    return floor_sqrt_ratio(n, np.ones_like(n))


def floor_sqrt_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Exact floor(sqrt(num / den)) for int64 num in [0, 2**56], den >= 1, as a float root.

    Exact without correction while num < 2**50: if num/den = k*k the float
    division and root are exact; otherwise |sqrt(num/den) - k| >= 1/(den(2k+1)),
    which exceeds the float error (about k * 1.6 * 2**-53) when 3.2 * den * k*k
    < 2**53, and den * k*k <= num. Larger values get an integer correction.
    """
    root = np.sqrt(num.astype(np.float64) / den).astype(np.int64)
    if num.size and num.max() >= 2**50:
        root -= (root * root * den > num).astype(np.int64)
        root += ((root + 1) * (root + 1) * den <= num).astype(np.int64)
    return root


def fit_within(long: np.ndarray, short: np.ndarray, box: int) -> tuple[np.ndarray, np.ndarray]:
    """`geometry.fit_within` on (long, short) sides (SPEC §1a step 1, §1b step 1).

    Where long <= box the rounded scale is >= short, so the minimum keeps short.
    """
    scaled = np.maximum(1, (2 * box * short + long) // (2 * long))
    return np.minimum(long, box), np.minimum(short, scaled)


def cap_short_side(long: np.ndarray, short: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """`geometry.cap_short_side` on (long, short) sides (SPEC §1a step 2).

    Where short <= cap, long·cap // short >= long, so the minimum keeps long.
    """
    return np.minimum(long, long * cap // short), np.minimum(short, cap)


def fit_patch_budget(long: np.ndarray, short: np.ndarray, patch: int, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """`geometry.fit_patch_budget` on (long, short) sides (SPEC §1b step 3); only sizes over budget move.

    Worked on whole arrays and selected at the end: cheaper than gathering and
    scattering the sizes over budget, whatever their share.
    """
    over = _ceil_div(long, patch) * _ceil_div(short, patch) > budget
    if not over.any():
        return long, short
    whole_long = floor_sqrt_ratio(budget * long, short)  # floor(long·shrink / patch)
    whole_short = floor_sqrt_ratio(budget * short, long)
    by_long = whole_long * short <= whole_short * long
    new_long = np.maximum(1, _select(by_long, patch * whole_long, patch * whole_short * long // short))
    new_short = np.maximum(1, _select(by_long, patch * whole_long * short // long, patch * whole_short))
    return _select(over, new_long, long), _select(over, new_short, short)


def claude_size(long: np.ndarray, short: np.ndarray, rule: ClaudeRule) -> tuple[np.ndarray, np.ndarray]:
    """`geometry.claude_size` on (long, short) sides (SPEC §6a): the reference search, bisected on whole arrays.

    Sizes that fit are kept; the others search [1, min(long, max_edge)] together,
    about log2(max_edge) steps, each the scalar step on every size at once.
    """
    patch, edge, cap = rule.patch_size, rule.max_edge, rule.max_tokens

    def fits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        across, down = _ceil_div(a, patch), _ceil_div(b, patch)
        return (across * patch <= edge) & (down * patch <= edge) & (across * down <= cap)

    keep = fits(long, short)
    if keep.all():
        return long, short
    move = np.flatnonzero(~keep)
    aspect = long[move] / short[move]  # float64, as the reference code divides
    low = np.ones(move.size, dtype=np.int64)
    high = np.minimum(long[move], edge)
    while (low < high).any():
        mid = (low + high + 1) // 2
        good = fits(mid, np.maximum(np.rint(mid / aspect).astype(np.int64), 1))
        low = np.where(good, mid, low)
        high = np.where(good, high, mid - 1)
    long, short = long.copy(), short.copy()
    long[move] = low
    short[move] = np.maximum(np.rint(low / aspect).astype(np.int64), 1)
    return long, short


def _mistral(w: np.ndarray, h: np.ndarray, rule: MistralRule):
    """`geometry.mistral_size` and the grid on (width, height) (SPEC §6c), mistral-common's floats.

    Not symmetric: the break tokens count rows, so 1024×512 and 512×1024 differ.
    """
    ratio = np.maximum(h / rule.max_size, w / rule.max_size)
    over = ratio > 1
    if over.any():
        w = np.where(over, np.maximum(np.rint(w / ratio), 1), w).astype(np.int64)
        h = np.where(over, np.maximum(np.rint(h / ratio), 1), h).astype(np.int64)
    step = rule.patch_size * rule.merge
    columns, rows = _ceil_div(w, step), _ceil_div(h, step)
    return w, h, columns * rows, columns * rows + rows


def _qwen(long: np.ndarray, short: np.ndarray, rule: QwenRule):
    """`geometry.qwen_size` on (long, short) sides (SPEC §6d), Alibaba's floats; tokens w'·h'/f² + 2."""
    f, most = rule.factor, rule.max_pixels
    least = 4 * f * f if rule.min_pixels is None else rule.min_pixels
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
    inexact = np.flatnonzero(product >= _EXACT_FLOAT)
    for i in inexact:  # beyond float64's integers: Python's exact int / int, one by one
        new_long[i], new_short[i] = qwen_size(int(long[i]), int(short[i]), f, most, rule.min_pixels)
    patches = (new_long // f) * (new_short // f)
    seen_long, seen_short = np.minimum(new_long, long), np.minimum(new_short, short)
    # the capped size where it keeps to the input limits, else the image's own (as QwenRule.size)
    seen_long, seen_short = np.maximum(seen_long, seen_short), np.minimum(seen_long, seen_short)
    keep = small | (seen_short < rule.min_side) | (seen_long > rule.max_aspect * seen_short)
    grew = np.flatnonzero(big & ~keep & ((new_long > long) | (new_short > short)))  # rare: thin, near max_pixels
    for i in grew:  # the capped copy resized again, one by one (as QwenRule.size)
        again = qwen_size(int(seen_long[i]), int(seen_short[i]), f, most, rule.min_pixels)
        keep[i] |= sorted(again) != sorted((int(new_long[i]), int(new_short[i])))
    return _select(keep, long, seen_long), _select(keep, short, seen_short), patches, patches + 2


def _gemini_tiles(long: np.ndarray, short: np.ndarray, rule: GeminiTileRule):
    """`geometry.gemini_legacy_tiles` on (long, short) sides (SPEC §6b): unit = clamp(2·short/3) as a fraction."""
    num = np.clip(2 * short, 3 * rule.min_unit, 3 * rule.max_unit)  # the unit is num / 3
    tiles = -(-3 * long // num) * -(-3 * short // num)
    tiles = np.where(long <= rule.small_side, 1, tiles)  # long <= small_side: both sides are
    tokens = np.where(long <= rule.small_side, rule.small_tokens, rule.tile_tokens * tiles)
    return long, short, tiles, tokens


def _nearest(long: np.ndarray, short: np.ndarray, rule: NearestRule):
    """`geometry.nearest_entry` on (long, short) sides (SPEC §6e): the same float distances, first on ties."""
    pixels = (long * short).astype(np.float64)
    best = np.zeros(long.shape, dtype=np.int64)
    best_aspect = np.full(long.shape, np.inf)
    best_area = np.full(long.shape, np.inf)
    for index, (w, h, _) in enumerate(rule.entries):
        e_long, e_short = max(w, h), min(w, h)
        ratio = (long * e_short).astype(np.float64) / (short * e_long).astype(np.float64)
        inverse = (short * e_long).astype(np.float64) / (long * e_short).astype(np.float64)
        aspect = np.maximum(ratio, inverse)
        area = np.maximum(pixels / (w * h), (w * h) / pixels)
        better = (aspect < best_aspect) | ((aspect == best_aspect) & (area < best_area))
        best = np.where(better, index, best)
        best_aspect = np.where(better, aspect, best_aspect)
        best_area = np.where(better, area, best_area)
    tokens = np.array([t for _, _, t in rule.entries], dtype=np.int64)[best]
    return long, short, None, tokens


def _llama4(w: np.ndarray, h: np.ndarray, rule: Llama4Rule):
    """`geometry.llama4_best_fit` on (width, height) (SPEC §6e); exact fractions.

    A canvas's scale is num / den with num a canvas side and den an image side;
    two scales compare by cross products (under 2**44). Pass 1 finds the chosen
    scale, pass 2 the smallest canvas of that scale, first on ties: as the scalar path.
    """
    canvases = llama4_canvases(rule.tile_size, rule.max_tiles)

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
    canvas_h = np.array([ch for ch, _ in canvases], dtype=np.int64)[best]
    canvas_w = np.array([cw for _, cw in canvases], dtype=np.int64)[best]
    tiles = (canvas_w // rule.tile_size) * (canvas_h // rule.tile_size)
    return w, h, tiles, rule.global_tokens + np.where(tiles > 1, rule.tile_tokens * tiles, 0)


def _long_short(rule: Rule, long: np.ndarray, short: np.ndarray):
    """Scaled (long, short), units (tiles or patches, None without them) and tokens, for a symmetric rule."""
    if isinstance(rule, FixedRule):
        long, short = fit_within(long, short, rule.fit)
        return long, short, None, np.full(long.shape, rule.tokens, dtype=np.int64)
    if isinstance(rule, TileRule):
        long, short = cap_short_side(*fit_within(long, short, rule.fit), rule.short_side)
        tiles = _ceil_div(long, rule.tile_size) * _ceil_div(short, rule.tile_size)
        return long, short, tiles, rule.base + rule.tile * tiles
    if isinstance(rule, PatchRule):
        long, short = fit_within(long, short, rule.max_dimension)
        if rule.patch_budget is not None:
            long, short = fit_patch_budget(long, short, rule.patch_size, rule.patch_budget)
        patches = _ceil_div(long, rule.patch_size) * _ceil_div(short, rule.patch_size)
        m = rule.multiplier
        if m is None:  # unpublished multiplier (SPEC §2a): sizes and patches only, tokens None
            return long, short, patches, None
        # Over max_patches the image is rejected (the caller checks); clamping first
        # keeps patches × numerator inside int64.
        billable = np.minimum(patches, rule.max_patches)
        return long, short, patches, _ceil_div(billable * m.numerator, m.denominator)
    if isinstance(rule, ClaudeRule):
        long, short = claude_size(long, short, rule)
        patches = _ceil_div(long, rule.patch_size) * _ceil_div(short, rule.patch_size)
        return long, short, patches, patches
    if isinstance(rule, QwenRule):
        return _qwen(long, short, rule)
    if isinstance(rule, FlatRule):
        return long, short, None, np.full(long.shape, rule.tokens, dtype=np.int64)
    if isinstance(rule, GeminiTileRule):
        return _gemini_tiles(long, short, rule)
    if isinstance(rule, NearestRule):
        return _nearest(long, short, rule)
    raise TypeError(f"not a rule with a batch path: {rule!r}")


_ORIENTED = {MistralRule: _mistral, Llama4Rule: _llama4}
"""Rules whose result depends on which side is the width: worked on (width, height) as given."""


def _rejected(rule: Rule, long: np.ndarray, short: np.ndarray, units) -> np.ndarray | None:
    """Where the API refuses the size instead of resizing it (each rule's `reject`), or None if it never does."""
    if isinstance(rule, PatchRule):
        return units > rule.max_patches
    if isinstance(rule, (ClaudeRule, MistralRule, NearestRule)):
        return long > rule.max_side
    if isinstance(rule, QwenRule):
        return (short < rule.min_side) | (long > rule.max_aspect * short)
    return None


def rejected(rule: Rule, w: np.ndarray, h: np.ndarray, units: np.ndarray | None = None) -> np.ndarray:
    """A bool array: True where the API rejects the size (over max_patches, max_side, ...), as `rule.reject` says.

    `units` are those `sizes` returned for the same arrays, if at hand (saves pricing patch sizes twice).
    """
    long, short = np.maximum(w, h), np.minimum(w, h)
    if units is None and isinstance(rule, PatchRule):  # only the patch limit needs the units
        units = _long_short(rule, long, short)[2]
    mask = _rejected(rule, long, short, units)
    return np.zeros(w.shape, dtype=bool) if mask is None else mask


CHUNK = 1 << 15
"""Sizes per pass: small enough that every temporary stays in cache (about 2x faster than whole arrays)."""


def tokens(rule: Rule, w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Tokens for flat int64 arrays, chunk by chunk, and the first index the API rejects (or None).

    A rule without published tokens (basis `unknown`, SPEC §2a) is a ValueError: callers check first.
    """
    if rule.basis == "unknown":
        raise ValueError(f"no tokens to compute: {rule!r} has no published multiplier")
    out = np.empty(w.shape, dtype=np.int64)
    limit = rule.max_patches if isinstance(rule, PatchRule) else None
    for start in range(0, w.size, CHUNK):
        cw, ch = w[start : start + CHUNK], h[start : start + CHUNK]
        long, short = np.maximum(cw, ch), np.minimum(cw, ch)
        oriented = _ORIENTED.get(type(rule))
        if oriented is not None:
            units, billed = oriented(cw, ch, rule)[2:]
        else:
            _, _, units, billed = _long_short(rule, long, short)
        if limit is not None:  # the common patch case: a max is cheaper than a mask
            if units.max() > limit:
                return out, start + int(np.argmax(units > limit))
        else:
            mask = _rejected(rule, long, short, units)
            if mask is not None and mask.any():
                return out, start + int(np.argmax(mask))
        out[start : start + CHUNK] = billed
    return out, None


def sizes(rule: Rule, w: np.ndarray, h: np.ndarray):
    """Apply one rule to int64 arrays: (scaled_w, scaled_h, units, tokens); rejected sizes are priced too.

    tokens is None for a patch rule whose multiplier is unpublished (SPEC §2a).
    """
    oriented = _ORIENTED.get(type(rule))
    if oriented is not None:
        return oriented(w, h, rule)
    wide = w >= h
    long, short, units, billed = _long_short(rule, np.maximum(w, h), np.minimum(w, h))
    return _select(wide, long, short), _select(wide, short, long), units, billed
