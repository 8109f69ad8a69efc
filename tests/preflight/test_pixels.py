"""optimize keeps the picture (issue 9): every Pillow mode keeps its mean level in JPEG, PNG and WebP, transparency
is flattened onto white where the format has none, and ICC profiles survive even with metadata stripped."""

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from costcalc.inspection.headers import inspect
from costcalc.preflight.optimize import optimize
from costcalc.preflight.resize import eight_bit, render, strip_metadata

WIDE = np.linspace(0.0, 1.0, 600)[None, :] * np.ones((400, 1))  # left to right, 0 → 1
TALL = np.linspace(0.0, 1.0, 400)[:, None] * np.ones((1, 600))  # top to bottom, 0 → 1


def level(rgb: np.ndarray, alpha: np.ndarray | None = None) -> float:
    """The mean grey level, in 0..255, of `rgb` shown over white (by `alpha` in 0..255)."""
    if alpha is None:
        return float(rgb.mean())
    a = alpha.astype(np.float64) / 255
    return float((rgb * a[..., None] + 255 * (1 - a[..., None])).mean())


def measured(data: bytes) -> float:
    """The mean level of an encoded output, over white (a 16-bit grey PNG copied as it is: by its 16-bit white)."""
    image = Image.open(io.BytesIO(data))
    if image.mode in ("I;16", "I"):
        return float(np.asarray(image, dtype=np.float64).mean() / 65535 * 255)
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float64)
    return level(rgba[..., :3], rgba[..., 3])


def grey(values: np.ndarray) -> np.ndarray:
    """An 8-bit grey array as three equal channels, for `level`."""
    return np.repeat(values.astype(np.float64)[..., None], 3, axis=2)


def source(mode: str) -> tuple[bytes, float]:
    """An encoded 600 × 400 image of `mode` and its mean level over white, computed here from its own numbers."""
    out = io.BytesIO()
    if mode == "1":
        bits = np.random.default_rng(1).random((400, 600)) < 0.3 + 0.4 * WIDE
        Image.fromarray(bits).save(out, "PNG")  # a bool array is mode 1
        expected = level(grey(bits * 255.0))
    elif mode == "L":
        values = np.rint(30 + 190 * WIDE).astype(np.uint8)
        Image.fromarray(values).save(out, "PNG")
        expected = level(grey(values))
    elif mode == "LA":
        values = np.rint(20 + 200 * WIDE).astype(np.uint8)
        alpha = np.rint(255 * TALL).astype(np.uint8)
        Image.merge("LA", (Image.fromarray(values), Image.fromarray(alpha))).save(out, "PNG")
        expected = level(grey(values), alpha)
    elif mode == "P":  # 16 greys, index 0 transparent
        indices = (np.floor(WIDE * 15.99)).astype(np.uint8)
        indices[:100, 200:] = 0  # a transparent block (a fine pattern would measure LANCZOS ringing, not modes)
        image = Image.fromarray(indices).convert("P")
        palette = [value for g in range(16) for value in (g * 17,) * 3]
        image.putpalette(palette)
        image.save(out, "PNG", transparency=0)
        alpha = np.where(indices == 0, 0, 255)
        expected = level(grey(indices * 17.0), alpha)
    elif mode == "I;16":
        values = np.rint(5000 + 55000 * WIDE).astype(np.uint16)
        Image.fromarray(values).save(out, "PNG")  # 16-bit grey
        expected = level(grey(values / 65535 * 255))
    elif mode == "RGBA":
        values = np.rint(40 + 180 * WIDE).astype(np.uint8)
        alpha = np.rint(60 + 195 * TALL).astype(np.uint8)
        Image.fromarray(np.dstack([values, values, values, alpha])).save(out, "PNG")
        expected = level(grey(values), alpha)
    elif mode == "CMYK":  # key ink only: shown as 255 - K
        k = np.rint(20 + 200 * WIDE).astype(np.uint8)
        zero = np.zeros_like(k)
        Image.fromarray(np.dstack([zero, zero, zero, k]), "CMYK").save(out, "JPEG", quality=95)
        expected = level(grey(255.0 - k))
    elif mode == "RGB":
        values = np.rint(10 + 230 * WIDE).astype(np.uint8)
        Image.fromarray(np.dstack([values] * 3)).save(out, "WEBP", quality=95)
        expected = level(grey(values))
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).mode == mode  # the mode under test is what the decoder gives
    return data, expected


MODES = ["1", "L", "LA", "P", "I;16", "RGBA", "CMYK", "RGB"]


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("detail", ["low", "high"])  # resized to 512 × 341, and written at full size
def test_every_mode_keeps_its_mean_level(mode, fmt, detail):
    data, expected = source(mode)
    result = optimize(data, model="gpt-4o", detail=detail, format=fmt)
    size, encoded = ((512, 341) if detail == "low" else (600, 400)), result.data
    if (result.width, result.height) != size:  # the copy came out larger than the original at the same tokens,
        assert result.bytes_after <= len(data) and "the original" in result.note  # so optimize wrote the original;
        encoded, _ = render(data, inspect(data), size, format=fmt)  # the copy's pixels are checked all the same
    assert Image.open(io.BytesIO(encoded)).format == fmt.upper()
    assert measured(encoded) == pytest.approx(expected, abs=3), (mode, fmt)


def test_sixteen_bit_grey_is_not_white_in_jpeg():
    data, expected = source("I;16")
    out = Image.open(io.BytesIO(optimize(data, model="gpt-4o", format="jpeg").data))
    assert out.mode == "L" and 100 < expected < 160 and abs(np.asarray(out).mean() - expected) < 3


def test_transparency_is_white_in_jpeg_and_kept_elsewhere():
    data, _ = source("RGBA")
    jpeg = Image.open(io.BytesIO(optimize(data, model="gpt-4o", detail="low", format="jpeg").data))
    webp = Image.open(io.BytesIO(optimize(data, model="gpt-4o", detail="low", format="webp").data))
    assert jpeg.mode == "RGB" and webp.mode == "RGBA"
    assert np.asarray(webp)[..., 3].min() < 80  # the alpha is still there
    clear = io.BytesIO()
    Image.new("LA", (900, 900), (0, 0)).save(clear, "PNG")
    flat = Image.open(io.BytesIO(optimize(clear.getvalue(), model="gpt-4o", format="jpeg").data))
    assert flat.mode == "L" and np.asarray(flat).min() == 255


@pytest.mark.parametrize(
    "mode, values, white",
    [
        ("I", np.array([[0, 257, 32896, 65535]], dtype=np.int32), 65535),  # a 16-bit PNG as older Pillows read it
        ("I;16", np.array([[0, 257, 32896, 65535]], dtype=np.uint16), 65535),
        ("F", np.array([[0.0, 0.25, 0.5, 1.0]], dtype=np.float32), 1.0),  # 0..1 floats
        ("F", np.array([[0.0, 64.0, 128.0, 255.0]], dtype=np.float32), 255.0),  # Pillow's own F scale
    ],
)
def test_high_depth_modes_scale_to_eight_bits(mode, values, white):
    image = Image.fromarray(values) if mode != "I" else Image.fromarray(values.astype(np.int32)).convert("I")
    assert image.mode == mode
    got = np.asarray(eight_bit(image)).astype(int)
    assert got.tolist() == np.rint(values.astype(np.float64) / white * 255).astype(int).tolist()


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def with_profile(fmt: str, size=(1200, 900), icc=SRGB, mode="RGB") -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    image = Image.linear_gradient("L").resize(size)
    image = image.convert(mode) if mode != "CMYK" else Image.merge("CMYK", [image.point(lambda v: 0)] * 3 + [image])
    image.save(out, fmt, icc_profile=icc, **({"exif": exif.tobytes()} if fmt != "PNG" else {}))
    return out.getvalue()


@pytest.mark.parametrize("source_format", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("fmt", [None, "jpeg", "png", "webp"])
@pytest.mark.parametrize("size", [(1200, 900), (300, 200)])  # re-encoded, and (same format) only stripped
def test_an_icc_profile_survives_stripping_and_re_encoding(source_format, fmt, size):
    result = optimize(with_profile(source_format, size), model="gpt-4o", format=fmt)
    out = Image.open(io.BytesIO(result.data))
    assert out.info.get("icc_profile") == SRGB
    assert not out.getexif().get(0x010F)  # while the metadata is gone


def test_stripping_keeps_only_icc_among_app2_segments():
    data = with_profile("JPEG", (300, 200))
    mpf = b"\xff\xe2" + (4 + 8).to_bytes(2, "big") + b"MPF\0" + b"\0" * 6
    data = data[:2] + mpf + data[2:]
    stripped = strip_metadata(data, "JPEG")
    assert b"MPF\0" not in stripped and b"ICC_PROFILE\0" in stripped and b"Exif" not in stripped
    assert Image.open(io.BytesIO(stripped)).info["icc_profile"] == SRGB


def test_a_profile_that_no_longer_fits_is_not_attached():
    # a CMYK profile cannot describe the RGB output; this one is not usable by littlecms, so the plain conversion
    cmyk_profile = bytes(16) + b"CMYK" + bytes(108)
    result = optimize(with_profile("JPEG", mode="CMYK", icc=cmyk_profile), model="gpt-4o", format="png")
    out = Image.open(io.BytesIO(result.data))
    assert out.mode == "RGB" and "icc_profile" not in out.info
    grey = optimize(with_profile("PNG", mode="L", icc=bytes(16) + b"GRAY" + bytes(108)), model="gpt-4o", format="webp")
    assert "icc_profile" not in Image.open(io.BytesIO(grey.data)).info
