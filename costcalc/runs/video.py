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

import datetime as _dt
import os
from dataclasses import dataclass
from decimal import Decimal

from ..catalog.settings import dated
from ..catalog.tables import Tables
from ..inspection.clip import ClipInfo, clip_info, sample, sent_size
from ..pricing.cost import Pricer, unknown_tokens_note

__all__ = ["VideoEstimate", "video_estimate"]


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
    as_of: _dt.date | None = None,
) -> VideoEstimate:
    """Frames, tokens and USD of sending a clip's sampled frames, from its metadata alone.

    The frames go in one request: at `tier` (SPEC §7; TierError when the model lacks it), and at the
    long-context rate when all the frames together exceed its threshold. `as_of` (default: the tables' day,
    today): the day whose price applies.
    """
    pricer = Pricer(model, detail, dated(tables, as_of), tier=tier)  # a bad model or tier fails before the clip is read
    info = clip_info(path)
    indices, sampling = sample(info, every=every, fps=fps, frames=frames)
    width, height = sent_size(info, max_side)
    sizing = pricer.sizing(width, height)  # tokens and basis of one frame, sized once
    per_frame = sizing.tokens  # None: the multiplier is unpublished (SPEC §2a)
    tokens = None if per_frame is None else per_frame * len(indices)
    return VideoEstimate(info.path, pricer.model.name, detail, pricer.applied_detail, info, sampling, len(indices),
                         width, height, per_frame, tokens, pricer.usd(tokens), pricer.tier,
                         None if tokens is not None else unknown_tokens_note(pricer.model),
                         sizing.basis)  # fmt: skip
