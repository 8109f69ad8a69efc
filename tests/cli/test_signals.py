"""Signals and pipes (issue 15): SIGTERM and SIGHUP end a run as Ctrl-C does, with real signals on real processes.

Each run is a real `costcalc` process in its own session, so every process it
starts (fork server, workers, resource tracker) can be found afterwards by its
session id: none may still run once the command has ended.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photo.jpg"
SCREENSHOT = ROOT / "samples" / "screenshot.png"

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGHUP") or not Path("/proc/self/stat").exists(), reason="POSIX signals and /proc needed"
)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _session(sid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live (not zombie) process in session `sid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) != sid or fields[0] in "ZX":
                continue
            found.append((int(entry), Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError):
            continue
    return found


def _start(args: list[str], stdout=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "costcalc", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=_env(),
        start_new_session=True,
    )


def _helpers(process: subprocess.Popen) -> list[str]:
    """The command lines of the processes the run started: workers (forked, or from a fork server), the fork server
    itself; the resource tracker left out."""
    return [
        command for pid, command in _session(process.pid) if pid != process.pid and "resource_tracker" not in command
    ]


def _wait_for_workers(process: subprocess.Popen, timeout: float = 30) -> None:
    """Until the run has started its workers (two processes besides itself and the resource tracker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_helpers(process)) >= 2:
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended before its workers started: {process.stderr.read().decode()}")
        time.sleep(0.005)
    pytest.fail("workers never started")


def _no_survivors(sid: int) -> None:
    deadline = time.monotonic() + 5
    while _session(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session(sid) == [], "processes outlived the command"


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for index in range(60):
        shutil.copyfile(PHOTO, folder / f"p{index:02}.jpg")
    return folder


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("many")
    # Enough that workers start and run a while, however fast the audit is: on a machine kept busy, only after
    # parallel.BUSY_SECONDS of work here (40,000 files took less). Links to two copies of this run's own: links
    # to the repository's file would add up over the runs pytest keeps, past the file system's limit (ext4: 65,000).
    for copy in range(2):
        source = folder / f"s{copy}00000.png"
        shutil.copyfile(SCREENSHOT, source)
        for index in range(1, 40000):
            os.link(source, folder / f"s{copy}{index:05}.png")
    return folder


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_optimize_stops_on_a_signal_whole_and_alone(photos, tmp_path, signum, status):
    """optimize -j2, signalled while its workers run: exit 128 + signal, one line, every output whole, no temporary
    left behind, and no process of its own (fork server, workers, resource tracker) still running."""
    out = tmp_path / "out"
    process = _start(["optimize", str(photos), "-o", str(out), "-m", "gpt-4o", "-j2"])
    _wait_for_workers(process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
    assert stderr.strip().splitlines()[-1] == b"interrupted: every file written so far is whole"
    _no_survivors(process.pid)
    written = sorted(out.iterdir()) if out.exists() else []
    assert len(written) < 60, "the run was not stopped"
    for path in written:
        if path.name == ".costcalc-optimize.json":
            continue
        assert path.name.endswith(".jpg"), f"left behind: {path.name}"
        with Image.open(path) as image:
            image.load()  # whole: a truncated JPEG raises here
    if signum != signal.SIGTERM:
        return
    # what the stopped run wrote is its own (the manifest says so): the same command again finishes the job
    again = subprocess.run(
        [sys.executable, "-m", "costcalc", "optimize", str(photos), "-o", str(out), "-m", "gpt-4o", "-j1"],
        capture_output=True,
        env=_env(),
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert len(list(out.glob("*.jpg"))) == 60


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_audit_stops_on_a_signal(many, signum, status):
    process = _start(["audit", str(many), "-m", "gpt-4o", "--nl", "-j2"])
    _wait_for_workers(process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert b"Traceback" not in stderr and stderr.strip().splitlines()[-1] == b"interrupted"
    _no_survivors(process.pid)


def test_a_signal_to_the_whole_group_at_start_up_is_no_traceback(photos, tmp_path):
    """Ctrl-C at a terminal reaches every process of the group, workers starting up included: one line, 130."""
    process = _start(["optimize", str(photos), "-o", str(tmp_path / "out"), "-m", "gpt-4o", "-j2"])
    deadline = time.monotonic() + 30
    while not _helpers(process):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGINT)  # a worker (or the fork server) is starting: as a terminal's Ctrl-C would
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr and b"KeyboardInterrupt" not in stderr
    _no_survivors(process.pid)


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "{many}", "-m", "gpt-4o", "--nl", "-j2"],
        ["audit", "{many}", "-m", "gpt-4o", "--csv", "-j1"],
        ["audit", "{many}", "-m", "gpt-4o", "-j2"],
    ],
)
def test_a_closed_stdout_ends_quietly_with_the_status_so_far(many, args):
    """`costcalc audit DIR --nl | head -1`: a real pipe whose reader leaves after one line. Every file read so far
    was priced, so the status is 0 (not 1), and nothing is said about the pipe."""
    process = _start([arg.format(many=many) for arg in args], stdout=subprocess.PIPE)
    assert process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr and b"Broken pipe" not in stderr and b"Error" not in stderr
    if args[0] == "audit":  # not the totals of what was read either: the reader asked for no more
        assert stderr == b"", stderr
    _no_survivors(process.pid)
