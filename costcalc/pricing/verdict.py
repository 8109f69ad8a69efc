"""One verdict per file: the input rules every command applies, in one place (docs/limits.md; issue 9).

`estimate`, `audit`, `request` and `optimize` all call `verdict`, so the same
file gets the same status everywhere: priced (with a `warning` when its data is
damaged), rejected by a named rule, or unreadable. The rules, in order:

- formats, animated, max_image_bytes: the limits table of the edition in use
  (tables/limits.toml; docs/limits.md "Inputs");
- max_patches: the model's own patch limit (tables/models.toml; docs/openai.md step 4);
- with `strict`, a damaged file (`ImageInfo.warning`) is refused as unreadable.
"""

from __future__ import annotations

from ..catalog.limits import Limits
from ..errors import AnimatedImageError, CostcalcError, ImageRejectedError, InvalidImageError
from ..inspection.headers import ImageInfo
from ..records import named_tuple
from .cost import Pricer

__all__ = [
    "Verdict",
    "STATUSES",
    "verdict",
    "unread_verdict",
    "billed_tokens",
    "image_rejection",
    "strict_error",
    "unique_models",
]

STATUSES = ("priced", "rejected", "unreadable")
"""What the API would do with a file: price it, refuse it by a named rule, or not read it at all."""


@named_tuple
class Verdict:
    """The outcome for one image and one model: status, tokens when priced, the rule or reason when not."""

    status: str
    """One of STATUSES."""
    tokens: int | None = None
    """None when not priced, or priced with its tokens unknown (an unpublished multiplier, docs/openai.md)."""
    rule: str | None = None
    """The rule a rejected image breaks (formats, animated, max_image_bytes, max_patches)."""
    reason: str | None = None
    """Why it is not priced (without the file's name); None when priced."""
    warning: str | None = None
    """The defect of a damaged file that is priced anyway (ImageInfo.warning)."""


def image_rejection(info: ImageInfo, limits: Limits) -> ImageRejectedError | None:
    """The error for the first per-image rule of `limits` that `info` breaks, or None (docs/limits.md)."""
    finding = limits.check_image(info)
    if finding is None:
        return None
    if finding.rule == "animated":
        return AnimatedImageError(finding.message)
    return ImageRejectedError(finding.message, finding.rule)


def billed_tokens(
    info: ImageInfo, pricer: Pricer, limits: Limits, *, strict: bool = False, size: tuple[int, int] | None = None
) -> int | None:
    """The tokens `pricer` bills for the image `info` describes, once every input rule passes (None when
    the model's multiplier is unpublished, docs/openai.md: the image is accepted, its tokens unknown).

    ImageRejectedError (its `.rule` names the rule) when the API would refuse the
    image; InvalidImageError when `strict` and the file is damaged. `size` is the
    size it is sent at when not the stored one (a legacy `resize`).
    """
    rejected = image_rejection(info, limits)
    if rejected is not None:
        raise rejected
    tokens = pricer.tokens(*(size or (info.width, info.height)))  # ImageRejectedError past max_patches
    damaged = strict_error(info, strict)
    if damaged is not None:
        raise damaged
    return tokens


def strict_error(info: ImageInfo, strict: bool) -> InvalidImageError | None:
    """With `strict`, the error for a damaged file (one with a warning); else None."""
    if strict and info.warning:
        return InvalidImageError(f"{info.warning} (strict: a damaged file is an error)")
    return None


def verdict(
    info: ImageInfo, pricer: Pricer, limits: Limits, *, strict: bool = False, size: tuple[int, int] | None = None
) -> Verdict:
    """`billed_tokens` as a record: priced with tokens, rejected with its rule, or unreadable (strict); never raises."""
    try:
        tokens = billed_tokens(info, pricer, limits, strict=strict, size=size)
    except ImageRejectedError as error:
        return Verdict("rejected", rule=error.rule, reason=str(error), warning=info.warning)
    except CostcalcError as error:
        return Verdict("unreadable", reason=str(error), warning=info.warning)
    return Verdict("priced", tokens, warning=info.warning)


def unread_verdict(error: CostcalcError, limits: Limits) -> Verdict:
    """The verdict on an image whose header costcalc could not read: a format costcalc does not read is
    rejected (rule `formats`) only when the model's API refuses that format too, and otherwise, like any other
    error, unreadable ("cannot read"): the API might take it; costcalc cannot size it."""
    format = getattr(error, "format", None)
    refused = limits.refuses_format(format) if format else None
    if refused is not None:
        return Verdict("rejected", rule=refused.rule, reason=refused.message)
    return Verdict("unreadable", reason=str(error))


def unique_models(names, tables) -> list[str]:
    """The table names of `names`, each once, in first-named order: a model named twice, or by two
    aliases of one row, counts once. A dated snapshot is its own name (it may have its own price)."""
    return list(dict.fromkeys(tables.model(name).name for name in names))
