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


def forked(work, config, items, size):
    """The forked workers alone (map_chunks goes to them when this process runs one thread; an earlier test may
    have left one running)."""
    items = iter(items)
    return parallel._forked(work, config, iter(lambda: list(islice(items, size)), []), 2)


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


def test_small_work_stays_in_this_process():
    results = [row for rows in parallel.map_chunks(square_pids, 0, range(500), jobs=2, size=7) for row in rows]
    assert [value for value, _ in results] == [n * n for n in range(500)]
    assert {pid for _, pid in results} == {os.getpid()}


def test_results_in_order_from_the_workers():
    results = [row for rows in forked(square_pids, 1, range(2000), 7) for row in rows]
    assert [value for value, _ in results] == [n * n + 1 for n in range(2000)]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and len(pids) == 2  # both workers worked, round robin
    assert _children() == []


def test_chunks_and_results_larger_than_a_pipe():
    """A chunk of 2 MB sent while the worker's 4 MB results wait: the sender drains them meanwhile."""
    items = [f"{index:08d}" * 32768 for index in range(24)]  # 256 KiB each
    got = [text for texts in forked(echo_doubled, None, items, 8) for text in texts]
    assert got == [text * 2 for text in items]
    assert _children() == []


def test_a_worker_error_is_raised_here_and_no_worker_is_left():
    with pytest.raises(ValueError, match="no 777"):
        for _ in forked(fail_on, 777, range(5000), 10):
            pass
    assert _children() == []


def test_a_worker_that_dies_is_an_error_not_a_hang():
    with pytest.raises(ChildProcessError, match="ended unexpectedly"):
        for _ in forked(die_on, 500, range(5000), 10):
            pass
    assert _children() == []


def test_stopping_early_ends_the_workers():
    chunks = forked(square_pids, 0, range(100_000), 10)
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


def test_jobs_beyond_four_per_cpu_start_no_more_workers(monkeypatch):
    """-j 99999999999 once forked that many processes, until the machine ran out of memory."""
    started = []
    monkeypatch.setattr(parallel, "_forked", lambda work, config, chunks, jobs: started.append(jobs) or iter(()))
    monkeypatch.setattr(parallel, "_fork_safe", lambda: True)
    list(parallel.map_chunks(square_pids, 0, range(10), jobs=99_999_999_999, size=1, heavy=True))
    assert started == [4 * (os.cpu_count() or 1)]
    assert parallel._capped(0) == 1 and parallel._capped(3) == min(3, 4 * (os.cpu_count() or 1))
