"""Resize plans (docs/README.md): same tokens exactly, budgets held and maximal, never upscale."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import costcalc
from costcalc import image_tokens, list_models
from costcalc.errors import PlanError
from costcalc.preflight.planning import aspect_size, plan

PAIRS = [(m.name, level) for m in list_models() for level, rule in m.rules if rule.basis != "unknown"]  # priceable
# a budget is searched by size only where every size is priced surely (approximate rules refuse it: test_optimize_edges)
BUDGET_PAIRS = [
    (m.name, level) for m in list_models() for level, rule in m.rules if rule.basis not in ("unknown", "approximate")
]
sides = st.one_of(st.integers(1, 3000), st.sampled_from([512, 513, 768, 769, 2048, 2049, 4096]), st.integers(1, 9000))


def priced(name, detail, w, h):
    try:
        return image_tokens(w, h, model=name, detail=detail, inexact=True)
    except costcalc.ImageRejectedError:
        return None


@given(st.sampled_from(PAIRS), sides, sides)
def test_same_tokens_plan_reprices_to_the_original(pair, w, h):
    name, detail = pair
    assume(priced(name, detail, w, h) is not None)
    p = plan(w, h, model=name, detail=detail)
    assert p.target_width <= w and p.target_height <= h  # never upscale
    assert priced(name, detail, p.target_width, p.target_height) == p.tokens_before == p.tokens_after


@given(st.sampled_from(BUDGET_PAIRS), sides, sides, st.integers(0, 6000))
def test_budget_plans_hold_the_budget_and_are_maximal(pair, w, h, budget):
    name, detail = pair
    try:
        p = plan(w, h, model=name, detail=detail, max_tokens=budget)
    except PlanError:
        # then truly no size fits: not the smallest, and not the source
        assert all((priced(name, detail, *aspect_size(w, h, s)) or budget + 1) > budget for s in {1, max(w, h)})
        return
    bw, bh = p.budget_width, p.budget_height
    assert p.tokens_after <= budget and priced(name, detail, bw, bh) <= budget
    assert priced(name, detail, p.target_width, p.target_height) == p.tokens_after
    assert bw <= w and bh <= h and p.target_width <= bw and p.target_height <= bh  # never upscale
    long_side, source_long = max(bw, bh), max(w, h)
    short_exact = min(w, h) * long_side / source_long
    assert abs(min(bw, bh) - short_exact) <= 1  # aspect ratio within one pixel
    if long_side < source_long:  # one pixel more on the long side would break the budget
        bigger = priced(name, detail, *aspect_size(w, h, long_side + 1))
        assert bigger is None or bigger > budget


def test_budget_examples():
    p = plan(4000, 3000, model="gpt-4o", detail="high", max_tokens=500)
    assert p.tokens_after <= 500 and p.tokens_before == 765
    assert (p.budget_width, p.budget_height) == (683, 512)  # 2 × 1 tiles, 425; at 684 the short side is 513: 765
    small = plan(4000, 3000, model="gpt-4o", detail="high", max_tokens=10_000)
    assert (small.target_width, small.target_height) == (1024, 768)  # what the model sees, not the original


def test_no_size_meets_the_budget_plainly():
    with pytest.raises(PlanError, match="cheapest costs 85"):
        plan(1000, 1000, model="gpt-4o", detail="low", max_tokens=84)
    with pytest.raises(PlanError, match="cheapest costs 255"):
        plan(1000, 1000, model="gpt-4o", detail="high", max_tokens=200)


def test_rejected_source_with_and_without_budget():
    with pytest.raises(costcalc.ImageRejectedError):
        plan(6000, 6000, model="gpt-6-astra", detail="original", fit_limits=False)
    fitted = plan(6000, 6000, model="gpt-6-astra", detail="original")  # shrunk into the limits by default
    assert fitted.tokens_before is None and fitted.limited_by == "max_patches" and "max_patches" in fitted.note
    assert fitted.target_width == fitted.target_height < 6000
    p = plan(6000, 6000, model="gpt-6-astra", detail="original", max_tokens=36000)
    assert p.tokens_before is None and p.tokens_after <= 36000 and p.target_width == p.target_height


def test_orientation_swaps_to_upright():
    p = plan(4000, 3000, model="gpt-4o", orientation=6)
    assert (p.width, p.height, p.target_width, p.target_height) == (3000, 4000, 768, 1024)


def test_detail_advice():
    assert any("detail low would cost 85" in a for a in plan(4000, 3000, model="gpt-4o").advice)
    assert any("low costs more than high" in a for a in plan(2048, 2048, model="gpt-5.4").advice)
    assert plan(100, 100, model="gpt-4o", detail="low").advice == ()
