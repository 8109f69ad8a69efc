"""Fitting OpenAI's patch scheme (https://platform.openai.com/docs/guides/images-vision#calculating-costs):
the multiplier as the simplest decimal of at most PLACES places, the pixel limit, the patch budget.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import ceil, floor, isqrt
from typing import Any

from ..schemes.patch import PatchRule
from .fitters import (
    LIMIT_SENTINEL,
    MAX_PIXELS,
    ONE,
    PATCH,
    PLACES,
    Fit,
    NoFit,
    billed,
    decimal_text,
    factor_grid,
    narrow,
    pick,
    span,
)

__all__ = ["PatchFit"]


class PatchFit:
    """The patch fit, stage by stage: multiplier, pixel-limit bucket, budget, exact pixel limit."""

    def __init__(self, ask, detail: str, cap: int, table: dict[str, Any]):
        self._ask = lambda w, h: ask(w, h, detail)
        self.cap = cap
        self.table = table
        self.known: dict[tuple[int, int], int] = {}
        self.sure: dict[int, int] = {}  # patch count → tokens, for sizes billed at a patch count beyond doubt
        self.multipliers: list[Fraction] = []
        self.notes: list[str] = []
        self._patches = lru_cache(maxsize=None)(self._count)

    def _count(self, limit: int, budget: int | None, width: int, height: int) -> int:
        return PatchRule(limit, budget, PATCH, self.cap, ONE).size(width, height).patches

    def ask(self, width: int, height: int) -> int:
        tokens = self._ask(width, height)
        self.known[(width, height)] = tokens
        return tokens

    def ask_sure(self, width: int, height: int, patches: int) -> int:
        tokens = self.ask(width, height)
        self.sure[patches] = tokens
        self._update()
        return tokens

    def _update(self) -> None:
        """The multipliers consistent with every sure count: every decimal of at most PLACES places
        (OpenAI's are 1.2, 1.5, 1.62, 1.72, 2.46); the simplest is chosen at the end."""
        low = max(Fraction(t - 1, p) for p, t in self.sure.items())  # ceil(p·m) = t, or t by float rounding
        high = min(Fraction(t, p) for p, t in self.sure.items())
        scale = 10**PLACES
        found = [Fraction(k, scale) for k in range(max(ceil(low * scale), 1), floor(high * scale) + 1)]
        self.multipliers = [c for c in found if all(t in billed(p, c) for p, t in self.sure.items())]
        if not self.multipliers:
            raise NoFit(f"no multiplier of at most {PLACES} decimal places gives every count as ceil(patches × m)")

    def consistent(self, tokens: int, patches: int) -> bool:
        return any(tokens in billed(patches, c) for c in self.multipliers)

    # stage 1: the multiplier, from images no pixel limit (≥ 512 px) or budget (≥ 256 patches) touches
    def multiplier(self) -> None:
        for side, patches in ((32, 1), (64, 4), (512, 256)):
            self.ask_sure(side, side, patches)
        pool = {}
        for a in range(1, 17):
            for b in range(a, 17):
                pool.setdefault(a * b, (32 * a, 32 * b))
        self._refine(pool)

    def _refine(self, pool: dict[int, tuple[int, int]]) -> None:
        def measure(patches):
            return self.ask_sure(*pool[patches], patches)

        narrow(list(self.multipliers), lambda c, p: billed(p, c), [p for p in pool if p not in self.sure], measure)

    # stage 2: k = ceil(limit / 32), from one-row images: their patch count stops growing at k
    def bucket(self) -> int:
        far = self.ask(LIMIT_SENTINEL, PATCH)
        top = ceil(LIMIT_SENTINEL / PATCH)
        candidates = [p for p in range(16, top + 1) if self.consistent(far, p)]
        while len(candidates) > 1:
            j = candidates[(len(candidates) - 1) // 2]
            tokens = self.ask(PATCH * j, PATCH)
            if tokens == far:
                candidates = [p for p in candidates if p <= j]
            else:
                self.sure[j] = tokens
                self._update()
                candidates = [p for p in candidates if p > j and self.consistent(far, p)]
        if not candidates:
            raise NoFit("the widest one-row image's count fits no pixel limit of 512 px or more")
        k = candidates[0]
        if k < top and self.ask(PATCH * k, PATCH) != far:
            raise NoFit(f"one-row images stop growing at {k} patches, then grow again")
        if k > 16 and (k - 1) not in self.sure:
            tokens = self.ask(PATCH * (k - 1), PATCH)
            if tokens == far or not self.consistent(tokens, k - 1):
                raise NoFit(f"a one-row image of {k - 1} patches did not bill as {k - 1} patches")
            self.ask_sure(PATCH * (k - 1), PATCH, k - 1)
        return k

    # stage 3: the budget, from grids within 32·(k−1) px a side (no pixel limit touches them)
    def _outcomes(self, h, size):
        limit, budget, multiplier = h
        return billed(self._patches(limit, budget, *size), multiplier)

    def _filter(self, hypotheses: list, sizes: Iterable[tuple[int, int]]) -> list:
        for size in sizes:
            tokens = self.known[size]
            hypotheses = [h for h in hypotheses if tokens in self._outcomes(h, size)]
        return hypotheses

    def budget_below(self, low: int, high: int, limits: Sequence[int], most: int) -> list:
        """The budgets in [low, high] (with the limits and multipliers) that every count allows, narrowed by sizes."""
        hypotheses = [(limit, b, c) for limit in limits for b in range(low, high + 1) for c in self.multipliers]
        inside = [s for s in self.known if max(s) <= PATCH * most]  # no pixel limit in the bucket touches them
        sizes = sorted(inside, key=lambda s: -self._patches(LIMIT_SENTINEL, None, *s))  # shrunk ones first
        hypotheses = self._filter(hypotheses, sizes)
        while hypotheses and max(h[1] for h in hypotheses) - min(h[1] for h in hypotheses) > 200:
            budgets = sorted({h[1] for h in hypotheses})
            middle = budgets[len(budgets) // 2]
            n = next((n for n in range(middle, budgets[-1] + 1) if factor_grid(n, most)), None)
            if n is None or n <= budgets[0]:
                break
            a, b = factor_grid(n, most)
            self.ask(PATCH * a, PATCH * b)
            hypotheses = self._filter(hypotheses, [(PATCH * a, PATCH * b)])
        if not hypotheses:
            return []
        budgets = sorted({h[1] for h in hypotheses})
        pool = self._budget_pool(budgets[0], budgets[-1], most)
        hypotheses = narrow(hypotheses, self._outcomes, pool, lambda size: self.ask(*size))
        return self._split_budgets(hypotheses, PATCH * most)

    def _split_budgets(self, hypotheses: list, side: int) -> list:
        """Tell apart budgets that grids cannot: images whose shrink crosses a whole patch at one budget and not
        at the one below (floor(√(B·w/h)) steps up), within `side` px a side."""
        budgets = sorted({h[1] for h in hypotheses} - {None})
        if len(budgets) < 2:
            return hypotheses
        rng = random.Random(side * 7 + budgets[0])
        pool = set()
        for b in budgets[1:]:
            found = 0
            for _ in range(600):  # about one try in twelve crosses exactly at b
                h = rng.randint(PATCH, side)
                low, high = PATCH * b // h + 1, isqrt(side * b // h)
                if low > high:
                    continue
                across = rng.randint(low, min(high, low + 8))  # just over the budget: a few Mpx, not a Gpx
                w = -(-across * across * h // b)  # the least w with B·w/h ≥ across²
                if w <= side and (b - 1) * w < across * across * h:  # ... and (B−1)·w/h < across²
                    pool.update({(w, h), (h, w)})
                    found += 1
                    if found == 8:
                        break
        pool = [s for s in pool if s not in self.known and s[0] * s[1] <= MAX_PIXELS]
        return narrow(hypotheses, self._outcomes, pool, lambda size: self.ask(*size))

    def _budget_pool(self, low: int, high: int, most: int) -> list[tuple[int, int]]:
        """Sizes within 32·most px a side that tell budgets in [low, high] apart: grids just over each, and odd
        sizes whose shrink differs. No budget here is over the patch limit, so none of them is rejected."""
        rng = random.Random(low * 1_000_003 + high)
        pool = set()
        for n in range(low + 1, min(high + 1, self.cap) + 1):
            grid = factor_grid(n, most)
            if grid:
                pool.add((PATCH * grid[0], PATCH * grid[1]))
        for _ in range(160):
            a = rng.randint(1, most)
            b = ceil(rng.uniform(low, min(2 * high + 64, self.cap)) / a)
            if b <= most:
                pool.add((PATCH * a - rng.randint(0, 31), PATCH * b - rng.randint(0, 31)))
        return [s for s in pool if s not in self.known and s[0] * s[1] <= MAX_PIXELS]

    # stage 4: the exact limit in its bucket, from images whose short side crosses a row at a candidate limit
    def limit(self, k: int, budgets: Sequence[int | None], safe: int) -> list:
        """Limits in bucket k (with budgets and multipliers) every count allows; `safe`: patches billed unshrunk."""
        limits = list(range(PATCH * (k - 1) + 1, min(PATCH * k, LIMIT_SENTINEL) + 1))
        hypotheses = [(m, b, c) for m in limits for b in budgets for c in self.multipliers]
        pinned = budgets != [None]

        def usable(size):
            return all(self._patches(m, budgets[0], *size) <= (self.cap if pinned else safe) for m in limits)

        hypotheses = self._filter(hypotheses, [s for s in self.known if usable(s)])
        rows = min((min(budgets) if pinned else safe) // k, k) - 1
        pool = set()
        for c in limits[1:]:  # an image billed one more row of patches exactly when the limit is c or more
            for j in sorted({rows, rows - 1, rows - 2, rows // 2, rows // 4, 2, 1} - {0}, reverse=True):
                crossing = _crossing(k, c, j)
                if crossing and 0 < j <= rows:
                    pool.add(crossing)
        rng = random.Random(k)
        for _ in range(160 if PATCH * k < LIMIT_SENTINEL else 0):  # over the limit: a few rows, or any shape
            w = rng.randint(PATCH * k + 1, min(3 * PATCH * k, LIMIT_SENTINEL))
            rows_seen = rng.randint(1, min(k, 12))
            pool.add((w, max(1, (PATCH * rows_seen - rng.randint(0, 31)) * w // (PATCH * k))))
            pool.add((w, rng.randint(1, w)))
        pool = [s for s in pool if s not in self.known and usable(s) and s[0] * s[1] <= MAX_PIXELS]
        return narrow(hypotheses, self._outcomes, pool, lambda size: self.ask(*size))

    def run(self) -> Fit:
        self.multiplier()
        k = self.bucket()
        most = k - 1  # grids up to 32·(k−1) px a side: under every limit in the bucket
        safe = max(self.sure)
        budgets: list[int | None] | None = None  # None: not pinned yet, only "at least safe"
        n = max(a * min(most, self.cap // a) for a in range(1, most + 1))
        if n > safe:
            a, b = factor_grid(n, most)
            size = (PATCH * a, PATCH * b)
            tokens = self.ask(*size)
            if self.consistent(tokens, n):
                self.ask_sure(*size, n)
                safe = n
            else:
                left = self.budget_below(safe, n - 1, [LIMIT_SENTINEL], most)
                if not left:
                    raise NoFit("the counts fit no patch budget")
                budgets = sorted({h[1] for h in left})
                self.multipliers = sorted({h[2] for h in left})
        left = self.limit(k, budgets or [None], safe)
        if left:
            left = self._split_budgets(left, min(h[0] for h in left))
        if not left:
            raise NoFit("the counts fit no pixel limit")
        limits = sorted({h[0] for h in left})
        self.multipliers = sorted({h[2] for h in left})
        if budgets is None:
            budgets = self._budget_above(k, limits, safe)
        else:
            budgets = sorted({h[1] for h in left})
        if len(self.multipliers) > 1:  # larger grids, now that the budget is known, tell them apart
            bound = self.cap if budgets == [None] else min(budgets)
            pool = {}
            for a in range(1, most + 1):
                for b in range(a, min(most, bound // a) + 1):
                    pool.setdefault(a * b, (PATCH * a, PATCH * b))
            before = set(self.multipliers)  # what the sizes so far allow; the sure counts alone allow more
            self._refine(dict(sorted(pool.items())[-300:]))
            self.multipliers = [c for c in self.multipliers if c in before] or sorted(before)
        return self._result(k, limits, budgets)

    def _budget_above(self, k: int, limits: list[int], safe: int) -> list[int | None]:
        """With every grid within the limit billed unshrunk: is there a budget between `safe` and k² patches?"""
        if safe >= k * k:
            return [None]
        if k * k > self.cap:
            if safe < self.cap:
                self.notes.append(
                    f"no budget seen: any of {safe:,} patches or more bills alike up to the {self.cap:,}-patch limit"
                )
            return [None]
        size = (PATCH * k, PATCH * k)
        tokens = self.ask(*size)
        if any(tokens in self._outcomes((m, None, c), size) for m in limits for c in self.multipliers):
            return [None]
        hypotheses = [(m, b, c) for m in limits for b in range(safe, k * k) for c in self.multipliers]
        hypotheses = self._filter(hypotheses, [size])
        rng = random.Random(k * 31)
        pool = {
            (rng.randint(PATCH * (k - 2), LIMIT_SENTINEL), rng.randint(PATCH * (k - 2), PATCH * k + 64))
            for _ in range(200)
        }
        left = narrow(
            hypotheses, self._outcomes, [s for s in pool if s[0] * s[1] <= MAX_PIXELS], lambda size: self.ask(*size)
        )
        left = self._split_budgets(left, min(limits))
        if not left:
            raise NoFit("the counts fit no patch budget")
        return sorted({h[1] for h in left})

    def _result(self, k: int, limits: list[int], budgets: list[int | None]) -> Fit:
        table = self.table
        top = LIMIT_SENTINEL in limits  # the top bucket: any limit from there on bills alike
        if table.get("max_dimension") in limits:
            limit = table["max_dimension"]
        elif LIMIT_SENTINEL in limits:
            limit = LIMIT_SENTINEL
        else:
            limit = pick(limits)
        if None in budgets:
            budget = None
        else:
            budget = pick(budgets, table.get("patch_budget"))
        choices = self.multipliers
        wanted = table.get("multiplier")
        if wanted is not None and Fraction(wanted) in choices:
            multiplier = Fraction(wanted)
        else:
            multiplier = min(choices, key=lambda c: (len(decimal_text(c)), c))
        equivalent = {}
        if len(limits) > 1:
            equivalent["max_dimension"] = span(limits, open_top=top)
        if len(budgets) > 1 and None not in budgets:
            equivalent["patch_budget"] = span(budgets)
        if len(choices) > 1:
            equivalent["multiplier"] = ", ".join(decimal_text(c) for c in choices)
        rule = PatchRule(limit, budget, PATCH, self.cap, multiplier)
        params = {"multiplier": Decimal(decimal_text(multiplier)), "max_dimension": limit, "patch_budget": budget}
        return Fit("patch", "", params, equivalent, rule, tuple(self.notes))


def _crossing(k: int, limit: int, rows: int) -> tuple[int, int] | None:
    """A W × H image over every limit in bucket k whose short side, fitted, passes 32·rows px exactly when the
    limit is `limit` or more: fit_within gives floor(H·L/W + 1/2), over 32·rows iff L ≥ (64·rows + 1)·W / (2H),
    so (64·rows + 1)·W / (2H) must fall in (limit − 1, limit]. The narrowest such W (fewest pixels), or None."""
    r = 64 * rows + 1
    for w in range(PATCH * k + 1, min(PATCH * k + 4000, LIMIT_SENTINEL) + 1):
        h = -(-r * w // (2 * limit))  # the least H with r·W / (2H) ≤ limit
        if r * w > 2 * h * (limit - 1):
            return (w, h) if h < w and w * h <= MAX_PIXELS else None
    return None
