"""HEIF, HEIC and AVIF headers from their ISO base media file format boxes, without a decoder.

The boxes read (ISO/IEC 14496-12, ISO base media file format; ISO/IEC 23008-12, HEIF):

- `ftyp` (14496-12, 4.3): major and compatible brands. 'avif'/'avis' (AV1 Image File
  Format, https://aomediacodec.github.io/av1-avif/, section 7 "Brands") name AVIF;
  'heic'/'heix'/'heim'/'heis'/'hevc'/'hevx' (23008-12, Annex B) name HEIC; 'mif1'/'msf1'
  (23008-12, 10.2 and 10.3) any other HEIF.
- `meta` (14496-12, 8.11.1) with `hdlr` 'pict' (8.4.3), `pitm` the primary item (8.11.4),
  `iinf`/`infe` the item types (8.11.6), and `iprp` → `ipco` + `ipma` (14496-12, 8.11.14;
  23008-12, 9.3): the properties associated with the primary item, in order.
- The item properties of 23008-12 section 6.5: `ispe` image spatial extents (6.5.3), and
  the transformative ones `clap` clean aperture (6.5.9, the syntax of 14496-12, 12.1.4),
  `irot` image rotation (6.5.10) and `imir` image mirroring (6.5.12), applied "in the
  order of their appearance in the ItemPropertyAssociationBox" (23008-12, 6.5.1).
- `moov` (14496-12, 8.2.1) of an image sequence ('msf1', 'hevs', 'avis'): the first track
  whose `hdlr` is 'pict' or 'vide', its `tkhd` size (8.3.2) and `stsz`/`stz2` sample
  count (8.7.3), which is the frame count.

The size reported is the primary item's `ispe` cropped by its `clap` (as libheif's
`heif_image_handle_get_width` and libavif do), given **as stored before rotation**, with
`irot`/`imir` folded into the equivalent EXIF orientation 1-8 — the convention of every
other format here (JPEG and TIFF report the stored size and their Orientation tag) and of
Pillow's own AVIF plugin, which reports libavif's un-rotated size and turns irot/imir into
an EXIF orientation. The upright size (orientation 5-8 swaps the sides) is what libheif,
and so pillow-heif, presents after applying the transformations. EXIF orientation stored in
a HEIF file is not read: 23008-12 (and MIAF, 23000-22, 7.3.6.7) make the transformative
properties authoritative, and pillow-heif resets the EXIF tag to 1.

Every read is bounded: a box is read only up to the size its header gives, and never more
than `_BOX_CAP` bytes; a box whose header is malformed raises the reader's InvalidImageError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["BRANDS", "image_brand", "read_isobmff", "Found"]

AVIF_BRANDS = frozenset({b"avif", b"avis"})
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"mif3"})
BRANDS = AVIF_BRANDS | HEIC_BRANDS | HEIF_BRANDS
"""ftyp brands that make a file a HEIF image (or image sequence) costcalc reads."""

_SEQUENCE_BRANDS = frozenset({b"msf1", b"hevs", b"avis"})
_BOX_CAP = 4 << 20
"""At most this many bytes of one `meta` or `moov` box are read (a real one holds a few KB; its
media data lives in `mdat`, which is never read)."""
_MAX_TOP_BOXES = 4096
"""Top-level boxes walked before giving up: time is bounded whatever the file."""
_MAX_CHILDREN = 65536


class Found(NamedTuple):
    """What the boxes say: the format name, the stored size, frames, animated, orientation, and a defect."""

    format: str
    width: int
    height: int
    frames: int | None
    animated: bool
    orientation: int
    defect: str | None


class _Malformed(Exception):
    """A box that is not what its header or the specification says; the message says what."""


def image_brand(head: bytes) -> bytes | None:
    """The first ftyp brand (major, then compatible ones) naming a HEIF/AVIF image, or None."""
    if head[4:8] != b"ftyp" or len(head) < 12:
        return None
    (size,) = struct.unpack_from(">I", head, 0)
    brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
    for brand in brands:
        if brand in AVIF_BRANDS or brand in HEIC_BRANDS:
            return brand
    return next((brand for brand in brands if brand in HEIF_BRANDS), None)


def _format_name(brands: list[bytes], item_type: bytes | None) -> str:
    """AVIF for AV1 items ('av01'), HEIC for HEVC ones ('hvc1'); for others (a 'grid', a sequence) by brand."""
    if item_type == b"av01":
        return "AVIF"
    if item_type == b"hvc1":
        return "HEIC"
    if item_type in (None, b"grid", b"iden", b"iovl"):
        for brand in brands:
            if brand in AVIF_BRANDS:
                return "AVIF"
            if brand in HEIC_BRANDS or brand == b"hevs":
                return "HEIC"
    return "HEIF"


def read_isobmff(r) -> Found:
    """The `Found` of a HEIF/AVIF file behind the reader `r` (headers._Reader); raises `r.fail(...)` on a
    malformed file."""
    try:
        return _read(r)
    except _Malformed as error:
        raise r.fail(str(error)) from None


def _label(brand: bytes | None) -> str:
    if brand in AVIF_BRANDS:
        return "AVIF"
    return "HEIC" if brand in HEIC_BRANDS else "HEIF"


def _read(r) -> Found:
    label = _label(image_brand(r.head))
    brands, meta, moov, defect = _top_boxes(r, label)
    if not brands:
        raise _Malformed(f"truncated {label}: the file ends inside its ftyp box")
    item_type, shape = None, None
    if meta is not None:
        item_type, shape, data_end = _primary(meta, label)
        if defect is None and r.body and r.size is not None and data_end > r.size:
            defect = (
                f"truncated {label}: its image data runs to byte {data_end:,}, past the end of the file "
                f"({r.size:,} bytes)"
            )
    frames, animated, track = _sequence(moov, brands, meta)
    if shape is None:
        shape = _track_shape(track, defect, label)
    width, height, orientation = shape
    return Found(_format_name(brands, item_type), width, height, frames, animated, orientation, defect)


def _top_boxes(r, label: str) -> tuple[list[bytes], bytes | None, bytes | None, str | None]:
    """(ftyp brands, meta payload, moov payload, defect) from the top-level boxes, walked until the end of the
    file (or, reading the header only, the meta box). The moov payload is b"" for a sequence too long to read;
    the defect names where a file cut short ends."""
    size = r.size
    brands: list[bytes] = []
    meta = moov = None
    defect = None
    pos = 0
    for count in range(_MAX_TOP_BOXES):
        header = r.read(pos, 16)
        if not header:
            break
        box = _top_box(header, pos, size, label)
        if isinstance(box, str):
            defect = box
            break
        kind, start, end = box
        cut = size is not None and end > size
        if count == 0:
            brands = _ftyp_brands(r, kind, start, end, cut, label)
        if kind == b"moov" and cut and meta is not None:
            defect = f"truncated {label}: the file ends inside its moov box (the image sequence)"
            break
        if kind in (b"meta", b"moov"):
            data = _held_box(r, kind, start, end, cut, label)
            if kind == b"meta":
                meta = meta if meta is not None else data
            else:
                moov = b"" if data is None else moov if moov is not None else data
        elif cut:
            defect = f"truncated {label}: the file ends inside its {_name(kind)} box"
            if kind == b"mdat":
                defect = f"truncated {label}: the file ends inside its media data (mdat)"
            break
        if size is not None and end >= size or not r.body and meta is not None:
            break
        pos = end
    return brands, meta, moov, defect


def _top_box(header: bytes, pos: int, size: int | None, label: str) -> tuple[bytes, int, int] | str:
    """(type, payload start, end) of the top-level box whose header (up to 16 bytes) is at `pos`; the defect
    when the file ends inside the header."""
    if len(header) < 8:
        return f"truncated {label}: the file ends inside a box header at byte {pos:,}"
    box_size, kind = struct.unpack_from(">I4s", header)
    start = pos + 8
    if box_size == 1:
        if len(header) < 16:
            return f"truncated {label}: the file ends inside a box header at byte {pos:,}"
        (box_size,) = struct.unpack_from(">Q", header, 8)
        start = pos + 16
    elif box_size == 0:  # the box runs to the end of the file (14496-12, 4.2)
        box_size = (size - pos) if size is not None else _BOX_CAP
    if box_size < start - pos:
        raise _Malformed(f"corrupt {label}: box {_name(kind)} at byte {pos:,} gives size {box_size}")
    return kind, start, pos + box_size


def _ftyp_brands(r, kind: bytes, start: int, end: int, cut: bool, label: str) -> list[bytes]:
    """The major and compatible brands of the first box, which must be a whole ftyp."""
    if kind != b"ftyp":
        raise _Malformed(f"corrupt {label}: the first box is {_name(kind)}, not ftyp")
    if cut:
        raise _Malformed(f"truncated {label}: the file ends inside its ftyp box")
    if end - start < 8:
        raise _Malformed(f"corrupt {label}: its ftyp box has no room for the brand and version")
    data = r.read(start, min(end - start, 4096))
    return [data[i : i + 4] for i in range(0, len(data) - 3, 4) if i != 4]


def _held_box(r, kind: bytes, start: int, end: int, cut: bool, label: str) -> bytes | None:
    """The payload of a meta or moov box, which must be whole; None for a moov over `_BOX_CAP` (a sequence too
    long to count: its frames are not counted)."""
    if cut:
        raise _Malformed(f"truncated {label}: the file ends inside its {kind.decode()} box")
    if end - start > _BOX_CAP:
        if kind == b"meta":
            raise _Malformed(f"{label} meta box of {end - start:,} bytes, over the {_BOX_CAP:,} costcalc reads")
        return None
    data = r.read(start, end - start)
    if len(data) < end - start:
        raise _Malformed(f"truncated {label}: the file ends inside its {kind.decode()} box")
    return data


def _sequence(moov: bytes | None, brands: list[bytes], meta: bytes | None) -> tuple[int | None, bool, tuple | None]:
    """(frames, animated, track) of an image sequence: its moov box is read when a brand names a sequence or
    there are no image items. frames is None for a sequence too long to read; track is `_track`'s answer."""
    frames, animated, track = 1, False, None
    if moov is not None and (set(brands) & _SEQUENCE_BRANDS or meta is None):
        track = _track(moov) if moov else (None, None)
        if track[1] is None and moov == b"":
            frames, animated = None, True
        elif track[1] is not None:
            frames = max(1, track[1])
            animated = frames > 1
    return frames, animated, track


def _track_shape(track: tuple | None, defect: str | None, label: str) -> tuple[int, int, int]:
    """(width, height, orientation 1) of the sequence track, for a file without image items."""
    if track is None or track[0] is None:
        if defect:
            raise _Malformed(f"{defect}, before its meta box")
        raise _Malformed(f"corrupt {label}: no meta box (image items) and no image sequence track")
    width, height = track[0]
    return width, height, 1


def _name(kind: bytes) -> str:
    return kind.decode("latin-1") if kind.isalnum() or kind.strip().isalnum() else repr(kind)


def _children(data: bytes, start: int, end: int, where: str) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]."""
    pos = start
    for _ in range(_MAX_CHILDREN):
        if pos >= end:
            return
        if pos + 8 > end:
            raise _Malformed(f"{where}: a box header is cut at byte {pos}")
        box_size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if box_size == 1:
            if pos + 16 > end:
                raise _Malformed(f"{where}: a box header is cut at byte {pos}")
            (box_size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif box_size == 0:
            box_size = end - pos
        if kind == b"uuid":
            header += 16
        if box_size < header or pos + box_size > end:
            raise _Malformed(f"{where}: box {_name(kind)} gives size {box_size}, which its parent does not hold")
        yield kind, pos + header, pos + box_size
        pos += box_size
    raise _Malformed(f"{where}: more than {_MAX_CHILDREN:,} boxes")


def _uint(data: bytes, pos: int, width: int, end: int, where: str) -> int:
    if pos + width > end:
        raise _Malformed(f"{where} is cut short")
    return int.from_bytes(data[pos : pos + width], "big")


def _primary(meta: bytes, label: str) -> tuple[bytes | None, tuple[int, int, int], int]:
    """(item type, (stored width, stored height, orientation), end of the items' data in the file) of the
    primary item in a meta box's payload."""
    if len(meta) < 4:
        raise _Malformed(f"corrupt {label}: meta box is cut short")
    handler, primary, types, ipco, ipma, data_end = _meta_boxes(meta, label)
    if handler != b"pict":
        shown = "none" if handler is None else repr(handler.decode("latin-1"))
        raise _Malformed(f"corrupt {label}: the meta box's handler (hdlr) is {shown}, not 'pict' (an image)")
    if primary is None:
        raise _Malformed(f"corrupt {label}: no primary item (pitm box)")
    properties = _properties_of(primary, ipco, ipma, label)
    width, height = _spatial_extents(properties, label)
    return types.get(primary), _transformed(properties, width, height, label), data_end


def _meta_boxes(meta: bytes, label: str):
    """(handler, primary item, {item: type}, ipco properties, ipma associations, end of the items' data) from
    the boxes of a meta box's payload."""
    where = f"corrupt {label}: meta box"
    handler = primary = None
    data_end = 0
    types: dict[int, bytes] = {}
    ipco: list[tuple[bytes, bytes]] = []
    ipma: dict[int, list[int]] = {}
    for kind, start, end in _children(meta, 4, len(meta), where):  # meta is a FullBox: version and flags first
        if kind == b"hdlr":
            handler = meta[start + 8 : start + 12] if end - start >= 12 else b""
        elif kind == b"pitm":
            version = _uint(meta, start, 1, end, f"{where}, pitm")
            primary = _uint(meta, start + 4, 2 if version == 0 else 4, end, f"{where}, pitm")
        elif kind == b"iinf":
            _item_infos(meta, start, end, types, f"corrupt {label}: iinf box")
        elif kind == b"iloc":
            data_end = max(data_end, _data_end(meta, start, end, f"corrupt {label}: iloc box"))
        elif kind == b"iprp":
            for child, c_start, c_end in _children(meta, start, end, f"corrupt {label}: iprp box"):
                if child == b"ipco" and not ipco:
                    ipco = [(k, meta[s:e]) for k, s, e in _children(meta, c_start, c_end, f"corrupt {label}: ipco box")]
                elif child == b"ipma":
                    _associations(meta, c_start, c_end, ipma, f"corrupt {label}: ipma box")
    return handler, primary, types, ipco, ipma, data_end


def _properties_of(
    primary: int, ipco: list[tuple[bytes, bytes]], ipma: dict[int, list[int]], label: str
) -> list[tuple[bytes, bytes]]:
    """The (type, payload) of each property associated with the primary item, in the order ipma lists them."""
    if primary not in ipma:
        raise _Malformed(f"corrupt {label}: the primary item {primary} has no properties (ipma)")
    properties = []
    for index in ipma[primary]:
        if index == 0:
            continue  # 0: no property (14496-12, 8.11.14.3)
        if index > len(ipco):
            raise _Malformed(f"corrupt {label}: the primary item names property {index}, but ipco holds {len(ipco)}")
        properties.append(ipco[index - 1])
    return properties


def _spatial_extents(properties: list[tuple[bytes, bytes]], label: str) -> tuple[int, int]:
    """The stored size from the first ispe property, wherever it is listed, as libheif reads it."""
    for kind, body in properties:
        if kind == b"ispe":
            if len(body) < 12:
                raise _Malformed(f"corrupt {label}: the ispe property is cut short")
            return struct.unpack_from(">II", body, 4)
    raise _Malformed(f"corrupt {label}: the primary item has no size (ispe property)")


def _transformed(properties: list[tuple[bytes, bytes]], width: int, height: int, label: str) -> tuple[int, int, int]:
    """(width, height, EXIF orientation) after the transformative properties, in the order listed
    (23008-12, 6.5.1): clap crops the stored size, irot and imir fold into the orientation."""
    turn = _IDENTITY
    seen: set[bytes] = set()
    for kind, body in properties:
        if kind in (b"clap", b"irot", b"imir"):
            if kind in seen:  # MIAF (23000-22) 7.3.6.7: at most one of each; libheif refuses a second
                raise _Malformed(f"corrupt {label}: the primary item has more than one {kind.decode()} property")
            seen.add(kind)
        if kind == b"clap":
            width, height = _clean_aperture(body, turn, width, height, label)
        elif kind == b"irot":
            if not body:
                raise _Malformed(f"corrupt {label}: the irot property is empty")
            for _ in range(body[0] & 3):
                turn = _compose(_ANTICLOCKWISE, turn)
        elif kind == b"imir":
            if not body:
                raise _Malformed(f"corrupt {label}: the imir property is empty")
            turn = _compose(_LEFT_RIGHT if body[0] & 1 else _TOP_BOTTOM, turn)
    return width, height, _EXIF_OF[turn]


def _clean_aperture(body: bytes, turn, width: int, height: int, label: str) -> tuple[int, int]:
    """The stored size cropped by a clap property (14496-12, 12.1.4), given in the frame `turn` makes."""
    if len(body) < 32:
        raise _Malformed(f"corrupt {label}: the clap property is cut short")
    w_n, w_d, h_n, h_d = struct.unpack_from(">IIII", body)
    if not w_d or not h_d:
        raise _Malformed(f"corrupt {label}: the clap property has a zero denominator")
    cropped = (_round(w_n, w_d), _round(h_n, h_d))
    if turn[1] != 0:  # the crop is in the turned frame: give it back in the stored one
        cropped = cropped[::-1]
    if not (1 <= cropped[0] <= width and 1 <= cropped[1] <= height):
        raise _Malformed(
            f"corrupt {label}: the clean aperture (clap) {cropped[0]}×{cropped[1]} does not fit "
            f"the {width}×{height} image"
        )
    return cropped


def _data_end(data: bytes, start: int, end: int, where: str) -> int:
    """The furthest byte of the file that an ItemLocationBox (14496-12, 8.11.3) places item data at: the end
    of every extent of construction method 0 (file offsets); 0 when there is none. An extent of length 0
    ("the whole file") counts for nothing."""
    version = _uint(data, start, 1, end, where)
    sizes = _uint(data, start + 4, 2, end, where)
    offset_size, length_size, base_size, index_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15, sizes & 15
    if version not in (0, 1, 2) or {offset_size, length_size, base_size} - {0, 4, 8}:
        return 0  # a layout this reader does not know: not checked
    if version == 0 or index_size not in (4, 8):
        index_size = 0
    count_width = 4 if version == 2 else 2
    count = _uint(data, start + 6, count_width, end, where)
    pos, furthest = start + 6 + count_width, 0
    for _ in range(count):
        pos += 4 if version == 2 else 2  # item_ID
        method = 0
        if version in (1, 2):
            method = _uint(data, pos, 2, end, where) & 15
            pos += 2
        pos += 2  # data_reference_index
        base = _uint(data, pos, base_size, end, where) if base_size else 0
        pos += base_size
        extents = _uint(data, pos, 2, end, where)
        pos += 2
        for _ in range(extents):
            pos += index_size
            offset = _uint(data, pos, offset_size, end, where) if offset_size else 0
            length = _uint(data, pos + offset_size, length_size, end, where) if length_size else 0
            pos += offset_size + length_size
            if method == 0 and length:
                furthest = max(furthest, base + offset + length)
    return furthest


def _round(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves up (as libheif's Fraction::round)."""
    return (2 * numerator + denominator) // (2 * denominator)


def _item_infos(data: bytes, start: int, end: int, types: dict[int, bytes], where: str) -> None:
    """item_ID → item_type from an ItemInfoBox payload (14496-12, 8.11.6); infe version 2 and 3 carry a type."""
    version = _uint(data, start, 1, end, where)
    first = start + (6 if version == 0 else 8)
    for kind, s, e in _children(data, first, end, where):
        if kind != b"infe":
            continue
        v = _uint(data, s, 1, e, f"{where}, infe")
        if v < 2:
            continue
        width = 2 if v == 2 else 4
        item = _uint(data, s + 4, width, e, f"{where}, infe")
        at = s + 4 + width + 2
        if at + 4 > e:
            raise _Malformed(f"{where}, infe is cut short")
        types.setdefault(item, data[at : at + 4])


def _associations(data: bytes, start: int, end: int, ipma: dict[int, list[int]], where: str) -> None:
    """item_ID → property indices, in order, from an ItemPropertyAssociationBox (14496-12, 8.11.14)."""
    version = _uint(data, start, 1, end, where)
    flags = _uint(data, start + 1, 3, end, where)
    count = _uint(data, start + 4, 4, end, where)
    pos = start + 8
    id_width, index_width = (2 if version < 1 else 4), (2 if flags & 1 else 1)
    mask = 0x7FFF if flags & 1 else 0x7F  # the top bit is `essential`
    for _ in range(count):
        item = _uint(data, pos, id_width, end, where)
        n = _uint(data, pos + id_width, 1, end, where)
        pos += id_width + 1
        if pos + n * index_width > end:
            raise _Malformed(f"{where} is cut short")
        indices = [
            int.from_bytes(data[p : p + index_width], "big") & mask
            for p in range(pos, pos + n * index_width, index_width)
        ]
        pos += n * index_width
        ipma.setdefault(item, []).extend(indices)


def _track(moov: bytes) -> tuple[tuple[int, int] | None, int | None]:
    """((width, height), sample count) of the first 'pict' or 'vide' track in a moov payload; Nones if none."""
    where = "corrupt image sequence: moov box"
    for kind, start, end in _children(moov, 0, len(moov), where):
        if kind != b"trak":
            continue
        size = handler = samples = None
        for k, s, e in _children(moov, start, end, where):
            if k == b"tkhd" and e - s >= 8:
                w, h = struct.unpack_from(">II", moov, e - 8)  # 16.16 fixed point, the last two fields
                size = (w >> 16, h >> 16)
            elif k == b"mdia":
                handler, samples = _media(moov, s, e, where)
        if handler in (b"pict", b"vide") and size and size[0] >= 1 and size[1] >= 1:
            return size, samples
    return None, None


def _media(data: bytes, start: int, end: int, where: str) -> tuple[bytes | None, int | None]:
    handler = samples = None
    for kind, s, e in _children(data, start, end, where):
        if kind == b"hdlr" and e - s >= 12:
            handler = data[s + 8 : s + 12]
        elif kind == b"minf":
            for k, s2, e2 in _children(data, s, e, where):
                if k == b"stbl":
                    for k3, s3, e3 in _children(data, s2, e2, where):
                        if k3 in (b"stsz", b"stz2") and e3 - s3 >= 12:
                            samples = _uint(data, s3 + 8, 4, e3, where)
    return handler, samples


# Orientation as a 2×2 matrix acting on (x, y), y pointing down: (a, b, c, d) maps (x, y) to (ax + by, cx + dy).
_IDENTITY = (1, 0, 0, 1)
_ANTICLOCKWISE = (0, 1, -1, 0)  # irot: a quarter turn anti-clockwise (23008-12, 6.5.10)
_TOP_BOTTOM = (1, 0, 0, -1)  # imir axis 0: top and bottom exchanged (23008-12:2022, 6.5.12; EXIF 4)
_LEFT_RIGHT = (-1, 0, 0, 1)  # imir axis 1: left and right exchanged (EXIF 2)
_EXIF_OF = {
    (1, 0, 0, 1): 1,
    (-1, 0, 0, 1): 2,  # mirrored left-right
    (-1, 0, 0, -1): 3,  # turned 180°
    (1, 0, 0, -1): 4,  # mirrored top-bottom
    (0, 1, 1, 0): 5,  # transposed
    (0, -1, 1, 0): 6,  # shown turned a quarter clockwise
    (0, -1, -1, 0): 7,  # transversed
    (0, 1, -1, 0): 8,  # shown turned a quarter anti-clockwise
}
"""EXIF orientation (the transformation from stored to shown, as Pillow's ImageOps.exif_transpose applies it)."""


def _compose(after: tuple[int, int, int, int], before: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The matrix of `before` then `after`."""
    a, b, c, d = after
    e, f, g, h = before
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)
