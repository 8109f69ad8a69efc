"""The header parser's quick paths read as its general paths do, byte for byte, over generated headers.

A JPEG's segments held in the first read are passed over by a tight loop (APPn, DQT, DHT, ...), EXIF read in
place, the frame header (SOF) taken straight from the head; a GIF's image descriptor is sliced from the head;
a local file's head grows by a few KiB when a JPEG's frame header lies past it. The same bytes given with a
head of only their first bytes (`inspect_reader`, everything after it fetched) take the general path for
every segment: both must give the same `ImageInfo`, or the same error with the same message. The EXIF
orientation is held to a reference reader written here from the TIFF layout (TIFF 6.0, section 2: the
byte order, IFD0's offset, 12-byte entries of tag, type, count, value).
"""

from __future__ import annotations

import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc.errors import CostcalcError
from costcalc.inspection.headers import exif_orientation, inspect, inspect_path, inspect_reader


def outcome(read):
    """What a read gives: the ImageInfo, or the error's type and message."""
    try:
        return read()
    except CostcalcError as error:
        return type(error).__name__, str(error)


def general(data: bytes, head: int):
    """`data` read with only its first `head` bytes in hand: every later byte fetched, segment by segment."""
    return outcome(lambda: inspect_reader(data[:head], lambda at, count: data[at : at + count], len(data)))


def exif(order: bytes, entries: list[tuple[int, int, int]], ifd: int = 8, prefix: bool = True) -> bytes:
    """An EXIF block: a TIFF header in `order` (b"II" or b"MM"), IFD0 at `ifd` with (tag, type, value) entries."""
    mark = "<" if order == b"II" else ">"
    tiff = order + struct.pack(mark + "HI", 42, ifd) + b"\0" * (ifd - 8) + struct.pack(mark + "H", len(entries))
    for tag, kind, value in entries:
        tiff += struct.pack(mark + "HHI", tag, kind, 1)
        tiff += struct.pack(mark + "HH", value & 0xFFFF, 0) if kind == 3 else struct.pack(mark + "I", value)
    return (b"Exif\0\0" if prefix else b"") + tiff + b"\0\0\0\0"


def reference_orientation(block: bytes) -> int:
    """EXIF orientation by the TIFF layout, written plainly (int.from_bytes; no code shared with costcalc)."""
    tiff = block[6:] if block[:6] == b"Exif\0\0" else block
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return 1
    order = "little" if tiff[:2] == b"II" else "big"
    ifd = int.from_bytes(tiff[4:8], order)
    if ifd + 2 > len(tiff):
        return 1
    count = int.from_bytes(tiff[ifd : ifd + 2], order)
    for index in range(count):
        entry = tiff[ifd + 2 + 12 * index : ifd + 14 + 12 * index]
        if len(entry) < 12:
            return 1
        if int.from_bytes(entry[:2], order) == 0x0112:
            kind = int.from_bytes(entry[2:4], order)
            if kind == 3:
                value = int.from_bytes(entry[8:10], order)
            elif kind == 4:
                value = int.from_bytes(entry[8:12], order)
            else:
                return 1
            return value if 1 <= value <= 8 else 1
    return 1


tags = st.sampled_from([0x0112, 0x0112, 0x010F, 0x0110, 0x8769])
entries = st.lists(st.tuples(tags, st.sampled_from([3, 3, 4, 1, 7]), st.integers(0, 12)), max_size=4)


@given(
    order=st.sampled_from([b"II", b"MM"]),
    entries=entries,
    ifd=st.integers(8, 40),
    prefix=st.booleans(),
    cut=st.integers(0, 80),
)
def test_exif_orientation_equals_the_reference(order, entries, ifd, prefix, cut):
    block = exif(order, entries, ifd, prefix)
    block = block[: len(block) - cut] if cut < len(block) else block
    assert exif_orientation(block) == reference_orientation(block)


def seg(code: int, payload: bytes, length: int | None = None) -> bytes:
    """A marker segment; `length` (default: the payload's) may lie."""
    return bytes([0xFF, code]) + struct.pack(">H", len(payload) + 2 if length is None else length) + payload


SOS = seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12\x34\xff\x00\x56" * 3 + b"\xff\xd9"

app1 = st.builds(
    lambda order, entries, junk: seg(0xE1, exif(order, entries) if not junk else b"XMP " + bytes(junk)),
    st.sampled_from([b"II", b"MM"]),
    entries,
    st.binary(max_size=8),
)
passed = st.builds(
    lambda code, size: seg(code, b"\x11" * size),
    st.sampled_from([0xE0, 0xE2, 0xED, 0xEE, 0xFE, 0xDB, 0xC4, 0xDD]),
    st.sampled_from([0, 1, 30, 300, 5000, 20000]),
)
odd = st.sampled_from(
    [
        b"\xff",  # a fill byte before the next marker
        b"\xff\xff",
        b"junk",  # bytes that are no marker: skipped to the next one
        b"\xff\x00",  # a stuffed zero: junk too
        b"\xff\xd0",  # RST0: standalone
        b"\xff\xe0\x00\x00",  # a length under 2
        b"\xff\xe0\x00\x01",
        b"\xff\xd8",  # a second SOI: an error
        b"\xff\xda\x00\x02",  # SOS before the frame header: an error
        b"\xff\x05\x00\x04\x00\x00",  # a reserved marker: an error
    ]
)
sof = st.builds(
    lambda code, length, height, width: bytes([0xFF, code]) + struct.pack(">HBHH", length, 8, height, width) + b"\x03",
    st.sampled_from([0xC0, 0xC2, 0xC1, 0xCF]),
    st.sampled_from([17, 11, 8, 7, 2]),
    st.sampled_from([1, 480, 0, 65535]),
    st.sampled_from([1, 640, 0]),
)


@st.composite
def jpegs(draw):
    parts = [b"\xff\xd8"] + draw(st.lists(st.one_of(app1, passed, passed, odd), max_size=7))
    data = b"".join(parts) + draw(sof) + draw(st.sampled_from([SOS, SOS[:-2], SOS[:5], b""]))
    cut = draw(st.sampled_from([0, 0, 0, 1, 3, 9, 40]))
    return data[: len(data) - cut] if cut < len(data) else data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=jpegs(), head=st.sampled_from([4, 3, 64, 16384]))
def test_a_jpeg_reads_the_same_on_the_quick_and_the_general_path(data, head):
    whole = outcome(lambda: inspect(data))  # in memory: the quick path wherever the segments allow
    assert whole == general(data, head)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=jpegs(), pad=st.sampled_from([0, 16000, 17000, 70000]))
def test_a_local_jpeg_reads_as_the_same_bytes_in_memory(tmp_path, data, pad):
    """A local file: its head grown past the first read when the frame header lies beyond it."""
    if pad:  # an APP2 block (or several) pushes the frame header past the first read
        data = (
            data[:2]
            + b"".join(seg(0xE2, b"\x22" * 65000) for _ in range(pad // 65000))
            + seg(0xE2, b"\x22" * (pad % 65000))
            + data[2:]
        )
    path = tmp_path / "image.jpg"
    path.write_bytes(data)
    memory = outcome(lambda: inspect(data, name="image.jpg"))
    assert outcome(lambda: inspect_path(path, name="image.jpg")) == memory
    assert memory == outcome(
        lambda: inspect_reader(data[:4], lambda at, count: data[at : at + count], len(data), name="image.jpg")
    )


def gif_image(local: bool, data_blocks: int) -> bytes:
    descriptor = b"\x2c" + struct.pack("<HHHH", 0, 0, 4, 4) + (b"\x81" if local else b"\x00")
    table = b"\x00\x00\x00" * 4 if local else b""
    return descriptor + table + b"\x02" + b"\x02\x44\x01" * data_blocks + b"\x00"


@st.composite
def gifs(draw):
    data = b"GIF89a" + struct.pack("<HH", draw(st.sampled_from([1, 10, 300])), 7) + b"\x80\x00\x00" + b"\0" * 6
    for _ in range(draw(st.integers(0, 3))):
        block = draw(
            st.sampled_from(
                [
                    b"\x21\xf9\x04\x00\x00\x00\x00\x00",  # graphic control extension
                    b"\x21\xfe\x03abc\x00",  # comment
                    gif_image(False, 1),
                    gif_image(True, 3),
                    b"\x07",  # a byte that starts no block
                ]
            )
        )
        data += block
    data += draw(st.sampled_from([b"\x3b", b""]))
    cut = draw(st.integers(0, 40))
    return data[: len(data) - cut] if cut < len(data) - 13 else data


@settings(max_examples=200, deadline=None)
@given(data=gifs(), head=st.sampled_from([13, 14, 20, 64]))
def test_a_gif_reads_the_same_from_the_head_and_fetched(data, head):
    assert outcome(lambda: inspect(data)) == general(data, head)


def test_a_local_jpeg_past_large_app_blocks_reads_a_few_kib_not_its_thumbnail(tmp_path, monkeypatch):
    """The frame header after 20 KB of APP2 (an ICC profile, as camera JPEGs carry EXIF thumbnails): the first
    read, a few KiB where the next segments are, and the last two bytes; not the blocks or the image data."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((900, 700), 60).convert("RGB").save(out, "JPEG", quality=95, icc_profile=b"\0" * 20000)
    data = out.getvalue()
    assert len(data) > 200_000 and data.index(b"\xff\xc0") > 20000
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    got = []
    real_read, real_pread = os.read, os.pread
    monkeypatch.setattr(os, "read", lambda fd, count: got.append(real_read(fd, count)) or got[-1])
    monkeypatch.setattr(os, "pread", lambda fd, count, at: got.append(real_pread(fd, count, at)) or got[-1])
    info = inspect_path(path)
    monkeypatch.undo()
    assert (info.format, info.width, info.height, info.warning) == ("JPEG", 900, 700, None)
    assert len(got) <= 3 and sum(map(len, got)) <= 16384 + 4096 + 2
