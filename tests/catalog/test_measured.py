"""Every model row held to the public measurements of what the API billed (docs/README.md, docs/probe.md).

The measurements are data (tables/measured/*.toml), read here straight from the TOML:
nothing in them is computed by the code under test. Tile models must match exactly;
patch models within one token (OpenAI: its billing may differ from the formula by one,
docs/openai.md); a refusal must be an ImageRejectedError; a row known to disagree must still
disagree (else its flag is stale); rows of a model whose multiplier is unpublished are held
to their patch count.
"""

import json
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

import costcalc
from costcalc.catalog.measured import Measurement, evidence_text, load_measured, measured_files, measurements
from costcalc.catalog.tables import tables_dir
from costcalc.errors import ImageRejectedError, TableError, UnknownModelError

FILES = sorted((tables_dir() / "measured").glob("*.toml"))
RAW = [
    (path.stem, index, row)
    for path in FILES
    for index, row in enumerate(tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)["measured"], 1)
]
SHARED = Path(__file__).resolve().parents[3] / "shared" / "measured.json"  # the cases known when SPEC was written
LEGACY = "legacy GPT-4V image part"

# Rows whose evidence is "measured" though tables/measured has no case of theirs: the reports
# docs/openai.md cites (2026-09) were not found, so no row can name its source (the row's `source` says so).
MEASURED_ELSEWHERE = {"gpt-6-sol", "gpt-6-luna", "gpt-6.1-sol", "gpt-6.1-terra", "gpt-6.2-astra", "gpt-6.2-sol"}


def _id(param):
    stem, index, row = param
    return f"{stem}:{index}:{row['model']}:{row['width']}x{row['height']}"


@pytest.mark.parametrize("case", RAW, ids=[_id(c) for c in RAW])
def test_the_rule_reproduces_each_measurement(case):
    _, _, row = case
    model = costcalc.get_model(row["model"])  # every measured name is one the tables know
    detail = row.get("detail", "auto")
    size = (row["width"], row["height"])
    if row.get("rejected"):
        with pytest.raises(ImageRejectedError) as caught:
            costcalc.estimate(size, model=row["model"], detail=detail)
        assert caught.value.rule == "max_patches"
        if "patches" in row:
            assert f"{row['patches']:,} patches" in str(caught.value)
        return
    result = costcalc.estimate(size, model=row["model"], detail=detail)
    if "patches" in row:
        assert result.patches == row["patches"]
    if "tokens" not in row:
        return  # accepted, tokens not reported: accepted is what is held
    if result.tokens is None:  # an unpublished multiplier: only the patches can be held (above)
        assert model.tokens_unknown
        return
    slack = 1 if model.scheme == "patch" else 0
    off = abs(result.tokens - row["tokens"])
    if row.get("disagrees"):
        assert off > slack, f"{row['model']} now agrees with {row['source']}: drop its `disagrees`"
        if LEGACY in row.get("endpoint", ""):  # docs/openai.md: billed below detail high, priced as high
            assert row["tokens"] < result.tokens
        return
    assert off <= slack, f"rule {result.tokens}, billed {row['tokens']} ({row['source']}, {row['date']})"


@pytest.mark.parametrize("case", RAW, ids=[_id(c) for c in RAW])
def test_each_row_names_its_report(case):
    _, _, row = case
    assert row["source"].startswith("https://") and row["date"][:4].isdigit(), row
    assert ("tokens" in row) + bool(row.get("rejected")) + ("patches" in row) >= 1
    assert not (row.get("rejected") and "tokens" in row)
    if "total" in row and "tokens" in row:
        assert row["total"] > row["tokens"]  # the text of the request is in the total
    if row.get("disagrees"):
        assert len(row["disagrees"]) > 20


def test_the_loader_reads_every_row_as_written():
    cases = load_measured()
    assert len(cases) == len(RAW) >= 16 and measured_files() == FILES
    for case, (stem, _, row) in zip(cases, RAW):
        assert isinstance(case, Measurement) and case.vendor == stem
        assert (case.model, case.width, case.height, case.tokens, case.rejected, case.patches, case.source) == (
            row["model"],
            row["width"],
            row["height"],
            row.get("tokens"),
            row.get("rejected", False),
            row.get("patches"),
            row["source"],
        )


@pytest.mark.skipif(not SHARED.is_file(), reason="../shared/measured.json is outside the repository")
def test_the_cases_of_the_spec_are_all_here():
    wanted = {(c["model"], c["detail"], c["w"], c["h"], c["tokens"]) for c in json.loads(SHARED.read_text())["cases"]}
    held = {(r["model"], r.get("detail", "auto"), r["width"], r["height"], r.get("tokens")) for _, _, r in RAW}
    assert wanted <= held, wanted - held


def test_spec_2a_measurements_are_on_file():
    """The public reports docs/openai.md names that could be sourced: their rows are here, and held above."""
    rows = [row for _, _, row in RAW]

    def found(**fields):
        return [r for r in rows if all(r.get(k) == v for k, v in fields.items())]

    # gpt-5.4, -mini, -nano at 1600 × 1600 high: 3,000 on Responses (2026-03), about 2,805 on Chat Completions
    for name in ("gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano"):
        assert [r["tokens"] for r in found(model=name, width=1600, height=1600, endpoint="responses")] == [3000]
        assert [r["tokens"] for r in found(model=name, width=1600, height=1600, endpoint="chat.completions")] == [2805]
    # gpt-5-mini ×1.2, six sizes, 2026-06: the retired ×1.62 never billed
    assert len([r for r in found(model="gpt-5-mini") if r["date"].startswith("2026-06")]) == 6
    # the 1,536-patch cap of gpt-4.1-mini's only served snapshot (2025)
    assert found(model="gpt-4.1-mini-2025-04-14", width=2400, height=1800, tokens=2353)
    # the legacy GPT-4V shape billed below high (gpt-4o 128 × 64: 241 total against 267)
    legacy = [r for r in found(model="gpt-4o", width=128, height=64) if LEGACY in r.get("endpoint", "")]
    assert [r["total"] for r in legacy] == [241] and legacy[0]["disagrees"]


def test_evidence_matches_the_measurements():
    openai = [m for m in costcalc.list_models() if m.vendor == "openai"]
    for model in openai:
        cases = measurements(model)
        assert model.evidence in ("documented", "measured", "documented, measured"), model.name
        if cases:
            assert "measured" in model.evidence, f"{model.name} has {len(cases)} measured cases"
        elif "measured" in model.evidence:
            assert model.name in MEASURED_ELSEWHERE, f"{model.name} says measured, but no case is on file"
    # the doubts docs/openai.md asks for, and none on a measured row
    assert "contradicted" in costcalc.get_model("gpt-4.1-mini").doubt
    assert "unverified" in costcalc.get_model("gpt-5.2").doubt
    assert not any(m.doubt for m in openai if measurements(m) and m.name != "gpt-4.1-mini")


def test_evidence_text_dates_what_a_row_rests_on():
    mini = costcalc.get_model("gpt-5-mini")
    assert evidence_text(mini, measurements(mini)) == "documented 2026-10; measured 2026-03-18…2026-06-17 (8)"
    sol = costcalc.get_model("gpt-6-sol")
    assert evidence_text(sol, measurements(sol)) == "measured 2026-09"
    assert evidence_text(costcalc.get_model("gpt-5.2"), []) == "documented 2026-10"
    assert [c.date for c in measurements("gpt-5.6-luna")] == ["2026-09-09"] * 2  # the row's cases, whichever name


def test_measurements_of_a_snapshot_count_for_its_own_row_only():
    snapshot = measurements("gpt-4.1-mini-2025-04-14")
    assert {c.tokens for c in snapshot} == {2489, 2353, 13}
    assert measurements("gpt-4.1-mini") == []  # the documented row is not the measured snapshot
    assert {c.model for c in measurements("gpt-4.1")} >= {"gpt-4.1", "gpt-4.1-2025-04-14", "gpt-4o"}


@pytest.mark.parametrize(
    "row, message",
    [
        ('model = "gpt-4o"\nwidth = 1\nheight = 1\ntokens = 85\ndate = "2025"\n', "needs source"),
        ('model = "gpt-4o"\nwidth = 1\nheight = 1\nsource = "x"\ndate = "2025"\n', "give tokens, patches"),
        (
            'model = "gpt-4o"\nwidth = 1\nheight = 1\ntokens = 5\nrejected = true\nsource = "x"\ndate = "2025"\n',
            "a rejected image has no tokens",
        ),
        (
            'model = "gpt-4o"\ndetail = "huge"\nwidth = 1\nheight = 1\ntokens = 5\nsource = "x"\ndate = "2025"\n',
            "detail",
        ),
        ('model = "gpt-4o"\nwidth = 0\nheight = 1\ntokens = 5\nsource = "x"\ndate = "2025"\n', "width"),
        (
            'model = "gpt-4o"\nwidth = 1\nheight = 1\ntokens = 5\nsource = "x"\ndate = "2025"\nbilled = 3\n',
            "unknown key",
        ),
    ],
)
def test_a_bad_measurement_row_is_a_table_error(tmp_path, row, message):
    path = tmp_path / "m.toml"
    path.write_text("[[measured]]\n" + row, encoding="utf-8")
    with pytest.raises(TableError, match=message):
        load_measured(path)


def test_unknown_names_in_a_file_of_your_own_are_left_out(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        '[[measured]]\nmodel = "gpt-9"\nwidth = 1\nheight = 1\ntokens = 5\nsource = "x"\ndate = "2027"\n'
        '[[measured]]\nmodel = "gpt-4o-2024-08-06"\nwidth = 1\nheight = 1\ntokens = 5\nsource = "x"\n'
        'date = "2027"\n',
        encoding="utf-8",
    )
    cases = load_measured(path)
    with pytest.raises(UnknownModelError):
        costcalc.get_model(cases[0].model)
    assert [c.model for c in measurements("gpt-4o", cases=cases)] == ["gpt-4o-2024-08-06"]
