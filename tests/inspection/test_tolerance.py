"""Tolerant like real decoders (issue 9): Pillow is the oracle.

A file Pillow decodes whole (`Image.open(...).load()`) is priced with warning
None — whatever junk, fill bytes or odd segments it carries. A file whose
header is whole but whose data is cut short is priced from its header with a
warning naming the defect; `strict` turns that warning into an error. A file
without a readable header is an error. Expected sizes come from Pillow, never
from costcalc.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc import image_info as inspect
from costcalc.cli import cli
from costcalc.pricing.request import count_request
from costcalc.runs.audit import audit


def picture(size, mode="RGB"):
    """A picture with detail in it (a flat one compresses to almost nothing)."""
    width, height = size
    image = Image.linear_gradient("L").resize(size)
    if mode == "RGB":
        image = Image.merge("RGB", (image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), image.rotate(90)))
    return image.convert(mode) if image.mode != mode else image


def encode(fmt, size=(123, 45), mode="RGB", **options):
    out = io.BytesIO()
    picture(size, mode).save(out, fmt, **options)
    return out.getvalue()


def pillow(data: bytes):
    """(format, width, height) when Pillow decodes every pixel, else None (the oracle)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return image.format, *image.size
    except Exception:  # noqa: BLE001 - any failure of Pillow's means "not whole"
        return None


def segment(code: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([code]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(offset, code) of every marker segment before the first SOS, from the file's own lengths."""
    found, pos = [], 2
    while data[pos + 1] != 0xDA:
        found.append((pos, data[pos + 1]))
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    found.append((pos, 0xDA))
    return found


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


JPEG = encode("JPEG", (300, 200))
JPEG_GREY = encode("JPEG", (64, 480), "L", progressive=True)
PNG = encode("PNG", (300, 200))
GIF = encode("GIF", (300, 200), "L")
WEBP = encode("WEBP", (300, 200), quality=60)
WEBP_LOSSLESS = encode("WEBP", (120, 90), lossless=True)


def insert_before(data: bytes, code: int, extra: bytes) -> bytes:
    offset = dict((c, o) for o, c in reversed(jpeg_segments(data)))[code]
    return data[:offset] + extra + data[offset:]


def move_dht_before_sof(data: bytes) -> bytes:
    segments = jpeg_segments(data)
    spans = {code: (offset, segments[i + 1][0]) for i, (offset, code) in enumerate(segments[:-1])}
    sof, dht = spans[0xC0], spans[0xC4]
    assert sof[0] < dht[0]
    return data[: sof[0]] + data[dht[0] : dht[1]] + data[sof[0] : dht[0]] + data[dht[1] :]


# Files libjpeg and Pillow decode whole that a strict segment walk calls unreadable (issue 9).
TOLERATED = {
    "junk before DQT": insert_before(JPEG, 0xDB, b"\x00\x13junk bytes\x00"),
    "junk before SOF": insert_before(JPEG, 0xC0, b"garbage"),
    "stuffed zeros before SOS": insert_before(JPEG, 0xDA, b"\xff\x00\xff\x00"),
    "fill bytes before SOF": insert_before(JPEG, 0xC0, b"\xff" * 7),
    "short APP14 (Adobe, 5 bytes)": insert_before(JPEG, 0xDB, segment(0xEE, b"Ado")),
    "empty APP14": insert_before(JPEG, 0xDB, segment(0xEE, b"")),
    "Photoshop APP13, odd length": insert_before(JPEG, 0xDB, segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0")),
    "APP13 declared shorter than its contents": insert_before(
        JPEG, 0xDB, b"\xff\xed" + struct.pack(">H", 10) + b"Photoshop 3.0\x00\x11\x22"
    ),
    "DHT before SOF": move_dht_before_sof(JPEG),
    "SOF after a 200 KB APP2": insert_before(JPEG, 0xDB, segment(0xE2, b"ICC_PROFILE\0" + b"\x01" * 60000) * 4),
    "data after EOI": JPEG + b"\0" * 5000 + b"trailer",
    "progressive grey": JPEG_GREY,
    "GIF with junk between blocks": GIF[:-1] + b"\x00\x00\x3b",
    "PNG with data after IEND": PNG + b"appended",
    "WebP with data after its RIFF size": WEBP + b"\0" * 10,
}


@pytest.mark.parametrize("name", sorted(TOLERATED))
def test_files_pillow_decodes_whole_are_priced_without_warning(name, tmp_path):
    data = TOLERATED[name]
    expected = pillow(data)
    assert expected is not None, "the oracle must decode the case"
    info = inspect(data)
    assert (info.format, info.width, info.height) == expected
    assert info.warning is None
    path = tmp_path / "case.bin"
    path.write_bytes(data)
    (row,) = audit([path], models=["gpt-4o"])
    assert (row.status, row.warning, row.error) == ("priced", None, None)
    assert costcalc.estimate(path, model="gpt-4o", strict=True).warning is None


def test_libjpeg_skips_junk_exactly_as_the_marker_scan_does():
    """Junk holding 0xFF bytes that are not markers (0xFF 0x00, fill) still leads to the right marker."""
    data = insert_before(JPEG, 0xC0, b"ab\xff\x00cd\xff\xff\xff\x00" + b"\x00" * 3)
    assert pillow(data) == ("JPEG", 300, 200)
    assert inspect(data)[:3] == ("JPEG", 300, 200)


def test_a_short_app14_that_pillow_trips_on_is_still_priced():
    """APP14 'Adobe' of 5 bytes: libjpeg reads it (it looks at APP14 only from 12 bytes); this Pillow may not."""
    data = insert_before(JPEG, 0xDB, segment(0xEE, b"Adobe"))
    assert inspect(data)[:3] == ("JPEG", 300, 200) and inspect(data).warning is None


# ------------------------------------------------------------------ damaged data


def without_png_iend(data: bytes) -> bytes:
    assert data.endswith(png_chunk(b"IEND", b""))
    return data[:-12]


DAMAGED = {
    # name: (bytes, words the warning must hold)
    "PNG without IEND": (without_png_iend(PNG), "IEND"),
    "PNG cut inside IDAT": (PNG[: len(PNG) // 2], "IDAT"),
    "PNG cut before IDAT": (PNG[: PNG.index(b"IDAT") - 4], "IDAT"),
    "JPEG without EOI": (JPEG[:-2], "EOI"),
    "JPEG cut inside its scan": (JPEG[: len(JPEG) * 2 // 3], "EOI"),
    "JPEG cut before its scan": (JPEG[: jpeg_segments(JPEG)[-1][0]], "SOS"),
    "GIF cut inside its image": (GIF[: len(GIF) // 2], "GIF"),
    "WebP cut": (WEBP[: len(WEBP) - 40], "RIFF"),
    "lossless WebP cut": (WEBP_LOSSLESS[:60], "RIFF"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_data_is_priced_from_the_header_with_a_warning(name, tmp_path):
    data, words = DAMAGED[name]
    whole = {"PNG": PNG, "JPEG": JPEG, "GIF": GIF, "WebP": WEBP, "lossless": WEBP_LOSSLESS}[name.split()[0]]
    expected = pillow(whole)
    info = inspect(data)
    assert (info.format, info.width, info.height) == expected
    assert info.warning and words in info.warning and "the API may refuse it" in info.warning
    if name != "PNG without IEND":  # Pillow reads a PNG whose data is whole without IEND; libpng and Go do not
        assert pillow(data) is None
    path = tmp_path / "damaged.bin"
    path.write_bytes(data)
    # every command: the warning travels; strict makes it an error
    (row,) = audit([path], models=["gpt-4o"])
    assert (row.status, row.warning) == ("priced", info.warning) and row.tokens == costcalc.image_tokens(
        *expected[1:], model="gpt-4o"
    )
    (strict,) = audit([path], models=["gpt-4o"], strict=True)
    assert strict.status == "unreadable" and info.warning in strict.error and strict.tokens is None
    assert costcalc.estimate(path, model="gpt-4o").warning == info.warning
    with pytest.raises(costcalc.InvalidImageError, match="strict"):
        costcalc.estimate(path, model="gpt-4o", strict=True)
    payload = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": str(path)}}]}],
    }
    (image,) = count_request(payload).images
    assert image.warning == info.warning and image.tokens == row.tokens
    (image,) = count_request(payload, strict=True).images
    assert image.tokens is None and info.warning in image.error


def test_strict_in_every_command_line(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(DAMAGED["PNG cut inside IDAT"][0])
    runner = CliRunner()
    loose = runner.invoke(cli, ["estimate", str(path), "-m", "gpt-4o", "--json"])
    assert loose.exit_code == 0 and "IDAT" in json.loads(loose.stdout)[0]["warning"] and "Warning:" in loose.stderr
    strict = runner.invoke(cli, ["estimate", str(path), "-m", "gpt-4o", "--json", "--strict"])
    assert strict.exit_code == 1 and json.loads(strict.stdout)[0]["tokens"] is None
    for args in (["audit", str(path), "-m", "gpt-4o", "--nl"], ["audit", str(path), "-m", "gpt-4o", "--csv"]):
        assert runner.invoke(cli, args).exit_code == 0
        assert runner.invoke(cli, [*args, "--strict"]).exit_code == 1
    payload = tmp_path / "payload.json"
    payload.write_text(
        json.dumps(
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "cut.png"}}]}],
            }
        )
    )
    loose = runner.invoke(cli, ["request", str(payload), "--json"])
    assert loose.exit_code == 0 and "IDAT" in json.loads(loose.stdout)["images"][0]["warning"]
    assert runner.invoke(cli, ["request", str(payload), "--json", "--strict"]).exit_code == 1


def test_warning_is_null_in_every_machine_output_when_clean(tmp_path):
    path = tmp_path / "ok.png"
    path.write_bytes(PNG)
    runner = CliRunner()
    rows = json.loads(runner.invoke(cli, ["estimate", str(path), "-m", "gpt-4o", "--json"]).stdout)
    assert "warning" in rows[0] and rows[0]["warning"] is None
    line = json.loads(runner.invoke(cli, ["audit", str(path), "-m", "gpt-4o", "--nl"]).stdout)
    assert "warning" in line and line["warning"] is None
    document = json.loads(runner.invoke(cli, ["audit", str(path), "-m", "gpt-4o", "--json"]).stdout)
    assert document["rows"][0]["warning"] is None
    header = runner.invoke(cli, ["audit", str(path), "-m", "gpt-4o", "--csv"]).stdout.splitlines()[0]
    assert "warning" in header.split(",")
    header = runner.invoke(cli, ["estimate", str(path), "-m", "gpt-4o", "--csv"]).stdout.splitlines()[0]
    assert "warning" in header.split(",")
    out = tmp_path / "out"
    line = json.loads(runner.invoke(cli, ["optimize", str(path), "-o", str(out), "-m", "gpt-4o", "--nl"]).stdout)
    assert "warning" in line and line["warning"] is None


# ------------------------------------------------------------------ properties


SOURCES = {"JPEG": JPEG, "JPEG grey": JPEG_GREY, "PNG": PNG, "GIF": GIF, "WEBP": WEBP, "WEBP lossless": WEBP_LOSSLESS}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SOURCES)), st.data())
def test_every_cut_is_priced_right_with_a_warning_or_refused(name, data):
    """The oracle, at any cut: whole-to-Pillow means no warning; a read never gives a size Pillow would not."""
    whole = SOURCES[name]
    cut = data.draw(st.integers(0, len(whole)))
    piece = whole[:cut]
    expected = pillow(whole)
    try:
        info = inspect(piece)
    except costcalc.InvalidImageError:
        return  # no readable header
    assert (info.format, info.width, info.height) == expected
    decoded = pillow(piece)
    if decoded is not None and not (info.format == "PNG" and b"IEND" not in piece):
        assert info.warning is None, (cut, len(whole))
    if info.warning is None:
        assert decoded == expected, (cut, len(whole))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([0xDB, 0xC0, 0xC4, 0xDA]),
    st.lists(
        st.sampled_from([b"\x00", b"\x13", b"junk", b"\xff\x00", b"\xff\xff", b"\xfe", b"\xff\xfe\x00\x02"])
        | st.binary(max_size=6),
        max_size=8,
    ),
)
def test_junk_before_any_marker_reads_as_pillow_reads_it(code, pieces):
    """libjpeg's next_marker: bytes before a marker are skipped; whatever Pillow decodes whole, costcalc prices."""
    data = insert_before(JPEG, code, b"".join(pieces))
    decoded = pillow(data)
    try:
        info = inspect(data)
    except costcalc.InvalidImageError:
        assert decoded is None
        return
    if decoded is not None:
        assert (info.format, info.width, info.height, info.warning) == (*decoded, None)
