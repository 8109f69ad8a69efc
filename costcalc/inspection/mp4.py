"""The display rotation of an MP4/MOV video track, from its box headers alone (no decoding).

Phone clips are stored sideways with a display matrix in the video track's
`tkhd` box; PyAV reads it only from decoded frames. Box headers are read with
pread, so a `moov` at the end of a large file costs no `mdat` read.
"""

from __future__ import annotations

import math
import os
import stat
import struct

__all__ = ["display_rotation"]

_CONTAINERS = {b"moov", b"trak", b"mdia"}
_MAX_MOOV = 64 << 20


def display_rotation(path: str | os.PathLike) -> int | None:
    """Degrees counter-clockwise (0, 90, 180 or 270) to turn decoded frames upright, as PyAV's
    VideoFrame.rotation; None when the file is not ISO-BMFF or has no video track header."""
    try:
        with open(path, "rb", opener=_nonblocking) as handle:
            fd = handle.fileno()
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                return None
            size = status.st_size
            if os.pread(fd, 4, 4) not in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
                return None
            moov = _find(fd, 0, size, b"moov")
            if moov is None or moov[1] - moov[0] > _MAX_MOOV:
                return None
            data = os.pread(fd, moov[1] - moov[0], moov[0])
    except OSError:
        return None
    try:
        for kind, start, end in _boxes(data, 0, len(data)):
            if kind == b"trak" and _is_video(data, start, end):
                for inner, a, _ in _boxes(data, start, end):
                    if inner == b"tkhd":
                        return _rotation(data, a)
    except (IndexError, struct.error):  # a truncated box: the rotation is not known
        return None
    return None


def _nonblocking(path, flags):
    """Open without blocking on a FIFO (clip_info read the file as a regular one already; it may have changed)."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _find(fd: int, start: int, end: int, wanted: bytes) -> tuple[int, int] | None:
    """(payload start, end) of the first top-level box of a type, by headers only."""
    pos = start
    while pos + 8 <= end:
        header = os.pread(fd, 16, pos)
        if len(header) < 8:
            return None
        length, kind = struct.unpack_from(">I4s", header)
        skip = 8
        if length == 1 and len(header) == 16:
            length, skip = struct.unpack_from(">Q", header, 8)[0], 16
        elif length == 0:
            length = end - pos
        if length < skip:
            return None
        if kind == wanted:
            return pos + skip, pos + length
        pos += length
    return None


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, end) of each box in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, pos)
        skip = 8
        if length == 1 and pos + 16 <= end:
            length, skip = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif length == 0:
            length = end - pos
        if length < skip or pos + length > end:
            return
        yield kind, pos + skip, pos + length
        pos += length


def _is_video(data: bytes, start: int, end: int) -> bool:
    for kind, a, b in _boxes(data, start, end):
        if kind == b"mdia":
            for inner, c, _ in _boxes(data, a, b):
                if inner == b"hdlr" and data[c + 8 : c + 12] == b"vide":
                    return True
    return False


def _rotation(data: bytes, start: int) -> int | None:
    version = data[start]
    offset = start + 4 + (32 if version == 1 else 20) + 16  # times, track id, duration; reserved, layer, volume
    if offset + 36 > len(data):
        return None
    a, _, _, c = struct.unpack_from(">iiii", data, offset)  # matrix a, b, u, c in 16.16 fixed point
    if a == 0 and c == 0:
        return None
    return round(math.degrees(math.atan2(c, a)) / 90) * 90 % 360
