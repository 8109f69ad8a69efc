"""Reading a remote image's header over HTTP(S), and nothing more (SPEC §3; issue 9, safe fetching).

Only http and https; at most `max_redirects` redirects, each hop checked again;
at most `max_bytes` read; one deadline for the whole call, name lookups
included, however the server behaves (every connect, read and write gets the
time left, no more). The connection is closed as soon as the header is read.

The address rule (issue 9; the hole of CVE-2026-26013): a host name is resolved
first, every address it resolves to is checked, and the socket is connected to
a checked address, so no second lookup can swap in another one (DNS
rebinding). Loopback, private, link-local, shared (CGNAT), reserved and other
non-global addresses, IPv4-mapped IPv6 forms of them included, are refused
unless `allow_private=True`; multicast and unspecified
addresses are never fetched, since no image server can listen there.

Proxies come from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
NO_PROXY, in either case). Through a proxy the proxy resolves the name and
connects, so only what the URL itself says can be checked here: a literal IP
address (any spelling the C library accepts) must pass the address rule, and
`localhost` or a name under `.localhost` is refused; which other names the proxy
may reach is the proxy's job. The proxy itself, set by whoever runs costcalc, is
not checked.

The HTTP client is httpx2 (`pip install 'costcalc[fetch]'`), imported only here
and only when a URL is fetched.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
import urllib.request
from functools import cache
from typing import Any, NamedTuple

from ..errors import CostcalcError, ImageReadError
from ..words import escape
from .headers import HEAD_BYTES, ImageInfo, inspect_reader

__all__ = [
    "Answer",
    "RemoteImage",
    "inspect_url",
    "post_json",
    "fetch_document",
    "address_refusal",
    "TIMEOUT",
    "MAX_BYTES",
    "MAX_REDIRECTS",
    "INSTALL_HINT",
]

TIMEOUT = 10.0
"""Seconds for one URL, name lookup to last byte, redirects included."""
MAX_BYTES = 1 << 20
"""Bytes read at most from one URL."""
MAX_REDIRECTS = 5
"""Redirects followed at most for one URL."""
INSTALL_HINT = "fetching URLs needs httpx2: pip install 'costcalc[fetch]'"
"""The one line shown when httpx2 is missing."""

_REDIRECTS = (301, 302, 303, 307, 308)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_SPECIAL = tuple(map(ipaddress.ip_network, ("192.0.0.0/24", "198.18.0.0/15", "100.64.0.0/10", "240.0.0.0/4")))
"""IANA special-purpose ranges (RFC 6890, 2544, 6598, 1112) refused whatever this Python's ipaddress says of them."""
_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")


class RemoteImage(NamedTuple):
    """A remote image's header facts and how many bytes were read to get them."""

    info: ImageInfo
    bytes_read: int
    url: str
    """The URL the image came from, after redirects."""


_UNSPECIFIED, _MULTICAST = "an unspecified address", "a multicast address"


class _Failure(Exception):
    """Why one URL cannot be read: a refused host or address, a bad URL, a status (inspect_url adds where)."""


def address_refusal(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str | None:
    """Why the address rule refuses to connect to `address` ('a loopback address', ...), or None to allow it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
            ip = ip.ipv4_mapped
        elif ip in _NAT64:  # 64:ff9b::7f00:1 reaches 127.0.0.1 behind a NAT64 gateway
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_unspecified:
        return _UNSPECIFIED
    if ip.is_multicast:
        return _MULTICAST
    if allow_private:
        return None
    for kind, test in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("special-purpose", any(ip in net for net in _SPECIAL)),
        ("non-public", not ip.is_global),
    ):
        if test:
            return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
    return None


def _refused(host: str, reason: str) -> _Failure:
    """The one-line refusal, saying how to lift it where allow_private can."""
    lift = "" if reason in (_UNSPECIFIED, _MULTICAST) else "; pass allow_private=True to allow it"
    return _Failure(f"refusing to fetch from {host}: {reason}{lift}")


def _literal_address(host: str) -> str | None:
    """The address a host written as an IP literal stands for (`127.1` and `2130706433` too), or None for a name."""
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefABCDEFxX." for c in host) and host[0].isdigit():
        try:
            return socket.inet_ntoa(socket.inet_aton(host))  # the C library's forms: 127.1, 0x7f.1, 2130706433
        except OSError:
            return None
    return None


def _check_host_for_proxy(host: str, allow_private: bool) -> None:
    """Through a proxy: refuse what the URL itself shows to be private (the proxy resolves names)."""
    if allow_private:
        return
    lowered = host.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost"):
        raise _refused(host, "a loopback name")
    address = _literal_address(host)
    reason = address and address_refusal(address, allow_private)
    if reason:
        raise _refused(host, reason)


def _resolve(host: str, port: int, deadline: float, httpcore2) -> list[str]:
    """Every address `host` resolves to, within the deadline (getaddrinfo runs in a thread not waited for past it)."""
    literal = _literal_address(host)
    if literal is not None:
        return [host if "%" in host else literal]  # an IPv6 zone (fe80::1%eth0) is kept for the connect
    answer: list[Any] = []

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as error:  # gaierror, UnicodeError: reported below
            answer.append(error)

    thread = threading.Thread(target=lookup, name="costcalc-resolve", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if not answer:
        raise httpcore2.ConnectTimeout(f"looking up {host} took too long")
    if isinstance(answer[0], Exception):
        raise httpcore2.ConnectError(f"cannot resolve {host}: {answer[0]}")
    addresses = list(dict.fromkeys(str(info[4][0]) for info in answer[0]))
    if not addresses:
        raise httpcore2.ConnectError(f"cannot resolve {host}: no address")
    return addresses


@cache
def _ssl_context():
    """One verifying TLS context for the process (building one reads the CA store)."""
    import httpcore2

    return httpcore2.default_ssl_context()


@cache
def _network(httpcore2):
    """The httpcore2 pieces: a network backend that checks and pins addresses, and a deadline-bound stream."""

    class Stream(httpcore2.NetworkStream):
        """A socket stream whose every operation gets at most the time left before the deadline."""

        def __init__(self, inner, deadline: float):
            self.inner, self.deadline = inner, deadline

        def _left(self, timeout: float | None, kind) -> float:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise kind("deadline reached")
            return left if timeout is None else min(timeout, left)

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self.inner.read(max_bytes, self._left(timeout, httpcore2.ReadTimeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.inner.write(buffer, self._left(timeout, httpcore2.WriteTimeout))

        def close(self) -> None:
            self.inner.close()

        def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
            left = self._left(timeout, httpcore2.ConnectTimeout)
            return Stream(self.inner.start_tls(ssl_context, server_hostname, left), self.deadline)

        def get_extra_info(self, info: str) -> Any:
            return self.inner.get_extra_info(info)

    class Backend(httpcore2.NetworkBackend):
        """connect_tcp resolves the host, checks every address (when `checked`), and connects to a checked one."""

        def __init__(self, deadline: float, checked: bool, allow_private: bool):
            self.deadline, self.checked, self.allow_private = deadline, checked, allow_private
            self.inner = httpcore2.SyncBackend()

        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            addresses = _resolve(host, port, self.deadline, httpcore2)
            if self.checked:
                # every answer must pass: a name must not mix a public address with a private one
                for address in addresses:
                    reason = address_refusal(address, self.allow_private)
                    if reason:
                        raise _refused(host if address == host else f"{host} ({address})", reason)
            failure: Exception | None = None
            for address in addresses:  # an IP literal: the inner backend looks nothing up again
                left = self.deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    stream = self.inner.connect_tcp(
                        address, port, min(timeout or left, left), local_address, socket_options
                    )
                    return Stream(stream, self.deadline)
                except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as error:
                    failure = error
            raise failure or httpcore2.ConnectTimeout("deadline reached")

        def connect_unix_socket(self, path, timeout=None, socket_options=None):
            raise httpcore2.ConnectError("unix sockets are not fetched")

    return Backend


def _proxy_for(url) -> str | None:
    """The proxy the environment names for this URL (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY; NO_PROXY), or None."""
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass_environment(url.raw_host.decode("ascii"), proxies):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _transport(httpx2, httpcore2, backend, proxy: str | None):
    """An httpx2 transport whose connections all go through `backend`."""
    context = _ssl_context()
    transport = httpx2.HTTPTransport(verify=context, trust_env=False)
    # HTTPTransport takes no network backend (as in httpx), so its pool is replaced by one that uses ours.
    if proxy is None:
        transport._pool = httpcore2.ConnectionPool(ssl_context=context, max_connections=1, network_backend=backend)
        return transport
    try:
        settings = httpx2.Proxy(url=proxy)
    except (httpx2.InvalidURL, ValueError) as error:
        raise _Failure(f"proxy {proxy} from the environment is not a valid URL: {error}") from None
    if settings.url.scheme not in ("http", "https"):
        raise _Failure(f"proxy {proxy}: only http and https proxies are supported")
    transport._pool = httpcore2.HTTPProxy(
        proxy_url=httpcore2.URL(
            scheme=settings.url.raw_scheme,
            host=settings.url.raw_host,
            port=settings.url.port,
            target=settings.url.raw_path,
        ),
        proxy_auth=settings.raw_auth,
        proxy_headers=settings.headers.raw,
        ssl_context=context,
        proxy_ssl_context=settings.ssl_context,
        max_connections=1,
        network_backend=backend,
    )
    return transport


def _check_url(httpx2, url):
    """The URL parsed and checked: http(s), a host, a port in range; _Failure naming what is wrong."""
    parsed = url if isinstance(url, httpx2.URL) else httpx2.URL(url)
    if parsed.scheme not in ("http", "https"):
        raise _Failure(f"refusing to fetch a {parsed.scheme or 'scheme-less'} URL: only http and https")
    host = parsed.raw_host.decode("ascii", "replace")
    if not host:
        raise _Failure("not a valid URL: no host")
    if ":" not in host and not set(host) <= _HOST_CHARACTERS:
        raise _Failure(f"not a valid URL: bad host name {parsed.host!r}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise _Failure(f"not a valid URL: port {parsed.port} is out of range")
    return parsed


def inspect_url(
    url: str,
    *,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    name: str | None = None,
    allow_private: bool = False,
) -> RemoteImage:
    """The header facts of the image at an http(s) URL, reading no more than the header needs.

    Private, loopback, link-local and reserved addresses are refused unless
    `allow_private`; ImageReadError (one line) for anything that goes wrong.
    """
    where = _printable(name or str(url))
    try:
        import httpcore2
        import httpx2
    except ImportError:
        raise ImageReadError(f"{where}: {INSTALL_HINT}") from None
    deadline = time.monotonic() + timeout
    Backend = _network(httpcore2)
    try:
        current = _check_url(httpx2, url)
        for _ in range(max_redirects + 1):
            image_or_redirect = _get(httpx2, httpcore2, Backend, current, deadline, max_bytes, where, allow_private)
            if isinstance(image_or_redirect, RemoteImage):
                return image_or_redirect
            current = image_or_redirect
        raise _Failure(f"more than {max_redirects} redirects")
    except _Failure as error:
        raise ImageReadError(f"{where}: {_printable(str(error))}") from None
    except CostcalcError:
        raise  # the header parser's own verdict, naming `where` already
    except (httpx2.TimeoutException, TimeoutError):
        raise ImageReadError(f"{where}: no answer within {timeout:g} s") from None
    except httpx2.InvalidURL as error:
        raise ImageReadError(f"{where}: not a valid URL: {_printable(str(error))}") from None
    except (httpx2.HTTPError, httpx2.StreamError, OSError, ValueError, UnicodeError) as error:
        raise ImageReadError(f"{where}: cannot fetch: {_printable(str(error)) or type(error).__name__}") from None


def _get(httpx2, httpcore2, Backend, current, deadline: float, max_bytes: int, where: str, allow_private: bool):
    """One GET of the checked URL `current`, direct or through the environment's proxy: the RemoteImage of the
    image it answers, or the checked URL it redirects to."""
    proxy = _proxy_for(current)
    if proxy is not None:
        _check_host_for_proxy(current.host, allow_private)
    backend = Backend(deadline, checked=proxy is None, allow_private=allow_private)
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpx2.TimeoutException("deadline reached")
    with (
        httpx2.Client(
            transport=_transport(httpx2, httpcore2, backend, proxy),
            trust_env=False,
            follow_redirects=False,
            timeout=left,
            headers=_request_headers(max_bytes),
        ) as client,
        client.stream("GET", current) as response,
    ):
        if response.status_code in _REDIRECTS:
            return _redirect_target(httpx2, current, response)
        if response.status_code not in (200, 206):
            raise _Failure(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
        body = _Body(response.iter_bytes(), deadline, max_bytes)
        body.pull(HEAD_BYTES)
        info = inspect_reader(bytes(body.buffer[:HEAD_BYTES]), body.read, _total(response), name=where, body=False)
        return RemoteImage(info, len(body.buffer), str(current))


def _request_headers(max_bytes: int) -> dict[str, str]:
    """A ranged request for the first `max_bytes` bytes of an image, not compressed in transit."""
    return {
        "Range": f"bytes=0-{max_bytes - 1}",
        "Accept": "image/*",
        "Accept-Encoding": "identity",
        "User-Agent": "costcalc",
    }


def _redirect_target(httpx2, current, response):
    """The checked URL a redirect response points to; _Failure when it gives none."""
    location = response.headers.get("Location")
    if not location:
        raise _Failure(f"redirect {response.status_code} without a Location")
    return _check_url(httpx2, current.join(location))


class Answer:
    """A whole HTTP answer read within a deadline and a byte cap: status, reason, headers, body."""

    def __init__(self, status_code: int, reason_phrase: str, headers, content: bytes):
        self.status_code, self.reason_phrase, self.headers, self.content = status_code, reason_phrase, headers, content

    def json(self) -> Any:
        """The body as JSON (ValueError if it is not)."""
        return json.loads(self.content)


def post_json(url: str, body: Any, headers: dict[str, str], *, timeout: float, max_bytes: int) -> Answer:
    """POST `body` as JSON and read the whole answer within one deadline of `timeout` seconds for the whole exchange
    (name lookup, connect, send, every read: a server that drips a byte at a time ends at the deadline), reading at
    most `max_bytes` of the body. Private addresses are allowed (the caller named the endpoint); proxies from the
    environment are used as for fetching. ConnectionError with a one-line reason for any failure; ImportError
    without httpx2."""
    import httpcore2
    import httpx2

    deadline = time.monotonic() + timeout
    try:
        parsed = _check_url(httpx2, url)
        backend = _network(httpcore2)(deadline, checked=False, allow_private=True)
        transport = _transport(httpx2, httpcore2, backend, _proxy_for(parsed))
        with httpx2.Client(transport=transport, trust_env=False, follow_redirects=False, timeout=timeout) as client:
            with client.stream("POST", parsed, json=body, headers={**headers, "Accept-Encoding": "identity"}) as answer:
                content = bytearray()
                for chunk in answer.iter_bytes():
                    content += chunk
                    if len(content) > max_bytes:
                        raise _Failure(f"an answer longer than {max_bytes:,} bytes")
                    if time.monotonic() >= deadline:
                        raise TimeoutError()
                return Answer(answer.status_code, answer.reason_phrase, answer.headers, bytes(content))
    except _Failure as error:
        raise ConnectionError(_printable(str(error))) from None
    except (httpx2.TimeoutException, TimeoutError):
        raise ConnectionError(f"no whole answer within {timeout:g} s") from None
    except (httpx2.HTTPError, httpx2.StreamError, OSError, ValueError, UnicodeError) as error:
        raise ConnectionError(_printable(str(error)) or type(error).__name__) from None


def _printable(text: str) -> str:
    """`text` on one line: each unprintable character (newline, lone surrogate...) as its escape (words.escape)."""
    return escape(text)


class _Body:
    """The body of a response, read only as far as asked, within the byte cap and the deadline."""

    def __init__(self, chunks, deadline: float, max_bytes: int):
        self.chunks, self.deadline, self.max_bytes = chunks, deadline, max_bytes
        self.buffer = bytearray()
        self.ended = False

    def pull(self, upto: int) -> None:
        """Read until `upto` bytes are in, the body ends, or the cap is reached (_Failure)."""
        while len(self.buffer) < upto and not self.ended:
            if len(self.buffer) >= self.max_bytes:
                raise _Failure(f"no image header within the first {self.max_bytes:,} bytes")
            if time.monotonic() >= self.deadline:
                raise TimeoutError()
            chunk = next(self.chunks, b"")
            if not chunk:
                self.ended = True
            self.buffer += chunk[: self.max_bytes - len(self.buffer)]

    def read(self, offset: int, count: int) -> bytes:
        """`count` bytes at `offset` (fewer at the end of the body)."""
        self.pull(offset + count)
        return bytes(self.buffer[offset : offset + count])


def _total(response) -> int | None:
    """The whole image's size: from Content-Range on a 206, Content-Length on a 200 (unknown when encoded)."""
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    if response.status_code == 206:
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def fetch_document(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES, max_redirects: int = MAX_REDIRECTS,
                   accept: str = "application/json", allow_private: bool = False) -> bytes:  # fmt: skip
    """The whole body at an http(s) URL, with the same address rule, deadline and redirect limit as `inspect_url`,
    refused (ImageReadError naming the URL, one line) once it passes `max_bytes`.

    For a small document (genai-prices' published data file, read by `costcalc tables update`), not an image.
    """
    where = _printable(str(url))
    try:
        import httpcore2
        import httpx2
    except ImportError:
        raise ImageReadError(f"{where}: {INSTALL_HINT}") from None
    deadline = time.monotonic() + timeout
    Backend = _network(httpcore2)
    headers = {"Accept": accept, "Accept-Encoding": "identity", "User-Agent": "costcalc"}
    try:
        current = _check_url(httpx2, url)
        for _ in range(max_redirects + 1):
            proxy = _proxy_for(current)
            if proxy is not None:
                _check_host_for_proxy(current.host, allow_private)
            backend = Backend(deadline, checked=proxy is None, allow_private=allow_private)
            left = deadline - time.monotonic()
            if left <= 0:
                raise httpx2.TimeoutException("deadline reached")
            with httpx2.Client(transport=_transport(httpx2, httpcore2, backend, proxy), trust_env=False,
                               follow_redirects=False, timeout=left, headers=headers) as client:  # fmt: skip
                with client.stream("GET", current) as response:
                    if response.status_code in _REDIRECTS and response.headers.get("Location"):
                        current = _check_url(httpx2, current.join(response.headers["Location"]))
                        continue
                    if response.status_code != 200:
                        raise _Failure(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
                    return _whole(response.iter_bytes(), deadline, max_bytes)
        raise _Failure(f"more than {max_redirects} redirects")
    except _Failure as error:
        raise ImageReadError(f"{where}: {_printable(str(error))}") from None
    except (httpx2.TimeoutException, TimeoutError):
        raise ImageReadError(f"{where}: no answer within {timeout:g} s") from None
    except httpx2.InvalidURL as error:
        raise ImageReadError(f"{where}: not a valid URL: {_printable(str(error))}") from None
    except (httpx2.HTTPError, httpx2.StreamError, OSError, ValueError, UnicodeError) as error:
        raise ImageReadError(f"{where}: cannot fetch: {_printable(str(error)) or type(error).__name__}") from None


def _whole(chunks, deadline: float, max_bytes: int) -> bytes:
    """Every chunk of a body, within the deadline; _Failure once more than `max_bytes` arrive."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise _Failure(f"larger than {max_bytes:,} bytes: not read")
        if time.monotonic() >= deadline:
            raise TimeoutError()
    return bytes(body)
