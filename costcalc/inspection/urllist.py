"""Lists of image URLs: a text file (one URL a line), or a column of a CSV or Parquet file.

Each URL's header is read with `fetch.inspect_url`, the SSRF-safe fetching of
`request --fetch` (private, loopback and link-local addresses refused unless
`allow_private`; every redirect checked; one deadline; at most MAX_BYTES read), in a
pool of threads, at most `per_host` requests to one host at a time (the politeness
img2dataset keeps: https://github.com/rom1504/img2dataset). A line that is not a URL, a
dead link or a refused address is an error item; the run goes on. Results come in the
list's order; the list is read as a stream (a Parquet column a record batch at a time).
"""

from __future__ import annotations

import csv
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from ..errors import CostcalcError, ImageReadError
from .remote import RemoteHead, is_remote, redact

__all__ = ["PER_HOST", "iter_url_heads", "read_urls"]

PER_HOST = 8
"""Requests to one host at a time, at most."""


def _open_text(source: str, storage_options):
    if is_remote(source):
        import fsspec

        return fsspec.open(source, "rt", encoding="utf-8", errors="replace", newline="",
                           **(storage_options or {})).open()  # fmt: skip
    return open(source, encoding="utf-8", errors="replace", newline="")


def read_urls(source: str | os.PathLike, *, url_column: str | None = None,
              storage_options: dict[str, Any] | None = None) -> Iterator[tuple[int, str]]:  # fmt: skip
    """(line or row number from 1, URL text) for each entry, streamed; blank lines and `#` comments skipped.

    A `.parquet` file (or any table with `url_column`) is read a record batch at a time; a `.csv`/`.tsv`
    needs `url_column` (a header name). ImageReadError when the file or the column cannot be read.
    """
    source = os.fspath(source)
    lower = source.lower()
    if url_column is not None and lower.endswith((".parquet", ".pq", ".arrow", ".feather", ".jsonl", ".ndjson")):
        from .columns import iter_batches, open_table

        dataset = open_table(source, storage_options=storage_options)
        if url_column not in dataset.schema.names:
            raise ImageReadError(f"{redact(source)}: no column {url_column!r}; it has "
                                 f"{', '.join(map(repr, dataset.schema.names[:20]))}")  # fmt: skip
        row = 0
        for _, _, batch in iter_batches(dataset, [url_column], 65536):
            for value in batch.column(0).to_pylist():
                row += 1
                yield row, "" if value is None else str(value)
        return
    try:
        handle = _open_text(source, storage_options)
    except OSError as error:
        raise ImageReadError(f"{redact(source)}: {error.strerror or error}") from None
    with handle:
        if url_column is not None:
            dialect = "excel-tab" if lower.endswith(".tsv") else "excel"
            reader = csv.DictReader(handle, dialect=dialect)
            if reader.fieldnames is None or url_column not in reader.fieldnames:
                raise ImageReadError(f"{redact(source)}: no column {url_column!r} in its header line")
            for number, record in enumerate(reader, start=2):
                yield number, (record.get(url_column) or "").strip()
            return
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if text and not text.startswith("#"):
                yield number, text


def iter_url_heads(source: str | os.PathLike | None = None, *, urls=None, url_column: str | None = None,
                   concurrency: int = 64, per_host: int = PER_HOST, allow_private: bool = False,
                   timeout: float | None = None, storage_options: dict[str, Any] | None = None,
                   skip=None) -> Iterator[RemoteHead]:  # fmt: skip
    """The header facts behind each URL of a list file (or of `urls`, an iterable of strings), in list order.

    `concurrency` threads fetch at once, at most `per_host` to one host. Each item's path is the
    URL (credentials masked); a garbage line, a dead link or a refused address is an error item.
    `skip(path)` True leaves an entry out unread (a resumed run).
    """
    from .fetch import TIMEOUT, inspect_url

    if concurrency < 1 or per_host < 1:
        raise ValueError("concurrency and per_host must be at least 1")
    entries = read_urls(source, url_column=url_column, storage_options=storage_options) if urls is None else (
        (i + 1, str(u)) for i, u in enumerate(urls))  # fmt: skip
    hosts: dict[str, threading.Semaphore] = {}
    lock = threading.Lock()

    def one(number: int, url: str) -> RemoteHead:
        shown = redact(url) if url else f"line {number}"
        try:
            host = (urlsplit(url).hostname or "") if "://" in url else ""
        except ValueError:  # a malformed URL: inspect_url names what is wrong
            host = ""
        with lock:
            gate = hosts.setdefault(host, threading.Semaphore(per_host))
        with gate:
            try:
                found = inspect_url(url, timeout=timeout or TIMEOUT, allow_private=allow_private, name=shown)
            except CostcalcError as error:
                return RemoteHead(shown, None, error, 0, 1)
            except Exception as error:  # noqa: BLE001 - a malformed line is this item's error
                return RemoteHead(shown, None, ImageReadError(f"{shown}: not a usable URL ({type(error).__name__})"))
        return RemoteHead(shown, found.info, None, found.bytes_read, 1)

    window: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="costcalc-url") as pool:
        try:
            for number, url in entries:
                if skip is not None and skip(redact(url) if url else f"line {number}"):
                    continue
                window.append(pool.submit(one, number, url))
                while window and (window[0].done() or len(window) >= 2 * concurrency):
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:
                future.cancel()

