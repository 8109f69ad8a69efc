"""Image headers of objects where they live: S3, GCS, Azure, the Hugging Face Hub, HTTP(S), local files.

The public face of three modules: `stores` (which fsspec filesystem a URL names, its
credentials and how to mask them), `ranged` (one object's header by ranged reads the
parser drives) and this one: the listing of what a source names, and the pipeline that
reads every object listed.

How it is read: up to `concurrency` requests in flight on fsspec's event loop; a listing
streamed page by page (S3 `ListObjectsV2`, 1,000 keys a page) or folder by folder, so
10 M keys are never held at once. Results come in listing order; at most
`2 × concurrency` objects are in flight or waiting.

Each object's failure (a 403, a missing key, an object that is not an image) is a
`RemoteHead` with `error` set, and the run goes on. No credential appears in a path or
an error (`redact`).
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, NamedTuple

from ..errors import CostcalcError, ImageReadError
from .ranged import FIRST_READ, RETRIES, read_head
from .stores import INSTALL_HINTS, RemoteHead, RemoteObject, Store, is_remote, redact, store_for, store_reason

__all__ = [
    "CONCURRENCY",
    "FIRST_READ",
    "INSTALL_HINTS",
    "ListingCount",
    "RemoteHead",
    "RemoteObject",
    "is_remote",
    "iter_remote_heads",
    "list_objects",
    "redact",
]

CONCURRENCY = 64
"""Requests in flight at most."""

_MAGIC = re.compile(r"[*?\[]")


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
    store: Store, prefix: str, pattern: re.Pattern | None, after: str | None = None
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


async def _expand(store: Store, url: str, after: str | None = None) -> AsyncIterator[RemoteObject]:
    """The objects a source names: a glob, a prefix (folder), or one object. A source that names nothing raises."""
    path = store.strip(url)
    if store.kind == "http":
        yield RemoteObject(url, None)  # an HTTP URL names one object: HTTP has no listing
        return
    magic = None if store.local and os.path.lexists(path) else _MAGIC.search(path)  # a name there is itself
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


async def _check_bucket(store: Store, path: str) -> None:
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
                store = store_for(source, storage_options)
            except CostcalcError as error:
                yield RemoteHead(redact(source), None, error)
                continue
            try:
                async for obj in _expand(store, source, None if after is None else store.strip(after)):
                    yield obj
            except Exception as error:  # noqa: BLE001 - any store's own error becomes this item's, the run goes on
                shown = redact(source, store.secrets)
                yield RemoteHead(
                    shown, None, ImageReadError(f"{shown}: cannot list: {store_reason(error, store.secrets)}")
                )


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


class ListingCount:
    """How many objects the sources name, counted by a listing of its own that runs ahead of the reads.

    `iter_remote_heads(..., count=ListingCount())` lists every source twice: once to read (held back to
    the reads' pace, `2 × concurrency` ahead) and once only to count, at the listing's own pace (S3: 1,000
    keys a LIST request, far ahead of the ranged reads). Only a count is kept, never a key. `total` is
    None until that listing has ended, then the number of items the run will yield (objects not skipped,
    and one for each source that cannot be listed), for a progress line's ETA. A store that changes during
    the run may end with more or fewer items than `total`.
    """

    def __init__(self) -> None:
        self.listed = 0
        self.ended = False

    @property
    def total(self) -> int | None:
        return self.listed if self.ended else None

    async def run(self, stream: AsyncIterator[Any], skip: Callable[[str], bool] | None) -> None:
        async for item in stream:
            if isinstance(item, RemoteHead) or skip is None or not skip(redact(item.url)):
                self.listed += 1
        self.ended = True


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
    count: ListingCount | None = None,
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
    others: the sorted walk's, `walk_key`) — a resumed run whose rows were written in that order. `count` (with
    `expand`): a `ListingCount` to fill by a second, count-only listing, for a progress line (the sources are
    then taken as a list; a source listed twice costs its LIST requests twice, never a read).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    if first_read < 64:
        raise ValueError(f"first_read must be at least 64 bytes, not {first_read}")
    counting = None
    if count is not None and expand:
        sources = [sources] if isinstance(sources, str) else list(sources)
        counting = _expanded(sources, storage_options, after)
    stream = (
        _expanded(sources, storage_options, after)
        if expand
        else _literal([sources] if isinstance(sources, str) else sources, storage_options)
    )
    heads = _heads(stream, storage_options, concurrency, first_read, body, retries, skip, count, counting)
    return _run(heads, 2 * concurrency)


async def _heads(
    stream: AsyncIterator[Any],
    storage_options,
    concurrency: int,
    first_read: int,
    body: bool,
    retries: int,
    skip=None,
    count: ListingCount | None = None,
    counting: AsyncIterator[Any] | None = None,
) -> AsyncIterator[RemoteHead]:
    limit = asyncio.Semaphore(concurrency)
    counter = None if counting is None else asyncio.ensure_future(count.run(counting, skip))

    async def one(obj: RemoteObject) -> RemoteHead:
        async with limit:
            try:
                store = store_for(obj.url, storage_options)
            except CostcalcError as error:
                return RemoteHead(redact(obj.url), None, error)
            return await read_head(store, obj, first_read, body, retries)

    window: deque = deque()
    listed = 0
    try:
        async for item in stream:
            listed += 1
            if isinstance(item, RemoteHead):
                done = asyncio.get_running_loop().create_future()
                done.set_result(item)
                window.append(done)
            elif skip is not None and skip(redact(item.url)):
                listed -= 1
                continue
            else:
                window.append(asyncio.ensure_future(one(item)))
            while window and (window[0].done() or len(window) >= 2 * concurrency):
                yield await window.popleft()
        if counter is not None and not count.ended:  # the reads' own listing ended first: its count is the whole
            counter.cancel()
            count.listed, count.ended = listed, True
        while window:
            yield await window.popleft()
    finally:
        for task in window:
            task.cancel()
        if counter is not None and not counter.done():
            counter.cancel()


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
_OWN_LOCK = threading.Lock()


def _own_loop() -> asyncio.AbstractEventLoop:
    with _OWN_LOCK:
        if not _OWN:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="costcalc-io", daemon=True).start()
            _OWN.append(loop)
    return _OWN[0]
