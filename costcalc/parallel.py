"""Work on a stream of items, chunk by chunk, in worker processes when the work is worth them; results in order.

Chunks run here, in this process, until they have taken `SERIAL_SECONDS`
(`FORK_SERIAL_SECONDS` where workers are forked, which costs them little): a
small job never starts a pool, and more workers are never slower than one
(starting a worker costs tens of milliseconds of imports and table parsing).
Workers start then if a core was idle meanwhile (Linux: /proc/stat); on a
machine kept busy by others they would only take turns with this process, so
the work goes on here, and workers start after `BUSY_SECONDS` all the same.
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
parsing (they share this process's memory, `work` and `config` included). Such
workers are plain forks that take pickled chunks and give back pickled results
over a pair of pipes each (no executor: its imports alone cost ~45 ms, and its
threads contend with this one). Otherwise, from a fork server (POSIX) that has
imported costcalc already, or spawned (Windows), in a ProcessPoolExecutor; then
`work` and `config` travel by pickle and a worker rebuilds what it needs on
first use. Either way `work` and `config` must pickle.
"""

from __future__ import annotations

import os
import signal
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, islice

from .interrupt import STOP_SIGNALS

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

__all__ = ["map_chunks", "start_context", "keep_freed_memory", "SERIAL_SECONDS"]


SERIAL_SECONDS = 0.25
"""Work done in this process before any worker is started: more than a worker costs to start."""

FORK_SERIAL_SECONDS = 0.02
"""The same where workers are forked from this process (no imports, no tables to read: a fork and its pipes,
about a millisecond): a job of a few hundred files ends first, a larger one has both cores early (a 20,000-file
audit took 0.33 s forking after 0.1 s, 0.29 s after 0.02 s)."""

BUSY_SECONDS = 0.5
"""Work done in this process, at most, while no core is idle to run a worker."""

IDLE_CORES = 0.5
"""Idle cores, on average over the work done here so far, that make workers worth starting."""

WORKERS_PER_CPU = 4
"""The most workers `jobs` starts, per CPU (`-j 99999999999` starts no more: each is a process and its memory)."""


def _capped(jobs: int) -> int:
    return max(1, min(jobs, WORKERS_PER_CPU * (os.cpu_count() or 1)))


def map_chunks(
    work: Callable[[Any, list], T],
    config: Any,
    items: Iterable,
    *,
    jobs: int,
    size: int,
    heavy: bool = False,
    own_process: bool = False,
) -> Iterator[T]:
    """`work(config, chunk)` for each chunk of `size` items, in order; `jobs` > 1 may use worker processes (at
    most WORKERS_PER_CPU per CPU).

    `work` and `config` must pickle (a module-level function, a frozen record). `heavy`: every chunk is long
    work (an image decoded and encoded): where workers are forked, they start before the first chunk when
    there are two, rather than after it (the second core would wait out a whole chunk). Unless `heavy`, workers
    keep the memory they free for their next chunks (`keep_freed_memory`), and so does this process when it is
    costcalc's own (`own_process`: the command line), once the work has lasted FORK_SERIAL_SECONDS.
    """
    items = iter(items)
    chunks = iter(lambda: list(islice(items, size)), [])
    jobs = _capped(jobs)
    if heavy and jobs > 1 and _fork_safe():
        yield from _forked_at_once(work, config, chunks, jobs)
        return
    serial = FORK_SERIAL_SECONDS if _fork_safe() else SERIAL_SECONDS
    start = time.perf_counter()
    deadline, idle = start + serial, _idle_seconds()
    tune = own_process
    for chunk in chunks:
        yield work(config, chunk)
        if (jobs > 1 or tune) and (now := time.perf_counter()) > deadline:
            if tune:
                keep_freed_memory()
                tune = False
            if jobs == 1:
                continue
            if now - start > BUSY_SECONDS or _idle_cores(idle, deadline - serial, now):
                break
            deadline, idle = now + serial, _idle_seconds()
    else:
        return
    second = next(chunks, None)
    if second is None:
        return
    if _fork_safe():
        yield from _forked(work, config, chain([second], chunks), jobs, ahead=AHEAD, tune=True)
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


def _forked_at_once(work: Callable[[Any, list], T], config: Any, chunks: Iterator[list], jobs: int) -> Iterator[T]:
    """Heavy work: forked workers from the first chunk on, each given one chunk at a time, once there are two."""
    first = next(chunks, None)
    second = next(chunks, None) if first is not None else None
    if second is None:
        yield from ([] if first is None else [work(config, first)])
    else:
        yield from _forked(work, config, chain([first, second], chunks), jobs, ahead=1, tune=False)


def start_context():
    """The multiprocessing context workers start in: 'fork' where safe (Linux, one thread), else a fork
    server that has imported costcalc (POSIX), else 'spawn'."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _fork_safe():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["costcalc.runs.audit", "costcalc.preflight.tree"])
        return context
    return multiprocessing.get_context("spawn")


def _idle_seconds() -> float | None:
    """The idle time of all cores so far (Linux: /proc/stat, in seconds); None where unknown."""
    try:
        with open("/proc/stat", "rb") as stat:
            fields = stat.readline().split()  # cpu user nice system idle iowait ...
        return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _idle_cores(idle: float | None, since: float, now: float) -> bool:
    """Whether at least IDLE_CORES cores were idle, on average, since `since` (when `idle` was read); True when
    that is unknown."""
    later = _idle_seconds()
    return idle is None or later is None or (later - idle) >= IDLE_CORES * (now - since)


def _fork_safe() -> bool:
    """Whether a worker may be forked from this process: on Linux, with this process running one thread."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


AHEAD = 2
"""Chunks a forked worker holds at most (the one it works on, the next ones waiting in its pipe), unless the work
is `heavy`: a worker never waits for this process to notice it is done and send it more (benchmarks/bench_audit.py
--baseline against workers given a chunk only once free: one model's audit 0.240 s, 0.222 s this way)."""

DEPTH = 4
"""Chunks in flight per forked worker, on average, as with an executor: while one chunk takes long, the other
workers go on with the chunks after it. A chunk goes to the worker with the fewest in hand."""


def _forked(
    work: Callable[[Any, list], T], config: Any, chunks: Iterator[list], jobs: int, ahead: int, tune: bool
) -> Iterator[T]:
    """`work(config, chunk)` for each chunk in `jobs` forked workers, each chunk to the worker with the fewest in
    hand, below `ahead` (1: only to a free worker, for chunks that vary: an image may take longer than four
    others), results in order as soon as they are here. `tune`: each worker keeps the memory it frees
    (`keep_freed_memory`).

    On the way out (the end, an error, Ctrl-C, the caller stopping early) the workers get no more chunks and
    nowhere to send a result: each finishes the chunk at hand (and the one queued behind it, when its result
    still fit in the pipe: at most `ahead` chunks) and ends, and all are waited for.
    """
    import gc
    import pickle
    import select

    workers: list[_Worker] = []
    pending: deque[_Worker] = deque()
    try:
        gc.freeze()  # the workers' collector leaves what they share alone: fewer pages copied
        try:
            with _signals_held():
                for _ in range(jobs):
                    workers.append(_Worker(work, config, workers, tune))
        finally:
            gc.unfreeze()
        by_fd = {worker.results: worker for worker in workers}
        for chunk in chunks:
            data = pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)  # ready before a worker is free
            while True:
                free = sorted((worker for worker in workers if worker.busy() < ahead), key=_Worker.busy)
                if free and len(pending) < DEPTH * jobs:
                    break
                if pending and pending[0].done:  # room for the chunk: the oldest result goes out first
                    yield pending.popleft().result()
                    continue
                for fd in select.select(list(by_fd), [], [])[0]:  # wait for a worker to send something
                    by_fd[fd].receive()
            free[0].send(data)  # the worker gets its chunk before this process writes out results
            pending.append(free[0])
            while pending and pending[0].done:  # results in order, as soon as they are here
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for worker in workers:
            worker.close()
        for worker in workers:
            worker.wait()


KEPT_BYTES = 64 << 20
"""Freed memory a process keeps for reuse (`keep_freed_memory`), and the size below which it allocates from it."""


def keep_freed_memory() -> None:
    """Have the C library keep the memory this process frees, up to KEPT_BYTES, for its next allocations, rather
    than give it back to the system and take it again, page fault by page fault (glibc on Linux; elsewhere, or
    when the user tuned glibc's allocator in the environment, nothing is changed).

    A chunk's work allocates and frees the same few hundred KiB over and over (its text, the pickle of it, the
    pipe reads): glibc gives memory freed at the top of its heap back past 128 KiB and maps anything larger
    afresh each time, and each page taken again is a page fault (benchmarks/bench_audit.py, its `faults` column:
    the three-model audit of its tree took 22,600 in its three processes, 7,900 this way).
    """
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if (
        not sys.platform.startswith("linux")
        or "glibc.malloc." in tunables
        or any(name.startswith("MALLOC_") for name in os.environ)
    ):
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-1, KEPT_BYTES)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, KEPT_BYTES // 2)  # M_MMAP_THRESHOLD (at most 32 MiB on 64-bit glibc)
    except (ImportError, OSError, ValueError, AttributeError):  # a Python without ctypes: as it was
        pass


_LENGTH = struct.Struct("<Q")
"""The length of a message in a pipe, before it."""


class _Worker:
    """A forked worker and its two pipes: chunks in, results out (read as they come, kept until asked for)."""

    def __init__(self, work, config, others: list[_Worker], tune: bool = False):
        chunks_in, self.chunks = os.pipe()
        self.results, results_out = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the worker: it never returns
            try:
                for fd in (self.chunks, self.results, *(end for other in others for end in other.ends())):
                    os.close(fd)
                _ignore_stop_signals()
                if tune:
                    keep_freed_memory()
                _serve(work, config, chunks_in, results_out)
            finally:
                os._exit(0)
        os.close(chunks_in)
        os.close(results_out)
        os.set_blocking(self.chunks, False)  # a send drains results meanwhile, so neither side waits on the other
        self.inbox = bytearray()
        self.done: deque = deque()
        self.sent = self.taken = 0

    def ends(self) -> tuple[int, ...]:
        """This process's ends of the pipes, while open."""
        return tuple(fd for fd in (self.chunks, self.results) if fd >= 0)

    def busy(self) -> int:
        """Chunks sent whose results have not come back yet."""
        return self.sent - self.taken - len(self.done)

    def send(self, data: bytes) -> None:
        """Send one chunk, reading the worker's results meanwhile whenever the pipe is full."""
        import select

        view = memoryview(_LENGTH.pack(len(data)) + data)
        while view:
            try:
                view = view[os.write(self.chunks, view) :]
            except BlockingIOError:
                readable, _, _ = select.select([self.results], [self.chunks], [])
                if readable:
                    self.receive()
            except BrokenPipeError:
                raise ChildProcessError(f"worker process {self.pid} ended unexpectedly") from None
        self.sent += 1

    def result(self):
        """The worker's next result; its exception raised here; ChildProcessError if it ended."""
        while not self.done:
            self.receive()
        ok, value = self.done.popleft()
        self.taken += 1
        if not ok:
            raise value
        return value

    def receive(self) -> None:
        """Read what the worker sent (waiting for something if nothing is there); keep each whole result."""
        import pickle

        data = os.read(self.results, 65536)  # a pipe's capacity: a larger buffer is allocated, never filled
        if not data:
            raise ChildProcessError(f"worker process {self.pid} ended unexpectedly")
        inbox = self.inbox
        inbox += data
        start = 0
        while len(inbox) - start >= _LENGTH.size:
            end = start + _LENGTH.size + _LENGTH.unpack_from(inbox, start)[0]
            if len(inbox) < end:
                break
            with memoryview(inbox) as view:
                self.done.append(pickle.loads(view[start + _LENGTH.size : end]))
            start = end
        del inbox[:start]

    def close(self) -> None:
        """No more results read (a worker sending one ends), then no more chunks (an idle worker ends)."""
        for fd in self.ends():
            os.close(fd)
        self.chunks = self.results = -1

    def wait(self) -> None:
        """Wait for the worker to end."""
        while True:
            try:
                os.waitpid(self.pid, 0)
                return
            except InterruptedError:
                continue
            except ChildProcessError:
                return


def _serve(work, config, chunks: int, results: int) -> None:
    """In a worker: `work(config, chunk)` for each chunk read, its result (or exception) written, to the end."""
    import pickle

    while True:
        header = _read_exactly(chunks, _LENGTH.size)
        if header is None:
            return
        data = _read_exactly(chunks, _LENGTH.unpack(header)[0])
        if data is None:
            return
        chunk = pickle.loads(data)
        try:
            data = pickle.dumps((True, work(config, chunk)), pickle.HIGHEST_PROTOCOL)
        except BaseException as error:  # the caller re-raises it, as an executor's future does
            data = _pickled_error(error)
        try:
            _write_all(results, _LENGTH.pack(len(data)))
            _write_all(results, data)
        except OSError:  # the caller is gone (it stopped early): end
            return


def _pickled_error(error: BaseException) -> bytes:
    import pickle

    try:
        return pickle.dumps((False, error), pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")), pickle.HIGHEST_PROTOCOL)


def _read_exactly(fd: int, count: int) -> bytes | None:
    """`count` bytes from `fd`; None at its end."""
    parts, left = [], count
    while left:
        data = os.read(fd, left)
        if not data:
            return None
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
