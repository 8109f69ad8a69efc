"""Fitting a plan into the API's limits (issue 20): which models accept any size, the side caps of a request of
many images, and the largest aspect-kept copy every model accepts.

A model whose bill does not depend on the size (a flat count, or a documented
maximum every size meets) takes whatever size the others need (`any_size`).
An image some model rejects for its size (Claude's 8000 px side, OpenAI's
patch limit, Qwen's aspect bound; the 2000 px side of a request of more than 20
images on Claude, `side_caps`) is planned from the largest aspect-kept copy
every model accepts (`accepted_base`); when none is, the error names the rule
and the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..catalog.tables import Model, Tables
from ..errors import ImageRejectedError
from ..pricing.cost import Pricer
from ..schemes.geometry import fit_within

__all__ = ["SEARCH_LIMIT", "aspect_size", "aspect_copies", "any_size", "any_size_models", "side_caps", "capped",
           "accepted_base"]

SEARCH_LIMIT = 1 << 20
"""Long sides searched for a budget plan; a longer original is first scaled to this."""

def aspect_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """width × height scaled down so its long side is `long_side` (at most the current one), as SPEC §1's fit rounds."""
    if long_side > max(width, height):
        raise ValueError(f"{long_side} is longer than {width}×{height}: a plan never upscales")
    return fit_within(width, height, long_side)


def aspect_copies(width: int, height: int):
    """(w, h) int64 arrays of every aspect-kept copy of width × height, long sides 1 up to the original's
    (up to SEARCH_LIMIT: a longer original is first scaled to it)."""
    import numpy as np

    long_side = max(width, height)
    if long_side > SEARCH_LIMIT:
        width, height = aspect_size(width, height, SEARCH_LIMIT)
        long_side = SEARCH_LIMIT
    sides = np.arange(1, long_side + 1, dtype=np.int64)
    other = np.maximum(1, (2 * min(width, height) * sides + long_side) // (2 * long_side))
    return (sides, other) if width >= height else (other, sides)


def any_size(rule) -> bool:
    """True when a rule's bill does not depend on the size: a flat count, or a documented maximum that every size
    meets (Gemini 3's media resolutions, docs/google.md; Nova 2, docs/amazon.md). Such a model accepts whatever
    size the others need."""
    return not rule.size_dependent and rule.basis in ("flat", "maximum")


def any_size_models(models: Sequence[str | Model], detail: str = "auto", tables: Tables | None = None) -> list[str]:
    """The names among `models` whose bill does not depend on the size (`any_size`), when there are others to plan
    for; [] otherwise (one model, or all of them size-free: nothing is planned around them)."""
    pricers = {}
    for name in models:
        pricer = Pricer(name, detail, tables)
        pricers.setdefault(pricer.model.family, pricer)
    free = [p.model.name for p in pricers.values() if any_size(p.rule)]
    return free if len(pricers) > 1 else []


def side_caps(models: Sequence[Model], request_images: int | None, tables: Tables | None = None) -> dict[str, int]:
    """{model name: the longest side a request of `request_images` images takes}, from each vendor's
    `max_images_side` limit (Claude: every image within 2000 × 2000 px above 20 images,
    https://docs.anthropic.com/en/docs/build-with-claude/vision); {} when `request_images` is None."""
    if not request_images:
        return {}
    from ..catalog.limits import limits_for

    caps = {}
    for model in models:
        limit = limits_for(model).rules.get("max_images_side")
        if limit is not None and request_images > limit.value["above"]:
            caps[model.name] = limit.value["side"]
    return caps


def capped(pricer: Pricer, size: tuple[int, int], caps: dict[str, int]) -> bool:
    cap = caps.get(pricer.model.name)
    return cap is not None and max(size) > cap


def _cap_error(pricer: Pricer, size: tuple[int, int], caps: dict[str, int]) -> ImageRejectedError:
    cap = caps[pricer.model.name]
    return ImageRejectedError(f"{size[0]}×{size[1]} on {pricer.model.name} has a side over {cap:,} px, which a request "
                              f"of this many images does not take", "max_images_side")  # fmt: skip


def accepted_base(group: list[Pricer], source: tuple[int, int], caps: dict[str, int],
                   fit_limits: bool = True) -> tuple[tuple[int, int], str | None, str | None]:  # fmt: skip
    """(the size to plan from, the rule that forced a smaller one, the note saying which model and limit did).

    The source when every model accepts it; else the largest aspect-kept copy
    every model accepts (each rule's rejections on the batch path, and the
    side caps). ImageRejectedError naming the model and the rule when no copy
    is accepted (an aspect ratio no resize fixes), or at once without `fit_limits`.
    """
    first: ImageRejectedError | None = None
    for pricer in group:
        try:
            pricer.sizing(*source)
        except ImageRejectedError as error:
            first = first or error
            continue
        if capped(pricer, source, caps):
            first = first or _cap_error(pricer, source, caps)
    if first is None:
        return source, None, None
    if not fit_limits:
        raise first
    import numpy as np

    from ..schemes import arrays

    w, h = aspect_copies(*source)
    ok = np.ones(w.shape, dtype=bool)
    for pricer in group:
        own = ~arrays.rejected(pricer.rule, w, h)
        cap = caps.get(pricer.model.name)
        if cap is not None:
            own &= np.maximum(w, h) <= cap
        if not own.any():
            raise ImageRejectedError(f"{first}; no copy keeping the aspect ratio is accepted by "
                                     f"{pricer.model.name} ({_rule_name(pricer, source, caps)})",
                                     _rule_name(pricer, source, caps))  # fmt: skip
        ok &= own
    if not ok.any():
        names = ", ".join(p.model.name for p in group)
        raise ImageRejectedError(f"{first}; no one copy keeping the aspect ratio is accepted by all of {names} "
                                 f"(optimize for them separately)", first.rule)  # fmt: skip
    index = int(np.flatnonzero(ok)[-1])
    base = int(w[index]), int(h[index])
    return base, first.rule, (f"limit {first.rule} forced a smaller copy: {first}; planned from {base[0]}×{base[1]}, the largest "
                  f"copy every model accepts")  # fmt: skip


def _rule_name(pricer: Pricer, size: tuple[int, int], caps: dict[str, int]) -> str:
    """The rule `pricer` rejects `size` by."""
    try:
        pricer.sizing(*size)
    except ImageRejectedError as error:
        return error.rule or "limits"
    return "max_images_side" if capped(pricer, size, caps) else "limits"
