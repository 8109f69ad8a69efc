"""Image headers of objects where they live: S3, GCS, Azure, the Hugging Face Hub, HTTP(S), local files.

Every store is reached through fsspec (https://filesystem-spec.readthedocs.io): s3fs, gcsfs,
adlfs and huggingface_hub's `HfFileSystem` plug in behind one interface, and each takes its
credentials and endpoint from its own standard environment (`AWS_ENDPOINT_URL`, `AWS_PROFILE`
and the shared config files for botocore; `GOOGLE_APPLICATION_CREDENTIALS`; `AZURE_STORAGE_*`;
`HF_TOKEN`), or from `storage_options`.

What is read: a first ranged GET of `first_read` bytes (FIRST_READ), then more ranged GETs
only where the header parser (`headers.inspect_reader`) asks for bytes beyond what is in
hand, e.g. a JPEG whose frame header (SOF) follows a 100 KiB EXIF block. The parser is run
again over the bytes in hand after each read (a parse costs microseconds, a request
milliseconds), so it drives the reads without a thread per object. Each further read is
at least twice the last (a GIF's first frame is walked in O(log size) requests). An
object's size comes from the listing, from the `Content-Range` of the first ranged
response (S3, HTTP), or else from one metadata request.

How it is read: up to `concurrency` requests in flight on fsspec's event loop; throttling
(HTTP 503 / 429, S3 `SlowDown`) retried with exponential backoff and jitter, as the AWS
guidance for S3 request rates says (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
optimizing-performance.html); a listing streamed page by page (S3 `ListObjectsV2`,
1,000 keys a page) or folder by folder, so 10 M keys are never held at once. Results
come in listing order; at most `2 × concurrency` objects are in flight or waiting.

Each object's failure (a 403, a missing key, an object that is not an image) is a
`RemoteHead` with `error` set, and the run goes on. No credential appears in a path or
an error: `redact` masks URL user info, signed-URL query values and the values of the
credential variables of the environment.

With `body=False` (the default) only the header is read, as `request --fetch` does: a
file whose header is whole but whose data is cut short has no `warning`. `body=True`
reads as `inspect_path` does (a JPEG's last bytes, every PNG chunk header), equal to the
local result item by item, at the cost of more requests. An object that fits in the
first read is always checked whole, at no extra cost.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import re
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, NamedTuple

from ..errors import CostcalcError, ImageReadError
from .headers import ImageInfo, inspect_path, inspect_reader

__all__ = [
    "CONCURRENCY",
    "FIRST_READ",
    "INSTALL_HINTS",
    "RemoteHead",
    "RemoteObject",
    "is_remote",
    "iter_remote_heads",
    "list_objects",
    "redact",
]

FIRST_READ = 32768
"""Bytes of the first ranged read. Measured (benchmarks/bench_remote.py, 2,000 objects of 0.3-3 MB, every tenth
with 24 KiB of EXIF as camera JPEGs carry): 32 KiB reads 1.00 request an object and 1.9% of the bytes, 16 KiB
1.10 requests and 1.2%, in the same time within noise on a local server. On a real store each second read is
another round trip (and another billed GET), and 16 KiB more costs a fraction of a millisecond: 32 KiB."""
CONCURRENCY = 64
"""Requests in flight at most."""
RETRIES = 6
"""Tries of one request that is throttled or whose connection fails."""
MAX_READS = 16
"""Ranged reads of one object at most before its header is given up on."""
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

_MAGIC = re.compile(r"[*?\[]")
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


# ------------------------------------------------------------------ filesystems


class _Store:
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


_STORES: dict[tuple, _Store] = {}
_STORES_LOCK = threading.Lock()


def _store(url: str, storage_options: dict[str, Any] | None) -> _Store:
    scheme, sep, _ = url.partition("://")
    protocol = scheme.lower() if sep and is_remote(url) else "file"
    options = dict((storage_options or {}).get(protocol, storage_options or {})) if protocol != "file" else {}
    options = {k: v for k, v in options.items() if not isinstance(v, dict)}
    key = (protocol, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = _Store(protocol, options)
    return store


# ------------------------------------------------------------------ errors


class _Throttled(Exception):
    """A throttling answer (HTTP 503 / 429, S3 SlowDown): retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Status(Exception):
    """An HTTP status that is final for this object."""


_THROTTLE_WORDS = (
    "slowdown",
    "slow down",
    "reduce your request rate",
    "throttl",
    "too many requests",
    "requestlimitexceeded",
    "503",
    "429",
    "rate exceeded",
)


def _throttled(error: BaseException) -> bool:
    if isinstance(error, _Throttled):
        return True
    code = getattr(error, "response", None)
    if isinstance(code, dict):
        status = code.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (429, 503) or code.get("Error", {}).get("Code") in (
            "SlowDown",
            "Throttling",
            "ThrottlingException",
            "RequestLimitExceeded",
            "TooManyRequests",
        ):
            return True
    text = str(error).lower()
    return any(word in text for word in _THROTTLE_WORDS)


def _transient(error: BaseException) -> bool:
    """A connection that failed or timed out: worth another try."""
    if isinstance(error, (asyncio.TimeoutError, ConnectionError)):
        return True
    name = type(error).__name__
    return name in (
        "ClientConnectionError",
        "ServerDisconnectedError",
        "ClientOSError",
        "ClientPayloadError",
        "ServerTimeoutError",
        "ConnectionTimeoutError",
        "SocketTimeoutError",
    )


def _reason(error: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """One line saying why a request failed, without credentials."""
    if isinstance(error, (_Status, _Throttled)):
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


# ------------------------------------------------------------------ ranged reads


class _NeedMore(Exception):
    """The parser asked for bytes not in hand: read [offset, offset + count) and parse again."""

    def __init__(self, offset: int, count: int):
        super().__init__(offset, count)
        self.offset, self.count = offset, count


class _Segments:
    """The bytes read so far, as sorted, merged (start, bytes) runs; `fetch` serves the parser from them."""

    def __init__(self, first: bytes, size: int | None):
        self.runs = [(0, first)]
        self.size = size

    def add(self, start: int, data: bytes) -> None:
        runs = sorted([*self.runs, (start, data)], key=lambda run: run[0])
        merged = [runs[0]]
        for begin, chunk in runs[1:]:
            last_begin, last = merged[-1]
            if begin <= last_begin + len(last):
                tail = chunk[last_begin + len(last) - begin :]
                merged[-1] = (last_begin, last + tail)
            else:
                merged.append((begin, chunk))
        self.runs = merged

    def fetch(self, offset: int, count: int) -> bytes:
        if self.size is not None:
            count = min(count, self.size - offset)
        if count <= 0:
            return b""
        for begin, chunk in self.runs:
            if begin <= offset < begin + len(chunk):
                if offset + count <= begin + len(chunk):
                    return chunk[offset - begin : offset - begin + count]
                covered = begin + len(chunk)
                raise _NeedMore(covered, offset + count - covered)
        raise _NeedMore(offset, count)


class _Reader:
    """Ranged GETs of one object, with retries; counts requests and bytes; learns the size when the store says it."""

    def __init__(self, store: _Store, url: str, retries: int):
        self.store, self.url, self.retries = store, url, retries
        self.path = store.strip(url)
        self.size: int | None = None
        self.requests = 0
        self.bytes = 0

    async def get(self, start: int, end: int) -> bytes:
        """Bytes [start, end) (fewer at the end of the object)."""
        for attempt in range(self.retries):
            self.requests += 1
            try:
                data = await asyncio.wait_for(self._get(start, end), TIMEOUT)
            except Exception as error:
                if attempt + 1 < self.retries and (_throttled(error) or _transient(error)):
                    wait = getattr(error, "retry_after", None) or min(0.05 * 2**attempt, 5.0)
                    await asyncio.sleep(wait * random.uniform(0.5, 1.0))
                    continue
                if _throttled(error):
                    raise _Status(f"throttled: still refused after {self.retries} tries ({_reason(error)})") from None
                raise
            self.bytes += len(data)
            return data
        raise AssertionError("unreachable")

    async def _get(self, start: int, end: int) -> bytes:
        kind = self.store.kind
        if kind == "http":
            return await self._http(start, end)
        if kind == "s3":
            return await self._s3(start, end)
        fs = self.store.fs
        if self.store.is_async:
            return await fs._cat_file(self.path, start=start, end=end)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: fs.cat_file(self.path, start=start, end=end))

    async def _http(self, start: int, end: int) -> bytes:
        fs = self.store.fs
        session = await fs.set_session()
        kw = dict(fs.kwargs)
        headers = {**kw.pop("headers", {}), "Range": f"bytes={start}-{end - 1}", "Accept-Encoding": "identity"}
        async with session.get(fs.encode_url(self.url), headers=headers, **kw) as response:
            status = response.status
            if status in (429, 503):
                after = response.headers.get("Retry-After", "")
                raise _Throttled(f"HTTP {status}", float(after) if after.isdigit() and int(after) <= 30 else None)
            if status == 416:  # nothing at this offset: the object is shorter
                total = response.headers.get("Content-Range", "").rpartition("/")[2]
                if total.isdigit():
                    self.size = int(total)
                return b""
            if status not in (200, 206):
                raise _Status(f"HTTP {status} {response.reason or ''}".rstrip())
            if status == 206:
                total = response.headers.get("Content-Range", "").rpartition("/")[2]
                if total.isdigit():
                    self.size = int(total)
                data = await response.read()
                return data[: end - start]
            # 200: the server ignored Range; read what was asked and drop the connection
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and response.headers.get("Content-Encoding", "identity") == "identity":
                self.size = int(length)
            data = b""
            while len(data) < end:
                chunk = await response.content.read(end - len(data))
                if not chunk:
                    if self.size is None:
                        self.size = len(data)
                    break
                data += chunk
            response.close()
            return data[start:end]

    async def _s3(self, start: int, end: int) -> bytes:
        fs = self.store.fs
        bucket, key, version = fs.split_path(self.path)
        if not key:
            raise _Status("a bucket, not an object")
        extra = {"VersionId": version} if version else {}
        try:
            response = await fs._call_s3(
                "get_object", Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}", **extra
            )
        except Exception as error:  # noqa: BLE001 - any store's own error becomes this item's, the run goes on
            code = getattr(error, "response", {}) or {}
            if (isinstance(code, dict) and code.get("Error", {}).get("Code") == "InvalidRange") or (
                "range is not satisfiable" in str(error).lower()
            ):  # s3fs's translation of InvalidRange (416)
                if start == 0:
                    self.size = 0
                return b""
            from s3fs.errors import translate_boto_error

            raise translate_boto_error(error, set_cause=False) from None
        total = str(response.get("ContentRange", "")).rpartition("/")[2]
        if total.isdigit():
            self.size = int(total)
        body = response["Body"]
        try:
            return await body.read()
        finally:
            body.close()

    async def info_size(self) -> int | None:
        """The object's size from one metadata request."""
        fs = self.store.fs
        self.requests += 1
        info = (
            await fs._info(self.path)
            if self.store.is_async
            else await asyncio.get_running_loop().run_in_executor(None, fs.info, self.path)
        )
        if info.get("type") == "directory":
            raise _Status("a folder, not an object")
        size = info.get("size")
        return int(size) if size is not None else None


async def _read_head(store: _Store, obj: RemoteObject, first_read: int, body: bool, retries: int) -> RemoteHead:
    """The header of one object, by ranged reads driven by the parser (see the module's docstring)."""
    shown = redact(obj.url, store.secrets)
    if store.local:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _local_head, store, obj.url, shown)
    reader = _Reader(store, obj.url, retries)
    try:
        data = await reader.get(0, first_read)
        size = obj.size if obj.size is not None else reader.size
        if size is None and len(data) < first_read:
            size = len(data)
        if size is None:
            size = await reader.info_size()
        segments = _Segments(data, size)
        grow = first_read
        while True:
            try:
                whole = size is not None and len(data) >= size
                info = inspect_reader(data, segments.fetch, size, name=shown, body=body or whole)
                return RemoteHead(shown, info, None, reader.bytes, reader.requests)
            except _NeedMore as need:
                if reader.requests >= MAX_READS:
                    raise ImageReadError(
                        f"{shown}: no image header within {reader.bytes:,} bytes read in {reader.requests} requests"
                    ) from None
                grow *= 2
                stop = need.offset + max(need.count, grow)
                if size is not None:
                    stop = min(stop, size)
                segments.add(need.offset, await reader.get(need.offset, stop))
    except CostcalcError as error:
        return RemoteHead(shown, None, error, reader.bytes, reader.requests)
    except Exception as error:  # noqa: BLE001 - any store's own error becomes this item's, the run goes on
        return RemoteHead(
            shown, None, ImageReadError(f"{shown}: {_reason(error, store.secrets)}"), reader.bytes, reader.requests
        )


def _local_head(store: _Store, url: str, shown: str) -> RemoteHead:
    """A local file, read as `inspect_path` reads it (the same result as a local audit)."""
    try:
        info = inspect_path(store.strip(url), name=shown)
    except CostcalcError as error:
        return RemoteHead(shown, None, error, 0, 0)
    return RemoteHead(shown, info, None, min(info.bytes or 0, 16384), 1)


# ------------------------------------------------------------------ listing


def _glob_regex(pattern: str) -> re.Pattern:
    """fsspec's glob syntax as a regex over whole paths: `*` and `?` within one segment, `**` across segments."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : close].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = close
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


async def _list(
    store: _Store, prefix: str, pattern: re.Pattern | None, after: str | None = None
) -> AsyncIterator[RemoteObject]:
    """Objects under `prefix` (store path), streamed: S3 page by page (in key order), other stores folder by
    folder, sorted (a folder's files, then its subfolders: `walk_key` order). `after` (a store path): only what
    comes after it in that order (S3 asks for it with StartAfter; a walk leaves out the folders before it)."""
    fs = store.fs
    if store.kind == "s3":
        bucket, key, _ = fs.split_path(prefix)
        pages = (
            fs._iterdir(bucket, delimiter="", prefix=key)
            if after is None
            else _s3_after(fs, bucket, key, fs.split_path(after)[1])
        )
        async for entry in pages:
            if entry.get("type") != "file":
                continue
            name = entry["name"]
            if pattern is None or pattern.match(name):
                yield RemoteObject(store.url(name), entry.get("size"))
        return
    loop = asyncio.get_running_loop()

    async def ls(path: str) -> list[dict]:
        if store.local:
            return await loop.run_in_executor(None, _local_ls, path)
        if store.is_async:
            return await fs._ls(path, detail=True)
        return await loop.run_in_executor(None, lambda: fs.ls(path, detail=True))

    last = None if after is None else walk_key(after)
    stack = [prefix]
    while stack:
        folder = stack.pop()
        entries = sorted(await ls(folder), key=lambda e: e["name"])
        subfolders = []
        for entry in entries:
            name = entry["name"].rstrip("/")
            if entry.get("type") == "directory":
                if name != folder.rstrip("/") and (last is None or not _walked(name, last)):
                    subfolders.append(name)
            elif (pattern is None or pattern.match(name)) and (last is None or walk_key(name) > last):
                yield RemoteObject(store.url(name), entry.get("size"))
        stack.extend(reversed(subfolders))


def walk_key(path: str) -> tuple:
    """The order a sorted walk (`_list` on a store that is not S3) gives a path in: folder by folder, a folder's
    files (by name) before its subfolders (by name)."""
    parts = path.rstrip("/").split("/")
    return tuple((1, part) for part in parts[:-1]) + ((0, parts[-1]),)


def _walked(folder: str, last: tuple) -> bool:
    """Whether every path below `folder` comes before `last` in walk order (the whole folder was done)."""
    key = tuple((1, part) for part in folder.rstrip("/").split("/"))
    return key < last[: len(key)]


async def _s3_after(fs, bucket: str, prefix: str, after: str) -> AsyncIterator[dict]:
    """S3 keys under `prefix` after `after`, a page at a time (ListObjectsV2 StartAfter:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)."""
    kwargs = {"Bucket": bucket, "Prefix": prefix, "StartAfter": after}
    while True:
        page = await fs._call_s3("list_objects_v2", **kwargs)
        for entry in page.get("Contents", []):
            yield {"name": f"{bucket}/{entry['Key']}", "type": "file", "size": entry.get("Size")}
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return
        kwargs = {"Bucket": bucket, "Prefix": prefix, "ContinuationToken": token}


def _local_ls(path: str) -> list[dict]:
    out = []
    with os.scandir(path or ".") as it:  # "": the working folder, names as the glob gave them (no "./")
        for entry in it:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                size = None if is_dir else entry.stat().st_size
            except OSError:
                is_dir, size = False, None
            out.append(
                {"name": entry.path if path else entry.name, "type": "directory" if is_dir else "file", "size": size}
            )
    return out


async def _expand(store: _Store, url: str, after: str | None = None) -> AsyncIterator[RemoteObject]:
    """The objects a source names: a glob, a prefix (folder), or one object. A source that names nothing raises."""
    path = store.strip(url)
    if store.kind == "http":
        yield RemoteObject(url, None)  # an HTTP URL names one object: HTTP has no listing
        return
    magic = _MAGIC.search(path)
    if magic:
        static = path[: magic.start()]
        folder = static.rpartition("/")[0] if "/" in static else static
        pattern = _glob_regex(path)
        if store.kind == "s3":
            found = False
            async for obj in _list(store, static, pattern, after):
                found = True
                yield obj
            if not found:
                await _check_bucket(store, path)
            return
        async for obj in _list(store, folder, pattern, after):
            yield obj
        return
    if store.local:
        if os.path.isdir(path):
            async for obj in _list(store, path, None, after):
                yield obj
            return
        yield RemoteObject(url, None)
        return
    if store.kind == "s3" and (path.endswith("/") or "/" not in path.rstrip("/")):
        listed = False
        async for obj in _list(store, path.rstrip("/") + "/" if "/" in path.rstrip("/") else path, None, after):
            listed = True
            yield obj
        if not listed:
            await _check_bucket(store, path)
        return
    try:
        info = await (
            store.fs._info(path)
            if store.is_async
            else asyncio.get_running_loop().run_in_executor(None, store.fs.info, path)
        )
    except FileNotFoundError:
        yield RemoteObject(url, None)  # read it, so that its error is the object's own
        return
    if info.get("type") == "directory":
        prefix = path.rstrip("/") + "/" if store.kind == "s3" else path
        async for obj in _list(store, prefix, None, after):
            yield obj
        return
    yield RemoteObject(url, info.get("size"))


async def _check_bucket(store: _Store, path: str) -> None:
    """Raise when the bucket of an empty listing is missing or refused (an empty prefix is no error)."""
    bucket = store.fs.split_path(path)[0]
    await store.fs._call_s3("head_bucket", Bucket=bucket)


def list_objects(source: str, *, storage_options: dict[str, Any] | None = None) -> Iterator[RemoteObject]:
    """The objects a URL, prefix or glob names, streamed in listing order (ImageReadError when it cannot be listed)."""
    for item in _run(_expanded([source], storage_options), 256):
        if isinstance(item, RemoteHead):
            raise item.error
        yield item


async def _expanded(sources: Iterable[str], storage_options, after: str | None = None) -> AsyncIterator[Any]:
    loop = asyncio.get_running_loop()
    iterator = iter([sources] if isinstance(sources, str) else sources)
    while True:
        batch = await loop.run_in_executor(None, _take, iterator, 256)
        if not batch:
            return
        for source in batch:
            source = str(source).strip()
            try:
                store = _store(source, storage_options)
            except CostcalcError as error:
                yield RemoteHead(redact(source), None, error)
                continue
            try:
                async for obj in _expand(store, source, None if after is None else store.strip(after)):
                    yield obj
            except Exception as error:  # noqa: BLE001 - any store's own error becomes this item's, the run goes on
                shown = redact(source, store.secrets)
                yield RemoteHead(shown, None, ImageReadError(f"{shown}: cannot list: {_reason(error, store.secrets)}"))


async def _literal(objects: Iterable[Any], storage_options) -> AsyncIterator[Any]:
    """Each source as one object, not expanded (a column of paths or URLs)."""
    loop = asyncio.get_running_loop()
    iterator = iter(objects)
    while True:
        batch = await loop.run_in_executor(None, _take, iterator, 256)
        if not batch:
            return
        for item in batch:
            if isinstance(item, (RemoteObject, RemoteHead)):
                yield item
            else:
                yield RemoteObject(str(item), None)


def _take(iterator: Iterator, count: int) -> list:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) >= count:
            break
    return out


# ------------------------------------------------------------------ the pipeline


def iter_remote_heads(
    sources: str | Iterable[str],
    *,
    concurrency: int = CONCURRENCY,
    first_read: int = FIRST_READ,
    body: bool = False,
    retries: int = RETRIES,
    storage_options: dict[str, Any] | None = None,
    expand: bool = True,
    skip: Callable[[str], bool] | None = None,
    after: str | None = None,
) -> Iterator[RemoteHead]:
    """The header of every object the sources name, in listing order, `concurrency` requests in flight.

    sources: URLs (s3://, gs://, az://, hf://, https://, file://) or local paths; with `expand`
    (the default) a glob (`s3://bucket/imgs/**/*.jpg`) or a prefix (`s3://bucket/imgs/`) names
    every object it matches, listed as a stream. With `expand=False` each source is one object
    (a column of paths or URLs). `storage_options`: keyword arguments of the fsspec filesystem,
    or a dict of them per protocol ({"s3": {...}}). A source that cannot be listed (a missing
    bucket, access denied) is one error item; so is each object that cannot be read. `skip(path)`
    True leaves a listed object out before anything is read (a resumed run: `ParquetRows.done`). `after` (a
    URL): list only what comes after it, in the store's listing order (S3: key order, asked with StartAfter;
    others: the sorted walk's, `walk_key`) — a resumed run whose rows were written in that order.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    if first_read < 64:
        raise ValueError(f"first_read must be at least 64 bytes, not {first_read}")
    stream = (
        _expanded(sources, storage_options, after)
        if expand
        else _literal([sources] if isinstance(sources, str) else sources, storage_options)
    )
    return _run(_heads(stream, storage_options, concurrency, first_read, body, retries, skip), 2 * concurrency)


async def _heads(
    stream: AsyncIterator[Any], storage_options, concurrency: int, first_read: int, body: bool, retries: int, skip=None
) -> AsyncIterator[RemoteHead]:
    limit = asyncio.Semaphore(concurrency)

    async def one(obj: RemoteObject) -> RemoteHead:
        async with limit:
            try:
                store = _store(obj.url, storage_options)
            except CostcalcError as error:
                return RemoteHead(redact(obj.url), None, error)
            return await _read_head(store, obj, first_read, body, retries)

    window: deque = deque()
    try:
        async for item in stream:
            if isinstance(item, RemoteHead):
                done = asyncio.get_running_loop().create_future()
                done.set_result(item)
                window.append(done)
            elif skip is not None and skip(redact(item.url)):
                continue
            else:
                window.append(asyncio.ensure_future(one(item)))
            while window and (window[0].done() or len(window) >= 2 * concurrency):
                yield await window.popleft()
        while window:
            yield await window.popleft()
    finally:
        for task in window:
            task.cancel()


_DONE = object()


def _run(agen: AsyncIterator[Any], buffer: int) -> Iterator[Any]:
    """An async generator run on fsspec's I/O loop (a thread of its own), consumed here, at most `buffer` ahead."""
    loop = _loop()
    out: queue.Queue = queue.Queue()
    credits: asyncio.Semaphore | None = None  # made on the loop, in pump

    async def pump() -> None:
        nonlocal credits
        credits = asyncio.Semaphore(buffer)
        ready.set()
        try:
            async for item in agen:
                await credits.acquire()
                out.put(item)
        except BaseException as error:
            out.put(_Failed(error))
            if isinstance(error, asyncio.CancelledError):
                raise
        else:
            out.put(_DONE)
        finally:
            await agen.aclose()

    ready = threading.Event()
    future = asyncio.run_coroutine_threadsafe(pump(), loop)
    ready.wait()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            loop.call_soon_threadsafe(credits.release)
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        future.cancel()


class _Failed(NamedTuple):
    error: BaseException


def _loop() -> asyncio.AbstractEventLoop:
    """fsspec's I/O loop when fsspec is there (its async filesystems are bound to it), else a loop of our own."""
    try:
        from fsspec.asyn import get_loop
    except ImportError:
        return _own_loop()
    return get_loop()


_OWN: list[asyncio.AbstractEventLoop] = []


def _own_loop() -> asyncio.AbstractEventLoop:
    with _STORES_LOCK:
        if not _OWN:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="costcalc-io", daemon=True).start()
            _OWN.append(loop)
    return _OWN[0]
