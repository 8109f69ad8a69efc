"""Work on a stream of items, chunk by chunk, in worker processes, results in order.

The first chunk runs here, so small jobs never start a pool. After it, at most
four chunks per worker are in flight: memory stays flat however long the
stream. Workers ignore Ctrl-C, SIGTERM and SIGHUP, which are the parent's
to handle; on the way out, chunks not yet started are cancelled and running
ones finish. Those signals are held off (blocked) while a worker, the fork
server or the resource tracker starts: a Ctrl-C during start-up reaches the
parent once the start is done, never a half-started child (no traceback).

Workers are started by a fork server (POSIX) or spawned (Windows), never
forked from this process (issue 9): a fork copies a multi-threaded host
program with its locks held by threads that do not exist in the child, and
fork is unsafe on macOS. So `work` and `config` travel by pickle, and a
worker rebuilds what it needs (tables, pricers) on first use.
"""

from __future__ import annotations

import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any, TypeVar

from .interrupt import STOP_SIGNALS

__all__ = ["map_chunks", "start_context"]

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
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=start_context(), initializer=_ignore_stop_signals) as pool:
        pending: deque = deque()
        submitted = 0
        try:
            for chunk in chain([second], chunks):
                if submitted < jobs:  # a submit may start a worker (and the fork server): signals held meanwhile
                    with _signals_held():
                        pending.append(pool.submit(work, config, chunk))
                else:
                    pending.append(pool.submit(work, config, chunk))
                submitted += 1
                if len(pending) >= 4 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def start_context():
    """The multiprocessing context workers start in: 'forkserver' where there is one (POSIX), else 'spawn'."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextmanager
def _signals_held():
    """Block the stop signals in this thread meanwhile: a child started now inherits them blocked (a fork server
    and its workers too, across exec), and a signal that arrives meanwhile is delivered here on the way out."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _ignore_stop_signals() -> None:
    """In a worker: Ctrl-C, SIGTERM and SIGHUP are the parent's to handle (it stops the pool)."""
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
