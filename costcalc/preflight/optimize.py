"""Preflight for one image: plan the size, write it upright, say what it saves (docs/README.md); one model or several."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

from ..catalog.settings import Settings
from ..catalog.tables import Model, Tables, default_tables
from ..errors import CostcalcError, ImageReadError, ImageRejectedError
from ..files import MAX_SOURCE_BYTES, read_regular
from ..inspection.headers import inspect
from ..words import caught_warnings, os_reason
from .planning import MultiPlan, Plan, plan
from .resize import FORMATS, render, strip_metadata, stripped_size

__all__ = ["Optimized", "optimize", "read_source", "conversions"]

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
    """None when the tokens are unknown (docs/openai.md); with several models, a dict of each model's."""
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


def read_source(
    source: str | os.PathLike | bytes | bytearray | memoryview | BinaryIO, max_bytes: int = MAX_SOURCE_BYTES
) -> tuple[bytes, str]:
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
    request_images: int | None = None,
    fit_limits: bool = True,
    settings: Settings | None = None,
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

    Into the API's limits (issue 20): a size some model rejects is planned
    from the largest copy every model accepts (`plan`'s `fit_limits`,
    `request_images`); a format some model refuses is converted to one every
    model accepts (JPEG first; HEIC/HEIF needs pillow-heif, the `heif` extra);
    an output over a model's byte limit is re-encoded at lower quality steps
    (JPEG, WebP) until it fits, else ImageRejectedError naming the limit and
    the model. Each says so in `note`.

    `settings` (catalog.settings.Settings), when given, stands for `tables` and `strict`: what a caller that
    holds one passes down whole.
    """
    data, label = read_source(source, max_bytes)
    label = name or label
    info = inspect(data, name=label)
    with _carrying_warning(info):
        settings = settings or Settings(tables or default_tables(), strict=strict)
        limits = _check_source(info, label, first_frame=first_frame, models=model, settings=settings)
        format, converted = _accepted_format(info, format, limits, label)
        planned = plan(
            info.width,
            info.height,
            model=model,
            detail=detail,
            max_tokens=max_tokens,
            orientation=info.orientation,
            tables=settings.tables,
            request_images=request_images,
            fit_limits=fit_limits,
        )
        target = (planned.target_width, planned.target_height)
        encode = partial(
            render, data, info, target, format=format, keep_metadata=keep_metadata, first_frame=first_frame, name=label
        )
        encoded, out_format, stepped, decoder_said = _encoded(encode, quality, limits, label)
    notes = [planned.note, converted, stepped]
    if _sendable_as_is(info, out_format, planned, stepped, len(data), limits):
        encoded, target, kept = _smaller_original(data, info, encoded, target, keep_metadata)
        notes.append(kept)
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


def _encoded(encode, quality: int | None, limits, label: str) -> tuple[bytes, str, str | None, list[str]]:
    """(bytes, format, a note when re-encoded, what the decoder warned) of the copy `encode(quality=...)` renders,
    within every model's byte limit (`_within_bytes`)."""
    with caught_warnings() as decoder_said:  # Pillow's UserWarning on a bad APNG: this file's warning
        encoded, out_format = encode(quality=quality)
        encoded, stepped = _within_bytes(
            encoded, limits, label, lambda q: encode(quality=q, reencode=True)[0], out_format, quality
        )
    return encoded, out_format, stepped, decoder_said


@contextmanager
def _carrying_warning(info) -> Iterator[None]:
    """A CostcalcError raised meanwhile carries the source's defect, if it has one (tree.OptimizeRow.warning)."""
    try:
        yield
    except CostcalcError as error:
        if info.warning and getattr(error, "warning", None) is None:
            error.warning = info.warning  # the row keeps the defect (tree.OptimizeRow.warning)
        raise


def _sendable_as_is(info, out_format: str, planned: Plan | MultiPlan, stepped: str | None, size: int, limits) -> bool:
    """Whether the source itself could be sent instead of the copy: in the output format, still, whole, giving every
    model the copy's tokens, and within every byte limit without re-encoding."""
    return (
        out_format == info.format
        and not info.animated
        and info.warning is None
        and _source_costs_the_same(planned)
        and not stepped
        and _within_all(size, limits)
    )


def _smaller_original(
    data: bytes, info, encoded: bytes, target: tuple[int, int], keep_metadata: bool
) -> tuple[bytes, tuple[int, int], str | None]:
    """(bytes, size, note): the original (metadata stripped unless kept) when it is smaller than the copy, with the
    note saying so; else the copy as it is."""
    size = len(data) if keep_metadata else stripped_size(data, info.format, info.orientation)
    if size >= len(encoded):  # the usual case: measured, not copied (a 24 MP photo's megabytes)
        return encoded, target, None
    original = data if keep_metadata else strip_metadata(data, info.format, info.orientation)
    upright = (info.width, info.height) if info.orientation < 5 else (info.height, info.width)
    note = (
        f"the original{'' if keep_metadata else ', metadata stripped,'} is written: it gives every "
        f"model the same tokens, and a copy at {target[0]}×{target[1]} came out larger"
    )
    return original, upright, note


def _source_costs_the_same(planned: Plan | MultiPlan) -> bool:
    """Whether the source as it is gives every model the tokens the planned copy does: always for a same-tokens plan
    (docs/README.md); for a budget plan, when each model's tokens before and after are known and equal."""
    if planned.limited_by is not None:
        return False  # the API would reject the source: only the copy is sendable
    if planned.max_tokens is None:
        return True
    before, after = planned.tokens_before, planned.tokens_after
    if not isinstance(after, dict):
        before, after = {None: before}, {None: after}
    return all(tokens is not None and before.get(name) == tokens for name, tokens in after.items())


def _check_source(info, label: str, *, first_frame: bool, models, settings: Settings):
    """The input rules of pricing.verdict for a source about to be optimized, for each model's vendor (docs/limits.md),
    less what optimize repairs (a format converted, bytes re-encoded, an animation with `first_frame`);
    [(model, its Limits)] for the checks after writing."""
    from ..catalog.limits import limits_for
    from ..errors import AnimatedImageError, InvalidImageError
    from ..pricing.verdict import image_rejection

    where = f"{label}: " if label else ""
    wanted = [models] if isinstance(models, (str, Model)) else list(models)
    found = []
    for model in [settings.tables.model(name) for name in wanted] or [None]:
        limits = limits_for(model)
        found.append((model, limits))
        rejected = image_rejection(info, limits)
        if rejected is not None and rejected.rule == "animated":
            if not first_frame:
                raise AnimatedImageError(
                    f"{where}animated {info.format}: the API accepts still images; "
                    f"pass first_frame=True to keep the first frame only"
                )
        elif rejected is not None and rejected.rule not in ("max_image_bytes", "formats"):
            on = f"on {model.name}, " if model is not None else ""
            rejected.args = (f"{where}{on}{rejected}",)
            raise rejected
    if settings.strict and info.warning:
        raise InvalidImageError(f"{where}{info.warning} (strict: a damaged file is an error)")
    return found


_CONVERT_TO = ("JPEG", "PNG", "WEBP")
"""Formats a refused source is converted to, the first every model accepts (a GIF: PNG first, lossless)."""


def _targets_for(source: str) -> tuple[str, ...]:
    return ("PNG", "JPEG", "WEBP") if source == "GIF" else _CONVERT_TO


def _accepted_format(info, format: str | None, limits, label: str) -> tuple[str | None, str | None]:
    """(the output format, a note when the source's format is converted): the one asked for, which every model must
    accept; else the source's own when every model accepts it; else the first of _CONVERT_TO every model accepts."""
    where = f"{label}: " if label else ""

    def refusing(fmt: str) -> list:
        return [
            (model, rule)
            for model, lim in limits
            if model is not None and (rule := lim.rules.get("formats")) is not None and fmt not in rule.value
        ]

    if format is not None:
        wanted = str(format).upper()
        for model, rule in refusing(wanted)[:1] if wanted in FORMATS else ():  # render names a bad format
            raise ImageRejectedError(
                f"{where}{model.name} does not accept {wanted} ({', '.join(rule.value)}) "
                f"[rule formats, limits {rule.edition}]",
                "formats",
            )
        refused = refusing(info.format) if wanted != info.format else []
        names = ", ".join(model.name for model, _ in refused)
        return format, (f"{info.format} is not accepted by {names}: converted to {wanted}" if refused else None)
    refused = refusing(info.format)
    if not refused and info.format in FORMATS:
        return None, None
    for candidate in _targets_for(info.format):
        if not refusing(candidate):
            names = ", ".join(model.name for model, _ in refused)
            why = (
                f"{info.format} is not accepted by {names}"
                if refused
                else f"{info.format} is read, not written (JPEG, PNG, WebP and GIF are)"
            )
            return candidate.lower(), f"{why}: converted to {candidate}"
    model, rule = refused[0]
    raise ImageRejectedError(
        f"{where}on {model.name}, {info.format} is not an accepted format "
        f"({', '.join(rule.value)}) [rule formats, limits {rule.edition}]",
        "formats",
    )


SOURCE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIC", "HEIF", "AVIF", "TIFF")
"""Formats optimize may be given (as far as headers are read and Pillow, or pillow-heif, decodes them)."""


def conversions(models, tables: Tables | None = None) -> dict[str, str]:
    """{source format: the format it is written in} for each format some of `models` refuses, or that is read but
    not written (HEIC, HEIF, AVIF, TIFF), and every model accepts a conversion of (the first of JPEG, PNG, WEBP;
    PNG first for a GIF): what `optimize` does by itself, for naming outputs."""
    from ..catalog.limits import limits_for

    wanted = [models] if isinstance(models, (str, Model)) else list(models)
    accepted = []
    for name in wanted:
        rule = limits_for((tables or default_tables()).model(name)).rules.get("formats")
        if rule is not None:
            accepted.append(set(rule.value))
    found = {}
    for source in SOURCE_FORMATS:
        if source not in FORMATS or any(source not in formats for formats in accepted):
            target = next((f for f in _targets_for(source) if all(f in formats for formats in accepted)), None)
            if target is not None:
                found[source] = target
    return found


QUALITY_STEPS = (75, 65, 55, 45, 35, 25)
"""JPEG/WebP qualities tried, in turn, for an output over a model's byte limit."""


def _byte_limit(limits) -> tuple[int, str] | None:
    """(the smallest max_image_bytes among the models, the model it is of), or None."""
    found = [
        (lim.rules["max_image_bytes"].value, model.name)
        for model, lim in limits
        if model is not None and "max_image_bytes" in lim.rules
    ]
    return min(found) if found else None


def _within_all(size: int, limits) -> bool:
    limit = _byte_limit(limits)
    return limit is None or size <= limit[0]


def _within_bytes(encoded: bytes, limits, label: str, again, out_format: str, quality: int | None):
    """(bytes within every model's byte limit, a note when re-encoded): lower quality steps for JPEG/WebP, else
    ImageRejectedError naming the limit and the model."""
    limit = _byte_limit(limits)
    if limit is None or len(encoded) <= limit[0]:
        return encoded, None
    most, name = limit
    where = f"{label}: " if label else ""
    size = len(encoded)
    if out_format in ("JPEG", "WEBP"):
        for step in QUALITY_STEPS:
            if quality is not None and step >= quality:
                continue
            encoded = again(step)
            if len(encoded) <= most:
                return encoded, (
                    f"re-encoded at quality {step} to fit {name}'s {most:,}-byte limit per image "
                    f"(max_image_bytes; {size:,} bytes at the first quality)"
                )
        raise ImageRejectedError(
            f"{where}{len(encoded):,} bytes even at quality {QUALITY_STEPS[-1]}, over {name}'s "
            f"{most:,}-byte limit per image (max_image_bytes)",
            "max_image_bytes",
        )
    raise ImageRejectedError(
        f"{where}{size:,} bytes as {out_format}, over {name}'s {most:,}-byte limit per image "
        f"(max_image_bytes); format='jpeg' or 'webp' re-encodes it smaller",
        "max_image_bytes",
    )
