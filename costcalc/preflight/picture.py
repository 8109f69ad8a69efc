"""The picture that explains a bill: an image as each model sees it, with the billed grid drawn over it (issue 20).

One panel per model, side by side: the image resized to the size the model
works from, and over it the units it is billed by — 512-px tiles for OpenAI's
tile models (https://platform.openai.com/docs/guides/images-vision), 32-px
patches for its patch models, 28-px cells for Claude
(https://docs.anthropic.com/en/docs/build-with-claude/vision) and Mistral's
merged patch grid (mistral-common's image encoder), Qwen's factor cells on its
resized size (https://help.aliyun.com/zh/model-studio/vision). A model whose
bill does not depend on the size, or whose vendor publishes no grid (flat
counts, maxima, approximate tables), gets no grid and a note saying why. Under
each panel: tokens, USD and how sure they are (basis).

`show` returns a Pillow image (PNG) or SVG text (self-contained: the pictures
are embedded as data URLs, the grid is vector). `write_show` writes either
atomically (`files.atomic_write`), never over an existing file unless asked.
Pillow is imported here only, when a picture is made; pixels decoded are
bounded as preflight's are (`resize.MAX_DECODE_PIXELS`).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from pathlib import Path

from ..catalog.tables import Model, Tables
from ..errors import CostcalcError, OutputConflictError
from ..files import atomic_write
from ..output.report import format_usd
from ..schemes.base import Grid
from ..schemes.geometry import ceil_div

__all__ = ["Grid", "Panel", "grid_of", "panels", "show", "show_png", "show_svg", "write_show", "thumbnail_url",
           "PANEL_SIDE"]

PANEL_SIDE = 512
"""The long side of a panel in the PNG, in pixels (the SVG scales; its embedded picture is at most EMBED_SIDE)."""
EMBED_SIDE = 1024
"""The long side of the picture embedded in each SVG panel, at most."""
_CAPTION_LINES = 4
_LINE = 18
_GAP = 16


@dataclass(frozen=True)
class Panel:
    """One model's panel: the size it sees, its grid (None: no grid, `note` says why) and its caption."""

    model: str
    detail: str
    seen: tuple[int, int] | None
    """The size the model works from; None when it rejects the image (`error`)."""
    grid: Grid | None
    tokens: int | None
    usd: Decimal | None
    basis: str
    note: str | None = None
    error: str | None = None

    def caption(self) -> list[str]:
        """The lines under the panel: model and detail, size and units, tokens and USD, the note."""
        lines = [f"{self.model} (detail {self.detail})"]
        if self.error:
            return lines + _wrap(f"rejected: {self.error}", 60)[: _CAPTION_LINES - 1]
        size = f"sees {self.seen[0]}×{self.seen[1]}"
        if self.grid is not None:
            count = self.grid.columns * self.grid.rows
            size += f", {self.grid.columns}×{self.grid.rows} = {count:,} {_plural(self.grid.unit, count)} of {self.grid.cell} px"
        lines.append(size)
        tokens = "unknown" if self.tokens is None else f"{'≤ ' if self.basis == 'maximum' else '≈ ' if self.basis == 'approximate' else ''}{self.tokens:,}"
        usd = "USD unknown" if self.usd is None else format_usd(self.usd)
        lines.append(f"{tokens} tokens, {usd} ({self.basis})")
        if self.note:
            lines.append(self.note)
        return lines[:_CAPTION_LINES]


def _plural(unit: str, count: int) -> str:
    return unit if count == 1 else unit + ("es" if unit.endswith("ch") else "s")


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def grid_of(rule, width: int, height: int) -> tuple[tuple[int, int], Grid | None, str | None]:
    """(the size the rule's model works from, its billed grid or None, a note) for a width × height image.

    The grid is the scheme's own (`Rule.grid`): its size is the one the model
    works from (Qwen's resized size, larger than the image where it upscales).
    A rule without one sees the image's own size (or a low-detail fit), and
    the note says why there is no grid.
    """
    grid = rule.grid(width, height)
    if grid is not None:
        return (grid.width, grid.height), grid, grid.note
    sizing = rule.size(width, height)
    seen = (sizing.scaled_width, sizing.scaled_height)
    fixed = sizing.basis in ("exact", "flat") and sizing.tiles is None and sizing.patches is None  # OpenAI's low
    if not rule.size_dependent or fixed:
        if sizing.basis == "maximum":
            return seen, None, "no grid: a documented maximum, the same at any size"
        if sizing.basis == "approximate":
            return seen, None, f"no grid: about {sizing.tokens:,} tokens whatever the size"
        return seen, None, f"no grid: {sizing.tokens:,} tokens whatever the size"
    return seen, None, "no grid: the vendor publishes only approximate figures"


def panels(width: int, height: int, models: Sequence[str | Model], *, detail: str = "auto",
           tables: Tables | None = None, tier: str = "standard") -> list[Panel]:  # fmt: skip
    """One Panel per model (each once, in order) for an upright width × height image; no pixels needed."""
    from ..pricing.cost import Pricer

    found: list[Panel] = []
    seen_models: set[str] = set()
    for name in models:
        pricer = Pricer(name, detail, tables, tier=tier)
        if pricer.model.family in seen_models:
            continue
        seen_models.add(pricer.model.family)
        try:
            sizing = pricer.sizing(width, height)
        except CostcalcError as error:
            found.append(Panel(pricer.model.name, pricer.applied_detail, None, None, None, None, "rejected",
                               error=str(error)))  # fmt: skip
            continue
        seen, grid, note = grid_of(pricer.rule, width, height)
        found.append(Panel(pricer.model.name, pricer.applied_detail, seen, grid, sizing.tokens,
                           pricer.usd(sizing.tokens), sizing.basis, note))  # fmt: skip
    return found


def _load(image, side: int = EMBED_SIDE):
    """(an upright RGB(A) Pillow image, a label) of a Pillow image, a path or bytes; decoding bounded by
    MAX_DECODE_PIXELS (a JPEG is DCT-scaled towards a copy `side` px long first)."""
    from PIL import Image, ImageOps

    if isinstance(image, Image.Image):
        picture, label = image, ""
    else:
        from ..inspection.headers import inspect
        from .optimize import read_source
        from .resize import _check_bound, _open, undecodable

        data, label = read_source(image)
        info = inspect(data, name=label)
        where = f"{label}: " if label else ""
        try:
            picture = _open(data, info.format)
            if picture.format == "JPEG":  # DCT-scaled: no panel needs more than EMBED_SIDE px
                picture.draft("RGB", _fit((info.width, info.height), side))
            _check_bound(picture, info, where)
            picture.load()
        except CostcalcError:
            raise
        except Exception as error:
            raise undecodable(info, error, where) from None
        picture = ImageOps.exif_transpose(picture)
    mode = "RGBA" if "A" in picture.getbands() or picture.info.get("transparency") is not None else "RGB"
    if picture.mode in ("I", "F", "I;16", "I;16B", "I;16L", "I;16N"):
        from .resize import eight_bit

        picture = eight_bit(picture)
    return picture.convert(mode), label


def _size_of(image) -> tuple[int, int]:
    """The upright size of a path or bytes from its header (orientation applied), or of a Pillow image."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.size
    from ..inspection.headers import inspect
    from .optimize import read_source

    data, label = read_source(image)
    info = inspect(data, name=label)
    return (info.height, info.width) if info.orientation in (5, 6, 7, 8) else (info.width, info.height)


def show(image, models: Sequence[str | Model] | str, *, format: str = "png", detail: str = "auto",
         tables: Tables | None = None, tier: str = "standard"):  # fmt: skip
    """The panels of `image` (a Pillow image, a path or bytes) for `models`: a Pillow image for format png,
    SVG text for svg. The size priced is the image's own (upright), from its header for a file."""
    return _render(image, models, format, detail, tables, tier)[0]


def _render(image, models, format: str, detail: str, tables: Tables | None, tier: str):
    """(the picture, its panels)."""
    if isinstance(models, (str, Model)):
        models = [models]
    if format not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, not {format!r}")
    found = panels(*_size_of(image), models, detail=detail, tables=tables, tier=tier)
    picture, _ = _load(image)
    return (show_svg(picture, found) if format == "svg" else show_png(picture, found)), found


def _scaled(picture, size: tuple[int, int]):
    from PIL import Image

    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if picture.size != size else picture


def _as_seen(picture, seen: tuple[int, int], shown: tuple[int, int]):
    """The picture at the size the model works from, then at the size it is shown: a model seeing less than is
    shown keeps its blur; one seeing more is scaled once, straight to the size shown."""
    if seen[0] * seen[1] < picture.size[0] * picture.size[1]:
        picture = _scaled(picture, seen)
    return _scaled(picture, shown)


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    factor = min(1.0, side / max(size))
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def show_png(picture, found: list[Panel], *, side: int = PANEL_SIDE):
    """A Pillow RGB image: the panels side by side, each at most `side` px long, captions under them."""
    from PIL import Image, ImageDraw

    font = _font(14)
    boxes = [_fit(p.seen, side) if p.seen else (side // 2, side // 2) for p in found]
    caption = _CAPTION_LINES * _LINE + 8
    width = sum(w for w, _ in boxes) + _GAP * (len(boxes) + 1)
    width = max(width, sum(max(w, 300) for w, _ in boxes) + _GAP * (len(boxes) + 1))
    height = max(h for _, h in boxes) + caption + 2 * _GAP
    canvas = Image.new("RGB", (width, height), "white")
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw, lines = ImageDraw.Draw(canvas), ImageDraw.Draw(overlay)
    x = _GAP
    for panel, (w, h) in zip(found, boxes):
        if panel.seen is not None:
            shown = _flat(_as_seen(picture, panel.seen, (w, h)))  # the image as the model sees it
            canvas.paste(shown, (x, _GAP))
            if panel.grid is not None:
                _draw_grid(lines, panel.grid, x, _GAP, w / panel.grid.width, h / panel.grid.height)
            draw.rectangle((x - 1, _GAP - 1, x + w, _GAP + h), outline=(80, 80, 80))
        else:
            draw.rectangle((x, _GAP, x + w, _GAP + h), outline=(200, 0, 0))
        for index, line in enumerate(panel.caption()):
            line = line.replace("×", "x").replace("≤ ", "at most ").replace("≈ ", "~")  # the default font's glyphs
            draw.text((x, _GAP + max(hh for _, hh in boxes) + 8 + index * _LINE), line, fill=(0, 0, 0), font=font)
        x += max(w, 300) + _GAP
    canvas.paste(overlay, mask=overlay.getchannel("A"))
    return canvas


def _flat(image):
    """RGBA over white, for the PNG's RGB canvas."""
    from PIL import Image

    if image.mode != "RGBA":
        return image.convert("RGB")
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def _draw_grid(draw, grid: Grid, x0: int, y0: int, sx: float, sy: float) -> None:
    colour = (255, 0, 128, 170)
    step = 1
    if min(grid.cell * sx, grid.cell * sy) < 3:  # too dense to read: every nth line, the outline still whole
        step = ceil_div(3, max(1, int(grid.cell * min(sx, sy))))
    right, bottom = x0 + grid.width * sx, y0 + grid.height * sy
    for column in range(0, grid.columns + 1, step):
        x = x0 + min(column * grid.cell, grid.width) * sx
        draw.line((x, y0, x, bottom), fill=colour, width=1)
    for row in range(0, grid.rows + 1, step):
        y = y0 + min(row * grid.cell, grid.height) * sy
        draw.line((x0, y, right, y), fill=colour, width=1)


def show_svg(picture, found: list[Panel]) -> str:
    """Self-contained SVG text: each panel's picture embedded as a data URL at the size seen (at most EMBED_SIDE
    long), the grid as vector lines in the seen size's own pixels, captions as text."""
    side = PANEL_SIDE
    boxes = [_fit(p.seen, side) if p.seen else (side // 2, side // 2) for p in found]
    caption = _CAPTION_LINES * _LINE + 8
    top = max(h for _, h in boxes)
    width = sum(max(w, 300) for w, _ in boxes) + _GAP * (len(boxes) + 1)
    height = top + caption + 2 * _GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
             f'<rect width="{width}" height="{height}" fill="white"/>']  # fmt: skip
    x = _GAP
    for panel, (w, h) in zip(found, boxes):
        if panel.seen is not None:
            embedded = _as_seen(picture, panel.seen, _fit(panel.seen, EMBED_SIDE))
            sw, sh = panel.seen
            parts.append(f'<svg x="{x}" y="{_GAP}" width="{w}" height="{h}" viewBox="0 0 {sw} {sh}" '
                         f'preserveAspectRatio="none">')  # fmt: skip
            parts.append(f'<image width="{sw}" height="{sh}" preserveAspectRatio="none" href="{_data_url(embedded)}"/>')
            if panel.grid is not None:
                parts.append(_svg_grid(panel.grid, max(sw / w, sh / h)))
            parts.append("</svg>")
            parts.append(f'<rect x="{x}" y="{_GAP}" width="{w}" height="{h}" fill="none" stroke="#505050"/>')
        else:
            parts.append(f'<rect x="{x}" y="{_GAP}" width="{w}" height="{h}" fill="none" stroke="#c00000"/>')
        for index, line in enumerate(panel.caption()):
            parts.append(f'<text x="{x}" y="{_GAP + top + 20 + index * _LINE}">{escape(line)}</text>')
        x += max(w, 300) + _GAP
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _svg_grid(grid: Grid, stroke: float) -> str:
    lines = [f"M{min(c * grid.cell, grid.width)} 0V{grid.height}" for c in range(grid.columns + 1)]
    lines += [f"M0 {min(r * grid.cell, grid.height)}H{grid.width}" for r in range(grid.rows + 1)]
    return f'<path d="{" ".join(lines)}" fill="none" stroke="#ff0080" stroke-width="{stroke:.3g}"/>'


def _data_url(image) -> str:
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG", optimize=True)
        mime = "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=80)
        mime = "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode('ascii')}"


def write_show(image, models: Sequence[str | Model] | str, output: str | os.PathLike, *, detail: str = "auto",
               tables: Tables | None = None, tier: str = "standard", replace: bool = False,
               palette: bool = False) -> list[Panel]:  # fmt: skip
    """Write the picture of `image` for `models` to `output` (.png or .svg), atomically; OutputConflictError if
    `output` exists and `replace` is not given. `palette`: a PNG of 256 colours (about a third of the bytes, for
    a page or a README). The panels drawn, for a caller to report."""
    output = Path(output)
    kind = output.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise ValueError(f"{output}: the picture is written as .png or .svg, not {output.suffix or 'no extension'}")
    if not replace and os.path.lexists(output):
        raise OutputConflictError(f"{output} already exists; choose another name, or pass replace=True")
    drawn, found = _render(image, models, kind, detail, tables, tier)
    if kind == "svg":
        data = drawn.encode("utf-8")
    else:
        out = io.BytesIO()
        if palette:
            drawn = drawn.quantize(256)
        drawn.save(out, "PNG", optimize=True)
        data = out.getvalue()
    try:
        atomic_write(output, data, replace=replace)
    except FileExistsError:  # it appeared while the picture was drawn
        raise OutputConflictError(f"{output} already exists; choose another name, or pass replace=True") from None
    return found


def thumbnail_url(image, side: int = 96) -> str:
    """A data URL of a JPEG (PNG with transparency) thumbnail within `side` × `side` px, upright; decoding bounded
    as for a picture (a JPEG DCT-scaled to about that size first)."""
    picture, _ = _load(image, side)
    picture.thumbnail((side, side))
    return _data_url(picture)
