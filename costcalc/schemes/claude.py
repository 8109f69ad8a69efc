"""`scheme = "claude"`: Anthropic Claude, 28-px patches within a pixel edge and a token cap (docs/anthropic.md).

https://platform.claude.com/docs/en/build-with-claude/vision
"""

from __future__ import annotations

from ..records import record
from .base import Grid, Parsed, Rule, Scheme, Sizing, too_large
from .fields import Row
from .geometry import ceil_div, patch_count

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ClaudeRule", "claude_fits", "claude_size", "claude_size_array", "SCHEME"]


def claude_fits(width: int, height: int, patch: int, max_edge: int, max_tokens: int) -> bool:
    """Claude's fits(): both padded sides within max_edge and the patches within max_tokens (docs/anthropic.md)."""
    across, down = ceil_div(width, patch), ceil_div(height, patch)
    return across * patch <= max_edge and down * patch <= max_edge and across * down <= max_tokens


def claude_size(width: int, height: int, patch: int, max_edge: int, max_tokens: int) -> tuple[int, int]:
    """The size Claude works from, before padding to whole patches (docs/anthropic.md, Anthropic's reference code).

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


def claude_size_array(long, short, rule: ClaudeRule):
    """`claude_size` on (long, short) arrays (docs/anthropic.md): the reference search, bisected on whole arrays.

    Sizes that fit are kept; the others search [1, min(long, max_edge)] together,
    about log2(max_edge) steps, each the scalar step on every size at once.
    """
    import numpy as np

    from .arrays import ceil_div as ceil_div_array

    patch, edge, cap = rule.patch_size, rule.max_edge, rule.max_tokens

    def fits(a, b):
        across, down = ceil_div_array(a, patch), ceil_div_array(b, patch)
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


@record
class ClaudeRule(Rule):
    """Anthropic Claude: 28-px patches within a pixel edge and a token cap (docs/anthropic.md).

    The size seen is found by the reference search (`claude_size`),
    tokens = ceil(w/28) × ceil(h/28); padding to whole patches is free. Sides
    over `max_side` (8000 px) are rejected.
    """

    max_edge: int
    max_tokens: int
    patch_size: int = 28
    max_side: int = 8000

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        w, h = claude_size(width, height, self.patch_size, self.max_edge, self.max_tokens)
        patches = patch_count(w, h, self.patch_size)
        return Sizing(w, h, None, patches, patches)

    def grid(self, width: int, height: int) -> Grid:
        """`patch_size` cells over the size the resize search finds (padding to whole cells is free)."""
        sizing = self.size(width, height)
        w, h, cell = sizing.scaled_width, sizing.scaled_height, self.patch_size
        return Grid(w, h, cell, ceil_div(w, cell), ceil_div(h, cell), "cell")

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Larger than max_side × max_side: rejected (docs/anthropic.md limits)."""
        return too_large("max_side", self.max_side, width, height)

    def cell(self) -> str:
        """`1568px/1568`: max_edge/max_tokens."""
        return f"{self.max_edge}px/{self.max_tokens}"

    def long_short_array(self, long, short):
        """The searched sizes; patches are the tokens."""
        from .arrays import ceil_div as ceil_div_array

        long, short = claude_size_array(long, short, self)
        patches = ceil_div_array(long, self.patch_size) * ceil_div_array(short, self.patch_size)
        return long, short, patches, patches

    def reject_array(self, long, short, units):
        """A side over max_side."""
        return long > self.max_side


def parse(row: Row) -> Parsed:
    """The one rule, at auto."""
    rule = ClaudeRule(
        row.integer("max_edge"), row.integer("max_tokens"), row.integer("patch_size"), row.integer("max_side")
    )
    return Parsed((("auto", rule),), "auto")


def probe_params(model: Any, rule: Rule | None) -> dict[str, Any]:
    """The edge and the token cap, which a probe fits."""
    return {"max_edge": rule.max_edge, "max_tokens": rule.max_tokens}


def fitted_row(params: dict[str, Any], rule: Rule, level: str, row: Any) -> tuple[dict[str, Any], list[str]]:
    """A fitted rule as row settings."""
    return {
        "max_edge": params["max_edge"],
        "max_tokens": params["max_tokens"],
        "patch_size": rule.patch_size,
        "max_side": rule.max_side,
    }, []


SCHEME = Scheme(
    keys=frozenset({"max_edge", "max_tokens", "patch_size", "max_side"}),
    parse=parse,
    probe_params=probe_params,
    probe_level="auto",
    fitted_row=fitted_row,
)
