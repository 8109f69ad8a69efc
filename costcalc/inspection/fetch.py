"""Reading a remote image's header over HTTP(S), and nothing more (SPEC §3).

Only http and https; at most `max_redirects` redirects; at most `max_bytes`
read; one deadline for the whole call, however the server behaves (a socket
timeout is set to the time left before every connect and read). The
connection is closed as soon as the header is read.
"""

from __future__ import annotations

import http.client
import socket
import time
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from ..errors import ImageReadError
from .headers import HEAD_BYTES, ImageInfo, inspect_reader

__all__ = ["RemoteImage", "inspect_url", "TIMEOUT", "MAX_BYTES", "MAX_REDIRECTS"]

TIMEOUT = 10.0
"""Seconds for one URL, connect to last byte, redirects included."""
MAX_BYTES = 1 << 20
"""Bytes read at most from one URL."""
MAX_REDIRECTS = 5


class RemoteImage(NamedTuple):
    """A remote image's header facts and how many bytes were read to get them."""

    info: ImageInfo
    bytes_read: int
    url: str
    """The URL the image came from, after redirects."""


class _Stream:
    """The body of a response, read only as far as asked, within the byte cap and the deadline."""

    def __init__(self, response: http.client.HTTPResponse, connection, deadline: float, max_bytes: int, where: str):
        self.response, self.connection = response, connection
        self.deadline, self.max_bytes, self.where = deadline, max_bytes, where
        self.buffer = bytearray()
        self.ended = False

    def pull(self, upto: int) -> None:
        while len(self.buffer) < upto and not self.ended:
            if len(self.buffer) >= self.max_bytes:
                raise ImageReadError(f"{self.where}: no image header within the first {self.max_bytes:,} bytes")
            _set_timeout(self.connection, self.deadline)
            chunk = self.response.read1(min(65536, self.max_bytes - len(self.buffer)))
            if not chunk:
                self.ended = True
            self.buffer += chunk

    def read(self, offset: int, count: int) -> bytes:
        self.pull(offset + count)
        return bytes(self.buffer[offset : offset + count])


def _set_timeout(connection, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout()
    if connection.sock is not None:
        connection.sock.settimeout(left)


def inspect_url(
    url: str,
    *,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    name: str | None = None,
) -> RemoteImage:
    """The header facts of the image at an http(s) URL, reading no more than the header needs."""
    where = name or url
    deadline = time.monotonic() + timeout
    for _ in range(max_redirects + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ImageReadError(f"{where}: refusing to fetch a {parts.scheme or 'scheme-less'} URL: only http and https")
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            connection = kind(parts.hostname, parts.port, timeout=left)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", target, headers={"Range": f"bytes=0-{max_bytes - 1}", "Accept": "image/*",
                                                       "User-Agent": "costcalc"})  # fmt: skip
            _set_timeout(connection, deadline)
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                connection.close()
                if not location:
                    raise ImageReadError(f"{where}: redirect {response.status} without a Location")
                url = urljoin(url, location)
                continue
            if response.status not in (200, 206):
                connection.close()
                raise ImageReadError(f"{where}: HTTP {response.status} {response.reason}")
            stream = _Stream(response, connection, deadline, max_bytes, where)
            try:
                stream.pull(HEAD_BYTES)
                info = inspect_reader(bytes(stream.buffer[:HEAD_BYTES]), stream.read, _total(response), name=where,
                                      body=False)  # fmt: skip
            finally:
                connection.close()  # the header is all we want
            return RemoteImage(info, len(stream.buffer), url)
        except (socket.timeout, TimeoutError):
            raise ImageReadError(f"{where}: no answer within {timeout:g} s") from None
        except (OSError, http.client.HTTPException) as error:
            if isinstance(error, ImageReadError):
                raise
            raise ImageReadError(f"{where}: cannot fetch: {error}") from None
    raise ImageReadError(f"{where}: more than {max_redirects} redirects")


def _total(response: http.client.HTTPResponse) -> int | None:
    """The whole image's size: from Content-Range on a 206, Content-Length on a 200."""
    if response.status == 206:
        total = (response.getheader("Content-Range") or "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.getheader("Content-Length")
    return int(length) if length and length.isdigit() else None
