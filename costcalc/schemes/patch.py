"""`scheme = "patch"`: OpenAI's patch models (docs/openai.md): a pixel limit, an optional patch budget, a multiplier.

https://developers.openai.com/api/docs/guides/images-vision
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import TableError
from ..records import record
from .base import Grid, Parsed, Rule, Scheme, Sizing
from .fields import MAX_LIMIT, UNKNOWN, Row, check_keys, integer
from .geometry import ceil_div, ceil_times, fit_patch_budget, fit_within, patch_count
from .unknown import UnpublishedRule

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["PatchRule", "SCHEME"]

LEVELS = ("low", "high", "original")
DETAIL_KEYS = {"max_dimension", "patch_budget"}


@record
class PatchRule(Rule):
    """A detail level of a patch model: pixel limit, optional budget, multiplier (docs/openai.md).

    Over `max_patches` after sizing the API rejects the image (step 4): `reject` says so.
    A multiplier of None is one nobody published (docs/openai.md, gpt-6-sol): the size seen and
    the patches are known, the tokens are not (None, basis `unknown`); never a borrowed number.
    """

    max_dimension: int
    patch_budget: int | None
    patch_size: int
    max_patches: int
    multiplier: Fraction | None

    @property
    def basis(self) -> str:
        """`exact`, or `unknown` when the multiplier is unpublished (docs/openai.md)."""
        return "unknown" if self.multiplier is None else "exact"

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule (tokens None when the multiplier is unpublished)."""
        scaled_w, scaled_h = fit_within(width, height, self.max_dimension)
        if self.patch_budget is not None:
            scaled_w, scaled_h = fit_patch_budget(scaled_w, scaled_h, self.patch_size, self.patch_budget)
        patches = patch_count(scaled_w, scaled_h, self.patch_size)
        if self.multiplier is None:
            return Sizing(scaled_w, scaled_h, None, patches, None, "unknown")
        return Sizing(scaled_w, scaled_h, None, patches, ceil_times(patches, self.multiplier))

    def grid(self, width: int, height: int) -> Grid:
        """`patch_size` patches over the size after the pixel limit and the patch budget."""
        sizing = self.size(width, height)
        w, h, cell = sizing.scaled_width, sizing.scaled_height, self.patch_size
        return Grid(w, h, cell, ceil_div(w, cell), ceil_div(h, cell), "patch")

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Over max_patches after sizing: rejected, not resized (docs/openai.md)."""
        if sizing.patches > self.max_patches:
            return "max_patches", (
                f"needs {sizing.patches:,} patches after sizing; "
                f"the API rejects images over {self.max_patches:,} patches instead of resizing them"
            )
        return None

    def cell(self) -> str:
        """`2048/1536`: max_dimension/patch_budget (`-` without a budget)."""
        return f"{self.max_dimension}/{self.patch_budget if self.patch_budget is not None else '-'}"

    def as_dict(self) -> dict[str, Any]:
        """Its sizes and limits (the multiplier is the row's)."""
        return {
            "max_dimension": self.max_dimension,
            "patch_budget": self.patch_budget,
            "patch_size": self.patch_size,
            "max_patches": self.max_patches,
        }

    def long_short_array(self, long, short):
        """Fitted sizes, patches, tokens (None when the multiplier is unpublished)."""
        import numpy as np

        from . import arrays

        long, short = arrays.fit_within(long, short, self.max_dimension)
        if self.patch_budget is not None:
            long, short = arrays.fit_patch_budget(long, short, self.patch_size, self.patch_budget)
        patches = arrays.ceil_div(long, self.patch_size) * arrays.ceil_div(short, self.patch_size)
        m = self.multiplier
        if m is None:  # unpublished multiplier (docs/openai.md): sizes and patches only, tokens None
            return long, short, patches, None
        # Over max_patches the image is rejected (the caller checks); clamping first
        # keeps patches × numerator inside int64.
        billable = np.minimum(patches, self.max_patches)
        return long, short, patches, arrays.ceil_div(billable * m.numerator, m.denominator)

    def reject_array(self, long, short, units):
        """Over max_patches (the patches priced here when not given)."""
        if units is None:
            units = self.long_short_array(long, short)[2]
        return units > self.max_patches

    def first_rejected(self, long, short, units) -> int | None:
        """The first index over max_patches: a max is cheaper than a mask in the common case."""
        if units.max() > self.max_patches:
            return int((units > self.max_patches).argmax())
        return None


def parse(row: Row) -> Parsed:
    """Each of low, high, original an inline table of sizes or "unknown"; one multiplier (or "unknown") for all."""
    multiplier, exact = None, None  # multiplier = "unknown": sizes and patches priced, tokens unknown (docs/openai.md)
    if row.get("multiplier") != UNKNOWN:
        multiplier = row.decimal("multiplier")
        exact = Fraction(multiplier)
        if exact.numerator > MAX_LIMIT or exact.denominator > MAX_LIMIT:
            raise row.error(f"multiplier {multiplier} has too many digits")
    elif not row.note:
        raise row.error('multiplier = "unknown" needs a note saying what is not published')
    patch_size, max_patches = row.integer("patch_size"), row.integer("max_patches")
    rules = tuple(
        (
            level,
            UnpublishedRule(row.note or "not published")
            if row.get(level) == UNKNOWN
            else _level(row.get(level), patch_size, max_patches, exact, f"{row.where}: {level}"),
        )
        for level in LEVELS
        if level in row
    )
    if not rules:
        raise row.error("a patch row needs at least one of low, high, original")
    auto = row.get("auto")
    if auto not in {level for level, rule in rules if not isinstance(rule, UnpublishedRule)}:
        raise row.error(f"auto must name one of its published detail levels, not {auto!r}")
    return Parsed(rules, auto, multiplier)


def _level(spec: Any, patch_size: int, max_patches: int, multiplier: Fraction | None, where: str) -> PatchRule:
    if not isinstance(spec, dict):
        raise TableError(
            f'{where}: must be "unknown" or an inline table like {{ max_dimension = 2048, patch_budget = 1536 }}'
        )
    check_keys(spec, DETAIL_KEYS, where)
    budget = integer(spec, "patch_budget", where) if "patch_budget" in spec else None
    return PatchRule(
        max_dimension=integer(spec, "max_dimension", where),
        patch_budget=budget,
        patch_size=patch_size,
        max_patches=max_patches,
        multiplier=multiplier,
    )


def probe_params(model: Any, rule: Rule | None) -> dict[str, Any]:
    """The row's multiplier and the level's sizes, each "unknown" where the table does not know it."""
    values = {"multiplier": model.multiplier if model.multiplier is not None else UNKNOWN}
    if isinstance(rule, PatchRule):
        return values | {"max_dimension": rule.max_dimension, "patch_budget": rule.patch_budget}
    return values | {"max_dimension": UNKNOWN, "patch_budget": UNKNOWN}


def fitted_row(params: dict[str, Any], rule: Rule, level: str, row: Any) -> tuple[dict[str, Any], list[str]]:
    """A fitted level as row settings; the table row's other levels kept as it gives them."""
    entries: dict[str, Any] = {
        "multiplier": params["multiplier"],
        "auto": row.auto if row is not None else level,
        "patch_size": rule.patch_size,
        "max_patches": rule.max_patches,
    }
    levels = dict(row.rules) if row is not None else {}
    kept = []
    for name in LEVELS:
        if name == level:
            entries[name] = _sizes(params["max_dimension"], params["patch_budget"])
        elif isinstance(levels.get(name), PatchRule):
            entries[name] = _sizes(levels[name].max_dimension, levels[name].patch_budget)
            kept.append(name)
        elif isinstance(levels.get(name), UnpublishedRule):
            entries[name] = UNKNOWN
            kept.append(name)
    return entries, kept


def _sizes(max_dimension: int, patch_budget: int | None) -> dict[str, int]:
    return {"max_dimension": max_dimension} | ({"patch_budget": patch_budget} if patch_budget is not None else {})


SCHEME = Scheme(
    keys=frozenset({"multiplier", "auto", "patch_size", "max_patches", *LEVELS}),
    parse=parse,
    probe_params=probe_params,
    probe_auto="high",
    fitted_row=fitted_row,
)
