"""TIFF and BigTIFF headers from their first IFD, without a decoder.

TIFF 6.0 (Adobe, 1992), section 2 "TIFF Structure" (the 8-byte header and the IFD entries, either
byte order) and section 8 "Baseline Field Reference"; BigTIFF (version 43: 8-byte offsets and counts,
20-byte entries, LONG8 values) as libtiff documents it (https://www.awaresystems.be/imaging/tiff/bigtiff.html).

IFD0's ImageWidth (256), ImageLength (257) and Orientation (274) give the size, as stored (as Pillow
reports it), and the orientation, as in EXIF. Every IFD in the chain is a page, as Pillow's `n_frames`
counts them, and a TIFF of several pages is `animated` (Pillow's `is_animated`). Strips or tiles that
run past the end of the file are a warning.

Every read is bounded: at most `_MAX_ENTRIES` entries of an IFD, `_MAX_PAGES` IFDs and `_CHECK_READ`
bytes of strip or tile lists; a malformed header raises the reader's InvalidImageError.
"""

from __future__ import annotations

import struct

__all__ = ["read_tiff"]

_MAX_ENTRIES = 4096  # IFD entries read (Baseline TIFF needs about 15; a real IFD has under 100)
_MAX_PAGES = 1024  # IFDs counted: past it, a multi-page TIFF has "many" frames (None)
_CHECK_READ = 65536  # bytes of StripOffsets/StripByteCounts read to check the data is whole
_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # SHORT, LONG, LONG8 (BigTIFF)

Fields = dict[int, tuple[int, int, bytes]]
"""{tag: (type, count, value field)} of one IFD."""


def read_tiff(r) -> tuple[int, int, int | None, bool, int, str | None]:
    """(width, height, frames, animated, orientation, defect) of the TIFF behind the reader `r`
    (headers._Reader); raises `r.fail(...)` on a malformed file. frames is None past `_MAX_PAGES` pages."""
    tiff, ifd = _open(r)
    first = tiff.entries(ifd)
    if first is None:
        raise r.fail(f"truncated TIFF: the file ends before its first IFD (at byte {ifd:,})")
    count, fields = first
    width, height = tiff.value(fields, 256), tiff.value(fields, 257)
    if width is None or height is None:
        missing = "ImageWidth (256)" if width is None else "ImageLength (257)"
        raise r.fail(f"corrupt TIFF: its first IFD has no {missing} field")
    orientation = tiff.value(fields, 274)
    orientation = orientation if orientation is not None and 1 <= orientation <= 8 else 1
    defect = _data_defect(tiff, fields) if r.body else None
    frames = _pages(tiff, ifd, count) if r.body else 1
    return width, height, frames, frames is None or frames > 1, orientation, defect


def _open(r) -> tuple[_Ifds, int]:
    """The IFD reader for the header's byte order and kind (TIFF or BigTIFF), and the offset of IFD0."""
    head = r.head
    order = "<" if head[:2] == b"II" else ">"
    big = head[2:4] in (b"+\x00", b"\x00+")
    if len(head) < (16 if big else 8):
        raise r.fail("truncated TIFF: the file ends inside its header")
    if big:
        offset_size, zero = struct.unpack_from(order + "HH", head, 4)
        if offset_size != 8 or zero:
            raise r.fail(f"corrupt TIFF: BigTIFF header gives offset size {offset_size}, not 8")
        (ifd,) = struct.unpack_from(order + "Q", head, 8)
    else:
        (ifd,) = struct.unpack_from(order + "I", head, 4)
    if ifd < 8:
        raise r.fail(f"corrupt TIFF: its first IFD is at byte {ifd}, inside the header")
    return _Ifds(r, order, big), ifd


class _Ifds:
    """Reads the IFDs of one file: entry tables, inline values and the offset of the next IFD."""

    __slots__ = ("r", "order", "big", "count_format", "count_size", "entry_size", "next_format", "next_size")

    def __init__(self, r, order: str, big: bool) -> None:
        self.r, self.order, self.big = r, order, big
        self.count_format, self.count_size, self.entry_size = ("Q", 8, 20) if big else ("H", 2, 12)
        self.next_format, self.next_size = ("Q", 8) if big else ("I", 4)

    def entries(self, at: int) -> tuple[int, Fields] | None:
        """(entry count, fields) of the IFD at `at`; None when the file ends first."""
        raw = self.r.read(at, self.count_size)
        if len(raw) < self.count_size:
            return None
        (count,) = struct.unpack(self.order + self.count_format, raw)
        size = self.entry_size
        table = self.r.read(at + self.count_size, min(count, _MAX_ENTRIES) * size)
        layout, value_at = (self.order + "HHQ", 12) if self.big else (self.order + "HHI", 8)
        fields: Fields = {}
        for pos in range(0, len(table) - size + 1, size):
            tag, kind, n = struct.unpack_from(layout, table, pos)
            fields.setdefault(tag, (kind, n, table[pos + value_at : pos + size]))
        return count, fields

    def value(self, fields: Fields, tag: int) -> int | None:
        """The first value of a SHORT, LONG or LONG8 field held in the entry; None when absent or of another type."""
        field = fields.get(tag)
        if field is None or field[0] not in _TYPES or field[1] < 1:
            return None
        code, width = _TYPES[field[0]]
        if width > len(field[2]):
            return None
        return struct.unpack_from(self.order + code, field[2])[0]

    def next_offset(self, at: int, count: int) -> int | None:
        """The offset of the IFD after the one at `at` (of `count` entries); None when the file ends first."""
        raw = self.r.read(at + self.count_size + count * self.entry_size, self.next_size)
        if len(raw) < self.next_size:
            return None
        return struct.unpack(self.order + self.next_format, raw)[0]


def _pages(tiff: _Ifds, ifd: int, count: int) -> int | None:
    """The IFDs in the chain from IFD0 (at `ifd`, of `count` entries); None past `_MAX_PAGES`.

    The walk stops, counting what it read, at an IFD too long to walk past, a loop, or the end of the file."""
    frames, seen, at = 1, {ifd}, ifd
    while count <= _MAX_ENTRIES:  # an IFD longer than this is not walked past
        at = tiff.next_offset(at, count)
        if not at or at in seen:
            break
        following = tiff.entries(at)
        if following is None:
            break
        count = following[0]
        frames += 1
        seen.add(at)
        if frames > _MAX_PAGES:
            return None
    return frames


def _data_defect(tiff: _Ifds, fields: Fields) -> str | None:
    """A warning when IFD0's strips (273/279) or tiles (324/325) run past the end of the file; None when they
    do not, or when checking would read more than `_CHECK_READ` bytes."""
    r = tiff.r
    if r.size is None:
        return None
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):
        arrays = []
        for tag in (offsets_tag, counts_tag):
            field = fields.get(tag)
            if field is None or field[0] not in _TYPES:
                break
            code, width = _TYPES[field[0]]
            n = field[1]
            if n < 1 or n * width > _CHECK_READ:
                return None
            inline = 8 if tiff.big else 4
            if n * width <= inline:
                raw = field[2][: n * width]
            else:
                where = struct.unpack(tiff.order + ("Q" if tiff.big else "I"), field[2])[0]
                raw = r.read(where, n * width)
                if len(raw) < n * width:
                    return "truncated TIFF: the file ends inside its list of strips or tiles"
            arrays.append(struct.unpack(tiff.order + code * n, raw))
        if len(arrays) == 2:
            end = max(offset + length for offset, length in zip(*arrays))
            if end > r.size:
                return (
                    f"truncated TIFF: its image data runs to byte {end:,}, past the end of the file ({r.size:,} bytes)"
                )
            return None
    return None
