"""`scheme = "mistral"`: a patch × merge grid plus one break token per row, as mistral-common counts (docs/mistral.md).

https://github.com/mistralai/mistral-common (`ImageEncoder._image_to_num_tokens`)
"""

from __future__ import annotations

from ..records import record
from .base import Grid, Parsed, Rule, Scheme, Sizing, too_large
from .fields import Row
from .geometry import ceil_div

__all__ = ["MistralRule", "mistral_size", "mistral_grid", "SCHEME"]


def mistral_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """mistral-common's downscale to within max_size (docs/mistral.md; `ImageEncoder._image_to_num_tokens`).

    ratio = max(h / M, w / M) in floats; over 1 each side becomes max(round(side / ratio), 1).
    """
    ratio = max(height / max_size, width / max_size)
    if ratio > 1:
        return max(round(width / ratio), 1), max(round(height / ratio), 1)
    return width, height


def mistral_grid(width: int, height: int, patch: int, merge: int) -> tuple[int, int]:
    """Token columns and rows: ceil(side / (patch × merge)) each (docs/mistral.md)."""
    step = patch * merge
    return ceil_div(width, step), ceil_div(height, step)


@record
class MistralRule(Rule):
    """Mistral: a patch × merge grid plus one break token per row, as mistral-common counts (docs/mistral.md).

    Downscale within max_size × max_size (`mistral_size`), then
    columns × rows + rows tokens. `patches` is the grid (columns × rows).
    Sides over `max_side` (10,000 px) are rejected.
    """

    patch_size: int
    merge: int
    max_size: int
    max_side: int = 10000
    oriented = True  # the break tokens count rows: 1024×512 and 512×1024 differ

    def size(self, width: int, height: int) -> Sizing:
        """Price one size under this rule."""
        w, h = mistral_size(width, height, self.max_size)
        columns, rows = mistral_grid(w, h, self.patch_size, self.merge)
        return Sizing(w, h, None, columns * rows, columns * rows + rows)

    def grid(self, width: int, height: int) -> Grid:
        """`patch_size` × `merge` cells over the downscaled size, and one break token per row besides."""
        w, h = mistral_size(width, height, self.max_size)
        columns, rows = mistral_grid(w, h, self.patch_size, self.merge)
        return Grid(w, h, self.patch_size * self.merge, columns, rows, "cell", "and one break token per row")

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        """Larger than max_side × max_side: rejected (docs/mistral.md limits)."""
        return too_large("max_side", self.max_side, width, height)

    def cell(self) -> str:
        """`16x2/1024`: patch x merge/max size."""
        return f"{self.patch_size}x{self.merge}/{self.max_size}"

    def size_array(self, w, h):
        """`mistral_size` and the grid on (width, height) arrays, mistral-common's floats."""
        import numpy as np

        from .arrays import ceil_div as ceil_div_array

        ratio = np.maximum(h / self.max_size, w / self.max_size)
        over = ratio > 1
        if over.any():
            w = np.where(over, np.maximum(np.rint(w / ratio), 1), w).astype(np.int64)
            h = np.where(over, np.maximum(np.rint(h / ratio), 1), h).astype(np.int64)
        step = self.patch_size * self.merge
        columns, rows = ceil_div_array(w, step), ceil_div_array(h, step)
        return w, h, columns * rows, columns * rows + rows

    def reject_array(self, long, short, units):
        """A side over max_side."""
        return long > self.max_side


def parse(row: Row) -> Parsed:
    """The one rule, at auto."""
    rule = MistralRule(
        row.integer("patch_size"), row.integer("merge"), row.integer("max_size"), row.integer("max_side")
    )
    return Parsed((("auto", rule),), "auto")


SCHEME = Scheme(keys=frozenset({"patch_size", "merge", "max_size", "max_side"}), parse=parse)
