"""Pricing the image references a payload holds, one at a time, and the parts no rule prices (PDFs, unknown types).

Each image gets the verdict every command gives it (pricing.verdict): priced with its basis, rejected by
a named rule, or unpriced with the reason. A PDF or file part is billed by the vendors as an image of each
page plus its text (OpenAI https://platform.openai.com/docs/guides/pdf-files, Anthropic
https://docs.anthropic.com/en/docs/build-with-claude/pdf-support, Gemini
https://ai.google.dev/gemini-api/docs/document-processing); until a page rule is on file it is an unpriced
row, with its page count when the PDF is inline, so a budget fails closed on it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ..catalog.limits import Limits
from ..catalog.settings import Settings
from ..errors import CostcalcError, ImageRejectedError, InvalidSizeError, RequestError
from ..inspection.fetch import inspect_url
from ..inspection.headers import ImageInfo, inspect
from ..inspection.sources import ACCEPTED_TYPES, inspect_base64, inspect_data_url, inspect_local
from ..schemes.geometry import fit_within
from ..schemes.qwen import QwenRule
from ..vendors import ImageRef
from ..vendors.base import data_url_parts, url_scheme
from ..words import escape, show_value
from .cost import Pricer, unknown_tokens_note
from .verdict import image_rejection, strict_error

__all__ = ["RequestImage", "PartPricer", "pdf_pages", "plain"]


@dataclass(frozen=True)
class RequestImage:
    """One image of a payload: where it is, its size and cost, or why it is unpriced."""

    where: str
    """Its place in the payload, e.g. messages[1].content[2]."""
    source: str
    """url (a data URL, path or http(s) URL), base64, bytes, file_id, file_uri or s3."""
    reference: str
    """A short label: the URL or path, the file id, or the data URL's type and size."""
    detail: str
    applied_detail: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    tokens: int | None = None
    usd: Decimal | None = None
    rule: str | None = None
    """The input rule a rejected image breaks."""
    error: str | None = None
    """Why it is unpriced; None when priced."""
    basis: str | None = None
    """How sure `tokens` is: exact, maximum, approximate or flat (costcalc.pricing.verdict); None when unpriced."""
    warning: str | None = None
    """The defect of a damaged image priced from its header (ImageInfo.warning); None when whole."""
    kind: str = "image"
    """image; pdf or file: a part billed as page images plus text (unpriced until a page rule is on file); part:
    a typed part costcalc does not recognise (unpriced, never free)."""
    pages: int | None = None
    """The pages of an inline PDF, read from its page tree; None when not a PDF or not known."""
    path: tuple = ()
    """The part's JSON path in the payload (`where` is its printable form)."""
    data_path: tuple | None = field(default=None, repr=False)
    """The JSON path of the inline image's text (a data URL or base64); None when not inline."""
    media_path: tuple | None = field(default=None, repr=False)
    """The JSON path of the media type declared beside inline base64; None when none is."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `usd` a number or null."""
        values = {key: value for key, value in vars(self).items() if key not in ("data_path", "media_path")}
        values["path"] = list(self.path)
        values["usd"] = None if self.usd is None else float(self.usd)
        return values


class PartPricer:
    """Prices image references for one model: one Pricer per detail level, sizes from every kind of source."""

    def __init__(self, model: str, settings: Settings, rules: Limits, file_sizes: dict, base_dir, fetch: dict):
        """`settings`: the run's tables (read on its day), tier and strictness (catalog.settings)."""
        self.model, self.settings, self.rules = model, settings, rules
        self.file_sizes, self.base_dir, self.fetch = file_sizes, base_dir, fetch
        self.pricers: dict[tuple, Pricer | CostcalcError] = {}

    def price(self, ref: ImageRef) -> RequestImage:
        """One image's row: priced, or with the reason it is not."""
        base = {
            "where": ref.where,
            "source": ref.source,
            "reference": _label(ref),
            "detail": ref.detail,
            "path": ref.path,
            "data_path": ref.data_path,
            "media_path": ref.media_path,
        }
        if ref.kind != "image":
            return _unpriced_part(ref, base)
        if ref.error is not None:
            return RequestImage(**base, error=ref.error)
        pricer = self._pricer(ref)
        if isinstance(pricer, CostcalcError):
            where = ref.pixels_where if ref.pixels_where and isinstance(pricer, InvalidSizeError) else ref.detail_where
            return RequestImage(**base, error=f"{where or ref.where}: {pricer}")
        try:
            width, height, info = self._size(ref)
        except ImageRejectedError as error:
            return RequestImage(**base, format=getattr(error, "format", None), rule=error.rule, error=str(error))
        except CostcalcError as error:
            return RequestImage(**base, error=str(error))
        facts = dict(
            base,
            applied_detail=pricer.applied_detail,
            width=width,
            height=height,
            format=info.format if info else None,
            bytes=info.bytes if info else None,
            warning=info.warning if info else None,
        )
        refused = self._refused_by_header(ref, info, facts)
        if refused is not None:
            return refused
        if ref.resize is not None:
            width, height = fit_within(width, height, ref.resize)
        return self._priced(ref, pricer, width, height, info, facts)

    def _refused_by_header(self, ref: ImageRef, info: ImageInfo | None, facts: dict) -> RequestImage | None:
        """The row of an image its header makes the API refuse (a rule of the limits table, or a declared media
        type its data is not); None when the header passes, or there is none to read."""
        if not info:
            return None
        rejected = image_rejection(info, self.rules)  # the one verdict (pricing.verdict)
        if rejected is not None:
            return RequestImage(**facts, rule=rejected.rule, error=f"{ref.where}: {rejected}")
        if ref.media_type is not None and ACCEPTED_TYPES.get(ref.media_type) != info.format:
            return RequestImage(
                **facts,
                rule="media_type",
                error=f"{ref.where}: declared {ref.media_type} but the "
                f"data is {info.format}; the API refuses a mismatched media type",
            )
        return None

    def _priced(
        self, ref: ImageRef, pricer: Pricer, width: int, height: int, info: ImageInfo | None, facts: dict
    ) -> RequestImage:
        """The row of an image the header lets through, sized as the API sizes `width`×`height`: priced, refused
        (over a size rule; oversized where it may not be downscaled; damaged under strict), or unpriced."""
        try:
            sizing = pricer.sizing(width, height)
        except ImageRejectedError as error:
            return RequestImage(**facts, rule=error.rule, error=f"{ref.where}: {error}")
        seen = (sizing.scaled_width, sizing.scaled_height)
        if ref.reject_oversized and seen != (width, height):
            return RequestImage(
                **facts,
                rule="oversized_image",
                error=(
                    f"{ref.where}: {width}×{height} is over what {self.model} works from ({seen[0]}×{seen[1]}), and this "
                    f"image may not be downscaled (oversized_image: error, or a computer-use screenshot): the API "
                    f"refuses it"
                ),
            )
        damaged = (
            strict_error(info, self.settings.strict) if info else None
        )  # pricing.verdict: strict refuses a damaged file
        if damaged is not None:
            return RequestImage(**facts, error=f"{ref.where}: {damaged}")
        # accepted, but its multiplier is unpublished (the vendor publishes none): unpriced, with why
        if sizing.tokens is None:
            return RequestImage(**facts, basis=sizing.basis, error=f"{ref.where}: {unknown_tokens_note(pricer.model)}")
        return RequestImage(**facts, tokens=sizing.tokens, usd=pricer.usd(sizing.tokens), basis=sizing.basis)

    def _pricer(self, ref: ImageRef) -> Pricer | CostcalcError:
        """One Pricer per (detail, max_pixels, min_pixels); the error instead when there is none."""
        key = (ref.detail, ref.max_pixels, ref.min_pixels)
        if key not in self.pricers:
            try:
                pricer = Pricer(
                    self.model, ref.detail, self.settings.tables, max_pixels=ref.max_pixels, tier=self.settings.tier
                )
                if ref.min_pixels is not None:
                    pricer.rule = _with_min_pixels(pricer, ref.min_pixels)
                self.pricers[key] = pricer
            except CostcalcError as error:
                self.pricers[key] = error
        return self.pricers[key]

    def _size(self, ref: ImageRef) -> tuple[int, int, ImageInfo | None]:
        where, value = ref.where, ref.value
        if ref.source in ("file_id", "file_uri", "s3"):
            size = self.file_sizes.get(value)
            if size is None:
                what = {"file_id": "file", "file_uri": "file URI", "s3": "S3 object"}[ref.source]
                raise RequestError(f"{where}: {what} {show_value(value)}: size unknown (give it with file_sizes=)")
            return size[0], size[1], None
        if ref.source == "bytes":
            info = inspect(value, name=where)
        elif ref.source == "base64":
            info = inspect_base64(value, where)
        elif url_scheme(value, data=True) == "data":
            info = inspect_data_url(value, where)
        elif url_scheme(value) in ("http", "https"):
            if not self.fetch["fetch"]:
                raise RequestError(f"{where}: remote URL not fetched (pass fetch=True): {plain(value)}")
            options = {k: v for k, v in self.fetch.items() if k != "fetch"}
            info = inspect_url(value, name=f"{where}: {plain(value)}", **options).info
        elif url_scheme(value) not in ("", "file"):
            raise RequestError(
                f"{where}: cannot read a {url_scheme(value)} URL: only data, http(s), file URLs and paths"
            )
        else:
            info = inspect_local(value, f"{where}: {plain(value)}", self.base_dir)
        return info.width, info.height, info


def _with_min_pixels(pricer: Pricer, min_pixels: int):
    """The Pricer's Qwen rule with a request's own `min_pixels` (DashScope: https://www.alibabacloud.com/help/en/model-studio/vision); InvalidSizeError elsewhere."""
    if not isinstance(pricer.rule, QwenRule):
        raise InvalidSizeError(f"min_pixels applies to Qwen models only, not to {pricer.model.name}")
    if min_pixels > pricer.rule.max_pixels:
        raise InvalidSizeError(f"min_pixels {min_pixels:,} is over max_pixels {pricer.rule.max_pixels:,}")
    return replace(pricer.rule, min_pixels=min_pixels)


def _label(ref: ImageRef) -> str:
    """A short, printable label for an image's source."""
    value = ref.value
    if isinstance(value, (bytes, bytearray)):
        return f"bytes ({len(value):,} bytes)"
    if not isinstance(value, str) or not value:
        return "-"
    if ref.source == "base64" or url_scheme(value, data=True) == "data":
        media = value[5 : value.find(";", 0, 100)] if url_scheme(value, data=True) == "data" else "base64"
        media = media if media.isprintable() and len(media) < 40 else "data"
        return f"{media} ({len(value) * 3 // 4:,} bytes)"
    value = value if len(value) <= 120 else value[:117] + "..."
    return escape(value)


def plain(value: str) -> str:
    """A URL or path for a one-line message: as it is when printable and short, else escaped (words.escape) and cut."""
    if len(value) <= 200 and value.isprintable():
        return value
    text = escape(value[:200])
    return text if len(value) <= 200 and len(text) <= 240 else text[:197] + "..."


MAX_PDF_BYTES = 64 * 2**20
"""The most bytes of an inline PDF read for its page count; a larger one's pages are unknown."""
_PAGES = re.compile(rb"/Type\s*/Pages\b")
_COUNT = re.compile(rb"/Count\s+(\d{1,7})\b")
_DICT_END = re.compile(rb">>")


def pdf_pages(data: bytes) -> int | None:
    """The page count a PDF's page tree states (the root `/Type /Pages` node's `/Count`, the largest; ISO 32000-1
    §7.7.3.2), read without rendering; None when no page tree is readable (e.g. it sits in a compressed object
    stream) or the data is no PDF."""
    if not data.lstrip()[:5] == b"%PDF-":
        return None
    counts = []
    for match in _PAGES.finditer(data):
        start = data.rfind(b"<<", 0, match.start())
        end = _DICT_END.search(data, match.end())
        if start < 0 or end is None:
            continue
        found = _COUNT.search(data, start, end.start())
        if found:
            counts.append(int(found[1]))
    return max(counts) if counts else None


def _inline_bytes(ref: ImageRef) -> bytes | None:
    """The bytes of a part's inline data (raw, base64 or a base64 data URL); None when not inline or unreadable."""
    value = ref.value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str) or not value or len(value) > MAX_PDF_BYTES * 4 // 3 + 200:
        return None
    parts = data_url_parts(value)
    text = parts[1] if parts is not None else value if ref.source == "base64" else None
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return None


def _unpriced_part(ref: ImageRef, base: dict[str, Any]) -> RequestImage:
    """A part no rule prices: a PDF or file (billed as page images plus text), or a typed part not recognised."""
    if ref.kind == "part":
        return RequestImage(**base, kind=ref.kind, error=ref.error)
    data = _inline_bytes(ref)
    pages = pdf_pages(data) if data is not None else None
    what = "a PDF" if ref.kind == "pdf" or pages is not None else "a file"
    size = f" of {pages:,} page{'s' * (pages != 1)}" if pages is not None else ""
    return RequestImage(
        **base,
        kind="pdf" if pages is not None else ref.kind,
        pages=pages,
        bytes=len(data) if data else None,
        error=f"{ref.where}: {what}{size}: billed as an image of each page plus its text, and no page "
        f"rule is on file, so it is unpriced",
    )
