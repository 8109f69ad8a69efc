"""Each vendor's input rules apply to its own models, in every command; no vendor borrows another's (docs/README.md)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc
from costcalc.catalog.limits import limits_for, load_limits
from costcalc.cli import cli


def animated_gif(path) -> None:
    frames = [Image.new("RGB", (64, 48), color) for color in ("red", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def test_openai_rejects_an_animated_gif_claude_takes_its_first_frame(tmp_path):
    # OpenAI: still images only (docs/limits.md); Claude: GIF accepted, first frame of an animation (docs/anthropic.md).
    gif = tmp_path / "anim.gif"
    animated_gif(gif)
    with pytest.raises(costcalc.AnimatedImageError):
        costcalc.estimate(gif, model="gpt-4o")
    claude = costcalc.estimate(gif, model="claude-sonnet-4-5")
    assert claude.tokens == 3 * 2  # ceil(64/28) × ceil(48/28), docs/anthropic.md
    rows = {row.model: row for row in costcalc.audit([tmp_path], models=["gpt-4o", "claude-sonnet-4-5"])}
    assert rows["gpt-4o"].status == "rejected" and rows["gpt-4o"].rule == "animated"
    assert rows["claude-sonnet-4-5"].status == "priced" and rows["claude-sonnet-4-5"].tokens == 6


def test_the_same_verdict_from_every_command_for_each_vendor(tmp_path):
    gif = tmp_path / "anim.gif"
    animated_gif(gif)
    runner = CliRunner()
    for model, expected in (("gpt-4o", 1), ("claude-sonnet-4-5", 0), ("mistral-small-3.2", 1)):
        estimate = runner.invoke(cli, ["estimate", str(gif), "-m", model, "--json"])
        audit = runner.invoke(cli, ["audit", str(tmp_path), "-m", model, "--nl", "-j", "1"])
        assert estimate.exit_code == expected, (model, estimate.output)
        assert audit.exit_code == expected, (model, audit.output)
        status = json.loads(audit.stdout.splitlines()[0])["status"]
        assert status == ("priced" if expected == 0 else "rejected")


def test_a_vendor_without_rows_has_no_rules_rather_than_openais():
    llama = costcalc.get_model("llama-4-scout")  # hosts publish no input limits (docs/README.md)
    limits = limits_for(llama)
    assert limits.edition == "none" and not limits.rules
    assert load_limits().rules  # OpenAI's own rows are still there
    with pytest.raises(costcalc.TableError, match="no edition '2026-10'"):
        limits_for(llama, "2026-10")


def test_the_audit_footer_names_each_vendors_edition(tmp_path):
    Image.new("RGB", (10, 10)).save(tmp_path / "a.png")
    out = CliRunner().invoke(
        cli, ["audit", str(tmp_path), "-m", "gpt-4o", "-m", "claude-opus-4-7", "--json", "-j", "1"]
    )
    document = json.loads(out.stdout)
    assert document["limits"].startswith("openai 2026-10, anthropic ")


def test_limits_lists_every_vendor_and_says_the_rest_are_unknown():
    out = CliRunner().invoke(cli, ["limits"]).output
    assert "anthropic" in out and "google" in out and "unknown, not borrowed" in out


def test_video_says_how_sure_each_vendors_figure_is():
    # Gemini 3 publishes a ceiling per image (docs/google.md): a clip's frames are at most 1,120 each.
    pytest.importorskip("av")
    from pathlib import Path

    clip = Path(__file__).resolve().parents[2] / "examples" / "clip.mp4"
    gemini = costcalc.video_estimate(clip, model="gemini-3-pro-preview")
    gpt = costcalc.video_estimate(clip, model="gpt-4o")
    assert (gemini.basis, gemini.tokens_per_frame) == ("maximum", 1120)
    assert gpt.basis == "exact" and gpt.as_dict()["basis"] == "exact"
    out = CliRunner().invoke(cli, ["video", str(clip), "-m", "gemini-3-pro-preview", "--tier", "priority"]).output
    assert "≤ 11,200" in out and "a documented maximum" in out and "gemini-3-pro-preview: USD unknown" in out
