"""costcalc.guard on the real openai and anthropic SDK clients, sync and async (docs/README.md, issue 12).

Each test points a real client at a server it starts on 127.0.0.1, which records every
request it receives and answers minimal valid JSON. Expected tokens and sizes are
SPEC's worked examples (§1a tile scheme, §6a Claude), never computed by costcalc:

- gpt-4o (base 85, tile 170): 1024×1024 → 765 tokens; 2560×1669 → seen as 1178×768, 1105 tokens.
- Claude standard tier (claude-sonnet-4-6): 1000×1000 → 1296 tokens; 3840×2160 → seen as 1456×819, 1560 tokens.
- Prices (tables/prices, docs/prices.md): gpt-4o $2.50 / 1M input, claude-sonnet-4-6 $3.00 / 1M; Batch 50% off.

Budgets are on the images, as check_budget measures them (pricing.request.budget_problems).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import io
import json
import socket
import subprocess
import sys
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc import BudgetExceeded, GuardError
from costcalc.errors import TierError, UnknownModelError

# ------------------------------------------------------------------ the test server


class Server:
    """A local API stand-in: records each request, answers a chat.completion, response or message object."""

    def __init__(self):
        self.received: list[SimpleNamespace] = []
        self.fail_first: list[int] = []  # statuses to answer before the normal answers
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._answer(b"")

            def do_POST(self):
                self._answer(self.rfile.read(int(self.headers.get("content-length", 0))))

            def _answer(self, body: bytes):
                path = self.path.partition("?")[0]
                server.received.append(
                    SimpleNamespace(
                        method=self.command,
                        path=path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                status, answer = (
                    (server.fail_first.pop(0), {"error": {"message": "try again"}})
                    if server.fail_first
                    else (200, _answer(path))
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("retry-after-ms", "1")  # both SDKs read it: retries without waiting
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def posts(self) -> list[SimpleNamespace]:
        return [r for r in self.received if r.method == "POST"]


def _answer(path: str) -> dict:
    """Minimal valid answers: OpenAI chat.completion and response, Anthropic message, token counts, model lists."""
    if path.endswith("/chat/completions"):
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    if path.endswith("/responses"):
        return {
            "id": "resp_1",
            "object": "response",
            "created_at": 0,
            "model": "gpt-4o",
            "status": "completed",
            "output": [
                {
                    "type": "message",
                    "id": "msg_1",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "ok", "annotations": []}],
                }
            ],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
        }
    if path.endswith(("/input_tokens", "/count_tokens")):
        return {"object": "response.input_tokens", "input_tokens": 3}
    if path.endswith("/messages"):
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    return {
        "object": "list",
        "data": [
            {
                "id": "m",
                "object": "model",
                "created": 0,
                "owned_by": "x",
                "type": "model",
                "display_name": "m",
                "created_at": "2026-01-01T00:00:00Z",
            }
        ],
        "has_more": False,
        "first_id": "m",
        "last_id": "m",
    }


@pytest.fixture
def server():
    running = Server()
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


# ------------------------------------------------------------------ clients and calls

KINDS = ["openai", "openai-async", "anthropic", "anthropic-async"]
APIS = {"openai": ("chat", "responses"), "anthropic": ("messages",)}
CALLS = [(kind, api) for kind in KINDS for api in APIS[kind.partition("-")[0]]]
PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses", "messages": "/v1/messages"}
MODEL = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-6"}


def _sdk(kind: str):
    name = kind.partition("-")[0]
    return pytest.importorskip(name, reason=f"the {name} SDK is not installed (pip install 'costcalc[{name}]')")


def _client(kind: str, server: Server, **options):
    sdk = _sdk(kind)
    cls = {
        "openai": "OpenAI",
        "openai-async": "AsyncOpenAI",
        "anthropic": "Anthropic",
        "anthropic-async": "AsyncAnthropic",
    }[kind]
    base_url = server.url + ("/v1" if kind.startswith("openai") else "")
    options.setdefault("max_retries", 0)
    return getattr(sdk, cls)(base_url=base_url, api_key="test", **options)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def _content(api: str, image: bytes | str) -> list:
    """One image part of `api`'s shape: image bytes inline (base64), or a URL."""
    if isinstance(image, str):
        url, source = image, {"type": "url", "url": image}
    else:
        data = base64.b64encode(image).decode()
        url, source = f"data:image/png;base64,{data}", {"type": "base64", "media_type": "image/png", "data": data}
    return {
        "chat": [{"type": "image_url", "image_url": {"url": url}}],
        "responses": [{"type": "input_image", "image_url": url}],
        "messages": [{"type": "image", "source": source}],
    }[api]


async def send(client, api: str, image: bytes | str, model: str | None = None):
    """One call of `api` with one image, awaited when the client is async."""
    sdk = type(client).__module__.partition(".")[0]
    model = model or MODEL[sdk]
    message = [{"role": "user", "content": _content(api, image)}]
    if api == "chat":
        result = client.chat.completions.create(model=model, messages=message)
    elif api == "responses":
        result = client.responses.create(model=model, input=message)
    else:
        result = client.messages.create(model=model, max_tokens=16, messages=message)
    return await result if inspect.isawaitable(result) else result


def run(coroutine):
    return asyncio.run(coroutine)


def _image_of(record: SimpleNamespace) -> tuple[bytes, str]:
    """(the image bytes, their declared media type) a recorded request carried."""
    body = json.loads(record.body)
    if "messages" in body and body["messages"][0]["content"][0]["type"] == "image":
        source = body["messages"][0]["content"][0]["source"]
        return base64.b64decode(source["data"]), source["media_type"]
    part = (body.get("messages") or body.get("input"))[0]["content"][0]
    url = part["image_url"]["url"] if isinstance(part["image_url"], dict) else part["image_url"]
    media, _, data = url[5:].partition(";base64,")
    return base64.b64decode(data), media


# one image per vendor whose tokens and USD SPEC works out (module docstring)
SMALL = {"openai": ((1024, 1024), 765, Decimal("0.0019125")), "anthropic": ((1000, 1000), 1296, Decimal("0.003888"))}


def _small(kind: str):
    return SMALL[kind.partition("-")[0]]


ANTHROPIC_SKELETON = (
    '{"max_tokens":16,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64",'
    '"media_type":"image/png","data":""}}]}],"model":"claude-sonnet-4-6"}'
)
"""The Messages body the anthropic SDK sends for one inline image, its data left out."""
TEXT = {"chat": 3 + 1 + 3, "responses": 3 + 1 + 3, "messages": len(ANTHROPIC_SKELETON) + 8 * 4 + 32}
"""The text a budget counts beside the one image of `send`. OpenAI, exact (tiktoken, the cookbook's framing):
3 for the message, 1 for "user" (o200k_base), 3 for the reply's priming. Anthropic, bounded above: one
token per byte of the body without the image's data, 8 per JSON object (4: the body, the message, the part,
its source) and 32 for the request."""
RATE = {"openai": Decimal("2.50") / 10**6, "anthropic": Decimal("3") / 10**6}
"""USD per input token: gpt-4o $2.50 and Claude Sonnet 4.6 $3 per million (tables/prices)."""


def _whole(kind: str, api: str, tokens: int | None = None) -> tuple[int, Decimal]:
    """(input tokens, USD) a budget counts for `send` of the small image (or one of `tokens`): image and text."""
    sdk = kind.partition("-")[0]
    total = (SMALL[sdk][1] if tokens is None else tokens) + TEXT[api]
    return total, total * RATE[sdk]


# ------------------------------------------------------------------ within and over budget


@pytest.mark.parametrize("kind, api", CALLS)
def test_within_budget_arrives_unchanged_and_is_counted(server, kind, api):
    size, _, _ = _small(kind)
    tokens, usd = _whole(kind, api)
    image = png(*size)
    client = costcalc.guard(_client(kind, server), max_tokens=tokens, max_usd=usd, total_usd=usd)
    run(send(client, api, image))
    [record] = server.received
    assert (record.method, record.path) == ("POST", PATHS[api])
    assert _image_of(record) == (image, "image/png")  # untouched without shrink
    guard = client.costcalc
    assert (guard.requests, guard.spent_tokens, guard.spent_usd, guard.unpriced_requests) == (1, tokens, usd, 0)


@pytest.mark.parametrize("limit", ["max_tokens", "max_usd"])
@pytest.mark.parametrize("kind, api", CALLS)
def test_over_budget_raises_and_sends_nothing(server, kind, api, limit):
    size, tokens, usd = _small(kind)
    under = {"max_tokens": tokens - 1, "max_usd": usd - Decimal("0.0000001")}[limit]
    client = costcalc.guard(_client(kind, server, max_retries=2), **{limit: under})
    with pytest.raises(BudgetExceeded) as caught:
        run(send(client, api, png(*size)))
    assert server.received == []
    assert caught.value.estimate.image_tokens == tokens
    assert caught.value.estimate.usd == usd
    assert type(caught.value).__name__ == "BudgetExceeded"  # not the SDK's APIConnectionError
    assert f"POST {PATHS[api]} not sent" in str(caught.value) and "\n" not in str(caught.value)
    assert (client.costcalc.requests, client.costcalc.spent_usd) == (0, 0)


@pytest.mark.parametrize("kind, api", CALLS)
def test_total_usd_stops_the_request_that_would_cross_it(server, kind, api):
    size, _, _ = _small(kind)
    tokens, usd = _whole(kind, api)
    image = png(*size)
    client = costcalc.guard(_client(kind, server), total_usd=2 * usd + usd / 2)

    async def scenario():
        await send(client, api, image)
        await send(client, api, image)
        with pytest.raises(BudgetExceeded, match="over total_usd"):
            await send(client, api, image)
        assert len(server.received) == 2
        assert client.costcalc.spent_usd == 2 * usd
        client.costcalc.reset()
        assert (client.costcalc.spent_usd, client.costcalc.spent_tokens, client.costcalc.requests) == (0, 0, 0)
        await send(client, api, image)  # the total starts again

    run(scenario())
    assert len(server.received) == 3
    assert (client.costcalc.requests, client.costcalc.spent_tokens) == (1, tokens)


@pytest.mark.parametrize("kind", ["openai-async", "anthropic-async"])
def test_total_usd_holds_for_concurrent_requests(server, kind):
    size, _, _ = _small(kind)
    image = png(*size)
    api = APIS[kind.partition("-")[0]][0]
    usd = _whole(kind, api)[1]
    client = costcalc.guard(_client(kind, server), total_usd=2 * usd)

    async def scenario():
        return await asyncio.gather(*(send(client, api, image) for _ in range(4)), return_exceptions=True)

    results = run(scenario())
    assert sum(isinstance(result, BudgetExceeded) for result in results) == 2
    assert len(server.received) == 2
    assert client.costcalc.spent_usd == 2 * usd


# ------------------------------------------------------------------ shrink

# (kind, api, image size, the size the model works from, its tokens) — docs/openai.md and docs/anthropic.md worked examples
SHRINK = [
    ("openai", "chat", (2560, 1669), (1178, 768), 1105, "0.0027625"),
    ("openai-async", "responses", (2560, 1669), (1178, 768), 1105, "0.0027625"),
    ("openai", "responses", (2048, 4096), (768, 1536), 1105, "0.0027625"),
    ("anthropic", "messages", (3840, 2160), (1456, 819), 1560, "0.00468"),
    ("anthropic-async", "messages", (3840, 2160), (1456, 819), 1560, "0.00468"),
]


@pytest.mark.parametrize("kind, api, size, seen, tokens, usd", SHRINK)
def test_shrink_delivers_the_size_the_model_sees(server, kind, api, size, seen, tokens, usd):
    original = png(*size)
    whole, whole_usd = _whole(kind, api, tokens)
    client = costcalc.guard(_client(kind, server), max_tokens=whole, shrink=True)
    run(send(client, api, original))
    [record] = server.received
    assert record.headers["content-length"] == str(len(record.body))
    data, media = _image_of(record)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == seen
        assert media == Image.MIME[image.format]
    assert len(data) < len(original)
    assert whole_usd - TEXT[api] * RATE[kind.partition("-")[0]] == Decimal(usd)  # the image's, as the README says
    assert (client.costcalc.spent_tokens, client.costcalc.spent_usd, client.costcalc.shrunk_images) == (
        whole,
        whole_usd,
        1,
    )  # the same tokens as the original (and the README's figures), and the text


@pytest.mark.parametrize("kind, api", CALLS)
def test_shrink_leaves_an_image_already_small_enough_as_it_is(server, kind, api):
    # seen as it is: gpt-4o fits 2048 and has a short side under 768 (docs/openai.md); Claude fits 1568 px and
    # 1568 tokens (§6a)
    image = png(*{"openai": (700, 500), "anthropic": (1000, 1000)}[kind.partition("-")[0]])
    client = costcalc.guard(_client(kind, server), shrink=True)
    run(send(client, api, image))
    assert _image_of(server.received[0]) == (image, "image/png")
    assert client.costcalc.shrunk_images == 0


# ------------------------------------------------------------------ failing closed


@pytest.mark.parametrize("kind, api", CALLS)
def test_unknown_price_fails_closed(server, kind, api):
    model = "qwen3-vl-plus"  # in the model table, with no price (tables/prices/qwen.toml)
    assert costcalc.get_price(model) is None
    client = costcalc.guard(_client(kind, server), max_usd=100)
    with pytest.raises(BudgetExceeded, match="price unknown") as caught:
        run(send(client, api, png(64, 64), model=model))
    assert caught.value.estimate.usd is None
    totals = costcalc.guard(_client(kind, server), total_usd=100)
    with pytest.raises(BudgetExceeded, match="price unknown"):
        run(send(totals, api, png(64, 64), model=model))
    assert server.received == []
    tokens_only = costcalc.guard(_client(kind, server), max_tokens=10_000)  # its tokens are known
    run(send(tokens_only, api, png(64, 64), model=model))
    assert len(server.received) == 1
    assert (tokens_only.costcalc.requests, tokens_only.costcalc.unpriced_requests) == (1, 1)


def test_unknown_price_from_a_tables_file_of_ones_own(server, tmp_path):
    own = tmp_path / "prices.toml"
    own.write_text(
        '[[price]]\nnames = ["qwen3-vl-plus"]\nusd_per_1m_input = 1.0\nsource = "test"\ndate = "2026-11-22"\n'
        'checked = "2026-11-22"\n',
        encoding="utf-8",
    )
    client = costcalc.guard(_client("openai", server), max_usd=100, tables=costcalc.load_tables(own))
    run(send(client, "chat", png(64, 64), model="qwen3-vl-plus"))
    assert len(server.received) == 1 and client.costcalc.spent_usd > 0  # priced by the file, so sent


@pytest.mark.parametrize("kind, api", CALLS)
def test_an_image_it_cannot_price_fails_closed_under_a_limit(server, kind, api):
    remote = "https://images.example/photo.png"  # not fetched: its size is unknown
    client = costcalc.guard(_client(kind, server), max_usd=100)
    with pytest.raises(BudgetExceeded, match="could not be priced"):
        run(send(client, api, remote))
    assert server.received == []
    free = costcalc.guard(_client(kind, server))  # no limit: sent, counted as unpriced
    run(send(free, api, remote))
    assert len(server.received) == 1
    assert (free.costcalc.requests, free.costcalc.unpriced_requests) == (1, 1)


@pytest.mark.parametrize("kind, api", CALLS)
def test_an_unknown_model_under_a_limit_is_refused_with_its_own_error(server, kind, api):
    client = costcalc.guard(_client(kind, server, max_retries=2), max_usd=1)
    with pytest.raises(UnknownModelError, match="nonexistent-model") as caught:
        run(send(client, api, png(8, 8), model="nonexistent-model"))
    assert type(caught.value).__name__ == "UnknownModelError"  # not wrapped as a connection error
    assert server.received == []


# ------------------------------------------------------------------ what passes untouched, what counts


@pytest.mark.parametrize("kind", KINDS)
def test_other_endpoints_pass_untouched(server, kind):
    client = costcalc.guard(_client(kind, server), max_tokens=1, max_usd=0, total_usd=0)
    big = _content("messages" if kind.startswith("anthropic") else "responses", png(2000, 2000))

    async def scenario():
        page = client.models.list()
        if inspect.isawaitable(page):
            page = await page
        if kind.startswith("anthropic"):  # /v1/messages/count_tokens is free
            counted = client.messages.count_tokens(
                model=MODEL["anthropic"], messages=[{"role": "user", "content": big}]
            )
        else:  # /v1/responses/input_tokens is free
            counted = client.responses.input_tokens.count(model="gpt-4o", input=[{"role": "user", "content": big}])
        return await counted if inspect.isawaitable(counted) else counted

    assert run(scenario()).input_tokens == 3
    assert [(r.method, r.path) for r in server.received] == [
        ("GET", "/v1/models"),
        ("POST", "/v1/messages/count_tokens" if kind.startswith("anthropic") else "/v1/responses/input_tokens"),
    ]
    assert client.costcalc.requests == 0


@pytest.mark.parametrize("kind, api", CALLS)
def test_a_call_the_sdk_retries_counts_once(server, kind, api):
    size, _, _ = _small(kind)
    tokens, usd = _whole(kind, api)
    server.fail_first = [500, 503]
    client = costcalc.guard(_client(kind, server, max_retries=2), total_usd=usd)  # room for one call only
    run(send(client, api, png(*size)))
    assert len(server.posts()) == 3  # two failures, one answer: all one call
    assert [r.headers.get("x-stainless-retry-count") for r in server.posts()] == ["0", "1", "2"]
    assert (client.costcalc.requests, client.costcalc.spent_tokens, client.costcalc.spent_usd) == (1, tokens, usd)


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_that_never_left_is_not_spent(server, kind):
    api = APIS[kind.partition("-")[0]][0]
    size, _, _ = _small(kind)
    usd = _whole(kind, api)[1]
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = SimpleNamespace(url=f"http://127.0.0.1:{probe.getsockname()[1]}")
    sdk = _sdk(kind)
    unreachable = costcalc.guard(_client(kind, closed, max_retries=1), total_usd=usd)
    with pytest.raises(sdk.APIConnectionError):
        run(send(unreachable, api, png(*size)))
    assert (unreachable.costcalc.requests, unreachable.costcalc.spent_usd) == (0, 0)
    assert unreachable.costcalc._reserved == 0  # nothing left held against the total


@pytest.mark.parametrize("kind", ["openai", "openai-async"])
def test_a_responses_call_without_input_carries_no_image_but_unknown_text(server, kind):
    # the earlier response's input is billed again, and it is not in the body: a budget cannot hold
    def scenario(client):
        async def call():
            result = client.responses.create(model="gpt-4o", previous_response_id="resp_0")
            return await result if inspect.isawaitable(result) else result

        return call()

    limited = costcalc.guard(_client(kind, server), max_usd=100)
    with pytest.raises(BudgetExceeded, match="previous_response_id"):
        run(scenario(limited))
    assert server.received == []
    client = costcalc.guard(_client(kind, server))
    run(scenario(client))
    assert [(r.path, json.loads(r.body)) for r in server.received] == [
        ("/v1/responses", {"model": "gpt-4o", "previous_response_id": "resp_0"})
    ]
    assert (client.costcalc.requests, client.costcalc.spent_tokens, client.costcalc.unpriced_requests) == (1, 0, 1)
    assert client.costcalc.last.images == ()


def test_identical_calls_each_count(server):
    size, _, _ = _small("openai")
    tokens = _whole("openai", "chat")[0]
    image = png(*size)
    client = costcalc.guard(_client("openai", server))
    for _ in range(3):
        run(send(client, "chat", image))
    assert (client.costcalc.requests, client.costcalc.spent_tokens) == (3, 3 * tokens)


@pytest.mark.parametrize("kind, api", CALLS)
def test_batch_tier_halves_the_spend(server, kind, api):
    size, _, _ = _small(kind)
    usd = _whole(kind, api)[1]
    client = costcalc.guard(_client(kind, server), tier="batch")
    run(send(client, api, png(*size)))
    assert client.costcalc.spent_usd == usd / 2  # docs/prices.md: Batch 50% off (OpenAI, Anthropic)


def test_derived_clients_share_the_guard(server):
    size, _, _ = _small("openai")
    usd = _whole("openai", "chat")[1]
    client = costcalc.guard(_client("openai", server), total_usd=usd)
    derived = client.with_options(timeout=30)
    run(send(derived, "chat", png(*size)))
    with pytest.raises(BudgetExceeded):
        run(send(client, "chat", png(*size)))
    assert len(server.received) == 1 and client.costcalc.requests == 1
    with pytest.raises(GuardError, match="already guarded"):
        costcalc.guard(derived)


# ------------------------------------------------------------------ arguments, imports


def test_only_sdk_clients_and_real_limits_are_taken(server):
    httpx2 = pytest.importorskip("httpx2")
    for thing in (object(), httpx2.Client(), "openai.OpenAI"):
        with pytest.raises(GuardError, match="cannot guard"):
            costcalc.guard(thing)
    for bad in ({"max_tokens": -1}, {"max_tokens": True}, {"max_tokens": 1.5}, {"max_usd": "lots"}, {"total_usd": -2}):
        with pytest.raises(GuardError, match=next(iter(bad))):
            costcalc.guard(_client("openai", server), **bad)
    with pytest.raises(TierError, match="no tier"):
        costcalc.guard(_client("openai", server), tier="cheapest")
    client = costcalc.guard(_client("anthropic", server))
    with pytest.raises(GuardError, match="already guarded"):
        costcalc.guard(client)


def test_import_costcalc_imports_no_sdk():
    code = (
        "import sys, costcalc; costcalc.guard; costcalc.BudgetExceeded; "
        "print(sorted({m.partition('.')[0] for m in sys.modules} & {'openai', 'anthropic', 'httpx2', 'anyio'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ the accounting, as a property


@settings(max_examples=150, deadline=None)
@given(costs=st.lists(st.tuples(st.integers(0, 5_000), st.booleans()), max_size=12), total=st.integers(0, 20_000))
def test_spend_never_passes_total_and_counts_each_sent_call_once(costs, total):
    """Whatever calls come, and whichever never leave: spent = the sum of the calls sent, never over total_usd,
    and a call is refused exactly when the spend so far plus its cost would pass the total."""
    from costcalc.guarding import Guard, _Ticket
    from costcalc.pricing.request import RequestEstimate

    guard = Guard(total_usd=Decimal(total) / 10**6, sdk="openai")
    request = SimpleNamespace(method="POST", url=SimpleNamespace(path="/v1/chat/completions"))
    spent, sent = Decimal(0), 0
    for cents, leaves in costs:
        usd = Decimal(cents) / 10**6
        estimate = RequestEstimate("gpt-4o", (), cents, usd, 0, 0, (), budget_tokens=cents, budget_usd=usd)
        ticket = _Ticket(b"", estimate, None)
        if spent + usd > guard.total_usd:
            with pytest.raises(BudgetExceeded):
                guard.admit(ticket, request)
            continue
        guard.admit(ticket, request)
        guard.settle(ticket, sent=leaves)
        guard.settle(ticket, sent=leaves)  # a second settle (an SDK retry) changes nothing
        spent, sent = (spent + usd, sent + 1) if leaves else (spent, sent)
    assert guard.spent_usd == spent <= guard.total_usd
    assert guard.requests == sent
    assert guard._reserved == 0
