"""The billing rules over NumPy arrays of sizes: the shared array maths, and the dispatch to each rule's own path.

Each rule holds its NumPy path (`Rule.size_array`, `long_short_array`,
`reject_array`, in its scheme's module); this module holds the pieces several
share and the three calls the pricers make: `sizes`, `tokens`, `rejected`.
Symmetric rules are worked as (long side, short side): clamps become
`minimum`/`maximum` instead of masked selects, which are several times slower.

OpenAI's rules are all int64 and exact: the only float is a square root,
corrected to the exact integer square root before use. Sides are at most
MAX_SIDE (2**31 - 1) and every table limit and multiplier term at most
MAX_LIMIT (2**24), both checked where sizes and tables come in, so no product
here leaves int64. Where a vendor computes in floats (Claude, Mistral, Qwen),
the same IEEE operations run on float64 arrays: a side or product below 2**53
converts exactly, so each result is bit for bit the scalar one.
"""

from __future__ import annotations

import numpy as np

from .base import Rule

__all__ = [
    "CHUNK",
    "EXACT_FLOAT",
    "sizes",
    "tokens",
    "rejected",
    "ceil_div",
    "select",
    "fit_within",
    "cap_short_side",
    "fit_patch_budget",
    "isqrt",
    "floor_sqrt_ratio",
]

EXACT_FLOAT = 2**53
"""Integers below this convert to float64 exactly."""


def ceil_div(a: np.ndarray, b: int) -> np.ndarray:
    """ceil(a / b) for an int64 array and a positive int."""
    if b & (b - 1) == 0:  # a power of two: a shift, several times faster than division
        return (a + (b - 1)) >> (b.bit_length() - 1)
    return -(-a // b)


def select(mask: np.ndarray, yes: np.ndarray, no: np.ndarray) -> np.ndarray:
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
    """`geometry.fit_within` on (long, short) sides (docs/openai.md).

    Where long <= box the rounded scale is >= short, so the minimum keeps short.
    """
    scaled = np.maximum(1, (2 * box * short + long) // (2 * long))
    return np.minimum(long, box), np.minimum(short, scaled)


def cap_short_side(long: np.ndarray, short: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """`geometry.cap_short_side` on (long, short) sides (docs/openai.md).

    Where short <= cap, long·cap // short >= long, so the minimum keeps long.
    """
    return np.minimum(long, long * cap // short), np.minimum(short, cap)


def fit_patch_budget(long: np.ndarray, short: np.ndarray, patch: int, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """`geometry.fit_patch_budget` on (long, short) sides (docs/openai.md); only sizes over budget move.

    Worked on whole arrays and selected at the end: cheaper than gathering and
    scattering the sizes over budget, whatever their share.
    """
    over = ceil_div(long, patch) * ceil_div(short, patch) > budget
    if not over.any():
        return long, short
    whole_long = floor_sqrt_ratio(budget * long, short)  # floor(long·shrink / patch)
    whole_short = floor_sqrt_ratio(budget * short, long)
    by_long = whole_long * short <= whole_short * long
    new_long = np.maximum(1, select(by_long, patch * whole_long, patch * whole_short * long // short))
    new_short = np.maximum(1, select(by_long, patch * whole_long * short // long, patch * whole_short))
    return select(over, new_long, long), select(over, new_short, short)


def rejected(rule: Rule, w: np.ndarray, h: np.ndarray, units: np.ndarray | None = None) -> np.ndarray:
    """A bool array: True where the API rejects the size (over max_patches, max_side, ...), as `rule.reject` says.

    `units` are those `sizes` returned for the same arrays, if at hand (saves pricing patch sizes twice).
    """
    mask = rule.reject_array(np.maximum(w, h), np.minimum(w, h), units)
    return np.zeros(w.shape, dtype=bool) if mask is None else mask


CHUNK = 1 << 15
"""Sizes per pass: small enough that every temporary stays in cache (about 2x faster than whole arrays)."""


def tokens(rule: Rule, w: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Tokens for flat int64 arrays, chunk by chunk, and the first index the API rejects (or None).

    A rule without published tokens (basis `unknown`) is a ValueError: callers check first.
    """
    if rule.basis == "unknown":
        raise ValueError(f"no tokens to compute: {rule!r} has no published multiplier")
    out = np.empty(w.shape, dtype=np.int64)
    for start in range(0, w.size, CHUNK):
        cw, ch = w[start : start + CHUNK], h[start : start + CHUNK]
        long, short = np.maximum(cw, ch), np.minimum(cw, ch)
        units, billed = rule.units_tokens_array(cw, ch, long, short)
        first = rule.first_rejected(long, short, units)
        if first is not None:
            return out, start + first
        out[start : start + CHUNK] = billed
    return out, None


def sizes(rule: Rule, w: np.ndarray, h: np.ndarray):
    """Apply one rule to int64 arrays: (scaled_w, scaled_h, units, tokens); rejected sizes are priced too.

    tokens is None for a patch rule whose multiplier is unpublished.
    """
    return rule.size_array(w, h)
