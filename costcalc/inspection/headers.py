"""What a file header says about an image, without decoding a pixel and without Pillow (docs/limits.md).

Format, width and height (as stored, equal to Pillow's), frame count or
animated flag, EXIF orientation and byte size. Reads a small head, branches on
the magic bytes, unpacks with explicit endianness, and seeks further only where
the format puts what it needs later: JPEG frame headers after large APPn
segments, PNG eXIf chunks (even after IDAT), WebP ANMF/EXIF chunks, GIF image
descriptors, TIFF IFDs (costcalc.inspection.tiff), and the `meta`/`moov` boxes of HEIF and AVIF files
(costcalc.inspection.isobmff). Decoding HEIF is an extra (pillow-heif); reading
its header is not.

Formats read: PNG, JPEG, WEBP, GIF, TIFF (and BigTIFF), HEIC/HEIF and AVIF. A
recognised format whose header is not read (BMP, ICO, PSD, JPEG 2000, JPEG XL,
QOI, SVG) raises UnsupportedFormatError ("cannot read"); whether an API accepts
a format it reads is the limits table's `formats` rule, not this module's.

Tolerant as real decoders are (docs/limits.md: a file the API's decoders read is
priced): junk and fill bytes before a JPEG marker are skipped, as libjpeg's
`next_marker` and Pillow do; unknown bytes between GIF blocks are passed over,
as Pillow does. A file whose header is whole but whose data is damaged or cut
short (a PNG without IEND or cut inside a chunk, a JPEG without its EOI marker,
a GIF or WebP body cut short, TIFF strips or HEIF media data past the end of
the file, PNG text or ICC chunks that decompress past a decoder's bound) is
still read, with `ImageInfo.warning` naming the defect. A file without a readable header raises a named `CostcalcError`
saying what and where.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zlib
from collections.abc import Callable

from ..errors import ImageReadError, InvalidImageError, UnsupportedFormatError
from ..records import named_tuple
from ..words import file_kind, os_reason

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import BinaryIO

    Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO
    """What `inspect` reads: a path, the bytes, or an open binary file."""

__all__ = ["ImageInfo", "image_info", "inspect", "inspect_path", "inspect_reader", "HEAD_BYTES"]

HEAD_BYTES = 16384
"""The first read of a remote object or a table cell: every PNG, GIF and WebP header and most JPEG frame headers,
so that a second round trip is rare."""

LOCAL_HEAD_BYTES = 4096
"""The first read of a local file. On a 20,000-file tree (median 1.4 KB; benchmarks/bench_audit.py, its `per file`
lines) a 16 KiB first read costs ~0.7 us a file more than 4 KiB (the bytes copied), more than the second read a
JPEG whose frame header lies further needs; no quicker on 12-24 MP photos with EXIF; the same headers."""

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOFn, not DHT/JPG/DAC
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length
_EXIF_READ = 65536  # an EXIF block is at most one JPEG segment
_PNG_MAX_SIDE = 2**31 - 1  # PNG specification, 11.2.2 IHDR
_SCAN_WINDOW = 1 << 20  # bytes read at a time when looking for a JPEG's end


@named_tuple
class ImageInfo:
    """What the header says: format, stored size, frames, orientation, byte size.

    format: PNG, JPEG, WEBP, GIF, TIFF, HEIC, HEIF or AVIF. width, height: as
    stored, before EXIF orientation (as Pillow reports them; for HEIF and AVIF the
    primary item's size after its clean-aperture crop, before irot/imir, see
    costcalc.inspection.isobmff). frames: the frame count when the header gives it
    cheaply (TIFF pages, HEIF/AVIF sequence samples); None for an animated GIF (2
    or more) or a TIFF of over 1,024 pages. animated: more than one frame (a
    multi-page TIFF too, as Pillow's is_animated). orientation: EXIF orientation
    1-8 (TIFF's Orientation tag; HEIF's irot/imir as the equivalent EXIF value),
    1 when absent or unreadable. bytes: the
    file size, when known. warning: None for a whole file; else the defect of a
    file whose header is whole but whose data is damaged or cut short (priced
    from the header; the API may refuse it).
    """

    format: str
    width: int
    height: int
    frames: int | None
    animated: bool
    orientation: int
    bytes: int | None
    warning: str | None = None


class _Reader:
    """Random access to a source: the head in memory, exact reads beyond it.

    `body` False reads the header alone (a remote stream): PNG stops at its first
    IDAT and no body is checked for truncation.
    """

    __slots__ = ("head", "fetch", "size", "where", "body")

    def __init__(
        self, head: bytes, fetch: Callable[[int, int], bytes] | None, size: int | None, where: str, body: bool = True
    ):
        self.head = head
        self.fetch = fetch
        self.size = size
        self.where = where
        self.body = body

    def read(self, offset: int, count: int) -> bytes:
        """Up to `count` bytes at `offset`; fewer at the end of the file."""
        end = offset + count
        if end <= len(self.head) or self.fetch is None:
            return self.head[offset:end]
        return self.fetch(offset, count)

    def fail(self, message: str) -> InvalidImageError:
        """An InvalidImageError naming the source."""
        return InvalidImageError(f"{self.where}: {message}" if self.where else message)


def inspect(source: Source, *, name: str | None = None) -> ImageInfo:
    """Format, size, frames and orientation of an image from its header: a path, bytes, or an open binary file.

    `name` labels error messages (defaults to the path, or nothing for bytes).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _parse(_Reader(data, None, len(data), name or ""))
    if isinstance(source, (str, os.PathLike)):
        return inspect_path(source, name=name)
    if hasattr(source, "read"):
        where = name or str(getattr(source, "name", "") or "")
        try:
            return _parse(_stream_reader(source, where))
        except OSError as error:
            raise ImageReadError(f"{where or 'file'}: {os_reason(error)}") from None
    raise TypeError(f"cannot read an image from {type(source).__name__}; give a path, bytes or an open binary file")


def inspect_reader(
    head: bytes,
    fetch: Callable[[int, int], bytes] | None,
    size: int | None,
    *,
    name: str = "",
    body: bool = True,
) -> ImageInfo:
    """`inspect` over any random-access source: the first bytes, a `fetch(offset, count)` for more, the size.

    With `body` False only the header is read (for a remote stream).
    """
    return _parse(_Reader(head, fetch, size, name, body))


def inspect_path(path: str | os.PathLike, *, name: str | None = None, regular: bool = False) -> ImageInfo:
    """`inspect` for a path, on raw file descriptors.

    `regular=True` says the caller knows it is a regular file (a directory walk
    does): the size then comes from a short first read when the file fits in it,
    else from a seek to its end, saving an fstat.
    """
    where = name or os.fsdecode(path)
    try:
        fd = os.open(path, _OPEN)
    except OSError as error:
        raise ImageReadError(f"{where}: {os_reason(error)}") from None
    try:
        known = None
        if not regular:
            known = os.fstat(fd)
            if stat.S_ISDIR(known.st_mode):
                raise ImageReadError(f"{where}: is a folder, not an image")
            if not stat.S_ISREG(known.st_mode):
                raise ImageReadError(f"{where}: not a regular file ({file_kind(known.st_mode)})")
        head = os.read(fd, LOCAL_HEAD_BYTES)
        if len(head) < LOCAL_HEAD_BYTES:
            return _parse(_Reader(head, None, len(head), where))  # the whole file
        size = known.st_size if known else os.lseek(fd, 0, os.SEEK_END)  # the file's end: cheaper than an fstat
        return _parse(_Reader(head, _Window(fd), size, where))
    except ImageReadError:
        raise
    except OSError as error:
        raise ImageReadError(f"{where}: {os_reason(error)}") from None
    finally:
        os.close(fd)


class _Window:
    """`fetch(offset, count)` on a file descriptor: one read of `WINDOW` bytes past the head serves the short
    reads that follow it there (JPEG segment headers after a large APPn block, PNG chunk headers)."""

    __slots__ = ("fd", "at", "data")

    def __init__(self, fd: int):
        self.fd, self.at, self.data = fd, 0, b""

    def __call__(self, offset: int, count: int) -> bytes:
        start = offset - self.at
        data = self.data
        if start >= 0 and start + count <= len(data):
            return data[start : start + count]
        if count >= WINDOW:
            return os.pread(self.fd, count, offset)
        self.at, self.data = offset, os.pread(self.fd, WINDOW, offset)
        return self.data[:count]

    def alone(self, offset: int, count: int) -> bytes:
        """Up to `count` bytes at `offset`, read by themselves (the window stays as it is)."""
        return os.pread(self.fd, count, offset)


WINDOW = 65536
"""Bytes read at a time past a file's head."""

_OPEN = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""How a file is opened: read-only; a named pipe without waiting for a writer."""

STREAM_CAP = 256 * 1024 * 1024
"""The most read from a stream that cannot seek (a pipe, stdin): an endless one is an error after it, not an OOM."""


def _stream_reader(handle: BinaryIO, where: str) -> _Reader:
    if not getattr(handle, "seekable", lambda: False)():
        data = handle.read(STREAM_CAP + 1)
        if len(data) > STREAM_CAP:
            raise ImageReadError(f"{where or 'input'}: a stream longer than {STREAM_CAP:,} bytes")
        return _Reader(data, None, len(data), where)
    start = handle.tell()
    head = handle.read(HEAD_BYTES)
    if len(head) < HEAD_BYTES:
        return _Reader(head, None, len(head), where)
    size = handle.seek(0, os.SEEK_END) - start

    def fetch(offset: int, count: int) -> bytes:
        handle.seek(start + offset)
        return handle.read(count)

    return _Reader(head, fetch, size, where)


def _parse(r: _Reader) -> ImageInfo:
    head = r.head
    if not head:
        raise r.fail("empty file (0 bytes)")
    if head.startswith(_PNG):
        return _png(r)
    if head.startswith(b"\xff\xd8\xff"):
        return _jpeg(r)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(r)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(r)
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _info(r, "TIFF", *_tiff().read_tiff(r))
    if head[4:8] == b"ftyp" and _isobmff().image_brand(head):
        found = _isobmff().read_isobmff(r)
        return _info(
            r, found.format, found.width, found.height, found.frames, found.animated, found.orientation, found.defect
        )
    other = _other_format(head)
    if other:
        raise UnsupportedFormatError(other, r.where)
    raise r.fail("not an image: no PNG, JPEG, WEBP, GIF, TIFF, HEIF or AVIF signature")


def _isobmff():
    """The HEIF/AVIF box reader, imported on the first ftyp-led file only (start-up stays as it was)."""
    from . import isobmff

    return isobmff


def _tiff():
    """The TIFF reader, imported on the first TIFF file only (start-up stays as it was)."""
    from . import tiff

    return tiff


def _info(
    r: _Reader, format: str, width: int, height: int, frames=1, animated=False, orientation=1, defect: str | None = None
) -> ImageInfo:
    if width < 1 or height < 1:
        raise r.fail(f"{format} header gives an empty size {width}×{height}")
    return ImageInfo(format, width, height, frames, animated, orientation, r.size, damaged(defect))


def damaged(defect: str | None) -> str | None:
    """The warning for a file whose header is whole but whose data has `defect` (None: no warning)."""
    return None if defect is None else f"{defect}; priced from its header, but the API may refuse it"


# ---------------------------------------------------------------------- PNG


def _png(r: _Reader) -> ImageInfo:
    """IHDR for the size; then every chunk header to IEND: acTL (APNG), eXIf anywhere.

    A file cut short (inside a chunk, or before IEND) is read with a warning: libpng
    and Go's image/png refuse a PNG without IEND, though Pillow reads one whose data is whole.
    """
    head = r.head
    if len(head) < 24:
        raise r.fail("truncated PNG: the file ends inside the IHDR chunk")
    if head[12:16] != b"IHDR":
        raise r.fail(f"corrupt PNG: the first chunk is {head[12:16]!r}, not IHDR")
    width, height = struct.unpack_from(">II", head, 16)
    if width > _PNG_MAX_SIDE or height > _PNG_MAX_SIDE:
        raise r.fail(f"corrupt PNG: IHDR gives {width}×{height}, over the PNG limit of {_PNG_MAX_SIDE:,} per side")
    _png_ihdr_methods(r, head[24:29])
    frames, orientation, seen_idat, defect = 1, 1, False, None
    text = None
    pos, inside, size = 8, len(head) - 8, r.size  # a chunk header at or before `inside` is in the head
    while True:
        if pos <= inside:
            length, kind = _PNG_CHUNK.unpack_from(head, pos)
        else:
            header = r.read(pos, 8)
            if len(header) < 8:
                if not seen_idat:
                    defect = "truncated PNG: the file ends before any image data (IDAT)"
                elif header:
                    defect = "truncated PNG: the file ends inside a chunk header, with no IEND chunk"
                else:
                    defect = "truncated PNG: no IEND chunk after its image data"
                break
            length, kind = _PNG_CHUNK.unpack(header)
        if kind == b"IEND":
            break
        if size is not None and pos + 12 + length > size:
            name = kind.decode("latin-1") if kind.isalpha() else repr(kind)
            defect = f"truncated PNG: the file ends inside its {name} chunk"
            if kind != b"IDAT" and not seen_idat:
                defect += ", before any image data (IDAT)"
            break
        if kind == b"IDAT":
            if not r.body:
                break  # the header is whole; what follows is image data
            seen_idat = True
        elif kind == b"acTL" and not seen_idat:
            control = r.read(pos + 8, 4)
            if len(control) == 4:
                frames = max(1, struct.unpack(">I", control)[0])
        elif kind == b"eXIf":
            orientation = exif_orientation(r.read(pos + 8, min(length, _EXIF_READ)))
        elif kind in _PNG_TEXT_CHUNKS:
            text = text or _PngText()
            text.check(r, kind, pos + 8, length)
        pos += 12 + length
    if text is not None and text.defect:
        defect = text.defect if defect is None else f"{defect}; {text.defect}"
    return _info(r, "PNG", width, height, frames, frames > 1, orientation, defect)


_PNG_CHUNK = struct.Struct(">I4s")
"""A PNG chunk header: length, type."""

_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
"""Allowed bit depths per colour type (PNG specification, 11.2.2 IHDR, Table 11.1; Pillow's _MODES holds the same)."""


def _png_ihdr_methods(r: _Reader, fields: bytes) -> None:
    """Bit depth, colour type, compression, filter and interlace methods of IHDR (PNG specification, third
    edition, https://www.w3.org/TR/png-3/#11IHDR): only compression method 0, filter method 0 and interlace
    method 0 or 1 are defined, and libpng's png_handle_IHDR refuses the rest (Pillow refuses another filter
    method, "unknown filter category", another interlace method at decoding, and a bit depth its colour type
    does not allow; it passes over the compression method, which libpng does not).
    Checked as far as the bytes reach; a file cut inside IHDR is read with a warning, as before."""
    if len(fields) == 5 and fields[1] in _PNG_DEPTHS and fields[0] in _PNG_DEPTHS[fields[1]]:
        if fields[2] == 0 and fields[3] == 0 and fields[4] <= 1:
            return  # the common case: every method defined
    if len(fields) >= 2 and fields[1] in _PNG_DEPTHS and fields[0] not in _PNG_DEPTHS[fields[1]]:
        raise r.fail(
            f"corrupt PNG: IHDR gives bit depth {fields[0]} for colour type {fields[1]}, which the PNG "
            "specification (11.2.2 IHDR) does not allow"
        )
    if len(fields) >= 2 and fields[1] not in _PNG_DEPTHS:
        raise r.fail(
            f"corrupt PNG: IHDR gives colour type {fields[1]}; the PNG specification (11.2.2 IHDR) "
            "defines 0, 2, 3, 4 and 6"
        )
    for at, what, allowed in (
        (2, "compression method", (0,)),
        (3, "filter method", (0,)),
        (4, "interlace method", (0, 1)),
    ):
        if len(fields) > at and fields[at] not in allowed:
            only = "only 0" if len(allowed) == 1 else "only 0 (none) and 1 (Adam7)"
            raise r.fail(
                f"corrupt PNG: IHDR gives {what} {fields[at]}; the PNG specification (11.2.2 IHDR) defines "
                f"{only}, and a decoder that follows it (libpng) refuses the file"
            )


_PNG_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt", b"iCCP"})
_PNG_TEXT_CHUNK_BOUND = 1 << 20
"""Pillow's PngImagePlugin.MAX_TEXT_CHUNK (= ImageFile.SAFEBLOCK, 1 MiB): a zTXt, compressed iTXt or iCCP
chunk that decompresses past it makes Image.open raise ValueError."""
_PNG_TEXT_MEMORY_BOUND = 64 << 20
"""Pillow's PngImagePlugin.MAX_TEXT_MEMORY (64 MiB): the text of all text chunks together."""
_PNG_TEXT_READ = 8 << 20
"""Compressed bytes of text/ICC chunks read per file for the checks above; past it they are not checked."""


class _PngText:
    """The decompression-bound checks of PNG text and ICC chunks, as Pillow applies them (its own test image
    png_decompression_dos.png is one such file). Decompression is bounded: zlib.decompressobj with
    max_length, never more than the bound plus one block at a time, and at most `_PNG_TEXT_READ` bytes read."""

    __slots__ = ("read", "memory", "defect")

    def __init__(self) -> None:
        self.read, self.memory, self.defect = 0, 0, None

    def check(self, r: _Reader, kind: bytes, at: int, length: int) -> None:
        if self.defect is not None:
            return
        name = kind.decode()
        if kind == b"tEXt":  # not compressed: its length counts, as Pillow counts its text
            self.memory += length
        elif self.read + length <= _PNG_TEXT_READ:
            self.read += length
            data = r.read(at, length)
            compressed = _png_compressed_payload(kind, data)
            if compressed is None:
                if kind == b"iTXt":
                    self.memory += length
                return
            produced = _inflated_size(compressed, _PNG_TEXT_CHUNK_BOUND + 1)
            if produced > _PNG_TEXT_CHUNK_BOUND:
                self.defect = (
                    f"PNG {name} chunk decompresses to more than {_PNG_TEXT_CHUNK_BOUND:,} bytes, past "
                    "a decoder's bound (Pillow's PngImagePlugin.MAX_TEXT_CHUNK refuses the file)"
                )
                return
            if kind != b"iCCP":
                self.memory += produced
        if self.memory > _PNG_TEXT_MEMORY_BOUND:
            self.defect = (
                f"PNG text chunks hold more than {_PNG_TEXT_MEMORY_BOUND:,} bytes of text, past a "
                "decoder's bound (Pillow's PngImagePlugin.MAX_TEXT_MEMORY refuses the file)"
            )


def _png_compressed_payload(kind: bytes, data: bytes) -> bytes | None:
    """The zlib stream of a zTXt, compressed iTXt or iCCP chunk (PNG specification, 11.3.3.4, 11.3.3.5,
    11.3.2.3); None when it holds none (an uncompressed iTXt, an unknown compression method)."""
    key_end = data.find(b"\0")
    if key_end < 0:
        return None
    rest = data[key_end + 1 :]
    if kind in (b"zTXt", b"iCCP"):
        return rest[1:] if rest[:1] == b"\0" else None
    if len(rest) < 2 or rest[0] != 1 or rest[1] != 0:  # iTXt: compression flag 1, method 0
        return None
    parts = rest[2:].split(b"\0", 2)  # language tag, translated keyword, text
    return parts[2] if len(parts) == 3 else None


def _inflated_size(compressed: bytes, limit: int) -> int:
    """How many bytes `compressed` inflates to, counting no further than `limit`; a broken stream counts
    what it gave (Pillow, too, passes over a zlib error)."""
    inflater = zlib.decompressobj()
    produced, tail = 0, compressed
    try:
        while tail and produced < limit:
            produced += len(inflater.decompress(tail, min(65536, limit - produced)))
            tail = inflater.unconsumed_tail
    except zlib.error:
        pass
    return produced


# --------------------------------------------------------------------- JPEG


def _jpeg(r: _Reader) -> ImageInfo:
    """Walk the segments to the first SOFn, over APPn segments of any size; EXIF from APP1.

    Bytes that are not a marker where one is due (junk, a segment shorter than
    its contents, the 0xFF fill bytes of ITU T.81 B.1.1.2) are skipped to the
    next marker, as libjpeg's `next_marker` and Pillow do. Markers that both
    refuse (RES 0x02-0xBF, a second SOI, EOI or SOS before the frame header)
    are errors.
    """
    head = r.head
    inside = len(head) - 4  # a segment header at or before this byte is in the head: read from it directly
    pos, orientation = 2, 1
    buf, base = head, 0  # what the quick loop reads, from byte `base` on: the head, then a window past it
    while True:
        # The common case, quickly: markers where they are due, read as the loop below reads them.
        last = base + len(buf) - 4
        while pos <= last and buf[pos - base] == 0xFF:
            at = pos - base
            code, length = buf[at + 1], buf[at + 2] << 8 | buf[at + 3]
            if code in _JPEG_PASSED:
                pass
            elif code == 0xE1:
                if orientation == 1 and length > 2:
                    orientation = _app1_orientation(r, pos + 4, min(length - 2, _EXIF_READ))
            elif code in _JPEG_SOF and length >= 8 and at + 9 <= len(buf) and (buf[at + 5] or buf[at + 6]):
                defect = _jpeg_defect(r, pos + 2 + length) if r.body else None
                width, height = buf[at + 7] << 8 | buf[at + 8], buf[at + 5] << 8 | buf[at + 6]
                return _info(r, "JPEG", width, height, orientation=orientation, defect=defect)
            else:
                break
            pos += 2 + length if length > 2 else 4
        if pos > last and base != pos and r.fetch.__class__ is _Window and pos + 4 <= r.size:
            buf, base = r.fetch.alone(pos, _JPEG_WINDOW), pos  # past large APPn blocks: the next few segments
            continue
        if pos <= inside and head[pos] == 0xFF and head[pos + 1] not in (0x00, 0xFF):
            code = head[pos + 1]  # the common case: the marker is where it is due
        else:
            found = _next_marker(r, pos)
            if found is None:
                raise r.fail("truncated JPEG: the file ends before the frame header (SOF)")
            pos, code = found
        if code in _JPEG_STANDALONE:
            pos += 2
            continue
        if code in (0xD8, 0xD9, 0xDA):
            raise r.fail(f"corrupt JPEG: {_JPEG_NAMES[code]} at byte {pos}, before any frame header (SOF)")
        if code < 0xC0:
            raise r.fail(f"corrupt JPEG: unknown marker 0xFF{code:02X} at byte {pos}")
        if pos <= inside:
            length = head[pos + 2] << 8 | head[pos + 3]
        else:
            segment = r.read(pos + 2, 2)
            if len(segment) < 2:
                raise r.fail("truncated JPEG: the file ends inside a segment header")
            length = segment[0] << 8 | segment[1]
        if code in _JPEG_SOF:
            if length < 8:  # libjpeg get_sof: JERR_BAD_LENGTH
                raise r.fail(f"corrupt JPEG: frame header at byte {pos} has length {length}")
            frame = r.read(pos + 4, 5)
            if len(frame) < 5:
                raise r.fail("truncated JPEG: the file ends inside the frame header")
            height, width = struct.unpack_from(">HH", frame, 1)
            if height == 0:
                raise r.fail("JPEG gives its height later (DNL marker), which is not supported")
            defect = _jpeg_defect(r, pos + 2 + length) if r.body else None
            return _info(r, "JPEG", width, height, orientation=orientation, defect=defect)
        if code == 0xE1 and orientation == 1 and length > 2:
            orientation = _app1_orientation(r, pos + 4, min(length - 2, _EXIF_READ))
        pos += 2 + max(length, 2)  # a length under 2 reads as 2 (an empty segment), as in libjpeg and Pillow


def _app1_orientation(r: _Reader, start: int, count: int) -> int:
    """The EXIF orientation of the APP1 payload of `count` bytes at `start` (1 unless it is EXIF), read in
    place when the head holds it."""
    head = r.head
    stop = start + count
    if stop <= len(head):
        return _tiff_orientation(head, start + 6, stop) if head.startswith(b"Exif\0\0", start, stop) else 1
    payload = r.read(start, count)
    return exif_orientation(payload) if payload.startswith(b"Exif\0\0") else 1


_JPEG_PASSED = frozenset(range(0xC0, 0xFF)) - _JPEG_SOF - _JPEG_STANDALONE - {0xD8, 0xD9, 0xDA, 0xE1}
"""Markers whose segment `_jpeg` passes over whatever it holds: DHT, DQT, DRI, COM, APPn but APP1 (EXIF), ..."""

_JPEG_WINDOW = 4096
"""Bytes a local JPEG reads at a segment past its head (after large APPn blocks): the next few segment headers
(quantisation and Huffman tables, the frame header), not tens of KiB of EXIF thumbnail or image data."""

_JPEG_NAMES = {0xD8: "a second start of image (SOI)", 0xD9: "end of image (EOI)", 0xDA: "image data (SOS)"}


def _next_marker(r: _Reader, pos: int) -> tuple[int, int] | None:
    """(position, code) of the first marker at or after `pos`, over junk and fill bytes; None at the end.

    As libjpeg's next_marker: bytes up to an 0xFF are discarded, 0xFF fill bytes
    are skipped, and 0xFF 0x00 (a stuffed zero) is junk too.
    """
    head = r.head
    if pos + 1 < len(head) and head[pos] == 0xFF and head[pos + 1] not in (0x00, 0xFF):
        return pos, head[pos + 1]  # the common case: the marker is where it is due
    while True:
        window = r.read(pos, 4096)
        at = window.find(b"\xff")
        if at < 0:
            if len(window) < 4096:
                return None
            pos += len(window)
            continue
        at += pos
        while True:
            pair = r.read(at, 2)
            if len(pair) < 2:
                return None
            if pair[1] != 0xFF:
                break
            at += 1  # a fill byte
        if pair[1] != 0x00:
            return at, pair[1]
        pos = at + 2  # a stuffed zero: junk


_ENTROPY_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
"""A marker inside entropy-coded data: 0xFF then anything but a stuffed zero, RSTn or fill (ITU T.81 B.1.1.5)."""


def _jpeg_defect(r: _Reader, pos: int) -> str | None:
    """None when the JPEG after its frame header has image data (SOS) and ends with EOI; else what is missing.

    The common case costs one read of the last two bytes; otherwise (data after
    EOI, or no EOI) the segments and scans are walked to the end of the file.
    """
    size = r.size
    if size is None:
        return None
    if size >= pos + 2 and (r.head[size - 2 : size] if size <= len(r.head) else r.read(size - 2, 2)) == b"\xff\xd9":
        return None
    seen_scan = False
    while True:
        found = _next_marker(r, pos)
        if found is None:
            break
        pos, code = found
        if code == 0xD9:
            return None if seen_scan else "corrupt JPEG: its end (EOI) comes before any image data (SOS)"
        if code in _JPEG_STANDALONE or code == 0xD8:
            pos += 2
            continue
        segment = r.read(pos + 2, 2)
        if len(segment) < 2:
            break
        pos += 2 + max(struct.unpack(">H", segment)[0], 2)
        if code != 0xDA:
            continue
        seen_scan = True
        while True:  # entropy-coded data, to the next marker
            window = r.read(pos, _SCAN_WINDOW)
            match = _ENTROPY_MARKER.search(window)
            if match:
                pos += match.start()
                break
            if len(window) < _SCAN_WINDOW:
                return "truncated JPEG: no end of image (EOI) marker, its image data may be cut short"
            pos += len(window) - 1
    if not seen_scan:
        return "truncated JPEG: the file ends before its image data (SOS)"
    return "truncated JPEG: no end of image (EOI) marker, its image data may be cut short"


# ---------------------------------------------------------------------- GIF


class _Cursor:
    """Sequential reading in blocks, for walking GIF blocks and sub-blocks."""

    __slots__ = ("r", "pos", "buf", "buf_at")

    def __init__(self, r: _Reader, pos: int):
        self.r, self.pos, self.buf, self.buf_at = r, pos, r.head, 0  # the head first, as it is (no copy)

    def byte(self) -> int:
        """The next byte; -1 at the end of the file."""
        at = self.pos - self.buf_at
        if at >= len(self.buf):
            self.buf, self.buf_at, at = self.r.read(self.pos, 65536), self.pos, 0
            if not self.buf:
                return -1
        self.pos += 1
        return self.buf[at]

    def take(self, count: int) -> bytes:
        """The next `count` bytes; fewer at the end of the file."""
        at = self.pos - self.buf_at
        if at + count <= len(self.buf):
            self.pos += count
            return self.buf[at : at + count]
        data = self.r.read(self.pos, count)
        self.pos += len(data)
        return data

    def skip_sub_blocks(self) -> bool:
        """Skip a chain of data sub-blocks; False when the file ends first."""
        while True:
            buf, at = self.buf, self.pos - self.buf_at
            while at < len(buf):  # the sub-blocks in the buffer, without a call each
                size = buf[at]
                at += 1
                if size == 0:
                    self.pos = self.buf_at + at
                    return True
                at += size
            self.pos = self.buf_at + at
            size = self.byte()
            if size <= 0:
                return size == 0
            self.pos += size


def _gif(r: _Reader) -> ImageInfo:
    """The logical screen for the size; image descriptors counted until the second (animated).

    As Pillow reads a GIF: bytes that start no block are passed over, and a
    missing trailer after a whole image is no defect. A file cut short inside
    its first image (or before it) is read with a warning.
    """
    head = r.head
    if len(head) < 13:
        raise r.fail("truncated GIF: the file ends inside the screen descriptor")
    width, height = struct.unpack_from("<HH", head, 6)
    flags = head[10]
    cursor = _Cursor(r, 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0))
    frames, defect = 0, None
    while True:
        block = cursor.byte()
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            if cursor.byte() < 0 or not cursor.skip_sub_blocks():
                defect = "truncated GIF: the file ends inside an extension block"
                break
        elif block == 0x2C:  # image descriptor
            frames += 1
            if frames == 2:
                return _info(r, "GIF", width, height, frames=None, animated=True)
            descriptor = cursor.take(9)
            if len(descriptor) < 9:
                defect = "truncated GIF: the file ends inside an image descriptor"
                break
            if descriptor[8] & 0x80:  # local colour table
                cursor.pos += 3 * (2 << (descriptor[8] & 7))
            if cursor.byte() < 0 or not cursor.skip_sub_blocks():  # LZW code size, image data
                defect = "truncated GIF: the file ends inside its image data"
                break
        elif block < 0:
            break  # the trailer is missing: as Pillow reads it, no defect once an image is whole
        # any other byte starts no block: Pillow passes over it, and so do we
    if not frames:
        if defect is None:
            if block == 0x3B:
                raise r.fail("corrupt GIF: no image in the file")
            defect = "truncated GIF: the file ends before its first image"
    return _info(r, "GIF", width, height, defect=defect)


# --------------------------------------------------------------------- WebP


def _webp(r: _Reader) -> ImageInfo:
    """The first chunk (VP8X, VP8L or VP8) for the size; a body shorter than the RIFF size is read with a warning."""
    head = r.head
    (riff_size,) = struct.unpack_from("<I", head, 4)
    defect = None
    if r.body and r.size is not None and r.size < riff_size + 8:
        defect = f"truncated WEBP: the file has {r.size:,} bytes, its RIFF header says {riff_size + 8:,}"
    chunk = head[12:16]
    if chunk == b"VP8X":
        if len(head) < 30:
            raise r.fail("truncated WEBP: the file ends inside the VP8X header")
        flags = head[20]
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        frames, orientation = 1, 1
        if flags & 0x0A:  # animation or EXIF: walk the chunks
            frames, orientation = _webp_chunks(r, riff_size + 8, count_frames=bool(flags & 0x02))
        return _info(r, "WEBP", width, height, frames, frames > 1, orientation, defect)
    if chunk == b"VP8L":
        if len(head) < 25:
            raise r.fail("truncated WEBP: the file ends inside the VP8L header")
        if head[20] != 0x2F:
            raise r.fail("corrupt WEBP: bad VP8L signature")
        (bits,) = struct.unpack_from("<I", head, 21)
        return _info(r, "WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, defect=defect)
    if chunk == b"VP8 ":
        if len(head) < 30:
            raise r.fail("truncated WEBP: the file ends inside the VP8 header")
        if head[23:26] != b"\x9d\x01\x2a":
            raise r.fail("corrupt WEBP: bad VP8 start code")
        width, height = struct.unpack_from("<HH", head, 26)
        return _info(r, "WEBP", width & 0x3FFF, height & 0x3FFF, defect=defect)
    raise r.fail(f"corrupt WEBP: unknown first chunk {chunk!r}")


def _webp_chunks(r: _Reader, end: int, count_frames: bool) -> tuple[int, int]:
    """(frames, orientation) from the chunk list: ANMF chunks counted, EXIF read."""
    frames, orientation, pos = 0, 1, 12
    while pos + 8 <= end:
        header = r.read(pos, 8)
        if len(header) < 8:
            break
        kind, size = header[:4], struct.unpack_from("<I", header, 4)[0]
        if kind == b"ANMF":
            frames += 1
        elif kind == b"EXIF":
            orientation = exif_orientation(r.read(pos + 8, min(size, _EXIF_READ)))
        pos += 8 + size + (size & 1)
    return (frames if count_frames else 1) or 1, orientation


# --------------------------------------------------------------------- EXIF


def exif_orientation(data: bytes) -> int:
    """The Orientation tag (0x0112) of IFD0 in an EXIF block; 1 when absent, invalid or unreadable."""
    return _tiff_orientation(data, 6 if data.startswith(b"Exif\0\0") else 0, len(data))


def _tiff_orientation(data: bytes, start: int, stop: int) -> int:
    """exif_orientation of the TIFF structure in data[start:stop], read in place."""
    if stop - start < 8:
        return 1
    order = _TIFF_ORDERS.get(data[start : start + 2])
    if order is None:
        return 1
    long, short, entry_head = order
    (ifd,) = long(data, start + 4)
    if start + ifd + 2 > stop:
        return 1
    (count,) = short(data, start + ifd)
    first = start + ifd + 2
    for entry in range(first, min(first + 12 * count, stop - 11), 12):
        tag, kind = entry_head(data, entry)
        if tag == 0x0112:
            if kind == 3:  # SHORT
                value = short(data, entry + 8)[0]
            elif kind == 4:  # LONG
                value = long(data, entry + 8)[0]
            else:
                return 1
            return value if 1 <= value <= 8 else 1
    return 1


_TIFF_ORDERS = {
    order: tuple(struct.Struct(mark + code).unpack_from for code in ("I", "H", "HH"))
    for order, mark in ((b"II", "<"), (b"MM", ">"))
}
"""A TIFF byte order mark -> readers of a LONG, a SHORT, and an IFD entry's tag and type, in that order."""


# ------------------------------------------------------------ other formats


def _other_format(head: bytes) -> str | None:
    """The name of a recognised image format whose header costcalc does not read, else None."""
    if head.startswith(b"BM"):
        return "BMP"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "JPEG XL"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return "JPEG 2000"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ICO"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"qoif"):
        return "QOI"
    text = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if (text.startswith(b"<?xml") or text.startswith(b"<svg")) and b"<svg" in head:
        return "SVG"
    return None


image_info = inspect
"""The public name of `inspect` (`costcalc.image_info`): the standard library's `inspect` keeps its name."""
