"""Invariants of the other vendors' rules (docs/README.md), each against the the vendor's own text where one exists:
caps and budgets hold, the size seen stays within the vendor's limits, no upscaling where the rule says so,
w × h and h × w cost the same where the rule is symmetric, and the batch path equals the scalar one."""

from math import ceil, floor, sqrt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costcalc
from costcalc import image_tokens, image_tokens_batch, list_models
from costcalc.schemes import arrays
from costcalc.schemes.claude import ClaudeRule
from costcalc.schemes.fixed import FlatRule
from costcalc.schemes.gemini_tiles import GeminiTileRule
from costcalc.schemes.llama4 import Llama4Rule
from costcalc.schemes.mistral import MistralRule
from costcalc.schemes.nearest import NearestRule
from costcalc.schemes.qwen import QwenRule

VENDORS = [m for m in list_models() if m.vendor != "openai"]
PAIRS = sorted({(m.family, level) for m in VENDORS for level, rule in m.rules if rule.basis != "unknown"})
SYMMETRIC = [pair for pair in PAIRS if not isinstance(costcalc.get_model(pair[0]).rule(pair[1])[1], MistralRule)]


def family_of(kind):
    return sorted({m.family for m in VENDORS for _, rule in m.rules if isinstance(rule, kind)})


CLAUDE, MISTRAL, QWEN = family_of(ClaudeRule), family_of(MistralRule), family_of(QwenRule)
edges = st.sampled_from(
    [1, 2, 10, 11, 27, 28, 29, 336, 337, 384, 385, 1024, 1540, 1568, 1569, 2576, 2577, 8000, 8001, 10000, 10001]
)
sides = st.one_of(st.integers(1, 5000), edges, st.integers(1, 12000), st.integers(1, costcalc.MAX_SIDE))
small_sides = st.one_of(st.integers(1, 5000), edges)


def rule_of(name, detail="auto"):
    return costcalc.get_model(name).rule(detail)[1]


def priced(name, detail, w, h):
    try:
        return image_tokens(w, h, model=name, detail=detail, inexact=True)
    except costcalc.ImageRejectedError:
        return "rejected"


# ------------------------------------------------------------------ Claude (docs/anthropic.md)


def spec_claude(W, H, edge, cap):
    """docs/anthropic.md transcribed, the search done as a plain scan down from the long side: (size seen, tokens)."""

    def fits(w, h):
        return ceil(w / 28) * 28 <= edge and ceil(h / 28) * 28 <= edge and ceil(w / 28) * ceil(h / 28) <= cap

    if not fits(W, H):
        long, short = max(W, H), min(W, H)
        aspect = long / short
        L = next(L for L in range(min(long, edge), 0, -1) if fits(L, max(round(L / aspect), 1)))
        S = max(round(L / aspect), 1)
        W, H = (L, S) if W >= H else (S, L)
    return (W, H), ceil(W / 28) * ceil(H / 28)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CLAUDE), small_sides, small_sides)
def test_claude_matches_the_spec_text(name, w, h):
    rule = rule_of(name)
    s = rule.size(w, h)
    assert ((s.scaled_width, s.scaled_height), s.tokens) == spec_claude(w, h, rule.max_edge, rule.max_tokens)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CLAUDE), sides, sides)
def test_claude_caps_hold_and_it_never_upscales(name, w, h):
    rule = rule_of(name)
    s = rule.size(w, h)
    assert s.tokens <= rule.max_tokens and s.tokens == s.patches
    assert ceil(s.scaled_width / 28) * 28 <= rule.max_edge and ceil(s.scaled_height / 28) * 28 <= rule.max_edge
    assert 1 <= s.scaled_width <= w and 1 <= s.scaled_height <= h
    assert rule.size(s.scaled_width, s.scaled_height) == s  # the size seen is kept as it is
    if (s.scaled_width, s.scaled_height) != (w, h):  # resized: one pixel more on the long side would not fit
        long, short = max(w, h), min(w, h)
        bigger = max(s.scaled_width, s.scaled_height) + 1
        other = max(round(bigger / (long / short)), 1)
        assert (
            bigger > long
            or ceil(bigger / 28) * 28 > rule.max_edge
            or ceil(other / 28) * 28 > rule.max_edge
            or (ceil(bigger / 28) * ceil(other / 28) > rule.max_tokens)
        )


# ------------------------------------------------------------------ Mistral (docs/mistral.md)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MISTRAL), sides, sides)
def test_mistral_stays_within_max_size_and_never_upscales(name, w, h):
    rule = rule_of(name)
    s = rule.size(w, h)
    assert 1 <= s.scaled_width <= min(w, rule.max_size) and 1 <= s.scaled_height <= min(h, rule.max_size)
    step = rule.patch_size * rule.merge
    columns, rows = ceil(s.scaled_width / step), ceil(s.scaled_height / step)
    assert s.tokens == columns * rows + rows and s.patches == columns * rows
    most = ceil(rule.max_size / step)
    assert s.tokens <= most * most + most
    assert rule.size(s.scaled_width, s.scaled_height) == s


# ------------------------------------------------------------------ Qwen (docs/qwen.md)


def spec_qwen(w, h, f, max_pixels):
    """docs/qwen.md transcribed: tokens."""
    hh, ww = round(h / f) * f, round(w / f) * f
    if hh * ww > max_pixels:
        b = sqrt(h * w / max_pixels)
        hh, ww = floor(h / b / f) * f, floor(w / b / f) * f
    elif hh * ww < 4 * f * f:
        b = sqrt(4 * f * f / (h * w))
        hh, ww = ceil(h * b / f) * f, ceil(w * b / f) * f
    return hh * ww // (f * f) + 2


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([(n, d) for n in QWEN for d in costcalc.get_model(n).details]),
    sides,
    sides,
    st.one_of(st.none(), st.integers(4096, 2**24)),
)
def test_qwen_matches_the_spec_text_and_stays_within_max_pixels(pair, w, h, max_pixels):
    name, detail = pair
    rule = rule_of(name, detail)
    if max_pixels is not None:
        if max_pixels < 4 * rule.factor**2:
            return
        rule = rule.with_max_pixels(max_pixels)
    s = rule.size(w, h)
    rejected = rule.reject(w, h, s)
    assert (rejected is not None) == (min(w, h) < 11 or max(w, h) > 200 * min(w, h))
    assert s.tokens == spec_qwen(w, h, rule.factor, rule.max_pixels)
    if round(h / rule.factor) * round(w / rule.factor) * rule.factor**2 > rule.max_pixels:
        assert s.patches * rule.factor**2 <= rule.max_pixels  # shrunk: within the pixel budget
    assert s.scaled_width <= w and s.scaled_height <= h
    got = (
        image_tokens_batch([w], [h], model=name, detail=detail, max_pixels=max_pixels, inexact=True)
        if rejected is None
        else None
    )
    assert got is None or got.tolist() == [s.tokens]


# ------------------------------------------------------------------ fixed, Gemini tiles, Nova, Llama 4 (docs/google.md, docs/README.md)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PAIRS), sides, sides)
def test_size_independent_and_table_rules_stay_in_range(pair, w, h):
    name, detail = pair
    rule = rule_of(name, detail)
    s = rule.size(w, h)
    if isinstance(rule, FlatRule):
        assert s.tokens == rule.tokens and s.basis == rule.basis
    elif isinstance(rule, NearestRule):
        assert s.tokens in {tokens for _, _, tokens in rule.entries} and s.basis == "approximate"
    elif isinstance(rule, GeminiTileRule):
        small = w <= rule.small_side and h <= rule.small_side
        assert s.basis == ("exact" if small else "approximate")
        assert s.tokens == (rule.small_tokens if small else rule.tile_tokens * s.tiles)
        # the unit is at least min_unit and at least 2/3 of the short side, and at most max_unit
        unit_floor = max(rule.min_unit, 2 * min(w, h) / 3) if 2 * min(w, h) <= 3 * rule.max_unit else rule.max_unit
        assert small or s.tiles <= ceil(w / unit_floor) * ceil(h / unit_floor) + 1
    elif isinstance(rule, Llama4Rule):
        assert 1 <= s.tiles <= rule.max_tiles
        assert s.tokens == rule.global_tokens + (rule.tile_tokens * s.tiles if s.tiles > 1 else 0)
        assert s.scaled_width <= w and s.scaled_height <= h
    assert s.tokens > 0


def test_llama4_canvases_are_transformers_order():
    from costcalc.schemes.llama4 import llama4_canvases

    # transformers' docstring example (its worked dictionary is for max_num_chunks=4, patch_size=224)
    want = [(224, 896), (448, 448), (224, 224), (896, 224), (224, 672), (672, 224), (224, 448), (448, 224)]
    assert llama4_canvases(224, 4) == tuple(want)
    assert len(llama4_canvases(336, 16)) == sum(len([d for d in range(1, n + 1) if n % d == 0]) for n in range(1, 17))


def test_llama4_best_fit_matches_the_transformers_example():
    from costcalc.schemes import llama4

    # get_best_fit docstring: image (h 200, w 300) among [[224, 672], [672, 224], [224, 448], [448, 224], [224, 224]]
    # → [224, 448]; with max 3 chunks of 224 those are exactly the canvases on offer
    assert llama4.llama4_best_fit(300, 200, 224, 3) == (448, 224)


# ------------------------------------------------------------------ every vendor: symmetry, batch = scalar


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SYMMETRIC), sides, sides)
def test_w_by_h_costs_the_same_as_h_by_w(pair, w, h):
    name, detail = pair
    assert priced(name, detail, w, h) == priced(name, detail, h, w)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PAIRS), st.lists(st.tuples(sides, sides), min_size=1, max_size=30))
def test_batch_equals_scalar(pair, sizes):
    name, detail = pair
    rule = rule_of(name, detail)
    w = np.array([a for a, _ in sizes], dtype=np.int64)
    h = np.array([b for _, b in sizes], dtype=np.int64)
    expected = [priced(name, detail, a, b) for a, b in sizes]
    if "rejected" in expected:
        with pytest.raises(costcalc.ImageRejectedError, match=f"index {expected.index('rejected')}"):
            image_tokens_batch(w, h, model=name, detail=detail, inexact=True)
    else:
        assert image_tokens_batch(w, h, model=name, detail=detail, inexact=True).tolist() == expected
    scaled_w, scaled_h, units, tokens = arrays.sizes(rule, w, h)
    refused = arrays.rejected(rule, w, h)
    for i, (a, b) in enumerate(sizes):
        s = rule.size(a, b)
        assert (scaled_w[i], scaled_h[i], tokens[i]) == (s.scaled_width, s.scaled_height, s.tokens)
        assert units is None or units[i] == (s.tiles if s.tiles is not None else s.patches)
        assert refused[i] == (rule.reject(a, b, s) is not None) == (expected[i] == "rejected")


def test_batch_equals_scalar_on_many_random_sizes():
    rng = np.random.default_rng(20261122)
    w = np.concatenate([rng.integers(11, 9000, 1500), rng.integers(11, 70000, 200)])
    h = np.concatenate([rng.integers(11, 9000, 1500), rng.integers(11, 70000, 200)])
    for name, detail in PAIRS:
        keep = [i for i in range(w.size) if priced(name, detail, int(w[i]), int(h[i])) != "rejected"]
        got = image_tokens_batch(w[keep], h[keep], model=name, detail=detail, inexact=True).tolist()
        assert got == [image_tokens(int(w[i]), int(h[i]), model=name, detail=detail, inexact=True) for i in keep], (
            name,
            detail,
        )
