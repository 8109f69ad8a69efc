"""Edge cases from the hunt (issues 9, 10): video sampling rates, vendor limits, format wording, Ctrl-C at
start-up, table files that are not files, alias loops, batch tiers, Latin-1 file URLs. One test per defect."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tomllib
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc.catalog.limits import load_limits
from costcalc.cli import cli
from costcalc.errors import ImageRejectedError, TableError, TierError, UnsupportedFormatError
from costcalc.inspection import clip as clip_module
from costcalc.inspection.clip import ClipInfo, sample

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "examples" / "clip.mp4"
SAMPLES = ROOT / "samples"
BATCH = ROOT / "examples" / "batch-listings.jsonl"


def clip(frames=300, rate=30, duration=None, starts=None) -> ClipInfo:
    """A clip's metadata as clip_info gives it (10 s at 30 fps by default), without a file."""
    duration = Fraction(frames, rate) if duration is None else duration
    return ClipInfo("c.mp4", "video", 1280, 720, 0, frames, True, Fraction(rate), duration, starts)


# ------------------------------------------------------------------ 1, 2: --fps


@pytest.mark.parametrize("fps", ["nan", "inf", "NaN", "1e999"])
def test_1_a_non_finite_fps_is_a_bad_argument(fps):
    result = CliRunner().invoke(cli, ["video", str(CLIP), "-m", "gpt-4o", "--fps", fps])
    assert result.exit_code == 2, result.output
    assert "--fps" in result.output and "finite" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="finite"):
        sample(clip(), fps=float(fps))


def test_2_a_rate_above_the_clips_sends_every_frame_and_the_work_is_bounded_by_the_frame_count(monkeypatch):
    calls = []
    real = clip_module._frame_at

    def counted(info, time):
        calls.append(time)
        if len(calls) > info.frames:
            raise AssertionError("more steps than the clip has frames")
        return real(info, time)

    monkeypatch.setattr(clip_module, "_frame_at", counted)
    for fps in (1e10, 1e300, 31.0):
        calls.clear()
        indices, text = sample(clip(), fps=fps)
        assert list(indices) == list(range(300)) and len(text) < 80 and "every frame" in text
    indices, text = sample(clip(), fps=1e-300)  # one instant, at 0: the first frame
    assert list(indices) == [0] and text == "1e-300 frames a second"
    assert sample(clip(), fps=0.5)[1] == "0.5 frames a second" and sample(clip(), fps=1 / 3)[1].startswith("0.333333 ")


def _by_instants(frames: int, rate: int, duration: Fraction, fps: Fraction, starts=None) -> list[int]:
    """The oracle: the frame shown at each instant k/fps before the end, read off the frame spans by hand."""
    picked, k = set(), 0
    while Fraction(k) / fps < duration:
        t = Fraction(k) / fps
        if starts is None:
            index = (t.numerator * rate) // t.denominator  # floor(t × rate)
        else:
            index = max(i for i, start in enumerate(starts) if start <= t)
        if index < frames:
            picked.add(index)
        k += 1
    return sorted(picked) or [0]


@settings(max_examples=150, deadline=None)
@given(
    frames=st.integers(1, 60),
    rate=st.integers(1, 30),
    extra=st.integers(-20, 20),
    fps=st.fractions(min_value=Fraction(1, 50), max_value=200),
)
def test_2_sampling_picks_the_frame_shown_at_each_instant(frames, rate, extra, fps):
    duration = Fraction(frames, rate) + Fraction(extra, 100)
    if duration <= 0:
        return
    indices, _ = sample(clip(frames, rate, duration), fps=fps)
    assert list(indices) == _by_instants(frames, rate, duration, fps)


@settings(max_examples=100, deadline=None)
@given(
    durations=st.lists(st.integers(10, 400), min_size=1, max_size=30),
    fps=st.fractions(min_value=Fraction(1, 10), max_value=500),
)
def test_2_gif_frames_of_unequal_length(durations, fps):
    starts = [sum(Fraction(d, 1000) for d in durations[:i]) for i in range(len(durations))]
    total = sum(Fraction(d, 1000) for d in durations)
    info = ClipInfo("a.gif", "GIF", 64, 48, 0, len(durations), True, len(durations) / total, total, tuple(starts))
    assert list(sample(info, fps=fps)[0]) == _by_instants(len(durations), 0, total, fps, starts)


# ------------------------------------------------------------------ 9, 10: vendor limits and format words


def test_9_qwens_10_mb_per_image_and_novas_rows_are_checked():
    near = costcalc.ImageInfo("JPEG", 100, 100, 1, False, 1, 10_000_000)
    over = near._replace(bytes=10_000_001)
    assert (
        costcalc.estimate(near, model="qwen3-vl-plus").tokens == 11
    )  # docs/qwen.md: round(100/32)·32 = 96; 96²/32² + 2
    with pytest.raises(ImageRejectedError) as caught:
        costcalc.estimate(over, model="qwen3-vl-plus")
    assert caught.value.rule == "max_image_bytes" and "10,000,000-byte limit" in str(caught.value)
    nova = load_limits(vendor="amazon").rules
    assert nova["formats"].value == ("PNG", "JPEG", "WEBP", "GIF")
    assert nova["max_request_bytes"].value == 25_000_000 and "Nova" in nova["max_request_bytes"].source
    with pytest.raises(costcalc.UnsupportedFormatError):
        costcalc.estimate(SAMPLES / "scan.bmp", model="nova-lite")


def test_10_the_format_refusal_claims_no_vendors_rule_and_limits_lists_the_size_rules():
    for model in ("qwen3-vl-plus", "nova-lite", "llama-4-scout", "gpt-4o"):
        with pytest.raises(UnsupportedFormatError) as caught:
            costcalc.estimate(SAMPLES / "scan.bmp", model=model)
        text = str(caught.value)
        assert "cannot read: BMP headers are not read by costcalc" in text
        assert "accepted by the API" not in text and "non-animated" not in text
        assert caught.value.rule == "formats" and caught.value.format == "BMP"
    rows = json.loads(CliRunner().invoke(cli, ["limits", "--json"]).output)
    size = {(r["vendor"], r["rule"]): r["value"] for r in rows if r["scope"] == "size"}
    assert size[("anthropic", "max_side")] == 8000 and size[("mistral", "max_side")] == 10000
    assert size[("qwen", "min_side")] == 11 and size[("qwen", "max_aspect")] == 200
    assert size[("amazon", "max_side")] == 8000 and size[("openai", "max_patches")] == 30000
    assert all(r["source"] for r in rows)


# ------------------------------------------------------------------ 13: Ctrl-C while the command loads

_SLOW_CLICK = """
import importlib.abc, sys, time
class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "click":  # the CLI's first heavy import: hold start-up here
            sys.stdout.write("loading\\n"); sys.stdout.flush(); time.sleep(60)
        return None
sys.meta_path.insert(0, Slow())
sys.argv = ["costcalc", "models"]
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    "run",
    [
        "import costcalc.console as c; c.main()",
        "import runpy; runpy.run_module('costcalc', run_name='__main__', alter_sys=True)",
    ],
)
def test_13_ctrl_c_while_the_cli_is_imported_exits_130(run):
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_CLICK + run],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout.readline() == b"loading\n", process.stderr.read()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["costcalc"] == "costcalc.console:main"


# ------------------------------------------------------------------ 14: table files that are not files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_14_a_fifo_table_is_refused_not_read_forever_and_empty_env_entries_are_ignored(tmp_path):
    fifo = tmp_path / "t.toml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "costcalc", "estimate", "--size", "1x1", "-m", "gpt-4o", "--tables", str(fifo)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "named pipe" in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(TableError, match="named pipe"):
        costcalc.load_tables(fifo)
    result = CliRunner().invoke(cli, ["estimate", "--size", "10x10", "-m", "gpt-4o"], env={"COSTCALC_TABLES": ":::"})
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ 15: alias loops


@pytest.mark.parametrize(
    "names, shown",
    [
        ('{ "a" = "b", "b" = "a" }', "a → b → a"),
        ('{ "x" = "x" }', "'x' names itself"),
        ('{ "p" = "q", "q" = "r", "r" = "q" }', "q → r → q"),
    ],
)
def test_15_alias_loops_are_table_errors(tmp_path, names, shown):
    table = tmp_path / "aliases.toml"
    table.write_text(f"[aliases]\nnames = {names}\n")
    with pytest.raises(TableError, match=shown):
        costcalc.load_tables(table)
    ours = tmp_path / "openai.toml"  # a loop with the shipped alias gpt-5.6 → gpt-5.6-sol
    ours.write_text('vendor = "openai"\n[aliases]\nnames = { "gpt-5.6-sol" = "gpt-5.6" }\n')
    with pytest.raises(TableError, match="gpt-5.6 → gpt-5.6-sol → gpt-5.6"):
        costcalc.load_tables(ours)


# ------------------------------------------------------------------ 16: a tier the batch's model lacks


def test_16_a_tier_the_batch_files_model_lacks_is_a_bad_argument_up_front():
    result = CliRunner().invoke(cli, ["request", str(BATCH), "--tier", "flex"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: {BATCH}:1: gpt-4.1-mini has no tier flex; it has: standard, batch, fast"
    ]
    given = CliRunner().invoke(cli, ["request", str(BATCH), "--tier", "flex", "-m", "claude-sonnet-4-5"])
    assert given.exit_code == 2 and "claude-sonnet-4-5 has no tier flex" in given.output
    with pytest.raises(TierError):
        costcalc.count_batch(BATCH, tier="flex")
    assert CliRunner().invoke(cli, ["request", str(BATCH), "--tier", "priority"]).exit_code == 0


# ------------------------------------------------------------------ 18: file URLs of Latin-1 names


def test_18_a_file_url_is_percent_decoded_to_bytes(tmp_path):
    data = io.BytesIO()
    Image.new("RGB", (300, 200)).save(data, "PNG")
    try:
        with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.png"), "wb") as handle:  # a Latin-1 name
            handle.write(data.getvalue())
    except (OSError, UnicodeError):
        pytest.skip("this file system takes UTF-8 names only")
    (tmp_path / "café.png").write_bytes(data.getvalue())
    for name in ("caf%E9.png", "caf%C3%A9.png"):
        url = f"file://{tmp_path.as_posix()}/{name}"
        payload = {
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url, "detail": "low"}}]}
            ],
        }
        image = costcalc.count_request(payload).images[0]
        assert image.error is None and (image.width, image.height, image.tokens) == (300, 200, 85), image.error
