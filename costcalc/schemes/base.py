"""What every billing scheme shares: `Sizing`, the bases, the rule base class and the `Scheme` record.

A rule is a frozen record (costcalc.records) for one detail level: `size(width, height) -> Sizing`,
a `basis` (how sure its figures are), `reject(width, height, sizing)` (an input rule
the size breaks: the API refuses rather than resizes) and its NumPy path
(`size_array`). `size` itself never raises, so the NumPy path and the preflight
planner can price rejected sizes too and leave them out. A scheme (`Scheme`) is the
`scheme` word of a table row: its row keys, its parser (row → rules) and what the
probe compares. NumPy is imported only inside the NumPy paths.
"""

from __future__ import annotations

from collections.abc import Callable

from ..records import named_tuple, names
from .fields import Row

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = ["BASES", "Sizing", "Grid", "Rule", "Parsed", "Scheme", "can_reject", "total_basis", "too_large"]

BASES = ("exact", "maximum", "approximate", "flat")
"""How sure a figure is: a published algorithm or the vendor's code; a documented
ceiling (`≤ N`); only "~" figures (`≈ N`); one fixed count per image."""

MARKS = {"maximum": "≤ ", "approximate": "≈ "}
"""How a figure is shown by its basis: `≤ 1,120` a documented ceiling, `≈ 800` an approximation."""


def total_basis(bases) -> str:
    """How sure a sum is: as sure as its least sure part (approximate, then maximum, else exact); a sum
    with an unknown part is None, which `tokens_cell` shows as unknown."""
    return next((basis for basis in ("approximate", "maximum") if basis in bases), "exact")


@named_tuple
class Sizing:
    """One image at one detail level: the size the model works from, its units, tokens and basis.

    The scaled size is never larger than the image and a copy written at it costs
    the same (what preflight writes). Where that is not sure (a vendor upscales,
    or publishes no resize) it is the image's own size.
    """

    scaled_width: int
    scaled_height: int
    tiles: int | None
    patches: int | None
    tokens: int | None
    """None when the rule knows the size but not the tokens (an unpublished multiplier)."""
    basis: str = "exact"


@named_tuple
class Grid:
    """The units an image is billed by, over the size the model works from (`costcalc show` draws it):
    `columns` × `rows` cells of `cell` px on a `width` × `height` picture, the last column and row cut short
    where the size is not a whole number of cells."""

    width: int
    height: int
    cell: int
    columns: int
    rows: int
    unit: str
    """What a cell is called: tile, patch or cell."""
    note: str | None = None
    """Tokens the grid does not show (Mistral's break token per row, Qwen's 2 per image)."""


class Rule:
    """The base of every rule: an `exact` basis, no rejection, symmetric in width and height, unless it says otherwise.

    A symmetric rule (the same result for w × h and h × w, with the sides swapped)
    implements `long_short_array` on (long side, short side) arrays: clamps become
    `minimum`/`maximum` instead of masked selects, several times faster. An oriented
    rule (`oriented = True`) overrides `size_array` on (width, height) as given.
    """

    __slots__ = ()
    basis: ClassVar[str] = "exact"
    oriented: ClassVar[bool] = False
    """True when the result depends on which side is the width (Mistral's break tokens count rows)."""
    size_dependent: ClassVar[bool] = True
    """False when the tokens are the same at every size (a flat count): preflight plans nothing for it."""
    budget_note: ClassVar[str | None] = None
    """Why an approximate rule's figures cannot promise that a size meets a budget (preflight says it)."""
    kept_note: ClassVar[str | None] = None
    """Why preflight keeps the original size: the vendor publishes no resize (None: it does)."""

    def size(self, width: int, height: int) -> Sizing:  # pragma: no cover - every rule has its own
        raise NotImplementedError

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """(input rule, reason) when the API refuses this size instead of resizing it, else None."""
        return None

    def grid(self, width: int, height: int) -> Grid | None:
        """The billed grid of a width × height image, over the size the model works from; None when the vendor
        publishes none (a count per image, a maximum, approximate figures)."""
        return None

    def cell(self) -> str:
        """This rule as one compact cell of the `costcalc models` table: what it is made of."""
        return ", ".join(f"{value}" for value in self.as_dict().values())

    def as_dict(self) -> dict[str, Any]:
        """Its parameters as JSON-ready values, with its basis (`costcalc models --json`)."""
        return {name: getattr(self, name) for name in names(self)} | {"basis": self.basis}

    # ---- the NumPy path: int64 arrays of sizes; NumPy is imported only here

    def long_short_array(self, long, short):
        """(scaled long, scaled short, units or None, tokens or None) for arrays of (long, short) sides."""
        raise TypeError(f"not a rule with a NumPy path: {self!r}")

    def size_array(self, w, h):
        """This rule on int64 arrays: (scaled_w, scaled_h, units, tokens); rejected sizes are priced too."""
        import numpy as np

        wide = w >= h
        long, short, units, tokens = self.long_short_array(np.maximum(w, h), np.minimum(w, h))
        # arrays.select, inlined: np.where as arithmetic
        return short + wide * (long - short), long + wide * (short - long), units, tokens

    def units_tokens_array(self, w, h, long, short):
        """(units, tokens) for the arrays, given as (w, h) and as (long, short): the cheaper of the two paths."""
        if self.oriented:
            return self.size_array(w, h)[2:]
        return self.long_short_array(long, short)[2:]

    def reject_array(self, long, short, units):
        """A bool array, True where the API refuses the size (as `reject` says), or None if it never does."""
        return None

    def first_rejected(self, long, short, units) -> int | None:
        """The first index the API refuses, or None."""
        mask = self.reject_array(long, short, units)
        if mask is not None and mask.any():
            return int(mask.argmax())
        return None


def can_reject(rule: Rule) -> bool:
    """True when the rule has input limits of its own (its `reject` may name one): a fast path for pricers."""
    return type(rule).reject is not Rule.reject


def too_large(rule_name: str, limit: int, width: int, height: int) -> tuple[str, str] | None:
    """The rejection of a size with a side over `limit` px, else None."""
    if max(width, height) > limit:
        return rule_name, f"has a side over {limit:,} px; the API rejects it rather than resizing it"
    return None


class Parsed:
    """A row's rules as its scheme's parser reads them (a plain class: start-up builds one per row)."""

    __slots__ = ("rules", "auto", "multiplier")

    def __init__(self, rules: tuple[tuple[str, Rule], ...], auto: str, multiplier: Any = None) -> None:
        self.rules = rules
        """(detail level, rule) pairs in table order."""
        self.auto = auto
        """The level `auto` applies."""
        self.multiplier = multiplier
        """The row's multiplier as written (a Decimal), for the schemes that have one; else None."""


def unknown_tokens(model: Any, rule: Rule | None) -> dict[str, Any]:
    """The probe parameters of a scheme the probe does not fit: its tokens are unknown to it."""
    return {"tokens": "unknown"}


class Scheme:
    """One `scheme` word of the model table: its row keys, its parser, and what the probe compares.

    A plain class: every scheme module builds one at start-up.
    """

    __slots__ = ("keys", "parse", "probe_params", "probe_level", "probe_auto", "fitted_row")

    def __init__(
        self,
        keys: frozenset[str],
        parse: Callable[[Row], Parsed],
        *,
        probe_params: Callable[[Any, Rule | None], dict[str, Any]] = unknown_tokens,
        probe_level: str | None = None,
        probe_auto: str = "auto",
        fitted_row: Callable[[dict[str, Any], Rule, str, Any], tuple[dict[str, Any], list[str]]] | None = None,
    ) -> None:
        self.keys = keys
        """The keys a row (or its file's [defaults.<scheme>]) of this scheme may have besides the common ones."""
        self.parse = parse
        """Row settings → Parsed((level, rule), …, the level auto applies); TableError on a bad value."""
        self.probe_params = probe_params
        """(model row, its rule at the level probed) → the parameters a probe's fit is compared with
        (a value, None for no budget, or "unknown")."""
        self.probe_level = probe_level
        """The one level a probe's parameters belong to (tile: high), or None for the detail probed."""
        self.probe_auto = probe_auto
        """The level a probe of detail auto belongs to on a model without a row."""
        self.fitted_row = fitted_row
        """(a probe's fitted parameters, its fitted rule, its level, the table's row of this scheme or None) →
        (the row's settings as the table file writes them, the levels kept from the table row); None: the probe
        fits no rule of this scheme."""
