"""A clip's metadata without decoding: size, rotation, frame count, rate, duration; and which frames a sampling picks.

Videos are read with PyAV (`pip install 'costcalc[video]'`); animated GIF and
WebP with costcalc's own header reader and Pillow. Vision models take no video:
a clip is priced as the frames sent (`runs.video`) and those frames are
produced by `preflight.frames`.
"""

from __future__ import annotations

import math
import numbers
import os
from bisect import bisect_right
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from ..errors import CostcalcError, ImageReadError, VideoError
from ..schemes.geometry import fit_within
from ..words import os_reason
from .headers import inspect_path
from .mp4 import display_rotation

__all__ = ["INSTALL_HINT", "ClipInfo", "clip_info", "sample", "sampling_rate", "rate_text", "sent_size"]


INSTALL_HINT = "video support needs PyAV: pip install 'costcalc[video]'"

MAX_FRAMES = 20_000_000
"""The most frames a clip may claim (three and a half days at 60 fps): sampling is one step per frame at most, so
damaged metadata claiming 2^62 frames is refused rather than walked."""


class ClipInfo(NamedTuple):
    """What a clip's container says, without decoding: stored size, rotation, frames, rate, duration."""

    path: str
    kind: str
    """'video', or the image format of an animated GIF/WebP."""
    width: int
    height: int
    rotation: int | None
    """Degrees counter-clockwise to turn frames upright; None when the container does not say."""
    frames: int
    frames_exact: bool
    """False when the container gives no count and it is duration × rate."""
    rate: Fraction
    """Frames per second (the average)."""
    duration: Fraction
    """Seconds."""
    starts: tuple[Fraction, ...] | None = None
    """Each frame's start time, for GIF/WebP whose frames last unequally."""

    @property
    def upright(self) -> tuple[int, int]:
        """The size as shown: width and height swapped for a quarter turn."""
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)


def clip_info(path: str | os.PathLike) -> ClipInfo:
    """The clip's metadata, decoding nothing; VideoError if it cannot be read."""
    name = os.fsdecode(path)
    try:
        header = inspect_path(path, name=name)
    except ImageReadError:
        raise
    except CostcalcError:
        header = None
    if header is not None:
        if header.animated and header.format in ("GIF", "WEBP"):
            return _image_clip(name, header.format)
        raise VideoError(f"{name}: a still {header.format} image, not a clip; price it with `costcalc estimate`")
    try:
        import av
    except ImportError:
        raise VideoError(f"{name}: {INSTALL_HINT}") from None
    try:
        with av.open(name) as container:
            if not container.streams.video:
                raise VideoError(f"{name}: no video stream")
            stream = container.streams.video[0]
            rate = Fraction(stream.average_rate or stream.guessed_rate or 0)
            if stream.duration is not None and stream.time_base:
                duration = Fraction(stream.duration) * Fraction(stream.time_base)
            elif container.duration:
                duration = Fraction(container.duration, av.time_base)
            else:
                duration = Fraction(0)
            count, exact = stream.frames, True
            if not count:
                count, exact = round(duration * rate), False
            codec = stream.codec_context
            if codec is None:
                raise VideoError(f"{name}: a damaged clip: its video stream has no codec parameters")
            width, height = codec.width, codec.height
    except VideoError:
        raise
    except av.FFmpegError as error:
        raise VideoError(f"{name}: not a video FFmpeg can read ({error.strerror or error})") from None
    except OSError as error:
        raise ImageReadError(f"{name}: {os_reason(error)}") from None
    except Exception as error:  # a damaged container: metadata that is not UTF-8, a rate of 0/0, ... (issue 15)
        reason = " ".join(str(error).split()) or type(error).__name__
        raise VideoError(f"{name}: a damaged clip FFmpeg cannot describe ({reason})") from None
    if not width or not height or not count or width < 0 or height < 0 or count < 0:
        raise VideoError(f"{name}: the container gives no frame size or no frames")
    if rate < 0 or duration < 0:
        raise VideoError(f"{name}: a damaged clip: a negative {'rate' if rate < 0 else 'duration'}")
    if count > MAX_FRAMES or duration * max(rate, 1) > MAX_FRAMES:
        raise VideoError(f"{name}: the container claims more than {MAX_FRAMES:,} frames: a damaged clip, or one "
                         f"longer than costcalc samples; cut it first")  # fmt: skip
    return ClipInfo(name, "video", width, height, display_rotation(name), count, exact, rate, duration)


def _image_clip(name: str, format: str) -> ClipInfo:
    """An animated GIF/WebP as a clip: its frames and their durations, from the file's blocks and chunks."""
    from PIL import Image

    with Image.open(name) as image:
        width, height = image.size
        if format == "WEBP":
            durations = _webp_durations(name)
        else:  # GIF: Pillow reads each frame's graphic control block on seek, decoding nothing
            durations = []
            for index in range(image.n_frames):
                image.seek(index)
                durations.append(image.info.get("duration"))
    starts, time = [], Fraction(0)
    for duration in durations:
        starts.append(time)
        time += Fraction(duration or 100, 1000)  # browsers show 0 ms frames for ~100 ms
    count = len(starts)
    return ClipInfo(name, format, width, height, 0, count, True, Fraction(count) / time, time, tuple(starts))


def _webp_durations(path: str) -> list[int]:
    """Each ANMF chunk's frame duration (ms): bytes 12-14 of its payload, little-endian."""
    import struct

    durations = []
    with open(path, "rb") as handle:
        fd = handle.fileno()
        end = min(os.fstat(fd).st_size, 8 + struct.unpack("<I", os.pread(fd, 4, 4))[0])
        pos = 12
        while pos + 8 <= end:
            kind, size = struct.unpack("<4sI", os.pread(fd, 8, pos))
            if kind == b"ANMF":
                durations.append(int.from_bytes(os.pread(fd, 3, pos + 8 + 12), "little"))
            pos += 8 + size + (size & 1)
    return durations


def sample(info: ClipInfo, *, every: int | None = None, fps: float | None = None, frames: int | None = None):
    """(the frame indices sent, a description of the sampling); default one frame a second.

    ValueError for a sampling that is not one: two at once, `every`/`frames`
    under 1, `fps` not a finite number over 0. A rate above the clip's own
    sends every frame; the work is bounded by the clip's frame count whatever
    the rate (SPEC §5: a clip costs the frames sent, at most all of them).
    """
    if sum(option is not None for option in (every, fps, frames)) > 1:
        raise ValueError("give one of every, fps or frames")
    total = info.frames
    if every is not None:
        if every < 1:
            raise ValueError(f"every must be 1 or more, not {every}")
        return range(0, total, every), f"every {every} frames"
    if frames is not None:
        if frames < 1:
            raise ValueError(f"frames must be 1 or more, not {frames}")
        count = min(frames, total)
        return sorted({index * total // count for index in range(count)}), f"{count} frames spread evenly"
    rate = sampling_rate(fps)
    picks = _picks_by_frame(info, rate) if info.duration * rate > total else _picks_by_time(info, rate)
    picks = sorted(index for index in picks if 0 <= index < total) or [0]
    text = f"{rate_text(rate)} frame{'s' if rate != 1 else ''} a second"
    if len(picks) == total > 1 and info.rate and rate > info.rate:
        text += f" (every frame: the clip has {rate_text(info.rate)} a second)"
    return picks, text


def sampling_rate(fps: float | int | Fraction | None) -> Fraction:
    """`fps` as an exact rate (a float as written: 0.1 is 1/10); ValueError unless a finite number over 0."""
    if fps is None:
        return Fraction(1)
    if isinstance(fps, bool) or not isinstance(fps, (numbers.Real, Decimal)):
        raise ValueError(f"fps must be a number of frames a second, not {fps!r}")
    try:
        if isinstance(fps, (numbers.Rational, Decimal)):
            rate = Fraction(fps)  # a Decimal NaN or Infinity raises here
        else:
            value = float(fps)
            if not math.isfinite(value):
                raise ValueError(value)
            rate = Fraction(str(value))
    except (ValueError, OverflowError):
        raise ValueError(f"fps must be a finite number of frames a second, not {fps}") from None
    if rate <= 0:
        raise ValueError(f"fps must be more than 0, not {fps}")
    return rate


def rate_text(rate: Fraction) -> str:
    """A rate for people: six significant digits at most (1/3 → 0.333333, 10**-300 → 1e-300), never a long fraction."""
    try:
        value = float(rate)
    except OverflowError:
        value = math.inf
    if value and math.isfinite(value):
        return f"{value:.6g}"
    exponent = len(str(rate.numerator)) - len(str(rate.denominator))  # beyond a float's range: its power of ten
    return f"~1e{exponent:+d}"


def _picks_by_time(info: ClipInfo, rate: Fraction) -> list[int]:
    """The frame shown at each sampling instant 0, 1/rate, 2/rate, ... before the end (at most `frames` instants)."""
    picks, step = set(), 0
    while Fraction(step) / rate < info.duration:
        picks.add(_frame_at(info, Fraction(step) / rate))
        step += 1
    return list(picks)


def _picks_by_frame(info: ClipInfo, rate: Fraction) -> list[int]:
    """The same frames as `_picks_by_time`, found frame by frame: those whose span holds a sampling instant.

    Used when instants outnumber frames (a rate above the clip's), so the work is
    one step per frame, never one per instant (--fps 1e10 on a 300-frame clip).
    """
    if info.starts is not None:  # frame i shows from starts[i] until the next frame starts
        spans = zip(info.starts, (*info.starts[1:], info.duration))
    elif info.rate:  # frame i shows for [i/rate, (i+1)/rate), as _frame_at reads a time
        spans = ((Fraction(i) / info.rate, Fraction(i + 1) / info.rate) for i in range(info.frames))
    else:
        return [0]  # no rate: every instant shows the first frame (_frame_at)
    picks = []
    for index, (start, end) in enumerate(spans):
        end = min(end, info.duration)
        if start < end and Fraction(math.ceil(start * rate)) / rate < end:  # an instant in [start, end)
            picks.append(index)
    return picks


def _frame_at(info: ClipInfo, time: Fraction) -> int:
    if info.starts is not None:
        return bisect_right(info.starts, time) - 1
    return int(time * info.rate)


def sent_size(info: ClipInfo, max_side: int | None) -> tuple[int, int]:
    """The size frames are sent at: upright, fitted within max_side × max_side when given."""
    width, height = info.upright
    return fit_within(width, height, max_side) if max_side else (width, height)
