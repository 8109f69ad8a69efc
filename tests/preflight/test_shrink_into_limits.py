"""optimize does what the user means (issue 20): a size-free model never blocks the others; a file the API would
reject for its size is written as the largest copy every model accepts; a format a model refuses is converted; an
output over a byte limit is re-encoded or refused naming the model.

Expected figures come from the vendors' published limits (Claude: sides up to 8000 px, 2000 px above 20 images,
10 MB, https://docs.anthropic.com/en/docs/build-with-claude/vision; Qwen: aspect ratio at most 200:1) and from
Pillow reading what was written, never from costcalc's own sizing.
"""

import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc.catalog.limits as limits_module
from costcalc.cli import cli
from costcalc.errors import ImageRejectedError
from costcalc.preflight.optimize import optimize
from costcalc.preflight.planning import plan
from costcalc.preflight.tree import OptimizeTotals, optimize_paths

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def png(width, height, colour=(40, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def noise(width, height, fmt="PNG") -> bytes:
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **({"compress_level": 1} if fmt == "PNG" else {"quality": 95}))
    return out.getvalue()


def totals_of(sources, outdir, models):
    totals = OptimizeTotals()
    rows = [row for chunk in optimize_paths(sources, outdir, model=tuple(models)) for row in chunk]
    for row in rows:
        totals.add(row)
    return totals, rows


def test_a_size_free_model_saves_what_the_others_save(tmp_path):
    files = [SAMPLES / "photo.jpg", SAMPLES / "screenshot.png", SAMPLES / "phone-portrait.jpg"]
    with_gemini, rows = totals_of(files, tmp_path / "a", ["gpt-4o", "claude-sonnet-4-6", "gemini-3-flash-preview"])
    without, _ = totals_of(files, tmp_path / "b", ["gpt-4o", "claude-sonnet-4-6"])
    assert with_gemini.written == 3 and with_gemini.bytes_after == without.bytes_after < without.bytes_before
    assert with_gemini.tokens_after["gemini-3-flash-preview"] == with_gemini.tokens_before["gemini-3-flash-preview"]
    assert not any("gemini" in (row.note or "") for row in rows)  # said once, in the summary, not on every row
    # Claude sees photo.jpg (2560×1669) at 1372×894 (49 × 32 = 1,568 cells of 28 px, within 1,568 tokens)
    assert Image.open(tmp_path / "a" / "photo.jpg").size == (1372, 894)


def test_the_summary_says_once_which_model_accepts_any_size(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "optimize",
            str(SAMPLES / "photo.jpg"),
            str(SAMPLES / "screenshot.png"),
            "-o",
            str(tmp_path),
            "-m",
            "gpt-4o",
            "-m",
            "claude-sonnet-4-6",
            "-m",
            "gemini-3-flash-preview",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("gemini-3-flash-preview bills the same at any size") == 1
    assert "no published resize" not in result.output


def test_a_side_over_claudes_limit_is_shrunk_into_it(tmp_path):
    source = tmp_path / "wide.png"
    source.write_bytes(png(8400, 300))  # over Claude's 8000 px side
    result = optimize(source, model=["gpt-4o", "claude-sonnet-4-6"])
    written = Image.open(io.BytesIO(result.data))
    assert max(written.size) <= 8000 and abs(written.size[0] / written.size[1] - 28) < 0.5
    assert result.tokens_before["claude-sonnet-4-6"] is None and result.tokens_after["claude-sonnet-4-6"] > 0
    assert "max_side" in result.note and "claude-sonnet-4-6" in result.note
    with pytest.raises(ImageRejectedError, match="claude-sonnet-4-6"):
        optimize(source, model=["gpt-4o", "claude-sonnet-4-6"], fit_limits=False)


def test_more_than_20_images_a_request_means_2000_px_on_claude():
    assert max(plan(3000, 1500, model="claude-opus-4-7").target_width, 0) > 2000  # Opus 4.7 works from 2576 px
    for images in (None, 20):
        assert plan(3000, 1500, model="claude-opus-4-7", request_images=images).limited_by is None
    capped = plan(3000, 1500, model=["claude-opus-4-7", "gpt-4o"], request_images=21)
    assert max(capped.target_width, capped.target_height) <= 2000 and capped.limited_by == "max_images_side"
    assert "claude-opus-4-7" in capped.note and capped.tokens_before["claude-opus-4-7"] is None


def test_an_aspect_ratio_no_resize_fixes_stays_an_error():
    with pytest.raises(ImageRejectedError, match="qwen3-vl-plus.*aspect ratio over 200:1") as caught:
        plan(12000, 20, model=["gpt-4o", "qwen3-vl-plus"])
    assert caught.value.rule == "max_aspect"


def test_an_aspect_ratio_no_resize_fixes_is_an_error_row(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "strip.png").write_bytes(png(12000, 20))
    _, rows = totals_of([tmp_path / "src"], tmp_path / "out", ["gpt-4o", "qwen3-vl-plus"])
    assert [row.status for row in rows] == ["error"] and rows[0].rule == "max_aspect"
    assert "qwen3-vl-plus" in rows[0].error and not (tmp_path / "out" / "strip.png").exists()


@pytest.fixture
def small_claude_byte_limit(tmp_path, monkeypatch):
    """The shipped limits table with Anthropic's per-image limit lowered to 400,000 bytes."""
    shipped = (ROOT / "tables" / "limits.toml").read_text(encoding="utf-8")
    anchor = 'vendor = "anthropic"\nedition = "2026"\nscope = "image"\nrule = "max_image_bytes"\nvalue = 10_000_000'
    assert anchor in shipped
    table = tmp_path / "limits.toml"
    table.write_text(shipped.replace(anchor, anchor.replace("10_000_000", "400_000")), encoding="utf-8")
    monkeypatch.setattr(limits_module, "_file", lambda path: Path(path) if path else table)
    return 400_000


def test_an_output_over_a_byte_limit_is_re_encoded_at_lower_quality(tmp_path, small_claude_byte_limit):
    source = tmp_path / "noise.jpg"
    source.write_bytes(noise(1000, 700, "JPEG"))
    assert len(source.read_bytes()) > small_claude_byte_limit
    result = optimize(source, model=["gpt-4o", "claude-opus-4-7"])
    assert len(result.data) <= small_claude_byte_limit
    assert "quality" in result.note and "claude-opus-4-7" in result.note and "400,000-byte" in result.note
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"


def test_a_lossless_output_over_a_byte_limit_is_an_error_naming_the_model(tmp_path, small_claude_byte_limit):
    source = tmp_path / "noise.png"
    source.write_bytes(noise(500, 400))
    with pytest.raises(ImageRejectedError, match=r"claude-opus-4-7's 400,000-byte limit.*max_image_bytes") as caught:
        optimize(source, model=["gpt-4o", "claude-opus-4-7"])
    assert caught.value.rule == "max_image_bytes"
    assert len(optimize(source, model=["gpt-4o", "claude-opus-4-7"], format="jpeg").data) <= 400_000


def test_a_format_a_model_refuses_is_named_with_the_model():
    # Google's formats: PNG, JPEG, WEBP, HEIC, HEIF (https://ai.google.dev/gemini-api/docs/image-understanding)
    with pytest.raises(ImageRejectedError, match="gemini-3-flash-preview does not accept GIF"):
        optimize(SAMPLES / "icon.webp", model=["gpt-4o", "gemini-3-flash-preview"], format="gif")


def test_limit_errors_name_the_model_they_apply_to(tmp_path):
    big = tmp_path / "big.jpg"
    photo = (SAMPLES / "photo.jpg").read_bytes()
    big.write_bytes(photo[:-2] + bytes(11_000_000) + photo[-2:])  # over Claude's 10 MB, a whole JPEG all the same
    result = CliRunner().invoke(cli, ["estimate", str(big), "-m", "claude-sonnet-4-6", "-m", "gpt-4o"])
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "claude-sonnet-4-6" in errors[0] and "10,000,000-byte" in errors[0]
    written = optimize(big, model=["gpt-4o", "claude-sonnet-4-6"])  # the copy sent is what must fit: it does
    assert len(written.data) < 10_000_000 and written.tokens_after["claude-sonnet-4-6"] == 1568


def test_heic_is_converted_to_jpeg_for_openai_and_claude(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif", reason="decoding HEIC needs the heif extra (pillow-heif)")
    pillow_heif.register_heif_opener()
    source = tmp_path / "photo.heic"
    Image.new("RGB", (1600, 1200), (200, 80, 40)).save(source, "HEIF", quality=80)
    from costcalc.inspection.headers import inspect

    try:
        inspect(source)
    except Exception as error:  # header reading of HEIC lands with the formats work
        pytest.skip(f"HEIC headers are not read yet: {error}")
    result = optimize(source, model=["gpt-4o", "claude-sonnet-4-6"])
    assert result.format == "JPEG" and Image.open(io.BytesIO(result.data)).format == "JPEG"
    assert "HEIC" in result.note and "converted to JPEG" in result.note
    gemini = optimize(source, model="gemini-3-flash-preview")  # Gemini takes HEIC, but costcalc writes no HEIC
    assert gemini.format == "JPEG" and "read, not written" in gemini.note


def test_a_gif_for_gemini_is_written_as_png_under_a_png_name(tmp_path):
    # Google's formats leave GIF out; OpenAI's take it: one PNG (lossless, as a GIF is) both accept
    (tmp_path / "src").mkdir()
    Image.new("P", (300, 200), 3).save(tmp_path / "src" / "still.gif")
    _, rows = totals_of([tmp_path / "src"], tmp_path / "out", ["gpt-4o", "gemini-3-flash-preview"])
    assert [row.status for row in rows] == ["written"] and rows[0].output.endswith("still.png")
    assert Image.open(tmp_path / "out" / "still.png").format == "PNG"
    assert "GIF is not accepted by gemini-3-flash-preview: converted to PNG" in rows[0].note
    _, alone = totals_of([tmp_path / "src"], tmp_path / "out2", ["gpt-4o"])  # OpenAI takes GIF: kept as it is
    assert alone[0].output.endswith("still.gif") and Image.open(alone[0].output).format == "GIF"


def test_images_per_request_on_the_command_line(tmp_path):
    source = tmp_path / "wide.png"
    source.write_bytes(png(3000, 1500))
    result = CliRunner().invoke(
        cli,
        ["optimize", str(source), "-o", str(tmp_path / "out"), "-m", "claude-opus-4-7", "--images-per-request", "21"],
    )
    assert result.exit_code == 0, result.output
    assert max(Image.open(tmp_path / "out" / "wide.png").size) <= 2000 and "max_images_side" in result.output
