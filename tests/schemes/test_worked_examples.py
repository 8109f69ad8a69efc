"""Every worked example of docs/openai.md as one table, plus the traps other libraries fall into."""

import pytest

import costcalc
from costcalc import estimate, image_tokens

# (model, width, height, detail, scaled size, tiles, patches, tokens, where it comes from)
EXAMPLES = [
    # docs/openai.md, base 85 / tile 170 (docs/openai.md)
    ("gpt-4o", 1024, 1024, "high", (768, 768), 4, None, 765, "§1a: → 768 × 768, 4 tiles"),
    ("gpt-4o", 2048, 4096, "high", (768, 1536), 6, None, 1105, "§1a: → 1024 × 2048 → 768 × 1536"),
    ("gpt-4o", 4096, 8192, "low", (256, 512), None, None, 85, "§1a: low is fixed"),
    ("gpt-4o", 2560, 1669, "high", (1178, 768), 6, None, 1105, "§1a: → 2048 × 1335 → 1178 × 768"),
    ("gpt-4-vision-preview", 2560, 1669, "high", (1178, 768), 6, None, 1105, "docs/openai.md: boardwalk"),
    ("azure/gpt-4-vision-preview", 1024, 1024, "high", (768, 768), 4, None, 65 + 4 * 129, "docs/openai.md/004: 65/129"),
    ("gpt-image-1", 1024, 1024, "high", (512, 512), 1, None, 65 + 129, "§1a: short side 512"),
    # docs/openai.md, budget 1536 (docs/openai.md) with gpt-4.1-mini 2025-04-14's ×1.62 and gpt-4.1-nano's ×2.46
    ("gpt-4.1-mini-2025-04-14", 1024, 1024, "high", (1024, 1024), None, 1024, 1659, "§1b: 1024 × 1.62"),
    ("gpt-4.1-nano", 1024, 1024, "high", (1024, 1024), None, 1024, 2520, "§1b: ceil(1024 × 2.46)"),
    ("gpt-4.1-mini-2025-04-14", 1800, 2400, "high", (1056, 1408), None, 1452, 2353, "§1b: ceil(2352.24)"),
    ("gpt-4.1-nano", 1800, 2400, "high", (1056, 1408), None, 1452, 3572, "§1b: ceil(1452 × 2.46)"),
    # docs/openai.md, gpt-6-astra high (2500 budget, 65535 px, ×1.2)
    ("gpt-6-astra", 1024, 1024, "high", (1024, 1024), None, 1024, 1229, "§1b"),
    ("gpt-6-astra", 2048, 2048, "high", (1600, 1600), None, 2500, 3000, "§1b: → 1600 × 1600"),
    ("gpt-6-astra", 4096, 512, "high", (4096, 512), None, 2048, 2458, "§1b"),
    # docs/openai.md: on gpt-5.4 low is a 2048 px / 6144 budget, high a 2500 budget — low costs more
    ("gpt-5.4", 2048, 2048, "low", (2048, 2048), None, 4096, 4916, "§1b: 4096 ≤ 6144"),
    ("gpt-5.4", 2048, 2048, "high", (1600, 1600), None, 2500, 3000, "§1b: budget 2500"),
]


@pytest.mark.parametrize(
    "model, width, height, detail, scaled, tiles, patches, tokens, why", EXAMPLES, ids=[e[-1] for e in EXAMPLES]
)
def test_worked_example(model, width, height, detail, scaled, tiles, patches, tokens, why):
    result = estimate((width, height), model=model, detail=detail)
    assert (result.scaled_width, result.scaled_height) == scaled
    assert result.tiles == tiles
    assert result.patches == patches
    assert result.tokens == tokens
    assert image_tokens(width, height, model=model, detail=detail) == tokens


def test_fit_rounds_to_nearest_pixel_2049x513():
    # 513 × 2048/2049 = 512.75 → 513, not 512: 4 × 2 tiles, not 4 × 1.
    result = estimate((2049, 513), model="gpt-4o", detail="high")
    assert (result.scaled_width, result.scaled_height) == (2048, 513)
    assert result.tokens == 85 + 170 * 8


def test_short_side_rounds_the_long_side_down():
    # 2048 × 1335: 2048 × 768/1335 = 1178.2 → 1178 (docs/openai.md step 2)
    assert estimate((2048, 1335), model="gpt-4o", detail="high").scaled_width == 1178


def test_multiplier_is_exact_not_binary_float():
    # 320 × 480 = 10 × 15 = 150 patches; 150 × 1.62 = 243 exactly (binary floats say 243.00000000000003 → 244)
    assert 150 * 1.62 > 243
    assert image_tokens(320, 480, model="gpt-4.1-mini") == 243


def test_auto_follows_the_table():
    assert estimate((4000, 3000), model="gpt-4o").applied_detail == "high"
    assert estimate((4000, 3000), model="gpt-5.4").applied_detail == "high"
    assert estimate((4000, 3000), model="gpt-5.5").applied_detail == "original"
    assert image_tokens(4000, 3000, model="gpt-4o") == image_tokens(4000, 3000, model="gpt-4o", detail="high")


def test_gpt_4o_mini_is_its_own_row():
    assert image_tokens(1024, 1024, model="gpt-4o-mini", detail="high") == 2833 + 4 * 5667
    assert image_tokens(1024, 1024, model="gpt-4o-mini", detail="low") == 2833


def test_over_30000_patches_is_rejected_not_resized():
    with pytest.raises(costcalc.ImageRejectedError, match="35,344 patches"):
        image_tokens(6000, 6000, model="gpt-6-astra", detail="original")
    # the same size on a budgeted detail is resized, not rejected
    assert image_tokens(6000, 6000, model="gpt-5.5", detail="original") == 12000


def test_unsupported_detail_names_the_supported_ones():
    with pytest.raises(costcalc.UnsupportedDetailError, match="low, high, auto"):
        image_tokens(100, 100, model="gpt-4o", detail="original")
    with pytest.raises(costcalc.UnsupportedDetailError, match="low, high, original, auto"):
        image_tokens(100, 100, model="gpt-5.4", detail="medium")


@pytest.mark.parametrize("size", [(0, 100), (100, 0), (-1, 5), (1.5, 2), ("10", 10), (True, 10), (2**31, 1)])
def test_bad_sizes_are_named(size):
    with pytest.raises(costcalc.InvalidSizeError, match="width|height"):
        image_tokens(*size, model="gpt-4o")


def test_usd_is_exact_and_unknown_stays_unknown():
    priced = estimate((1024, 1024), model="gpt-4o", detail="high")
    assert str(priced.usd) == "0.0019125"  # 765 × $2.50 / 1M
    unpriced = estimate((1024, 1024), model="qwen3-vl-plus")  # docs/qwen.md: 1026 tokens; no price on file
    assert unpriced.usd is None and unpriced.price is None and unpriced.tokens == 1026
