"""Planning a resize ahead of time: pure sizes, no pixels (SPEC §4).

Same tokens (the default): exactly the size the model works from, after the
fit, the short-side rule or the patch budget (SPEC §1). Every rule leaves its
own output unchanged, so the planned size costs what the original does.

A token budget: the largest size keeping the aspect ratio whose cost is at most
N; cost is not monotone in size (2049 × 513 costs more than 2048 × 512), so
every long side up to the original's is priced, at once, with the batch path.
The file is then written at the size the model works from for that size,
which costs the same and is never larger.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..pricing.cost import Pricer, check_size
from ..errors import CostcalcError, PlanError
from ..pricing.geometry import fit_within
from ..pricing.tables import Model, Tables

__all__ = ["Plan", "PlanError", "plan", "aspect_size", "SEARCH_LIMIT"]

SEARCH_LIMIT = 1 << 20
"""Long sides searched for a budget plan; a longer original is first scaled to this."""


@dataclass(frozen=True)
class Plan:
    """What to resize an image to, and what that costs before and after."""

    width: int
    """The upright source size (EXIF orientation applied)."""
    height: int
    target_width: int
    """The size to write, upright; never larger than the source."""
    target_height: int
    tokens_before: int
    tokens_after: int
    model: str
    detail: str
    applied_detail: str
    max_tokens: int | None = None
    budget_width: int | None = None
    """For a budget plan: the largest size within the budget (the target is what the model sees of it)."""
    budget_height: int | None = None
    advice: tuple[str, ...] = ()
    """Cheaper detail levels, and `low` costing more than `high` on a patch model."""

    @property
    def resize(self) -> bool:
        """True when the target is smaller than the source."""
        return (self.target_width, self.target_height) != (self.width, self.height)


def aspect_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """width × height scaled down so its long side is `long_side` (at most the current one), as SPEC §1's fit rounds."""
    if long_side > max(width, height):
        raise ValueError(f"{long_side} is longer than {width}×{height}: a plan never upscales")
    return fit_within(width, height, long_side)


def plan(
    width: int,
    height: int,
    *,
    model: str | Model,
    detail: str = "auto",
    max_tokens: int | None = None,
    orientation: int = 1,
    tables: Tables | None = None,
) -> Plan:
    """The target size for a stored width × height (SPEC §4); `orientation` 5-8 swaps the sides.

    ImageRejectedError if the source itself is rejected and no budget is given;
    PlanError if no size meets `max_tokens`.
    """
    width, height = check_size(width, height)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    pricer = Pricer(model, detail, tables)
    name = pricer.model.name
    if max_tokens is None:
        before = pricer.tokens(width, height)
        sizing = pricer.rule.size(width, height)
        target = (sizing.scaled_width, sizing.scaled_height)
        after, budget = before, (None, None)
    else:
        if max_tokens < 0:
            raise PlanError(f"max_tokens must be 0 or more, not {max_tokens}")
        before = _tokens_or_none(pricer, width, height)
        budget = _largest_within(pricer, width, height, max_tokens)
        sizing = pricer.rule.size(*budget)
        target = (sizing.scaled_width, sizing.scaled_height)
        after = pricer.tokens(*target)
    return Plan(
        width=width,
        height=height,
        target_width=target[0],
        target_height=target[1],
        tokens_before=before,
        tokens_after=after,
        model=name,
        detail=detail,
        applied_detail=pricer.applied_detail,
        max_tokens=max_tokens,
        budget_width=budget[0],
        budget_height=budget[1],
        advice=_advice(pricer, (width, height), tables),
    )


def _tokens_or_none(pricer: Pricer, width: int, height: int) -> int | None:
    try:
        return pricer.tokens(width, height)
    except CostcalcError:
        return None  # rejected as it is: a budget plan can still find a size


def _largest_within(pricer: Pricer, width: int, height: int, max_tokens: int) -> tuple[int, int]:
    """The largest aspect-kept size no larger than width × height costing at most `max_tokens`."""
    import numpy as np

    from ..pricing import batch

    long_side = max(width, height)
    if long_side > SEARCH_LIMIT:
        width, height = aspect_size(width, height, SEARCH_LIMIT)
        long_side = SEARCH_LIMIT
    sides = np.arange(1, long_side + 1, dtype=np.int64)
    other = np.maximum(1, (2 * min(width, height) * sides + long_side) // (2 * long_side))
    w, h = (sides, other) if width >= height else (other, sides)
    _, _, units, tokens = batch.sizes(pricer.rule, w, h)
    accepted = ~batch.rejected(pricer.rule, w, h, units)  # a rejected size meets no budget
    fits = (tokens <= max_tokens) & accepted
    if not fits.any():
        cheapest = int(tokens[accepted].min()) if accepted.any() else int(tokens.min())
        raise PlanError(
            f"no size of {width}×{height} costs {max_tokens:,} tokens or less on {pricer.model.name} at detail "
            f"{pricer.applied_detail}: the cheapest costs {cheapest:,}"
        )
    index = int(np.flatnonzero(fits)[-1])
    return int(w[index]), int(h[index])


def _advice(pricer: Pricer, size: tuple[int, int], tables: Tables | None) -> tuple[str, ...]:
    """Detail advice for the source size: `low` cheaper, or `low` dearer than `high` on a patch model."""
    model = pricer.model
    levels = dict(model.rules)
    if "low" not in levels or "high" not in levels:
        return ()
    try:
        low = Pricer(model, "low", tables).tokens(*size)
        high = Pricer(model, "high", tables).tokens(*size)
        now = pricer.tokens(*size)
    except CostcalcError:
        return ()
    advice = []
    if pricer.applied_detail != "low" and low < now:
        advice.append(f"detail low would cost {low:,} tokens instead of {now:,}")
    if model.scheme == "patch" and low > high:
        advice.append(f"on {model.name}, low costs more than high here ({low:,} vs {high:,} tokens)")
    return tuple(advice)
