"""The billing rules over NumPy arrays of sizes: `costcalc.geometry`, vectorised (SPEC §1).

Every rule is symmetric in width and height, so the arrays are worked as
(long side, short side): clamps become `minimum`/`maximum` instead of masked
selects, which are several times slower. Sizes are mapped back to
(width, height) only when asked for.

All int64 and exact: the only float is a square root, corrected to the exact
integer square root before use. Sides are at most MAX_SIDE (2**31 - 1) and every
table limit and multiplier term at most MAX_LIMIT (2**24), both checked where
sizes and tables come in, so no product here leaves int64.
"""

from __future__ import annotations

import numpy as np

from .rules import FixedRule, PatchRule, Rule, TileRule

__all__ = ["sizes", "tokens", "fit_within", "cap_short_side", "fit_patch_budget", "isqrt", "floor_sqrt_ratio"]


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


def _long_short(rule: Rule, long: np.ndarray, short: np.ndarray):
    """Scaled (long, short), units (tiles or patches, None for a fixed rule) and tokens."""
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
        # Over max_patches the image is rejected (the caller checks); clamping first
        # keeps patches × numerator inside int64.
        billable = np.minimum(patches, rule.max_patches)
        return long, short, patches, _ceil_div(billable * m.numerator, m.denominator)
    raise TypeError(f"not a rule: {rule!r}")


CHUNK = 1 << 15
"""Sizes per pass: small enough that every temporary stays in cache (about 2x faster than whole arrays)."""


def tokens(rule: Rule, w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Tokens for flat int64 arrays, chunk by chunk, and the first index over max_patches (or None)."""
    out = np.empty(w.shape, dtype=np.int64)
    limit = rule.max_patches if isinstance(rule, PatchRule) else None
    for start in range(0, w.size, CHUNK):
        cw, ch = w[start : start + CHUNK], h[start : start + CHUNK]
        _, _, units, billed = _long_short(rule, np.maximum(cw, ch), np.minimum(cw, ch))
        if limit is not None and units.max() > limit:
            return out, start + int(np.argmax(units > limit))
        out[start : start + CHUNK] = billed
    return out, None


def sizes(rule: Rule, w: np.ndarray, h: np.ndarray):
    """Apply one rule to int64 arrays: (scaled_w, scaled_h, units, tokens)."""
    wide = w >= h
    long, short, units, billed = _long_short(rule, np.maximum(w, h), np.minimum(w, h))
    return _select(wide, long, short), _select(wide, short, long), units, billed
