"""Video: price the sampled frames of a clip from its metadata, then produce exactly those frames (SPEC §5).

A clip is priced as the frames sent: how many the sampling picks (`every` Nth
frame, `fps` frames a second, or `frames` spread evenly; default one a second)
times what one frame costs at the size it is sent (the upright size, fitted
within `max_side` if given; seed 001 sends every 50th frame resized to 768).
Reading the metadata decodes nothing. Extraction decodes only around the
sampled frames (seeking to the keyframe before each far target) and writes
them at the size the model works from, upright.

Videos need PyAV (`pip install 'costcalc[video]'`); animated GIF and WebP are
read with Pillow.
"""

from __future__ import annotations

import base64
import io
import math
import numbers
import os
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Iterator, NamedTuple

from .cost import Pricer, unknown_tokens_note
from ..errors import CostcalcError, ImageReadError, InvalidImageError, VideoError
from .geometry import fit_within
from ..errors import os_reason
from ..inspection.headers import inspect_path
from ..inspection.mp4 import display_rotation
from ..preflight.planning import plan
from .tables import Tables

__all__ = ["ClipInfo", "VideoEstimate", "VideoFrame", "VideoError", "clip_info", "extract_frames", "plan_frame_folders",
           "sample", "video_estimate", "video_frames"]  # fmt: skip

INSTALL_HINT = "video support needs PyAV: pip install 'costcalc[video]'"


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


@dataclass(frozen=True)
class VideoEstimate:
    """What sending a clip's sampled frames costs one model at one detail level."""

    path: str
    model: str
    detail: str
    applied_detail: str
    info: ClipInfo
    sampling: str
    frames: int
    """Frames sent."""
    frame_width: int
    """The size each frame is sent at (upright, within max_side)."""
    frame_height: int
    tokens_per_frame: int | None
    """None when the model's multiplier is unpublished (SPEC §2a)."""
    tokens: int | None
    usd: Decimal | None
    tier: str = "standard"
    """The service tier `usd` is priced at (SPEC §7)."""
    note: str | None = None
    """Why `tokens` is unknown and how to measure it (SPEC §2a); None when known."""
    basis: str = "exact"
    """How sure the per-frame figure is: exact, maximum, approximate or flat (SPEC §6)."""

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        info = self.info
        return {
            "path": self.path, "model": self.model, "detail": self.detail, "applied_detail": self.applied_detail,
            "width": info.upright[0], "height": info.upright[1], "rotation": info.rotation,
            "clip_frames": info.frames, "clip_frames_exact": info.frames_exact, "fps": float(info.rate),
            "duration": float(info.duration), "sampling": self.sampling, "frames": self.frames,
            "frame_width": self.frame_width, "frame_height": self.frame_height,
            "tokens_per_frame": self.tokens_per_frame, "tokens": self.tokens,
            "basis": self.basis, "usd": None if self.usd is None else float(self.usd), "tier": self.tier,
            "note": self.note,
        }  # fmt: skip


class VideoFrame(NamedTuple):
    """One extracted frame: its index and time in the clip, its size, and the encoded image."""

    index: int
    time: float
    width: int
    height: int
    format: str
    data: bytes

    def as_data_url(self) -> str:
        """`data:image/...;base64,...`, ready for a request payload."""
        return f"data:image/{self.format.lower()};base64,{base64.b64encode(self.data).decode('ascii')}"


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
            width, height = stream.codec_context.width, stream.codec_context.height
    except VideoError:
        raise
    except av.FFmpegError as error:
        raise VideoError(f"{name}: not a video FFmpeg can read ({error.strerror or error})") from None
    except OSError as error:
        raise ImageReadError(f"{name}: {os_reason(error)}") from None
    if not width or not height or not count:
        raise VideoError(f"{name}: the container gives no frame size or no frames")
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


def _sent_size(info: ClipInfo, max_side: int | None) -> tuple[int, int]:
    width, height = info.upright
    return fit_within(width, height, max_side) if max_side else (width, height)


def video_estimate(
    path: str | os.PathLike,
    *,
    model: str,
    detail: str = "auto",
    every: int | None = None,
    fps: float | None = None,
    frames: int | None = None,
    max_side: int | None = None,
    tables: Tables | None = None,
    tier: str = "standard",
) -> VideoEstimate:
    """Frames, tokens and USD of sending a clip's sampled frames, from its metadata alone.

    The frames go in one request: at `tier` (SPEC §7; TierError when the model lacks it), and at the
    long-context rate when all the frames together exceed its threshold.
    """
    pricer = Pricer(model, detail, tables, tier=tier)  # a bad model or tier fails before the clip is read
    info = clip_info(path)
    indices, sampling = sample(info, every=every, fps=fps, frames=frames)
    width, height = _sent_size(info, max_side)
    sizing = pricer.sizing(width, height)  # tokens and basis of one frame, sized once
    per_frame = sizing.tokens  # None: the multiplier is unpublished (SPEC §2a)
    tokens = None if per_frame is None else per_frame * len(indices)
    return VideoEstimate(info.path, pricer.model.name, detail, pricer.applied_detail, info, sampling, len(indices),
                         width, height, per_frame, tokens, pricer.usd(tokens), pricer.tier,
                         None if tokens is not None else unknown_tokens_note(pricer.model),
                         sizing.basis)  # fmt: skip


def video_frames(
    path: str | os.PathLike,
    *,
    model: str,
    detail: str = "auto",
    every: int | None = None,
    fps: float | None = None,
    frames: int | None = None,
    max_side: int | None = None,
    format: str = "jpeg",
    quality: int = 85,
    tables: Tables | None = None,
) -> Iterator[VideoFrame]:
    """The sampled frames, upright, at the size the model works from, encoded (JPEG by default)."""
    info = clip_info(path)
    indices, _ = sample(info, every=every, fps=fps, frames=frames)
    sent = _sent_size(info, max_side)
    planned = plan(*sent, model=model, detail=detail, tables=tables)
    target = (planned.target_width, planned.target_height)
    out_format = format.upper()
    if out_format not in ("JPEG", "PNG", "WEBP"):
        raise ValueError(f"format must be jpeg, png or webp, not {format!r}")
    decoded = _image_frames(info, indices) if info.starts is not None else _video_frames(info, indices, target)
    for index, time, image in decoded:
        if image.size != target:
            image = image.resize(target, _lanczos(), reducing_gap=3.0)
        out = io.BytesIO()
        image.convert("RGB").save(out, out_format, **({"quality": quality} if out_format != "PNG" else {}))
        yield VideoFrame(index, time, target[0], target[1], out_format, out.getvalue())


def _lanczos():
    from PIL import Image

    return Image.Resampling.LANCZOS


def _image_frames(info: ClipInfo, indices) -> Iterator[tuple]:
    from PIL import Image

    with Image.open(info.path) as image:
        for index in indices:
            image.seek(index)
            yield index, float(info.starts[index]), image.convert("RGB")


def _video_frames(info: ClipInfo, indices, target: tuple[int, int]) -> Iterator[tuple]:
    """Decode the frames at `indices`: sequentially while close, seeking to the keyframe before a far one."""
    import av

    with av.open(info.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = Fraction(stream.time_base)
        start = Fraction(stream.start_time or 0) * base
        decoder, position = None, None
        for wanted in indices:
            if decoder is None or wanted - position > 2 * info.rate:  # more than two seconds ahead: seek
                at = Fraction(wanted) / info.rate + start
                container.seek(int(at / base), stream=stream, backward=True, any_frame=False)
                decoder = container.decode(stream)
            for frame in decoder:
                seconds = Fraction(frame.pts) * base - start if frame.pts is not None else Fraction(0)
                position = round(seconds * info.rate)
                if position >= wanted:
                    yield wanted, float(seconds), _upright(frame, target)
                    break
            else:
                raise InvalidImageError(f"{info.path}: the clip ends before frame {wanted}")


def _upright(frame, target: tuple[int, int]):
    """The frame as a Pillow image, scaled by FFmpeg close to the target, then turned upright."""
    rotation = frame.rotation % 360
    stored = (target[1], target[0]) if rotation in (90, 270) else target
    image = frame.reformat(width=stored[0], height=stored[1], format="rgb24", interpolation="AREA").to_image()
    return image.rotate(rotation, expand=True) if rotation else image


def extract_frames(path: str | os.PathLike, outdir: str | os.PathLike, **options) -> int:
    """Write `video_frames(path, **options)` to OUTDIR/<clip name>/<clip name>-f000123.jpg, atomically; how many.

    Frames get ordinary permissions (0o666 less the umask, read once here).
    Extracting several clips into one OUTDIR: check them with
    `plan_frame_folders` first, so two clips of one name never share a folder.
    """
    from pathlib import Path

    from ..preflight.write import atomic_write, file_mode

    stem = Path(os.fsdecode(path)).stem
    folder = Path(outdir) / stem
    mode = file_mode()
    count = 0
    for frame in video_frames(path, **options):
        atomic_write(folder / f"{stem}-f{frame.index:06d}{_FRAME_SUFFIX[frame.format]}", frame.data, mode)
        count += 1
    return count


_FRAME_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


def plan_frame_folders(clips, outdir: str | os.PathLike) -> dict[str, os.PathLike]:
    """The folder each clip's frames go to (OUTDIR/<clip name>), checked for every clip before any frame is written.

    OutputConflictError, naming both paths, when two different clips share a
    name (a/clip.mp4 and b/clip.mp4, or clip.mp4 and clip.mov: their frames
    would overwrite each other's), or when a clip is a file where a frame would
    be written. The same clip named twice keeps one folder (issue 9).
    """
    import re
    import sys
    from pathlib import Path

    from ..errors import OutputConflictError
    from ..inspection.walk import display_path as shown

    caseless = sys.platform in ("darwin", "win32")
    folders: dict[str, Path] = {}
    claimed: dict[str, tuple[tuple[int, int] | None, str]] = {}
    clips_by_id: dict[tuple[int, int], str] = {}
    for clip in clips:
        name = os.fsdecode(clip)
        folder = Path(outdir) / Path(name).stem
        identity = _identity(name)
        if identity is not None:
            clips_by_id.setdefault(identity, name)
        key = os.path.normcase(os.path.join(os.path.realpath(folder.parent), folder.name))
        key = key.casefold() if caseless else key
        first = claimed.setdefault(key, (identity, name))
        if first[1] != name and (identity is None or first[0] != identity):
            raise OutputConflictError(f"{shown(first[1])} and {shown(name)} would both write their frames to "
                                      f"{shown(os.fspath(folder))}; extract them into different folders, or rename "
                                      f"one")  # fmt: skip
        folders[name] = folder
    for name, folder in folders.items():
        pattern = re.compile(re.escape(folder.name) + r"-f\d{6}\.(?:jpg|png|webp)", re.IGNORECASE if caseless else 0)
        try:
            listing = os.scandir(folder)
        except OSError:
            continue  # not there yet: nothing in it to overwrite
        with listing:
            for entry in listing:
                clip = clips_by_id.get(_identity(entry.path)) if pattern.fullmatch(entry.name) else None
                if clip is not None:
                    raise OutputConflictError(f"the clip {shown(clip)} is {shown(entry.path)}, where a frame of "
                                              f"{shown(name)} would be written; choose another --extract "
                                              f"folder")  # fmt: skip
    return folders


def _identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino
