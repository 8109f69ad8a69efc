"""Work on a stream of items, chunk by chunk, in worker processes when the work is worth them; results in order.

Chunks run here, in this process, until they have taken `SERIAL_SECONDS`: a
small job never starts a pool, and more workers are never slower than one
(starting a worker costs tens of milliseconds of imports and table parsing).
After that, at most four chunks per worker are in flight, so memory stays flat
however long the stream. Workers ignore Ctrl-C, SIGTERM and SIGHUP, which are
the parent's to handle; on the way out, chunks not yet started are cancelled
and running ones finish. Those signals are held off (blocked) while a worker,
the fork server or the resource tracker starts: one that arrives meanwhile
reaches the parent once the start is done, never a half-started child (no
traceback).

How workers start: forked from this process when that is safe — on Linux, with
this process running a single thread, so no lock can be held by a thread that
does not exist in the child — which makes them free of imports and of table
parsing (they share this process's memory). Otherwise, from a fork server
(POSIX) that has imported costcalc already, or spawned (Windows); then `work`
and `config` travel by pickle and a worker rebuilds what it needs on first use.
Either way `work` and `config` must pickle.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice
from typing import Any, TypeVar

from .interrupt import STOP_SIGNALS

__all__ = ["map_chunks", "start_context", "SERIAL_SECONDS"]

T = TypeVar("T")

SERIAL_SECONDS = 0.25
"""Work done in this process before any worker is started: more than a worker costs to start."""


def map_chunks(work: Callable[[Any, list], T], config: Any, items: Iterable, *, jobs: int, size: int) -> Iterator[T]:
    """`work(config, chunk)` for each chunk of `size` items, in order; `jobs` > 1 may use worker processes.

    `work` and `config` must pickle (a module-level function, a frozen dataclass).
    """
    items = iter(items)
    chunks = iter(lambda: list(islice(items, size)), [])
    deadline = time.perf_counter() + SERIAL_SECONDS
    for chunk in chunks:
        yield work(config, chunk)
        if jobs > 1 and time.perf_counter() > deadline:
            break
    else:
        return
    second = next(chunks, None)
    if second is None:
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
    """The multiprocessing context workers start in: 'fork' where safe (Linux, one thread), else a fork
    server that has imported costcalc (POSIX), else 'spawn'."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["costcalc.runs.audit", "costcalc.preflight.tree"])
        return context
    return multiprocessing.get_context("spawn")


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
