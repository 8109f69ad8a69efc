"""Pricing a whole request payload before sending it: every image, where it is, what it costs (SPEC §3, §6g).

The payload's shape is read from its structure, never from the model's name:

- `contents[].parts[]` — Gemini generateContent: `inline_data {mime_type, data}`
  and `file_data {mime_type, file_uri}` (camelCase too), `media_resolution`
  per part or `generationConfig.mediaResolution` for all (SPEC §6b, §6g);
- `messages[].content[]` — OpenAI Chat Completions (`image_url`; also Mistral,
  Qwen compatible mode and xAI, SPEC §6c-e), Anthropic Messages (`image`
  blocks with a base64, url or file source, also inside `tool_result`, and in
  `system`, SPEC §6a), Bedrock Converse (`{"image": {"format", "source"}}`,
  also inside `toolResult`), and the legacy GPT-4V shape (seeds 001, 004):
  plain strings and `{"image": "<base64>", "resize": N}` objects;
- `input[]` — the Responses API: `input_image` by image_url or file_id, and
  the screenshots of `computer_call_output` items.

A payload that cannot be a request (not JSON, a list where an object must be)
is one RequestError naming the place. A bad image part — a detail that is not
a word, a URL that is not text, an undecodable image — is that image's error
row, and the rest of the payload is still priced.

`resize: N` is read as: the image is fitted within N × N (never upscaled), then
priced by the model's own rule. The seeds only show it in use (video frames
sent with resize 768) and never define it, so this reading is an assumption.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ..catalog.limits import DEFAULT_PROVIDER, Finding, Limits, load_limits
from ..catalog.tables import Price, Tables, default_tables
from ..errors import (
    BudgetExceeded,
    CostcalcError,
    ImageRejectedError,
    InvalidSizeError,
    RequestError,
    UnknownModelError,  # fmt: skip
)
from ..inspection.fetch import MAX_BYTES, TIMEOUT, inspect_url
from ..inspection.headers import ImageInfo, inspect
from ..inspection.sources import ACCEPTED_TYPES, inspect_base64, inspect_data_url, inspect_local
from ..money import Overrun, over_budget, parse_usd, usd_sum
from ..schemes.geometry import fit_within
from ..schemes.qwen import QwenRule
from ..words import escape, json_kind
from .cost import Pricer, unknown_tokens_note
from .text import TextCount, count_text
from .verdict import image_rejection, strict_error

__all__ = ["RequestImage", "RequestEstimate", "count_request", "check_budget", "budget_overruns", "budget_problems", "payload_size"]

NO_IMAGE_TYPES = frozenset({
    # OpenAI Chat Completions and Responses content parts; Mistral's document_url
    "text", "input_text", "output_text", "refusal", "input_audio", "audio", "input_file", "file", "document_url",
    # Responses input items that hold no image (function_call_output and computer_call_output are read)
    "message", "function_call", "reasoning", "item_reference", "web_search_call", "file_search_call",
    "computer_call", "image_generation_call", "code_interpreter_call", "local_shell_call", "local_shell_call_output",
    "shell_call", "shell_call_output", "apply_patch_call", "apply_patch_call_output", "mcp_list_tools",
    "mcp_approval_request", "mcp_approval_response", "mcp_call", "custom_tool_call", "compaction",
    # Anthropic Messages content blocks (tool_result is read)
    "document", "search_result", "tool_use", "thinking", "redacted_thinking", "server_tool_use",
    "web_search_tool_result", "web_fetch_tool_result", "code_execution_tool_result",
    "bash_code_execution_tool_result", "text_editor_code_execution_tool_result", "tool_search_tool_result",
    "mcp_tool_use", "mcp_tool_result", "container_upload",
})  # fmt: skip
"""Typed parts and items that carry no image: passed over."""
TEXT_PARTS = NO_IMAGE_TYPES  # the name this set had before the vendor shapes

UNTYPED_NO_IMAGE = frozenset({"text", "document", "video", "audio", "toolUse", "cachePoint", "reasoningContent",
                              "citationsContent", "searchResult"})  # fmt: skip
"""Keys of untyped parts (Bedrock Converse, DashScope native) that carry no image."""

BEDROCK_FORMATS = ("png", "jpeg", "gif", "webp")
"""Bedrock Converse ImageBlock formats (AWS Bedrock API reference, ImageBlock)."""

MEDIA_RESOLUTION = {"MEDIA_RESOLUTION_LOW": "low", "MEDIA_RESOLUTION_MEDIUM": "medium",
                    "MEDIA_RESOLUTION_HIGH": "high", "MEDIA_RESOLUTION_ULTRA_HIGH": "ultra_high",
                    "MEDIA_RESOLUTION_UNSPECIFIED": "auto"}  # fmt: skip
"""Gemini's media_resolution values as costcalc detail words (SPEC §6b; python-genai types.MediaResolution)."""

MAX_MODEL_NAME = 200
"""A longer 'model' is not a model name; the error quotes only its start."""


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
    """How sure `tokens` is: exact, maximum, approximate or flat (SPEC §6); None when unpriced."""
    warning: str | None = None
    """The defect of a damaged image priced from its header (ImageInfo.warning); None when whole."""

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
    text_tokens: int | None = None
    """Tokens of the payload's text, framing included (OpenAI, tiktoken); None when not measured (`text_note`)."""
    text_note: str | None = None
    """Why `text_tokens` is None, or what its count assumed; None for an exact count."""
    input_tokens: int | None = None
    """text_tokens + image_tokens: the whole request's input; None when the text (or an image) is unknown."""
    input_note: str | None = None
    """What keeps the whole input unknown, or the long-context rate uncertain; None when neither."""
    text_usd: Decimal | None = None
    """USD of the text at the request's rate; None when the text or the price is unknown."""
    input_usd: Decimal | None = None
    """USD of the whole input (cached_tokens at the cached rate); None when any part is unknown."""
    tier: str = "standard"
    """The service tier the request is priced at (SPEC §7)."""
    cached_tokens: int = 0
    """Input tokens read from the prompt cache, priced at the cached-input rate in `input_usd`."""
    long_context: bool | None = False
    """Whether the long-context rate applies to the whole request (SPEC §7); None when the text is unknown
    and only it could carry the input over the threshold."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "model": self.model,
            "tier": self.tier,
            "images": [image.as_dict() for image in self.images],
            "text_tokens": self.text_tokens,
            "text_note": self.text_note,
            "image_tokens": self.image_tokens,
            "input_tokens": self.input_tokens,
            "input_note": self.input_note,
            "cached_tokens": self.cached_tokens,
            "long_context": self.long_context,
            "usd": None if self.usd is None else float(self.usd),
            "text_usd": None if self.text_usd is None else float(self.text_usd),
            "input_usd": None if self.input_usd is None else float(self.input_usd),
            "unpriced": self.unpriced,
            "payload_bytes": self.payload_bytes,
            "findings": [{"rule": f.rule, "message": f.message} for f in self.findings],
        }


@dataclass(frozen=True)
class _Ref:
    """An image part found in the payload, not yet read; `error` set when the part itself is bad."""

    where: str
    source: str
    value: Any = ""
    detail: str = "auto"
    detail_where: str = ""
    """Where the detail came from, for its error; '' for the default."""
    resize: int | None = None
    max_pixels: int | None = None
    min_pixels: int | None = None
    pixels_where: str = ""
    """Where max_pixels / min_pixels were set, for their error."""
    reject_oversized: bool = False
    """Anthropic: `transformations.oversized_image = "error"`, or a computer-use screenshot (SPEC §6a)."""
    media_type: str | None = None
    """The media type the part declares (Anthropic base64 sources), checked against the bytes."""
    error: str | None = None


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
    allow_private: bool = False,
    strict: bool = False,
    tier: str = "standard",
    cached_tokens: int = 0,
) -> RequestEstimate:
    """Price every image in a request payload (a dict or JSON text) for `model` (default: the payload's),
    and its text, so that the whole request is priced (SPEC §7).

    Data URLs and base64 are decoded only as far as their headers; local paths
    and file:// URLs are read from disk (relative to `base_dir`); http(s) URLs
    only when `fetch`, header bytes only, within `timeout` seconds and
    `max_bytes` bytes, and never from a private address unless `allow_private`;
    a file id, Gemini file URI or S3 location is priced when `file_sizes`
    gives its (width, height). An image that cannot be priced is listed with
    the reason and left out of the totals; each image gets the verdict every
    command gives it (pricing.verdict), and with `strict` a damaged image is
    unpriced rather than priced with a warning.

    OpenAI text is counted with tiktoken (pricing.text; other vendors' text: null,
    "not measured"). `tier` is the service tier (SPEC §7). Above the long-context
    threshold the whole request, images included, is priced at the higher rate.
    `cached_tokens` of the input are priced at the cached-input rate in `input_usd`.
    Raises only CostcalcError: RequestError for a payload that cannot be read,
    UnknownModelError for the model, TierError for a tier or cached rate it lacks.
    """
    document, text_size = _load(payload)
    tables = tables or default_tables()
    found = tables.model(_model_name(document, model))
    tier = tables.check_tier(found, tier)
    if isinstance(cached_tokens, bool) or not isinstance(cached_tokens, int) or cached_tokens < 0:
        raise RequestError(f"cached_tokens must be a whole number of tokens, not {_show(cached_tokens)}")
    rules = load_limits(limits, provider=found.provider or None)  # the model's vendor's limits (SPEC §6)
    size = text_size if text_size is not None else payload_size(document)
    refs = list(_Walk(document).refs())
    pricing = _Pricing(found.name, tables, rules, _file_sizes(file_sizes), base_dir,
                       dict(fetch=fetch, timeout=timeout, max_bytes=max_bytes, allow_private=allow_private))  # fmt: skip
    pricing.strict = strict
    pricing.tier = tier
    images = [pricing.price(ref) for ref in refs]
    whole = _whole_request(images, count_text(document, found), tables.price(found), tier, cached_tokens)
    priced = [image for image in whole.images if image.tokens is not None]
    return RequestEstimate(
        model=found.name,
        images=whole.images,
        image_tokens=whole.image_tokens,
        usd=whole.usd,
        unpriced=len(images) - len(priced),
        payload_bytes=size,
        findings=_request_findings(rules, images, size),
        text_tokens=whole.text.tokens,
        text_note=whole.text.note,
        input_tokens=whole.input_tokens,
        input_note=whole.note,
        text_usd=whole.text_usd,
        input_usd=whole.input_usd,
        tier=tier,
        cached_tokens=cached_tokens,
        long_context=whole.long_context,
    )


@dataclass(frozen=True)
class _Whole:
    """A request's totals: its images re-priced at the whole request's rate, its text, its input."""

    images: tuple[RequestImage, ...]
    image_tokens: int
    usd: Decimal | None
    text: TextCount
    note: str | None
    """What keeps the input unknown or the long-context rate uncertain."""
    input_tokens: int | None
    text_usd: Decimal | None
    input_usd: Decimal | None
    long_context: bool | None


def _whole_request(images: list[RequestImage], text: TextCount, price: Price | None, tier: str,
                   cached: int) -> _Whole:  # fmt: skip
    """Price the request as one: the long-context rate (SPEC §7) once the whole input, text and images,
    exceeds the threshold, for every token of it; `cached` of the input at the cached-input rate."""
    image_tokens = sum(image.tokens for image in images if image.tokens is not None)
    complete = all(image.tokens is not None for image in images)
    input_tokens = text.tokens + image_tokens if text.tokens is not None and complete else None
    if input_tokens is not None and cached > input_tokens:
        raise RequestError(f"cached_tokens {cached:,} is more than the request's {input_tokens:,} input tokens")
    known = input_tokens if input_tokens is not None else image_tokens + (text.tokens or 0)  # at least these
    notes = []
    long = None if price is None else price.rates(tier).long_context
    long_context: bool | None = long is not None and known > long.above
    if long is not None and not long_context and input_tokens is None:
        long_context = None  # what is not counted could carry the input over the threshold
        notes.append(f"the long-context rate applies if the whole input exceeds {long.above:,} tokens; "
                     f"{known:,} are counted")
    if long is not None and long.usd_per_1m_input is None and long_context is not False:
        notes.append(price.rates(tier).note)  # the tier's rate above the threshold is unknown (SPEC §7)
    if not complete:
        notes.append("an image could not be priced, so the whole input is unknown")
    if price is not None:
        images = [replace(image, usd=price.usd(image.tokens, tier=tier, input_tokens=known))
                  if image.tokens is not None else image for image in images]  # fmt: skip
    usd = None if price is None or any(i.tokens is not None and i.usd is None for i in images) else \
        usd_sum(image.usd for image in images if image.tokens is not None)  # fmt: skip
    text_usd = input_usd = None
    if price is not None and text.tokens is not None:
        text_usd = price.usd(text.tokens, tier=tier, input_tokens=known)
    if price is not None and input_tokens is not None:
        parts = [price.usd(input_tokens - cached, tier=tier, input_tokens=input_tokens)]
        if cached:
            parts.append(price.usd(cached, tier=tier, input_tokens=input_tokens, cached=True))
        input_usd = None if None in parts else usd_sum(parts)
    return _Whole(tuple(images), image_tokens, usd, text, "; ".join(notes) or None, input_tokens, text_usd,
                  input_usd, long_context)  # fmt: skip


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
    overruns = budget_overruns(estimate, max_tokens, None if max_usd is None else parse_usd(str(max_usd)))
    if overruns:
        raise BudgetExceeded("; ".join(map(str, overruns)), estimate, overruns)
    return estimate


def budget_overruns(estimate: RequestEstimate, max_tokens: int | None, max_usd: Decimal | None) -> list[Overrun]:
    """How a request's images break the budget; unpriced images break any budget (it cannot be shown to hold)."""
    overruns = over_budget(estimate.model, estimate.image_tokens, estimate.usd, max_tokens=max_tokens, max_usd=max_usd)
    if estimate.unpriced and (max_tokens is not None or max_usd is not None):
        overruns.append(Overrun("", "budget", None, None, f"{estimate.unpriced} image(s) could not be priced"))
    return overruns


def budget_problems(estimate: RequestEstimate, max_tokens: int | None, max_usd: Decimal | None) -> list[str]:
    """`budget_overruns` worded with the parameter names."""
    return [str(overrun) for overrun in budget_overruns(estimate, max_tokens, max_usd)]


# ------------------------------------------------------------------ payload bytes

_END = object()
_HUGE = 10**4000


def payload_size(document: Any) -> int:
    """Bytes of `json.dumps(document)`, counted without writing it out, at any depth.

    Raw `bytes` (as boto3 takes a Bedrock image) count as the base64 text they
    are sent as. RequestError, naming the place, for what JSON cannot carry:
    NaN or infinity, a circular reference, an object of another type.
    """
    size = 0
    path: list[Any] = []  # the key or index of each open container, for messages
    frames: list[tuple[int, Iterator, bool]] = []  # (id, items, is an object) of each open container
    open_ids: set[int] = set()
    value = document
    while True:
        if isinstance(value, str):
            size += _json_string_size(value)
        elif isinstance(value, (dict, list, tuple)):
            if id(value) in open_ids:
                raise RequestError(f"{_path(path)}: the payload contains itself (a circular reference)")
            size += 2 + 2 * max(len(value) - 1, 0)
            is_object = isinstance(value, dict)
            frames.append((id(value), iter(value.items() if is_object else enumerate(value)), is_object))
            open_ids.add(id(value))
            path.append(None)
        else:
            size += _scalar_size(value, path)
        while frames:
            ident, items, is_object = frames[-1]
            item = next(items, _END)
            if item is _END:
                frames.pop()
                open_ids.discard(ident)
                path.pop()
                continue
            key, value = item
            path[-1] = key
            if is_object:
                size += _key_size(key, path) + 2  # the key and ": "
            break
        else:
            return size


def _scalar_size(value: Any, path: list) -> int:
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, int):
        if not -_HUGE < value < _HUGE:  # Python writes no int of over 4,300 digits
            raise RequestError(f"{_path(path)}: a number of over 4,000 digits, which JSON tools cannot write")
        return len(int.__repr__(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise RequestError(f"{_path(path)}: {value!r} is not a JSON number")
        return len(float.__repr__(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return 4 * -(-len(value) // 3) + 2  # sent as base64 text
    raise RequestError(f"{_path(path)}: a {type(value).__name__} is not a JSON value")


def _key_size(key: Any, path: list) -> int:
    """The size of an object key as json.dumps writes it (None, bools and numbers become strings)."""
    if isinstance(key, str):
        return _json_string_size(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return _scalar_size(key, path) + 2
    if key is None or isinstance(key, (bool, float)):
        return len(json.dumps(key)) + 2
    raise RequestError(f"{_path(path[:-1])}: a key of type {type(key).__name__}; JSON keys are strings")


def _path(path: list) -> str:
    """A payload location such as messages[1].content[2].image_url from a list of keys and indexes."""
    text = ""
    for key in path:
        if isinstance(key, int) and not isinstance(key, bool):
            text += f"[{key}]"
        else:
            name = str(key) if isinstance(key, str) and key.isidentifier() else _show(key)
            text += f".{name}" if text else name
    return text or "payload"


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


# ------------------------------------------------------------------ reading the payload


def _load(payload) -> tuple[dict, int | None]:
    """The payload as a dict, and its size in bytes when it came as text; RequestError for anything else."""
    if isinstance(payload, dict):
        return payload, None
    if isinstance(payload, (bytes, bytearray, memoryview)):
        text = _decode(bytes(payload))
    elif isinstance(payload, str):
        text = payload[1:] if payload.startswith("\ufeff") else payload
    else:
        raise RequestError(f"a payload is a dict or JSON text, not {type(payload).__name__}")
    size = len(text.encode("utf-8", "surrogatepass"))
    try:
        document = json.loads(text, parse_constant=_no_constant, parse_int=_parse_int)
    except RequestError:
        raise
    except json.JSONDecodeError as error:
        raise RequestError(f"payload is not JSON: {error}") from None
    except RecursionError:
        raise RequestError("payload is nested too deeply to read (JSON nested about a thousand levels or more)") from None
    if not isinstance(document, dict):
        raise RequestError(f"payload is JSON but not an object: it is {json_kind(document)}")
    return document, size


def _decode(data: bytes) -> str:
    """Payload bytes as text: UTF-8 (a byte-order mark is dropped), or UTF-16 when it starts with its BOM."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # PowerShell's `>` writes UTF-16
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RequestError(f"payload is not UTF-8 text: byte {error.object[error.start]:#04x} at offset "
                           f"{error.start:,} ({error.reason})") from None  # fmt: skip


def _no_constant(name: str):
    raise RequestError(f"payload is not JSON: {name} is not a JSON value (JSON has no NaN or Infinity)")


def _parse_int(text: str) -> int | float:
    """A JSON integer; one too long for Python's int() (over 4,300 digits) becomes ±inf, still a number."""
    return int(text) if len(text) <= 4000 else float(text)


def _model_name(document: dict, model: Any) -> str:
    """The model to price for: the caller's, else the payload's `model` (Bedrock: `modelId`)."""
    if model is None:
        key = "model" if "model" in document else "modelId"
        model = document.get(key)
        if model is None:
            raise RequestError("no model: the payload has no 'model' (or Bedrock 'modelId'); pass model= (or -m)")
        if not isinstance(model, str):
            raise RequestError(f"'{key}' must be a model name, not {_show(model)}")
    if isinstance(model, str) and len(model) > MAX_MODEL_NAME:
        raise UnknownModelError(model[:40] + f"... ({len(model):,} characters)")
    return model


def _file_sizes(sizes: Any) -> dict[str, tuple[int, int]]:
    """file_sizes= checked once: each a (width, height) of positive whole pixels."""
    from .cost import check_size

    if not sizes:
        return {}
    if not hasattr(sizes, "items"):
        raise RequestError("file_sizes must map file ids (or URIs) to (width, height)")
    checked = {}
    for key, size in sizes.items():
        try:
            width, height = size
        except (TypeError, ValueError):
            raise RequestError(f"file_sizes[{_show(key)}] must be (width, height), not {_show(size)}") from None
        try:
            checked[key] = check_size(width, height)
        except CostcalcError as error:
            raise RequestError(f"file_sizes[{_show(key)}]: {error}") from None
    return checked


class _Walk:
    """The image parts of one payload, in payload order, found by the payload's structure (SPEC §3, §6g)."""

    def __init__(self, document: dict):
        self.document = document
        self.gemini = "contents" in document
        self.detail, self.detail_where = self._default_detail()
        self.screenshots = self._screenshot_ids() if not self.gemini else frozenset()

    def refs(self) -> Iterator[_Ref]:
        """Every image part; RequestError for what cannot be a request."""
        document = self.document
        if self.gemini:
            yield from self._gemini_instruction()
            yield from self._gemini_contents(document["contents"])
        elif "messages" in document:
            yield from self._system(document.get("system"))
            yield from self._messages(document["messages"], "messages")
        elif "input" in document:
            yield from self._input(document["input"])
        else:
            raise RequestError("no 'messages', 'input' or 'contents': not a Chat Completions, Responses, Messages, "
                               "Converse or generateContent payload")  # fmt: skip

    # ---------------------------------------------------------- document-wide settings

    def _default_detail(self) -> tuple[str, str]:
        """The detail of parts that name none: Gemini's global media resolution, Qwen's vl_high_resolution_images."""
        document = self.document
        if self.gemini:
            config_key = _first_key(document, "generationConfig", "generation_config")
            if config_key is None or document[config_key] is None:
                return "auto", ""
            config = document[config_key]
            if not isinstance(config, dict):
                raise RequestError(f"{config_key} must be an object, not {_show(config)}")
            key = _first_key(config, "mediaResolution", "media_resolution")
            if key is None or config[key] is None:
                return "auto", ""
            where = f"{config_key}.{key}"
            detail, error = _media_resolution(config[key], where)
            if error:
                raise RequestError(error)
            if detail == "ultra_high":  # SPEC §6b: ULTRA_HIGH is set per part only
                raise RequestError(f"{where}: MEDIA_RESOLUTION_ULTRA_HIGH can be set per part only, not for the request")
            return detail, where
        for owner, prefix in ((document, ""), (document.get("parameters"), "parameters.")):  # DashScope native: parameters
            if isinstance(owner, dict) and owner.get("vl_high_resolution_images") is not None:
                value = owner["vl_high_resolution_images"]
                if not isinstance(value, bool):
                    raise RequestError(f"{prefix}vl_high_resolution_images must be true or false, not {_show(value)}")
                if value:  # SPEC §6d: `-d high` is vl_high_resolution_images
                    return "high", f"{prefix}vl_high_resolution_images"
        return "auto", ""

    def _screenshot_ids(self) -> frozenset[str]:
        """Ids of Anthropic computer-use tool calls: their tool_result screenshots are never downscaled (SPEC §6a)."""
        tools, messages = self.document.get("tools"), self.document.get("messages")
        if not isinstance(tools, list) or not isinstance(messages, list):
            return frozenset()
        # Anthropic's computer tool types are versioned by date: computer_20241022, computer_20250124, ...
        names = {tool["name"] for tool in tools if isinstance(tool, dict) and isinstance(tool.get("type"), str)
                 and tool["type"].startswith("computer_") and isinstance(tool.get("name"), str)}  # fmt: skip
        if not names:
            return frozenset()
        ids = set()
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            for block in content if isinstance(content, list) else ():
                if isinstance(block, dict) and block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                    if isinstance(block.get("name"), str) and block["name"] in names:
                        ids.add(block["id"])
        return frozenset(ids)

    # ---------------------------------------------------------- messages, system, input

    def _system(self, system) -> Iterator[_Ref]:
        """Anthropic's and Bedrock's `system`: a string, or a list of blocks."""
        if system is None or isinstance(system, str):
            return
        for i, block in enumerate(_items(system, "'system'", "a string or a list of blocks")):
            yield from self._part(block, f"system[{i}]")

    def _messages(self, messages, where: str) -> Iterator[_Ref]:
        for i, message in enumerate(_items(messages, f"'{where}'", "a list")):
            if not isinstance(message, dict):
                raise RequestError(f"{where}[{i}] must be an object, not {_show(message)}")
            yield from self._content(message.get("content"), f"{where}[{i}].content")

    def _input(self, items) -> Iterator[_Ref]:
        """The Responses API's `input` (DashScope's native `input.messages` too)."""
        if isinstance(items, str):
            return
        if isinstance(items, dict) and "messages" in items:
            yield from self._messages(items["messages"], "input.messages")
            return
        if not isinstance(items, list):
            raise RequestError(f"'input' must be a string or a list, not {_show(items)}")
        for i, item in enumerate(items):
            if isinstance(item, dict) and "content" in item:
                yield from self._content(item["content"], f"input[{i}].content")
            elif isinstance(item, dict) and "type" in item:
                yield from self._part(item, f"input[{i}]")
            elif not isinstance(item, str):
                raise RequestError(f"input[{i}] must be a message, a content part or a string, not {_show(item)}")

    def _content(self, content, where: str, inside: dict | None = None) -> Iterator[_Ref]:
        if content is None or isinstance(content, str):
            return
        for j, part in enumerate(_items(content, where, "a string or a list of parts")):
            yield from self._part(part, f"{where}[{j}]", inside)

    def _part(self, part, where: str, inside: dict | None = None) -> Iterator[_Ref]:
        """One content part or block; `inside` is the tool result it sits in, if any."""
        if isinstance(part, str):
            return  # legacy text
        if not isinstance(part, dict):
            raise RequestError(f"{where}: a content part must be an object or a string, not {_show(part)}")
        kind = part.get("type")
        if kind is None:
            yield from self._untyped(part, where, inside)
            return
        if not isinstance(kind, str):
            raise RequestError(f"{where}.type must be a string, not {_show(kind)}")
        if kind == "image_url":
            yield self._chat_image(part, where)
        elif kind in ("input_image", "computer_screenshot"):
            yield self._responses_image(part, where)
        elif kind == "image":
            yield self._claude_image(part, where, inside)
        elif kind in ("tool_result", "function_call_output", "computer_call_output", "custom_tool_call_output"):
            if inside is not None:
                raise RequestError(f"{where}: a {kind} inside a tool result")
            field = "content" if kind == "tool_result" else "output"
            value = part.get(field)
            if isinstance(value, dict):
                yield from self._part(value, f"{where}.{field}", part)
            else:
                yield from self._content(value, f"{where}.{field}", part)
        elif kind not in NO_IMAGE_TYPES:
            raise RequestError(f"{where}: part of unknown type {_show(kind)}; images are 'image_url' (Chat "
                               f"Completions), 'input_image' (Responses), 'image' (Messages)")  # fmt: skip

    def _untyped(self, part: dict, where: str, inside: dict | None) -> Iterator[_Ref]:
        """A part without `type`: Bedrock Converse blocks, DashScope native, legacy GPT-4V."""
        if "image" in part:
            image = part["image"]
            if isinstance(image, dict):  # Bedrock: {"image": {"format", "source"}}
                yield self._bedrock_image(image, f"{where}.image", where)
            else:  # legacy GPT-4V {"image": "<base64>", "resize": N}; DashScope native {"image": "<url>"}
                yield self._legacy_image(part, where)
        elif "toolResult" in part:
            if inside is not None:
                raise RequestError(f"{where}: a toolResult inside a tool result")
            result = part["toolResult"]
            if not isinstance(result, dict):
                raise RequestError(f"{where}.toolResult must be an object, not {_show(result)}")
            yield from self._content(result.get("content"), f"{where}.toolResult.content", result)
        elif "guardContent" in part:
            guard = part["guardContent"]
            if isinstance(guard, dict) and isinstance(guard.get("image"), dict):
                yield self._bedrock_image(guard["image"], f"{where}.guardContent.image", where)
        elif not UNTYPED_NO_IMAGE.intersection(part):
            raise RequestError(f"{where}: a content part without a 'type'")

    # ---------------------------------------------------------- one image each

    def _chat_image(self, part: dict, where: str) -> _Ref:
        """Chat Completions `image_url` (Mistral: a plain URL string; Qwen: max_pixels beside it)."""
        image = part.get("image_url")
        raw, at = part.get("detail"), f"{where}.detail"
        if isinstance(image, dict):
            url, url_where = image.get("url"), f"{where}.image_url.url"
            if image.get("detail") is not None:
                raw, at = image["detail"], f"{where}.image_url.detail"
        else:
            url, url_where, image = image, f"{where}.image_url", {}
        detail, detail_where, error = self._detail(raw, at)
        pixels, pixels_error = _pixels(part, image, where)
        return _Ref(where, "url", url, detail, detail_where, **pixels,
                    error=error or pixels_error or _need_text(url, url_where))  # fmt: skip

    def _responses_image(self, part: dict, where: str) -> _Ref:
        """Responses `input_image` (and `computer_screenshot`): by image_url or file_id."""
        detail, detail_where, error = self._detail(part.get("detail"), f"{where}.detail")
        if part.get("file_id") is not None:
            value = part["file_id"]
            return _Ref(where, "file_id", value, detail, detail_where, error=error or _need_text(value, f"{where}.file_id"))
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        url_where = f"{where}.image_url.url" if isinstance(image, dict) else f"{where}.image_url"
        return _Ref(where, "url", url, detail, detail_where, error=error or _need_text(url, url_where))

    def _claude_image(self, block: dict, where: str, inside: dict | None) -> _Ref:
        """Anthropic `image` block: source base64 / url / file; `transformations` (SPEC §6a, §6g)."""
        reject, error = self._oversized(block, where, inside)
        source = block.get("source")
        if not isinstance(source, dict):
            return _Ref(where, "url", "", error=f"{where}.source must be an object with a type, not {_show(source)}")
        kind = source.get("type")
        if kind == "base64":
            media = source.get("media_type")
            if error is None and media is not None and media not in _CLAUDE_TYPES:
                error = (f"{where}.source.media_type: {_show(media)} is not an accepted image type "
                         f"({', '.join(_CLAUDE_TYPES)})")  # fmt: skip
            data = source.get("data")
            return _Ref(where, "base64", data, reject_oversized=reject, media_type=media,
                        error=error or _need_text(data, f"{where}.source.data"))  # fmt: skip
        if kind in ("url", "file"):
            field = "url" if kind == "url" else "file_id"
            value = source.get(field)
            return _Ref(where, field, value, reject_oversized=reject,
                        error=error or _need_text(value, f"{where}.source.{field}"))  # fmt: skip
        return _Ref(where, "url", "", error=f"{where}.source.type must be base64, url or file, not {_show(kind)}")

    def _oversized(self, block: dict, where: str, inside: dict | None) -> tuple[bool, str | None]:
        """Whether an oversized image is rejected rather than downscaled, and any error in saying so."""
        used = inside.get("tool_use_id") if inside is not None else None
        reject = isinstance(used, str) and used in self.screenshots
        for owner, at in ((inside, "the tool result's"), (block, where)):
            if not isinstance(owner, dict) or owner.get("transformations") is None:
                continue
            transformations = owner["transformations"]
            if not isinstance(transformations, dict):
                return reject, f"{at} transformations must be an object, not {_show(transformations)}"
            value = transformations.get("oversized_image")
            if value is not None and not isinstance(value, str):
                return reject, f"{at} transformations.oversized_image must be a string, not {_show(value)}"
            reject = reject or value == "error"
        return reject, None

    def _bedrock_image(self, image: dict, where: str, part_where: str) -> _Ref:
        """Bedrock Converse ImageBlock: format, and source bytes (base64 in JSON, raw from boto3) or s3Location."""
        fmt = image.get("format")
        error = None
        if fmt not in BEDROCK_FORMATS:
            error = f"{where}.format must be one of {', '.join(BEDROCK_FORMATS)}, not {_show(fmt)}"
        source = image.get("source")
        if not isinstance(source, dict):
            return _Ref(part_where, "bytes", "", error=error or f"{where}.source must be an object, not {_show(source)}")
        if "bytes" in source:
            data = source["bytes"]
            if isinstance(data, (bytes, bytearray, memoryview)) and len(data):
                return _Ref(part_where, "bytes", bytes(data), error=error)
            return _Ref(part_where, "base64", data, error=error or _need_text(data, f"{where}.source.bytes"))
        location = source.get("s3Location")
        if isinstance(location, dict):
            uri = location.get("uri")
            return _Ref(part_where, "s3", uri, error=error or _need_text(uri, f"{where}.source.s3Location.uri"))
        return _Ref(part_where, "bytes", "", error=error or f"{where}.source needs bytes or s3Location")

    def _legacy_image(self, part: dict, where: str) -> _Ref:
        """`{"image": "<base64>", "resize": N}` (seeds 001, 004), or DashScope's `{"image": "<url>"}`."""
        value = part["image"]
        resize = part.get("resize")
        error = _need_text(value, f"{where}.image")
        if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int) or resize < 1):
            error = error or f"{where}.resize must be a whole number of pixels, not {_show(resize)}"
            resize = None
        source = "url" if isinstance(value, str) and _scheme(value, data=True) else "base64"
        detail, detail_where, detail_error = self._detail(part.get("detail"), f"{where}.detail")
        pixels, pixels_error = _pixels(part, {}, where)
        return _Ref(where, source, value, detail, detail_where, resize=resize, **pixels,
                    error=error or detail_error or pixels_error)  # fmt: skip

    def _detail(self, value, where: str) -> tuple[str, str, str | None]:
        """(detail, where it was set, error): a part's own detail, else the payload's default."""
        if value is None:
            return self.detail, self.detail_where, None
        if isinstance(value, str) and 0 < len(value) <= 40:
            return value, where, None
        return "auto", where, f"{where} must be a detail word such as low, high or auto, not {_show(value)}"

    # ---------------------------------------------------------- Gemini

    def _gemini_instruction(self) -> Iterator[_Ref]:
        key = _first_key(self.document, "systemInstruction", "system_instruction")
        if key is None or self.document[key] is None or isinstance(self.document[key], str):
            return
        yield from self._gemini_content(self.document[key], key)

    def _gemini_contents(self, contents) -> Iterator[_Ref]:
        for i, content in enumerate(_items(contents, "'contents'", "a list")):
            yield from self._gemini_content(content, f"contents[{i}]")

    def _gemini_content(self, content, where: str) -> Iterator[_Ref]:
        if not isinstance(content, dict):
            raise RequestError(f"{where} must be an object with parts, not {_show(content)}")
        parts = content.get("parts")
        if parts is None:
            return
        for j, part in enumerate(_items(parts, f"{where}.parts", "a list")):
            yield from self._gemini_part(part, f"{where}.parts[{j}]")

    def _gemini_part(self, part, where: str, nested: bool = False) -> Iterator[_Ref]:
        """One Gemini Part: inline_data / file_data images; a functionResponse's own parts."""
        if not isinstance(part, dict):
            raise RequestError(f"{where} must be an object, not {_show(part)}")
        response_key = _first_key(part, "functionResponse", "function_response")
        if response_key is not None and isinstance(part[response_key], dict):
            parts = part[response_key].get("parts")
            if parts is not None:
                if nested or not isinstance(parts, list):
                    raise RequestError(f"{where}.{response_key}.parts must be a list of parts, not {_show(parts)}")
                for k, inner in enumerate(parts):
                    yield from self._gemini_part(inner, f"{where}.{response_key}.parts[{k}]", True)
        for keys, source, field_keys in ((("inline_data", "inlineData"), "base64", ("data",)),
                                         (("file_data", "fileData"), "file_uri", ("file_uri", "fileUri"))):  # fmt: skip
            key = _first_key(part, *keys)
            if key is None or part[key] is None:
                continue
            blob = part[key]
            if not isinstance(blob, dict):
                yield _Ref(where, source, "", error=f"{where}.{key} must be an object, not {_show(blob)}")
                continue
            mime_key = _first_key(blob, "mime_type", "mimeType")
            mime = blob.get(mime_key) if mime_key else None
            if isinstance(mime, str) and not mime.strip().lower().startswith("image/"):
                continue  # audio, video, a PDF: not an image
            field = _first_key(blob, *field_keys) or field_keys[0]
            value = blob.get(field)
            detail, detail_where, error = self._gemini_detail(part, where)
            if mime is not None and not isinstance(mime, str):
                error = error or f"{where}.{key}.{mime_key} must be a media type, not {_show(mime)}"
            yield _Ref(where, source, value, detail, detail_where, error=error or _need_text(value, f"{where}.{key}.{field}"))

    def _gemini_detail(self, part: dict, where: str) -> tuple[str, str, str | None]:
        key = _first_key(part, "media_resolution", "mediaResolution")
        if key is None or part[key] is None:
            return self.detail, self.detail_where, None
        value, at = part[key], f"{where}.{key}"
        if isinstance(value, dict):
            value, at = value.get("level"), f"{at}.level"
        detail, error = _media_resolution(value, at)
        return detail, at, error


_CLAUDE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
"""Anthropic's accepted base64 media types (Messages API, ImageBlockParam)."""


def _media_resolution(value, where: str) -> tuple[str, str | None]:
    """A Gemini MEDIA_RESOLUTION_* value as a detail word, or an error naming `where`."""
    if isinstance(value, str) and value.strip().upper() in MEDIA_RESOLUTION:
        return MEDIA_RESOLUTION[value.strip().upper()], None
    return "auto", f"{where} must be one of {', '.join(MEDIA_RESOLUTION)}, not {_show(value)}"


def _pixels(part: dict, image: dict, where: str) -> tuple[dict, str | None]:
    """Qwen's max_pixels and min_pixels, on the part or in its image_url (SPEC §6d, §6g), and any error in them."""
    found: dict[str, Any] = {}
    for name in ("max_pixels", "min_pixels"):
        owner, at = (part, where) if part.get(name) is not None else (image, f"{where}.image_url")
        value = owner.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**40:
            return {}, f"{at}.{name} must be a whole number of pixels, not {_show(value)}"
        found[name] = value
        found["pixels_where"] = f"{at}.{name}"
    return found, None


def _items(value, where: str, what: str) -> list:
    """`value`, which must be a list, or RequestError naming `where` and what it must be."""
    if not isinstance(value, list):
        raise RequestError(f"{where} must be {what}, not {_show(value)}")
    return value


def _need_text(value, where: str) -> str | None:
    """The error for a field that must be a non-empty string, or None."""
    if isinstance(value, str) and value:
        return None
    return f"{where} must be a non-empty string, not {_show(value)}"


def _first_key(mapping: dict, *keys: str) -> str | None:
    """The first of `keys` present in `mapping` (snake_case or camelCase spellings)."""
    for key in keys:
        if key in mapping:
            return key
    return None


def _show(value: Any) -> str:
    """A short one-line rendering of a payload value for a message, whatever it is."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return repr(value) if value.bit_length() < 128 else f"a number of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    return f"a {type(value).__name__}"


def _plain(value: str) -> str:
    """A URL or path for a one-line message: as it is when printable and short, else escaped (words.escape) and cut."""
    if len(value) <= 200 and value.isprintable():
        return value
    text = escape(value[:200])
    return text if len(value) <= 200 and len(text) <= 240 else text[:197] + "..."


def _scheme(value: str, data: bool = False) -> str:
    """The scheme of a URL ('ftp' in ftp://...), or '' for a plain path; with `data`, 'data' for a data URL."""
    if data and value[:5].lower() == "data:":
        return "data"
    scheme, separator, _ = value[:40].partition("://")
    return scheme.lower() if separator and scheme.isalnum() else ""


# ------------------------------------------------------------------ pricing the parts


class _Pricing:
    """Prices image references for one model: one Pricer per detail level, sizes from every kind of source."""

    def __init__(self, model: str, tables: Tables, rules: Limits, file_sizes: dict, base_dir, fetch: dict):
        self.model, self.tables, self.rules = model, tables, rules
        self.file_sizes, self.base_dir, self.fetch = file_sizes, base_dir, fetch
        self.pricers: dict[tuple, Pricer | CostcalcError] = {}
        self.strict = False
        self.tier = "standard"

    def price(self, ref: _Ref) -> RequestImage:
        """One image's row: priced, or with the reason it is not."""
        base = {"where": ref.where, "source": ref.source, "reference": _label(ref), "detail": ref.detail}
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
        facts = dict(base, applied_detail=pricer.applied_detail, width=width, height=height,
                     format=info.format if info else None, bytes=info.bytes if info else None,
                     warning=info.warning if info else None)  # fmt: skip
        rejected = image_rejection(info, self.rules) if info else None  # the one verdict (pricing.verdict)
        if rejected is not None:
            return RequestImage(**facts, rule=rejected.rule, error=f"{ref.where}: {rejected}")
        if ref.media_type is not None and info is not None and ACCEPTED_TYPES.get(ref.media_type) != info.format:
            return RequestImage(**facts, rule="media_type", error=f"{ref.where}: declared {ref.media_type} but the "
                                f"data is {info.format}; the API refuses a mismatched media type")  # fmt: skip
        if ref.resize is not None:
            width, height = fit_within(width, height, ref.resize)
        try:
            sizing = pricer.sizing(width, height)
        except ImageRejectedError as error:
            return RequestImage(**facts, rule=error.rule, error=f"{ref.where}: {error}")
        seen = (sizing.scaled_width, sizing.scaled_height)
        if ref.reject_oversized and seen != (width, height):
            return RequestImage(**facts, rule="oversized_image", error=(
                f"{ref.where}: {width}×{height} is over what {self.model} works from ({seen[0]}×{seen[1]}), and this "
                f"image may not be downscaled (oversized_image: error, or a computer-use screenshot): the API "
                f"refuses it"))  # fmt: skip
        damaged = strict_error(info, self.strict) if info else None  # pricing.verdict: strict refuses a damaged file
        if damaged is not None:
            return RequestImage(**facts, error=f"{ref.where}: {damaged}")
        if sizing.tokens is None:  # accepted, but its multiplier is unpublished (SPEC §2a): unpriced, with why
            return RequestImage(**facts, basis=sizing.basis, error=f"{ref.where}: {unknown_tokens_note(pricer.model)}")
        return RequestImage(**facts, tokens=sizing.tokens, usd=pricer.usd(sizing.tokens), basis=sizing.basis)

    def _pricer(self, ref: _Ref) -> Pricer | CostcalcError:
        """One Pricer per (detail, max_pixels, min_pixels); the error instead when there is none."""
        key = (ref.detail, ref.max_pixels, ref.min_pixels)
        if key not in self.pricers:
            try:
                pricer = Pricer(self.model, ref.detail, self.tables, max_pixels=ref.max_pixels, tier=self.tier)
                if ref.min_pixels is not None:
                    pricer.rule = _with_min_pixels(pricer, ref.min_pixels)
                self.pricers[key] = pricer
            except CostcalcError as error:
                self.pricers[key] = error
        return self.pricers[key]

    def _size(self, ref: _Ref) -> tuple[int, int, ImageInfo | None]:
        where, value = ref.where, ref.value
        if ref.source in ("file_id", "file_uri", "s3"):
            size = self.file_sizes.get(value)
            if size is None:
                what = {"file_id": "file", "file_uri": "file URI", "s3": "S3 object"}[ref.source]
                raise RequestError(f"{where}: {what} {_show(value)}: size unknown (give it with file_sizes=)")  # fmt: skip
            return size[0], size[1], None
        if ref.source == "bytes":
            info = inspect(value, name=where)
        elif ref.source == "base64":
            info = inspect_base64(value, where)
        elif _scheme(value, data=True) == "data":
            info = inspect_data_url(value, where)
        elif _scheme(value) in ("http", "https"):
            if not self.fetch["fetch"]:
                raise RequestError(f"{where}: remote URL not fetched (pass fetch=True): {_plain(value)}")
            options = {k: v for k, v in self.fetch.items() if k != "fetch"}
            info = inspect_url(value, name=f"{where}: {_plain(value)}", **options).info
        elif _scheme(value) not in ("", "file"):
            raise RequestError(f"{where}: cannot read a {_scheme(value)} URL: only data, http(s), file URLs and paths")
        else:
            info = inspect_local(value, f"{where}: {_plain(value)}", self.base_dir)
        return info.width, info.height, info


def _with_min_pixels(pricer: Pricer, min_pixels: int):
    """The Pricer's Qwen rule with a request's own `min_pixels` (DashScope, SPEC §6d); InvalidSizeError elsewhere."""
    if not isinstance(pricer.rule, QwenRule):
        raise InvalidSizeError(f"min_pixels applies to Qwen models only, not to {pricer.model.name}")
    if min_pixels > pricer.rule.max_pixels:
        raise InvalidSizeError(f"min_pixels {min_pixels:,} is over max_pixels {pricer.rule.max_pixels:,}")
    return replace(pricer.rule, min_pixels=min_pixels)


def _label(ref: _Ref) -> str:
    """A short, printable label for an image's source."""
    value = ref.value
    if isinstance(value, (bytes, bytearray)):
        return f"bytes ({len(value):,} bytes)"
    if not isinstance(value, str) or not value:
        return "-"
    if ref.source == "base64" or _scheme(value, data=True) == "data":
        media = value[5 : value.find(";", 0, 100)] if _scheme(value, data=True) == "data" else "base64"
        media = media if media.isprintable() and len(media) < 40 else "data"
        return f"{media} ({len(value) * 3 // 4:,} bytes)"
    value = value if len(value) <= 120 else value[:117] + "..."
    return value if value.isprintable() else repr(value)[1:-1]


def _request_findings(rules: Limits, images: list[RequestImage], size: int) -> tuple[Finding, ...]:
    """The request-level limits of the model's vendor that the payload breaks (limits.toml; SPEC §3, §6)."""
    findings = []
    count = rules.rules.get("max_images")
    if count is not None and len(images) > count.value:
        findings.append(Finding("max_images", f"{len(images):,} images, over the {count.value:,} allowed per request "
                                              f"[{_cite(count)}]"))  # fmt: skip
    total = rules.rules.get("max_request_bytes")
    if total is not None and size > total.value:
        findings.append(Finding("max_request_bytes", f"payload of {size:,} bytes, over the {total.value:,} allowed "
                                                     f"[{_cite(total)}]"))  # fmt: skip
    image_total = rules.rules.get("max_request_image_bytes")
    image_bytes = sum(image.bytes or 0 for image in images)
    if image_total is not None and image_bytes > image_total.value:
        findings.append(Finding("max_request_image_bytes", f"{image_bytes:,} bytes of images, over the "
                                                           f"{image_total.value:,} allowed [{_cite(image_total)}]"))
    many = rules.rules.get("max_images_side")
    if many is not None and len(images) > many.value["above"]:
        side = many.value["side"]
        big = [image for image in images if image.width and max(image.width, image.height) > side]
        if big:
            named = ", ".join(f"{image.where} ({image.width}×{image.height})" for image in big[:3])
            more = f" and {len(big) - 3:,} more" if len(big) > 3 else ""
            findings.append(Finding("max_images_side", f"{len(images):,} images, over {many.value['above']}, so every "
                                    f"image must fit {side:,}×{side:,} px: {named}{more} do not "
                                    f"[{_cite(many)}]"))  # fmt: skip
    return tuple(findings)


def _cite(limit) -> str:
    """`limits EDITION` naming the vendor too when it is not the default's."""
    return f"limits {limit.edition}" if limit.provider == DEFAULT_PROVIDER else f"limits {limit.provider} {limit.edition}"
