"""optimize and the MCP server at the edges the hunt found (issues 9, 10; /tmp/team/HUNT.md items 3, 4, 5, 11, 17,
19, 20, 21): each test failed before its fix.

Expected figures come from the SPEC or from Pillow reading the written files, never from costcalc itself.
"""

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc.cli import cli
from costcalc.errors import ImageRejectedError, PlanError
from costcalc.inspection.headers import inspect
from costcalc.preflight.planning import plan

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photo.jpg"  # 2560 × 1669 JPEG (docs/openai.md)
ICON = ROOT / "samples" / "icon.webp"  # 512 × 512


def run(*args, cwd=None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli, [str(a) for a in args])


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR (8-bit RGB), nothing more."""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))


def noisy_jpeg(size, quality, exif=None) -> bytes:
    """Random pixels as a JPEG at a low quality: a re-encode at 85 comes out larger."""
    pixels = np.random.default_rng(7).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return out.getvalue()


# ------------------------------------------------------------------ 3: budgets only where sizes are priced surely


@pytest.mark.parametrize("model", ["nova-lite", "llama-4-scout", "gemini-2.0-flash", "gemini-2.5-flash"])
def test_a_budget_on_an_approximate_rule_is_refused_not_a_2x1_image(model):
    """docs/google.md/docs/README.md: these counts are approximate; the search found 2 × 1 (nova-lite's "≈ 800" for 900 × 450)."""
    with pytest.raises(PlanError, match=rf"{model}.*approximate"):
        plan(2560, 1669, model=model, max_tokens=900)
    with pytest.raises(PlanError, match=rf"{model}.*approximate"):
        plan(2560, 1669, model=["gpt-4o", model], max_tokens=5000)


def test_optimize_refuses_an_approximate_budget_before_writing(tmp_path):
    result = run("optimize", PHOTO, "-o", tmp_path / "out", "-m", "nova-lite", "--max-tokens", 900)
    assert result.exit_code == 2, result.output
    assert "nova-lite" in result.stderr and "approximate" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_size_independent_count_keeps_the_original_within_a_budget():
    """Nova 2 is a flat 230 (docs/README.md), Gemini 3 at most 1,120 by default (docs/google.md) at any size: no resize invented."""
    for model, budget in (("nova-2-lite", 900), ("gemini-3.1-pro-preview", 2000)):
        p = plan(2560, 1669, model=model, max_tokens=budget)
        assert (p.target_width, p.target_height) == (2560, 1669)
    with pytest.raises(PlanError, match="1,120"):
        plan(2560, 1669, model="gemini-3.1-pro-preview", max_tokens=1000)


EXACT = ["gpt-4o", "gpt-5.4", "claude-sonnet-4-6", "mistral-small-3.2", "qwen3-vl-plus", "pixtral-12b"]


@settings(max_examples=150, deadline=None)
@given(
    models=st.lists(st.sampled_from(EXACT), min_size=1, max_size=3, unique=True),
    w=st.integers(1, 5000),
    h=st.integers(1, 5000),
    budget=st.integers(0, 5000),
)
def test_budget_sizes_keep_the_aspect_of_the_original(models, w, h, budget):
    """The budget size's short side is within one pixel of the original's aspect at that long side."""
    try:
        p = plan(w, h, model=models, max_tokens=budget)
    except PlanError:
        return
    except ImageRejectedError:  # a source a model rejects outright
        return
    bw, bh = p.budget_width, p.budget_height
    assert abs(min(bw, bh) - min(w, h) * max(bw, bh) / max(w, h)) <= 1
    assert (bw >= bh) == (w >= h) or w == h or abs(bw - bh) <= 1


# ------------------------------------------------------------------ 4: files flat, folders by name, clashes refused


def test_file_paths_are_written_flat_into_outdir(tmp_path, monkeypatch):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "p.png").write_bytes(png_bytes((40, 30)))
    result = run("optimize", PHOTO, ICON, tmp_path / "photos", "-o", tmp_path / "out", "-m", "gpt-4o", "-j", 1)
    assert result.exit_code == 0, result.output
    written = sorted(
        str(p.relative_to(tmp_path / "out"))
        for p in (tmp_path / "out").rglob("*")
        if p.is_file() and p.name != ".costcalc-optimize.json"
    )
    assert written == ["icon.webp", "photo.jpg", "photos/p.png"]
    assert Image.open(tmp_path / "out" / "photo.jpg").size == (1178, 768)  # docs/openai.md


def png_bytes(size) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_clashing_file_outputs_are_refused_before_writing(tmp_path, monkeypatch):
    jpeg, webp = PHOTO.read_bytes(), ICON.read_bytes()
    (tmp_path / "photo.jpg").write_bytes(jpeg)
    (tmp_path / "photo.webp").write_bytes(webp)
    result = run(
        "optimize",
        "photo.jpg",
        "photo.webp",
        "-o",
        ".",
        "-m",
        "gpt-4o",
        "--format",
        "webp",
        "--force",
        cwd=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 2, result.output
    assert "File exists" not in result.output and "photo.webp" in result.stderr
    assert (tmp_path / "photo.jpg").read_bytes() == jpeg and (tmp_path / "photo.webp").read_bytes() == webp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.jpg", "photo.webp"]


def test_a_folder_output_where_a_file_output_goes_is_refused(tmp_path, monkeypatch):
    (tmp_path / "p.jpg").mkdir()  # a folder named like an image
    (tmp_path / "p.jpg" / "a.png").write_bytes(png_bytes((20, 20)))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "p.jpg").write_bytes(PHOTO.read_bytes())
    result = run("optimize", "p.jpg", "other/p.jpg", "-o", "out", "-m", "gpt-4o", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "out/p.jpg" in result.stderr, result.output
    assert not (tmp_path / "out").exists()
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / "p.jpg").write_bytes(b"a file where a folder is needed")
    result = run("optimize", "p.jpg", "other", "-o", "out2", "-m", "gpt-4o", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "a file of that name" in result.stderr, result.output


# ------------------------------------------------------------------ 5: one verdict for a damaged file


def test_a_damaged_file_that_cannot_be_decoded_is_an_error_with_its_warning(tmp_path, monkeypatch):
    """A 1024 × 1024 PNG cut inside its first IDAT header: estimate prices it with a warning; optimize must not
    copy the broken bytes as `written` (Claude needs no resize of 1024 × 1024), for any model."""
    (tmp_path / "cut.png").write_bytes(png_header(1024, 1024) + b"\x00\x00\x14\xa0IDA")
    priced = run("estimate", "cut.png", "-m", "claude-sonnet-4-6", "--json", cwd=tmp_path, monkeypatch=monkeypatch)
    warning = json.loads(priced.stdout)[0]["warning"]
    assert priced.exit_code == 0 and "truncated PNG" in warning  # priced, with a warning
    for model in ("claude-sonnet-4-6", "gpt-4o", "gemini-3.1-pro-preview"):
        result = run(
            "optimize", "cut.png", "-o", f"o-{model}", "-m", model, "--nl", cwd=tmp_path, monkeypatch=monkeypatch
        )
        row = json.loads(result.stdout.splitlines()[0])
        assert result.exit_code == 1 and row["status"] == "error", row
        assert "cannot be decoded for resizing" in row["error"] and "truncated PNG" in row["error"]
        assert row["warning"] and "truncated PNG" in row["warning"]
        assert row["warning"] == warning  # the same defect, word for word
        assert not (tmp_path / f"o-{model}" / "cut.png").exists()


def test_a_damaged_file_that_decodes_whole_is_written_with_its_warning(tmp_path):
    """No IEND after whole image data: Pillow decodes it; the output is the picture, and the row keeps the warning."""
    whole = png_bytes((64, 48))
    (tmp_path / "noend.png").write_bytes(whole[: whole.rindex(b"IEND") - 4])
    result = run("optimize", tmp_path / "noend.png", "-o", tmp_path / "out", "-m", "claude-sonnet-4-6", "--nl")
    row = json.loads(result.stdout.splitlines()[0])
    assert result.exit_code == 0 and row["status"] == "written" and "IEND" in row["warning"]
    assert np.array_equal(
        np.asarray(Image.open(tmp_path / "out" / "noend.png").convert("RGB")),
        np.asarray(Image.open(io.BytesIO(whole)).convert("RGB")),
    )


# ------------------------------------------------------------------ 11: never larger for nothing


def test_an_output_is_never_larger_than_an_original_giving_the_same_tokens(tmp_path):
    """Qwen at high resolution (docs/qwen.md) rounds 1000 × 700 to 992 × 700: the same tokens as the original, and a
    re-encode of a quality-30 JPEG at 85 is larger: the original (metadata stripped) is written instead."""
    source = tmp_path / "q30.jpg"
    source.write_bytes(noisy_jpeg((1000, 700), 30))
    result = run("optimize", source, "-o", tmp_path / "out", "-m", "qwen3-vl-plus", "-d", "high", "--nl")
    row = json.loads(result.stdout.splitlines()[0])
    written = (tmp_path / "out" / "q30.jpg").read_bytes()
    assert result.exit_code == 0 and row["status"] == "written"
    assert len(written) <= source.stat().st_size and row["bytes_after"] == len(written)
    assert Image.open(io.BytesIO(written)).size == (1000, 700) == (row["target_width"], row["target_height"])
    assert "original" in row["note"]


def test_an_original_written_as_it_is_keeps_its_orientation_and_nothing_else(tmp_path):
    """Stored 512 × 384, orientation 6 (upright 384 × 512): gpt-4o sees it as it is (docs/openai.md), so the copy would
    only turn it; a re-encode is larger, and the original keeps just its orientation tag (no Make)."""
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "SecretCam"
    source = tmp_path / "turned.jpg"
    source.write_bytes(noisy_jpeg((512, 384), 25, exif.tobytes()))
    result = run("optimize", source, "-o", tmp_path / "out", "-m", "gpt-4o", "--nl")
    row = json.loads(result.stdout.splitlines()[0])
    written = (tmp_path / "out" / "turned.jpg").read_bytes()
    assert result.exit_code == 0 and len(written) <= source.stat().st_size
    image = Image.open(io.BytesIO(written))
    assert dict(image.getexif()) == {0x0112: 6} and b"SecretCam" not in written
    assert (row["target_width"], row["target_height"]) == (384, 512) and inspect(written).orientation == 6


def test_growth_is_worded_as_growth(tmp_path):
    source = tmp_path / "q30.jpg"
    source.write_bytes(noisy_jpeg((300, 200), 30))
    result = run("optimize", source, "-o", tmp_path / "out", "-m", "gpt-4o", "--format", "png")
    bytes_line = next(line for line in result.stdout.splitlines() if line.startswith("bytes"))
    assert "% more)" in bytes_line and "-" not in bytes_line.split("(")[1], bytes_line


# ------------------------------------------------------------------ 17, 19: MCP outputs and argument errors


def test_mcp_refuses_an_output_extension_it_cannot_write(tmp_path):
    from costcalc.errors import OutputFormatError
    from costcalc.mcp_server import optimize_image

    for name in ("x.tiff", "noextension"):
        with pytest.raises(OutputFormatError, match=r"\.jpg"):
            optimize_image(str(PHOTO), model="gpt-4o", output=str(tmp_path / name))
        assert not (tmp_path / name).exists()
    result = optimize_image(str(PHOTO), model="gpt-4o", output=str(tmp_path / "x.gif"))
    assert Image.open(result["output"]).format == "GIF"


def test_mcp_argument_errors_are_one_line_without_pydantic_urls():
    pytest.importorskip("mcp.server.mcpserver", reason="the MCP SDK (mcp>=2, `costcalc[mcp]`) is not installed")
    import anyio
    from mcp.server.mcpserver.exceptions import ToolError

    from costcalc.mcp_server import build_server

    server = build_server()
    cases = [
        (
            "price_image",
            {"path": str(PHOTO), "model": 5},
            "model should be a valid string or a valid list (got an integer)",
        ),
        ("optimize_image", {"path": str(PHOTO), "model": 5}, "model should be a valid string (got an integer)"),
        ("optimize_image", {"path": str(PHOTO), "model": "gpt-4o", "max_tokens": -5}, "max_tokens should be"),
        ("price_request", {"payload": [1, 2]}, "payload should be a valid dictionary or a valid string"),
        ("price_image", {"path": str(PHOTO)}, "model is required"),
    ]
    for tool, arguments, expected in cases:
        with pytest.raises(ToolError) as caught:
            anyio.run(server.call_tool, tool, arguments)
        text = str(caught.value)
        assert expected in text and "\n" not in text and "pydantic.dev" not in text, text


def test_undecodable_data_is_worded_plainly(tmp_path):
    """Pillow's "broken PNG file (chunk b'IDA')" is no message for people."""
    from costcalc.preflight.resize import undecodable

    info = inspect(png_bytes((8, 8)))
    text = str(undecodable(info, OSError("broken PNG file (chunk b'IDA')"), "x.png: "))
    assert text.startswith("x.png: ") and "b'" not in text and "damaged" in text
    assert "b'" not in str(undecodable(info, SyntaxError("bad chunk b'zTXt' here")))


# ------------------------------------------------------------------ 20, 21: --in-place with --format; plurals


def test_in_place_with_a_new_format_keeps_the_original_and_says_so(tmp_path):
    (tmp_path / "ip").mkdir()
    original = png_bytes((64, 64))
    (tmp_path / "ip" / "b.png").write_bytes(original)
    result = run(
        "optimize",
        tmp_path / "ip" / "b.png",
        "-o",
        tmp_path / "ip",
        "--in-place",
        "--format",
        "webp",
        "-m",
        "gpt-4o",
        "--force",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ip" / "b.png").read_bytes() == original
    assert Image.open(tmp_path / "ip" / "b.webp").size == (64, 64)
    shown = " ".join(run("optimize", "--help").output.split())
    assert "originals are replaced" not in shown
    assert "written beside, and the original is kept" in shown
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "written beside the original, and the original is kept" in readme


def test_one_error_is_one_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    result = run("optimize", tmp_path / "bad.png", "-o", tmp_path / "out", "-m", "gpt-4o")
    assert result.exit_code == 1
    assert "1 error\n" in result.stdout and "1 errors" not in result.stdout, result.stdout


def test_strict_refuses_a_damaged_source_and_a_settings_object_stands_for_tables_and_strict():
    """optimize's `strict`: a damaged source (a PNG cut before its IEND chunk, which Pillow still decodes) is an
    error; a Settings passed whole (issue 16) stands for the `tables` and `strict` keywords."""
    from costcalc.catalog.settings import Settings
    from costcalc.catalog.tables import Tables, default_tables
    from costcalc.errors import InvalidImageError, UnknownModelError
    from costcalc.preflight.optimize import optimize

    out = io.BytesIO()
    Image.new("RGB", (600, 400), "red").save(out, "PNG")
    damaged = out.getvalue()[:-12]
    warning = inspect(damaged).warning
    assert warning and optimize(damaged, model="gpt-4o").warning == warning
    with pytest.raises(InvalidImageError, match="strict"):
        optimize(damaged, model="gpt-4o", strict=True)
    with pytest.raises(InvalidImageError, match="strict"):
        optimize(damaged, model="gpt-4o", settings=Settings(default_tables(), strict=True))
    assert optimize(damaged, model="gpt-4o", strict=True, settings=Settings(default_tables())).warning == warning
    with pytest.raises(UnknownModelError):  # the settings' tables are the ones read: these have no models
        optimize(PHOTO, model="gpt-4o", settings=Settings(Tables({}, {})))
