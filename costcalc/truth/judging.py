"""Judging one model from its reconciled requests: the image tokens the bills imply, and whether they agree.

The methods (reported, text counted, fit, bound) and the verdict are described in costcalc.truth.reconcile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .exchanges import Skip
from .fitting import framing_can_agree, line_of

__all__ = ["ModelReconciliation", "Reconciliation", "BASIS_ORDER", "Seen", "Gathered", "judge"]


@dataclass(frozen=True)
class ModelReconciliation:
    """One model's verdict: its requests, predicted and billed image tokens, their ratio, and how they were found."""

    model: str
    requests: int
    images: int
    predicted_image_tokens: int
    billed_image_tokens: int | None
    ratio: float | None
    agrees: bool | None
    """True within tolerance, False outside it, None when the bills cannot be separated or nothing was reconciled."""
    method: str | None
    """How billed image tokens were found: reported, text counted, fit, bound (joined by '+' when several)."""
    framing_per_request: float | None = None
    """Tokens per request fitted as text and framing (method fit), or left by the text count."""
    basis: str | None = None
    """How sure the rule is: exact, maximum, approximate, flat (the least sure of its images)."""
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    upper_bound: bool = False
    """True when billed_image_tokens is the whole prompts: at most that many were image tokens."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the five keys issue 11 names first, then the rest."""
        return {
            "requests": self.requests,
            "predicted_image_tokens": self.predicted_image_tokens,
            "billed_image_tokens": self.billed_image_tokens,
            "ratio": self.ratio,
            "agrees": self.agrees,
            "images": self.images,
            "method": self.method,
            "framing_per_request": self.framing_per_request,
            "basis": self.basis,
            "skipped": self.skipped,
            "skip_reasons": dict(self.skip_reasons),
            "note": self.note,
            "upper_bound": self.upper_bound,
        }


@dataclass(frozen=True)
class Reconciliation:
    """Every model's verdict, and the lines skipped (also those of no model)."""

    models: dict[str, ModelReconciliation]
    skipped: tuple[Skip, ...] = ()

    @property
    def agrees(self) -> bool | None:
        """False when a model disagrees; else None when one cannot be judged (or there is none); else True."""
        verdicts = [model.agrees for model in self.models.values()]
        if False in verdicts:
            return False
        if None in verdicts or not verdicts:
            return None
        return True

    def as_dict(self) -> dict[str, Any]:
        """`{"models": {name: {...}}}`, the JSON issue 11 asks for."""
        return {"models": {name: report.as_dict() for name, report in self.models.items()}}


@dataclass(frozen=True)
class Seen:
    """One reconciled request: its prediction and the tokens of the bill not yet explained."""

    predicted: int
    images: int
    billed: float
    """Image tokens (method reported), or the bill less what is known not to be image (text counted, fit)."""
    method: str
    shape: str


@dataclass
class Gathered:
    """What is gathered for one model while reading."""

    seen: list[Seen] = field(default_factory=list)
    bases: set[str] = field(default_factory=set)
    skips: list[Skip] = field(default_factory=list)


BASIS_ORDER = ("exact", "flat", "approximate", "maximum")
"""From surest to least sure; a model's basis is its least sure image's."""


@dataclass
class _Found:
    """What the bills of one model imply, group by group: image tokens billed, framing, and what stays unknown."""

    billed: float
    methods: set[str]
    framing: list[tuple[float, int]] = field(default_factory=list)
    unseparated: list[str] = field(default_factory=list)
    """Groups whose text and images cannot be told apart."""
    misshapen: list[str] = field(default_factory=list)
    """Groups that no framing reconciles with the rule."""
    errors: list[float] = field(default_factory=list)
    """How far the image tokens found by fitting may surely be off."""


def judge(name: str, gathered: Gathered, tolerance: float) -> ModelReconciliation:
    """One model's verdict from its requests (costcalc.truth.reconcile's docstring: methods and verdict)."""
    seen = gathered.seen
    basis, common = _basis_and_skips(gathered)
    if not seen:
        return ModelReconciliation(
            name, 0, 0, 0, None, None, None, None, note="no request could be reconciled", **common
        )
    predicted = sum(s.predicted for s in seen)
    images = sum(s.images for s in seen)
    found = _found(seen, tolerance, basis)
    framing = found.framing
    per_request = round(sum(o * n for o, n in framing) / sum(n for _, n in framing), 1) if framing else None
    method = "+".join(m for m in ("reported", "text counted", "fit", "bound") if m in found.methods)
    notes = _rule_notes(basis) + found.misshapen + found.unseparated
    billed = found.billed
    head = (name, len(seen), images)
    if predicted == 0:
        notes.append("the requests hold no image")
        return ModelReconciliation(
            *head, 0, round(billed), None, None, method, per_request, note="; ".join(notes), **common
        )
    over = billed - predicted  # within one token per image always agrees: OpenAI's rounding
    if found.misshapen or found.unseparated:  # `billed` holds at most this many image tokens: only "too low" tells
        short = -over >= tolerance * predicted and -over > images and basis != "maximum"
        if short:
            notes.append(f"even the whole prompts ({round(billed):,} tokens) fall short of the prediction")
        return ModelReconciliation(
            *head,
            predicted,
            round(billed) if short else None,
            round(billed / predicted, 4) if short else None,
            False if short or found.misshapen else None,
            method,
            per_request,
            note="; ".join(notes),
            upper_bound=short,
            **common,
        )
    agrees, margin = _agrees(over, math.hypot(*found.errors, 0.0), predicted, images, tolerance, basis == "maximum")
    if agrees is None:
        notes.append(
            f"the bills' text scatters too much to tell which side of {tolerance:.0%} they are "
            f"(±{margin / predicted:.1%}): more requests will tell"
        )
    return ModelReconciliation(
        *head,
        predicted,
        round(billed),
        round(billed / predicted, 4),
        agrees,
        method,
        per_request,
        note="; ".join(notes) or None,
        **common,
    )


def _basis_and_skips(gathered: Gathered) -> tuple[str | None, dict]:
    """The model's basis (its least sure image's), and the verdict's fields every answer carries: the basis,
    the requests skipped and how many for each reason."""
    reasons: dict[str, int] = {}
    for entry in gathered.skips:
        reasons[entry.reason] = reasons.get(entry.reason, 0) + 1
    known = gathered.bases & set(BASIS_ORDER)
    basis = max(known, key=BASIS_ORDER.index) if known else None
    return basis, dict(basis=basis, skipped=len(gathered.skips), skip_reasons=reasons)


def _rule_notes(basis: str | None) -> list[str]:
    """What a rule's basis says about reading its verdict."""
    return {
        "maximum": ["the rule is a ceiling (its basis is maximum): bills at or below it agree"],
        "approximate": ["the rule is approximate"],
    }.get(basis, [])


def _agrees(
    over: float, margin: float, predicted: int, images: int, tolerance: float, ceiling: bool
) -> tuple[bool | None, float]:
    """(the verdict on bills `over` tokens above the prediction, give or take `margin`; the margin). A ceiling's
    bills may fall below it."""

    def beyond(excess: float) -> bool:  # `excess` tokens more than predicted break the tolerance
        return excess >= tolerance * predicted and excess > images

    surely = beyond(over - margin) or not ceiling and beyond(-over - margin)
    maybe = beyond(over + margin) or not ceiling and beyond(-over + margin)
    return (False if surely else None if maybe else True), margin


def _found(seen: list[Seen], tolerance: float, basis: str | None) -> _Found:
    """The image tokens the bills imply, group by group (reported as they are; the others by their fitted line)."""
    found = _Found(
        sum(s.billed for s in seen if s.method == "reported"),
        {"reported"} if any(s.method == "reported" for s in seen) else set(),
    )
    for (method, shape), group in _groups(seen):
        points = [(float(s.predicted), s.billed) for s in group]
        line = line_of(points, tolerance)
        if method == "text counted":  # the text is known: a fitted residual framing, else none
            offset = line.intercept if line.trusted else 0.0
        elif line.trusted:  # text and framing per request: never below 0
            offset = max(line.intercept, 0.0)
        else:  # only the whole prompts are known: an upper bound on image tokens
            found.methods.add("bound")
            found.billed += sum(y for _, y in points)
            _bound(found, line, shape, tolerance, basis)
            continue
        found.methods.add(method)
        found.billed += sum(y for _, y in points) - offset * len(points)
        found.framing.append((offset, len(points)))
        found.errors.append(line.sure * line.error if line.trusted else 0.0)  # a counted text is taken as exact
    return found


def _bound(found: _Found, line, shape: str, tolerance: float, basis: str | None) -> None:
    """Why a group's text and image tokens cannot be told apart, or why no framing reconciles it with the rule."""
    if len(line.groups) == 1:
        found.unseparated.append(
            f"every {shape} request predicts {int(line.groups[0][0]):,} image tokens, so the bills' text and "
            f"image tokens cannot be told apart (send images of several sizes, or text-only requests beside them)"
        )
    elif not framing_can_agree(line, tolerance, basis == "maximum"):
        found.misshapen.append(
            f"no framing per request brings every image size's {shape} bills within {tolerance:.0%} of the rule"
        )
    else:
        found.unseparated.append(
            f"the {shape} bills do not grow in step with the predictions (text that varies, or a rule off "
            f"in shape), so their text and image tokens cannot be separated"
        )


def _groups(seen: list[Seen]) -> list[tuple[tuple[str, str], list[Seen]]]:
    """The requests whose bills are totals, by (method, API shape): each gets its own framing."""
    groups: dict[tuple[str, str], list[Seen]] = {}
    for s in seen:
        if s.method != "reported":
            groups.setdefault((s.method, s.shape), []).append(s)
    return sorted(groups.items())
