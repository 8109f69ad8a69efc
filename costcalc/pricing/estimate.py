"""Price an image from wherever it is: a path, bytes, an open file, or a (width, height) pair."""

from __future__ import annotations

import os

from .cost import Estimate, price_size
from ..inspection.headers import ImageInfo, Source, inspect
from .tables import Model, Tables

__all__ = ["estimate"]


def estimate(
    source: Source | ImageInfo | tuple[int, int],
    *,
    model: str | Model,
    detail: str = "auto",
    tables: Tables | None = None,
) -> Estimate:
    """What one image costs `model` at `detail`: size from the header only, never the pixels."""
    if isinstance(source, ImageInfo):  # already inspected: price what its header said
        return price_size(source.width, source.height, model=model, detail=detail, tables=tables)
    if isinstance(source, (tuple, list)):
        if len(source) != 2:
            raise TypeError(f"a size is a (width, height) pair, not {source!r}")
        width, height = source
        return price_size(width, height, model=model, detail=detail, tables=tables)
    label = os.fsdecode(source) if isinstance(source, (str, os.PathLike)) else None
    info = inspect(source)
    return price_size(info.width, info.height, model=model, detail=detail, tables=tables, source=label)
