"""Price an image from wherever it is: a path, bytes, an open file, or a (width, height) pair."""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import replace

from ..catalog.limits import limits_for
from ..catalog.settings import Settings, check_retired
from ..catalog.tables import Model, Tables
from ..errors import CostcalcError
from ..inspection.headers import ImageInfo, Source, inspect
from .cost import Estimate, Pricer, price_size
from .verdict import verdict

__all__ = ["estimate"]


def estimate(
    source: Source | ImageInfo | tuple[int, int],
    *,
    model: str | Model,
    detail: str = "auto",
    tables: Tables | None = None,
    limits: str | None = None,
    strict: bool = False,
    tier: str = "standard",
    as_of: _dt.date | None = None,
) -> Estimate:
    """What one image costs `model` at `detail`: size from the header only, never the pixels.

    A file (or an ImageInfo) gets the verdict every command gives it
    (pricing.verdict): ImageRejectedError, with `.rule`, for an image the API
    refuses under the `limits` edition (default: the newest) or the model's patch
    limit; a damaged file is priced with `Estimate.warning`, or refused with
    InvalidImageError when `strict`. A (width, height) pair is checked against the
    patch limit only. `tier`: the service tier to price at (SPEC §7); TierError names the
    tiers the model has when it lacks this one. `as_of` (default: today, UTC): the day whose
    price applies; a model past its shutdown that day is priced with a `warning`, or refused
    with RetiredModelError when `strict`.
    """
    settings = Settings.build(tables=tables, tier=tier, strict=strict, edition=limits, as_of=as_of)
    if strict:
        check_retired(settings.tables.model(model), settings.tables.as_of)
    if isinstance(source, ImageInfo):  # already inspected: price what its header said
        return _judged(source, None, model, detail, settings)
    if isinstance(source, (tuple, list)):
        if len(source) != 2:
            raise TypeError(f"a size is a (width, height) pair, not {source!r}")
        width, height = source
        return price_size(width, height, model=model, detail=detail, tables=settings.tables, tier=tier)
    label = os.fsdecode(source) if isinstance(source, (str, os.PathLike)) else None
    return _judged(inspect(source), label, model, detail, settings)


def _judged(info: ImageInfo, label, model, detail, settings: Settings) -> Estimate:
    tables, tier = settings.tables, settings.tier
    try:
        pricer = Pricer(model, detail, tables, tier=tier)
        verdict(info, pricer, limits_for(pricer.model, settings.edition), strict=settings.strict)
    except CostcalcError as error:
        if label and len(error.args) == 1 and not str(error).startswith(label):
            error.args = (f"{label}: {error}",)  # name the file, as header errors do
        raise
    result = price_size(info.width, info.height, model=model, detail=detail, tables=tables, source=label, tier=tier)
    if not info.warning:
        return result
    return replace(result, warning=f"{info.warning}; {result.warning}" if result.warning else info.warning)
