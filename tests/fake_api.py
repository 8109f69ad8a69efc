"""A fake vendor API on 127.0.0.1 that bills images by hidden parameters (for `costcalc probe`, docs/probe.md).

It answers the three free token-counting endpoints `costcalc probe` speaks:

- OpenAI    `POST /v1/responses/input_tokens`           (Authorization: Bearer KEY) → {"input_tokens": N}
- Anthropic `POST /v1/messages/count_tokens`            (x-api-key, anthropic-version) → {"input_tokens": N}
- Gemini    `POST /v1beta/models/{model}:countTokens`   (x-goog-api-key) → {"totalTokens": N}

Each model bills its images by a rule whose parameters the client cannot see,
plus a fixed text overhead per request. The billing here is written from the
SPEC's formulas (§1a, §1b, §6a) in exact arithmetic, apart from costcalc's own
code, so a probe that recovers the parameters has measured them, not copied
them. Image sizes come from Pillow reading the image header.

Run it alone: `python -m tests.fake_api --port 8765` (key `test-key`; the models
in DEFAULT_MODELS), then `costcalc probe -m gpt-6-sol --base-url http://127.0.0.1:8765/v1`.
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from math import ceil, floor, isqrt

from PIL import Image

KEY = "test-key"
"""The API key the fake accepts unless told otherwise."""


class Rejected(Exception):
    """An image the fake API refuses (HTTP 400), as the real ones do."""


# ------------------------------------------------------------------ hidden billing rules


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    """Fit within box × box keeping the aspect ratio, the other side to the nearest pixel (halves up), never upscale."""
    if width <= box and height <= box:
        return width, height
    long, short = max(width, height), min(width, height)
    scaled = max(1, floor(Fraction(short * box, long) + Fraction(1, 2)))
    return (box, scaled) if width >= height else (scaled, box)


@dataclass(frozen=True)
class Tile:
    """docs/openai.md: base + tile × tiles after fitting within `fit` and capping the short side."""

    base: int
    tile: int
    short_side: int = 768
    fit: int = 2048
    tile_size: int = 512

    def tokens(self, detail: str, width: int, height: int) -> int:
        """Image tokens for one image at one detail level."""
        if detail == "low":
            return self.base
        w, h = _fit(width, height, self.fit)
        if min(w, h) > self.short_side:
            if w <= h:
                w, h = self.short_side, h * self.short_side // w
            else:
                w, h = w * self.short_side // h, self.short_side
        return self.base + self.tile * ceil(w / self.tile_size) * ceil(h / self.tile_size)


@dataclass(frozen=True)
class Patch:
    """docs/openai.md: 32 px patches within a pixel limit and an optional budget, times an exact decimal multiplier.

    `levels` maps a detail level to (max_dimension, patch_budget or None); `auto` names the level auto means.
    `floats`: take ceil(patches × m) in binary floats, as OpenAI's billing may (2500 × 1.2 → 3001, docs/openai.md).
    """

    multiplier: str
    levels: dict
    auto: str
    max_patches: int = 30000
    patch: int = 32
    floats: bool = False

    def tokens(self, detail: str, width: int, height: int) -> int:
        """Image tokens for one image at one detail level (Rejected over max_patches, or for a level it lacks)."""
        level = self.auto if detail == "auto" else detail
        if level not in self.levels:
            raise Rejected(f"detail {detail!r} is not supported by this model")
        limit, budget = self.levels[level]
        w, h = _fit(width, height, limit)
        p = self.patch
        if budget is not None and ceil(w / p) * ceil(h / p) > budget:
            # shrink = sqrt(p²·B / (w·h)); w·shrink/p = sqrt(B·w/h), h·shrink/p = sqrt(B·h/w), taken exactly
            across, down = isqrt(budget * w // h), isqrt(budget * h // w)  # floor of each square root
            if across * h <= down * w:  # the width's floor/exact ratio is the smaller: w lands on `across` patches
                w, h = p * across, floor(Fraction(p * across * h, w))
            else:
                w, h = floor(Fraction(p * down * w, h)), p * down
            w, h = max(w, 1), max(h, 1)
        patches = ceil(w / p) * ceil(h / p)
        if patches > self.max_patches:
            raise Rejected(f"the image needs {patches} patches; the limit is {self.max_patches}")
        if self.floats:
            return ceil(patches * float(self.multiplier))
        return ceil(patches * Fraction(Decimal(self.multiplier)))


@dataclass(frozen=True)
class Claude:
    """docs/anthropic.md: ceil(w/28) × ceil(h/28) tokens, the image first shrunk (Anthropic's search) to fit edge and tokens."""

    max_edge: int
    max_tokens: int
    patch: int = 28
    max_side: int = 8000

    def _fits(self, a: int, b: int) -> bool:
        across, down = ceil(a / self.patch), ceil(b / self.patch)
        return (
            across * self.patch <= self.max_edge
            and down * self.patch <= self.max_edge
            and across * down <= self.max_tokens
        )

    def tokens(self, detail: str, width: int, height: int) -> int:
        """Image tokens for one image (Claude has no detail levels)."""
        if max(width, height) > self.max_side:
            raise Rejected(f"image dimensions exceed max allowed size: {self.max_side} pixels")
        if not self._fits(width, height):
            long, short = max(width, height), min(width, height)
            aspect = long / short
            best, low, high = 1, 1, long
            while low <= high:
                middle = (low + high) // 2
                if self._fits(middle, max(round(middle / aspect), 1)):
                    best, low = middle, middle + 1
                else:
                    high = middle - 1
            other = max(round(best / aspect), 1)
            width, height = (best, other) if width >= height else (other, best)
        return ceil(width / self.patch) * ceil(height / self.patch)


@dataclass(frozen=True)
class Flat:
    """One count per image whatever its size, per detail level (Gemini 3 media resolutions, docs/google.md)."""

    levels: dict

    def tokens(self, detail: str, width: int, height: int) -> int:
        """Image tokens for one image at one detail level."""
        if detail not in self.levels:
            raise Rejected(f"media resolution {detail!r} is not supported by this model")
        return self.levels[detail]


@dataclass
class Noisy:
    """A model whose counts follow no rule: every image a random count (no fit can hold)."""

    seed: int = 0
    _random: random.Random = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tokens(self, detail: str, width: int, height: int) -> int:
        """A random count, different at every request."""
        with self._lock:
            if self._random is None:
                self._random = random.Random(self.seed)
            return self._random.randint(10, 5000)


DEFAULT_MODELS = {
    "gpt-6-sol": Patch("1.3", {"low": (512, None), "high": (2048, 2500), "original": (65535, None)}, auto="original"),
    "gpt-4o": Tile(85, 170),
    "gpt-image-1": Tile(65, 129, short_side=512),
    "mystery-vision-1": Tile(77, 155),
    "claude-opus-4-7": Claude(2576, 4784),
    "gemini-3-pro-preview": Flat({"auto": 1120, "low": 280, "medium": 560, "high": 1120, "ultra_high": 2240}),
}
"""What `python -m tests.fake_api` serves: gpt-6-sol's hidden multiplier is 1.3."""


# ------------------------------------------------------------------ the server


def _image_size(data: str) -> tuple[int, int]:
    """(width, height) of a base64 image, read from its header by Pillow."""
    with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
        return image.size


def _text_tokens(text: str) -> int:
    return len(text.split()) + 1


class FakeAPI:
    """The fake vendor API: `with FakeAPI(models) as api:` serves on 127.0.0.1 until the block ends.

    `requests` lists every request answered: (endpoint, model, size or None, detail). With `throttle=N`,
    every Nth request is refused with HTTP 429 and `Retry-After: 0` instead (counted in `throttled`).
    """

    def __init__(
        self, models: dict | None = None, *, key: str = KEY, overhead: int = 7, port: int = 0, throttle: int = 0
    ):
        self.models = dict(DEFAULT_MODELS if models is None else models)
        self.key = key
        self.overhead = overhead
        self.throttle = throttle
        self.throttled = 0
        self._arrived = 0
        self.requests: list[tuple[str, str, tuple[int, int] | None, str | None]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT: the base URL for Anthropic and Gemini (OpenAI's is `url + "/v1"`)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeAPI:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)  # quick to stop
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def count(self, endpoint: str, model: str, parts: list, detail_default: str = "auto") -> int:
        """The count for one request: text overhead plus each image's hidden-rule tokens."""
        rule = self.models.get(model)
        if rule is None:
            raise LookupError(f"The model `{model}` does not exist or you do not have access to it.")
        total = self.overhead
        size = detail = None
        for kind, value, level in parts:
            if kind == "text":
                total += _text_tokens(value)
            else:
                size, detail = _image_size(value), level or detail_default
                total += rule.tokens(detail, *size)
        with self._lock:
            self.requests.append((endpoint, model, size, detail))
        return total


def _openai_parts(body: dict) -> tuple[str, list]:
    parts = []
    for message in body.get("input") or []:
        for item in message.get("content") or []:
            if item.get("type") == "input_text":
                parts.append(("text", item["text"], None))
            elif item.get("type") == "input_image":
                url = item["image_url"]
                parts.append(("image", url.split(",", 1)[1], item.get("detail", "auto")))
            else:
                raise ValueError(f"unsupported content type {item.get('type')!r}")
    return body["model"], parts


def _anthropic_parts(body: dict) -> tuple[str, list]:
    parts = []
    for message in body.get("messages") or []:
        content = message.get("content")
        for item in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            if item.get("type") == "text":
                parts.append(("text", item["text"], None))
            elif item.get("type") == "image":
                parts.append(("image", item["source"]["data"], "auto"))
            else:
                raise ValueError(f"unsupported content type {item.get('type')!r}")
    return body["model"], parts


_MEDIA = {
    "MEDIA_RESOLUTION_LOW": "low",
    "MEDIA_RESOLUTION_MEDIUM": "medium",
    "MEDIA_RESOLUTION_HIGH": "high",
    "MEDIA_RESOLUTION_ULTRA_HIGH": "ultra_high",
}


def _gemini_parts(body: dict) -> list:
    parts = []
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            if "text" in part:
                parts.append(("text", part["text"], None))
            else:
                inline = part.get("inline_data") or part.get("inlineData")
                resolution = (part.get("media_resolution") or part.get("mediaResolution") or {}).get("level")
                parts.append(("image", inline["data"], _MEDIA.get(resolution, "auto")))
    return parts


def _handler(api: FakeAPI):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, document: dict, headers: dict | None = None) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with api._lock:
                api._arrived += 1
                refuse = api.throttle and api._arrived % api.throttle == 0
                api.throttled += bool(refuse)
            if refuse:
                return self._answer(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0"})
            path = self.path.split("?", 1)[0]
            gemini = re.fullmatch(r"/v1beta/models/([^/:]+):countTokens", path)
            if path == "/v1/responses/input_tokens":
                kind, key = "openai", (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            elif path == "/v1/messages/count_tokens":
                kind, key = "anthropic", self.headers.get("x-api-key")
                if not self.headers.get("anthropic-version"):
                    return self._error("anthropic", 400, "anthropic-version header is required")
            elif gemini:
                kind, key = "gemini", self.headers.get("x-goog-api-key")
            else:
                return self._answer(404, {"error": {"message": f"no route {path}"}})
            if key != api.key:
                return self._error(kind, 401, "Incorrect API key provided")
            try:
                if kind == "openai":
                    model, parts = _openai_parts(body)
                elif kind == "anthropic":
                    model, parts = _anthropic_parts(body)
                else:
                    model, parts = gemini[1], _gemini_parts(body)
                total = api.count(kind, model, parts)
            except LookupError as error:
                return self._error(kind, 404, str(error.args[0]))
            except (Rejected, ValueError, KeyError, TypeError) as error:
                return self._error(kind, 400, str(error))
            if kind == "gemini":
                return self._answer(200, {"totalTokens": total})
            return self._answer(
                200, {"input_tokens": total} | ({"object": "response.input_tokens"} if kind == "openai" else {})
            )

        def _error(self, kind: str, status: int, message: str) -> None:
            if kind == "anthropic":
                return self._answer(
                    status, {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
                )
            if kind == "gemini":
                return self._answer(
                    status, {"error": {"code": status, "message": message, "status": "INVALID_ARGUMENT"}}
                )
            return self._answer(status, {"error": {"message": message, "type": "invalid_request_error", "code": None}})

    return Handler


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.fake_api --port N [--key KEY]`: serve DEFAULT_MODELS until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(
        description="A fake vendor token-counting API on 127.0.0.1 (costcalc probe's tests)."
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default=KEY)
    options = parser.parse_args(argv)
    api = FakeAPI(key=options.key, port=options.port)
    print(f"fake API on {api.url} (key {options.key!r}): {', '.join(api.models)}", flush=True)
    try:
        api._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api._server.server_close()


if __name__ == "__main__":
    main()
