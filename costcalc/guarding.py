"""costcalc.guard: a budget on an openai or anthropic SDK client, checked before any byte leaves (docs/README.md).

The official SDKs send through an httpx2 client (their `http_client=`, docs/README.md). The guard
wraps that client's `send`: each POST to Chat Completions (`…/chat/completions`) or
Responses (`…/responses`) on an OpenAI client, or to Messages (`…/messages`) on an
Anthropic client, is priced from its JSON body by pricing.request.count_request and, over
a limit, refused with BudgetExceeded before it reaches the transport. Every other request
(models.list, count_tokens, `/responses/input_tokens`, batches, files) passes untouched.

How the SDKs treat an exception raised by `send` (read in openai 3.51.0 and anthropic
2.10.0, `_base_client.py`): openai re-raises an OpenAIError as it is and wraps only
httpx2.RequestError, ssl.SSLError and anyio.EndOfStream; anthropic re-raises an
AnthropicError as it is and wraps anything else in APIConnectionError, which it retries.
So each error the guard raises is made an instance of the SDK's own base error too
(openai.OpenAIError, anthropic.AnthropicError): both SDKs hand it to the caller unchanged
and neither retries it (their retries key on APIConnectionError, APIStatusError and
RetryableError). `except costcalc.BudgetExceeded` catches it.

Wrapping `send`, not the transport, puts the guard before httpx2's auth step, so a body
it shrinks is the one an auth flow signs. The SDKs themselves are never imported here:
a client is recognised by its class's module and name.
"""

from __future__ import annotations

import base64
import json
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module

from .catalog.tables import Tables, check_tier
from .errors import BudgetExceeded, CostcalcError, GuardError, RequestError
from .inspection.jsontext import loads
from .money import MONEY, parse_usd, usd_sum
from .pricing.request import RequestEstimate, budget_problems, count_request
from .vendors import sdk_routes

__all__ = ["Guard", "guard"]

CLIENTS = {
    ("openai", "OpenAI"): False,
    ("openai", "AsyncOpenAI"): True,
    ("anthropic", "Anthropic"): False,
    ("anthropic", "AsyncAnthropic"): True,
}
"""(SDK package, client class) the guard takes, and whether the client is async."""

PRICED_PATHS = sdk_routes()
"""The endpoints a guard prices, by the end of the URL path (POST only), as the vendor shapes name them
(openai: `/chat/completions`, `/responses`; anthropic: `/messages`). `/responses/input_tokens`,
`/messages/count_tokens` and `/messages/batches` end otherwise and pass untouched; so does the
Assistants API's `/threads/{id}/messages`, since an OpenAI client prices no `/messages`."""

SDK_ERRORS = {"openai": "OpenAIError", "anthropic": "AnthropicError"}
"""The base error of each SDK, which it passes to the caller unchanged and does not retry (see above)."""

UNSENT = ("ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol")
"""httpx2 errors raised before any byte of a request leaves: such an attempt is not spent."""

RETRY_HEADER = "x-stainless-retry-count"
"""The header both SDKs number their attempts of one call with (0 first)."""


@dataclass
class _Ticket:
    """One priced call: its estimate (None when unpriced), the body it sends, and whether it is spent."""

    sdk_body: bytes
    """The body the SDK gave (kept by reference: a retry is recognised by an equal body, a memcmp)."""
    estimate: RequestEstimate | None
    body: bytes | None
    """The body to send instead of the SDK's (shrunk images); None to send the SDK's own."""
    shrunk: int = 0
    """Inline images this body sends smaller (shrink=True)."""
    reserved: bool = False
    spent: bool = False

    def request(self, request):
        """`request`, or a copy carrying the shrunk body (its Content-Length set anew)."""
        if self.body is None:
            return request
        headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"content-length"]
        return type(request)(
            request.method, request.url, headers=headers, content=self.body, extensions=request.extensions
        )


_LAST: ContextVar[tuple[Guard, _Ticket] | None] = ContextVar("costcalc_guard_last", default=None)
"""The last call priced in this thread or task: an SDK retries a call in the context that made it."""


@dataclass(eq=False)
class Guard:
    """The budget on one guarded client, and what it has spent; read it as `client.costcalc`."""

    max_tokens: int | None = None
    max_usd: Decimal | None = None
    total_usd: Decimal | None = None
    tier: str | None = None
    """The service tier the requests are priced at (docs/prices.md); None for count_request's default, standard."""
    shrink: bool = False
    tables: Tables | None = field(default=None, repr=False)
    fetch: bool = False
    spent_usd: Decimal = Decimal(0)
    """USD of the requests sent since the last reset, as check_budget measures a request (its whole input, images
    and text: `RequestEstimate.budget_usd`, text bounded above for vendors other than OpenAI); those of unknown
    price not included (see `unpriced_requests`)."""
    spent_tokens: int = 0
    """Input tokens of the requests sent since the last reset, images and text (`budget_tokens`, what max_tokens
    limits), those priced."""
    requests: int = 0
    """Priced-endpoint requests sent since the last reset, each counted once however often the SDK retried it."""
    unpriced_requests: int = 0
    """Of those, the ones whose cost is not wholly known (an image or a price unknown): not in the totals."""
    shrunk_images: int = 0
    """Inline images sent smaller (shrink=True) since the last reset."""
    last: RequestEstimate | None = field(default=None, repr=False)
    """The estimate of the last request sent."""
    sdk: str = ""
    sdk_error: type | None = field(default=None, repr=False)
    """The SDK's base error, which each refusal is made an instance of too (module docstring)."""
    _reserved: Decimal = field(default=Decimal(0), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def limited(self) -> bool:
        """Whether any limit is set (a request that cannot be priced is then refused)."""
        return self.max_tokens is not None or self.max_usd is not None or self.total_usd is not None

    def reset(self) -> None:
        """Start the totals again from zero (limits kept; requests in flight still count when they are sent)."""
        with self._lock:
            self.spent_usd, self.spent_tokens, self.requests = Decimal(0), 0, 0
            self.unpriced_requests, self.shrunk_images, self.last = 0, 0, None

    # ---------------------------------------------------------- one call: price, admit, settle

    def prices(self, request) -> bool:
        """Whether `request` goes to an endpoint this guard prices (PRICED_PATHS)."""
        return request.method == "POST" and request.url.path.rstrip("/").endswith(PRICED_PATHS[self.sdk])

    def retried(self, request, body: bytes) -> _Ticket | None:
        """The ticket of the call this attempt retries (same guard, context and body bytes, and a retry count
        over 0), or None. The SDK sends a retry with the very body object, so `is` usually answers; `==` is a
        memcmp otherwise: exact, and far cheaper than hashing the body."""
        last = _LAST.get()
        if last is None or last[0] is not self:
            return None
        try:
            attempt = int(request.headers.get(RETRY_HEADER, "0"))
        except ValueError:
            return None
        if attempt <= 0:
            return None
        previous = last[1].sdk_body
        return last[1] if previous is body or previous == body else None

    def price(self, request, body: bytes) -> _Ticket:
        """A new call's ticket: its body shrunk when asked, and priced; under a limit, the error it cannot be
        priced for is raised (a budget gate fails closed), without one the call goes unpriced."""
        try:
            estimate = self._count_body(request, body)
            if not self.shrink:
                return _Ticket(body, estimate, None)
            document = loads(body)
            shrunk = _shrink(document, estimate, self.tables)
            if not shrunk:
                return _Ticket(body, estimate, None)
            sent = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            return _Ticket(body, self._count(sent), sent, shrunk)
        except CostcalcError as error:
            if self.limited:
                raise _sdk_error(error, self.sdk_error) from None
            return _Ticket(body, None, None)

    def _count_body(self, request, body: bytes) -> RequestEstimate:
        """The estimate of a body as sent. A Responses body without `input` (a stored prompt, or a conversation
        continued by id) carries no image: it is priced as an empty input."""
        try:
            return self._count(body)
        except RequestError:
            try:
                document = loads(body)
            except ValueError:
                raise RequestError("the request body is not JSON") from None
            if not (
                isinstance(document, dict)
                and "input" not in document
                and request.url.path.rstrip("/").endswith("/responses")
            ):
                raise
            return self._count({**document, "input": []})

    def _count(self, payload) -> RequestEstimate:
        options = {"tier": self.tier} if self.tier is not None else {}
        return count_request(payload, tables=self.tables, fetch=self.fetch, **options)

    def start(self, request, ticket: _Ticket):
        """The request to send for this attempt of a call, once admitted (BudgetExceeded when it is over)."""
        _LAST.set((self, ticket))
        try:
            self.admit(ticket, request)
        except CostcalcError as error:
            raise _sdk_error(error, self.sdk_error) from None
        try:
            return ticket.request(request)
        except BaseException:
            self.settle(ticket, sent=False)
            raise

    def admit(self, ticket: _Ticket, request) -> None:
        """Check a call against the limits and reserve its USD toward total_usd; BudgetExceeded when it is over."""
        estimate = ticket.estimate
        if estimate is None or ticket.spent:  # unpriced without a limit, or a retry of a call already admitted
            return
        problems = budget_problems(estimate, self.max_tokens, self.max_usd)
        with self._lock:
            if self.total_usd is not None:
                problems += self._total_problems(estimate)
            if problems:
                where = f"{request.method} {request.url.path}"
                raise BudgetExceeded(f"{where} not sent: {'; '.join(problems)}", estimate)
            if estimate.budget_usd is not None:
                self._reserved = usd_sum((self._reserved, estimate.budget_usd))
            ticket.reserved = True

    def _total_problems(self, estimate: RequestEstimate) -> list[str]:
        """Why a request would break total_usd, summed over what is spent and in flight; fails closed."""
        total = self.total_usd
        if estimate.unpriced:
            return [f"{estimate.unpriced} image(s) could not be priced, so total_usd {total:f} cannot be kept"]
        if estimate.budget_tokens is None:
            return [
                f"{estimate.model}: the request's text could not be counted or bounded, so total_usd {total:f} "
                f"cannot be kept"
            ]
        if estimate.budget_usd is None:
            return [f"{estimate.model}: price unknown, so total_usd {total:f} cannot be kept"]
        before = usd_sum((self.spent_usd, self._reserved))
        after = usd_sum((before, estimate.budget_usd))
        if after <= total:
            return []
        money = MONEY.normalize
        bounded = " (text bounded above)" if estimate.budget_basis != "exact" else ""
        return [
            (
                f"{estimate.model}{bounded}: ${money(estimate.budget_usd):f} on top of ${money(before):f} spent "
                f"comes to ${money(after):f}, over total_usd {total:f}"
            )
        ]

    def settle(self, ticket: _Ticket, sent: bool) -> None:
        """After an attempt: free its reservation; when it was sent, count the call (once, whatever the retries)."""
        estimate = ticket.estimate
        with self._lock:
            if ticket.reserved:
                ticket.reserved = False
                if estimate is not None and estimate.budget_usd is not None:
                    self._reserved = usd_sum((self._reserved, -estimate.budget_usd))
            if not sent or ticket.spent:
                return
            ticket.spent = True
            self.requests += 1
            self.shrunk_images += ticket.shrunk
            self.last = estimate
            if estimate is None or estimate.budget_usd is None or estimate.unpriced:
                self.unpriced_requests += 1
            if estimate is not None:
                self.spent_tokens += estimate.budget_tokens or 0
                if estimate.budget_usd is not None:
                    self.spent_usd = usd_sum((self.spent_usd, estimate.budget_usd))


# ------------------------------------------------------------------ guarding a client


def guard(
    client,
    *,
    max_tokens: int | None = None,
    max_usd: Decimal | float | str | None = None,
    total_usd: Decimal | float | str | None = None,
    tier: str | None = None,
    shrink: bool = False,
    tables: Tables | None = None,
    fetch: bool = False,
):
    """The client (openai.OpenAI / AsyncOpenAI, anthropic.Anthropic / AsyncAnthropic), guarded (docs/README.md).

    Before any byte leaves, each Chat Completions, Responses or Messages request is priced
    from its body (count_request, with `tables` and `fetch` as there), its whole input as
    check_budget counts it (images and text: OpenAI text exact, other vendors' text bounded
    above, `RequestEstimate.budget_tokens`); one over `max_tokens`
    or `max_usd`, or one that would bring the client's spend over `total_usd`, raises
    BudgetExceeded (carrying the estimate) and is not sent. Fails closed like check_budget:
    under a limit, an image or a price it cannot know is over, and a body it cannot price is
    refused with the error why. `shrink` sends inline base64 images at the size the model
    works from (same tokens). The spend is `client.costcalc` (a Guard; `.reset()`).
    Clients derived with `with_options()`/`copy()` share the HTTP client, so the guard too.
    """
    sdk, is_async = _client_kind(client)
    http = getattr(client, "_client", None)
    send = getattr(http, "send", None)
    if not callable(send):
        raise GuardError(f"cannot guard this {type(client).__name__}: it has no HTTP client to guard")
    if getattr(send, "costcalc_guard", None) is not None:
        raise GuardError(
            f"this {type(client).__name__} client is already guarded: its HTTP client carries a guard "
            f"(shared, perhaps, with the client it was derived from by with_options or copy; read "
            f"that client's .costcalc)"
        )
    state = Guard(
        max_tokens=_whole("max_tokens", max_tokens),
        max_usd=_dollars("max_usd", max_usd),
        total_usd=_dollars("total_usd", total_usd),
        tier=None if tier is None else check_tier(tier),
        shrink=bool(shrink),
        tables=tables,
        fetch=bool(fetch),
        sdk=sdk,
        sdk_error=getattr(import_module(sdk), SDK_ERRORS[sdk]),  # the SDK is imported already: its client exists
    )
    wrapped = (_async_send if is_async else _sync_send)(state, send)
    wrapped.costcalc_guard = state
    http.send = wrapped
    client.costcalc = state
    return client


def _client_kind(client) -> tuple[str, bool]:
    """(SDK package, whether async) of a client the guard takes, by its class (or a base class) module and name."""
    for cls in type(client).__mro__:
        key = (cls.__module__.partition(".")[0], cls.__name__)
        if key in CLIENTS:
            return key[0], CLIENTS[key]
    names = ", ".join(f"{package}.{name}" for package, name in CLIENTS)
    raise GuardError(f"cannot guard a {type(client).__module__}.{type(client).__qualname__}: the guard takes {names}")


def _whole(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GuardError(f"{name} must be a whole number of tokens, 0 or more, not {value!r}")
    return value


def _dollars(name: str, value) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_usd(str(value))
    except ValueError as error:
        raise GuardError(f"{name}: {error}") from None


# ------------------------------------------------------------------ the wrapped send


def _sync_send(state: Guard, send):
    """httpx2.Client.send, priced first (module docstring)."""

    def guarded_send(request, *args, **kwargs):
        if not state.prices(request):
            return send(request, *args, **kwargs)
        body = request.read()
        ticket = state.retried(request, body)
        if ticket is None:
            ticket = state.price(request, body)
        outgoing = state.start(request, ticket)
        try:
            response = send(outgoing, *args, **kwargs)
        except BaseException as error:
            state.settle(ticket, sent=not _unsent(error))
            raise
        state.settle(ticket, sent=True)
        return response

    return guarded_send


def _async_send(state: Guard, send):
    """httpx2.AsyncClient.send, priced first; pricing and shrinking run in a worker thread (anyio, as the SDKs use)."""

    async def guarded_send(request, *args, **kwargs):
        if not state.prices(request):
            return await send(request, *args, **kwargs)
        from anyio import to_thread

        body = await request.aread()
        ticket = state.retried(request, body)
        if ticket is None:
            ticket = await to_thread.run_sync(state.price, request, body)
        outgoing = state.start(request, ticket)
        try:
            response = await send(outgoing, *args, **kwargs)
        except BaseException as error:
            state.settle(ticket, sent=not _unsent(error))
            raise
        state.settle(ticket, sent=True)
        return response

    return guarded_send


def _unsent(error: BaseException) -> bool:
    """Whether an attempt failed before any byte of it left (UNSENT); anything else may have reached the API."""
    return any(cls.__name__ in UNSENT and cls.__module__.startswith(("httpx2", "httpx")) for cls in type(error).__mro__)


_MIXED: dict[tuple[type, type], type] = {}


def _sdk_error(error: CostcalcError, base: type | None) -> CostcalcError:
    """`error`, made an instance of the SDK's base error too, so the SDK passes it on unchanged (module docstring)."""
    if base is None or isinstance(error, base):
        return error
    key = (type(error), base)
    if key not in _MIXED:
        _MIXED[key] = type(
            key[0].__name__,
            key,
            {"__module__": key[0].__module__, "__qualname__": key[0].__qualname__, "__doc__": key[0].__doc__},
        )
    error.__class__ = _MIXED[key]
    return error


# ------------------------------------------------------------------ shrink


def _shrink(document: dict, estimate: RequestEstimate, tables: Tables | None) -> int:
    """Inline base64 images of `document` replaced, in place, by the size the model works from
    (costcalc.optimize, same tokens); how many. Each image is found by the JSON path its vendor shape gave
    (costcalc.vendors): a data URL is replaced by a data URL; bare base64 only where the part declares its
    media type beside it (Anthropic, Gemini), which is replaced too. Only priced images larger than that
    size are touched; an image the API refuses to downscale (computer-use screenshots, oversized_image:
    error) is unpriced when oversized, so left as it is."""
    from .preflight.optimize import optimize

    count = 0
    for image in estimate.images:
        if image.error is not None or image.width is None or image.data_path is None:
            continue
        owner, key = _slot(document, image.data_path)
        text = owner[key] if owner is not None else None
        is_url = isinstance(text, str) and text[:5].lower() == "data:" and "," in text[:512]
        media = _slot(document, image.media_path) if image.media_path is not None else (None, None)
        if not isinstance(text, str) or not (is_url or media[0] is not None):
            continue
        try:
            data = base64.b64decode(text[text.index(",") + 1 :] if is_url else text)
            out = optimize(data, model=estimate.model, detail=image.detail, tables=tables)
        except (CostcalcError, ValueError):
            continue  # left as it is: priced as it is sent
        if out.width * out.height >= image.width * image.height:
            continue
        if is_url:
            owner[key] = out.as_data_url()
        else:
            owner[key] = base64.b64encode(out.data).decode("ascii")
            media[0][media[1]] = out.mime
        count += 1
    return count


def _slot(document, path: tuple) -> tuple[dict | list | None, str | int | None]:
    """(the object or list holding the value at a JSON path, its key); (None, None) when the path leads nowhere."""
    node = document
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None, None
    if isinstance(node, dict) and path and path[-1] in node:
        return node, path[-1]
    if isinstance(node, list) and path and isinstance(path[-1], int) and path[-1] < len(node):
        return node, path[-1]
    return None, None
