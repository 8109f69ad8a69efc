"""Where a remote object lives: the fsspec store a URL names, the credentials it must never show, and the
one-line reason a store's failure gives.

Every store is reached through fsspec (https://filesystem-spec.readthedocs.io): s3fs, gcsfs,
adlfs and huggingface_hub's `HfFileSystem` plug in behind one interface, and each takes its
credentials and endpoint from its own standard environment (`AWS_ENDPOINT_URL`, `AWS_PROFILE`
and the shared config files for botocore; `GOOGLE_APPLICATION_CREDENTIALS`; `AZURE_STORAGE_*`;
`HF_TOKEN`), or from `storage_options`. One `Store` is made per protocol and options, and kept.

No credential appears in a path or an error: `redact` masks URL user info, signed-URL query
values and the values of the credential variables of the environment.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Iterable
from typing import Any, NamedTuple

from ..errors import CostcalcError, ImageReadError
from .headers import ImageInfo

__all__ = [
    "INSTALL_HINTS",
    "TIMEOUT",
    "FinalStatus",
    "RemoteHead",
    "RemoteObject",
    "Store",
    "Throttled",
    "is_remote",
    "redact",
    "store_for",
    "store_reason",
]

TIMEOUT = 60.0
"""Seconds for one request."""

INSTALL_HINTS = {
    "s3": "pip install 'costcalc[s3]'",
    "s3a": "pip install 'costcalc[s3]'",
    "gs": "pip install 'costcalc[gcs]'",
    "gcs": "pip install 'costcalc[gcs]'",
    "az": "pip install 'costcalc[azure]'",
    "abfs": "pip install 'costcalc[azure]'",
    "abfss": "pip install 'costcalc[azure]'",
    "hf": "pip install 'costcalc[hf]'",
    "http": "pip install 'costcalc[s3]' (fsspec and aiohttp)",
    "https": "pip install 'costcalc[s3]' (fsspec and aiohttp)",
}
"""The extra each URL scheme needs."""

_SECRET_ENV = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
)
_SECRET_OPTIONS = re.compile(r"key|secret|token|password|passwd|credential|sas|signature|connection", re.IGNORECASE)
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:x-amz-(?:signature|credential|security-token)|x-goog-(?:signature|credential)|signature|sig|"
    r"token|access_token|key|apikey|api_key|password|secret|credential|sv|se|sp|skoid|sktid|skt|ske|sks|skv)=)[^&#\s]*"
)


class RemoteHead(NamedTuple):
    """One object: its header facts, or why it has none; and what reading it cost.

    path: the object's URL (with its scheme; credentials masked). info: the header facts
    (`headers.ImageInfo`, `bytes` the object's size), None on error. error: a
    `CostcalcError` naming the object and the reason (`UnsupportedFormatError` for a known
    image format the APIs refuse), None when read. bytes_read, requests: what it took.
    """

    path: str
    info: ImageInfo | None
    error: CostcalcError | None
    bytes_read: int = 0
    requests: int = 0


class RemoteObject(NamedTuple):
    """One object a listing found: its URL and its size (None when the listing does not say)."""

    url: str
    size: int | None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with URL user info, signed-URL query values and every known credential value masked as ***."""
    text = _USERINFO.sub("***@", text)
    text = _SECRET_QUERY.sub(r"\1***", text)
    values = [os.environ.get(name, "") for name in _SECRET_ENV] + [s for s in secrets if isinstance(s, str)]
    for value in sorted({v for v in values if len(v) >= 6}, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def is_remote(source: str) -> bool:
    """True for a URL that names a store (s3://, gs://, hf://, https://, ...), False for a local path or file://."""
    scheme, sep, _ = str(source).partition("://")
    return (
        bool(sep) and scheme.lower() not in ("file", "local") and re.fullmatch(r"[a-zA-Z][\w+.-]*", scheme) is not None
    )


class Store:
    """One fsspec filesystem and how to reach it: ranged reads, listing, what secrets to mask."""

    def __init__(self, protocol: str, options: dict[str, Any]):
        self.protocol = protocol
        self.options = options
        self.secrets = tuple(str(v) for k, v in options.items() if _SECRET_OPTIONS.search(k) and v)
        self.local = protocol in ("file", "local")
        self.kind = (
            "local"
            if self.local
            else "s3"
            if protocol in ("s3", "s3a")
            else "http"
            if protocol in ("http", "https")
            else "other"
        )
        if self.local:
            self.fs = None
            self.is_async = False
            return
        try:
            import fsspec
        except ImportError:
            raise ImageReadError(
                f"{protocol}:// needs fsspec: {INSTALL_HINTS.get(protocol, 'pip install fsspec')}"
            ) from None
        try:
            cls = fsspec.get_filesystem_class(protocol)
        except (ImportError, ValueError) as error:
            hint = INSTALL_HINTS.get(protocol)
            why = f"{hint}" if hint else redact(str(error), self.secrets)
            raise ImageReadError(f"cannot read {protocol}:// URLs: {why}") from None
        try:
            self.fs = cls(**options)
        except Exception as error:  # noqa: BLE001 - a bad option or profile: one line, no secret
            raise ImageReadError(
                f"cannot open {protocol}:// ({type(error).__name__}: {redact(str(error), self.secrets)})"
            ) from None
        self.is_async = bool(getattr(self.fs, "async_impl", False))

    def url(self, path: str) -> str:
        """The URL of a path inside this store."""
        if self.local or self.kind == "http":
            return path
        return path if "://" in path else f"{self.protocol}://{path}"

    def strip(self, url: str) -> str:
        """The store's own path for a URL."""
        if self.local:
            if url.startswith("file://"):
                from urllib.parse import unquote, urlsplit

                return unquote(urlsplit(url).path)
            return url
        return self.fs._strip_protocol(url) if self.kind != "http" else url


_STORES: dict[tuple, Store] = {}
_STORES_LOCK = threading.Lock()


def store_for(url: str, storage_options: dict[str, Any] | None) -> Store:
    """The store a URL names (a local path or file:// is the local one), made once per protocol and options;
    `storage_options` are the filesystem's keyword arguments, or a dict of them per protocol."""
    scheme, sep, _ = url.partition("://")
    protocol = scheme.lower() if sep and is_remote(url) else "file"
    options = dict((storage_options or {}).get(protocol, storage_options or {})) if protocol != "file" else {}
    options = {k: v for k, v in options.items() if not isinstance(v, dict)}
    key = (protocol, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = Store(protocol, options)
    return store


class Throttled(Exception):
    """A throttling answer (HTTP 503 / 429, S3 SlowDown): retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class FinalStatus(Exception):
    """An HTTP status that is final for this object."""


def store_reason(error: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """One line saying why a request failed, without credentials."""
    if isinstance(error, (FinalStatus, Throttled)):
        return str(error)
    if isinstance(error, FileNotFoundError):
        return "no such object (or bucket)"
    if isinstance(error, PermissionError):
        return "access denied (check credentials and permissions)"
    if isinstance(error, asyncio.TimeoutError):
        return f"no answer within {TIMEOUT:g} s"
    text = " ".join(str(error).split()) or type(error).__name__
    if "AccessDenied" in text or "Forbidden" in text or "403" in text:
        return "access denied (check credentials and permissions)"
    if "NoSuchBucket" in text or "NoSuchKey" in text or "404" in text:
        return "no such object (or bucket)"
    if "InvalidAccessKeyId" in text or "SignatureDoesNotMatch" in text or "ExpiredToken" in text:
        return "the credentials were refused (invalid or expired key)"
    if "Unable to locate credentials" in text or "NoCredentialsError" in type(error).__name__:
        return "no credentials found (set them in the environment or a profile)"
    return redact(f"{type(error).__name__}: {text}"[:300], secrets)
