"""Token-maths throughput: the NumPy batch path and the scalar path against a bare pure-Python formula.

    python benchmarks/bench_tokens.py [--sizes N] [--sample M] [--repeat R]

All three run in this one process on the same random sizes, so the ratios hold
on a noisy machine. Goal (issue 2): batch >= 5x the bare loop and > 10M sizes/s.
"""

from __future__ import annotations

import argparse
import time
from math import isqrt

import numpy as np

import costcalc

# The two baselines repeat the fit step on purpose: a shared helper would add a call
# per size and flatter the ratios.


def bare_tile(w: int, h: int) -> int:
    """gpt-4o high, docs/openai.md, as a user would inline it: no lookup, no validation."""
    if w > 2048 or h > 2048:
        if w >= h:
            w, h = 2048, max(1, (2 * h * 2048 + w) // (2 * w))
        else:
            w, h = max(1, (2 * w * 2048 + h) // (2 * h)), 2048
    if min(w, h) > 768:
        if w <= h:
            w, h = 768, h * 768 // w
        else:
            w, h = w * 768 // h, 768
    return 85 + 170 * (-(-w // 512)) * (-(-h // 512))


def bare_patch(w: int, h: int) -> int:
    """gpt-4.1-mini-2025-04-14, docs/openai.md (2048 px, budget 1536, x1.62), inlined."""
    if w > 2048 or h > 2048:
        if w >= h:
            w, h = 2048, max(1, (2 * h * 2048 + w) // (2 * w))
        else:
            w, h = max(1, (2 * w * 2048 + h) // (2 * h)), 2048
    patches = (-(-w // 32)) * (-(-h // 32))
    if patches > 1536:
        ww, hh = isqrt(1536 * w // h), isqrt(1536 * h // w)
        if ww * h <= hh * w:
            w, h = 32 * ww, 32 * ww * h // w
        else:
            w, h = 32 * hh * w // h, 32 * hh
        patches = (-(-w // 32)) * (-(-h // 32))
    return -(-patches * 81 // 50)


CASES = [("tile", "gpt-4o", "high", bare_tile), ("patch", "gpt-4.1-mini-2025-04-14", "high", bare_patch)]


def best_rate(count: int, run, repeat: int) -> float:
    """Sizes per second, best of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, default=2_000_000, help="sizes for the batch path")
    parser.add_argument("--sample", type=int, default=100_000, help="sizes for the pure-Python loops")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    widths = rng.integers(1, 8000, args.sizes, dtype=np.int64)
    heights = rng.integers(1, 8000, args.sizes, dtype=np.int64)
    few = list(zip(widths[: args.sample].tolist(), heights[: args.sample].tolist()))

    print(f"{args.sizes:,} random sizes (batch), {args.sample:,} (pure Python); best of {args.repeat}")
    print(
        f"{'scheme':6}  {'model':24}  {'batch/s':>12}  {'scalar/s':>11}  {'bare/s':>11}  {'batch÷bare':>10}  {'scalar÷bare':>11}"
    )
    ok = True
    for scheme, model, detail, bare in CASES:
        # the three paths agree before anything is timed
        want = [bare(w, h) for w, h in few[:2000]]
        assert [costcalc.image_tokens(w, h, model=model, detail=detail) for w, h in few[:2000]] == want
        assert costcalc.image_tokens_batch(widths[:2000], heights[:2000], model=model, detail=detail).tolist() == want

        batch = best_rate(
            args.sizes, lambda: costcalc.image_tokens_batch(widths, heights, model=model, detail=detail), args.repeat
        )
        scalar = best_rate(
            len(few), lambda: [costcalc.image_tokens(w, h, model=model, detail=detail) for w, h in few], args.repeat
        )
        plain = best_rate(len(few), lambda: [bare(w, h) for w, h in few], args.repeat)
        print(
            f"{scheme:6}  {model:24}  {batch:12,.0f}  {scalar:11,.0f}  {plain:11,.0f}  {batch / plain:10.1f}  {scalar / plain:11.2f}"
        )
        ok &= batch >= 5 * plain and batch > 10_000_000
    print("goal (batch >= 5x bare and > 10M sizes/s):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
