"""Price an image from wherever it is: a path, bytes, an open file, or a (width, height) pair."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence

from ..catalog.limits import limits_for
from ..catalog.settings import Settings, check_retired
from ..catalog.tables import Model, Tables
from ..errors import CostcalcError
from ..inspection.headers import ImageInfo, inspect
from ..records import replace
from .cost import Estimate, Pricer, check_size, estimate_of, price_size
from .verdict import billed_tokens

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from ..inspection.headers import Source

__all__ = ["estimate"]


def estimate(
    source: Source | ImageInfo | tuple[int, int],
    *,
    model: str | Model | Sequence[str | Model],
    detail: str = "auto",
    tables: Tables | None = None,
    edition: str | None = None,
    strict: bool = False,
    tier: str = "standard",
    as_of: _dt.date | None = None,
    regional: bool = False,
) -> Estimate | list[Estimate]:
    """What one image costs `model` at `detail`: size from the header only, never the pixels.

    `model` may be a list of models: then a list of Estimates, one per model in order, the image read once.
    `source` may also be a Pillow image (priced by its size, as a (width, height) pair is).

    A file (or an ImageInfo) gets the verdict every command gives it
    (pricing.verdict): ImageRejectedError, with `.rule`, for an image the API
    refuses under the limits `edition` (default: the newest) or the model's patch
    limit; a damaged file is priced with `Estimate.warning`, or refused with
    InvalidImageError when `strict`. A (width, height) pair is checked against the
    patch limit only. `tier`: the service tier to price at (docs/prices.md); TierError names the
    tiers the model has when it lacks this one. `as_of` (default: today, UTC): the day whose
    price applies; a model past its shutdown that day is priced with a `warning`, or refused
    with RetiredModelError when `strict`. `regional`: the price of regional processing (data residency), +10%
    where the vendor documents it, unknown elsewhere (docs/prices.md).
    """
    if not isinstance(model, (str, Model)):  # several models: read the image once, price it for each
        models = list(model)
        if not models:
            raise TypeError("model is a model name or a list of model names, not an empty list")
        label = os.fsdecode(source) if isinstance(source, (str, os.PathLike)) else None
        once = source if isinstance(source, (ImageInfo, tuple, list)) or _pillow_size(source) else inspect(source)
        priced = [
            estimate(
                once,
                model=name,
                detail=detail,
                tables=tables,
                edition=edition,
                strict=strict,
                tier=tier,
                as_of=as_of,
                regional=regional,
            )
            for name in models
        ]
        return [result.with_source(label) for result in priced] if label else priced
    settings = Settings.build(tables=tables, tier=tier, strict=strict, edition=edition, as_of=as_of, regional=regional)
    if strict:
        check_retired(settings.tables.model(model), settings.tables.as_of)
    if isinstance(source, ImageInfo):  # already inspected: price what its header said
        return _judged(source, None, model, detail, settings)
    size = _pillow_size(source)
    if size is not None:  # a Pillow image: what it costs at its size, as a (width, height) pair
        return price_size(*size, model=model, detail=detail, tables=settings.tables, tier=tier)
    if isinstance(source, (tuple, list)):
        if len(source) != 2:
            raise TypeError(f"a size is a (width, height) pair, not {source!r}")
        width, height = source
        return price_size(width, height, model=model, detail=detail, tables=settings.tables, tier=tier)
    label = os.fsdecode(source) if isinstance(source, (str, os.PathLike)) else None
    return _judged(inspect(source), label, model, detail, settings)


def _pillow_size(source) -> tuple[int, int] | None:
    """(width, height) of a Pillow image (recognised without importing Pillow), else None."""
    if type(source).__module__.startswith("PIL.") and hasattr(source, "getexif"):
        return source.width, source.height
    return None


def _judged(info: ImageInfo, label, model, detail, settings: Settings) -> Estimate:
    """The verdict every command gives the file, then its Estimate: resolved and sized once."""
    tables, tier = settings.tables, settings.tier
    try:
        check_size(info.width, info.height)
        pricer = Pricer(model, detail, tables, tier=tier)
        billed_tokens(info, pricer, limits_for(pricer.model, settings.edition), strict=settings.strict)
    except CostcalcError as error:
        if label and len(error.args) == 1 and not str(error).startswith(label):
            error.args = (f"{label}: {error}",)  # name the file, as header errors do
        raise
    sizing = pricer.sizing(info.width, info.height)
    usd = pricer.usd(sizing.tokens)
    result = estimate_of(
        pricer.model,
        detail,
        pricer.applied_detail,
        info.width,
        info.height,
        sizing,
        usd,
        pricer.price,
        pricer.tier,
        tables.as_of,
        label,
    )
    if not info.warning:
        return result
    return replace(result, warning=f"{info.warning}; {result.warning}" if result.warning else info.warning)
