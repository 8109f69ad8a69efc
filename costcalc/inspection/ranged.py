"""One remote object's header, by ranged reads that the header parser drives.

What is read: a first ranged GET of `first_read` bytes (FIRST_READ), then more ranged GETs
only where the header parser (`headers.inspect_reader`) asks for bytes beyond what is in
hand, e.g. a JPEG whose frame header (SOF) follows a 100 KiB EXIF block. The parser is run
again over the bytes in hand after each read (a parse costs microseconds, a request
milliseconds), so it drives the reads without a thread per object. Each further read is
at least twice the last (a GIF's first frame is walked in O(log size) requests). An
object's size comes from the listing, from the `Content-Range` of the first ranged
response (S3, HTTP), or else from one metadata request.

Throttling (HTTP 503 / 429, S3 `SlowDown`) and connections that fail are retried with
exponential backoff and jitter, as the AWS guidance for S3 request rates says
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html).

With `body=False` (the default) only the header is read, as `request --fetch` does: a
file whose header is whole but whose data is cut short has no `warning`. `body=True`
reads as `inspect_path` does (a JPEG's last bytes, every PNG chunk header), equal to the
local result item by item, at the cost of more requests. An object that fits in the
first read is always checked whole, at no extra cost.
"""

from __future__ import annotations

import asyncio
import random

from ..errors import CostcalcError, ImageReadError
from .headers import inspect_path, inspect_reader
from .stores import TIMEOUT, FinalStatus, RemoteHead, RemoteObject, Store, Throttled, redact, store_reason

__all__ = ["FIRST_READ", "MAX_READS", "RETRIES", "read_head"]

FIRST_READ = 32768
"""Bytes of the first ranged read. Measured (benchmarks/bench_remote.py, 2,000 objects of 0.3-3 MB, every tenth
with 24 KiB of EXIF as camera JPEGs carry): 32 KiB reads 1.00 request an object and 1.9% of the bytes, 16 KiB
1.10 requests and 1.2%, in the same time within noise on a local server. On a real store each second read is
another round trip (and another billed GET), and 16 KiB more costs a fraction of a millisecond: 32 KiB."""
RETRIES = 6
"""Tries of one request that is throttled or whose connection fails."""
MAX_READS = 16
"""Ranged reads of one object at most before its header is given up on."""

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
    if isinstance(error, Throttled):
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

    def __init__(self, store: Store, url: str, retries: int):
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
                    raise FinalStatus(
                        f"throttled: still refused after {self.retries} tries ({store_reason(error)})"
                    ) from None
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
                raise Throttled(f"HTTP {status}", float(after) if after.isdigit() and int(after) <= 30 else None)
            if status == 416:  # nothing at this offset: the object is shorter
                total = response.headers.get("Content-Range", "").rpartition("/")[2]
                if total.isdigit():
                    self.size = int(total)
                return b""
            if status not in (200, 206):
                raise FinalStatus(f"HTTP {status} {response.reason or ''}".rstrip())
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
            raise FinalStatus("a bucket, not an object")
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
            raise FinalStatus("a folder, not an object")
        size = info.get("size")
        return int(size) if size is not None else None


async def read_head(store: Store, obj: RemoteObject, first_read: int, body: bool, retries: int) -> RemoteHead:
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
            shown, None, ImageReadError(f"{shown}: {store_reason(error, store.secrets)}"), reader.bytes, reader.requests
        )


def _local_head(store: Store, url: str, shown: str) -> RemoteHead:
    """A local file, read as `inspect_path` reads it (the same result as a local audit)."""
    try:
        info = inspect_path(store.strip(url), name=shown)
    except CostcalcError as error:
        return RemoteHead(shown, None, error, 0, 0)
    return RemoteHead(shown, info, None, min(info.bytes or 0, 16384), 1)
