"""The frames a clip is sent as, produced exactly: decoded only around the sampled frames, upright, at the size
the model works from, and written atomically (the frames `runs.video` prices).

Extraction seeks to the keyframe before each far target. Several clips into one
folder: `plan_frame_folders` checks them all before any frame is written.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from fractions import Fraction
from typing import NamedTuple

from ..catalog.tables import Tables
from ..errors import InvalidImageError
from ..inspection.clip import ClipInfo, clip_info, sample, sent_size
from .planning import plan

__all__ = ["VideoFrame", "video_frames", "extract_frames", "plan_frame_folders"]


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
    sent = sent_size(info, max_side)
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

    from ..files import atomic_write, file_mode

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
    from ..words import display_path as shown

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
            raise OutputConflictError(
                f"{shown(first[1])} and {shown(name)} would both write their frames to "
                f"{shown(os.fspath(folder))}; extract them into different folders, or rename "
                f"one"
            )
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
                    raise OutputConflictError(
                        f"the clip {shown(clip)} is {shown(entry.path)}, where a frame of "
                        f"{shown(name)} would be written; choose another outdir "
                        f"folder"
                    )
    return folders


def _identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino
