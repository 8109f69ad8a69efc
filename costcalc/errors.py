"""Every error costcalc raises on purpose: one base class, each also the matching builtin."""

from __future__ import annotations

__all__ = [
    "CostcalcError",
    "UnknownModelError",
    "UnsupportedDetailError",
    "UnpublishedRuleError",
    "InexactTokensError",
    "InvalidSizeError",
    "ImageRejectedError",
    "InvalidImageError",
    "UnsupportedFormatError",
    "ImageReadError",
    "TableError",
    "PlanError",
    "AnimatedImageError",
    "RequestError",
    "BudgetExceeded",
    "VideoError",
    "OutputConflictError",
    "OutputFormatError",
    "OutputExistsError",
    "PathNotAllowedError",
    "PatternError",
    "DecodeLimitError",
    "LogReadError",
    "ProbeError",
    "ProbeUsageError",
    "TierError",
    "GuardError",
    "RetiredModelError",
    "UpdateError",
]


class CostcalcError(Exception):
    """Base class of every error costcalc raises on purpose."""


class UnknownModelError(CostcalcError, KeyError):
    """A model name that is not in the model table."""

    def __init__(self, name: str, close: list[str] | tuple[str, ...] = ()) -> None:
        self.name = name
        self.close = tuple(close)
        hint = f"; did you mean {', '.join(self.close)}?" if self.close else ""
        message = f"unknown model {name!r}{hint} (`costcalc models` lists them all)"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnsupportedDetailError(CostcalcError, ValueError):
    """A detail level the model does not support."""

    def __init__(self, model: str, detail: object, supported: tuple[str, ...]) -> None:
        self.model = model
        self.detail = detail
        self.supported = supported
        message = f"model {model!r} does not support detail {detail!r}; it supports: {', '.join(supported)}"
        super().__init__(message)


class UnpublishedRuleError(CostcalcError, ValueError):
    """A known model (or detail level) whose vendor publishes no image-token rule (docs/README.md): never a borrowed number."""

    def __init__(self, model: str, detail: object, note: str = "", vendor: str | None = None) -> None:
        """`vendor`: the vendor of the model's row, which says how the rule can be measured (docs/probe.md)."""
        self.model = model
        self.detail = detail
        self.note = note
        self.vendor = vendor
        why = f" ({note})" if note else ""
        message = (
            f"model {model!r} at detail {detail!r}: its image-token rule is unpublished{why}; costcalc does "
            f"not guess — {_measure_hint(model, vendor)}"
        )
        super().__init__(message)

    def __reduce__(self):  # keep the fields across processes
        return _rebuild, (type(self), self.args, vars(self))


PROBED_VENDORS = frozenset({"openai", "anthropic", "google"})
"""Vendors whose free token-counting endpoint `costcalc probe` speaks (truth/probe holds it to this set)."""


def _measure_hint(model: str, vendor: str | None) -> str:
    """How an unpublished rule can be measured (docs/probe.md): `costcalc probe` at the token-counting endpoints it
    speaks (OpenAI, Anthropic, Gemini), else `costcalc reconcile` with the bills of requests already sent."""
    reconcile = "`costcalc reconcile` with logged requests and their answers measures what the API bills"
    if vendor in PROBED_VENDORS:
        return f"`costcalc probe -m {model}` measures it at the vendor's free token-counting endpoint"
    if vendor:
        return f"`costcalc probe` cannot reach {vendor}'s API yet (it speaks OpenAI, Anthropic and Gemini); {reconcile}"
    return f"`costcalc probe -m MODEL` measures it (OpenAI, Anthropic and Gemini models), or {reconcile}"


class InexactTokensError(CostcalcError, ValueError):
    """A count that is a documented maximum or an approximation, asked for where an exact count is expected.

    `tokens` holds the figure and `basis` how sure it is (maximum, approximate); pass `inexact=True` to
    accept it, or use `estimate()`, whose result carries its basis.
    """

    def __init__(self, model: str, detail: object, tokens: int | None, basis: str) -> None:
        self.model, self.detail, self.tokens, self.basis = model, detail, tokens, basis
        what = {
            "maximum": "a documented maximum (the bill is at most this)",
            "approximate": "an approximation (the vendor publishes only approximate figures)",
        }.get(basis, basis)
        figure = f"{tokens:,} tokens is" if tokens is not None else "its tokens are"
        super().__init__(
            f"{model} at detail {detail}: {figure} {what}, not an exact count; pass inexact=True to "
            f"accept it, or use costcalc.estimate(), whose result says how sure it is (basis)"
        )

    def __reduce__(self):  # keep the fields across processes
        return _rebuild, (type(self), self.args, vars(self))


class InvalidSizeError(CostcalcError, ValueError):
    """A width or height that is not a positive whole number of pixels."""


class ImageRejectedError(CostcalcError, ValueError):
    """An image the API would refuse; `rule` names the input rule it breaks (docs/limits.md).

    One family for every rule: formats (UnsupportedFormatError), animated
    (AnimatedImageError), max_image_bytes (limits.toml), max_patches (models.toml:
    over 30,000 patches the API rejects rather than resizes).
    """

    def __init__(self, message: str, rule: str | None = "max_patches") -> None:
        self.rule = rule
        super().__init__(message)

    def __reduce__(self):  # keep the rule across processes
        return _rebuild, (type(self), self.args, vars(self))


class InvalidImageError(CostcalcError, ValueError):
    """Image bytes whose header is truncated, corrupt or of no known format."""


class UnsupportedFormatError(ImageRejectedError, InvalidImageError):
    """A recognised image format whose header costcalc does not read: rule `formats` (and still an InvalidImageError).

    The words say what costcalc cannot read and claim no vendor's rule (issue 10): some
    APIs take BMP (Qwen), some refuse it (OpenAI, docs/limits.md); costcalc cannot size it either
    way. Formats it reads but an API refuses are rejected by that API's `formats` row in
    tables/limits.toml instead.
    """

    def __init__(self, format: str, where: str = "") -> None:
        self.format = format
        prefix = f"{where}: " if where else ""
        message = (
            f"{prefix}cannot read: {format} headers are not read by costcalc (it reads PNG, JPEG, WEBP, GIF, "
            f"TIFF, HEIC/HEIF and AVIF); convert it, e.g. to PNG or JPEG"
        )
        super().__init__(message, "formats")


class ImageReadError(CostcalcError, OSError):
    """An image source that could not be read (missing, unreadable, a folder)."""


class TableError(CostcalcError, ValueError):
    """A model or price table file that is malformed."""


class PlanError(CostcalcError, ValueError):
    """No size of an image meets the token budget asked for."""


class AnimatedImageError(ImageRejectedError):
    """An animated image, which the API refuses (rule `animated`); only its first frame can be kept, when asked."""

    def __init__(self, message: str, rule: str | None = "animated") -> None:
        super().__init__(message, rule)


class RequestError(CostcalcError, ValueError):
    """A request payload that cannot be read: not JSON, no messages or input, a part of unknown type."""


class BudgetExceeded(CostcalcError):
    """A request over its token or dollar budget; `estimate` holds what it costs, `overruns` each limit broken
    (money.Overrun: label, kind, limit, value)."""

    def __init__(self, message: str, estimate, overruns=()) -> None:
        self.estimate = estimate
        self.overruns = tuple(overruns)
        super().__init__(message)


class VideoError(CostcalcError, ValueError):
    """A clip that cannot be read: not a video, no video stream, a codec FFmpeg cannot decode, no PyAV."""


class OutputConflictError(CostcalcError, ValueError):
    """Outputs that would overwrite a source or another original, or two sources bound for one output (issue 9).

    Raised while planning, before any file is written; the message names both paths.
    """


class PathNotAllowedError(CostcalcError, PermissionError):
    """A path outside the folders a server was allowed to read and write (`costcalc mcp --root`), links resolved."""


class OutputExistsError(OutputConflictError):
    """An output that exists, where only new files may be written (`costcalc mcp` without --allow-overwrite)."""


class PatternError(CostcalcError, ValueError):
    """A --glob or --exclude pattern that matches nothing by construction: empty, a NUL, an unclosed '['."""


class OutputFormatError(CostcalcError, ValueError):
    """An output file name whose extension names no format optimize writes (.jpg, .jpeg, .png, .webp, .gif)."""


class TierError(CostcalcError, ValueError):
    """A service tier (docs/prices.md) or cached-input kind the model's price does not offer; names those it has."""

    def __init__(self, model: str, tier: object, offered: tuple[str, ...], what: str = "tier") -> None:
        self.model, self.tier, self.offered = model, tier, tuple(offered)
        shown = repr(tier) if not isinstance(tier, str) or len(tier) > 40 else tier
        super().__init__(f"{model} has no {what} {shown}; it has: {', '.join(offered) or 'none'}")


class GuardError(CostcalcError, ValueError):
    """What costcalc.guard cannot take (docs/README.md): a client other than the openai and anthropic ones, one already
    guarded, or a limit that is not one."""


class DecodeLimitError(CostcalcError, ValueError):
    """An image with more pixels than `optimize` decodes (its stated memory bound), or one memory ran out on."""


class LogReadError(CostcalcError, ValueError):
    """A request/answer log or OpenAI Batch file that cannot be read (docs/probe.md): names the file and line."""


class ProbeError(CostcalcError, RuntimeError):
    """A token-counting endpoint that failed a probe (docs/probe.md): unreachable, an HTTP error, an answer without a count."""


class ProbeUsageError(CostcalcError, ValueError):
    """A probe that cannot start (docs/probe.md): no API key in the environment, no API for the model, a detail the API lacks."""


def _rebuild(cls, args, state):
    """Unpickle an error whose __init__ takes other arguments than its args."""
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class RetiredModelError(CostcalcError, ValueError):
    """A model past its shutdown date on the day asked for, when `strict` makes that an error.

    Carries `model`, `shutdown` (a date, or None when its vendor lists it retired without one),
    `replacement` ('' when none is named) and `as_of`.
    """

    def __init__(self, model: str, shutdown, replacement: str, as_of) -> None:
        self.model, self.shutdown, self.replacement, self.as_of = model, shutdown, replacement, as_of
        when = f"shut down on {shutdown}" if shutdown else "retired by its vendor"
        instead = f"; use {replacement}" if replacement else ""
        super().__init__(f"{model} was {when}{instead} (as of {as_of})")


class UpdateError(CostcalcError, ValueError):
    """A price update that cannot be applied (`costcalc tables update`): nothing was changed.

    `source` is the data file or URL read, `reason` what is wrong with it.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}; nothing was changed")
