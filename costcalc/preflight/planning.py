"""Planning a resize ahead of time: pure sizes, no pixels (docs/README.md).

Same tokens (the default): exactly the size the model works from, after the
fit, the short-side rule or the patch budget (docs/openai.md), Claude's resize search
before padding (§6a), Mistral's downscale before its patch grid (§6c), Qwen's
rounded size capped at the image's own (§6d) — `Sizing.scaled_width/height`.
Every rule leaves its own output unchanged, so the planned size costs what the
original does. Rules that publish no resize (Gemini's maxima and tiles, Nova,
Llama 4 on a host, flat counts: §6b, §6e) see the image's own size: the
original size is kept, and the plan's `note` says so; no size is invented.

Several models (`plan_many`): one file at the largest size any of them works
from, kept only if every model, re-priced on it, pays the tokens and sees the
size (within a pixel) it would from the original. Otherwise the plan's note
names the model that prevents it, with both token counts, and the file is the
smallest aspect-kept copy from which every model sees what it would (the
original at worst): every model's tokens are always those of the original.

A model whose bill does not depend on the size (a flat count, or a documented
maximum that every size meets: `any_size`) accepts every size: the size is
planned for the others and it is re-priced on the result; `MultiPlan.any_size`
names it once (not a note on every file).

Limits (issue 20): an image the API would reject for its size (Claude's
8000 px side, the 2000 px side of a request of more than 20 images when
`request_images` says so, OpenAI's patch limit, Qwen's aspect bound) is planned
from the largest aspect-kept copy every named model accepts, and the note says
which model and limit forced it; when no aspect-kept copy is accepted (an
aspect ratio no resize fixes) the error names the rule and the model.

A token budget: the largest size keeping the aspect ratio whose cost is at most
N (for every model named); cost is not monotone in size (2049 × 513 costs more
than 2048 × 512), so every long side up to the original's is priced, at once,
with the batch path. The file is then written at the size the model works from
for that size, which costs the same and is never larger. Only a rule that
prices every size exactly can be searched so: a model whose tokens are
approximate (docs/README.md: Nova 1, Llama 4 on a host, Gemini 2.x) refuses a budget
with a PlanError (its figure for a tiny copy promises nothing), and one whose
count does not depend on the size (a flat count, or Gemini 3's maximum) meets
a budget at every size or at none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog.tables import Model, Tables
from ..errors import CostcalcError, PlanError
from ..pricing.cost import Pricer, check_size
from ..schemes.base import Sizing
from .fitting import (
    SEARCH_LIMIT,
    accepted_base,
    any_size,
    any_size_models,
    aspect_copies,
    aspect_size,
    capped,
    side_caps,
)

__all__ = [
    "Plan",
    "ModelPlan",
    "MultiPlan",
    "PlanError",
    "plan",
    "plan_many",
    "aspect_size",
    "check_budget_rules",
    "SEARCH_LIMIT",
    "any_size",
    "any_size_models",
    "side_caps",
    "same_tokens",
]

SEEN_SLACK = 1
"""Pixels a model's size seen from a shared file may differ by, per side, from the one it sees in the original:
the rounding of a resize from a slightly different aspect ratio (several models, `plan_many`)."""


@dataclass(frozen=True)
class _Resize:
    """A source size and the size to write of it: the fields `Plan` and `MultiPlan` open with."""

    width: int
    """The upright source size (EXIF orientation applied)."""
    height: int
    target_width: int
    """The size to write, upright; never larger than the source."""
    target_height: int

    @property
    def resize(self) -> bool:
        """True when the target is smaller than the source."""
        return (self.target_width, self.target_height) != (self.width, self.height)


@dataclass(frozen=True)
class Plan(_Resize):
    """What to resize an image to, and what that costs before and after."""

    tokens_before: int | None
    """None when the API would reject the source (a budget plan made it fit), or the tokens are unknown."""
    tokens_after: int | None
    """None when the model's tokens are unknown (an unpublished multiplier, docs/openai.md): `note` says why."""
    model: str
    detail: str
    applied_detail: str
    max_tokens: int | None = None
    budget_width: int | None = None
    """For a budget plan: the largest size within the budget (the target is what the model sees of it)."""
    budget_height: int | None = None
    advice: tuple[str, ...] = ()
    """Cheaper detail levels, and `low` costing more than `high` on a patch model."""
    note: str | None = None
    """Why the original size is kept (a rule with no published resize), or why the tokens are unknown."""
    limited_by: str | None = None
    """The input rule (max_side, max_patches, max_images_side, ...) that forced a copy smaller than the source."""


@dataclass(frozen=True)
class ModelPlan:
    """One model's part of a plan for several: the size it sees and the tokens it pays, from the source and the target."""

    model: str
    applied_detail: str
    basis: str
    """How sure its tokens are (docs/README.md): exact, maximum, approximate, flat, or unknown."""
    seen_before: tuple[int, int] | None
    """The size it works from in the source; None when it rejects the source (a budget plan)."""
    seen_after: tuple[int, int]
    """The size it works from in the target."""
    tokens_before: int | None
    tokens_after: int | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "model": self.model,
            "applied_detail": self.applied_detail,
            "basis": self.basis,
            "seen_before": None if self.seen_before is None else list(self.seen_before),
            "seen_after": list(self.seen_after),
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
        }


@dataclass(frozen=True)
class MultiPlan(_Resize):
    """One target size for several models (docs/README.md): each model's size seen and tokens, before and after."""

    models: tuple[ModelPlan, ...]
    """One per model, in the order given (aliases of one row once)."""
    detail: str
    max_tokens: int | None = None
    budget_width: int | None = None
    """For a budget plan: the largest size keeping every model within the budget."""
    budget_height: int | None = None
    chosen_by: str | None = None
    """The model whose size seen is the target (the largest that works for all), or None (the budget size itself)."""
    advice: tuple[str, ...] = ()
    """Each model's detail advice, prefixed with its name."""
    note: str | None = None
    """Why the original size is kept, or why some tokens are unknown."""
    limited_by: str | None = None
    """The input rule (max_side, max_patches, max_images_side, ...) that forced a copy smaller than the source."""
    any_size: tuple[str, ...] = ()
    """Models whose bill does not depend on the size (`any_size`): planned around, re-priced on the target."""

    @property
    def model(self) -> tuple[str, ...]:
        """The model names, in order."""
        return tuple(m.model for m in self.models)

    @property
    def tokens_before(self) -> dict[str, int | None]:
        """Each model's tokens for the source (None: rejected, or unknown)."""
        return {m.model: m.tokens_before for m in self.models}

    @property
    def tokens_after(self) -> dict[str, int | None]:
        """Each model's tokens for the target (None: unknown)."""
        return {m.model: m.tokens_after for m in self.models}

    @property
    def applied_detail(self) -> dict[str, str]:
        """The detail level each model applies (`auto` resolved)."""
        return {m.model: m.applied_detail for m in self.models}


def plan(
    width: int,
    height: int,
    *,
    model: str | Model | Sequence[str | Model],
    detail: str = "auto",
    max_tokens: int | None = None,
    orientation: int = 1,
    tables: Tables | None = None,
    request_images: int | None = None,
    fit_limits: bool = True,
) -> Plan | MultiPlan:
    """The target size for a stored width × height (docs/README.md); `orientation` 5-8 swaps the sides.

    A list of models is `plan_many` (a MultiPlan; one distinct model gives a Plan).
    A source the API would reject for its size is planned from the largest copy
    every model accepts (`fit_limits`; False: ImageRejectedError instead);
    `request_images`: how many images a request will carry, for the per-request
    side limits (Claude: 2000 px above 20 images). ImageRejectedError when no
    aspect-kept copy is accepted; PlanError if no size meets `max_tokens` (or
    the model's tokens are unknown).
    """
    if not isinstance(model, (str, Model)):
        return plan_many(
            width,
            height,
            models=model,
            detail=detail,
            max_tokens=max_tokens,
            orientation=orientation,
            tables=tables,
            request_images=request_images,
            fit_limits=fit_limits,
        )
    width, height = _upright(width, height, orientation)
    pricer = Pricer(model, detail, tables)
    caps = side_caps([pricer.model], request_images, tables)
    return _plan_one(pricer, width, height, detail, max_tokens, tables, caps, fit_limits)


def _upright(width: int, height: int, orientation: int) -> tuple[int, int]:
    width, height = check_size(width, height)
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def same_tokens(pricer: Pricer, width: int, height: int, caps: dict[str, int] | None = None, fit_limits: bool = True):
    """The same-tokens plan of one model for an upright width × height, without its advice and notes (what
    `plan` gives, fast, for a report of many files): (target, tokens before or None when the API rejects the
    source, tokens after, the rule that forced a smaller copy or None, the note saying so or None)."""
    caps = caps or {}
    sizing = _sizing_or_none(pricer, width, height)
    if sizing is not None and not capped(pricer, (width, height), caps):  # accepted as it is: the common case
        return (sizing.scaled_width, sizing.scaled_height), sizing.tokens, sizing.tokens, None, None
    base, limited, forced = accepted_base([pricer], (width, height), caps, fit_limits)
    sizing = pricer.sizing(*base)
    before = sizing.tokens if base == (width, height) else None
    return (sizing.scaled_width, sizing.scaled_height), before, sizing.tokens, limited, forced


def _plan_one(
    pricer: Pricer,
    width: int,
    height: int,
    detail: str,
    max_tokens: int | None,
    tables: Tables | None,
    caps: dict[str, int] | None = None,
    fit_limits: bool = True,
) -> Plan:
    """The plan for one model (docs/README.md)."""
    name = pricer.model.name
    caps = caps or {}
    forced = limited = None
    if max_tokens is None:
        target, before, after, limited, forced = same_tokens(pricer, width, height, caps, fit_limits)
        budget = (None, None)
    else:
        _check_budget(max_tokens)
        before = None if capped(pricer, (width, height), caps) else _tokens_or_none(pricer, width, height)
        budget = _largest_within([pricer], width, height, max_tokens, caps)
        sizing = pricer.rule.size(*budget)
        target = (sizing.scaled_width, sizing.scaled_height)
        after = pricer.tokens(*target)
    note = _unknown_note(pricer) if after is None else _kept_note(pricer, target, (width, height))
    note = "; ".join(filter(None, [forced, note])) or None
    return Plan(
        width=width,
        height=height,
        target_width=target[0],
        target_height=target[1],
        tokens_before=before,
        tokens_after=after,
        model=name,
        detail=detail,
        applied_detail=pricer.applied_detail,
        max_tokens=max_tokens,
        budget_width=budget[0],
        budget_height=budget[1],
        advice=_advice(pricer, (width, height), tables),
        note=note,
        limited_by=limited,
    )


def plan_many(
    width: int,
    height: int,
    *,
    models: Sequence[str | Model],
    detail: str = "auto",
    max_tokens: int | None = None,
    orientation: int = 1,
    tables: Tables | None = None,
    request_images: int | None = None,
    fit_limits: bool = True,
) -> MultiPlan | Plan:
    """One target size for several models, any vendors (docs/README.md); a Plan when they are one model.

    Models whose bill does not depend on the size (`any_size`) are planned
    around: the size is chosen for the others, and they are re-priced on it.
    A source some model rejects for its size is planned from the largest
    aspect-kept copy every model accepts (`fit_limits`, `request_images` as in
    `plan`), its note naming the model and the limit.

    Without a budget: the largest size any of them works from, kept if every
    model re-priced on it pays its tokens from the original and sees its size
    seen (within SEEN_SLACK px). When none is, `note` names the model that
    prevents the largest, with both token counts (or both sizes seen), and
    the target is the smallest aspect-kept copy from which every model sees
    what it sees in the original — the original itself at worst.
    ImageRejectedError if no copy is accepted by every model. With
    `max_tokens`: the largest aspect-kept size keeping every model within it,
    then the same choice made from that size.
    """
    pricers = _one_pricer_a_model(models, detail, tables)
    width, height = _upright(width, height, orientation)
    caps = side_caps([p.model for p in pricers], request_images, tables)
    if len(pricers) == 1:
        return _plan_one(pricers[0], width, height, detail, max_tokens, tables, caps, fit_limits)
    source = (width, height)
    base, budget, origin, limited, forced = _base_size(pricers, source, max_tokens, caps, fit_limits)
    before = [None if capped(p, source, caps) else _sizing_or_none(p, width, height) for p in pricers]
    target, chosen, after, notes = _target_around_free(pricers, base, origin)
    notes = [forced, *notes, *(_unknown_note(p) for p, a in zip(pricers, after) if a.tokens is None)]
    notes.append(_kept_size_note(pricers, target, source))
    free = [p.model.name for p in pricers if any_size(p.rule)]
    return MultiPlan(
        width=width,
        height=height,
        target_width=target[0],
        target_height=target[1],
        models=_model_plans(pricers, before, after),
        detail=detail,
        max_tokens=max_tokens,
        budget_width=budget[0],
        budget_height=budget[1],
        chosen_by=chosen,
        advice=tuple(f"{p.model.name}: {text}" for p in pricers for text in _advice(p, source, tables)),
        note="; ".join(n for n in notes if n) or None,
        limited_by=limited,
        any_size=tuple(free) if len(free) < len(pricers) else (),  # every model size-free: they are the plan
    )


def _one_pricer_a_model(
    models: str | Model | Sequence[str | Model], detail: str, tables: Tables | None
) -> list[Pricer]:
    """A Pricer for each model named, two names of one row being one model; PlanError when none is named."""
    if isinstance(models, (str, Model)):
        models = [models]
    pricers: dict[str, Pricer] = {}
    for name in models:
        pricer = Pricer(name, detail, tables)
        pricers.setdefault(pricer.model.family, pricer)  # two names of one row are one model
    if not pricers:
        raise PlanError("no model to plan for: name at least one")
    return list(pricers.values())


def _base_size(
    pricers: list[Pricer],
    source: tuple[int, int],
    max_tokens: int | None,
    caps: dict[str, int],
    fit_limits: bool,
):
    """(the size the shared target is chosen from, the budget size or (None, None), how the notes name that size,
    the limit that forced a smaller copy or None, the note saying so or None): without a budget, the source or the
    largest copy every model accepts; with one, the largest size within it."""
    if max_tokens is None:
        base, limited, forced = accepted_base(pricers, source, caps, fit_limits)
        origin = "the original" if base == source else f"{base[0]}×{base[1]} (the largest size every model accepts)"
        return base, (None, None), origin, limited, forced
    _check_budget(max_tokens)
    base = _largest_within(pricers, *source, max_tokens, caps)
    return base, base, f"{base[0]}×{base[1]} (the largest size within the budget)", None, None


def _target_around_free(pricers: list[Pricer], base: tuple[int, int], origin: str):
    """(target, the model whose size seen it is or None, each model's sizing of it, notes): the shared target of the
    models whose bill depends on the size (`_shared_target`), the others re-priced on it; `base` when none does."""
    group = [p for p in pricers if not any_size(p.rule)]
    if not group:
        return base, None, [p.sizing(*base) for p in pricers], []
    target, chosen, shared, notes = _shared_target(group, base, [p.sizing(*base) for p in group], origin)
    sized = dict(zip((p.model.family for p in group), shared))
    return target, chosen, [sized.get(p.model.family) or p.sizing(*target) for p in pricers], notes


def _kept_size_note(pricers: list[Pricer], target: tuple[int, int], source: tuple[int, int]) -> str | None:
    """The note naming the models that publish no resize when the original size is kept (of those whose bill
    depends on the size, or of all when none does); else None."""
    if target != source:
        return None
    group = [p for p in pricers if not any_size(p.rule)] or pricers
    kept = [f"{p.model.name} ({p.rule.basis})" for p in group if p.rule.kept_note]
    return f"no published resize for {', '.join(kept)}: the original size is kept" if kept else None


def _model_plans(pricers: list[Pricer], before: list[Sizing | None], after: list[Sizing]) -> tuple[ModelPlan, ...]:
    """Each model's part of a MultiPlan: what it sees and pays before and after."""
    return tuple(
        ModelPlan(
            model=p.model.name,
            applied_detail=p.applied_detail,
            basis=a.basis,
            seen_before=None if b is None else (b.scaled_width, b.scaled_height),
            seen_after=(a.scaled_width, a.scaled_height),
            tokens_before=None if b is None else b.tokens,
            tokens_after=a.tokens,
        )
        for p, b, a in zip(pricers, before, after)
    )


def _shared_target(group: list[Pricer], base: tuple[int, int], seen: list[Sizing], origin: str):
    """(target, the model whose size seen it is or None, each model's sizing of it, notes) for an image `base`
    (the source, or the budget size: `origin` in the notes).

    First the sizes seen, largest first: the first that every model re-prices
    to its tokens and size seen (`_check_shared`). Failing that, the note names
    the model that prevents the largest, and the target is the smallest
    aspect-kept copy of `base` that passes — `base` itself at worst, which
    every model sees as it is.
    """
    owners: dict[tuple[int, int], str] = {}
    for pricer, sizing in zip(group, seen):
        owners.setdefault((sizing.scaled_width, sizing.scaled_height), pricer.model.name)
    order = sorted(owners, key=lambda size: (size[0] * size[1], max(size)), reverse=True)
    first = None
    for size in order:
        after, problem = _check_shared(group, seen, size, owners[size], origin)
        if problem is None:
            return size, owners[size], after, []
        first = first or problem
    least = max(max(size) for size in order)  # a model seeing less than its own size seen fails the check
    for size in _aspect_kept_passing(group, base, seen, least):
        after, problem = _check_shared(group, seen, size, "", origin)
        if problem is None:
            kept = (
                f"{origin} is written as it is"
                if size == base
                else (
                    f"written at {size[0]}×{size[1]}, the smallest copy keeping the aspect ratio from which "
                    f"every model sees what it sees in {origin}"
                )
            )
            return size, None, after, [f"{first}: {kept}"]
    raise AssertionError(f"{base} failed its own check")  # every rule sees an image as it is from itself


def _aspect_kept_passing(group: list[Pricer], base: tuple[int, int], seen: list[Sizing], least: int):
    """Aspect-kept copies of `base` with long sides from `least` up, that pass `_check_shared` on the batch path,
    smallest first; `base` itself last, always."""
    import numpy as np

    from ..schemes import arrays

    width, height = base
    long_side, short_side = max(base), min(base)
    top = min(long_side - 1, SEARCH_LIMIT)
    if least <= top:
        sides = np.arange(max(1, least - SEEN_SLACK), top + 1, dtype=np.int64)
        other = np.maximum(1, (2 * short_side * sides + long_side) // (2 * long_side))
        w, h = (sides, other) if width >= height else (other, sides)
        ok = np.ones(w.shape, dtype=bool)
        for pricer, before in zip(group, seen):
            seen_w, seen_h, units, tokens = arrays.sizes(pricer.rule, w, h)
            ok &= ~arrays.rejected(pricer.rule, w, h, units)
            ok &= (units == before.patches) if tokens is None else (tokens == before.tokens)
            ok &= np.abs(seen_w - before.scaled_width) <= SEEN_SLACK
            ok &= np.abs(seen_h - before.scaled_height) <= SEEN_SLACK
        for index in np.flatnonzero(ok):
            yield int(w[index]), int(h[index])
    yield base


def _check_shared(group: list[Pricer], seen: list[Sizing], size: tuple[int, int], owner: str, origin: str):
    """Each model's sizing of `size`, and None; or (None, why one model cannot take `size`, against `origin`)."""
    after = []
    where = f"at {size[0]}×{size[1]}" + (f" (what {owner} works from)" if owner else "")
    for pricer, before in zip(group, seen):
        name = pricer.model.name
        try:
            sizing = pricer.sizing(*size)
        except CostcalcError as error:
            return None, f"{where} {name} rejects it ({error})"
        if (sizing.tokens, sizing.patches) != (before.tokens, before.patches):
            return None, f"{where} {name} costs {_count(sizing)} instead of {_count(before)} from {origin}"
        dw, dh = abs(sizing.scaled_width - before.scaled_width), abs(sizing.scaled_height - before.scaled_height)
        if max(dw, dh) > SEEN_SLACK:
            return None, (
                f"{where} {name} sees {sizing.scaled_width}×{sizing.scaled_height} instead of "
                f"{before.scaled_width}×{before.scaled_height} from {origin} "
                f"({_count(sizing)} either way)"
            )
        after.append(sizing)
    return after, None


def _count(sizing: Sizing) -> str:
    """`1,560 tokens`, or the patches when the tokens are unknown (docs/openai.md)."""
    if sizing.tokens is None:
        return f"{sizing.patches:,} patches (tokens unknown)"
    return f"{sizing.tokens:,} tokens"


def _check_budget(max_tokens: int) -> None:
    if max_tokens < 0:
        raise PlanError(f"max_tokens must be 0 or more, not {max_tokens}")


def _tokens_or_none(pricer: Pricer, width: int, height: int) -> int | None:
    sizing = _sizing_or_none(pricer, width, height)
    return None if sizing is None else sizing.tokens


def _sizing_or_none(pricer: Pricer, width: int, height: int) -> Sizing | None:
    try:
        return pricer.sizing(width, height)
    except CostcalcError:
        return None  # rejected as it is: a budget plan can still find a size


def _largest_within(
    group: list[Pricer], width: int, height: int, max_tokens: int, caps: dict[str, int] | None = None
) -> tuple[int, int]:
    """The largest aspect-kept size no larger than width × height costing every model at most `max_tokens`
    (and within each model's side cap, `side_caps`)."""
    import numpy as np

    from ..schemes import arrays

    w, h = aspect_copies(width, height)
    if max(width, height) > SEARCH_LIMIT:
        width, height = aspect_size(width, height, SEARCH_LIMIT)
    fits = np.ones(w.shape, dtype=bool)
    alone = []  # each model's cheapest accepted cost, for the message
    for pricer in group:
        _check_budget_rule(pricer)
        _, _, units, tokens = arrays.sizes(pricer.rule, w, h)
        accepted = ~arrays.rejected(pricer.rule, w, h, units)  # a rejected size meets no budget
        cap = (caps or {}).get(pricer.model.name)
        if cap is not None:
            accepted &= np.maximum(w, h) <= cap
        own = (tokens <= max_tokens) & accepted
        alone.append((pricer, own.any(), int(tokens[accepted].min()) if accepted.any() else int(tokens.min())))
        fits &= own
    if not fits.any():
        for pricer, possible, cheapest in alone:
            if not possible:
                anywhere = "" if pricer.rule.size_dependent else f" ({pricer.rule.basis}, at any size)"
                raise PlanError(
                    f"no size of {width}×{height} costs {max_tokens:,} tokens or less on {pricer.model.name} at "
                    f"detail {pricer.applied_detail}: the cheapest costs {cheapest:,}{anywhere}"
                )
        names = ", ".join(p.model.name for p in group)
        raise PlanError(
            f"no one size of {width}×{height} keeps {names} each within {max_tokens:,} tokens "
            f"(each alone can be, at different sizes); optimize for them separately"
        )
    index = int(np.flatnonzero(fits)[-1])
    return int(w[index]), int(h[index])


def check_budget_rules(models: Sequence[str | Model], detail: str = "auto", tables: Tables | None = None) -> None:
    """PlanError, before any image is read, if a budget cannot be planned by size on one of `models` (docs/README.md)."""
    for name in models:
        _check_budget_rule(Pricer(name, detail, tables))


def _check_budget_rule(pricer: Pricer) -> None:
    """PlanError when no size can honestly be promised to meet a budget on this model: its tokens are unknown
    (docs/openai.md) or approximate (docs/README.md). Exact rules are searched; a flat count or a maximum (Gemini 3) is the same
    at every size, so it meets a budget everywhere or nowhere."""
    name, basis = pricer.model.name, pricer.rule.basis
    if basis == "unknown":
        raise PlanError(f"max_tokens cannot be checked on {name}: {_unknown_note(pricer)}")
    if basis == "approximate":
        why = pricer.rule.budget_note or "only approximate figures are published"
        raise PlanError(
            f"max_tokens cannot be planned for {name} at detail {pricer.applied_detail}: its tokens are "
            f"approximate ({why}), so no size can be promised to stay within a budget; leave "
            f"{name} out of a max_tokens run, or drop max_tokens"
        )


def _kept_note(pricer: Pricer, target: tuple[int, int], source: tuple[int, int]) -> str | None:
    """The note for a rule that publishes no resize, when the original size is kept; else None."""
    reason = pricer.rule.kept_note
    if reason is None or target != source:
        return None
    return f"{pricer.model.name} publishes no resize ({pricer.rule.basis}; {reason}): the original size is kept"


def _unknown_note(pricer: Pricer) -> str:
    """Why the model's tokens are unknown (docs/openai.md), as the pricing core words it."""
    try:
        from ..pricing.cost import unknown_tokens_note
    except ImportError:  # an older core
        return f"the tokens of {pricer.model.name} are unknown (no published multiplier)"
    return unknown_tokens_note(pricer.model)


def _advice(pricer: Pricer, size: tuple[int, int], tables: Tables | None) -> tuple[str, ...]:
    """Detail advice for the source size: `low` cheaper, or `low` dearer than `high` on a patch model."""
    model = pricer.model
    levels = dict(model.rules)
    if "low" not in levels or "high" not in levels:
        return ()
    try:
        low = Pricer(model, "low", tables).tokens(*size)
        high = Pricer(model, "high", tables).tokens(*size)
        now = pricer.tokens(*size)
    except CostcalcError:
        return ()
    if None in (low, high, now):  # tokens unknown (docs/openai.md): nothing to compare
        return ()
    advice = []
    if pricer.applied_detail != "low" and low < now:
        advice.append(f"detail low would cost {low:,} tokens instead of {now:,}")
    if model.scheme == "patch" and low > high:
        advice.append(f"on {model.name}, low costs more than high here ({low:,} vs {high:,} tokens)")
    return tuple(advice)
