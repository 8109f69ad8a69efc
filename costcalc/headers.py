"""Image size and format from the file header alone — no pixel decoding, no Pillow (SPEC §3).

Reads a small head, branches on the magic bytes, unpacks with explicit
endianness; seeks further only where the format puts the size later (JPEG
frame headers after large APPn segments). Anything wrong raises a named
`CostcalcError` that says what and where.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO, Callable, Union

from .errors import ImageReadError, InvalidImageError, UnsupportedFormatError

__all__ = ["ImageInfo", "inspect", "HEAD_BYTES"]

HEAD_BYTES = 16384
"""The first read of a file: enough for every PNG, GIF and WebP header and most JPEGs."""

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]

_PNG = b"\x89PNG\r\n\x1a\n"
# SOFn: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers with no length field: TEM and RST0-7.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the header says: format, stored width and height, and byte size when known."""

    format: str
    width: int
    height: int
    bytes: int | None


class _Reader:
    """Random access to a source: a head held in memory, further reads on demand."""

    def __init__(self, head: bytes, fetch: Callable[[int, int], bytes] | None, total: int | None):
        self.head = head
        self.fetch = fetch
        self.total = total

    def read(self, offset: int, size: int) -> bytes:
        end = offset + size
        if end <= len(self.head) or self.fetch is None:
            return self.head[offset:end]
        return self.fetch(offset, size)


def inspect(source: Source, *, name: str | None = None) -> ImageInfo:
    """Format and size of an image from its header: a path, bytes, or an open binary file.

    `name` labels error messages (defaults to the path, or nothing for bytes).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _parse(_Reader(data, None, len(data)), name or "")
    if isinstance(source, (str, os.PathLike)):
        where = name or os.fsdecode(source)
        try:
            with open(source, "rb", buffering=0) as handle:
                return _parse(_file_reader(handle), where)
        except OSError as error:
            raise ImageReadError(f"{where}: {_os_reason(error)}") from None
    if hasattr(source, "read"):
        where = name or str(getattr(source, "name", "") or "")
        try:
            return _parse(_file_reader(source), where)
        except OSError as error:
            raise ImageReadError(f"{where or 'file'}: {_os_reason(error)}") from None
    raise TypeError(f"cannot read an image from {type(source).__name__}; give a path, bytes or an open binary file")


def _file_reader(handle: BinaryIO) -> _Reader:
    seekable = getattr(handle, "seekable", lambda: False)()
    if not seekable:
        data = handle.read()
        return _Reader(data, None, len(data))
    start = handle.tell()
    head = handle.read(HEAD_BYTES)
    total = None
    try:
        total = os.fstat(handle.fileno()).st_size - start
    except (OSError, AttributeError, ValueError):
        pass

    def fetch(offset: int, size: int) -> bytes:
        handle.seek(start + offset)
        return handle.read(size)

    if len(head) < HEAD_BYTES:  # the whole file is in the head
        return _Reader(head, None, len(head))
    return _Reader(head, fetch, total)


def _os_reason(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return "is a folder, not an image"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error)


def _fail(where: str, message: str) -> InvalidImageError:
    return InvalidImageError(f"{where}: {message}" if where else message)


def _parse(reader: _Reader, where: str) -> ImageInfo:
    head = reader.head
    if not head:
        raise _fail(where, "empty file (0 bytes)")
    if head.startswith(_PNG):
        width, height = _png(head, where)
        return _info("PNG", width, height, reader, where)
    if head.startswith(b"\xff\xd8\xff"):
        width, height = _jpeg(reader, where)
        return _info("JPEG", width, height, reader, where)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        if len(head) < 10:
            raise _fail(where, "truncated GIF: the header ends before the screen size")
        width, height = struct.unpack_from("<HH", head, 6)
        return _info("GIF", width, height, reader, where)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        width, height = _webp(head, where)
        return _info("WEBP", width, height, reader, where)
    other = _other_format(head)
    if other:
        raise UnsupportedFormatError(other, where)
    raise _fail(where, "not an image: no PNG, JPEG, WEBP or GIF signature")


def _info(format: str, width: int, height: int, reader: _Reader, where: str) -> ImageInfo:
    if width < 1 or height < 1:
        raise _fail(where, f"{format} header gives an empty size {width}×{height}")
    return ImageInfo(format, width, height, reader.total)


def _png(head: bytes, where: str) -> tuple[int, int]:
    if len(head) < 24:
        raise _fail(where, "truncated PNG: the file ends inside the IHDR chunk")
    if head[12:16] != b"IHDR":
        raise _fail(where, f"corrupt PNG: the first chunk is {head[12:16]!r}, not IHDR")
    return struct.unpack_from(">II", head, 16)


def _jpeg(reader: _Reader, where: str) -> tuple[int, int]:
    """Walk the segments to the first SOFn, over APPn segments of any size."""
    pos = 2
    while True:
        marker = reader.read(pos, 2)
        if len(marker) < 2:
            raise _fail(where, "truncated JPEG: the file ends before the frame header (SOF)")
        if marker[0] != 0xFF:
            raise _fail(where, f"corrupt JPEG: no marker at byte {pos}")
        code = marker[1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if code in _JPEG_STANDALONE:
            pos += 2
            continue
        if code in (0xD9, 0xDA):
            raise _fail(where, "corrupt JPEG: image data begins before any frame header (SOF)")
        length_bytes = reader.read(pos + 2, 2)
        if len(length_bytes) < 2:
            raise _fail(where, "truncated JPEG: the file ends inside a segment header")
        (length,) = struct.unpack(">H", length_bytes)
        if length < 2:
            raise _fail(where, f"corrupt JPEG: segment at byte {pos} has length {length}")
        if code in _JPEG_SOF:
            frame = reader.read(pos + 4, 5)
            if len(frame) < 5:
                raise _fail(where, "truncated JPEG: the file ends inside the frame header")
            height, width = struct.unpack_from(">HH", frame, 1)
            if height == 0:
                raise _fail(where, "JPEG gives its height later (DNL marker), which is not supported")
            return width, height
        pos += 2 + length


def _webp(head: bytes, where: str) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8X":
        if len(head) < 30:
            raise _fail(where, "truncated WEBP: the file ends inside the VP8X header")
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        return width, height
    if chunk == b"VP8L":
        if len(head) < 25:
            raise _fail(where, "truncated WEBP: the file ends inside the VP8L header")
        if head[20] != 0x2F:
            raise _fail(where, "corrupt WEBP: bad VP8L signature")
        (bits,) = struct.unpack_from("<I", head, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        if len(head) < 30:
            raise _fail(where, "truncated WEBP: the file ends inside the VP8 header")
        if head[23:26] != b"\x9d\x01\x2a":
            raise _fail(where, "corrupt WEBP: bad VP8 start code")
        width, height = struct.unpack_from("<HH", head, 26)
        return width & 0x3FFF, height & 0x3FFF
    raise _fail(where, f"corrupt WEBP: unknown first chunk {chunk!r}")


def _other_format(head: bytes) -> str | None:
    """The name of a recognised image format the API does not accept, else None."""
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in _HEIF_BRANDS:
            return "HEIC"
        return None
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
