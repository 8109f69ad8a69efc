"""Today's OpenAI models (docs/openai.md): sizing known, multiplier unknown — tokens and USD null with the reason.

Also the gpt-5.6 alias, the retired @2025 rows, and the doubts shown for gpt-4.1-mini and
gpt-5.2 (docs/openai.md, docs/README.md). Expected figures are worked by hand from docs/openai.md (32-px patches,
a 65,535-px pixel limit, no budget, the 30,000-patch rejection), never by the code under test.
"""

import json
from decimal import Decimal
from math import ceil

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc import get_model, get_price
from costcalc.cli import cli
from costcalc.errors import ImageRejectedError, PlanError, TableError, UnknownModelError, UnpublishedRuleError
from costcalc.pricing.cost import Pricer
from costcalc.schemes import arrays
from costcalc.schemes.patch import PatchRule
from costcalc.schemes.unknown import UnpublishedRule

TODAY = ["gpt-6-sol", "gpt-6-luna", "gpt-6.1-sol", "gpt-6.1-terra", "gpt-6.2-astra", "gpt-6.2-sol"]
PRICES = {
    "gpt-6-sol": "2.00",
    "gpt-6-luna": "0.10",
    "gpt-6.1-sol": "2.00",
    "gpt-6.2-astra": "8.00",
    "gpt-6.2-sol": "2.00",
}  # docs/prices.md; gpt-6.1-terra: genai-prices only


def run(*args):
    return CliRunner().invoke(cli, list(args))


# ------------------------------------------------------------------ the rows (docs/openai.md)


@pytest.mark.parametrize("name", TODAY)
def test_rows_say_what_is_known_and_nothing_more(name):
    model = get_model(name)
    rules = dict(model.rules)
    assert model.scheme == "patch" and model.auto == "original" and model.multiplier is None and model.tokens_unknown
    assert rules["original"] == PatchRule(
        max_dimension=65535, patch_budget=None, patch_size=32, max_patches=30000, multiplier=None
    )
    assert isinstance(rules["low"], UnpublishedRule) and isinstance(rules["high"], UnpublishedRule)
    assert model.bases == ("unknown",) and model.evidence == "measured"
    for level in ("low", "high"):
        with pytest.raises(UnpublishedRuleError, match="unpublished") as caught:
            costcalc.estimate((1024, 1024), model=name, detail=level)
        assert caught.value.model == name and caught.value.detail == level


@pytest.mark.parametrize("name", TODAY)
def test_priced_with_size_and_patches_and_null_tokens(name):
    # 4000 × 3000 fits 65,535 px: seen as it is; ceil(4000/32) × ceil(3000/32) = 125 × 94 = 11,750
    result = costcalc.estimate((4000, 3000), model=name)
    assert (result.applied_detail, result.scaled_width, result.scaled_height) == ("original", 4000, 3000)
    assert (result.patches, result.tiles, result.tokens, result.usd, result.basis) == (
        11750,
        None,
        None,
        None,
        "unknown",
    )
    assert "not published" in result.note and f"costcalc probe -m {name}" in result.note
    row = result.as_dict()
    assert row["tokens"] is None and row["usd"] is None and row["patches"] == 11750 and row["note"] == result.note
    assert json.loads(json.dumps(row))["tokens"] is None
    if name in PRICES:  # the price is known, the tokens are not: USD stays null
        assert get_price(name).usd_per_1m_input == Decimal(PRICES[name]) and row["usd_per_1m_input"] is not None


def test_a_side_over_65535_is_fitted_and_the_patches_counted():
    # 70000 × 100 → 65535 × round(100 × 65535 / 70000 = 93.6) = 94; 2048 × 3 = 6,144 patches
    result = costcalc.estimate((70000, 100), model="gpt-6-sol")
    assert (result.scaled_width, result.scaled_height, result.patches, result.tokens) == (65535, 94, 6144, None)


def test_the_30000_patch_rejection_as_observed():
    # docs/openai.md: a 7952 × 5304 photo, 249 × 166 = 41,334 patches, got the 30,000-patch error
    with pytest.raises(ImageRejectedError, match="41,334 patches") as caught:
        costcalc.estimate((7952, 5304), model="gpt-6-sol")
    assert caught.value.rule == "max_patches"
    # ... and a 29,892-patch image (188 × 159 patches: 6016 × 5088) was accepted by gpt-6-sol and gpt-6-luna
    for name in ("gpt-6-sol", "gpt-6-luna"):
        assert costcalc.estimate((6016, 5088), model=name).patches == 29892
    with pytest.raises(ImageRejectedError):
        costcalc.estimate((6016 + 32, 5088), model="gpt-6-luna")  # 189 × 159 = 30,051


@given(st.integers(1, 65535), st.integers(1, 65535))
def test_every_size_is_sized_and_counted_but_never_billed(w, h):
    patches = ceil(w / 32) * ceil(h / 32)  # within 65,535 px nothing is resized (docs/openai.md step 1)
    pricer = Pricer("gpt-6.2-sol")
    if patches > 30000:
        with pytest.raises(ImageRejectedError):
            pricer.sizing(w, h)
        return
    sizing = pricer.sizing(w, h)
    assert (sizing.scaled_width, sizing.scaled_height, sizing.patches, sizing.tokens) == (w, h, patches, None)
    assert pricer.tokens(w, h) is None and pricer.usd(pricer.tokens(w, h)) is None


def test_number_apis_refuse_rather_than_guess():
    with pytest.raises(UnpublishedRuleError, match="multiplier"):
        costcalc.image_tokens(1024, 1024, model="gpt-6-sol")
    with pytest.raises(UnpublishedRuleError):
        costcalc.image_tokens_batch([1024, 10], [1024, 10], model="gpt-6.1-terra")
    rule = dict(get_model("gpt-6-sol").rules)["original"]
    w, h = np.array([4000, 7952], dtype=np.int64), np.array([3000, 5304], dtype=np.int64)
    seen_w, seen_h, patches, tokens = arrays.sizes(rule, w, h)
    assert seen_w.tolist() == [4000, 7952] and patches.tolist() == [11750, 41334] and tokens is None
    assert arrays.rejected(rule, w, h).tolist() == [False, True]
    with pytest.raises(ValueError):
        arrays.tokens(rule, w, h)


def test_plans_keep_the_size_seen_and_refuse_a_token_budget():
    planned = costcalc.plan(4000, 3000, model="gpt-6-sol")
    assert (planned.target_width, planned.target_height, planned.tokens_after) == (4000, 3000, None)
    with pytest.raises(PlanError, match="gpt-6-sol"):
        costcalc.plan(4000, 3000, model="gpt-6-sol", max_tokens=1000)


# ------------------------------------------------------------------ every command copes (docs/openai.md)


def test_estimate_command_shows_unknown_with_the_patches(tmp_path):
    result = run("estimate", "--size", "4000x3000", "--size", "1024x1024", "-m", "gpt-6-sol", "-m", "gpt-4o")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "unknown (11,750 patches)" in lines[2] and "unknown (1,024 patches)" in lines[3]
    total = lines[4].split()
    assert total[:3] == ["total", "unknown", "unknown"] and total[3] == "1,530"  # gpt-4o: 765 + 765
    assert any(line.startswith("gpt-6-sol: the image-token multiplier") for line in lines)
    rows = json.loads(run("estimate", "--size", "4000x3000", "-m", "gpt-6-sol", "--json").output)
    assert rows[0]["tokens"] is None and rows[0]["usd"] is None and rows[0]["patches"] == 11750 and rows[0]["note"]
    assert rows[0]["error"] is None


def test_audit_totals_are_unknown_and_a_token_budget_fails_closed(tmp_path):
    Image.new("RGB", (640, 480)).save(tmp_path / "a.png")
    Image.new("RGB", (100, 100)).save(tmp_path / "b.png")
    result = run("audit", str(tmp_path), "-m", "gpt-6-sol", "-m", "gpt-4o", "--json", "--max-tokens", "1000000")
    assert result.exit_code == 4, result.output
    document = json.loads(result.stdout)
    rows = [row for row in document["rows"] if row["model"] == "gpt-6-sol"]
    assert [(r["status"], r["tokens"], r["usd"]) for r in rows] == [("priced", None, None)] * 2
    assert document["totals"]["gpt-6-sol"]["tokens"] is None and document["totals"]["gpt-6-sol"]["usd"] is None
    assert document["totals"]["gpt-4o"]["tokens"] == 255 + 425  # 100×100: 1 tile; 640×480: 4 tiles
    assert document["budget"]["over"] == [
        "gpt-6-sol: tokens unknown (multiplier unpublished), so --max-tokens 1,000,000 cannot be checked"
    ]
    summary = run("audit", str(tmp_path), "-m", "gpt-6-sol", "--summary")
    assert summary.exit_code == 0 and "unknown" in summary.output and "costcalc probe -m gpt-6-sol" in summary.output
    over_usd = run("audit", str(tmp_path), "-m", "gpt-6-sol", "--summary", "--max-usd", "5")
    assert over_usd.exit_code == 4 and "tokens unknown, so --max-usd" in over_usd.output


def test_request_lists_the_image_unpriced_with_the_reason(tmp_path):
    Image.new("RGB", (640, 480)).save(tmp_path / "a.png")
    payload = {
        "model": "gpt-6.2-astra",
        "input": [{"role": "user", "content": [{"type": "input_image", "image_url": str(tmp_path / "a.png")}]}],
    }
    estimate = costcalc.count_request(payload)
    (image,) = estimate.images
    assert (image.width, image.height, image.tokens, image.usd, image.rule) == (640, 480, None, None, None)
    assert "not published" in image.error and estimate.unpriced == 1
    with pytest.raises(costcalc.BudgetExceeded):
        costcalc.check_budget(payload, max_tokens=10**9)
    result = CliRunner().invoke(cli, ["request", "-", "--json"], input=json.dumps(payload))
    assert result.exit_code == 1 and json.loads(result.stdout)["images"][0]["tokens"] is None


def test_video_frames_priced_with_unknown_tokens(tmp_path):
    frames = [Image.new("RGB", (320, 240), (40 * i, 0, 0)) for i in range(5)]
    frames[0].save(tmp_path / "clip.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = costcalc.video_estimate(tmp_path / "clip.gif", model="gpt-6-sol")
    assert (result.tokens_per_frame, result.tokens, result.usd) == (None, None, None) and "not published" in result.note
    shown = run("video", str(tmp_path / "clip.gif"), "-m", "gpt-6-sol", "-m", "gpt-4o")
    assert shown.exit_code == 0 and "unknown" in shown.output and "costcalc probe -m gpt-6-sol" in shown.output


# ------------------------------------------------------------------ names, retired rows, doubts (docs/openai.md, docs/README.md)


def test_gpt_5_6_is_gpt_5_6_sol():
    alias, sol = get_model("gpt-5.6"), get_model("gpt-5.6-sol")
    # one model, one name (hunt #8): `-m gpt-5.6 -m gpt-5.6-sol` prices it once
    assert (alias.name, alias.family) == ("gpt-5.6-sol", "gpt-5.6-sol") and alias.rules == sol.rules
    assert get_model("openai/gpt-5.6").family == "gpt-5.6-sol"
    assert get_price("gpt-5.6").usd_per_1m_input == get_price("gpt-5.6-sol").usd_per_1m_input == Decimal("5.00")
    # 2048 × 2048 at high: the 2,500-patch budget, 1600 × 1600 (docs/openai.md worked example), × 1.2 = 3,000
    assert costcalc.image_tokens(2048, 2048, model="gpt-5.6", detail="high") == 3000
    assert "gpt-5.6" not in {m.name for m in costcalc.list_models()}  # an alias, not a row of its own


def test_the_2025_rows_of_gpt_5_mini_and_nano_are_retired():
    for name in ("gpt-5-mini@2025", "gpt-5-nano@2025"):
        with pytest.raises(UnknownModelError):
            get_model(name)
    assert (get_model("gpt-5-mini").multiplier, get_model("gpt-5-nano").multiplier) == (Decimal("1.2"), Decimal("1.5"))
    assert costcalc.image_tokens(1024, 1024, model="gpt-5-mini") == 1229  # ceil(1024 × 1.2), measured 2026-06


def test_doubts_follow_every_estimate_of_the_doubted_models():
    mini = costcalc.estimate((2400, 1800), model="gpt-4.1-mini")
    assert "contradicted" in mini.doubt and "1,536" in mini.doubt and mini.as_dict()["doubt"] == mini.doubt
    assert "unverified" in costcalc.estimate((2400, 1800), model="gpt-5.2").doubt
    assert costcalc.estimate((2400, 1800), model="gpt-4.1-mini-2025-04-14").doubt is None  # the measured row
    assert costcalc.estimate((2400, 1800), model="gpt-4o").doubt is None
    table = run("estimate", "--size", "2400x1800", "-m", "gpt-4.1-mini", "-m", "gpt-4o")
    assert table.exit_code == 0
    assert [line for line in table.output.splitlines() if "doubt" in line] == [f"gpt-4.1-mini: doubt: {mini.doubt}"]
    for fmt in ("--json", "--nl"):
        text = run("estimate", "--size", "2400x1800", "-m", "gpt-4.1-mini", "-m", "gpt-5.2", fmt).output
        rows = json.loads(text) if fmt == "--json" else [json.loads(line) for line in text.splitlines()]
        assert all(row["doubt"] for row in rows)
    assert "contradicted" in run("estimate", "--size", "2400x1800", "-m", "gpt-4.1-mini", "--csv").output


def test_models_command_shows_evidence_and_doubts():
    result = run("models")
    table, _, notes = result.output.partition("\n\n")
    lines = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert "unknown" in lines["gpt-6-sol"].split()  # evidence moved to `costcalc models NAME` and --json
    assert "measured 2026-09" in run("models", "gpt-6-sol").output
    assert "documented 2026-10; measured 2026-03-18…2026-06-17 (8)" in run("models", "gpt-5-mini").output
    doubted = [line for line in notes.splitlines() if line.startswith("[")]
    assert any("(gpt-4.1-mini)" in line and "contradicted" in line for line in doubted)
    assert any("(gpt-5.2)" in line and "unverified" in line for line in doubted)
    rows = {row["name"]: row for row in json.loads(run("models", "--json").output)}
    assert rows["gpt-6-sol"]["multiplier"] == "unknown" and rows["gpt-6-sol"]["evidence"] == "measured"
    assert rows["gpt-4.1-mini"]["doubt"] and rows["gpt-4o"]["doubt"] is None
    assert rows["gpt-5-mini"]["measured_cases"] == 8 and rows["gpt-5.2"]["measured_cases"] == 0


# ------------------------------------------------------------------ the table format


def _table(tmp_path, body: str):
    path = tmp_path / "mine.toml"
    path.write_text('vendor = "openai"\n' + body, encoding="utf-8")
    return costcalc.load_tables(path)


def test_a_table_of_your_own_can_say_unknown(tmp_path):
    tables = _table(
        tmp_path,
        '[aliases]\nnames = { "house" = "house-1" }\n[[model]]\nnames = ["house-1"]\n'
        'scheme = "patch"\nmultiplier = "unknown"\nauto = "high"\nlow = "unknown"\n'
        'high = { max_dimension = 2048, patch_budget = 2500 }\nnote = "not published"\n'
        'evidence = "documented"\ndoubt = "house rule"\n',
    )
    result = costcalc.estimate((2048, 2048), model="house", tables=tables)
    assert (result.family, result.patches, result.tokens, result.doubt) == ("house-1", 2500, None, "house rule")


@pytest.mark.parametrize(
    "body, message",
    [
        ('multiplier = "unknown"\nauto = "high"\nhigh = { max_dimension = 2048 }\n', "needs a note"),
        (
            'multiplier = "unknown"\nnote = "x"\nauto = "low"\nlow = "unknown"\nhigh = { max_dimension = 2048 }\n',
            "auto must name one of its published",
        ),
        (
            'multiplier = 1.2\nauto = "high"\nhigh = { max_dimension = 2048 }\nevidence = "rumoured"\n',
            "evidence must be",
        ),
        ('multiplier = 1.2\nauto = "high"\nhigh = "sometimes"\n', 'must be "unknown" or an inline table'),
    ],
)
def test_bad_unknowns_are_table_errors(tmp_path, body, message):
    with pytest.raises(TableError, match=message):
        _table(tmp_path, '[[model]]\nnames = ["house-1"]\nscheme = "patch"\n' + body)


def test_bad_alias_names_are_table_errors(tmp_path):
    with pytest.raises(TableError, match="names"):
        _table(tmp_path, '[aliases]\nnames = ["gpt-5.6"]\n')
    with pytest.raises(TableError, match="lower"):
        _table(tmp_path, '[aliases]\nnames = { "GPT-5.6" = "gpt-5.6-sol" }\n')
