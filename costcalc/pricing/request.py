"""Pricing a whole request payload before sending it: every image, where it is, what it costs; its text; its total.

The payload's shape is recognised from its structure, never from the model's name, by the vendor shape
modules (costcalc.vendors: Chat Completions, Responses, Anthropic Messages, Gemini generateContent, Bedrock
Converse, the legacy GPT-4V payloads); each gives its image references with their JSON paths. Each image is
priced with the verdict every command gives it (pricing.parts); PDFs, file parts and typed parts costcalc
does not recognise are unpriced rows, so a budget fails closed on them. Text is counted where a tokenizer
is known (pricing.text), and the whole request is priced at one rate (the long-context rate once its input
is over the threshold).

A payload that cannot be a request (not JSON, a list where an object must be) is one RequestError naming
the place. A bad image part — a detail that is not a word, a URL that is not text, an undecodable image —
is that image's error row, and the rest of the payload is still priced.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ..catalog.limits import Finding, load_limits
from ..catalog.settings import Settings, dated
from ..catalog.tables import Price, Tables
from ..errors import BudgetExceeded, RequestError
from ..inspection.fetch import MAX_BYTES, TIMEOUT
from ..money import Overrun, over_budget, parse_usd, usd_sum
from ..vendors import image_refs
from ..words import show_value
from .findings import request_findings
from .parts import PartPricer, RequestImage
from .payload import check_file_sizes, load_payload, model_name, payload_size
from .text import BOUND_BASIS, TextCount, count_text, text_bound

__all__ = [
    "RequestImage",
    "RequestEstimate",
    "count_request",
    "check_budget",
    "budget_overruns",
    "budget_problems",
    "payload_size",
]


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
    """The service tier the request is priced at ."""
    cached_tokens: int = 0
    """Input tokens read from the prompt cache, priced at the cached-input rate in `input_usd`."""
    long_context: bool | None = False
    """Whether the long-context rate applies to the whole request ; None when the text is unknown
    and only it could carry the input over the threshold."""
    text_bound: int | None = None
    """When the text is not counted exactly (`text_tokens` None): an upper bound on its tokens (pricing.text.
    text_bound: one token per byte, plus framing), so that a budget still holds; None when none is known."""
    budget_tokens: int | None = None
    """The input tokens a budget is checked against: `input_tokens` when exact, else the priced images' tokens
    plus `text_bound`; None when the text has no bound."""
    budget_usd: Decimal | None = None
    """USD of `budget_tokens` (`input_usd` when exact; the bound at the rate it reaches otherwise); None when
    unknown."""
    budget_basis: str = "exact"
    """exact, or approximate when `budget_tokens` holds a text bound (a figure the bill cannot exceed)."""
    status: str = "active"
    """The model's status on the day priced: active, deprecated or retired (docs/lifecycle.md)."""
    shutdown: str | None = None
    """The model's shutdown date (ISO), where one is known."""
    as_of: str | None = None
    """The day whose prices and lifecycle were used (ISO)."""

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
            "text_bound": self.text_bound,
            "budget_tokens": self.budget_tokens,
            "budget_usd": None if self.budget_usd is None else float(self.budget_usd),
            "budget_basis": self.budget_basis,
            "usd": None if self.usd is None else float(self.usd),
            "text_usd": None if self.text_usd is None else float(self.text_usd),
            "input_usd": None if self.input_usd is None else float(self.input_usd),
            "unpriced": self.unpriced,
            "payload_bytes": self.payload_bytes,
            "findings": [{"rule": f.rule, "message": f.message} for f in self.findings],
            "status": self.status,
            "shutdown": self.shutdown,
            "as_of": self.as_of,
        }


def count_request(
    payload: dict | str | bytes,
    *,
    model: str | None = None,
    fetch: bool = False,
    file_sizes: dict[str, tuple[int, int]] | None = None,
    base_dir: str | os.PathLike | None = None,
    tables: Tables | None = None,
    edition: str | None = None,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    allow_private: bool = False,
    strict: bool = False,
    tier: str = "standard",
    cached_tokens: int = 0,
    as_of: _dt.date | None = None,
) -> RequestEstimate:
    """Price every image in a request payload (a dict or JSON text) for `model` (default: the payload's),
    and its text, so that the whole request is priced.

    Data URLs and base64 are decoded only as far as their headers; local paths
    and file:// URLs are read from disk (relative to `base_dir`); http(s) URLs
    only when `fetch`, header bytes only, within `timeout` seconds and
    `max_bytes` bytes, and never from a private address unless `allow_private`;
    a file id, Gemini file URI or S3 location is priced when `file_sizes`
    gives its (width, height). An image that cannot be priced is listed with
    the reason and left out of the totals; so is a PDF or file part and a typed
    part costcalc does not recognise. Each image gets the verdict every command
    gives it (pricing.verdict); with `strict` a damaged image is unpriced rather
    than priced with a warning.

    OpenAI text is counted with tiktoken (pricing.text; other vendors' text: null,
    "not measured"). `tier` is the service tier. Above the long-context threshold
    the whole request, images included, is priced at the higher rate.
    `cached_tokens` of the input are priced at the cached-input rate in `input_usd`. `as_of` (default: the
    tables' day, today): the day whose prices and model lifecycle apply (`status`, `shutdown`).
    Raises only CostcalcError: RequestError for a payload that cannot be read,
    UnknownModelError for the model, TierError for a tier or cached rate it lacks.
    """
    document, text_size = load_payload(payload)
    tables = dated(tables, as_of)
    found = tables.model(model_name(document, model))
    tier = tables.check_tier(found, tier)
    settings = Settings(tables, tier, strict, edition, tables.as_of)
    if isinstance(cached_tokens, bool) or not isinstance(cached_tokens, int) or cached_tokens < 0:
        raise RequestError(f"cached_tokens must be a whole number of tokens, not {show_value(cached_tokens)}")
    rules = load_limits(edition, vendor=found.vendor or None)  # the model's vendor's limits
    size = text_size if text_size is not None else payload_size(document)
    refs = list(image_refs(document))
    fetching = dict(fetch=fetch, timeout=timeout, max_bytes=max_bytes, allow_private=allow_private)
    pricer = PartPricer(found.name, settings, rules, check_file_sizes(file_sizes), base_dir, fetching)
    images = [pricer.price(ref) for ref in refs]
    text = count_text(document, found)
    price = tables.price(found)
    whole = _whole_request(images, text, price, tier, cached_tokens)
    life = found.lifecycle
    estimate = replace(
        _estimate(found.name, whole, request_findings(rules, images, size), size, tier, cached_tokens),
        status=life.status(tables.as_of),
        shutdown=None if life.shutdown is None else str(life.shutdown),
        as_of=str(tables.as_of),
    )
    return _budget(estimate, document, price, tier)


def _budget(estimate: RequestEstimate, document: dict, price: Price | None, tier: str) -> RequestEstimate:
    """The estimate with what a budget is checked against: the whole input, its text exact or bounded."""
    if estimate.input_tokens is not None:
        return replace(estimate, budget_tokens=estimate.input_tokens, budget_usd=estimate.input_usd)
    if estimate.text_tokens is not None:  # exact text, an image unpriced: the budget fails on the image
        tokens = estimate.image_tokens + estimate.text_tokens
        return replace(estimate, budget_tokens=tokens, budget_usd=_usd(price, tokens, tier))
    data = sum(_data_size(document, image.data_path) for image in estimate.images if image.data_path is not None)
    bound, note = text_bound(document, estimate.payload_bytes - data)
    if bound is None:
        return replace(estimate, budget_basis=BOUND_BASIS, text_note=_join(estimate.text_note, note))
    tokens = estimate.image_tokens + bound
    return replace(
        estimate,
        text_bound=bound,
        budget_tokens=tokens,
        budget_usd=_usd(price, tokens, tier),
        budget_basis=BOUND_BASIS,
        text_note=_join(estimate.text_note, f"bound: {note}"),
    )


def _usd(price: Price | None, tokens: int, tier: str) -> Decimal | None:
    """USD of `tokens` of input at the rate a request of that many tokens pays; None when unknown."""
    return None if price is None else price.usd(tokens, tier=tier, input_tokens=tokens)


def _join(*notes: str | None) -> str | None:
    return "; ".join(note for note in notes if note) or None


def _data_size(document: dict, path: tuple) -> int:
    """The JSON size of the inline image data at `path` (its text, or raw bytes sent as base64); 0 if none."""
    node: Any = document
    try:
        for step in path:
            node = node[step]
    except (KeyError, IndexError, TypeError):
        return 0
    if isinstance(node, str):
        return len(node)
    if isinstance(node, (bytes, bytearray, memoryview)):
        return 4 * -(-len(node) // 3)
    return 0


def _estimate(
    model: str, whole: _Whole, findings: tuple[Finding, ...], size: int, tier: str, cached_tokens: int
) -> RequestEstimate:
    return RequestEstimate(
        model=model,
        images=whole.images,
        image_tokens=whole.image_tokens,
        usd=whole.usd,
        unpriced=sum(image.tokens is None for image in whole.images),
        payload_bytes=size,
        findings=findings,
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


def _whole_request(images: list[RequestImage], text: TextCount, price: Price | None, tier: str, cached: int) -> _Whole:
    """Price the request as one: the long-context rate  once the whole input, text and images,
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
        notes.append(
            f"the long-context rate applies if the whole input exceeds {long.above:,} tokens; {known:,} are counted"
        )
    if long is not None and long.usd_per_1m_input is None and long_context is not False:
        notes.append(price.rates(tier).note)  # the tier's rate above the threshold is unknown
    if not complete:
        notes.append("an image could not be priced, so the whole input is unknown")
    if price is not None:
        images = [
            replace(image, usd=price.usd(image.tokens, tier=tier, input_tokens=known))
            if image.tokens is not None
            else image
            for image in images
        ]
    usd = (
        None
        if price is None or any(i.tokens is not None and i.usd is None for i in images)
        else usd_sum(image.usd for image in images if image.tokens is not None)
    )
    text_usd = input_usd = None
    if price is not None and text.tokens is not None:
        text_usd = price.usd(text.tokens, tier=tier, input_tokens=known)
    if price is not None and input_tokens is not None:
        parts = [price.usd(input_tokens - cached, tier=tier, input_tokens=input_tokens)]
        if cached:
            parts.append(price.usd(cached, tier=tier, input_tokens=input_tokens, cached=True))
        input_usd = None if None in parts else usd_sum(parts)
    return _Whole(
        tuple(images),
        image_tokens,
        usd,
        text,
        "; ".join(notes) or None,
        input_tokens,
        text_usd,
        input_usd,
        long_context,
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

    The budget is the whole input, images and text (`budget_tokens`, `budget_usd`): OpenAI
    text counted exactly, other vendors' text bounded above (pricing.text.text_bound, basis
    approximate). Fails closed: an image that cannot be priced, text that can be neither
    counted nor bounded, or a model without a known price under `max_usd`, raises too, since
    the budget cannot be shown to hold.
    """
    estimate = count_request(payload, model=model, **options)
    overruns = budget_overruns(estimate, max_tokens, None if max_usd is None else parse_usd(str(max_usd)))
    if overruns:
        raise BudgetExceeded("; ".join(map(str, overruns)), estimate, overruns)
    return estimate


def budget_overruns(estimate: RequestEstimate, max_tokens: int | None, max_usd: Decimal | None) -> list[Overrun]:
    """How a request breaks the budget: its whole input, images and text (`budget_tokens`, `budget_usd`: text
    exact for OpenAI, bounded above for other vendors). Unpriced images and parts, and text without a bound,
    break any budget (it cannot be shown to hold)."""
    if max_tokens is None and max_usd is None:
        return []
    if estimate.budget_tokens is None:
        why = f"the request's text could not be counted or bounded ({estimate.text_note or 'unknown'})"
        overruns = [Overrun("", "budget", None, None, why)]
    else:
        label = estimate.model + (" (text bounded above)" if estimate.budget_basis != "exact" else "")
        overruns = over_budget(
            label, estimate.budget_tokens, estimate.budget_usd, max_tokens=max_tokens, max_usd=max_usd
        )
    if estimate.unpriced:
        overruns.append(Overrun("", "budget", None, None, f"{estimate.unpriced} image(s) could not be priced"))
    return overruns


def budget_problems(estimate: RequestEstimate, max_tokens: int | None, max_usd: Decimal | None) -> list[str]:
    """`budget_overruns` worded with the parameter names."""
    return [str(overrun) for overrun in budget_overruns(estimate, max_tokens, max_usd)]
