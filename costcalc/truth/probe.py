"""`costcalc probe`: measure a model's image-token rule at the vendor's free token-counting endpoint (SPEC §8).

With the user's own key, synthetic PNGs of chosen sizes (made in memory with
Pillow, one flat grey, a few KB even when huge) are sent to the endpoint that
counts a request's input tokens without running the model:

- OpenAI    `POST {base}/responses/input_tokens`          → {"input_tokens": N}   (base: …/v1)
- Anthropic `POST {base}/v1/messages/count_tokens`        → {"input_tokens": N}
- Gemini    `POST {base}/v1beta/models/{model}:countTokens` → {"totalTokens": N}

An image's tokens are the request's count less the count of the same request
without the image (asked once). The sizes are chosen to pin every parameter of
the scheme the vendor uses, then the fitted rule is checked on sizes it was not
fitted on:

- OpenAI tile (SPEC §1a): base and tile from a 1-tile and a 2-tile image; the
  short side (768 or 512) and the 2048 fit from sizes that tell them apart.
- OpenAI patch (SPEC §1b): the multiplier as the simplest decimal of at most
  3 places (more is a failed fit) giving every count as ceil(patches × m); the
  pixel limit from one-row images (where the count stops growing) and images
  whose short side gains a patch row exactly at a candidate limit; the budget
  from patch grids just under and over each candidate, and from sizes whose
  budget shrink differs by a patch.
- Claude (SPEC §6a): max edge from one-row images (only floor(edge / 28) is
  observable), max tokens from patch grids (only the products a·b are).
- Gemini (SPEC §6b): one count per image whatever its size, per media resolution.

Wherever several values bill every size alike (Claude's edges 1988–2015, a
pixel limit over 65,504 px), the table's value is kept if it is one of them,
else a round thousand, a whole number of patches, or the smallest; the output
says which values are equivalent.

Assumptions, each checked by the final sizes: a patch model's pixel limit is at
least 512 px and its budget at least 256 patches and at least limit / 32; a
Claude model's max tokens are at least max edge / 28; no per-image overhead.
OpenAI's billing may differ from ceil(patches × m) by one token (SPEC §2a): the
count binary floats give (150 × 1.62 → 244, not 243) is allowed, and nothing more.

Network goes only to the base URL given (default: the vendor's official one);
the user chose the target, so no address is refused. httpx2 is imported only
here (`pip install 'costcalc[fetch]'`). Tests use a fake API on 127.0.0.1
(tests/fake_api.py).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import ceil, floor, isqrt
from typing import Any
from urllib.parse import quote, urlsplit

from .. import schemes
from ..catalog.tables import Model, Tables, default_tables
from ..errors import ProbeError, ProbeUsageError, UnknownModelError
from ..schemes.claude import ClaudeRule
from ..schemes.fixed import FlatRule
from ..schemes.patch import PatchRule
from ..schemes.tile import TileRule

__all__ = [
    "APIS",
    "BASE_URLS",
    "KEY_VARIABLES",
    "MAX_REQUESTS",
    "Measurement",
    "Fit",
    "ProbeResult",
    "probe",
    "fit_rule",
    "resolve_api",
    "key_for",
    "png",
    "row_toml",
    "check_base_url",
    "check_row_file",
    "write_row",
]

APIS = ("openai", "anthropic", "gemini")
"""The vendors whose token-counting endpoints probe speaks (SPEC §8)."""
BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}
"""Each vendor's official base URL, as its SDK takes it (`--base-url` replaces it)."""
KEY_VARIABLES = {"openai": ("OPENAI_API_KEY",), "anthropic": ("ANTHROPIC_API_KEY",),
                 "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY")}  # fmt: skip
"""Where each vendor's SDK looks for the key, first found wins."""
_PROVIDER_API = {"openai": "openai", "anthropic": "anthropic", "google": "gemini"}
_API_PROVIDER = {api: provider for provider, api in _PROVIDER_API.items()}
_DETAILS = {"openai": ("low", "high", "original", "auto"), "anthropic": ("auto",),
            "gemini": ("low", "medium", "high", "ultra_high", "auto")}  # fmt: skip
_MEDIA = {"low": "MEDIA_RESOLUTION_LOW", "medium": "MEDIA_RESOLUTION_MEDIUM", "high": "MEDIA_RESOLUTION_HIGH",
          "ultra_high": "MEDIA_RESOLUTION_ULTRA_HIGH"}  # fmt: skip
MAX_REQUESTS = 64
"""Most requests one probe makes; a fit that needs more fails (the usual probe takes 15–40)."""
TIMEOUT = 60.0
"""Seconds per request."""
RETRIES = 4
MAX_RETRIES = 16
"""Requests sent again (rate limits, overloads) in one whole probe, at most: with MAX_REQUESTS, every probe ends."""
MAX_ANSWER_BYTES = 1 << 20
"""The longest answer read from the endpoint: a token count is a few dozen bytes; an error page a few KiB."""
"""Times one request is sent again after HTTP 429 (rate limited) or 503 / 529 (overloaded), waiting as the
answer's Retry-After says (else 1, 2, 4, 8 s; at most MAX_WAIT)."""
MAX_WAIT = 30.0
PROMPT = "What is in this image?"
"""The request's text, the same with and without the image."""
MAX_PIXELS = 150_000_000
"""Largest synthetic image made (memory: one byte a pixel while it is encoded)."""
CHECKS = 6
"""Sizes the fitted rule is checked on, none of them used to fit it."""
PLACES = 3
"""Most decimal places of a patch multiplier the probe fits (the simplest consistent one is kept)."""
LIMIT_SENTINEL = 65535
"""A patch pixel limit of 65,535 px is the tables' "no limit" (SPEC §2); so is the widest image probed."""

_PATCH = 32  # OpenAI patch size (SPEC §1b)
_CLAUDE_PATCH = 28  # Claude patch size (SPEC §6a)
_ONE = Fraction(1)


class _NoFit(Exception):
    """The answers fit no rule of the scheme: the reason."""


@dataclass(frozen=True)
class Measurement:
    """One image size at one detail level and the tokens its image cost (request count less the count without it)."""

    width: int
    height: int
    detail: str
    tokens: int
    use: str = "fit"
    """`fit` (chosen to pin a parameter) or `check` (not used in the fit, compared with the fitted rule)."""
    predicted: int | None = None
    """The fitted rule's count (None when no rule fits)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"width": self.width, "height": self.height, "detail": self.detail, "tokens": self.tokens,
                "predicted": self.predicted, "use": self.use}  # fmt: skip


@dataclass(frozen=True)
class Fit:
    """A fitted rule: its scheme, the detail level it belongs to, its parameters and the values equivalent to each."""

    scheme: str
    """tile, patch, claude or fixed (the table's scheme names)."""
    level: str
    """The detail level the parameters belong to (`high` for tile, `auto` for Claude)."""
    params: dict[str, Any]
    """Parameter → value (multipliers as Decimal, a patch budget None when there is none)."""
    equivalent: dict[str, str] = field(default_factory=dict)
    """Parameter → the values that bill every size alike, as text, where there are several."""
    rule: Any = None
    """The fitted rule (a `costcalc.schemes` rule) for predictions."""
    notes: tuple[str, ...] = ()
    sent: str = "auto"
    """The detail the measurements were sent at (a tile fit asked for `low` is measured at `high`)."""

    def expected(self, width: int, height: int, detail: str) -> tuple[int, ...]:
        """The counts the fitted rule allows for one image (for a patch rule, also the count binary floats give)."""
        if self.scheme == "tile" and detail == "low":
            return (self.params["base"],)
        sizing = self.rule.size(width, height)
        if self.scheme == "patch":
            return _billed(sizing.patches, Fraction(self.params["multiplier"]))
        return (sizing.tokens,)


# ------------------------------------------------------------------ small helpers


def _billed(patches: int, multiplier: Fraction) -> tuple[int, ...]:
    """ceil(patches × m) taken exactly, and also as binary floats compute it where that differs: OpenAI says its
    billing may differ from the formula by one token (SPEC §2a; 150 × 1.62 is 243, 244 in floats, SPEC §1b)."""
    numerator, denominator = patches * multiplier.numerator, multiplier.denominator
    tokens = -(-numerator // denominator)
    floating = ceil(patches * (multiplier.numerator / multiplier.denominator))
    return (tokens,) if floating == tokens else (tokens, floating)


def _zeros(value: int) -> int:
    count = 0
    while value and value % 10 == 0:
        value, count = value // 10, count + 1
    return count


def _pick(values: Sequence[int], table: Any = None, unit: int | None = None) -> int:
    """The value to write from values that bill alike: the table's, else a round thousand, else a multiple of
    `unit` (vendors' edges are whole patches: 1568 = 56 × 28), else the smallest."""
    if table in values:
        return table
    return max(values, key=lambda v: (_zeros(v) >= 3, bool(unit) and v % unit == 0, -v))


def _span(values: Sequence[int], open_top: bool = False) -> str:
    low, high = min(values), max(values)
    if open_top:
        return f"{low:,} or more"
    return f"{low:,}" if low == high else f"{low:,}–{high:,}"


def _grid(n: int, most: int) -> tuple[int, int] | None:
    """(a, b) with a·b = n and a ≤ b ≤ most, b as small as can be; None when n has no such factors."""
    for a in range(isqrt(n), max(ceil(n / most), 1) - 1, -1):
        if a >= 1 and n % a == 0 and n // a <= most:
            return a, n // a
    return None


def _narrow(hypotheses: list, outcomes: Callable[[Any, Any], tuple], pool: Iterable, measure: Callable[[Any], int]) -> list:
    """Measure the pool entry that best splits the hypotheses (fewest left in the worst case, then the smallest
    image), keep those it allows, and repeat until no entry splits them; the hypotheses left.

    Every hypothesis left bills every pool entry alike: equivalent as far as the pool can tell.
    """
    pool = list(dict.fromkeys(pool))
    while len(hypotheses) > 1:
        best = None
        for entry in pool:
            counts = Counter(t for h in hypotheses for t in outcomes(h, entry))
            worst = max(counts.values())
            if worst >= len(hypotheses):
                continue
            key = (worst, _area(entry))
            if best is None or key < best[0]:
                best = (key, entry)
        if best is None:
            break
        entry = best[1]
        pool.remove(entry)
        tokens = measure(entry)
        hypotheses = [h for h in hypotheses if tokens in outcomes(h, entry)]
    return hypotheses


class _Recorder:
    """An `ask(width, height, detail)` that remembers every answer in `seen` (the fitters filter on them)."""

    def __init__(self, ask: Callable[[int, int, str], int]):
        self._ask = ask
        self.seen: dict[tuple[int, int, str], int] = {}

    def __call__(self, width: int, height: int, detail: str) -> int:
        key = (width, height, detail)
        if key not in self.seen:
            self.seen[key] = self._ask(width, height, detail)
        return self.seen[key]


def _area(entry: Any) -> int:
    return entry[0] * entry[1] if isinstance(entry, tuple) else entry


def png(width: int, height: int) -> bytes:
    """A PNG of one flat colour at this size, made in memory (1 bit a pixel: a few KB even 65,535 px wide)."""
    if width * height > MAX_PIXELS:
        raise ProbeError(f"a {width}×{height} probe image would have more than {MAX_PIXELS:,} pixels")
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, format="PNG")
    return out.getvalue()


# ------------------------------------------------------------------ the endpoints


def key_for(api: str) -> tuple[str | None, tuple[str, ...]]:
    """The user's key for `api` from the environment (None when unset) and the variables looked at."""
    names = KEY_VARIABLES[api]
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value, names
    return None, names


def resolve_api(model: str, api: str | None = None, tables: Tables | None = None) -> tuple[str, Model | None]:
    """The API to probe `model` at and its table row (None when the table does not know it).

    `api` is needed only for a model the table does not know (UnknownModelError
    otherwise) or whose vendor has no counting endpoint here (ProbeUsageError).
    """
    tables = tables or default_tables()
    try:
        row = tables.model(model)
    except UnknownModelError:
        if api is None:
            raise
        return api, None
    vendor = _PROVIDER_API.get(row.provider)
    if api is not None and vendor is not None and api != vendor:  # the table's vendor is the model's (SPEC §8)
        raise ProbeUsageError(f"api {api}: the table lists {model!r} under {row.provider}, whose API is {vendor}; "
                              "leave api out")  # fmt: skip
    if api is None:
        api = vendor
        if api is None:
            raise ProbeUsageError(f"model {model!r} is a {row.provider or 'other'} model; probe speaks "
                                  f"{', '.join(APIS)}: give api if its vendor offers one of those endpoints")  # fmt: skip
    return api, row


def check_base_url(url: str) -> str:
    """`url` if it can be a base URL: http or https, a host, a port in 1–65535; ProbeUsageError (one line) if not.

    Checked before any request, so a typo is a usage error (exit 2), not a network failure (SPEC §8).
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not a number
        host = parts.hostname
    except ValueError as error:
        raise ProbeUsageError(f"base_url {url!r}: not a URL ({error})") from None
    if parts.scheme not in ("http", "https"):
        raise ProbeUsageError(f"base_url {url!r}: give an http:// or https:// URL")
    if not host:
        raise ProbeUsageError(f"base_url {url!r}: the URL names no host")
    if port == 0:
        raise ProbeUsageError(f"base_url {url!r}: port 0 is not a port to connect to")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ProbeUsageError(f"base_url {url!r}: the URL has white space or control characters")
    return url


def check_row_file(path: str) -> str:
    """`path` if a row can be written there: not empty, and nothing there yet (ProbeUsageError, one line, if not).

    An existing file, link, device or folder is never replaced or written through: the user names a new file.
    """
    if not path:
        raise ProbeUsageError("row_file '': give a file name")
    if os.path.lexists(path):
        raise ProbeUsageError(f"{path} exists; give a new file name")
    return path


def write_row(path: str, text: str) -> None:
    """Write a measured row to a new file `path`, atomically with ordinary permissions (refused if it exists)."""
    from ..files import atomic_write

    atomic_write(check_row_file(path), text.encode("utf-8"))


def _error_message(response) -> str:
    try:
        document = response.json()
    except ValueError:
        document = None
    message = None
    if isinstance(document, dict):
        error = document.get("error")
        message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    text = " ".join(str(message or response.reason_phrase or "").split())
    return text[:300] + ("…" if len(text) > 300 else "")


def _wait(retry_after: str | None, attempt: int) -> float:
    """Seconds to wait before sending again: the server's Retry-After (seconds), else 2^attempt; at most MAX_WAIT."""
    try:
        seconds = float(retry_after) if retry_after is not None else float(2**attempt)
    except ValueError:  # an HTTP date, or junk
        seconds = float(2**attempt)
    return min(max(seconds, 0.0), MAX_WAIT) if seconds == seconds else MAX_WAIT


class _Endpoint:
    """One vendor's token-counting endpoint: the URL, the headers, a request body with or without an image."""

    def __init__(self, api: str, base_url: str, key: str, model: str, timeout: float = TIMEOUT):
        self.api, self.model, self.key, self.timeout = api, model, key, timeout
        base = base_url.rstrip("/")
        if api == "openai":
            self.url = f"{base}/responses/input_tokens"
        elif api == "anthropic":
            self.url = f"{base}/v1/messages/count_tokens"
        else:
            self.url = f"{base}/v1beta/models/{quote(model, safe='')}:countTokens"
        self._client = None
        self.retries = 0
        """Requests sent again after a rate limit or an overload."""

    def headers(self) -> dict[str, str]:
        """The vendor's authentication headers."""
        if self.api == "openai":
            return {"Authorization": f"Bearer {self.key}"}
        if self.api == "anthropic":
            return {"x-api-key": self.key, "anthropic-version": "2023-06-01"}
        return {"x-goog-api-key": self.key}

    def body(self, image: bytes | None, detail: str) -> dict[str, Any]:
        """The request: PROMPT, and the image (a base64 PNG) when given, at `detail`."""
        data = base64.b64encode(image).decode("ascii") if image is not None else None
        if self.api == "openai":
            content: list[dict] = [{"type": "input_text", "text": PROMPT}]
            if data is not None:
                content.append({"type": "input_image", "image_url": f"data:image/png;base64,{data}", "detail": detail})
            return {"model": self.model, "input": [{"role": "user", "content": content}]}
        if self.api == "anthropic":
            content = [{"type": "text", "text": PROMPT}]
            if data is not None:
                content.insert(0, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}})
            return {"model": self.model, "messages": [{"role": "user", "content": content}]}
        parts: list[dict] = [{"text": PROMPT}]
        if data is not None:
            part: dict[str, Any] = {"inline_data": {"mime_type": "image/png", "data": data}}
            if detail in _MEDIA:
                part["media_resolution"] = {"level": _MEDIA[detail]}
            parts.append(part)
        return {"contents": [{"role": "user", "parts": parts}]}

    def count(self, image: bytes | None, detail: str) -> int:
        """The input tokens the endpoint counts for the request; ProbeError on any failure (one line).

        Each request has one deadline (`timeout`) for the whole exchange and a cap on its answer (MAX_ANSWER_BYTES)
        (inspection.fetch.post_json); retries after a rate limit count against MAX_RETRIES for the whole probe.
        """
        from ..inspection.fetch import post_json

        body = self.body(image, detail)
        for attempt in range(RETRIES + 1):
            try:
                response = post_json(self.url, body, self.headers(), timeout=self.timeout, max_bytes=MAX_ANSWER_BYTES)
            except ImportError:
                raise ProbeError("probe needs httpx2: pip install 'costcalc[fetch]'") from None
            except ConnectionError as error:
                raise ProbeError(f"POST {self.url}: {error}") from None
            if response.status_code not in (429, 503, 529) or attempt == RETRIES:
                break
            if self.retries >= MAX_RETRIES:
                raise ProbeError(f"POST {self.url}: HTTP {response.status_code} again after {self.retries} retries "
                                 f"in this probe; try later")  # fmt: skip
            self.retries += 1
            time.sleep(_wait(response.headers.get("retry-after"), attempt))
        if 300 <= response.status_code < 400:
            where = response.headers.get("location")
            raise ProbeError(f"POST {self.url}: HTTP {response.status_code}: redirected"
                             f"{f' to {where}' if where else ''}; give that base URL (probe does not follow redirects)")
        if response.status_code >= 400:
            raise ProbeError(f"POST {self.url}: HTTP {response.status_code}: {_error_message(response)}")
        name = "totalTokens" if self.api == "gemini" else "input_tokens"
        try:
            value = response.json()[name]
        except (ValueError, KeyError, TypeError):
            raise ProbeError(f"POST {self.url}: the answer has no {name!r} count") from None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ProbeError(f"POST {self.url}: the answer's {name!r} is not a token count: {value!r}")
        return value

    def close(self) -> None:
        """Close the connection."""
        if self._client is not None:
            self._client.close()


class _Session:
    """Image tokens at one endpoint: each size's count less the count without an image, each size asked once."""

    def __init__(self, count: Callable[[tuple[int, int] | None, str], int], limit: int = MAX_REQUESTS):
        self._count = count
        self.limit = limit
        self.requests = 0
        self._baseline: int | None = None
        self.seen: dict[tuple[int, int, str], int] = {}
        self.log: list[Measurement] = []
        self.use = "fit"

    def _request(self, size: tuple[int, int] | None, detail: str) -> int:
        if self.requests >= self.limit:
            raise _NoFit(f"stopped after {self.requests} requests without pinning every parameter")
        self.requests += 1
        return self._count(size, detail)

    def __call__(self, width: int, height: int, detail: str) -> int:
        """The tokens of one image of this size at this detail."""
        key = (width, height, detail)
        if key not in self.seen:
            if self._baseline is None:
                self._baseline = self._request(None, detail)
            tokens = self._request((width, height), detail) - self._baseline
            self.seen[key] = tokens
            self.log.append(Measurement(width, height, detail, tokens, self.use))
        return self.seen[key]


# ------------------------------------------------------------------ fitting: OpenAI tile (SPEC §1a)


def _fit_tile(ask, detail: str, table: TileRule | None) -> Fit:
    """base and tile from a 1-tile and a 2-tile image; the short side and the fit from sizes that tell them apart."""
    level = "auto" if detail == "auto" else "high"
    one, two = ask(32, 32, level), ask(1024, 32, level)
    tile, base = two - one, one - (two - one)
    if tile <= 0 or base < 0:
        raise _NoFit(f"a 1-tile image counted {one} and a 2-tile image {two}: no base + tile × tiles fits")
    tile_size = table.tile_size if table else 512
    shorts = sorted({768, 512} | ({table.short_side} if table else set()))
    fits = sorted({2048} | ({table.fit} if table else set()))
    hypotheses = [(s, f) for s in shorts for f in fits]

    def outcomes(h, size):
        return (TileRule(base, tile, h[1], h[0], tile_size).size(*size).tokens,)

    pool = [(1024, 1024), (1536, 1536), (2048, 4096), (2560, 1669), (4096, 4096), (3000, 1000), (2049, 513), (900, 900)]
    left = _narrow([h for h in hypotheses if outcomes(h, (32, 32))[0] == one and outcomes(h, (1024, 32))[0] == two],
                   outcomes, pool, lambda size: ask(*size, level))  # fmt: skip
    if not left:
        raise _NoFit("no short side (768 or 512) and fit (2048) explain the counts")
    short, fit = (table.short_side, table.fit) if table and (table.short_side, table.fit) in left else left[0]
    rule = TileRule(base, tile, fit, short, tile_size)
    return Fit("tile", "high", {"base": base, "tile": tile, "short_side": short, "fit": fit, "tile_size": tile_size},
               rule=rule)  # fmt: skip


# ------------------------------------------------------------------ fitting: OpenAI patch (SPEC §1b)


class _PatchFit:
    """The patch fit, stage by stage: multiplier, pixel-limit bucket, budget, exact pixel limit."""

    def __init__(self, ask, detail: str, cap: int, table: dict[str, Any]):
        self._ask = lambda w, h: ask(w, h, detail)
        self.cap = cap
        self.table = table
        self.known: dict[tuple[int, int], int] = {}
        self.sure: dict[int, int] = {}  # patch count → tokens, for sizes billed at a patch count beyond doubt
        self.multipliers: list[Fraction] = []
        self.notes: list[str] = []
        self._patches = lru_cache(maxsize=None)(self._count)

    def _count(self, limit: int, budget: int | None, width: int, height: int) -> int:
        return PatchRule(limit, budget, _PATCH, self.cap, _ONE).size(width, height).patches

    def ask(self, width: int, height: int) -> int:
        tokens = self._ask(width, height)
        self.known[(width, height)] = tokens
        return tokens

    def ask_sure(self, width: int, height: int, patches: int) -> int:
        tokens = self.ask(width, height)
        self.sure[patches] = tokens
        self._update()
        return tokens

    def _update(self) -> None:
        """The multipliers consistent with every sure count: every decimal of at most PLACES places (SPEC §1b:
        OpenAI's are 1.2, 1.5, 1.62, 1.72, 2.46); the simplest is chosen at the end."""
        low = max(Fraction(t - 1, p) for p, t in self.sure.items())  # ceil(p·m) = t, or t by float rounding
        high = min(Fraction(t, p) for p, t in self.sure.items())
        scale = 10**PLACES
        found = [Fraction(k, scale) for k in range(max(ceil(low * scale), 1), floor(high * scale) + 1)]
        self.multipliers = [c for c in found if all(t in _billed(p, c) for p, t in self.sure.items())]
        if not self.multipliers:
            raise _NoFit(f"no multiplier of at most {PLACES} decimal places gives every count as ceil(patches × m)")

    def consistent(self, tokens: int, patches: int) -> bool:
        return any(tokens in _billed(patches, c) for c in self.multipliers)

    # stage 1: the multiplier, from images no pixel limit (≥ 512 px) or budget (≥ 256 patches) touches
    def multiplier(self) -> None:
        for side, patches in ((32, 1), (64, 4), (512, 256)):
            self.ask_sure(side, side, patches)
        pool = {}
        for a in range(1, 17):
            for b in range(a, 17):
                pool.setdefault(a * b, (32 * a, 32 * b))
        self._refine(pool)

    def _refine(self, pool: dict[int, tuple[int, int]]) -> None:
        def measure(patches):
            return self.ask_sure(*pool[patches], patches)

        _narrow(list(self.multipliers), lambda c, p: _billed(p, c), [p for p in pool if p not in self.sure], measure)

    # stage 2: k = ceil(limit / 32), from one-row images: their patch count stops growing at k
    def bucket(self) -> int:
        far = self.ask(LIMIT_SENTINEL, _PATCH)
        top = ceil(LIMIT_SENTINEL / _PATCH)
        candidates = [p for p in range(16, top + 1) if self.consistent(far, p)]
        while len(candidates) > 1:
            j = candidates[(len(candidates) - 1) // 2]
            tokens = self.ask(_PATCH * j, _PATCH)
            if tokens == far:
                candidates = [p for p in candidates if p <= j]
            else:
                self.sure[j] = tokens
                self._update()
                candidates = [p for p in candidates if p > j and self.consistent(far, p)]
        if not candidates:
            raise _NoFit("the widest one-row image's count fits no pixel limit of 512 px or more")
        k = candidates[0]
        if k < top and self.ask(_PATCH * k, _PATCH) != far:
            raise _NoFit(f"one-row images stop growing at {k} patches, then grow again")
        if k > 16 and (k - 1) not in self.sure:
            tokens = self.ask(_PATCH * (k - 1), _PATCH)
            if tokens == far or not self.consistent(tokens, k - 1):
                raise _NoFit(f"a one-row image of {k - 1} patches did not bill as {k - 1} patches")
            self.ask_sure(_PATCH * (k - 1), _PATCH, k - 1)
        return k

    # stage 3: the budget, from grids within 32·(k−1) px a side (no pixel limit touches them)
    def _outcomes(self, h, size):
        limit, budget, multiplier = h
        return _billed(self._patches(limit, budget, *size), multiplier)

    def _filter(self, hypotheses: list, sizes: Iterable[tuple[int, int]]) -> list:
        for size in sizes:
            tokens = self.known[size]
            hypotheses = [h for h in hypotheses if tokens in self._outcomes(h, size)]
        return hypotheses

    def budget_below(self, low: int, high: int, limits: Sequence[int], most: int) -> list:
        """The budgets in [low, high] (with the limits and multipliers) that every count allows, narrowed by sizes."""
        hypotheses = [(limit, b, c) for limit in limits for b in range(low, high + 1) for c in self.multipliers]
        inside = [s for s in self.known if max(s) <= _PATCH * most]  # no pixel limit in the bucket touches them
        sizes = sorted(inside, key=lambda s: -self._patches(LIMIT_SENTINEL, None, *s))  # shrunk ones first
        hypotheses = self._filter(hypotheses, sizes)
        while hypotheses and max(h[1] for h in hypotheses) - min(h[1] for h in hypotheses) > 200:
            budgets = sorted({h[1] for h in hypotheses})
            middle = budgets[len(budgets) // 2]
            n = next((n for n in range(middle, budgets[-1] + 1) if _grid(n, most)), None)
            if n is None or n <= budgets[0]:
                break
            a, b = _grid(n, most)
            self.ask(_PATCH * a, _PATCH * b)
            hypotheses = self._filter(hypotheses, [(_PATCH * a, _PATCH * b)])
        if not hypotheses:
            return []
        budgets = sorted({h[1] for h in hypotheses})
        pool = self._budget_pool(budgets[0], budgets[-1], most)
        hypotheses = _narrow(hypotheses, self._outcomes, pool, lambda size: self.ask(*size))
        return self._split_budgets(hypotheses, _PATCH * most)

    def _split_budgets(self, hypotheses: list, side: int) -> list:
        """Tell apart budgets that grids cannot: images whose shrink crosses a whole patch at one budget and not
        at the one below (floor(√(B·w/h)) steps up), within `side` px a side."""
        budgets = sorted({h[1] for h in hypotheses} - {None})
        if len(budgets) < 2:
            return hypotheses
        rng = random.Random(side * 7 + budgets[0])
        pool = set()
        for b in budgets[1:]:
            found = 0
            for _ in range(600):  # about one try in twelve crosses exactly at b
                h = rng.randint(_PATCH, side)
                low, high = _PATCH * b // h + 1, isqrt(side * b // h)
                if low > high:
                    continue
                across = rng.randint(low, min(high, low + 8))  # just over the budget: a few Mpx, not a Gpx
                w = -(-across * across * h // b)  # the least w with B·w/h ≥ across²
                if w <= side and (b - 1) * w < across * across * h:  # ... and (B−1)·w/h < across²
                    pool.update({(w, h), (h, w)})
                    found += 1
                    if found == 8:
                        break
        pool = [s for s in pool if s not in self.known and s[0] * s[1] <= MAX_PIXELS]
        return _narrow(hypotheses, self._outcomes, pool, lambda size: self.ask(*size))

    def _budget_pool(self, low: int, high: int, most: int) -> list[tuple[int, int]]:
        """Sizes within 32·most px a side that tell budgets in [low, high] apart: grids just over each, and odd
        sizes whose shrink differs. No budget here is over the patch limit, so none of them is rejected."""
        rng = random.Random(low * 1_000_003 + high)
        pool = set()
        for n in range(low + 1, min(high + 1, self.cap) + 1):
            grid = _grid(n, most)
            if grid:
                pool.add((_PATCH * grid[0], _PATCH * grid[1]))
        for _ in range(160):
            a = rng.randint(1, most)
            b = ceil(rng.uniform(low, min(2 * high + 64, self.cap)) / a)
            if b <= most:
                pool.add((_PATCH * a - rng.randint(0, 31), _PATCH * b - rng.randint(0, 31)))
        return [s for s in pool if s not in self.known and s[0] * s[1] <= MAX_PIXELS]

    # stage 4: the exact limit in its bucket, from images whose short side crosses a row at a candidate limit
    def limit(self, k: int, budgets: Sequence[int | None], safe: int) -> list:
        """Limits in bucket k (with budgets and multipliers) every count allows; `safe`: patches billed unshrunk."""
        limits = list(range(_PATCH * (k - 1) + 1, min(_PATCH * k, LIMIT_SENTINEL) + 1))
        hypotheses = [(m, b, c) for m in limits for b in budgets for c in self.multipliers]
        pinned = budgets != [None]

        def usable(size):
            return all(self._patches(m, budgets[0], *size) <= (self.cap if pinned else safe) for m in limits)

        hypotheses = self._filter(hypotheses, [s for s in self.known if usable(s)])
        rows = min((min(budgets) if pinned else safe) // k, k) - 1
        pool = set()
        for c in limits[1:]:  # an image billed one more row of patches exactly when the limit is c or more
            for j in sorted({rows, rows - 1, rows - 2, rows // 2, rows // 4, 2, 1} - {0}, reverse=True):
                crossing = _crossing(k, c, j)
                if crossing and 0 < j <= rows:
                    pool.add(crossing)
        rng = random.Random(k)
        for _ in range(160 if _PATCH * k < LIMIT_SENTINEL else 0):  # over the limit: a few rows, or any shape
            w = rng.randint(_PATCH * k + 1, min(3 * _PATCH * k, LIMIT_SENTINEL))
            rows_seen = rng.randint(1, min(k, 12))
            pool.add((w, max(1, (_PATCH * rows_seen - rng.randint(0, 31)) * w // (_PATCH * k))))
            pool.add((w, rng.randint(1, w)))
        pool = [s for s in pool if s not in self.known and usable(s) and s[0] * s[1] <= MAX_PIXELS]
        return _narrow(hypotheses, self._outcomes, pool, lambda size: self.ask(*size))

    def run(self) -> Fit:
        self.multiplier()
        k = self.bucket()
        most = k - 1  # grids up to 32·(k−1) px a side: under every limit in the bucket
        safe = max(self.sure)
        budgets: list[int | None] | None = None  # None: not pinned yet, only "at least safe"
        n = max(a * min(most, self.cap // a) for a in range(1, most + 1))
        if n > safe:
            a, b = _grid(n, most)
            size = (_PATCH * a, _PATCH * b)
            tokens = self.ask(*size)
            if self.consistent(tokens, n):
                self.ask_sure(*size, n)
                safe = n
            else:
                left = self.budget_below(safe, n - 1, [LIMIT_SENTINEL], most)
                if not left:
                    raise _NoFit("the counts fit no patch budget")
                budgets = sorted({h[1] for h in left})
                self.multipliers = sorted({h[2] for h in left})
        left = self.limit(k, budgets or [None], safe)
        if left:
            left = self._split_budgets(left, min(h[0] for h in left))
        if not left:
            raise _NoFit("the counts fit no pixel limit")
        limits = sorted({h[0] for h in left})
        self.multipliers = sorted({h[2] for h in left})
        if budgets is None:
            budgets = self._budget_above(k, limits, safe)
        else:
            budgets = sorted({h[1] for h in left})
        if len(self.multipliers) > 1:  # larger grids, now that the budget is known, tell them apart
            bound = self.cap if budgets == [None] else min(budgets)
            pool = {}
            for a in range(1, most + 1):
                for b in range(a, min(most, bound // a) + 1):
                    pool.setdefault(a * b, (_PATCH * a, _PATCH * b))
            before = set(self.multipliers)  # what the sizes so far allow; the sure counts alone allow more
            self._refine(dict(sorted(pool.items())[-300:]))
            self.multipliers = [c for c in self.multipliers if c in before] or sorted(before)
        return self._result(k, limits, budgets)

    def _budget_above(self, k: int, limits: list[int], safe: int) -> list[int | None]:
        """With every grid within the limit billed unshrunk: is there a budget between `safe` and k² patches?"""
        if safe >= k * k:
            return [None]
        if k * k > self.cap:
            if safe < self.cap:
                self.notes.append(f"no budget seen: any of {safe:,} patches or more bills alike "
                                  f"up to the {self.cap:,}-patch limit")  # fmt: skip
            return [None]
        size = (_PATCH * k, _PATCH * k)
        tokens = self.ask(*size)
        if any(tokens in self._outcomes((m, None, c), size) for m in limits for c in self.multipliers):
            return [None]
        hypotheses = [(m, b, c) for m in limits for b in range(safe, k * k) for c in self.multipliers]
        hypotheses = self._filter(hypotheses, [size])
        rng = random.Random(k * 31)
        pool = {(rng.randint(_PATCH * (k - 2), LIMIT_SENTINEL), rng.randint(_PATCH * (k - 2), _PATCH * k + 64))
                for _ in range(200)}  # fmt: skip
        left = _narrow(hypotheses, self._outcomes, [s for s in pool if s[0] * s[1] <= MAX_PIXELS],
                       lambda size: self.ask(*size))  # fmt: skip
        left = self._split_budgets(left, min(limits))
        if not left:
            raise _NoFit("the counts fit no patch budget")
        return sorted({h[1] for h in left})

    def _result(self, k: int, limits: list[int], budgets: list[int | None]) -> Fit:
        table = self.table
        top = LIMIT_SENTINEL in limits  # the top bucket: any limit from there on bills alike
        if table.get("max_dimension") in limits:
            limit = table["max_dimension"]
        elif LIMIT_SENTINEL in limits:
            limit = LIMIT_SENTINEL
        else:
            limit = _pick(limits)
        if None in budgets:
            budget = None
        else:
            budget = _pick(budgets, table.get("patch_budget"))
        choices = self.multipliers
        wanted = table.get("multiplier")
        if wanted is not None and Fraction(wanted) in choices:
            multiplier = Fraction(wanted)
        else:
            multiplier = min(choices, key=lambda c: (len(decimal_text(c)), c))
        equivalent = {}
        if len(limits) > 1:
            equivalent["max_dimension"] = _span(limits, open_top=top)
        if len(budgets) > 1 and None not in budgets:
            equivalent["patch_budget"] = _span(budgets)
        if len(choices) > 1:
            equivalent["multiplier"] = ", ".join(decimal_text(c) for c in choices)
        rule = PatchRule(limit, budget, _PATCH, self.cap, multiplier)
        params = {"multiplier": Decimal(decimal_text(multiplier)), "max_dimension": limit, "patch_budget": budget}
        return Fit("patch", "", params, equivalent, rule, tuple(self.notes))


def _crossing(k: int, limit: int, rows: int) -> tuple[int, int] | None:
    """A W × H image over every limit in bucket k whose short side, fitted, passes 32·rows px exactly when the
    limit is `limit` or more: fit_within gives floor(H·L/W + 1/2), over 32·rows iff L ≥ (64·rows + 1)·W / (2H),
    so (64·rows + 1)·W / (2H) must fall in (limit − 1, limit]. The narrowest such W (fewest pixels), or None."""
    r = 64 * rows + 1
    for w in range(_PATCH * k + 1, min(_PATCH * k + 4000, LIMIT_SENTINEL) + 1):
        h = -(-r * w // (2 * limit))  # the least H with r·W / (2H) ≤ limit
        if r * w > 2 * h * (limit - 1):
            return (w, h) if h < w and w * h <= MAX_PIXELS else None
    return None


def decimal_text(value: Fraction) -> str:
    """A decimal fraction as its shortest decimal text (1.37, 2, 0.125)."""
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ------------------------------------------------------------------ fitting: Claude (SPEC §6a)


def _fit_claude(ask, table: ClaudeRule | None) -> Fit:
    """max edge from one-row images (only floor(edge / 28) bills differently), max tokens from patch grids."""
    patch = _CLAUDE_PATCH
    max_side = table.max_side if table else 8000
    for size, patches in (((28, 28), 1), ((56, 84), 6)):
        tokens = ask(*size, "auto")
        if tokens != patches:
            raise _NoFit(f"a {size[0]}×{size[1]} image counted {tokens} tokens, not {patches} "
                         f"(one a 28 px patch): not Claude's rule, or the image carries an overhead")  # fmt: skip
    widest = ceil(max_side / patch)
    q = ask(max_side, patch, "auto")  # one row: min(floor(edge / 28), max tokens) patches
    if not 1 <= q <= widest:
        raise _NoFit(f"a {max_side}×{patch} image counted {q} tokens: no edge limit explains it")
    wider = patch * (q + 1) <= max_side  # else the widest image itself showed the next width resized
    if patch * q <= max_side and ask(patch * q, patch, "auto") != q or wider and ask(patch * (q + 1), patch, "auto") != q:
        raise _NoFit(f"one-row images do not stop growing at {q} patches")
    edges = list(range(patch * q, patch * q + patch)) if q < widest else [patch * q]
    edge = _pick(edges, table.max_edge if table else None, patch)
    side = min(q, max_side // patch)
    square = side * side
    tokens = ask(patch * side, patch * side, "auto")
    if tokens == square:  # every grid within the edge fits: any max tokens from `square` on bills alike
        most = table.max_tokens if table and table.max_tokens >= square else square
        equivalent = {"max_tokens": _span([square], open_top=True)}
    else:
        s = isqrt(tokens)
        low, high = (s * s, (s + 1) ** 2 - 1) if s * s == tokens else (q, square - 1)

        def outcomes(x, size):
            return (ClaudeRule(edge, x, patch, max_side).size(*size).tokens,)

        hypotheses = [x for x in range(max(low, q), high + 1)
                      if all(outcomes(x, (w, h))[0] == t for (w, h, d), t in ask.seen.items())]  # fmt: skip
        pool = set()
        for n in range(min(hypotheses, default=0), max(hypotheses, default=0) + 2):
            grid = _grid(n, side)
            if grid:
                pool.add((patch * grid[0], patch * grid[1]))
        left = _narrow(hypotheses, outcomes, sorted(pool), lambda size: ask(*size, "auto"))
        if not left:
            raise _NoFit("the counts fit no max tokens")
        most = _pick(left, table.max_tokens if table else None)
        equivalent = {"max_tokens": _span(left)} if len(left) > 1 else {}
    if len(edges) > 1:
        equivalent["max_edge"] = _span(edges)
    rule = ClaudeRule(edge, most, patch, max_side)
    return Fit("claude", "auto", {"max_edge": edge, "max_tokens": most}, equivalent, rule)


# ------------------------------------------------------------------ fitting: Gemini (SPEC §6b)


def _fit_flat(ask, detail: str) -> Fit:
    """One count per image whatever its size, at one media resolution."""
    counts = {size: ask(*size, detail) for size in ((64, 64), (1024, 1024), (3000, 1000))}
    if len(set(counts.values())) != 1:
        raise _NoFit("the counts vary with the image size: not one count per image")
    tokens = next(iter(counts.values()))
    return Fit("fixed", detail, {"tokens": tokens}, rule=FlatRule(tokens, "flat"), sent=detail)


# ------------------------------------------------------------------ the table's rule, for comparison


def _table_params(row: Model | None, scheme: str, level: str) -> dict[str, Any] | None:
    """The table's parameters for the fitted scheme and level: values, None (no budget) or "unknown"."""
    if row is None or row.scheme != scheme:
        return None
    rules = dict(row.rules)
    rule = rules.get(level, rules.get(row.auto) if level == "auto" else None)
    return schemes.get(scheme).probe_params(row, rule)


def _compare(fit: Fit, table: dict[str, Any] | None) -> dict[str, str]:
    """Per parameter: agree, disagree, or new (the table does not know it)."""
    if table is None:
        return {}
    verdicts = {}
    for name, value in fit.params.items():
        known = table.get(name, "unknown")
        if isinstance(known, str) and known == "unknown":
            verdicts[name] = "new"
        else:
            verdicts[name] = "agree" if known == value else "disagree"
    return verdicts


# ------------------------------------------------------------------ fit and probe


def fit_rule(ask: Callable[[int, int, str], int], api: str, detail: str = "auto", row: Model | None = None) -> Fit:
    """Fit the scheme `api` uses from image-token counts: `ask(width, height, detail)` → tokens.

    The table row (if any) gives the values to keep where several bill alike
    and the patch limit (30,000 patches). _NoFit when no rule fits.
    """
    if not hasattr(ask, "seen"):
        ask = _Recorder(ask)
    if api == "anthropic":
        table = dict(row.rules).get("auto") if row is not None and row.scheme == "claude" else None
        return _fit_claude(ask, table)
    if api == "gemini":
        return _fit_flat(ask, detail)
    first, second = ask(32, 32, detail), ask(64, 64, detail)  # 1 and 4 patches; 1 tile both
    if first == second:
        table = dict(row.rules).get("high") if row is not None and row.scheme == "tile" else None
        fit = _fit_tile(ask, detail, table)
        # SPEC §1a: low detail is the flat `base`; the whole rule is fitted at high, low checked against base
        notes = ("the tile scheme's low detail is a flat `base` count: the whole rule was fitted at high and "
                 "low checked against base",) if detail == "low" else ()  # fmt: skip
        return replace(fit, notes=notes, sent="auto" if detail == "auto" else "high")
    level = _level(row, "patch", detail)
    table = _table_params(row, "patch", level) or {}
    table = {name: value for name, value in table.items() if not (isinstance(value, str) and value == "unknown")}
    caps = [rule.max_patches for _, rule in (row.rules if row is not None else ()) if isinstance(rule, PatchRule)]
    fit = _PatchFit(ask, detail, caps[0] if caps else 30000, table).run()
    return replace(fit, level=level, sent=detail)


def _level(row: Model | None, scheme: str, detail: str) -> str:
    """The table level a detail's parameters belong to (an unknown model's `auto` is stored as the scheme says)."""
    kind = schemes.get(scheme)
    if kind.probe_level is not None:
        return kind.probe_level
    if detail != "auto":
        return detail
    if row is not None and row.scheme == scheme:
        return row.auto
    return kind.probe_auto


def _check_sizes(fit: Fit) -> list[tuple[int, int, str]]:
    """Sizes to check the fit on: common photo and screen sizes and sizes near each fitted limit."""
    sizes = [(1024, 1024), (1920, 1080), (777, 333), (3000, 2000), (2048, 4096), (4032, 3024), (300, 5000),
             (1075, 1520), (2560, 1669), (513, 2049)]  # fmt: skip
    p = fit.params
    if fit.scheme == "patch":
        limit, budget = p["max_dimension"], p["patch_budget"]
        if limit < LIMIT_SENTINEL:
            sizes[:0] = [(limit + 97, limit // 3 + 5), (limit - 1, limit // 2)]
        if budget is not None:
            side = isqrt(budget) * _PATCH
            sizes[:0] = [(side + 40, side - 100), (side - 3, side - 70)]
    elif fit.scheme == "claude":
        sizes[:0] = [(p["max_edge"] + 300, 700), (200, 200), (1092, 1092), (3840, 2160)]
    checks = [(w, h, fit.sent) for w, h in dict.fromkeys(sizes) if fit.rule.reject(w, h, fit.rule.size(w, h)) is None]
    if fit.scheme == "tile":
        checks.insert(1, (1024, 1024, "low"))
    return checks


@dataclass(frozen=True)
class ProbeResult:
    """What a probe measured: the fitted rule beside the table's, every measurement, and the verdict."""

    model: str
    api: str
    base_url: str
    endpoint: str
    detail: str
    date: str
    requests: int
    """Requests that were counted: the one without an image, then one per size (retries not included)."""
    measurements: tuple[Measurement, ...]
    ok: bool
    """True when a rule fits every measurement, the checks included."""
    problem: str | None = None
    """Why no rule fits (when not ok)."""
    fit: Fit | None = None
    family: str | None = None
    """The table row the model resolved to (None: the table does not know it)."""
    provider: str = ""
    table: dict[str, Any] | None = None
    """The table's parameters for the fitted scheme and level ("unknown" where it has none)."""
    table_scheme: str | None = None
    comparison: dict[str, str] = field(default_factory=dict)
    """Per parameter: agree, disagree or new (the table does not know it)."""
    row: Model | None = field(default=None, repr=False)
    retries: int = 0
    """Requests sent again after HTTP 429 (rate limited) or 503 / 529 (overloaded)."""
    error: str | None = None
    """The endpoint's failure that stopped the probe (None when every request was answered)."""

    @property
    def agrees(self) -> bool | None:
        """False when a fitted parameter (or the scheme) disagrees with the table; None when it has no row."""
        if not self.ok or self.table_scheme is None:
            return None
        if self.fit is not None and self.table_scheme != self.fit.scheme:
            return False
        return "disagree" not in self.comparison.values()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        fit = self.fit
        return {
            "model": self.model,
            "family": self.family,
            "api": self.api,
            "base_url": self.base_url,
            "endpoint": self.endpoint,
            "detail": self.detail,
            "level": fit.level if fit else None,
            "sent": fit.sent if fit else None,
            "scheme": fit.scheme if fit else None,
            "ok": self.ok,
            "problem": self.problem,
            "fitted": _json_params(fit.params) if fit else None,
            "equivalent": dict(fit.equivalent) if fit else {},
            "notes": list(fit.notes) if fit else [],
            "table_scheme": self.table_scheme,
            "table": _json_params(self.table) if self.table is not None else None,
            "comparison": dict(self.comparison),
            "agrees": self.agrees,
            "requests": self.requests,
            "retries": self.retries,
            "error": self.error,
            "date": self.date,
            "measurements": [m.as_dict() for m in self.measurements],
        }


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, (Decimal, Fraction)) else v) for k, v in params.items()}


def probe(
    model: str,
    *,
    api: str | None = None,
    base_url: str | None = None,
    detail: str = "auto",
    key: str | None = None,
    tables: Tables | None = None,
    max_requests: int = MAX_REQUESTS,
    timeout: float = TIMEOUT,
    today: _dt.date | None = None,
) -> ProbeResult:
    """Measure `model`'s image-token rule at its vendor's token-counting endpoint (SPEC §8).

    `key` defaults to the vendor's environment variable (KEY_VARIABLES);
    ProbeUsageError without one. ProbeError when the endpoint fails. A fit that
    fails is a result with ok False and the measurements, not an error.
    """
    tables = tables or default_tables()
    api, row = resolve_api(model, api, tables)
    if api not in APIS:
        raise ProbeUsageError(f"api must be one of {', '.join(APIS)}, not {api!r}")
    if detail not in _DETAILS[api]:
        raise ProbeUsageError(f"detail {detail}: the {api} endpoint takes {', '.join(_DETAILS[api])}")
    if key is None:
        key, names = key_for(api)
        if key is None:
            raise ProbeUsageError(f"probe needs your {api} API key: set {' or '.join(names)}")
    base_url = BASE_URLS[api] if base_url is None else check_base_url(base_url)
    endpoint = _Endpoint(api, base_url, key, model, timeout)
    session = _Session(lambda size, level: endpoint.count(None if size is None else png(*size), level), max_requests)
    date = (today or _dt.date.today()).isoformat()
    fit = problem = None
    failure: ProbeError | None = None
    try:
        fit = fit_rule(session, api, detail, row)
        session.use = "check"
        checks = wrong = 0
        for w, h, level in _check_sizes(fit):
            if checks == CHECKS:
                break
            if (w, h, level) in session.seen:
                continue
            tokens = session(w, h, level)
            allowed = fit.expected(w, h, level)
            session.log[-1] = Measurement(w, h, level, tokens, "check", allowed[0])
            checks, wrong = checks + 1, wrong + (tokens not in allowed)
        if wrong:
            problem = f"the fitted rule missed {wrong} of the sizes it was checked on"
    except _NoFit as error:
        problem = str(error)
    except ProbeError as error:  # the endpoint failed: raised again below, with what was measured before it
        failure, fit, problem = error, None, str(error)
    finally:
        endpoint.close()
    if fit is not None and problem is None:
        predicted = [m if m.use == "check" else Measurement(m.width, m.height, m.detail, m.tokens, m.use,
                     fit.expected(m.width, m.height, m.detail)[0]) for m in session.log]  # fmt: skip
        misses = [m for m in predicted if m.use == "fit" and m.tokens not in fit.expected(m.width, m.height, m.detail)]
        if misses:
            problem = f"the fitted rule misses {len(misses)} of the sizes it was fitted on"
        session.log = predicted
    ok = problem is None
    table_scheme = row.scheme if row is not None else None
    if fit is not None and ok:
        table = _table_params(row, fit.scheme, fit.level)
    else:  # no fit: the table's own rule for this detail, beside the measurements (SPEC §8 --json)
        try:
            table = _table_params(row, row.scheme, _level(row, row.scheme, detail)) if row is not None else None
        except AttributeError:  # the table has no rule at that level
            table = None
    result = ProbeResult(
        model=model, api=api, base_url=base_url, endpoint=endpoint.url, detail=detail, date=date,
        requests=session.requests, measurements=tuple(session.log), ok=ok, problem=problem,
        fit=fit if ok else None, family=row.family if row is not None else None,
        provider=row.provider if row is not None and row.provider else _API_PROVIDER[api],
        table=table, table_scheme=table_scheme, comparison=_compare(fit, table) if ok else {}, row=row,
        retries=endpoint.retries, error=None if failure is None else str(failure),
    )  # fmt: skip
    if failure is not None:
        failure.result = result
        raise failure
    return result


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (Decimal, Fraction)):
        return decimal_text(Fraction(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


def row_toml(result: ProbeResult) -> str:
    """The measured rule as a model-table file (tables/models/README.md) that `--tables FILE` loads.

    Levels the probe did not measure keep the table's values (said in `note`).
    """
    if not result.ok or result.fit is None:
        raise ProbeError("no row to write: the probe did not fit a rule")
    fit, row = result.fit, result.row
    same = row is not None and row.scheme == fit.scheme
    source = f"measured by costcalc probe on {result.date} at {result.base_url}"
    # the name probed: a dated snapshot or an alias gets a row of its own, never its whole family's
    entries: dict[str, Any] = {"names": [result.model.strip().lower()], "scheme": fit.scheme}
    settings, kept = schemes.get(fit.scheme).fitted_row(fit.params, fit.rule, fit.level, row if same else None)
    entries |= settings
    note = f"measured at detail {result.detail}" + (f" (level {fit.level})" if fit.level != result.detail else "")
    note += f" with {result.requests} requests"
    if kept:
        note += f"; {', '.join(kept)}: as the shipped table gives {'it' if len(kept) == 1 else 'them'} (not measured)"
    entries |= {"evidence": "measured", "note": note, "source": source, "date": result.date, "checked": result.date}
    lines = [f"# {source} ({result.requests} requests to {result.endpoint}).",
             "# Load it with --tables FILE (costcalc.load_tables(FILE)); its row replaces the shipped one.",
             "", f"provider = {_toml(result.provider)}", "", "[[model]]"]  # fmt: skip
    lines += [f"{name} = {_toml(value)}" for name, value in entries.items()]
    return "\n".join(lines) + "\n"
