"""parallel.map_chunks with forked workers: results in order, a worker's error raised here, no deadlock on chunks and
results larger than a pipe holds, and no worker left behind however the caller stops."""

from __future__ import annotations

import os
import sys
import threading
from itertools import islice
from pathlib import Path

import pytest

from costcalc import parallel

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self/stat").exists(), reason="forked workers: Linux"
)


def forked(work, config, items, size, ahead=1):
    """The forked workers alone (map_chunks goes to them when this process runs one thread; an earlier test may
    have left one running)."""
    items = iter(items)
    return parallel._forked(work, config, iter(lambda: list(islice(items, size)), []), 2, ahead, tune=False)


def _children() -> list[int]:
    """This process's live (not zombie) children."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == os.getpid() and fields[0] not in "ZX":
                found.append(int(entry))
    return found


def square_pids(config, chunk):
    return [(value * value + config, os.getpid()) for value in chunk]


def fail_on(config, chunk):
    if config in chunk:
        raise ValueError(f"no {config}")
    return chunk


def die_on(config, chunk):
    if config in chunk:
        os._exit(3)
    return chunk


def echo_doubled(config, chunk):
    return [text * 2 for text in chunk]


def _forks_workers_once_the_work_is_worth_them() -> None:
    parallel.FORK_SERIAL_SECONDS = 0.0  # workers from the second chunk on, busy machine or not
    parallel.BUSY_SECONDS = 0.0
    assert threading.active_count() == 1
    results = [row for rows in parallel.map_chunks(square_pids, 1, range(2000), jobs=2, size=7) for row in rows]
    assert [value for value, _ in results] == [n * n + 1 for n in range(2000)]
    assert {pid for _, pid in results[:7]} == {os.getpid()}  # the first chunk is done here, before any worker starts
    assert len({pid for _, pid in results[7:]} - {os.getpid()}) == 2
    assert _children() == []


def test_map_chunks_forks_workers_once_the_work_is_worth_them():
    """In a fresh interpreter: one whose only thread is its own forks (threads other tests leave would not)."""
    import subprocess

    code = "import test_parallel; test_parallel._forks_workers_once_the_work_is_worth_them(); print('ok')"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr


def _heavy_work_starts_the_workers_before_the_first_chunk() -> None:
    assert threading.active_count() == 1
    results = [
        row for rows in parallel.map_chunks(square_pids, 0, range(4), jobs=2, size=1, heavy=True) for row in rows
    ]
    assert [value for value, _ in results] == [0, 1, 4, 9]
    assert os.getpid() not in {pid for _, pid in results}  # the first chunk too went to a worker
    one = list(parallel.map_chunks(square_pids, 0, range(1), jobs=2, size=1, heavy=True))
    assert one == [[(0, os.getpid())]]  # one chunk: no worker for it
    assert list(parallel.map_chunks(square_pids, 0, [], jobs=2, size=1, heavy=True)) == []
    assert _children() == []


def test_heavy_work_starts_the_workers_before_the_first_chunk():
    """In a fresh interpreter, as above."""
    import subprocess

    code = "import test_parallel; test_parallel._heavy_work_starts_the_workers_before_the_first_chunk(); print('ok')"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr


TUNED = False


def _tuned() -> None:
    global TUNED
    TUNED = True


def tuned_pids(config, chunk):
    return [(TUNED, os.getpid())] * len(chunk)


def _memory_is_kept_in_workers_and_in_costcalcs_own_process() -> None:
    global TUNED
    parallel.FORK_SERIAL_SECONDS = 0.0
    parallel.BUSY_SECONDS = 0.0
    parallel.keep_freed_memory = _tuned
    here = os.getpid()
    for own, heavy in ((False, False), (True, False), (False, True)):
        TUNED = False
        rows = [
            row
            for rows in parallel.map_chunks(tuned_pids, 0, range(40), jobs=2, size=4, heavy=heavy, own_process=own)
            for row in rows
        ]
        workers = {tuned for tuned, pid in rows if pid != here}
        assert workers == {not heavy}, (own, heavy, rows)  # workers keep memory, unless the work is heavy
        assert TUNED is own, (own, heavy)  # this process only when it is costcalc's own
    TUNED = False
    rows = [
        row for rows in parallel.map_chunks(tuned_pids, 0, range(40), jobs=1, size=4, own_process=True) for row in rows
    ]
    assert rows[0] == (False, here) and rows[-1] == (True, here)  # -j1: once the work has lasted a while
    assert _children() == []


def test_memory_is_kept_in_workers_and_in_costcalcs_own_process():
    """In a fresh interpreter, as above."""
    import subprocess

    code = "import test_parallel; test_parallel._memory_is_kept_in_workers_and_in_costcalcs_own_process(); print('ok')"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize(
    "setting", [None, ("MALLOC_ARENA_MAX", "2"), ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=4096")]
)
def test_keeping_freed_memory_leaves_an_allocator_the_user_tuned_alone(monkeypatch, setting):
    import ctypes

    calls = []

    class Libc:
        def mallopt(self, option, value):
            calls.append((option, value))
            return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Libc())
    for name in [name for name in os.environ if name.startswith("MALLOC_") or name == "GLIBC_TUNABLES"]:
        monkeypatch.delenv(name)
    if setting:
        monkeypatch.setenv(*setting)
    parallel.keep_freed_memory()
    glibc = bool(os.confstr("CS_GNU_LIBC_VERSION"))
    assert calls == ([] if setting or not glibc else [(-1, 64 << 20), (-3, 32 << 20)])


def test_small_work_stays_in_this_process():
    results = [row for rows in parallel.map_chunks(square_pids, 0, range(500), jobs=2, size=7) for row in rows]
    assert [value for value, _ in results] == [n * n for n in range(500)]
    assert {pid for _, pid in results} == {os.getpid()}


@pytest.mark.parametrize("ahead", [1, 2, 3])
def test_results_in_order_from_the_workers(ahead):
    results = [row for rows in forked(square_pids, 1, range(2000), 7, ahead) for row in rows]
    assert [value for value, _ in results] == [n * n + 1 for n in range(2000)]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and len(pids) == 2  # both workers worked, round robin
    assert _children() == []


@pytest.mark.parametrize("ahead", [1, 2])
def test_chunks_and_results_larger_than_a_pipe(ahead):
    """A chunk of 2 MB sent while the worker's 4 MB results wait: the sender drains them meanwhile (and, a chunk
    ahead, while the worker still reads the chunk before)."""
    items = [f"{index:08d}" * 32768 for index in range(24)]  # 256 KiB each
    got = [text for texts in forked(echo_doubled, None, items, 8, ahead) for text in texts]
    assert got == [text * 2 for text in items]
    assert _children() == []


@pytest.mark.parametrize("ahead", [1, 2])
def test_a_worker_error_is_raised_here_and_no_worker_is_left(ahead):
    with pytest.raises(ValueError, match="no 777"):
        for _ in forked(fail_on, 777, range(5000), 10, ahead):
            pass
    assert _children() == []


@pytest.mark.parametrize("ahead", [1, 2])
def test_a_worker_that_dies_is_an_error_not_a_hang(ahead):
    with pytest.raises(ChildProcessError, match="ended unexpectedly"):
        for _ in forked(die_on, 500, range(5000), 10, ahead):
            pass
    assert _children() == []


@pytest.mark.parametrize("ahead", [1, 2])
def test_stopping_early_ends_the_workers(ahead):
    chunks = forked(square_pids, 0, range(100_000), 10, ahead)
    assert next(chunks)[0][0] == 0 and next(chunks)[0][0] == 100
    assert len(_children()) == 2
    chunks.close()
    assert _children() == []


def slow_first(config, chunk):
    if 0 in chunk:
        import time

        time.sleep(config)
    return [os.getpid()] * len(chunk)


def test_a_long_chunk_does_not_hold_up_the_other_worker():
    """The chunks after a long one go to the worker that is free (as an executor does), within the window."""
    pids = [pid for chunk in forked(slow_first, 0.5, range(80), 10) for pid in chunk]
    slow = pids[0]
    assert pids[10:70].count(slow) == 0  # the next six chunks, while the first takes its time, go to the other


@pytest.mark.parametrize("ahead", [1, 2])
def test_a_worker_holds_at_most_ahead_chunks_and_is_given_the_next_while_busy(monkeypatch, ahead):
    """With `ahead` 2 a worker's next chunk waits in its pipe while it works on one (it never idles until this
    process notices); never more than `ahead`; with 1, only a free worker is given a chunk."""
    held = []
    send = parallel._Worker.send
    monkeypatch.setattr(parallel._Worker, "send", lambda worker, data: held.append(worker.busy()) or send(worker, data))
    pids = [pid for chunk in forked(slow_first, 0.2, range(60), 5, ahead) for pid in chunk]
    assert len(pids) == 60 and os.getpid() not in pids
    assert max(held) == ahead - 1  # a worker given a chunk had at most ahead - 1 in hand, and one had that many
    assert _children() == []


def test_keeping_freed_memory_without_ctypes_changes_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "ctypes", None)  # a Python built without it: the import fails
    for name in [name for name in os.environ if name.startswith("MALLOC_") or name == "GLIBC_TUNABLES"]:
        monkeypatch.delenv(name)
    assert parallel.keep_freed_memory() is None


def test_jobs_beyond_four_per_cpu_start_no_more_workers(monkeypatch):
    """-j 99999999999 once forked that many processes, until the machine ran out of memory."""
    started = []
    monkeypatch.setattr(parallel, "_forked", lambda work, config, chunks, jobs, **_: started.append(jobs) or iter(()))
    monkeypatch.setattr(parallel, "_fork_safe", lambda: True)
    list(parallel.map_chunks(square_pids, 0, range(10), jobs=99_999_999_999, size=1, heavy=True))
    assert started == [4 * (os.cpu_count() or 1)]
    assert parallel._capped(0) == 1 and parallel._capped(3) == min(3, 4 * (os.cpu_count() or 1))
