"""Preflight of one image: upright for every EXIF orientation, exact planned size, formats, metadata."""

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import costcalc
from costcalc import image_info as inspect
from costcalc.preflight.optimize import optimize
from costcalc.preflight.resize import AnimatedImageError, strip_metadata, stripped_size

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def marked(size=(1600, 1000)):
    """A picture with a red top-left corner and a blue bottom-right one, to see which way is up."""
    image = Image.new("RGB", size, "white")
    w, h = size
    image.paste("red", (0, 0, w // 4, h // 4))
    image.paste("blue", (3 * w // 4, 3 * h // 4, w, h))
    return image


def encoded(image, fmt, orientation=1, **options):
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes(), **options)
    return out.getvalue()


def corner(image, x, y):
    return image.convert("RGB").getpixel((x, y))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_output_is_upright_for_every_orientation(orientation, fmt):
    data = encoded(marked(), fmt, orientation, **({"quality": 95} if fmt != "PNG" else {}))
    result = optimize(data, model="gpt-4o", detail="high")
    with Image.open(io.BytesIO(data)) as original:
        upright = ImageOps.exif_transpose(original)
    assert (result.width, result.height) == (result.plan.target_width, result.plan.target_height)
    assert result.width / result.height == pytest.approx(upright.width / upright.height, rel=0.01)
    out = Image.open(io.BytesIO(result.data))
    assert out.size == (result.width, result.height) and out.format == fmt
    w, h = out.size
    expected = upright.resize(out.size)
    for x, y in ((w // 10, h // 10), (w - w // 10, h - h // 10), (w // 10, h - h // 10)):
        got, want = corner(out, x, y), corner(expected, x, y)
        assert max(abs(a - b) for a, b in zip(got, want)) < 40, (orientation, (x, y), got, want)
    assert out.getexif().get(0x0112, 1) == 1  # no orientation tag left to turn it again


def test_same_tokens_and_fewer_bytes_on_a_photo():
    result = optimize(SAMPLES / "photo.jpg", model="gpt-4o")
    assert (result.width, result.height) == (1178, 768)
    assert result.tokens_before == result.tokens_after == 1105
    assert result.bytes_after < result.bytes_before / 2
    assert costcalc.estimate(result.data, model="gpt-4o").tokens == 1105


def test_budget_and_format_and_quality():
    result = optimize(SAMPLES / "screenshot.png", model="gpt-5.4", max_tokens=500, format="jpeg", quality=70)
    assert result.tokens_after <= 500 and result.format == "JPEG"
    assert inspect(result.data)[:3] == ("JPEG", result.width, result.height)
    with pytest.raises(ValueError, match="format must be one of"):
        optimize(SAMPLES / "screenshot.png", model="gpt-4o", format="tiff")


def test_transparency_becomes_white_in_jpeg():
    image = Image.new("RGBA", (900, 900), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    result = optimize(out.getvalue(), model="gpt-4o", format="jpeg")
    assert corner(Image.open(io.BytesIO(result.data)), 10, 10) == (255, 255, 255)


def test_metadata_stripped_unless_kept_but_the_icc_profile_always_kept():
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    out = io.BytesIO()
    marked().save(out, "JPEG", exif=exif.tobytes(), icc_profile=b"\0" * 2000)
    data = out.getvalue()
    stripped = optimize(data, model="gpt-4o")
    kept = optimize(data, model="gpt-4o", keep_metadata=True)
    assert not Image.open(io.BytesIO(stripped.data)).getexif()  # metadata gone
    assert Image.open(io.BytesIO(kept.data)).getexif()[0x010F] == "Camera maker"
    for result in (stripped, kept):  # colour is not metadata (issue 9)
        assert Image.open(io.BytesIO(result.data)).info.get("icc_profile") == b"\0" * 2000


def test_small_images_are_not_reencoded_only_stripped():
    data = encoded(marked((300, 200)), "JPEG", 1)
    assert b"Exif" in data
    result = optimize(data, model="gpt-4o")
    assert result.data == strip_metadata(data, "JPEG") and b"Exif" not in result.data
    assert Image.open(io.BytesIO(result.data)).tobytes() == Image.open(io.BytesIO(data)).tobytes()  # lossless
    assert optimize(data, model="gpt-4o", keep_metadata=True).data == data
    png = io.BytesIO()
    marked((300, 200)).save(png, "PNG", exif=b"Exif\0\0MM\0*\0\0\0\x08\0\0")
    stripped = optimize(png.getvalue(), model="gpt-4o").data
    assert b"eXIf" not in stripped and Image.open(io.BytesIO(stripped)).tobytes() == marked((300, 200)).tobytes()


@pytest.mark.parametrize("orientation", [1, 6])
def test_the_stripped_size_is_measured_without_the_copy(orientation):
    """stripped_size is the length strip_metadata gives, for a JPEG and a PNG whose metadata is known byte for byte:
    an APP1 EXIF segment and a COM segment; a tEXt chunk. The orientation kept costs an APP1 of 36 bytes (marker,
    length, Exif header, a 26-byte TIFF block) or an eXIf chunk of 38 (length, type, TIFF, CRC)."""
    plain = io.BytesIO()
    marked((64, 48)).save(plain, "JPEG")
    base = plain.getvalue()
    app0_end = 4 + int.from_bytes(base[4:6], "big")
    exif, comment = b"Exif\0\0" + b"\0" * 300, b"made by hand" * 20
    segments = b"\xff\xe1" + (2 + len(exif)).to_bytes(2, "big") + exif
    segments += b"\xff\xfe" + (2 + len(comment)).to_bytes(2, "big") + comment
    data = base[:app0_end] + segments + base[app0_end:]
    added = 36 if orientation != 1 else 0
    assert (
        stripped_size(data, "JPEG", orientation) == len(base) + added == len(strip_metadata(data, "JPEG", orientation))
    )
    png = io.BytesIO()
    marked((64, 48)).save(png, "PNG")
    base = png.getvalue()
    text = b"Comment\0" + b"x" * 100
    chunk = len(text).to_bytes(4, "big") + b"tEXt" + text + b"\0\0\0\0"  # the CRC is not read
    data = base[:33] + chunk + base[33:]
    added = 38 if orientation != 1 else 0
    assert stripped_size(data, "PNG", orientation) == len(base) + added == len(strip_metadata(data, "PNG", orientation))


def test_animated_gif_only_when_asked():
    with pytest.raises(AnimatedImageError, match="first.frame"):
        optimize(SAMPLES / "banner.gif", model="gpt-4o")
    result = optimize(SAMPLES / "banner.gif", model="gpt-4o", first_frame=True)
    assert not inspect(result.data).animated and result.format == "GIF"


def test_data_url_and_sources():
    result = optimize(SAMPLES / "icon.webp", model="gpt-4o", detail="low")
    head, _, payload = result.as_data_url().partition(",")
    assert head == "data:image/webp;base64" and base64.b64decode(payload) == result.data
    with open(SAMPLES / "icon.webp", "rb") as handle:
        assert optimize(handle, model="gpt-4o", detail="low").data == result.data
    with pytest.raises(costcalc.ImageReadError, match="no such file"):
        optimize(SAMPLES / "none.png", model="gpt-4o")
    with pytest.raises(costcalc.UnsupportedFormatError):
        optimize(SAMPLES / "scan.bmp", model="gpt-4o")


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"restart_marker_rows": 1}])
def test_a_jpeg_given_to_the_decoder_whole_decodes_as_pillow_reads_it(options):
    """_open hands Pillow's JPEG decoder the whole file, not 64 KiB at a time: the same pixels, DCT-scaled or not."""
    from costcalc.preflight.resize import _open

    noise = np.random.default_rng(3).integers(0, 256, (600, 900, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "JPEG", quality=95, **options)
    data = out.getvalue()
    assert len(data) > 4 * 65536
    for draft in (None, (300, 200)):
        ours, theirs = _open(data, "JPEG"), Image.open(io.BytesIO(data))
        for image in (ours, theirs) if draft else ():
            image.draft("RGB", draft)
        assert ours.tobytes() == theirs.tobytes() and ours.size == theirs.size


def test_a_jpeg_cut_short_is_still_an_error_saying_so():
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (600, 900, 3), dtype=np.uint8)).save(out, "JPEG")
    data = out.getvalue()[:200_000]
    with pytest.raises(costcalc.errors.InvalidImageError, match="cannot be decoded"):
        optimize(data, model="gpt-4o", detail="low")
