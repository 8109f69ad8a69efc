"""Fitting a billing scheme from measured image-token counts: the shared types and helpers, and the OpenAI tile,
Claude and Gemini (one count per image) fitters; the OpenAI patch fitter is in patch_fit.py.

`ask(width, height, detail)` gives the tokens of one image; each fitter picks the sizes that pin every
parameter and keeps, where several values bill alike, the table's, a round one or the smallest (see
costcalc.truth.probe's docstring).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import ceil, isqrt
from typing import Any

from ..schemes.claude import ClaudeRule
from ..schemes.fixed import FlatRule
from ..schemes.tile import TileRule

MAX_PIXELS = 150_000_000
"""Largest synthetic image made (memory: one byte a pixel while it is encoded)."""

__all__ = ["NoFit", "Reading", "Fit", "Recorder", "decimal_text", "fit_tile", "fit_claude", "fit_flat"]

PLACES = 3
"""Most decimal places of a patch multiplier the probe fits (the simplest consistent one is kept)."""
LIMIT_SENTINEL = 65535
"""A patch pixel limit of 65,535 px is the tables' "no limit"; so is the widest image probed."""

PATCH = 32  # OpenAI patch size (https://platform.openai.com/docs/guides/images-vision#calculating-costs)
CLAUDE_PATCH = 28  # Claude patch size (https://docs.anthropic.com/en/docs/build-with-claude/vision)
ONE = Fraction(1)


class NoFit(Exception):
    """The answers fit no rule of the scheme: the reason."""


@dataclass(frozen=True)
class Reading:
    """One image size at one detail level and the tokens its image cost (request count less the count without it)."""

    width: int
    height: int
    detail: str
    tokens: int
    use: str = "fit"
    """`fit` (chosen to pin a parameter) or `check` (not used in the fit, compared with the fitted rule)."""
    predicted: int | None = None
    """The fitted rule's count (None when no rule fits)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "width": self.width,
            "height": self.height,
            "detail": self.detail,
            "tokens": self.tokens,
            "predicted": self.predicted,
            "use": self.use,
        }


@dataclass(frozen=True)
class Fit:
    """A fitted rule: its scheme, the detail level it belongs to, its parameters and the values equivalent to each."""

    scheme: str
    """tile, patch, claude or fixed (the table's scheme names)."""
    level: str
    """The detail level the parameters belong to (`high` for tile, `auto` for Claude)."""
    params: dict[str, Any]
    """Parameter → value (multipliers as Decimal, a patch budget None when there is none)."""
    equivalent: dict[str, str] = field(default_factory=dict)
    """Parameter → the values that bill every size alike, as text, where there are several."""
    rule: Any = None
    """The fitted rule (a `costcalc.schemes` rule) for predictions."""
    notes: tuple[str, ...] = ()
    sent: str = "auto"
    """The detail the measurements were sent at (a tile fit asked for `low` is measured at `high`)."""

    def expected(self, width: int, height: int, detail: str) -> tuple[int, ...]:
        """The counts the fitted rule allows for one image (for a patch rule, also the count binary floats give)."""
        if self.scheme == "tile" and detail == "low":
            return (self.params["base"],)
        sizing = self.rule.size(width, height)
        if self.scheme == "patch":
            return billed(sizing.patches, Fraction(self.params["multiplier"]))
        return (sizing.tokens,)


# ------------------------------------------------------------------ small helpers


def billed(patches: int, multiplier: Fraction) -> tuple[int, ...]:
    """ceil(patches × m) taken exactly, and also as binary floats compute it where that differs: OpenAI says its
    billing may differ from the formula by one token (150 × 1.62 is 243, 244 in floats)."""
    numerator, denominator = patches * multiplier.numerator, multiplier.denominator
    tokens = -(-numerator // denominator)
    floating = ceil(patches * (multiplier.numerator / multiplier.denominator))
    return (tokens,) if floating == tokens else (tokens, floating)


def _zeros(value: int) -> int:
    count = 0
    while value and value % 10 == 0:
        value, count = value // 10, count + 1
    return count


def pick(values: Sequence[int], table: Any = None, unit: int | None = None) -> int:
    """The value to write from values that bill alike: the table's, else a round thousand, else a multiple of
    `unit` (vendors' edges are whole patches: 1568 = 56 × 28), else the smallest."""
    if table in values:
        return table
    return max(values, key=lambda v: (_zeros(v) >= 3, bool(unit) and v % unit == 0, -v))


def span(values: Sequence[int], open_top: bool = False) -> str:
    low, high = min(values), max(values)
    if open_top:
        return f"{low:,} or more"
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def factor_grid(n: int, most: int) -> tuple[int, int] | None:
    """(a, b) with a·b = n and a ≤ b ≤ most, b as small as can be; None when n has no such factors."""
    for a in range(isqrt(n), max(ceil(n / most), 1) - 1, -1):
        if a >= 1 and n % a == 0 and n // a <= most:
            return a, n // a
    return None


def narrow(
    hypotheses: list, outcomes: Callable[[Any, Any], tuple], pool: Iterable, measure: Callable[[Any], int]
) -> list:
    """Measure the pool entry that best splits the hypotheses (fewest left in the worst case, then the smallest
    image), keep those it allows, and repeat until no entry splits them; the hypotheses left.

    Every hypothesis left bills every pool entry alike: equivalent as far as the pool can tell.
    """
    pool = list(dict.fromkeys(pool))
    while len(hypotheses) > 1:
        best = None
        for entry in pool:
            counts = Counter(t for h in hypotheses for t in outcomes(h, entry))
            worst = max(counts.values())
            if worst >= len(hypotheses):
                continue
            key = (worst, _area(entry))
            if best is None or key < best[0]:
                best = (key, entry)
        if best is None:
            break
        entry = best[1]
        pool.remove(entry)
        tokens = measure(entry)
        hypotheses = [h for h in hypotheses if tokens in outcomes(h, entry)]
    return hypotheses


class Recorder:
    """An `ask(width, height, detail)` that remembers every answer in `seen` (the fitters filter on them)."""

    def __init__(self, ask: Callable[[int, int, str], int]):
        self._ask = ask
        self.seen: dict[tuple[int, int, str], int] = {}

    def __call__(self, width: int, height: int, detail: str) -> int:
        key = (width, height, detail)
        if key not in self.seen:
            self.seen[key] = self._ask(width, height, detail)
        return self.seen[key]


def _area(entry: Any) -> int:
    return entry[0] * entry[1] if isinstance(entry, tuple) else entry


# ------------------------------------------------------------------ fitting: OpenAI tile


def fit_tile(ask, detail: str, table: TileRule | None) -> Fit:
    """base and tile from a 1-tile and a 2-tile image; the short side and the fit from sizes that tell them apart."""
    level = "auto" if detail == "auto" else "high"
    one, two = ask(32, 32, level), ask(1024, 32, level)
    tile, base = two - one, one - (two - one)
    if tile <= 0 or base < 0:
        raise NoFit(f"a 1-tile image counted {one} and a 2-tile image {two}: no base + tile × tiles fits")
    tile_size = table.tile_size if table else 512
    shorts = sorted({768, 512} | ({table.short_side} if table else set()))
    fits = sorted({2048} | ({table.fit} if table else set()))
    hypotheses = [(s, f) for s in shorts for f in fits]

    def outcomes(h, size):
        return (TileRule(base, tile, h[1], h[0], tile_size).size(*size).tokens,)

    pool = [(1024, 1024), (1536, 1536), (2048, 4096), (2560, 1669), (4096, 4096), (3000, 1000), (2049, 513), (900, 900)]
    left = narrow(
        [h for h in hypotheses if outcomes(h, (32, 32))[0] == one and outcomes(h, (1024, 32))[0] == two],
        outcomes,
        pool,
        lambda size: ask(*size, level),
    )
    if not left:
        raise NoFit("no short side (768 or 512) and fit (2048) explain the counts")
    short, fit = (table.short_side, table.fit) if table and (table.short_side, table.fit) in left else left[0]
    rule = TileRule(base, tile, fit, short, tile_size)
    return Fit(
        "tile", "high", {"base": base, "tile": tile, "short_side": short, "fit": fit, "tile_size": tile_size}, rule=rule
    )


def decimal_text(value: Fraction) -> str:
    """A decimal fraction as its shortest decimal text (1.37, 2, 0.125)."""
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ------------------------------------------------------------------ fitting: Claude


def fit_claude(ask, table: ClaudeRule | None) -> Fit:
    """max edge from one-row images (only floor(edge / 28) bills differently), max tokens from patch grids."""
    patch = CLAUDE_PATCH
    max_side = table.max_side if table else 8000
    for size, patches in (((28, 28), 1), ((56, 84), 6)):
        tokens = ask(*size, "auto")
        if tokens != patches:
            raise NoFit(
                f"a {size[0]}×{size[1]} image counted {tokens} tokens, not {patches} "
                f"(one a 28 px patch): not Claude's rule, or the image carries an overhead"
            )
    widest = ceil(max_side / patch)
    q = ask(max_side, patch, "auto")  # one row: min(floor(edge / 28), max tokens) patches
    if not 1 <= q <= widest:
        raise NoFit(f"a {max_side}×{patch} image counted {q} tokens: no edge limit explains it")
    wider = patch * (q + 1) <= max_side  # else the widest image itself showed the next width resized
    if (
        patch * q <= max_side
        and ask(patch * q, patch, "auto") != q
        or wider
        and ask(patch * (q + 1), patch, "auto") != q
    ):
        raise NoFit(f"one-row images do not stop growing at {q} patches")
    edges = list(range(patch * q, patch * q + patch)) if q < widest else [patch * q]
    edge = pick(edges, table.max_edge if table else None, patch)
    side = min(q, widest)  # a side of max_side px holds ceil(max_side / 28) patches, the last one partly

    def pixels(patches: int) -> int:
        return min(patch * patches, max_side)

    square = side * side
    tokens = ask(pixels(side), pixels(side), "auto")
    if tokens == square:  # every grid within the edge fits: any max tokens from `square` on bills alike
        most = table.max_tokens if table and table.max_tokens >= square else square
        equivalent = {"max_tokens": span([square], open_top=True)}
    else:
        s = isqrt(tokens)
        low, high = (s * s, (s + 1) ** 2 - 1) if s * s == tokens else (q, square - 1)

        def outcomes(x, size):
            return (ClaudeRule(edge, x, patch, max_side).size(*size).tokens,)

        hypotheses = [
            x
            for x in range(max(low, q), high + 1)
            if all(outcomes(x, (w, h))[0] == t for (w, h, d), t in ask.seen.items())
        ]
        pool = set()
        for n in range(min(hypotheses, default=0), max(hypotheses, default=0) + 2):
            grid = factor_grid(n, side)
            if grid:
                pool.add((pixels(grid[0]), pixels(grid[1])))
        left = narrow(hypotheses, outcomes, sorted(pool), lambda size: ask(*size, "auto"))
        if not left:
            raise NoFit("the counts fit no max tokens")
        most = pick(left, table.max_tokens if table else None)
        equivalent = {"max_tokens": span(left)} if len(left) > 1 else {}
    if len(edges) > 1:
        equivalent["max_edge"] = span(edges)
    rule = ClaudeRule(edge, most, patch, max_side)
    return Fit("claude", "auto", {"max_edge": edge, "max_tokens": most}, equivalent, rule)


# ------------------------------------------------------------------ fitting: Gemini


def fit_flat(ask, detail: str) -> Fit:
    """One count per image whatever its size, at one media resolution."""
    counts = {size: ask(*size, detail) for size in ((64, 64), (1024, 1024), (3000, 1000))}
    if len(set(counts.values())) != 1:
        raise NoFit("the counts vary with the image size: not one count per image")
    tokens = next(iter(counts.values()))
    return Fit("fixed", detail, {"tokens": tokens}, rule=FlatRule(tokens, "flat"), sent=detail)
