"""Tokens and dollars for image sizes: one at a time, or millions at once (docs/openai.md, docs/README.md).

Every result carries its `basis` (docs/README.md): exact, maximum, approximate or flat.
A model or detail whose rule nobody published raises UnpublishedRuleError.
"""

from __future__ import annotations

import datetime as _dt
import operator
from decimal import Decimal
from functools import lru_cache

from ..catalog.settings import dated, lifecycle_warning
from ..catalog.tables import Model, Price, Tables, default_tables
from ..errors import ImageRejectedError, InexactTokensError, InvalidSizeError, UnpublishedRuleError
from ..records import record, replace
from ..schemes.base import Rule, Sizing, can_reject

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Estimate",
    "MAX_SIDE",
    "Pricer",
    "price_size",
    "image_tokens",
    "image_tokens_batch",
    "check_size",
    "unknown_tokens_note",
]

MAX_SIDE = 2**31 - 1
"""The largest side costcalc accepts (PNG's limit; JPEG and GIF stop at 65,535)."""


@record
class Estimate:
    """What one image costs one model at one detail level."""

    model: str
    """The model name as asked for (a dated snapshot keeps its date)."""
    family: str
    """The table row it resolved to."""
    detail: str
    """The detail level asked for."""
    applied_detail: str
    """The detail level that applies (`auto` resolved)."""
    width: int
    height: int
    scaled_width: int
    """The width the model works from, after every resize rule."""
    scaled_height: int
    tiles: int | None
    patches: int | None
    tokens: int | None
    """None when the model's multiplier is unpublished (docs/openai.md): `note` says why."""
    usd: Decimal | None
    """None when the price (or the tokens) is unknown."""
    price: Price | None
    source: str | None = None
    """The file the size came from, if any."""
    warning: str | None = None
    """The defect of a damaged file priced from its header (ImageInfo.warning); None when whole."""
    basis: str = "exact"
    """How sure `tokens` is (docs/README.md): exact, maximum (at most), approximate, flat, or unknown."""
    note: str | None = None
    """Why `tokens` is unknown, and how to measure it (docs/openai.md); None when known."""
    doubt: str | None = None
    """The model row's doubt (docs/README.md): its documented rule contradicted or unverified by measurement."""
    tier: str = "standard"
    """The service tier `usd` is priced at (docs/prices.md): standard, batch, flex or priority."""
    status: str = "active"
    """The model's status on the day priced: active, deprecated (shutdown scheduled) or retired (docs/lifecycle.md)."""
    shutdown: str | None = None
    """The model's shutdown date (ISO), where one is known."""
    as_of: str | None = None
    """The day the price in force was read for (ISO)."""

    def with_source(self, source: str | None) -> Estimate:
        """The same estimate, labelled with the file it came from."""
        return replace(self, source=source)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `usd` a number or null."""
        return {
            "source": self.source,
            "model": self.model,
            "family": self.family,
            "detail": self.detail,
            "applied_detail": self.applied_detail,
            "width": self.width,
            "height": self.height,
            "scaled_width": self.scaled_width,
            "scaled_height": self.scaled_height,
            "tiles": self.tiles,
            "patches": self.patches,
            "tokens": self.tokens,
            "basis": self.basis,
            "usd": None if self.usd is None else float(self.usd),
            "tier": self.tier,
            "usd_per_1m_input": _applied_rate(self.price, self.tier, self.tokens),
            "price_source": None if self.price is None else f"{self.price.source} ({self.price.date})",
            "price_from": None if self.price is None or self.price.valid_from is None else str(self.price.valid_from),
            "price_until": None
            if self.price is None or self.price.valid_until is None
            else str(self.price.valid_until),
            "as_of": self.as_of,
            "status": self.status,
            "shutdown": self.shutdown,
            "warning": self.warning,
            "note": self.note,
            "doubt": self.doubt,
        }


def _applied_rate(price: Price | None, tier: str, tokens: int | None) -> float | None:
    """USD per 1M input tokens as applied to one image alone at `tier` (its long-context rate above the
    threshold, docs/prices.md); None when unknown."""
    rate = None if price is None else price.rate(tier=tier, input_tokens=tokens)
    return None if rate is None else float(rate)


def check_size(width: Any, height: Any) -> tuple[int, int]:
    """Both sides as ints from 1 to MAX_SIDE, or InvalidSizeError naming the bad one."""
    return _side(width, "width"), _side(height, "height")


def _side(value: Any, what: str) -> int:
    if type(value) is int and 0 < value <= MAX_SIDE:  # the common case, first
        return value
    if isinstance(value, bool):
        raise InvalidSizeError(f"{what} must be a whole number of pixels, not {value!r}")
    try:
        pixels = operator.index(value)
    except TypeError:
        raise InvalidSizeError(f"{what} must be a whole number of pixels, not {value!r}") from None
    if not 1 <= pixels <= MAX_SIDE:
        raise InvalidSizeError(f"{what} must be from 1 to {MAX_SIDE:,} pixels, not {pixels}")
    return pixels


def _resolve(model: str | Model, detail: str, tables: Tables | None) -> tuple[Model, str, Rule]:
    """(model, applied detail, rule); remembered, since tables never change."""
    try:
        return _resolve_cached(model, detail, tables or default_tables())
    except TypeError:  # an unhashable model or detail: let the lookup name it
        found = (tables or default_tables()).model(model)
        return (found, *found.rule(detail))


@lru_cache(maxsize=1024)
def _resolve_cached(model: str | Model, detail: str, tables: Tables) -> tuple[Model, str, Rule]:
    found = tables.model(model)
    applied, rule = found.rule(detail)
    return found, applied, rule


def _size_one(
    width: Any, height: Any, model: str | Model, detail: str, tables: Tables | None, max_pixels: int | None = None
):
    """Validate, resolve and size one image; ImageRejectedError for a size the API refuses (docs/openai.md step 4, docs/README.md)."""
    width, height = check_size(width, height)
    found, applied, rule = _resolve(model, detail, tables)
    rule = _with_max_pixels(found, rule, max_pixels)
    sizing = rule.size(width, height)
    rejection = rule.reject(width, height, sizing)
    if rejection is not None:
        raise _reject(found, detail, applied, width, height, rejection)
    return width, height, found, applied, sizing


def _with_max_pixels(model: Model, rule: Rule, max_pixels: int | None) -> Rule:
    """The rule with a request's own `max_pixels` (Qwen on DashScope, docs/qwen.md); an error on any other model."""
    if max_pixels is None:
        return rule
    from ..schemes.qwen import QwenRule  # only a request that names max_pixels needs the class

    if not isinstance(rule, QwenRule):
        raise InvalidSizeError(f"max_pixels applies to Qwen models only, not to {model.name}")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 4 * rule.factor**2:
        raise InvalidSizeError(
            f"max_pixels must be a whole number of at least {4 * rule.factor**2:,}, not {max_pixels!r}"
        )
    return rule.with_max_pixels(max_pixels)


def unknown_tokens_note(model: Model) -> str:
    """Why a model's tokens are unknown and how to measure them (docs/openai.md, docs/probe.md); for Estimate.note and errors."""
    return (
        f"the image-token multiplier of {model.family} is not published, so its tokens and USD are unknown "
        f"(the size it works from and the patch count are known); `costcalc probe -m {model.name}` measures it"
    )


def _unknown_tokens(model: Model, detail: str):
    """UnpublishedRuleError for a caller that needs a number of tokens the table does not have (docs/openai.md)."""
    return UnpublishedRuleError(
        model.name, detail, "its multiplier; the size it works from and the patches are known", model.vendor
    )


def _reject(model: Model, detail: str, applied: str, width: int, height: int, rejection: tuple[str, str]):
    """ImageRejectedError naming the size, model, detail and the input rule it breaks."""
    via = f"{detail} → {applied}" if detail != applied else applied
    rule, reason = rejection
    return ImageRejectedError(f"{width}×{height} on {model.name} at detail {via} {reason}", rule)


class Pricer:
    """One model at one detail level, resolved once, pricing many sizes."""

    __slots__ = ("model", "detail", "applied_detail", "rule", "price", "tier", "status", "shutdown", "_rejects", "_usd")

    def __init__(
        self,
        model: str | Model,
        detail: str = "auto",
        tables: Tables | None = None,
        *,
        max_pixels: int | None = None,
        tier: str = "standard",
    ):
        """Resolve once: UnknownModelError, UnsupportedDetailError, UnpublishedRuleError or TierError here, not per size.

        `max_pixels` is a request's own (Qwen, docs/qwen.md); InvalidSizeError on other models. `tier`: the
        service tier to price at (docs/prices.md); TierError names the tiers the model has when it lacks this one.
        """
        self.model, self.applied_detail, rule = _resolve(model, detail, tables)
        self.rule = _with_max_pixels(self.model, rule, max_pixels)
        self.detail = detail
        tables = tables or default_tables()
        self.tier = tables.check_tier(self.model, tier)
        self.price = tables.price(self.model)
        life = self.model.lifecycle
        self.status = life.status(tables.as_of)
        """The model's status on the tables' day: active, deprecated or retired (docs/lifecycle.md)."""
        self.shutdown = None if life.shutdown is None else str(life.shutdown)
        """Its shutdown date (ISO), where one is known."""
        self._rejects = can_reject(self.rule)
        self._usd: dict[int, Decimal | None] = {}
        """USD of a request of `tokens` alone, by tokens: audits price the same counts again and again."""

    @property
    def basis(self) -> str:
        """How sure this rule's figures are (docs/README.md); a size's own may be surer (`sizing(...).basis`)."""
        return self.rule.basis

    def sizing(self, width: int, height: int) -> Sizing:
        """The full sizing (size seen, units, tokens, basis) of a valid size; ImageRejectedError if the API refuses it."""
        sizing = self.rule.size(width, height)
        if self._rejects:
            rejection = self.rule.reject(width, height, sizing)
            if rejection is not None:
                raise _reject(self.model, self.detail, self.applied_detail, width, height, rejection)
        return sizing

    def tokens(self, width: int, height: int) -> int | None:
        """Billed tokens for a size already known to be valid, None when the multiplier is unpublished
        (docs/openai.md); ImageRejectedError if the API refuses it."""
        return self.sizing(width, height).tokens

    def usd(self, tokens: int | None, *, input_tokens: int | None = None, cached: bool | str = False) -> Decimal | None:
        """The exact price of `tokens` at this tier, or None when the price (or the tokens) is unknown.

        `input_tokens`: the whole request's input, for the long-context rate (docs/prices.md; default `tokens`,
        a request of these tokens alone); `cached`: priced as cached input (Price.usd).
        """
        if self.price is None or tokens is None:
            return None
        if input_tokens is None and not cached:
            usd = self._usd.get(tokens)
            if usd is None:
                if len(self._usd) >= 65536:  # bounded: a table of distinct counts, not of images
                    self._usd.clear()
                usd = self._usd[tokens] = self.price.usd(tokens, tier=self.tier)
            return usd
        return self.price.usd(tokens, tier=self.tier, input_tokens=input_tokens, cached=cached)


def price_size(
    width: int,
    height: int,
    *,
    model: str | Model,
    detail: str = "auto",
    tables: Tables | None = None,
    source: str | None = None,
    max_pixels: int | None = None,
    tier: str = "standard",
    as_of: _dt.date | None = None,
) -> Estimate:
    """The full estimate for one size: scaled size, tiles or patches, tokens, basis, USD.

    `max_pixels`: a request's own, for Qwen models (docs/qwen.md). `tier`: the service tier (docs/prices.md);
    TierError when the model lacks it. The image is priced as a request of its own: above the
    long-context threshold, at the long-context rate. `as_of` (default: today, UTC): the day whose price
    applies; a model past its shutdown that day is priced with a `warning` naming the date and its replacement.
    """
    width, height, found, applied, sizing = _size_one(width, height, model, detail, tables, max_pixels)
    tables = dated(tables, as_of)
    tier = tables.check_tier(found, tier)
    price = tables.price(found)
    usd = None if price is None or sizing.tokens is None else price.usd(sizing.tokens, tier=tier)
    return estimate_of(found, detail, applied, width, height, sizing, usd, price, tier, tables.as_of, source)


def estimate_of(
    found: Model,
    detail: str,
    applied: str,
    width: int,
    height: int,
    sizing: Sizing,
    usd: Decimal | None,
    price: Price | None,
    tier: str,
    day: _dt.date,
    source: str | None = None,
) -> Estimate:
    """The Estimate of one size already sized (by `price_size`, or a Pricer that judged the file), on `day`."""
    life = found.lifecycle
    return Estimate(
        model=found.name,
        family=found.family,
        detail=detail,
        applied_detail=applied,
        width=width,
        height=height,
        scaled_width=sizing.scaled_width,
        scaled_height=sizing.scaled_height,
        tiles=sizing.tiles,
        patches=sizing.patches,
        tokens=sizing.tokens,
        usd=usd,
        price=price,
        source=source,
        basis=sizing.basis,
        note=None if sizing.tokens is not None else unknown_tokens_note(found),
        doubt=_doubts(found.doubt, price),
        tier=tier,
        status=life.status(day),
        shutdown=None if life.shutdown is None else str(life.shutdown),
        as_of=str(day),
        warning=lifecycle_warning(found, day),
    )


def _doubts(row: str, price: Price | None) -> str | None:
    """The model row's doubt and its price's, joined; None when neither has one."""
    both = [text for text in (row, price and price.doubt) if text]
    return "; ".join(both) or None


INEXACT = ("maximum", "approximate")
"""Bases whose figure is not the count billed: `image_tokens` hands them back only when asked (`inexact=True`)."""


def image_tokens(
    width: int,
    height: int,
    *,
    model: str | Model,
    detail: str = "auto",
    tables: Tables | None = None,
    max_pixels: int | None = None,
    inexact: bool = False,
) -> int:
    """Billed tokens for one image of width × height (docs/openai.md, docs/README.md); `max_pixels` a Qwen request's own.

    UnpublishedRuleError for a model whose multiplier is unpublished (docs/openai.md): `price_size` gives its patches.
    A documented maximum or an approximation is never handed back as if it were exact: InexactTokensError
    (carrying the figure and its basis) unless `inexact=True`; `estimate()` gives the figure with its basis.
    """
    _, _, found, _, sizing = _size_one(width, height, model, detail, tables, max_pixels)
    if sizing.tokens is None:
        raise _unknown_tokens(found, detail)
    if sizing.basis in INEXACT and not inexact:
        raise InexactTokensError(found.name, detail, sizing.tokens, sizing.basis)
    return sizing.tokens


def image_tokens_batch(
    widths,
    heights,
    *,
    model: str | Model,
    detail: str = "auto",
    tables: Tables | None = None,
    max_pixels: int | None = None,
    inexact: bool = False,
):
    """Billed tokens for many sizes at once, as an int64 NumPy array; equal to `image_tokens` item by item
    (a rule whose figures are maxima or approximations: InexactTokensError unless `inexact=True`)."""
    import numpy as np

    from ..schemes import arrays

    found, applied, rule = _resolve(model, detail, tables)
    rule = _with_max_pixels(found, rule, max_pixels)
    if rule.basis == "unknown":  # a patch rule without a published multiplier (docs/openai.md)
        raise _unknown_tokens(found, detail)
    if rule.basis in INEXACT and not inexact:
        raise InexactTokensError(found.name, detail, None, rule.basis)
    w = _int_array(np, widths, "widths")
    h = _int_array(np, heights, "heights")
    if w.shape != h.shape:
        raise InvalidSizeError(f"widths and heights differ in shape: {w.shape} and {h.shape}")
    if w.size and (w.min() < 1 or h.min() < 1 or w.max() > MAX_SIDE or h.max() > MAX_SIDE):
        bad = (w < 1) | (w > MAX_SIDE) | (h < 1) | (h > MAX_SIDE)
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = index[0] if len(index) == 1 else index
        raise InvalidSizeError(
            f"size at index {where} is {w[index]}×{h[index]}; sides must be from 1 to {MAX_SIDE:,} pixels"
        )
    tokens, rejected = arrays.tokens(rule, w.ravel(), h.ravel())
    if rejected is not None:
        index = tuple(int(i) for i in np.unravel_index(rejected, w.shape))
        width, height = int(w[index]), int(h[index])
        where = index[0] if len(index) == 1 else index
        error = _reject(found, detail, applied, width, height, rule.reject(width, height, rule.size(width, height)))
        raise ImageRejectedError(f"size at index {where}: {error}", error.rule)
    return tokens.reshape(w.shape)


def _int_array(np, values, what: str):
    array = np.asarray(values)
    if array.dtype.kind == "u":
        if array.size and array.max() > MAX_SIDE:
            array = np.minimum(array, MAX_SIDE + 1)  # reported as out of range below
        return array.astype(np.int64)
    if array.dtype.kind != "i":
        if array.size == 0:
            return array.astype(np.int64)
        raise InvalidSizeError(f"{what} must be whole numbers of pixels (an integer array), not {array.dtype}")
    return array.astype(np.int64, copy=False)
