"""Work on a stream of items, chunk by chunk, in worker processes, results in order.

The first chunk runs here, so small jobs never start a pool. After it, at most
four chunks per worker are in flight: memory stays flat however long the
stream. Workers ignore Ctrl-C, which is the parent's to handle; on the way
out, chunks not yet started are cancelled and running ones finish.
"""

from __future__ import annotations

import signal
from collections import deque
from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator, TypeVar

__all__ = ["map_chunks"]

T = TypeVar("T")


def map_chunks(work: Callable[[Any, list], T], config: Any, items: Iterable, *, jobs: int, size: int) -> Iterator[T]:
    """`work(config, chunk)` for each chunk of `size` items, in order; `jobs` > 1 uses worker processes.

    `work` and `config` must pickle (a module-level function, a frozen dataclass).
    """
    items = iter(items)
    chunks = iter(lambda: list(islice(items, size)), [])
    first = next(chunks, None)
    if first is None:
        return
    yield work(config, first)
    second = next(chunks, None)
    if second is None:
        return
    if jobs <= 1:
        for chunk in chain([second], chunks):
            yield work(config, chunk)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_sigint) as pool:
        pending: deque = deque()
        try:
            for chunk in chain([second], chunks):
                pending.append(pool.submit(work, config, chunk))
                if len(pending) >= 4 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
