"""The token-counting endpoints probe calls over HTTP: keys, base URLs, retries, and image tokens per size.

Each vendor's URL path, headers and request body come from its shape module (costcalc.vendors); httpx2 is
imported only when a request is made (`pip install 'costcalc[fetch]'`).
"""

from __future__ import annotations

import base64
import io
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..errors import ProbeError, ProbeUsageError
from ..vendors import count_endpoint
from .fitters import MAX_PIXELS, NoFit, Reading

__all__ = [
    "BASE_URLS",
    "KEY_VARIABLES",
    "MAX_REQUESTS",
    "TIMEOUT",
    "RETRIES",
    "MAX_RETRIES",
    "MAX_ANSWER_BYTES",
    "PROMPT",
    "png",
    "key_for",
    "check_base_url",
    "CountEndpointClient",
    "Session",
]

BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}
"""Each vendor's official base URL, as its SDK takes it (`--base-url` replaces it)."""
KEY_VARIABLES = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
"""Where each vendor's SDK looks for the key, first found wins."""
MAX_REQUESTS = 64
"""Most requests one probe makes; a fit that needs more fails (the usual probe takes 15–40)."""
TIMEOUT = 60.0
"""Seconds per request: one deadline for the whole exchange (connect, send, every read), not per read."""
RETRIES = 4
"""Times one request is sent again after HTTP 429 (rate limited) or 503 / 529 (overloaded), waiting as the
answer's Retry-After says (else 1, 2, 4, 8 s; at most MAX_WAIT)."""
MAX_RETRIES = 16
"""Requests sent again (rate limits, overloads) in one whole probe, at most: with MAX_REQUESTS, every probe ends."""
MAX_ANSWER_BYTES = 1 << 20
"""The longest answer read from the endpoint: a token count is a few dozen bytes; an error page a few KiB."""
MAX_WAIT = 30.0
PROMPT = "What is in this image?"
"""The request's text, the same with and without the image."""


def png(width: int, height: int) -> bytes:
    """A PNG of one flat colour at this size, made in memory (1 bit a pixel: a few KB even 65,535 px wide)."""
    if width * height > MAX_PIXELS:
        raise ProbeError(f"a {width}×{height} probe image would have more than {MAX_PIXELS:,} pixels")
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, format="PNG")
    return out.getvalue()


def key_for(api: str) -> tuple[str | None, tuple[str, ...]]:
    """The user's key for `api` from the environment (None when unset) and the variables looked at."""
    names = KEY_VARIABLES[api]
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value, names
    return None, names


def check_base_url(url: str) -> str:
    """`url` if it can be a base URL: http or https, a host, a port in 1–65535; ProbeUsageError (one line) if not.

    Checked before any request, so a typo is a usage error (exit 2), not a network failure.
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


class CountEndpointClient:
    """One vendor's token-counting endpoint: the URL, headers and request bodies its shape module gives."""

    def __init__(self, api: str, base_url: str, key: str, model: str, timeout: float = TIMEOUT):
        self.api, self.model, self.key, self.timeout = api, model, key, timeout
        self.spec = count_endpoint(api)
        self.url = base_url.rstrip("/") + self.spec.path(model)
        self._client = None
        self.retries = 0
        """Requests sent again after a rate limit or an overload."""

    def headers(self) -> dict[str, str]:
        """The vendor's authentication headers."""
        return self.spec.headers(self.key)

    def body(self, image: bytes | None, detail: str) -> dict[str, Any]:
        """The request: PROMPT, and the image (a base64 PNG) when given, at `detail`."""
        data = base64.b64encode(image).decode("ascii") if image is not None else None
        return self.spec.body(self.model, data, detail, PROMPT)

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
                raise ProbeError(
                    f"POST {self.url}: HTTP {response.status_code} again after {self.retries} retries "
                    f"in this probe; try later"
                )
            self.retries += 1
            time.sleep(_wait(response.headers.get("retry-after"), attempt))
        if 300 <= response.status_code < 400:
            where = response.headers.get("location")
            raise ProbeError(
                f"POST {self.url}: HTTP {response.status_code}: redirected"
                f"{f' to {where}' if where else ''}; give that base URL (probe does not follow redirects)"
            )
        if response.status_code >= 400:
            raise ProbeError(f"POST {self.url}: HTTP {response.status_code}: {_error_message(response)}")
        name = self.spec.count_field
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


class Session:
    """Image tokens at one endpoint: each size's count less the count without an image, each size asked once."""

    def __init__(self, count: Callable[[tuple[int, int] | None, str], int], limit: int = MAX_REQUESTS):
        self._count = count
        self.limit = limit
        self.requests = 0
        self._baseline: int | None = None
        self.seen: dict[tuple[int, int, str], int] = {}
        self.log: list[Reading] = []
        self.use = "fit"

    def _request(self, size: tuple[int, int] | None, detail: str) -> int:
        if self.requests >= self.limit:
            raise NoFit(f"stopped after {self.requests} requests without pinning every parameter")
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
            self.log.append(Reading(width, height, detail, tokens, self.use))
        return self.seen[key]
