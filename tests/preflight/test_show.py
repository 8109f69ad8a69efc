"""`costcalc show`: the image as each model sees it, with the billed grid over it (issue 20).

Expected grids are the vendors' published figures for samples/photo.jpg (2560 × 1669): gpt-4o at high detail fits
2048, caps the short side at 768 → 1178 × 768, 3 × 2 tiles of 512 px, 85 + 170 × 6 = 1,105 tokens
(https://platform.openai.com/docs/guides/images-vision); Claude Sonnet 4.5 works from 1372 × 894, 49 × 32 cells
of 28 px = 1,568 tokens (https://docs.anthropic.com/en/docs/build-with-claude/vision).
"""

import base64
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from costcalc.errors import OutputConflictError
from costcalc.preflight.picture import panels, show, write_show

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photo.jpg"
SVG = "{http://www.w3.org/2000/svg}"


def test_panels_carry_each_models_grid_and_caption():
    gpt, claude, gemini = panels(2560, 1669, ["gpt-4o", "claude-sonnet-4-6", "gemini-3-flash-preview"])
    assert gpt.seen == (1178, 768) and (gpt.grid.columns, gpt.grid.rows, gpt.grid.cell) == (3, 2, 512)
    assert gpt.tokens == 1105 and "1,105 tokens, $0.0027625 (exact)" in gpt.caption()
    assert claude.seen == (1372, 894) and (claude.grid.columns, claude.grid.rows, claude.grid.cell) == (49, 32, 28)
    assert gemini.grid is None and "no grid" in gemini.note and gemini.basis == "maximum"
    assert any(line.startswith("≤ 1,120 tokens") for line in gemini.caption())


def test_svg_is_self_contained_with_the_grid_in_the_models_pixels(tmp_path):
    out = tmp_path / "grid.svg"
    write_show(PHOTO, ["gpt-4o", "claude-sonnet-4-6"], out)
    text = out.read_text(encoding="utf-8")
    assert not re.search(r'(href|src)="(?!data:)', text)  # nothing fetched: every picture is a data URL
    root = ET.fromstring(text)
    inner = root.findall(f"{SVG}svg")
    assert [panel.get("viewBox") for panel in inner] == ["0 0 1178 768", "0 0 1372 894"]
    paths = [panel.find(f"{SVG}path").get("d") for panel in inner]
    assert paths[0].count("M") == (3 + 1) + (2 + 1) and paths[1].count("M") == (49 + 1) + (32 + 1)
    assert "M512 0V768" in paths[0] and "M1024 0V768" in paths[0] and "M0 512H1178" in paths[0]
    href = inner[0].find(f"{SVG}image").get("href")
    embedded = Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1])))
    assert embedded.format == "JPEG" and abs(embedded.size[0] / embedded.size[1] - 1178 / 768) < 0.01
    captions = " ".join(t.text for t in root.iter(f"{SVG}text"))
    assert "1,105 tokens" in captions and "1,568 tokens" in captions


def test_png_has_one_panel_per_model_side_by_side(tmp_path):
    out = tmp_path / "grid.png"
    write_show(PHOTO, ["gpt-4o", "claude-sonnet-4-6", "gemini-3-flash-preview"], out)
    picture = Image.open(out)
    assert picture.format == "PNG" and picture.width > 3 * 300 and picture.height < picture.width
    rgb = picture.convert("RGB")
    # gpt-4o's panel: 512 px wide for 1178 px seen, its first tile line at 512 × 512 / 1178 ≈ 222.5 px from the left
    left, top = 16, 16
    row = top + 40  # in the sky: blue, except on a grid line
    line = rgb.getpixel((left + 222, row)), rgb.getpixel((left + 223, row))
    sky = rgb.getpixel((left + 150, row))
    assert sky[2] > sky[0] and any(r > sky[0] + 40 for r, _, _ in line)  # the line is pink over blue


def test_a_pillow_image_and_a_model_that_rejects_it():
    picture = Image.new("RGB", (9000, 300), (10, 200, 30))
    drawn = show(picture, ["gpt-4o", "claude-sonnet-4-6"])
    assert isinstance(drawn, Image.Image)
    claude = panels(9000, 300, ["claude-sonnet-4-6"])[0]
    assert claude.seen is None and "8,000 px" in claude.error and claude.caption()[1].startswith("rejected:")


def test_an_existing_file_is_never_replaced_unless_asked(tmp_path):
    out = tmp_path / "grid.png"
    out.write_bytes(b"mine")
    with pytest.raises(OutputConflictError, match="already exists"):
        write_show(PHOTO, "gpt-4o", out)
    assert out.read_bytes() == b"mine"
    write_show(PHOTO, "gpt-4o", out, replace=True)
    assert Image.open(out).format == "PNG"
    with pytest.raises(ValueError, match=".png or .svg"):
        write_show(PHOTO, "gpt-4o", tmp_path / "grid.gif")


def cli(*args):
    from click.testing import CliRunner

    from costcalc.cli import cli as command

    return CliRunner().invoke(command, [str(a) for a in args])


def test_the_command_writes_the_picture_and_says_each_caption(tmp_path):
    out = tmp_path / "grid.svg"
    result = cli("show", PHOTO, "-m", "gpt-4o,claude-sonnet-4-6", "-o", out)
    assert result.exit_code == 0, result.output
    assert "sees 1178×768, 3×2 = 6 tiles of 512 px · 1,105 tokens" in result.output
    assert "sees 1372×894, 49×32 = 1,568 cells of 28 px · 1,568 tokens" in result.output
    assert out.read_text(encoding="utf-8").startswith("<svg")
    again = cli("show", PHOTO, "-m", "gpt-4o", "-o", out)
    assert again.exit_code == 2 and "--output" in again.output and "--force" in again.output
    assert cli("show", PHOTO, "-m", "gpt-4o", "-o", out, "--force").exit_code == 0


def test_the_command_says_one_line_for_bad_input(tmp_path):
    unreadable = cli("show", tmp_path / "missing.jpg", "-m", "gpt-4o", "-o", tmp_path / "a.png")
    assert (
        unreadable.exit_code == 1 and unreadable.output.startswith("Error: ") and "Traceback" not in unreadable.output
    )
    wrong_kind = cli("show", PHOTO, "-m", "gpt-4o", "-o", tmp_path / "a.gif")
    assert wrong_kind.exit_code == 2 and ".png or .svg" in wrong_kind.output
    unknown = cli("show", PHOTO, "-m", "gpt-4x", "-o", tmp_path / "a.png")
    assert unknown.exit_code == 2 and "gpt-4x" in unknown.output
    assert not list(tmp_path.iterdir())


def test_a_palette_png_is_smaller(tmp_path):
    full, small = tmp_path / "full.png", tmp_path / "small.png"
    assert cli("show", PHOTO, "-m", "gpt-4o", "-o", full).exit_code == 0
    assert cli("show", PHOTO, "-m", "gpt-4o", "-o", small, "--palette").exit_code == 0
    assert Image.open(small).mode == "P" and small.stat().st_size < full.stat().st_size / 2


def test_each_schemes_grid_adds_up_to_its_bill():
    # photo.jpg on Mistral Small: 1540 × 1004, 55 × 36 cells of 28 px + 36 break tokens = 2,016 (mistral-common);
    # on Qwen3-VL-Plus: 1984 × 1280, 62 × 40 cells of 32 px + 2 = 2,482; on gpt-5.4: 61 × 40 patches of 32 px
    mistral, qwen, gpt = panels(2560, 1669, ["mistral-small-3.2", "qwen3-vl-plus", "gpt-5.4"])
    assert (mistral.grid.columns, mistral.grid.rows, mistral.grid.cell, mistral.tokens) == (55, 36, 28, 2016)
    assert mistral.grid.columns * mistral.grid.rows + mistral.grid.rows == mistral.tokens
    assert qwen.seen == (1984, 1280) and qwen.grid.columns * qwen.grid.rows + 2 == qwen.tokens == 2482
    assert (gpt.grid.columns, gpt.grid.rows, gpt.grid.unit) == (61, 40, "patch")
    low = panels(2560, 1669, ["gpt-4o"], detail="low")[0]
    assert low.grid is None and low.tokens == 85 and "85 tokens whatever the size" in low.note
