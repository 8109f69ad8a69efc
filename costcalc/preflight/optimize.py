"""Preflight for one image: plan the size, write it upright, say what it saves (SPEC §4, §6); one model or several."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ..catalog.tables import Model, Tables
from ..errors import CostcalcError, ImageReadError
from ..files import MAX_SOURCE_BYTES, read_regular
from ..inspection.headers import inspect
from ..words import caught_warnings, os_reason
from .planning import MultiPlan, Plan, plan
from .resize import render, strip_metadata

__all__ = ["Optimized", "optimize", "read_source"]

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class Optimized:
    """An image resized ahead of time: the encoded bytes and what they cost before and after."""

    data: bytes
    format: str
    width: int
    height: int
    tokens_before: int | None | dict[str, int | None]
    """None when the API would have rejected the original (a budget plan made it fit) or the tokens are
    unknown; with several models, a dict of each model's."""
    tokens_after: int | None | dict[str, int | None]
    """None when the tokens are unknown (SPEC §2a); with several models, a dict of each model's."""
    bytes_before: int
    bytes_after: int
    plan: Plan | MultiPlan
    warning: str | None = None
    """The defect of a damaged source read anyway (ImageInfo.warning); None when whole."""
    note: str | None = None
    """The plan's note (Plan.note), and why the original itself was written when a copy came out larger."""

    @property
    def mime(self) -> str:
        """The MIME type of `data`."""
        return _MIME[self.format]

    def as_data_url(self) -> str:
        """`data:<mime>;base64,...`, ready for an image_url in a request payload."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def read_source(source: str | os.PathLike | bytes | bytearray | memoryview | BinaryIO,
                max_bytes: int = MAX_SOURCE_BYTES) -> tuple[bytes, str]:
    """(the bytes, a label for messages) of a path, bytes, or an open binary file.

    A path is read as audit reads one (files.read_regular): a regular file of at most `max_bytes`, never a FIFO
    or a device; an open file is read to at most `max_bytes` too.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), ""
    if isinstance(source, (str, os.PathLike)):
        label = os.fsdecode(source)
        return read_regular(source, max_bytes, name=label)[0], label
    if hasattr(source, "read"):
        label = str(getattr(source, "name", "") or "")
        try:
            data = source.read(max_bytes + 1)
        except OSError as error:
            raise ImageReadError(f"{label or 'input'}: {os_reason(error)}") from None
        if len(data) > max_bytes:
            raise ImageReadError(f"{label or 'input'}: over the cap of {max_bytes:,} bytes")
        return data, label
    raise TypeError(f"cannot read an image from {type(source).__name__}; give a path, bytes or an open binary file")


def optimize(
    source,
    *,
    model: str | Model | Sequence[str | Model],
    detail: str = "auto",
    max_tokens: int | None = None,
    format: str | None = None,
    quality: int | None = None,
    keep_metadata: bool = False,
    first_frame: bool = False,
    tables: Tables | None = None,
    strict: bool = False,
    name: str | None = None,
    max_bytes: int = MAX_SOURCE_BYTES,
) -> Optimized:
    """The image at the size the model works from (or the largest within `max_tokens`), upright.

    Several models (a list): one image every model sees as it would the
    original, at the same tokens (`plan_many`); tokens are then dicts by model.
    `format` is jpeg, webp or png (default: keep the source's); `quality` is for
    JPEG and WebP (default 85). Metadata is stripped unless `keep_metadata`.
    An animated GIF/WebP raises AnimatedImageError unless `first_frame`.
    The source gets the verdict every command gives it (pricing.verdict), less
    what this repairs (animated with `first_frame`; the patch limit with
    `max_tokens`; the byte limit, since the output is what is sent); with
    `strict` a damaged source raises InvalidImageError. A damaged source
    whose data cannot be decoded raises InvalidImageError saying so; any
    error raised after the header is read carries the source's `warning`.

    Never larger than the source for nothing: when the source itself gives
    every model the tokens of the copy (always, without `max_tokens`), is in
    the output format, still and whole, and the copy comes out larger, the
    source is the output (metadata stripped unless kept; its orientation tag
    kept), and `note` says so. `name` labels the source in messages (default:
    its path); a source over `max_bytes` (default 256 MB) is ImageReadError.
    """
    data, label = read_source(source, max_bytes)
    label = name or label
    info = inspect(data, name=label)
    try:
        _check_source(info, label, first_frame=first_frame, strict=strict, models=model, tables=tables)
        planned = plan(info.width, info.height, model=model, detail=detail, max_tokens=max_tokens,
                       orientation=info.orientation, tables=tables)  # fmt: skip
        target = (planned.target_width, planned.target_height)
        with caught_warnings() as decoder_said:  # Pillow's UserWarning on a bad APNG: this file's warning
            encoded, out_format = render(data, info, target, format=format, quality=quality,
                                         keep_metadata=keep_metadata, first_frame=first_frame, name=label)  # fmt: skip
    except CostcalcError as error:
        if info.warning and getattr(error, "warning", None) is None:
            error.warning = info.warning  # the row keeps the defect (tree.OptimizeRow.warning)
        raise
    notes = [planned.note]
    if out_format == info.format and not info.animated and info.warning is None and _source_costs_the_same(planned):
        original = data if keep_metadata else strip_metadata(data, info.format, info.orientation)
        if len(original) < len(encoded):
            upright = (info.width, info.height) if info.orientation < 5 else (info.height, info.width)
            notes.append(f"the original{'' if keep_metadata else ', metadata stripped,'} is written: it gives every "
                         f"model the same tokens, and a copy at {target[0]}×{target[1]} came out larger")  # fmt: skip
            encoded, target = original, upright
    return Optimized(
        data=encoded,
        format=out_format,
        width=target[0],
        height=target[1],
        tokens_before=planned.tokens_before,
        tokens_after=planned.tokens_after,
        bytes_before=len(data),
        bytes_after=len(encoded),
        plan=planned,
        warning="; ".join([*filter(None, [info.warning]), *(f"the decoder warns: {text}" for text in decoder_said)])
        or None,
        note="; ".join(filter(None, notes)) or None,
    )


def _source_costs_the_same(planned: Plan | MultiPlan) -> bool:
    """Whether the source as it is gives every model the tokens the planned copy does: always for a same-tokens plan
    (SPEC §4); for a budget plan, when each model's tokens before and after are known and equal."""
    if planned.max_tokens is None:
        return True
    before, after = planned.tokens_before, planned.tokens_after
    if not isinstance(after, dict):
        before, after = {None: before}, {None: after}
    return all(tokens is not None and before.get(name) == tokens for name, tokens in after.items())


def _check_source(info, label: str, *, first_frame: bool, strict: bool, models=(), tables: Tables | None = None) -> None:
    """The input rules of pricing.verdict for a source about to be optimized, for each model's vendor (SPEC §3, §6)."""
    from ..catalog.limits import limits_for
    from ..catalog.tables import default_tables
    from ..errors import AnimatedImageError, InvalidImageError
    from ..pricing.verdict import image_rejection

    where = f"{label}: " if label else ""
    wanted = [models] if isinstance(models, (str, Model)) else list(models)
    for model in [(tables or default_tables()).model(name) for name in wanted] or [None]:
        rejected = image_rejection(info, limits_for(model))
        if rejected is not None and rejected.rule == "animated":
            if not first_frame:
                raise AnimatedImageError(f"{where}animated {info.format}: the API accepts still images; "
                                         f"pass first_frame=True to keep the first frame only")  # fmt: skip
        elif rejected is not None and rejected.rule != "max_image_bytes":
            rejected.args = (f"{where}{rejected}",)
            raise rejected
    if strict and info.warning:
        raise InvalidImageError(f"{where}{info.warning} (strict: a damaged file is an error)")
