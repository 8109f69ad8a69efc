"""Invariants of the billing rules (docs/openai.md), for every model and detail in the table."""

from decimal import Decimal, localcontext
from fractions import Fraction
from math import ceil, floor

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import costcalc
from costcalc import image_tokens, image_tokens_batch, list_models
from costcalc.schemes import geometry
from costcalc.schemes.patch import PatchRule
from costcalc.schemes.tile import FixedRule, TileRule

MODELS = [
    m for m in list_models() if m.vendor == "openai"
]  # docs/openai.md; other vendors: tests/schemes/test_vendor_invariants.py
PAIRS = [
    (m.name, level)
    for m in MODELS
    for level in m.details  # priceable: tests/catalog/test_unpublished_multipliers.py has the rest
    if dict(m.rules)[m.auto if level == "auto" else level].basis != "unknown"
]
TILE_MODELS = [m.name for m in MODELS if m.scheme == "tile"]

# Mostly everyday sizes, often near the rule's edges, sometimes huge.
edges = st.sampled_from([1, 2, 31, 32, 33, 511, 512, 513, 767, 768, 769, 1535, 1536, 2047, 2048, 2049, 6000, 65535])
sides = st.one_of(st.integers(1, 5000), edges, st.integers(1, 70000), st.integers(1, costcalc.MAX_SIDE))
pairs = st.sampled_from(PAIRS)


def sized(name, detail, w, h):
    """(rule, sizing) for one size, or None when the API would reject it."""
    model = costcalc.get_model(name)
    _, rule = model.rule(detail)
    sizing = rule.size(w, h)
    if isinstance(rule, PatchRule) and sizing.patches > rule.max_patches:
        return rule, None
    return rule, sizing


@given(pairs, sides, sides)
def test_caps_and_budgets_always_hold(pair, w, h):
    rule, s = sized(*pair, w, h)
    if s is None:
        return
    assert 1 <= s.scaled_width <= w and 1 <= s.scaled_height <= h  # never upscale
    if isinstance(rule, FixedRule):
        assert max(s.scaled_width, s.scaled_height) <= rule.fit
        assert s.tokens == rule.tokens
    elif isinstance(rule, TileRule):
        assert max(s.scaled_width, s.scaled_height) <= rule.fit
        assert min(s.scaled_width, s.scaled_height) <= rule.short_side
        # a tile image never needs more tiles than short_side × fit does: 768 × 2048 → 2 × 4 = 8
        assert s.tiles <= ceil(rule.short_side / rule.tile_size) * ceil(rule.fit / rule.tile_size)
        assert s.tokens == rule.base + rule.tile * s.tiles
    else:
        assert max(s.scaled_width, s.scaled_height) <= rule.max_dimension
        if rule.patch_budget is not None:
            assert s.patches <= rule.patch_budget
        assert s.patches == ceil(s.scaled_width / rule.patch_size) * ceil(s.scaled_height / rule.patch_size)
        assert s.tokens == ceil(Fraction(s.patches) * rule.multiplier)
        assert s.patches * rule.multiplier <= s.tokens < s.patches * rule.multiplier + 1


@given(pairs, sides, sides)
def test_w_by_h_costs_the_same_as_h_by_w(pair, w, h):
    name, detail = pair
    results = []
    for a, b in ((w, h), (h, w)):
        try:
            results.append(image_tokens(a, b, model=name, detail=detail))
        except costcalc.ImageRejectedError:
            results.append("rejected")
    assert results[0] == results[1]


@given(st.sampled_from(TILE_MODELS), sides, sides)
def test_low_never_exceeds_high_on_tile_models(name, w, h):
    assert image_tokens(w, h, model=name, detail="low") <= image_tokens(w, h, model=name, detail="high")


@given(pairs, st.lists(st.tuples(sides, sides), min_size=1, max_size=40))
def test_batch_equals_scalar(pair, sizes):
    name, detail = pair
    widths = np.array([w for w, _ in sizes], dtype=np.int64)
    heights = np.array([h for _, h in sizes], dtype=np.int64)
    expected = []
    for w, h in sizes:
        try:
            expected.append(image_tokens(w, h, model=name, detail=detail))
        except costcalc.ImageRejectedError:
            expected.append(None)
    if None in expected:
        with pytest.raises(costcalc.ImageRejectedError, match=f"index {expected.index(None)}"):
            image_tokens_batch(widths, heights, model=name, detail=detail)
    else:
        assert image_tokens_batch(widths, heights, model=name, detail=detail).tolist() == expected


def test_batch_equals_scalar_on_many_random_sizes():
    rng = np.random.default_rng(20261122)
    widths = np.concatenate([rng.integers(1, 9000, 3000), rng.integers(1, 70000, 500)])
    heights = np.concatenate([rng.integers(1, 9000, 3000), rng.integers(1, 70000, 500)])
    for name, detail in PAIRS:
        _, rule = costcalc.get_model(name).rule(detail)
        keep = [i for i in range(len(widths)) if sized(name, detail, int(widths[i]), int(heights[i]))[1] is not None]
        got = image_tokens_batch(widths[keep], heights[keep], model=name, detail=detail)
        want = [image_tokens(int(widths[i]), int(heights[i]), model=name, detail=detail) for i in keep]
        assert got.tolist() == want, (name, detail)


def spec_budget_recipe(w, h, patch, budget):
    """docs/openai.md step 3 transcribed literally, at 60 significant digits.

    Exact results are integers (a side landing on whole patches) or rationals with
    denominators under 2**32, so adding 1e-30 before each floor only undoes the
    decimal rounding at exact integers, never moves a true value across one.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        tiny = Decimal("1e-30")
        W, H, P = Decimal(w), Decimal(h), Decimal(patch)
        shrink = (P * P * budget / (W * H)).sqrt()
        a, b = W * shrink / P, H * shrink / P
        adjusted = shrink * min(floor(a + tiny) / a, floor(b + tiny) / b)
        return floor(W * adjusted + tiny), floor(H * adjusted + tiny)


@given(st.integers(1, 70000), st.integers(1, 70000), st.sampled_from([1536, 2500, 6144, 10000, 7, 1]))
def test_integer_budget_fit_matches_the_spec_recipe(w, h, budget):
    assume(ceil(w / 32) * ceil(h / 32) > budget)
    want = tuple(max(1, side) for side in spec_budget_recipe(w, h, 32, budget))
    assert geometry.fit_patch_budget(w, h, 32, budget) == want


def test_the_budget_recipe_matches_seed_003():
    assert spec_budget_recipe(1800, 2400, 32, 1536) == (1056, 1408)


@given(st.lists(st.one_of(st.integers(0, 2**56), st.integers(1, 2**28).map(lambda k: k * k - 1)), min_size=1))
def test_batch_isqrt_is_exact_over_its_range(values):
    from math import isqrt

    from costcalc.schemes import arrays

    assert arrays.isqrt(np.array(values, dtype=np.int64)).tolist() == [isqrt(v) for v in values]


near_squares = st.tuples(st.integers(1, 2**20), st.integers(1, 2**12), st.integers(-2, 2)).map(
    lambda t: (t[0] * t[0] * t[1] + t[2], t[1])
)


@given(st.lists(st.one_of(near_squares, st.tuples(st.integers(0, 2**56), st.integers(1, 2**24))), min_size=1))
def test_floor_sqrt_ratio_is_exact(pairs):
    from math import isqrt

    from costcalc.schemes import arrays

    pairs = [(max(0, n), d) for n, d in pairs]
    num = np.array([n for n, _ in pairs], dtype=np.int64)
    den = np.array([d for _, d in pairs], dtype=np.int64)
    assert arrays.floor_sqrt_ratio(num, den).tolist() == [isqrt(n // d) for n, d in pairs]


@given(pairs, st.lists(st.tuples(sides, sides), min_size=1, max_size=40))
def test_batch_scaled_sizes_equal_scalar(pair, sizes):
    from costcalc.schemes import arrays

    name, detail = pair
    _, rule = costcalc.get_model(name).rule(detail)
    w = np.array([a for a, _ in sizes], dtype=np.int64)
    h = np.array([b for _, b in sizes], dtype=np.int64)
    scaled_w, scaled_h, units, tokens = arrays.sizes(rule, w, h)
    for i, (a, b) in enumerate(sizes):
        s = rule.size(a, b)
        assert (scaled_w[i], scaled_h[i], tokens[i]) == (s.scaled_width, s.scaled_height, s.tokens) or (
            s.patches is not None and s.patches > rule.max_patches
        )
        assert units is None or units[i] == (s.tiles if s.tiles is not None else s.patches)


def test_batch_across_chunks_keeps_shape_and_finds_the_rejected_index():
    from costcalc.schemes.arrays import CHUNK

    rng = np.random.default_rng(5)
    n = 2 * CHUNK + 7
    w, h = rng.integers(1, 5001, n), rng.integers(1, 5001, n)  # at most 157² = 24,649 patches
    got = image_tokens_batch(w.reshape(1, n), h.reshape(1, n), model="gpt-5.4", detail="original")
    assert got.shape == (1, n)
    for i in (0, CHUNK - 1, CHUNK, 2 * CHUNK, n - 1):
        assert got[0, i] == image_tokens(int(w[i]), int(h[i]), model="gpt-5.4", detail="original")
    w[CHUNK + 3], h[CHUNK + 3] = 6000, 6000  # 35,344 patches on gpt-6-astra original
    with pytest.raises(costcalc.ImageRejectedError, match=f"index {CHUNK + 3}: 6000×6000 .*35,344 patches"):
        image_tokens_batch(w, h, model="gpt-6-astra", detail="original")


def test_batch_bad_input_is_named():
    with pytest.raises(costcalc.InvalidSizeError, match="index 2 is 0×5"):
        image_tokens_batch([1, 2, 0], [5, 5, 5], model="gpt-4o")
    with pytest.raises(costcalc.InvalidSizeError, match="shape"):
        image_tokens_batch([1, 2], [5], model="gpt-4o")
    with pytest.raises(costcalc.InvalidSizeError, match="whole numbers"):
        image_tokens_batch([1.5], [5], model="gpt-4o")
    assert image_tokens_batch([], [], model="gpt-4o").tolist() == []
    assert image_tokens_batch(np.array([1024], dtype=np.uint16), [1024], model="gpt-4o").tolist() == [765]
