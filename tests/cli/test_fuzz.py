"""The command line never ends in a traceback, and exits only with its documented codes (issue 9).

Argument lists are drawn from the real commands and options (read from click,
so a new option is fuzzed too) with junk values, over files of every awkward
kind: random bytes, cut images, missing files, folders, a FIFO, unicode and
Latin-1 names, a header claiming a huge size, broken payloads and tables.
Ctrl-C is checked with a real SIGINT in a child process.
"""

from __future__ import annotations

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc.cli import cli

EXIT_CODES = {0, 1, 2, 4, 5, 130}
"""Every code the README and `--help` epilogs document."""

SKIPPED_OPTIONS = {
    "--in-place",
    "--engine",
}  # --in-place replaces the fuzz's own inputs; --engine ray starts a cluster (tests/runs/test_ray_engine.py)


def _png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> dict[str, list[str]]:
    """Paths of every kind, by role: images, payloads, tables, folders for output."""
    root = tmp_path_factory.mktemp("fuzz")
    frames = [Image.new("RGB", (20, 10), c) for c in ("red", "blue")]
    files = {
        "ok.png": _png(),
        "photo.jpg": (lambda b: (Image.new("RGB", (300, 200), "navy").save(b, "JPEG"), b.getvalue())[1])(io.BytesIO()),
        "cut.png": _png((300, 200))[:60],
        "noise.jpg": os.urandom(500),
        "empty.gif": b"",
        "giant.png": b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2**31 - 1, 65535, 8, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(b""))
        + _chunk(b"IEND", b""),
        "über ✓ 图.png": _png((7, 9)),
        "text.txt": b"hello",
        "payload.json": json.dumps(
            {
                "model": "gpt-4o",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "ok.png", "detail": "high"}},
                            {"type": "image_url", "image_url": {"url": "http://127.0.0.1:9/x.png"}},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                            {"type": "input_image", "file_id": "file-1"},
                        ],
                    }
                ],
            }
        ).encode(),
        "broken.json": b'{"model": "gpt-4o", "messages": [',
        "deep.json": b'{"messages": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        "odd.json": b'{"model": "gpt-4o", "messages": [{"content": [{"type": "image_url", "detail": ["high"], '
        b'"image_url": {"url": 5}}]}]}',
        "tables.toml": b'[[model]]\nname = "x"\nmultiplier = inf\n',
        "junk.toml": b"\xff\xfe not toml",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    frames[0].save(root / "moving.gif", save_all=True, append_images=frames[1:])
    with open(os.fsencode(root) + b"/caf\xe9.png", "wb") as handle:
        handle.write(_png((5, 5)))
    (root / "folder" / "deeper").mkdir(parents=True)
    (root / "folder" / "deeper" / "in.png").write_bytes(_png((64, 64)))
    os.symlink("missing-target", root / "folder" / "dangling.png")
    os.mkfifo(root / "fifo.png")
    everything = [str(root / name) for name in [*files, "moving.gif", "folder", "fifo.png"]]
    everything += [os.fsdecode(os.fsencode(root) + b"/caf\xe9.png"), str(root / "missing.png"), str(root)]
    payloads = [str(root / n) for n in ("payload.json", "broken.json", "deep.json", "odd.json", "ok.png", "empty.gif")]
    return {
        "paths": everything,
        "payloads": payloads + [str(root / "missing.json"), str(root / "folder")],
        "tables": [str(root / "tables.toml"), str(root / "junk.toml"), str(root / "missing.toml")],
        "outdirs": [str(root / "out"), str(root / "out2" / "nested"), str(root / "ok.png"), str(root / "folder")],
        "cwd": [str(root)],
    }


JUNK = st.one_of(
    st.sampled_from(
        [
            "",
            "-",
            "--",
            "0",
            "-1",
            "1e309",
            "nan",
            "inf",
            "$5",
            "99999999999999999999",
            "1x1",
            "0x0",
            "65536x65536",
            "2147483648x1",
            "huge",
            "gpt-4o",
            "GPT-4o",
            "gpt-6-astra",
            "claude-x",
            "high",
            "low",
            "original",
            "auto",
            "2023-2025",
            "1999",
            "*.png",
            "**",
            "a=b",
            "file-1=10x10",
            "=",
            "ID=WxH",
            "\u00e9",
            "图",
            os.fsdecode(b"\xff\xfe"),
            "ok.png",
        ]
    ),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    st.integers(-(10**20), 10**20).map(str),
)


def _mostly(plausible: st.SearchStrategy) -> st.SearchStrategy:
    """Plausible values four times in five, junk the rest: enough get past parsing to reach the work."""
    return st.integers(0, 4).flatmap(lambda pick: JUNK if pick == 0 else plausible)


PLAUSIBLE = {
    "sizes": st.sampled_from(["1024x768", "1x1", "65535x65535", "2147483647x2147483647", "300 x 200", "0x5"]),
    "edition": st.sampled_from(["2026-10", "2023-2025", "1999"]),
    "budget_usd": st.sampled_from(["0", "0.001", "$5", "1e-9", "100", "-1", "1e400", "nan"]),
    "globs": st.sampled_from(["*.png", "*.PNG", "deeper/*", "*", "[", "**/*.jpg"]),
    "excludes": st.sampled_from(["*.png", "folder", "*", "["]),
    "file_sizes": st.sampled_from(["file-1=10x10", "file-1=0x0", "file-1", "=", "file-1=99999999999x1"]),
}


def _option_values(option: click.Option, pool: dict) -> st.SearchStrategy:
    kind = option.type
    name = option.name or ""
    if isinstance(kind, click.Choice):
        return _mostly(st.sampled_from(list(kind.choices)))
    if name == "table_files":
        return st.sampled_from(pool["tables"])
    if name == "outdir":
        return _mostly(st.sampled_from(pool["outdirs"]))
    if name == "jobs":
        return st.sampled_from(["1", "1", "2", "0", "-3", "many"])
    if isinstance(kind, (click.IntRange, click.FloatRange)):
        return _mostly(st.one_of(st.integers(-5, 5000).map(str), st.sampled_from(["0.1", "1e400", "-0", "3.5"])))
    if name in ("models", "model"):
        return _mostly(st.sampled_from(["gpt-4o", "gpt-6-astra", "gpt-4.1-mini", "GPT-4o", "gpt-5.4"]))
    if name in PLAUSIBLE:
        return _mostly(PLAUSIBLE[name])
    return JUNK


@st.composite
def argument_lists(draw, pool: dict) -> list[str]:
    name = draw(st.sampled_from(sorted(cli.commands)))
    command = cli.commands[name]
    args = [name]
    options = [p for p in command.params if isinstance(p, click.Option)]
    for option in draw(st.lists(st.sampled_from(options), max_size=7)) if options else []:
        flags = [flag for flag in option.opts + option.secondary_opts if flag not in SKIPPED_OPTIONS]
        if not flags:
            continue
        flag = draw(st.sampled_from(flags))
        if option.is_flag:
            args.append(flag)
        else:
            args += [flag, draw(_option_values(option, pool))]
    if name in ("estimate", "audit", "optimize", "video") and draw(st.integers(0, 4)):
        args += ["-m", draw(st.sampled_from(["gpt-4o", "gpt-6-astra"]))]
    if name == "optimize" and draw(st.integers(0, 4)):
        args += ["-o", pool["outdirs"][0]]
    positional = [p for p in command.params if isinstance(p, click.Argument)]
    if positional:
        if name == "request":
            args.append(draw(st.sampled_from(pool["payloads"])))
        else:
            args += draw(st.lists(_mostly(st.sampled_from(pool["paths"])), min_size=0, max_size=4))
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(0, len(args))), draw(JUNK))  # a stray word anywhere
    if draw(st.integers(0, 19)) == 0:
        args.append(draw(st.sampled_from(["--help", "-h", "--version"])))
    return args


def _check(result, args) -> None:
    assert "Traceback" not in result.output, (args, result.output)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}: {result.exception}") from result.exception
    assert result.exit_code in EXIT_CODES, (args, result.exit_code, result.output)


@settings(
    max_examples=int(os.environ.get("COSTCALC_FUZZ_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_arguments_never_print_a_traceback(pool, data):
    args = data.draw(argument_lists(pool))
    if args[0] == "request" and args[-1].endswith("fifo.png"):
        return  # opening a FIFO with no writer waits, as `cat` does
    runner = CliRunner()
    env = {"COSTCALC_MODEL": None, "COSTCALC_TABLES": None}
    env |= dict.fromkeys(("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"))  # probe: offline
    cwd = os.getcwd()
    os.chdir(pool["cwd"][0])
    try:
        result = runner.invoke(cli, args, env=env, catch_exceptions=True)
    finally:
        os.chdir(cwd)
    _check(result, args)


@pytest.mark.parametrize(
    "args",
    [
        ["estimate", "--size", "2147483648x1", "-m", "gpt-4o"],
        ["estimate", "--size", "99999999999999999999999x2", "-m", "gpt-4o"],
        ["audit", ".", "-m", "gpt-4o", "-m", "gpt-4o", "--max-tokens", "99999999999999999999999"],
        ["request", "deep.json"],
        ["request", "odd.json", "--json"],
        ["request", "payload.json", "--fetch", "--allow-private", "--timeout", "0.5", "--csv"],
        ["request", "payload.json", "--file-size", "file-1=0x0"],
        ["optimize", "giant.png", "-o", "out", "-m", "gpt-4o", "--nl"],
        ["optimize", "folder", "noise.jpg", "-o", "out", "-m", "gpt-4o", "--quality", "100", "--format", "webp"],
        ["estimate", "ok.png", "-m", "gpt-4o", "--tables", "tables.toml"],
        ["models", "--tables", "junk.toml"],
        ["video", "ok.png", "noise.jpg", "-m", "gpt-4o", "--json"],
        ["estimate", "fifo.png", "folder", "missing.png", "-m", "gpt-4o", "--csv"],
    ],
)
def test_known_edges(pool, args):
    cwd = os.getcwd()
    os.chdir(pool["cwd"][0])
    try:
        result = CliRunner().invoke(cli, args, env={"COSTCALC_MODEL": None, "COSTCALC_TABLES": None})
    finally:
        os.chdir(cwd)
    _check(result, args)


# ------------------------------------------------------------------ Ctrl-C


def _start(args, cwd) -> subprocess.Popen:
    # SIGINT as a terminal delivers it, even if this test runs where it is ignored (a background job)
    return subprocess.Popen(
        [sys.executable, "-m", "costcalc", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _started(process: subprocess.Popen, waiting_in: str | None = None, seconds: float = 20) -> None:
    """Wait until start-up is over: the child waits in the kernel function `waiting_in`, or has run a while."""
    deadline = time.monotonic() + seconds
    while waiting_in and time.monotonic() < deadline and process.poll() is None:
        try:
            if Path(f"/proc/{process.pid}/wchan").read_text().strip() == waiting_in:
                return
        except OSError:
            break  # no /proc: fall back on time
        time.sleep(0.02)
    time.sleep(0.8)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or sys.platform == "win32", reason="POSIX signals and FIFOs")
def test_ctrl_c_while_blocked_exits_130(tmp_path):
    """`request` waits to open a FIFO nobody writes: a real SIGINT then exits 130, one line, no traceback."""
    fifo = tmp_path / "payload.json"
    os.mkfifo(fifo)
    process = _start(["request", str(fifo)], tmp_path)
    _started(process, "wait_for_partner")  # Linux: blocked opening the FIFO, as the test means
    assert process.poll() is None, "the command should still be waiting on the FIFO"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_during_an_audit_exits_130(tmp_path, jobs):
    """A real SIGINT in the middle of an audit (its output pipe full, rows still to come): 130, no traceback."""
    data = _png((8, 8))
    for i in range(3000):  # about 1 MB of --nl rows: more than a pipe holds
        (tmp_path / f"{i:05d}.png").write_bytes(data)
    process = _start(["audit", str(tmp_path), "-m", "gpt-4o", "--nl", "-j", jobs], tmp_path)
    _started(process, "anon_pipe_write")  # Linux: blocked writing rows nobody reads yet
    assert process.poll() is None, "the audit should still be running"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert 0 < out.count(b"\n") < 3000  # stopped part-way
