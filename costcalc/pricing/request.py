"""Pricing a whole request payload before sending it: every image, where it is, what it costs (SPEC §3).

Three shapes: Chat Completions (`messages[].content[]` parts of type
image_url), the Responses API (`input[].content[]` parts of type input_image,
by image_url or file_id), and the legacy GPT-4V shape (seeds 001, 004): content
arrays of plain strings and `{"image": "<base64>", "resize": N}` objects.

`resize: N` is read as: the image is fitted within N × N (never upscaled), then
priced by the model's own rule. The seeds only show it in use (video frames
sent with resize 768) and never define it, so this reading is an assumption.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator

from .budget import over_budget
from .cost import Pricer
from ..errors import BudgetExceeded, CostcalcError, ImageRejectedError, RequestError, UnsupportedFormatError
from .geometry import fit_within
from ..inspection.headers import ImageInfo
from .limits import Finding, Limits, load_limits
from ..inspection.fetch import MAX_BYTES, TIMEOUT, inspect_url
from ..inspection.sources import inspect_base64, inspect_data_url, inspect_local
from .tables import Tables, default_tables

__all__ = ["RequestImage", "RequestEstimate", "count_request", "check_budget", "budget_problems", "payload_size"]

TEXT_PARTS = frozenset({"text", "input_text", "output_text", "refusal", "input_audio", "audio", "input_file", "file"})
"""Part types that carry no image: passed over."""


@dataclass(frozen=True)
class RequestImage:
    """One image of a payload: where it is, its size and cost, or why it is unpriced."""

    where: str
    """Its place in the payload, e.g. messages[1].content[2]."""
    source: str
    """data URL, base64, path, url or file_id."""
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

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `usd` a number or null."""
        values = dict(vars(self))
        values["usd"] = None if self.usd is None else float(self.usd)
        return values


@dataclass(frozen=True)
class RequestEstimate:
    """What a request's images cost, and which request-level limits it breaks."""

    model: str
    images: tuple[RequestImage, ...]
    image_tokens: int
    """Tokens of the priced images."""
    usd: Decimal | None
    """USD of the priced images; None when the model's price is unknown."""
    unpriced: int
    """Images that could not be priced (their tokens are not in the totals)."""
    payload_bytes: int
    findings: tuple[Finding, ...]
    """Request-level limits the payload breaks (image count, payload size)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "model": self.model,
            "images": [image.as_dict() for image in self.images],
            "image_tokens": self.image_tokens,
            "usd": None if self.usd is None else float(self.usd),
            "unpriced": self.unpriced,
            "payload_bytes": self.payload_bytes,
            "findings": [{"rule": f.rule, "message": f.message} for f in self.findings],
        }


@dataclass(frozen=True)
class _Ref:
    """An image part found in the payload, not yet read."""

    where: str
    source: str
    value: str
    detail: str
    resize: int | None = None


def count_request(
    payload: dict | str | bytes,
    *,
    model: str | None = None,
    fetch: bool = False,
    file_sizes: dict[str, tuple[int, int]] | None = None,
    base_dir: str | os.PathLike | None = None,
    tables: Tables | None = None,
    limits: str | None = None,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
) -> RequestEstimate:
    """Price every image in a request payload (a dict or JSON text) for `model` (default: the payload's).

    Data URLs are decoded only as far as their headers; local paths and file://
    URLs are read from disk (relative to `base_dir`); http(s) URLs only when
    `fetch`, header bytes only, within `timeout` seconds and `max_bytes` bytes;
    a file_id is priced when `file_sizes` gives its (width, height). An image
    that cannot be priced is listed with the reason and left out of the totals.
    RequestError for a payload that cannot be read; UnknownModelError for the model.
    """
    document, text_size = _load(payload)
    tables = tables or default_tables()
    name = model or document.get("model")
    if not isinstance(name, str) or not name:
        raise RequestError("no model: the payload has no 'model'; pass model= (or -m)")
    found = tables.model(name)
    rules = load_limits(limits)
    refs = list(_image_parts(document))
    pricers: dict[str, Pricer | CostcalcError] = {}
    images = []
    for ref in refs:
        images.append(_price(ref, found.name, tables, pricers, rules, fetch, file_sizes or {}, base_dir, timeout,
                             max_bytes))  # fmt: skip
    priced = [image for image in images if image.tokens is not None]
    price = tables.price(found)
    usd = None if price is None else sum((image.usd for image in priced), Decimal(0))
    size = text_size if text_size is not None else payload_size(document)
    return RequestEstimate(
        model=found.name,
        images=tuple(images),
        image_tokens=sum(image.tokens for image in priced),
        usd=usd,
        unpriced=len(images) - len(priced),
        payload_bytes=size,
        findings=_request_findings(rules, images, size),
    )


def check_budget(
    payload: dict | str | bytes,
    *,
    max_tokens: int | None = None,
    max_usd: Decimal | float | str | None = None,
    model: str | None = None,
    **options,
) -> RequestEstimate:
    """The estimate, or BudgetExceeded (carrying it) naming the total and the limit.

    Fails closed: an image that cannot be priced, or a model without a known
    price under `max_usd`, raises too, since the budget cannot be shown to hold.
    """
    estimate = count_request(payload, model=model, **options)
    problems = budget_problems(estimate, max_tokens, None if max_usd is None else Decimal(str(max_usd)))
    if problems:
        raise BudgetExceeded("; ".join(problems), estimate)
    return estimate


def budget_problems(estimate: RequestEstimate, max_tokens: int | None, max_usd: Decimal | None) -> list[str]:
    """Why a request's images break the budget; unpriced images break any budget (it cannot be shown to hold)."""
    problems = over_budget(estimate.model, estimate.image_tokens, estimate.usd, max_tokens=max_tokens, max_usd=max_usd)
    if estimate.unpriced and (max_tokens is not None or max_usd is not None):
        problems.append(f"{estimate.unpriced} image(s) could not be priced, so the budget cannot be checked")
    return problems


def payload_size(document: Any) -> int:
    """Bytes of `json.dumps(document)`, counted without writing it out."""
    if isinstance(document, str):
        return _json_string_size(document)
    if isinstance(document, dict):
        inner = sum(payload_size(str(key)) + 2 + payload_size(value) for key, value in document.items())
        return inner + 2 + 2 * max(len(document) - 1, 0)
    if isinstance(document, list):
        return sum(payload_size(item) for item in document) + 2 + 2 * max(len(document) - 1, 0)
    return len(json.dumps(document))


_SHORT_ESCAPES = (8, 9, 10, 12, 13)  # \b \t \n \f \r: two characters in JSON; other controls take six


def _json_string_size(text: str) -> int:
    """len(json.dumps(text)), at memory speed for the multi-MB base64 of a data URL."""
    if not text.isascii():
        return len(json.dumps(text))
    if len(text) < 65536:
        if text.isprintable() and '"' not in text and "\\" not in text:
            return len(text) + 2
        return len(json.dumps(text))
    import numpy as np  # isprintable() walks a 6 MB string character by character; this is ~10x faster

    codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    controls = int(codes.min()) < 32
    if not controls and '"' not in text and "\\" not in text:
        return len(text) + 2  # nothing to escape: base64, the common case
    escaped = int(np.count_nonzero((codes == 34) | (codes == 92)))
    short = int(np.count_nonzero(np.isin(codes, _SHORT_ESCAPES)))
    other = int(np.count_nonzero(codes < 32)) - short
    return len(text) + 2 + escaped + short + 5 * other


def _load(payload) -> tuple[dict, int | None]:
    if isinstance(payload, dict):
        return payload, None
    if isinstance(payload, (bytes, bytearray)):
        size = len(payload)
        payload = bytes(payload).decode("utf-8", "replace")
    elif isinstance(payload, str):
        size = len(payload.encode("utf-8"))
    else:
        raise RequestError(f"a payload is a dict or JSON text, not {type(payload).__name__}")
    try:
        document = json.loads(payload)
    except json.JSONDecodeError as error:
        raise RequestError(f"payload is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise RequestError(f"payload is JSON but not an object (it is a {type(document).__name__})")
    return document, size


def _image_parts(document: dict) -> Iterator[_Ref]:
    """Every image part, in payload order; RequestError for what cannot be a request."""
    if "messages" in document:
        messages = document["messages"]
        if not isinstance(messages, list):
            raise RequestError("'messages' must be a list")
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise RequestError(f"messages[{i}] must be an object")
            yield from _content(message.get("content"), f"messages[{i}].content")
    elif "input" in document:
        items = document["input"]
        if isinstance(items, str):
            return
        if not isinstance(items, list):
            raise RequestError("'input' must be a string or a list")
        for i, item in enumerate(items):
            if isinstance(item, dict) and "content" in item:
                yield from _content(item["content"], f"input[{i}].content")
            elif isinstance(item, dict) and "type" in item:
                ref = _part(item, f"input[{i}]")
                if ref:
                    yield ref
            elif not isinstance(item, str):
                raise RequestError(f"input[{i}] must be a message, a content part or a string")
    else:
        raise RequestError("no 'messages' or 'input': not a Chat Completions or Responses payload")


def _content(content, where: str) -> Iterator[_Ref]:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise RequestError(f"{where} must be a string or a list of parts")
    for j, part in enumerate(content):
        ref = _part(part, f"{where}[{j}]")
        if ref:
            yield ref


def _part(part, where: str) -> _Ref | None:
    if isinstance(part, str):
        return None  # legacy text
    if not isinstance(part, dict):
        raise RequestError(f"{where}: a content part must be an object or a string")
    kind = part.get("type")
    detail = part.get("detail") or "auto"
    if kind is None:
        if "image" in part:  # legacy GPT-4V: {"image": "<base64>", "resize": N}
            resize = part.get("resize")
            if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int) or resize < 1):
                raise RequestError(f"{where}: resize must be a whole number of pixels, not {resize!r}")
            return _Ref(where, "base64", _text(part["image"], where, "image"), detail, resize)
        raise RequestError(f"{where}: a content part without a 'type'")
    if kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, dict):
            return _Ref(where, "url", _text(image.get("url"), where, "image_url.url"), image.get("detail") or detail)
        return _Ref(where, "url", _text(image, where, "image_url"), detail)
    if kind == "input_image":
        if part.get("file_id"):
            return _Ref(where, "file_id", _text(part["file_id"], where, "file_id"), detail)
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        return _Ref(where, "url", _text(url, where, "image_url"), detail)
    if kind in TEXT_PARTS:
        return None
    raise RequestError(f"{where}: part of unknown type {kind!r}; images are 'image_url' (Chat Completions) "
                       f"or 'input_image' (Responses)")  # fmt: skip


def _text(value, where: str, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise RequestError(f"{where}: {field} must be a non-empty string")
    return value


def _price(ref: _Ref, model: str, tables, pricers, rules: Limits, fetch, file_sizes, base_dir, timeout,
           max_bytes) -> RequestImage:  # fmt: skip
    base = {"where": ref.where, "source": ref.source, "reference": _label(ref), "detail": ref.detail}
    if ref.detail not in pricers:
        try:
            pricers[ref.detail] = Pricer(model, ref.detail, tables)
        except CostcalcError as error:
            pricers[ref.detail] = error
    pricer = pricers[ref.detail]
    if isinstance(pricer, CostcalcError):
        return RequestImage(**base, error=str(pricer))
    try:
        width, height, info = _size(ref, fetch, file_sizes, base_dir, timeout, max_bytes)
    except UnsupportedFormatError as error:
        return RequestImage(**base, format=error.format, rule="formats", error=str(error))
    except CostcalcError as error:
        return RequestImage(**base, error=str(error))
    facts = dict(base, applied_detail=pricer.applied_detail, width=width, height=height,
                 format=info.format if info else None, bytes=info.bytes if info else None)  # fmt: skip
    finding = rules.check_image(info) if info else None
    if finding is not None:
        return RequestImage(**facts, rule=finding.rule, error=f"{ref.where}: {finding.message}")
    if ref.resize is not None:
        width, height = fit_within(width, height, ref.resize)
    try:
        tokens = pricer.tokens(width, height)
    except ImageRejectedError as error:
        return RequestImage(**facts, rule="max_patches", error=f"{ref.where}: {error}")
    return RequestImage(**facts, tokens=tokens, usd=pricer.usd(tokens))


def _size(ref: _Ref, fetch, file_sizes, base_dir, timeout, max_bytes) -> tuple[int, int, ImageInfo | None]:
    where, value = ref.where, ref.value
    if ref.source == "file_id":
        size = file_sizes.get(value)
        if size is None:
            raise RequestError(f"{where}: file {value}: size unknown (give it with file_sizes= or --file-size)")
        return size[0], size[1], None
    if value.startswith("data:"):
        info = inspect_data_url(value, where)
    elif ref.source == "base64":
        info = inspect_base64(value, where)
    elif value.startswith(("http://", "https://")):
        if not fetch:
            raise RequestError(f"{where}: remote URL not fetched (pass fetch=True, or --fetch): {value[:200]}")
        info = inspect_url(value, timeout=timeout, max_bytes=max_bytes, name=f"{where}: {value[:200]}").info
    elif _scheme(value) not in ("", "file"):
        raise RequestError(f"{where}: cannot read a {_scheme(value)} URL: only data, http(s), file URLs and paths")
    else:
        info = inspect_local(value, f"{where}: {value}", base_dir)
    return info.width, info.height, info


def _scheme(value: str) -> str:
    """The scheme of a URL ('ftp' in ftp://...), or '' for a plain path."""
    scheme, separator, _ = value.partition("://")
    return scheme.lower() if separator and scheme.isalnum() else ""


def _label(ref: _Ref) -> str:
    value = ref.value
    if ref.source == "base64" or value.startswith("data:"):
        media = value[5 : value.find(";", 0, 100)] if value.startswith("data:") else "base64"
        return f"{media} ({len(value) * 3 // 4:,} bytes)"
    return value if len(value) <= 120 else value[:117] + "..."


def _request_findings(rules: Limits, images: list[RequestImage], size: int) -> tuple[Finding, ...]:
    findings = []
    count = rules.rules.get("max_images")
    if count is not None and len(images) > count.value:
        findings.append(Finding("max_images", f"{len(images):,} images, over the {count.value:,} allowed per request "
                                              f"[limits {count.edition}]"))  # fmt: skip
    total = rules.rules.get("max_request_bytes")
    if total is not None and size > total.value:
        findings.append(Finding("max_request_bytes", f"payload of {size:,} bytes, over the {total.value:,} allowed "
                                                     f"[limits {total.edition}]"))  # fmt: skip
    image_total = rules.rules.get("max_request_image_bytes")
    image_bytes = sum(image.bytes or 0 for image in images)
    if image_total is not None and image_bytes > image_total.value:
        findings.append(Finding("max_request_image_bytes", f"{image_bytes:,} bytes of images, over the "
                                                           f"{image_total.value:,} allowed [limits {image_total.edition}]"))
    return tuple(findings)
