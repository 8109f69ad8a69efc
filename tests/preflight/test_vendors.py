"""Preflight per vendor (issue 10): the size each vendor's rule works from is what `optimize` writes;
several models share one file that gives each its tokens from the original, or the plan names the model
that prevents the tightest one; --max-tokens holds for every model (docs/openai.md, docs/README.md)."""

import io
import json

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc import image_info as inspect
from costcalc import image_tokens
from costcalc.cli import cli
from costcalc.errors import ImageRejectedError, PlanError
from costcalc.preflight.planning import SEEN_SLACK, MultiPlan, Plan, aspect_size, plan, plan_many
from costcalc.preflight.tree import OptimizeRow, OptimizeTotals
from costcalc.pricing.cost import price_size

quick = settings(max_examples=150, deadline=None)


def priced(model, w, h, detail="auto"):
    """Tokens and size seen of w × h, or None where the API rejects it."""
    try:
        e = price_size(w, h, model=model, detail=detail)
    except ImageRejectedError:
        return None
    return e.tokens, (e.scaled_width, e.scaled_height)


def photo(size, fmt="JPEG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 140, 200)).save(buffer, fmt)
    return buffer.getvalue()


# ---------------------------------------------------------------- one model: the size each vendor works from

# (model, detail, source, size written, tokens): every figure from SPEC's worked examples, none from the code.
WORKED = [
    ("claude-sonnet-4-5", "auto", (1920, 1080), (1456, 819), 1560),  # §6a, Anthropic's table
    ("claude-sonnet-4-5", "auto", (3840, 2160), (1456, 819), 1560),
    ("claude-sonnet-4-5", "auto", (1075, 1520), (924, 1307), 1551),
    ("claude-sonnet-4-5", "auto", (2000, 1500), (1270, 952), 1564),  # the code's 1270, not the table's 1269
    ("claude-opus-4-7", "auto", (1920, 1080), (1920, 1080), 2691),  # fits the high-resolution tier as it is
    ("claude-opus-4-7", "auto", (3840, 2160), (2576, 1449), 4784),
    ("mistral-small-3.2", "auto", (1920, 1080), (1540, 866), 1736),  # §6c: before the grid (not 1540 × 868)
    ("mistral-small-3.2", "auto", (1540, 1540), (1540, 1540), 3080),
    ("pixtral-12b", "auto", (1024, 1024), (1024, 1024), 4160),
    ("qwen3-vl-plus", "auto", (1920, 1080), (1920, 1080), 2042),  # §6d: 1920 × 1088 capped at the image's own
    ("qwen3-vl-plus", "auto", (3840, 2160), (2144, 1184), 2481),  # b = sqrt(3840·2160 / 2621440): 67 × 37 + 2
    ("qwen3-vl-plus", "high", (3840, 2160), (3840, 2160), 8162),  # 120 × 68 (2176 capped at 2160) + 2
    ("gpt-4o", "high", (2560, 1669), (1178, 768), 1105),  # §1a
    ("gpt-4o", "high", (4000, 3000), (1024, 768), 765),
    ("gpt-6-astra", "high", (2048, 2048), (1600, 1600), 3000),  # §1b
    ("gpt-4.1-mini-2025-04-14", "high", (1800, 2400), (1056, 1408), 2353),  # §1b, budget 1536 × 1.62
]


@pytest.mark.parametrize(
    "model, detail, source, written, tokens", WORKED, ids=[f"{m}-{s[0]}x{s[1]}-{d}" for m, d, s, *_ in WORKED]
)
def test_one_model_plans_the_size_it_works_from(model, detail, source, written, tokens):
    p = plan(*source, model=model, detail=detail)
    assert isinstance(p, Plan) and (p.target_width, p.target_height) == written
    assert p.tokens_before == p.tokens_after == tokens and p.note is None


def test_claude_file_is_written_at_1456_by_819(tmp_path):
    (tmp_path / "screen.png").write_bytes(photo((1920, 1080), "PNG"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["optimize", str(tmp_path / "screen.png"), "-o", str(out), "-m", "claude-sonnet-4-5", "--json"]
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["rows"][0]
    assert Image.open(out / "screen.png").size == (1456, 819)
    assert (row["tokens_before"], row["tokens_after"]) == (1560, 1560)  # a single model: plain numbers


NO_RESIZE = ["gemini-3-pro-preview", "gemini-2.5-flash", "gemini-2.0-flash", "nova-2-lite", "nova-pro", "llama-4-scout"]


@pytest.mark.parametrize("model", NO_RESIZE)
def test_rules_without_a_published_resize_keep_the_original_and_say_so(model):
    p = plan(4000, 3000, model=model)
    assert (p.target_width, p.target_height) == (4000, 3000) and not p.resize
    assert "publishes no resize" in p.note and "original size is kept" in p.note and model in p.note


# One detail level per exact scheme (and each variant of it): the size seen is a fixed point of the rule.
EXACT = [
    ("gpt-4o", "high"),
    ("gpt-4o", "low"),
    ("gpt-image-1", "high"),  # tile, fixed
    ("gpt-5.4", "high"),
    ("gpt-5.4", "low"),
    ("gpt-6-astra", "original"),
    ("gpt-4.1-mini-2025-04-14", "high"),  # patch
    ("claude-sonnet-4-5", "auto"),
    ("claude-opus-4-7", "auto"),  # Claude standard and high resolution
    ("pixtral-12b", "auto"),
    ("mistral-small-3.2", "auto"),  # Mistral 16 × 1 and 14 × 2
    ("qwen3-vl-plus", "auto"),
    ("qwen3-vl-plus", "high"),
    ("qvq-max", "auto"),  # Qwen f = 32, 32 high, 28
]
sides = st.one_of(
    st.integers(1, 4000), st.integers(4000, 12000), st.sampled_from([28, 29, 32, 33, 768, 1540, 1568, 2048])
)


@pytest.mark.parametrize("model, detail", EXACT)
@quick
@given(w=sides, h=sides)
def test_size_seen_is_a_resize_target_and_idempotent(model, detail, w, h):
    before = priced(model, w, h, detail)
    assume(before is not None)
    p = plan(w, h, model=model, detail=detail)
    target = (p.target_width, p.target_height)
    assert target[0] <= w and target[1] <= h  # never upscale
    again = priced(model, *target, detail)
    assert again == (before[0], target)  # the same tokens, and the model works from the written size as it is


# ---------------------------------------------------------------- several models, one file


def test_three_vendors_share_one_file_at_the_same_tokens():
    # SPEC by hand, 4000 × 3000:  gpt-4o §1a: 2048 × 1536 → 1024 × 768, 2 × 2 tiles: 85 + 4 · 170 = 765.
    # Claude standard §6a: aspect 4/3, largest long side whose short side fits: 1270 × 952, 46 × 34 = 1564.
    # Mistral small §6c: ratio 4000 / 1540: 1540 × 1155, ceil(1540/28) = 55 columns, ceil(1155/28) = 42 rows:
    # 55 · 42 + 42 = 2352. The largest size seen is Mistral's; from it gpt-4o sees 1024 × 768 again and
    # Claude 1270 × 952 (1540 / 1155 is 4/3 as a float too).
    expected = {"gpt-4o": 765, "claude-sonnet-4-5": 1564, "mistral-small-3.2": 2352}
    result = costcalc.optimize(photo((4000, 3000)), model=list(expected))
    assert isinstance(result.plan, MultiPlan) and result.plan.chosen_by == "mistral-small-3.2"
    written = inspect(result.data)
    assert (written.width, written.height) == (result.width, result.height) == (1540, 1155)
    for model, tokens in expected.items():
        assert image_tokens(written.width, written.height, model=model) == tokens
        assert image_tokens(4000, 3000, model=model) == tokens
    assert result.tokens_before == result.tokens_after == expected
    seen = {m.model: (m.seen_before, m.seen_after) for m in result.plan.models}
    assert seen["claude-sonnet-4-5"] == ((1270, 952), (1270, 952)) and seen["gpt-4o"][1] == (1024, 768)


def test_the_model_that_prevents_the_largest_size_is_named():
    # 3071 × 2304. qwen3-vl-plus (§6d): 96 · 32 × 72 · 32 is over 2,621,440 px, b = sqrt(3071 · 2304 / 2621440),
    # floor(58.4) = 58, floor(43.8) = 43: it works from 1856 × 1376, 58 · 43 + 2 = 2496 tokens.
    # gpt-4o (§1a) on the original: 2048 × 1537 → 1023 × 768, 4 tiles, 765; on Qwen's 1856 × 1376 the
    # stretched aspect gives 1035 × 768, 3 × 2 tiles: 85 + 6 · 170 = 1105. So Qwen's size cannot be the file.
    p = plan(3071, 2304, model=["gpt-4o", "qwen3-vl-plus"])
    assert p.chosen_by is None
    assert "at 1856×1376 (what qwen3-vl-plus works from) gpt-4o costs 1,105 tokens instead of 765" in p.note
    # ... and the file written still gives both their tokens: the smallest aspect-kept copy that does
    assert p.resize and p.target_width >= 1856
    assert image_tokens(p.target_width, p.target_height, model="gpt-4o") == 765
    assert image_tokens(p.target_width, p.target_height, model="qwen3-vl-plus") == 2496
    assert p.tokens_after == p.tokens_before == {"gpt-4o": 765, "qwen3-vl-plus": 2496}


def test_a_patch_budget_that_is_not_monotone_is_named():
    p = plan(4928, 2773, model=["claude-opus-4-7", "gpt-4o", "gpt-5.4"])
    assert "(what claude-opus-4-7 works from) gpt-5.4 costs" in p.note
    for m in p.models:
        assert image_tokens(p.target_width, p.target_height, model=m.model) == image_tokens(4928, 2773, model=m.model)


def test_a_size_free_model_does_not_block_the_others():
    # Gemini 3 publishes a maximum every size meets, Nova 2 a flat count: the size is gpt-4o's (issue 20)
    p = plan(4000, 3000, model=["gpt-4o", "gemini-3-pro-preview", "nova-2-lite"])
    assert (p.target_width, p.target_height) == (1024, 768)
    assert p.any_size == ("gemini-3-pro-preview", "nova-2-lite") and p.note is None  # said once, by the summary
    assert p.tokens_before == p.tokens_after == {"gpt-4o": 765, "gemini-3-pro-preview": 1120, "nova-2-lite": 230}
    alone = plan(4000, 3000, model=["gemini-3-pro-preview", "nova-2-lite"])  # nothing to plan for: kept
    assert (alone.target_width, alone.target_height) == (4000, 3000) and alone.any_size == ()


def test_one_distinct_model_is_a_plain_plan():
    assert plan(4000, 3000, model=["gpt-4o", "gpt-4o"]) == plan(4000, 3000, model="gpt-4o")
    assert isinstance(plan_many(100, 100, models=["claude-sonnet-4-5", "anthropic/claude-sonnet-4-5"]), Plan)
    with pytest.raises(PlanError, match="at least one"):
        plan_many(100, 100, models=[])


def test_a_model_rejecting_the_source_is_an_error_without_fit_limits():
    with pytest.raises(ImageRejectedError, match="claude-sonnet-4-5"):
        plan(9000, 3000, model=["gpt-4o", "claude-sonnet-4-5"], fit_limits=False)  # over Claude's 8000 px
    p = plan(9000, 3000, model=["gpt-4o", "claude-sonnet-4-5"], max_tokens=2000)
    assert p.tokens_before["claude-sonnet-4-5"] is None and max(p.tokens_after.values()) <= 2000


MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-5.4",
    "gpt-5-mini",
    "gpt-6-astra",
    "claude-sonnet-4-5",
    "claude-opus-4-7",
    "mistral-small-3.2",
    "pixtral-12b",
    "qwen3-vl-plus",
    "qvq-max",
    "gemini-3-pro-preview",
    "nova-pro",
    "llama-4-scout",
]
photo_sides = st.integers(16, 6000)


@quick
@given(models=st.lists(st.sampled_from(MODELS), min_size=2, max_size=4, unique=True), w=photo_sides, h=photo_sides)
def test_several_models_each_see_what_they_would_from_the_original(models, w, h):
    before = {m: priced(m, w, h) for m in models}
    assume(all(before.values()))
    p = plan(w, h, model=models)
    target = (p.target_width, p.target_height)
    assert target[0] <= w and target[1] <= h
    for m in models:
        tokens, seen = priced(m, *target)
        assert tokens == before[m][0] == p.tokens_before[m] == p.tokens_after[m]
        if m in getattr(p, "any_size", ()):  # its bill does not depend on the size: planned around (issue 20)
            continue
        assert max(abs(a - b) for a, b in zip(seen, before[m][1])) <= SEEN_SLACK
    if p.chosen_by is not None:  # the largest size some model works from
        assert target == before[p.chosen_by][1]
    else:  # the note names the model that prevents it, with both token counts or both sizes
        assert p.note and any(f") {m} " in p.note for m in models)


# ---------------------------------------------------------------- a budget for several models


@quick
@given(
    models=st.lists(st.sampled_from(MODELS[:10]), min_size=2, max_size=3, unique=True),
    w=photo_sides,
    h=photo_sides,
    budget=st.integers(0, 5000),
)
def test_a_budget_keeps_every_model_within_it(models, w, h, budget):
    try:
        p = plan(w, h, model=models, max_tokens=budget)
    except PlanError:
        # truly no aspect-kept size keeps all within: not the smallest, not the original
        for long_side in {1, max(w, h)}:
            size = aspect_size(w, h, long_side)
            costs = [priced(m, *size) for m in models]
            assert any(c is None or c[0] > budget for c in costs)
        return
    bw, bh = p.budget_width, p.budget_height
    assert bw <= w and bh <= h and p.target_width <= bw and p.target_height <= bh
    for m in models:
        at_budget, at_target = priced(m, bw, bh), priced(m, p.target_width, p.target_height)
        assert at_budget[0] <= budget and at_target[0] == at_budget[0] == p.tokens_after[m]
    if max(bw, bh) < max(w, h):  # one pixel more on the long side breaks some model's budget
        bigger = aspect_size(w, h, max(bw, bh) + 1)
        assert any(c is None or c[0] > budget for c in (priced(m, *bigger) for m in models))


def test_budget_example_three_vendors():
    # 4000 × 3000 within 900: at 933 × 700 Mistral pays ceil(933/28) · ceil(700/28) + 25 = 34 · 25 + 25 = 875;
    # at 934 × 701 it would pay 34 · 26 + 26 = 910. gpt-4o: 2 × 2 tiles, 765; Claude 34 · 25 = 850.
    p = plan(4000, 3000, model=["gpt-4o", "claude-sonnet-4-5", "mistral-small-3.2"], max_tokens=900)
    assert (p.budget_width, p.budget_height) == (933, 700) == (p.target_width, p.target_height)
    assert p.tokens_after == {"gpt-4o": 765, "claude-sonnet-4-5": 850, "mistral-small-3.2": 875}
    with pytest.raises(PlanError, match="gemini-3-pro-preview .*cheapest costs 1,120"):
        plan(4000, 3000, model=["gpt-4o", "gemini-3-pro-preview"], max_tokens=1000)  # a maximum of 1,120


# ---------------------------------------------------------------- unknown multiplier (issue 11 §1)

UNKNOWN_TABLE = """
[[model]]
names = ["mystery-vision"]
scheme = "patch"
multiplier = "unknown"
auto = "high"
low = "unknown"
high = { max_dimension = 2048 }
note = "the vendor publishes no multiplier"
"""


def test_unknown_tokens_still_plan_the_size_seen(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(UNKNOWN_TABLE)
    tables = costcalc.load_tables(path)
    p = plan(4000, 3000, model="mystery-vision", tables=tables)
    assert (p.target_width, p.target_height) == (2048, 1536) and p.tokens_after is None
    assert "probe" in p.note
    with pytest.raises(PlanError, match="mystery-vision"):
        plan(4000, 3000, model="mystery-vision", max_tokens=1000, tables=tables)
    both = plan(4000, 3000, model=["mystery-vision", "gpt-4o"], tables=tables)
    assert (both.target_width, both.target_height) == (2048, 1536)  # the patches: 64 × 48 either way
    assert both.tokens_after == {"mystery-vision": None, "gpt-4o": 765}


# ---------------------------------------------------------------- rows, totals, command line


def test_totals_sum_by_model_and_say_unknown():
    totals = OptimizeTotals()
    for after in ({"a": 10, "b": 20}, {"a": 5, "b": None}):
        totals.add(OptimizeRow("p", "o", "written", 1, 1, 1, 1, 100, 50, dict(after), after))
    assert totals.tokens_after == {"a": 15, "b": None} and totals.tokens_before == {"a": 15, "b": None}
    single = OptimizeTotals()
    single.add(OptimizeRow("p", "o", "written", 1, 1, 1, 1, 100, 50, None, 255))  # rejected before
    single.add(OptimizeRow("p", "o", "written", 1, 1, 1, 1, 100, 50, 765, 765))
    assert (single.tokens_before, single.tokens_after, single.unknown_tokens_before) == (765, 1020, 1)


def test_cli_several_models_one_file_each(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(photo((4000, 3000)))
    out = tmp_path / "out"
    args = [
        "optimize",
        str(tmp_path / "photo.jpg"),
        "-o",
        str(out),
        "-m",
        "gpt-4o",
        "-m",
        "claude-sonnet-4-5",
        "-m",
        "mistral-small-3.2",
    ]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    row = document["rows"][0]
    expected = {"gpt-4o": 765, "claude-sonnet-4-5": 1564, "mistral-small-3.2": 2352}
    assert row["tokens_before"] == row["tokens_after"] == expected == document["totals"]["tokens_after"]
    assert Image.open(out / "photo.jpg").size == (1540, 1155)
    table = CliRunner().invoke(cli, [*args, "--force"])
    assert "gpt-4o 765 → 765, claude-sonnet-4-5 1,564 → 1,564, mistral-small-3.2 2,352 → 2,352 tokens" in table.output
    assert "       mistral-small-3.2  2,352 → 2,352" in table.output
    bad = CliRunner().invoke(cli, [*args[:-2], "-m", "no-such-model"])
    assert bad.exit_code == 2 and "--model no-such-model" in bad.output


def test_cli_budget_for_several_models(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(photo((4000, 3000)))
    result = CliRunner().invoke(
        cli,
        [
            "optimize",
            str(tmp_path / "photo.jpg"),
            "-o",
            str(tmp_path / "out"),
            "-m",
            "gpt-4o",
            "-m",
            "mistral-small-3.2",
            "--max-tokens",
            "900",
            "--nl",
        ],
    )
    row = json.loads(result.stdout.splitlines()[0])
    assert result.exit_code == 0 and all(t <= 900 for t in row["tokens_after"].values())
    assert Image.open(tmp_path / "out" / "photo.jpg").size == (row["target_width"], row["target_height"])


# ---------------------------------------------------------------- Qwen: a thin image just under max_pixels

QWEN_RULES = [(m, d) for m in ("qwen3-vl-plus", "qvq-max") for d in costcalc.get_model(m).details]


@quick
@given(st.sampled_from(QWEN_RULES), st.integers(11, 400), st.floats(0.8, 1.05), st.booleans())
def test_qwen_thin_images_near_max_pixels_are_planned_as_they_are_priced(pair, short, share, wide):
    # 98 × 8975 on qvq-max: rounded to 112 × 8988 (over 1,003,520 px), the shrink (b < 1) grows the long side
    # to 9576 and cuts the short one to 84: capped at the image, 84 × 8975 would be resized to 84 × 8988.
    import numpy as np

    from costcalc.schemes import arrays

    model, detail = pair
    rule = costcalc.get_model(model).rule(detail)[1]
    long = max(short, int(rule.max_pixels * share / short))
    w, h = (long, short) if wide else (short, long)
    sizing = rule.size(w, h)
    bw, bh, _, tokens = arrays.sizes(rule, np.array([w]), np.array([h]))
    assert (int(bw[0]), int(bh[0]), int(tokens[0])) == (sizing.scaled_width, sizing.scaled_height, sizing.tokens)
    if rule.reject(w, h, sizing) is None:
        again = rule.size(sizing.scaled_width, sizing.scaled_height)
        assert (again.scaled_width, again.scaled_height, again.tokens) == (
            sizing.scaled_width,
            sizing.scaled_height,
            sizing.tokens,
        )


def test_qwen_thin_example():
    p = plan(98, 8975, model="qvq-max")
    assert (p.target_width, p.target_height) == (98, 8975) and p.tokens_after == 3 * 342 + 2  # 84 × 9576 / 28²
