"""HEIC/HEIF, AVIF and TIFF headers read by costcalc itself; the format each API accepts (issue 20).

Real files come from pillow-heif (libheif) and Pillow's AVIF plugin (libavif) when they are installed, and
those decoders are the oracle for the size; the committed samples in tests/data and the hand-built ISO BMFF
containers below need neither.
"""

import io
import json
import struct
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features

import costcalc
from costcalc import image_info as inspect
from costcalc.cli import cli
from costcalc.inspection.headers import inspect_reader

DATA = Path(__file__).resolve().parents[1] / "data"
HEIC_SAMPLE = DATA / "rotated-96x64-o6.heic"  # pillow-heif 1.9 / libheif 1.23: 96×64 stored, irot for EXIF 6
AVIF_SAMPLE = DATA / "gradient-80x48.avif"  # Pillow 13's AVIF plugin (libavif)


def heif_opener():
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif (costcalc[heif]) is not installed")
    pillow_heif.register_heif_opener()
    return pillow_heif


def need_avif():
    if not features.check("avif"):
        pytest.skip("this Pillow is built without AVIF")


def upright(info):
    return (info.width, info.height) if info.orientation < 5 else (info.height, info.width)


def encode(fmt, size, orientation=1, **save):
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        save["exif"] = exif.tobytes()
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


# ------------------------------------------------------------------ ISO BMFF by hand


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big"), *parts)


def ispe(width, height):
    return full(b"ispe", 0, 0, struct.pack(">II", width, height))


def irot(angle):
    return box(b"irot", bytes([angle]))


def imir(axis):
    return box(b"imir", bytes([axis]))


def clap(width_n, width_d, height_n, height_d):
    return box(b"clap", struct.pack(">IIIIiIiI", width_n, width_d, height_n, height_d, 0, 1, 0, 1))


def ftyp(major=b"heic", *compatible):
    return box(b"ftyp", major, b"\0\0\0\0", *(compatible or (b"mif1", major)))


def meta(props, order=None, *, item_type=b"hvc1", handler=b"pict", pitm=1, item=1):
    order = list(range(1, len(props) + 1)) if order is None else order
    infe = full(b"infe", 2, 0, struct.pack(">HH", item, 0), item_type, b"\0")
    parts = [full(b"hdlr", 0, 0, b"\0" * 4, handler, b"\0" * 12, b"\0")]
    if pitm is not None:
        parts.append(full(b"pitm", 0, 0, struct.pack(">H", pitm)))
    parts.append(full(b"iinf", 0, 0, struct.pack(">H", 1), infe))
    ipma = full(b"ipma", 0, 0, struct.pack(">IHB", 1, item, len(order)), bytes(order))
    parts.append(box(b"iprp", box(b"ipco", *props), ipma))
    return full(b"meta", 0, 0, *parts)


def heif(props, order=None, *, brand=b"heic", mdat=b"\0" * 32, **kwargs):
    return ftyp(brand) + meta(props, order, **kwargs) + box(b"mdat", mdat)


def sequence(width, height, samples, brand=b"msf1", handler=b"pict"):
    tkhd = full(b"tkhd", 0, 7, b"\0" * 72, struct.pack(">II", width << 16, height << 16))
    stsz = full(b"stsz", 0, 0, struct.pack(">II", 0, samples), b"\0\0\0\x10" * samples)
    mdia = box(b"mdia", full(b"hdlr", 0, 0, b"\0" * 4, handler, b"\0" * 13), box(b"minf", box(b"stbl", stsz)))
    return ftyp(brand, b"msf1", b"hevc", b"iso8") + box(b"moov", box(b"trak", tkhd, mdia)) + box(b"mdat", b"\0" * 16)


@pytest.mark.parametrize(
    "props, order, expected",
    [
        ([ispe(640, 480)], None, (640, 480, 1)),
        ([ispe(640, 480), irot(1)], None, (640, 480, 8)),  # a quarter turn anti-clockwise
        ([ispe(640, 480), irot(2)], None, (640, 480, 3)),
        ([ispe(640, 480), irot(3)], None, (640, 480, 6)),
        ([ispe(640, 480), imir(0)], None, (640, 480, 4)),  # 23008-12:2022: axis 0 exchanges top and bottom
        ([ispe(640, 480), imir(1)], None, (640, 480, 2)),  # axis 1 exchanges left and right
        ([ispe(640, 480), irot(1), imir(1)], None, (640, 480, 7)),
        ([ispe(640, 480), irot(1), imir(0)], None, (640, 480, 5)),
        ([ispe(640, 480), imir(1), irot(1)], None, (640, 480, 5)),  # the order of ipma is the order applied
        ([ispe(640, 480), clap(600, 1, 400, 1)], None, (600, 400, 1)),
        ([ispe(641, 481), clap(1201, 2, 801, 2)], None, (601, 401, 1)),  # 600.5 rounds half up, as libheif
        ([ispe(640, 480), irot(1), clap(400, 1, 600, 1)], None, (600, 400, 8)),  # the crop is in the turned frame
        ([ispe(640, 480), clap(600, 1, 400, 1), irot(3)], None, (600, 400, 6)),
        ([irot(1), ispe(64, 32)], [2, 1], (64, 32, 8)),
        ([irot(1), ispe(64, 32)], [1 | 0x80, 2], (64, 32, 8)),  # listed before the size, as libheif reads it
        (
            [ispe(640, 480), box(b"colr", b"nclx", b"\0" * 7), box(b"pixi", b"\0\0\0\0\x03\x08\x08\x08")],
            None,
            (640, 480, 1),
        ),
    ],
)
def test_hand_built_heif_size_and_orientation(props, order, expected):
    info = inspect(heif(props, order))
    assert (info.format, info.width, info.height, info.orientation) == ("HEIC", *expected)
    assert (info.frames, info.animated, info.warning) == (1, False, None)


@pytest.mark.parametrize(
    "brand, item_type, name",
    [
        (b"heic", b"hvc1", "HEIC"),
        (b"mif1", b"hvc1", "HEIC"),
        (b"avif", b"av01", "AVIF"),
        (b"mif1", b"av01", "AVIF"),
        (b"avif", b"grid", "AVIF"),
        (b"heic", b"grid", "HEIC"),
        (b"mif1", b"jpeg", "HEIF"),
        (b"mif1", b"grid", "HEIF"),
    ],
)
def test_format_name_from_the_primary_item_then_the_brands(brand, item_type, name):
    data = ftyp(brand, b"mif1", brand) + meta([ispe(10, 20)], item_type=item_type) + box(b"mdat")
    assert inspect(data).format == name


def test_box_layouts_decoders_accept():
    body = meta([ispe(30, 40)])
    largesize_mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + 8) + b"\0" * 8
    to_the_end = struct.pack(">I4s", 0, b"mdat") + b"\0" * 100
    for data in (
        ftyp() + body + largesize_mdat,
        ftyp() + body + to_the_end,
        ftyp() + box(b"mdat", b"\0" * 50) + body,
        ftyp() + box(b"free", b"\0" * 20000) + body,
    ):
        info = inspect(data)
        assert (info.width, info.height, info.bytes, info.warning) == (30, 40, len(data), None)


def test_media_data_cut_short_is_read_with_a_warning():
    data = heif([ispe(30, 40)], mdat=b"\0" * 1000)
    info = inspect(data[:-10])
    assert (info.width, info.height) == (30, 40)
    assert "truncated HEIC" in info.warning and "mdat" in info.warning


def test_image_sequences_count_their_frames():
    info = inspect(sequence(320, 240, 12))
    assert (info.format, info.width, info.height, info.frames, info.animated) == ("HEIC", 320, 240, 12, True)
    still = inspect(sequence(320, 240, 1))
    assert (still.frames, still.animated) == (1, False)
    avis = ftyp(b"avis", b"avif", b"msf1") + meta([ispe(64, 48)], item_type=b"av01") + sequence(64, 48, 7)[28:]
    info = inspect(avis)
    assert (info.format, info.width, info.height, info.frames, info.animated) == ("AVIF", 64, 48, 7, True)


@pytest.mark.parametrize(
    "data, message",
    [
        (ftyp() + box(b"mdat", b"\0" * 8), "no meta box"),
        (heif([ispe(5, 5)], handler=b"vide"), "handler (hdlr) is 'vide', not 'pict'"),
        (heif([ispe(5, 5)], pitm=None), "no primary item"),
        (heif([ispe(5, 5)], pitm=2), "primary item 2 has no properties"),
        (heif([irot(1)]), "no size (ispe"),
        (heif([ispe(5, 5)], [3]), "names property 3, but ipco holds 1"),
        (heif([ispe(5, 5), clap(1, 0, 1, 0)]), "zero denominator"),
        (heif([ispe(5, 5), clap(6, 1, 5, 1)]), "does not fit"),
        (heif([ispe(5, 5), box(b"irot")]), "irot property is empty"),
        (heif([full(b"ispe", 0, 0, b"\0\0")]), "ispe property is cut short"),
        (heif([ispe(0, 5)]), "empty size 0×5"),
        (ftyp() + struct.pack(">I4s", 4, b"meta") + b"\0" * 40, "box meta at byte 24 gives size 4"),
        (ftyp() + struct.pack(">I4s", 9000, b"meta") + b"\0" * 40, "truncated HEIC: the file ends inside its meta box"),
        (ftyp() + full(b"meta", 0, 0, struct.pack(">I4s", 500, b"hdlr")), "which its parent does not hold"),
        (b"\0\0\0\x10ftypheic\0\0\0\0", "no meta box"),
        (b"\0\0\0\x0cftypheic", "no room for the brand"),
        (b"\0\0\0\x20ftypheic\0\0\0\0", "the file ends inside its ftyp box"),
        (ftyp() + b"\0\0\x10\0mdat" + b"\0" * 30, "ends inside its media data (mdat), before its meta box"),
        (heif([ispe(64, 64), irot(1), irot(1)]), "more than one irot property"),
        (heif([ispe(64, 64), clap(8, 1, 8, 1), imir(0), clap(4, 1, 4, 1)]), "more than one clap property"),
    ],
)
def test_malformed_containers_are_one_clear_error_naming_the_file(data, message, tmp_path):
    path = tmp_path / "broken.heic"
    path.write_bytes(data)
    with pytest.raises(costcalc.InvalidImageError, match="broken.heic: ") as caught:
        inspect(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_meta_box_over_the_cap_is_refused_not_read():
    huge = 1 << 40  # a terabyte, as its header claims
    head = ftyp() + struct.pack(">I4sQ", 1, b"meta", huge + 16)
    asked = []

    def fetch(offset, count):
        asked.append(count)
        return b"\0" * min(count, 4096)

    with pytest.raises(costcalc.InvalidImageError, match="costcalc reads"):
        inspect_reader(head, fetch, huge * 2, name="x.heic")
    assert sum(asked) < 1 << 20


def test_committed_samples_read_without_any_extra():
    heic = inspect(HEIC_SAMPLE)
    assert (heic.format, heic.width, heic.height, heic.orientation) == ("HEIC", 96, 64, 6)
    assert upright(heic) == (64, 96) and heic.bytes == HEIC_SAMPLE.stat().st_size and heic.warning is None
    avif = inspect(AVIF_SAMPLE)
    assert (avif.format, avif.width, avif.height, avif.orientation, avif.warning) == ("AVIF", 80, 48, 1, None)


def test_committed_heic_sample_against_libheif():
    pillow_heif = heif_opener()
    assert pillow_heif.open_heif(HEIC_SAMPLE).size == (64, 96)  # libheif applies irot: the upright size
    with Image.open(HEIC_SAMPLE) as image:
        assert image.size == upright(inspect(HEIC_SAMPLE)) and image.info["original_orientation"] == 6


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("size", [(64, 40), (1, 1), (301, 17)])
def test_heic_from_libheif_equals_its_decoded_size(orientation, size):
    heif_opener()
    data = encode("HEIF", size, orientation, quality=30)
    info = inspect(data)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        # pillow-heif presents the transformed image and keeps the EXIF value it wrote as irot/imir
        assert image.size == upright(info)
        assert (image.info.get("original_orientation") or 1) == info.orientation == orientation
    assert (info.format, info.width, info.height, info.bytes, info.warning) == ("HEIC", *size, len(data), None)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_avif_from_libavif_equals_pillows_size_and_orientation(orientation):
    need_avif()
    data = encode("AVIF", (72, 30), orientation, quality=30)
    info = inspect(data)
    with Image.open(io.BytesIO(data)) as image:
        # Pillow's AVIF plugin gives the stored size and turns irot/imir into the EXIF orientation
        assert (image.format, *image.size) == (info.format, info.width, info.height) == ("AVIF", 72, 30)
        assert image.getexif().get(0x0112, 1) == info.orientation == orientation


def test_animated_avif_counts_frames_as_pillow_does():
    need_avif()
    frames = [Image.new("RGB", (40, 24), (40 * i, 0, 0)) for i in range(6)]
    out = io.BytesIO()
    frames[0].save(out, "AVIF", save_all=True, append_images=frames[1:], duration=50)
    info = inspect(out.getvalue())
    with Image.open(out) as image:
        assert (
            (info.frames, info.animated, info.width, info.height)
            == (image.n_frames, True, *image.size)
            == (6, True, 40, 24)
        )


def strip_meta_and_append(data: bytes, extra_props: list[bytes], primary: int | None = None) -> bytes:
    """A real HEIF with properties added to its primary item: the meta box rebuilt at the end of the file and
    the old one turned into a `free` box of the same size, so every iloc offset into mdat still holds."""
    pos, top = 0, []
    while pos < len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        top.append((kind, pos, pos + size))
        pos += size
    kind, start, end = next(t for t in top if t[0] == b"meta")
    children, at = [], start + 12
    while at < end:
        size, child = struct.unpack_from(">I4s", data, at)
        children.append((child, data[at : at + size]))
        at += size
    rebuilt = []
    for child, raw in children:
        if child == b"pitm":
            primary = struct.unpack_from(">H", raw, 12)[0]
        if child != b"iprp":
            rebuilt.append(raw)
            continue
        ipco, ipma, at = None, None, 8
        while at < len(raw):
            size, sub = struct.unpack_from(">I4s", raw, at)
            if sub == b"ipco":
                ipco = raw[at : at + size]
            elif sub == b"ipma":
                ipma = raw[at : at + size]
            at += size
        count_before = 0
        at = 8
        while at < len(ipco):
            size = struct.unpack_from(">I", ipco, at)[0]
            count_before += 1
            at += size
        new_ipco = box(b"ipco", ipco[8:], *extra_props)
        version, flags = ipma[8], int.from_bytes(ipma[9:12], "big")
        assert version == 0 and not flags & 1
        n, at, entries = struct.unpack_from(">I", ipma, 12)[0], 16, []
        for _ in range(n):
            item, k = struct.unpack_from(">HB", ipma, at)
            indices = list(ipma[at + 3 : at + 3 + k])
            at += 3 + k
            if item == primary:
                indices += [0x80 | (count_before + i + 1) for i in range(len(extra_props))]
            entries.append(struct.pack(">HB", item, len(indices)) + bytes(indices))
        new_ipma = full(b"ipma", 0, 0, struct.pack(">I", n), *entries)
        rebuilt.append(box(b"iprp", new_ipco, new_ipma))
    new_meta = full(b"meta", 0, 0, *rebuilt)
    free = struct.pack(">I4s", end - start, b"free") + b"\0" * (end - start - 8)
    return data[:start] + free + data[end:] + new_meta


@pytest.mark.parametrize(
    "extra, stored, orientation",
    [
        ([clap(60, 1, 30, 1)], (60, 30), 1),
        ([clap(121, 2, 61, 2)], (61, 31), 1),
        ([irot(1), clap(30, 1, 60, 1)], (60, 30), 8),
        ([clap(50, 1, 20, 1), imir(0)], (50, 20), 4),
        ([imir(1), irot(3)], (64, 64), 7),
    ],
)
def test_clean_aperture_against_libheif(extra, stored, orientation):
    pillow_heif = heif_opener()
    plain = encode("HEIF", (64, 64), quality=30)  # a whole number of coding blocks: libheif writes no clap
    assert b"clap" not in plain and inspect(plain).warning is None
    data = strip_meta_and_append(plain, extra)
    info = inspect(data)
    assert (info.width, info.height, info.orientation) == (*stored, orientation)
    assert pillow_heif.open_heif(data).size == upright(info)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == upright(info)


# ------------------------------------------------------------------ TIFF


def tiff_by_hand(order: str, fields: list[tuple[int, int, int]], next_ifd=0, pixels=b"\x80" * 64) -> bytes:
    """A classic TIFF: header, IFD0 at byte 8, then the pixels (StripOffsets set to them); fields as (tag, type,
    value), one value each."""
    magic = b"II*\0" if order == "<" else b"MM\0*"
    start = 8 + 2 + 12 * len(fields) + 4
    entries = b""
    for tag, kind, value in sorted(fields):
        value = start if tag == 273 else value
        packed = struct.pack(order + ("H2x" if kind == 3 else "I"), value)
        entries += struct.pack(order + "HHI", tag, kind, 1) + packed
    ifd = struct.pack(order + "H", len(fields)) + entries + struct.pack(order + "I", next_ifd)
    return magic + struct.pack(order + "I", 8) + ifd + pixels


BASELINE = [
    (256, 3, 8),
    (257, 4, 8),
    (258, 3, 8),
    (259, 3, 1),
    (262, 3, 1),
    (273, 4, 0),
    (277, 3, 1),
    (278, 3, 8),
    (279, 4, 64),
]


@pytest.mark.parametrize("order", ["<", ">"])
def test_tiff_both_byte_orders_by_hand(order):
    data = tiff_by_hand(order, [*BASELINE, (274, 3, 6)])
    info = inspect(data)
    assert (info.format, info.width, info.height, info.orientation, info.frames, info.warning) == (
        "TIFF",
        8,
        8,
        6,
        1,
        None,
    )
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (8, 8) and image.getexif().get(0x0112) == 6
        image.load()
    cut = inspect(data[:-1])
    assert (cut.width, cut.height) == (8, 8) and "truncated TIFF: its image data runs to byte" in cut.warning


@pytest.mark.parametrize(
    "save, expected",
    [
        ({}, (123, 45, 1, 1)),
        ({"compression": "tiff_lzw"}, (123, 45, 1, 1)),
        ({"compression": "tiff_adobe_deflate", "tiffinfo": {274: 8}}, (123, 45, 8, 1)),
        ({"tiffinfo": {274: 6}}, (123, 45, 6, 1)),
        ({"big_tiff": True}, (123, 45, 1, 1)),
        ({"big_tiff": True, "tiffinfo": {274: 3}}, (123, 45, 3, 1)),
        ({"compression": "packbits"}, (123, 45, 1, 1)),
    ],
)
def test_tiff_from_pillow_equals_its_size(save, expected):
    data = encode("TIFF", (123, 45), **save)
    info = inspect(data)
    with Image.open(io.BytesIO(data)) as image:
        # Pillow's TIFF plugin presents the upright size (and turns the pixels at load); costcalc reports the
        # stored size and the Orientation tag, whose upright size is Pillow's
        assert (image.format, *image.size) == ("TIFF", *upright(info))
        assert image.tag_v2.get(274, 1) == info.orientation
        image.load()
        assert image.size == upright(info)
    assert (info.width, info.height, info.orientation, info.frames) == expected
    assert (info.animated, info.bytes, info.warning) == (False, len(data), None)


def test_multi_page_tiff_counts_pages_as_pillow():
    pages = [Image.new("L", (10 + i, 20)) for i in range(4)]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    info = inspect(out.getvalue())
    with Image.open(out) as image:
        assert (info.width, info.height, info.frames, info.animated) == (*image.size, image.n_frames, True)
    assert info.frames == 4


@pytest.mark.parametrize(
    "data, message",
    [
        (b"II*\0\x04\0\0\0", "inside the header"),
        (b"II*\0\x00\x10\0\0" + b"\0" * 8, "before its first IFD"),
        (tiff_by_hand("<", [(257, 3, 8)]), "no ImageWidth (256)"),
        (tiff_by_hand(">", [(256, 3, 8), (257, 2, 8)]), "no ImageLength (257)"),
        (tiff_by_hand("<", [(256, 3, 0), (257, 3, 8)]), "empty size 0×8"),
        (b"II+\0\x04\0\0\0" + b"\0" * 8, "offset size 4, not 8"),
        (b"MM\0*", "inside its header"),
    ],
)
def test_malformed_tiff_is_one_clear_error(data, message):
    with pytest.raises(costcalc.InvalidImageError, match="scan.tif: ") as caught:
        inspect(data, name="scan.tif")
    assert message in str(caught.value)


def test_tiff_ifd_chains_are_bounded():
    looped = tiff_by_hand("<", BASELINE, next_ifd=8)  # IFD0 names itself as the next page
    assert inspect(looped).frames == 1
    past_the_end = tiff_by_hand("<", BASELINE, next_ifd=1 << 30)
    assert inspect(past_the_end).frames == 1
    # 65,535 entries claimed in 40 bytes: read as far as the file goes, no more
    claimed = b"II*\0\x08\0\0\0\xff\xff" + struct.pack("<HHII", 256, 3, 1, 5) + struct.pack("<HHII", 257, 3, 1, 7)
    info = inspect(claimed)
    assert (info.width, info.height, info.frames) == (5, 7, 1)


# ------------------------------------------------------------------ PNG (issue 15)


def png(**info_chunks) -> bytes:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    for key, (kind, value) in info_chunks.items():
        if kind == "zTXt":
            text.add_text(key, value, zip=True)
        elif kind == "iTXt":
            text.add_itxt(key, value, zip=True)
        else:
            text.add_text(key, value)
    out = io.BytesIO()
    Image.new("L", (3, 2)).save(out, "PNG", pnginfo=text)
    return out.getvalue()


def chunk(kind: bytes, payload: bytes) -> bytes:
    import zlib

    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def with_ihdr(fields: bytes) -> bytes:
    data = bytearray(png())
    data[24:29] = fields
    return bytes(data[:8]) + chunk(b"IHDR", bytes(data[16:29])) + bytes(data[33:])


@pytest.mark.parametrize(
    "fields, message",
    [
        (bytes([8, 0, 1, 0, 0]), "compression method 1"),
        (bytes([8, 0, 0, 1, 0]), "filter method 1"),
        (bytes([8, 0, 0, 0, 2]), "interlace method 2"),
        (bytes([8, 0, 0, 0, 255]), "interlace method 255"),
        (bytes([3, 2, 0, 0, 0]), "bit depth 3 for colour type 2"),
        (bytes([16, 3, 0, 0, 0]), "bit depth 16 for colour type 3"),
        (bytes([8, 7, 0, 0, 0]), "colour type 7"),
    ],
)
def test_png_ihdr_methods_no_decoder_accepts_are_refused(fields, message):
    with pytest.raises(costcalc.InvalidImageError, match="11.2.2 IHDR") as caught:
        inspect(with_ihdr(fields), name="odd.png")
    assert message in str(caught.value) and str(caught.value).startswith("odd.png: corrupt PNG")
    assert inspect(with_ihdr(bytes([8, 0, 0, 0, 1]))).warning is None  # Adam7 is allowed


MIB = 1 << 20


def test_png_text_bomb_gets_a_warning_as_pillow_refuses_it():
    """Pillow's Tests/images/png_decompression_dos.png: a zTXt chunk inflating past MAX_TEXT_CHUNK (1 MiB)."""
    data = png(bomb=("zTXt", "a" * (2 * MIB)))
    assert len(data) < 10_000
    with pytest.raises(ValueError, match="Decompressed [Dd]ata [Tt]oo [Ll]arge"):
        Image.open(io.BytesIO(data))
    started = time.monotonic()
    info = inspect(data)
    assert time.monotonic() - started < 1
    assert (info.width, info.height) == (3, 2)
    assert "zTXt chunk decompresses to more than 1,048,576 bytes" in info.warning
    assert "MAX_TEXT_CHUNK" in info.warning


def test_png_compressed_itxt_and_icc_bombs_get_a_warning():
    assert "iTXt chunk" in inspect(png(bomb=("iTXt", "b" * (2 * MIB)))).warning
    import zlib

    plain = png()
    icc = chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * (3 * MIB)))
    data = plain[:33] + icc + plain[33:]
    with pytest.raises(ValueError):
        Image.open(io.BytesIO(data))
    assert "iCCP chunk" in inspect(data).warning


def test_png_text_memory_over_pillows_bound_gets_a_warning():
    """Pillow's check_png_dos.test_dos_total_memory: 64 zTXt and 64 iTXt chunks of 1023 KiB each."""
    value = "a" * (1023 * 1024)
    data = png(**{f"t{i}": ("zTXt", value) for i in range(64)}, **{f"i{i}": ("iTXt", value) for i in range(64)})
    with pytest.raises(ValueError, match="Too much memory"):
        Image.open(io.BytesIO(data))
    started = time.monotonic()
    info = inspect(data)
    assert time.monotonic() - started < 5
    assert "MAX_TEXT_MEMORY" in info.warning


def test_png_ordinary_text_and_icc_are_no_defect():
    data = png(title=("tEXt", "hello"), note=("zTXt", "x" * 5000), intl=("iTXt", "y" * 5000))
    with Image.open(io.BytesIO(data)) as image:
        image.load()
    assert inspect(data).warning is None
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "PNG", icc_profile=b"\0" * 100_000)
    assert inspect(out.getvalue()).warning is None


# ------------------------------------------------------------------ formats costcalc does not read


@pytest.mark.parametrize(
    "fmt, data",
    [
        ("BMP", encode("BMP", (20, 10))),
        ("ICO", encode("ICO", (32, 32))),
        ("PSD", b"8BPS\0\1" + b"\0" * 40),
        ("JPEG XL", b"\xff\x0a" + b"\0" * 20),
        ("JPEG 2000", b"\0\0\0\x0cjP  \r\n\x87\n" + b"\0" * 20),
    ],
)
def test_formats_not_read_say_cannot_read(fmt, data):
    with pytest.raises(costcalc.UnsupportedFormatError) as caught:
        inspect(data, name="scan.x")
    text = str(caught.value)
    assert text.startswith(f"scan.x: cannot read: {fmt} headers are not read by costcalc")
    assert "TIFF, HEIC/HEIF and AVIF" in text and "accepted" not in text
    assert caught.value.format == fmt


def test_an_iso_bmff_file_of_no_image_brand_is_not_an_image():
    with pytest.raises(costcalc.InvalidImageError, match="not an image"):
        inspect(box(b"ftyp", b"isom", b"\0\0\0\0", b"isom", b"mp41") + box(b"mdat"))


# ------------------------------------------------------------------ the API's formats, end to end


def estimate_json(*args):
    result = CliRunner().invoke(cli, ["estimate", *args, "--json"])
    return result, {row["model"]: row for row in json.loads(result.stdout)} if result.stdout.strip() else {}


def test_cli_heic_priced_for_gemini_rejected_for_openai(tmp_path):
    photo = tmp_path / "photo.heic"
    photo.write_bytes(HEIC_SAMPLE.read_bytes())
    result, rows = estimate_json(str(photo), "-m", "gemini-3-flash-preview", "-m", "gpt-4o")
    assert result.exit_code == 1
    gemini, openai = rows["gemini-3-flash-preview"], rows["gpt-4o"]
    assert gemini["error"] is None and gemini["tokens"] > 0 and (gemini["width"], gemini["height"]) == (96, 64)
    assert openai["rule"] == "formats" and openai["tokens"] is None
    assert "HEIC is not an accepted format" in openai["error"]


def test_cli_avif_and_tiff_rejected_by_format_for_openai_and_gemini(tmp_path):
    tiff = tmp_path / "scan.tiff"
    tiff.write_bytes(encode("TIFF", (300, 200)))
    avif = tmp_path / "photo.avif"
    avif.write_bytes(AVIF_SAMPLE.read_bytes())
    for path, fmt in ((tiff, "TIFF"), (avif, "AVIF")):
        result, rows = estimate_json(
            str(path), "-m", "gpt-4o", "-m", "gemini-3-flash-preview", "-m", "claude-sonnet-4-5"
        )
        for model, row in rows.items():
            assert row["rule"] == "formats" and f"{fmt} is not an accepted format" in row["error"], model
            assert row["width"] is not None  # read, then refused by the API's rule


def test_cli_bmp_cannot_be_read(tmp_path):
    bmp = tmp_path / "scan.bmp"
    bmp.write_bytes(encode("BMP", (30, 20)))
    result = CliRunner().invoke(cli, ["estimate", str(bmp), "-m", "gpt-4o", "-m", "qwen3-vl-plus"])
    assert result.exit_code == 1
    # OpenAI's API refuses BMP (rejected, formats); Qwen's may take it, and costcalc cannot read it
    assert "Error (for gpt-4o)" in result.stderr and "BMP is not an accepted format" in result.stderr
    assert "Error (for qwen3-vl-plus)" in result.stderr
    assert "cannot read: BMP headers are not read by costcalc" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_the_formats_rows_say_what_each_vendor_accepts():
    from costcalc.catalog.limits import load_limits

    accepted = {
        vendor: load_limits(vendor=vendor).rules["formats"].value
        for vendor in ("openai", "anthropic", "google", "mistral", "amazon")
    }
    assert set(accepted["google"]) == {"PNG", "JPEG", "WEBP", "HEIC", "HEIF"}
    for vendor in ("openai", "anthropic", "mistral", "amazon"):
        assert set(accepted[vendor]) == {"PNG", "JPEG", "WEBP", "GIF"}, vendor
    assert "formats" not in load_limits(vendor="qwen").rules  # its list could not be checked: unknown, not borrowed


# ------------------------------------------------------------------ fuzzing


def samples() -> list[bytes]:
    found = [
        HEIC_SAMPLE.read_bytes(),
        AVIF_SAMPLE.read_bytes(),
        sequence(32, 16, 3),
        heif([ispe(640, 480), irot(1), clap(400, 1, 600, 1), imir(1)]),
        tiff_by_hand(">", [*BASELINE, (274, 3, 6)]),
        encode("TIFF", (33, 22), big_tiff=True),
        png(note=("zTXt", "z" * 3000)),
    ]
    return found


SAMPLES = samples()


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(SAMPLES))),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    st.integers(0, 10**6),
)
def test_mutated_files_give_an_image_or_a_costcalc_error(which, mutations, cut):
    data = bytearray(SAMPLES[which])
    for at, value in mutations:
        data[at % len(data)] = value
    data = bytes(data[: max(1, cut % (len(data) + 1))]) if cut % 3 == 0 else bytes(data)
    started = time.monotonic()
    try:
        info = inspect(data)
    except costcalc.CostcalcError:
        pass
    else:
        assert info.width >= 1 and info.height >= 1 and 1 <= info.orientation <= 8
        assert info.frames is None or info.frames >= 1
    assert time.monotonic() - started < 1


@settings(max_examples=300, deadline=2000)
@given(st.sampled_from([b"heic", b"avif", b"mif1", b"msf1", b"avis"]), st.binary(max_size=400))
def test_random_boxes_behind_an_image_brand_never_crash(brand, tail):
    try:
        inspect(ftyp(brand) + tail)
    except costcalc.CostcalcError:
        pass


@settings(max_examples=300, deadline=2000)
@given(st.sampled_from([b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"]), st.binary(max_size=400))
def test_random_tiff_bodies_never_crash(magic, tail):
    try:
        inspect(magic + tail)
    except costcalc.CostcalcError:
        pass


@pytest.mark.parametrize("sample", [HEIC_SAMPLE, AVIF_SAMPLE])
def test_every_truncation_of_a_real_file_reads_right_or_is_refused(sample):
    data = sample.read_bytes()
    whole = inspect(data)
    for cut in range(len(data)):
        try:
            info = inspect(data[:cut])
        except costcalc.InvalidImageError:
            continue
        assert (info.width, info.height, info.orientation) == (whole.width, whole.height, whole.orientation)
        assert info.warning and "truncated" in info.warning, cut  # its image data is cut: never read as whole


def test_header_only_reads_of_a_stream_and_bounded_reads_of_a_file():
    data = HEIC_SAMPLE.read_bytes()
    head = data[: data.index(b"mdat") + 4]  # ftyp and meta: the header a stream gives first
    head_only = inspect_reader(head, None, None, name="remote.heic", body=False)
    assert (head_only.width, head_only.height, head_only.orientation, head_only.warning) == (96, 64, 6, None)
    asked = []

    def fetch(offset, count):
        asked.append(count)
        return data[offset : offset + count]

    assert inspect_reader(data[:16], fetch, len(data)).width == 96  # the head a box header long, the rest fetched
    assert max(asked) <= len(data) and sum(asked) <= 2 * len(data)


def test_a_sequence_cut_inside_moov_after_its_meta_is_read_with_a_warning():
    whole = ftyp(b"avis", b"avif", b"msf1") + meta([ispe(64, 48)], item_type=b"av01") + sequence(64, 48, 7)[28:]
    cut = whole[: whole.index(b"moov") + 20]
    info = inspect(cut)
    assert (info.width, info.height) == (64, 48) and "moov" in info.warning
