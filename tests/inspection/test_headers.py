"""Header-only sizes: equal to Pillow's for every file it opens; clear errors for the rest."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc import image_info as inspect
from costcalc.inspection.headers import HEAD_BYTES


def encode(fmt, size=(123, 45), mode="RGB", **save):
    image = Image.new(mode, size, "red" if mode != "P" else 1)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


CASES = {
    "png-rgb": ("PNG", encode("PNG")),
    "png-rgba-16bit": ("PNG", encode("PNG", (7, 3000), "I;16")),
    "png-palette": ("PNG", encode("PNG", (640, 1), "P")),
    "jpeg-baseline": ("JPEG", encode("JPEG", (1000, 1))),
    "jpeg-progressive": ("JPEG", encode("JPEG", (333, 777), progressive=True)),
    "jpeg-grey": ("JPEG", encode("JPEG", (65500, 2), "L")),
    # a 100 KB ICC profile and 60 KB of EXIF before the frame header: past the first read
    "jpeg-huge-app": (
        "JPEG",
        encode("JPEG", (320, 240), icc_profile=b"\0" * 100_000, exif=b"Exif\0\0" + b"\0" * 60_000),
    ),
    "gif": ("GIF", encode("GIF", (17, 19), "P")),
    "webp-lossy": ("WEBP", encode("WEBP", (301, 99), quality=50)),
    "webp-lossless": ("WEBP", encode("WEBP", (16383, 3), lossless=True)),
    "webp-alpha-vp8x": ("WEBP", encode("WEBP", (300, 200), "RGBA", quality=50)),
    "webp-exif-vp8x": ("WEBP", encode("WEBP", (64, 48), exif=b"Exif\0\0MM\0*\0\0\0\x08\0\0")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_header_size_equals_pillow(case, tmp_path):
    fmt, data = CASES[case]
    with Image.open(io.BytesIO(data)) as image:
        expected = (image.format, *image.size)
    path = tmp_path / "image.bin"  # the extension does not matter
    path.write_bytes(data)
    for source in (data, path, str(path), io.BytesIO(data)):
        info = inspect(source)
        assert (info.format, info.width, info.height) == expected == (fmt, *expected[1:])
    assert inspect(path).bytes == len(data)


def test_huge_app_segment_really_is_past_the_first_read():
    data = CASES["jpeg-huge-app"][1]
    assert data.index(b"\xff\xc0") > HEAD_BYTES


def test_non_seekable_stream():
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    info = inspect(io.BufferedReader(Pipe(CASES["jpeg-huge-app"][1])))
    assert (info.width, info.height) == (320, 240)


@pytest.mark.parametrize(
    "fmt, data",
    [
        ("BMP", encode("BMP")),
        ("ICO", encode("ICO", (32, 32))),
        ("SVG", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
        ("PSD", b"8BPS\0\1" + b"\0" * 40),
    ],
)
def test_other_formats_are_named_and_refused(fmt, data):
    with pytest.raises(
        costcalc.UnsupportedFormatError, match=f"cannot read: {fmt} headers are not read by costcalc.*convert"
    ) as caught:
        inspect(data)
    assert caught.value.format == fmt


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_truncation_gives_the_right_size_or_invalid_image(case):
    """A cut file is either read right or refused; never a wrong size, never another error.

    Any prefix holding the whole header reads (issue 9: priced from its header);
    every file is also checked for a whole body (JPEG's EOI, PNG's IEND, a whole
    first GIF frame, the RIFF size), so only the whole file reads without a
    warning — less at most IEND's 4-byte CRC or the GIF trailer byte, which Pillow
    does not need either.
    """
    fmt, data = CASES[case]
    assert inspect(data).warning is None
    expected = (inspect(data).width, inspect(data).height)
    cuts = [*range(0, min(400, len(data))), *range(400, len(data), 997), len(data) - 1]
    outcomes = []
    for cut in cuts:
        try:
            info = inspect(data[:cut])
        except costcalc.InvalidImageError:
            outcomes.append("invalid")
        else:
            assert (info.width, info.height) == expected, cut
            outcomes.append("ok" if info.warning is None else "warning")
    first_read = next(i for i, outcome in enumerate(outcomes) if outcome != "invalid")
    assert "invalid" not in outcomes[first_read:]
    assert cuts[first_read] <= (300 if case != "jpeg-huge-app" else len(data))
    whole = len(data) if fmt == "JPEG" else len(data) - 4
    assert all(cut >= whole for cut, outcome in zip(cuts, outcomes) if outcome == "ok")


def test_truncated_jpeg_after_large_app_segment():
    data = CASES["jpeg-huge-app"][1]
    with pytest.raises(costcalc.InvalidImageError, match="truncated JPEG"):
        inspect(data[: data.index(b"\xff\xc0")])


def test_errors_name_the_file(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(costcalc.InvalidImageError, match=r"empty\.png: empty file"):
        inspect(empty)
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    with pytest.raises(costcalc.InvalidImageError, match=r"notes\.jpg: not an image"):
        inspect(text)
    with pytest.raises(costcalc.ImageReadError, match=r"missing\.png: no such file"):
        inspect(tmp_path / "missing.png")
    with pytest.raises(costcalc.ImageReadError, match="is a folder"):
        inspect(tmp_path)


@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data):
    try:
        info = inspect(data)
    except costcalc.CostcalcError:
        return
    assert info.width >= 1 and info.height >= 1


MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBPVP8 ",
    b"RIFF\0\0\0\0WEBPVP8L",
    b"RIFF\0\0\0\0WEBPVP8X",
]


@given(st.sampled_from(MAGIC), st.binary(max_size=300))
def test_random_bytes_behind_real_magic_never_crash(magic, tail):
    try:
        info = inspect(magic + tail)
    except costcalc.CostcalcError:
        return
    assert info.width >= 1 and info.height >= 1
