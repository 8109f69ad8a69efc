"""Dated prices and model lifecycles (issue 17): windows, as_of, statuses, warnings, strict, the README's models."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import costcalc
from costcalc.catalog.tables import Tables, load_tables
from costcalc.cli import cli
from costcalc.errors import RetiredModelError, TableError

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 12, 6)


def _models_json(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["models", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "day, rate, batch",
    [("2026-11-20", 2.00, 1.00), ("2026-11-30", 2.00, 1.00), ("2026-12-01", 4.00, 2.00), ("2026-12-06", 4.00, 2.00)],
)
def test_gemini_4_argon_doubles_on_2026_12_01(day, rate, batch):
    """genai-prices 0.2.5: 2.00 (cached 0.10, batch 1.00) until 2026-11-30, 4.00 (0.20, 2.00) from 2026-12-01."""
    (row,) = _models_json("gemini-4-argon", "--as-of", day)
    assert (row["usd_per_1m_input"], row["tiers"]["batch"]) == (rate, batch)
    assert row["cached_input"] == rate / 20
    assert (row["price_from"], row["price_until"]) == ((None, "2026-11-30") if rate == 2.00 else ("2026-12-01", None))


def test_the_models_json_fields():
    (row,) = _models_json("gpt-6.2-sol", "--as-of", "2026-12-06")
    assert row["long_context"] == {"above": 272000, "usd_per_1m_input": 4.0}
    assert row["cached_input"] == 0.1 and "flex" not in row["tiers"]
    for key in ("status", "released", "deprecated", "shutdown", "replacement", "price_from", "price_until"):
        assert key in row


def _file(tmp_path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text('vendor = "openai"\n' + text, encoding="utf-8")
    return path


_ROW = '[[price]]\nnames = ["gpt-4o"]\nusd_per_1m_input = {rate}\nsource = "test"\n{window}\n'


def test_overlapping_windows_are_a_table_error(tmp_path):
    text = _ROW.format(rate=1, window="valid_until = 2026-12-01") + _ROW.format(
        rate=2, window="valid_from = 2026-12-01"
    )
    with pytest.raises(TableError, match=r"mine\.toml: gpt-4o: price row 1 and price row 2 overlap"):
        load_tables(_file(tmp_path, text))


def test_a_window_that_ends_before_it_starts_is_a_table_error(tmp_path):
    text = _ROW.format(rate=1, window="valid_from = 2026-12-02\nvalid_until = 2026-12-01")
    with pytest.raises(TableError, match=r"price row 1 \(gpt-4o\): valid_until 2026-12-01 is before valid_from"):
        load_tables(_file(tmp_path, text))


def test_a_bad_date_names_the_row_and_key(tmp_path):
    with pytest.raises(TableError, match=r"price row 1 \(gpt-4o\): valid_from must be an ISO date"):
        load_tables(_file(tmp_path, _ROW.format(rate=1, window='valid_from = "soon"')))


def test_windows_are_inclusive_and_a_gap_is_unknown(tmp_path):
    text = _ROW.format(rate=1, window="valid_until = 2026-11-30") + _ROW.format(
        rate=3, window="valid_from = 2026-12-05"
    )
    tables = load_tables(_file(tmp_path, text))
    rate = {
        day: (p := tables.at(dt.date(2026, *day)).price("gpt-4o")) and p.usd_per_1m_input
        for day in ((11, 30), (12, 1), (12, 4), (12, 5))
    }
    assert rate == {(11, 30): Decimal(1), (12, 1): None, (12, 4): None, (12, 5): Decimal(3)}


def test_a_tier_with_its_own_window(tmp_path):
    text = (
        '[[price]]\nnames = ["gpt-4o"]\nusd_per_1m_input = 2\nsource = "t"\n'
        "tiers.priority = { usd_per_1m_input = 6, valid_until = 2027-02-28 }\n"
    )
    tables = load_tables(_file(tmp_path, text))
    assert tables.at(dt.date(2027, 2, 28)).price("gpt-4o").rates("priority").usd_per_1m_input == 6
    assert "priority" not in tables.at(dt.date(2027, 3, 1)).price("gpt-4o").offered


def test_lifecycle_statuses():
    tables = costcalc.default_tables()
    status = {
        day: tables.at(day).model("gpt-5").lifecycle.status(day)
        for day in (dt.date(2026, 6, 10), dt.date(2026, 6, 11), dt.date(2026, 12, 10), dt.date(2026, 12, 11))
    }
    assert list(status.values()) == ["active", "deprecated", "deprecated", "retired"]
    snapshot = tables.model("gpt-4o-2024-05-13").lifecycle  # its own row, before its family's
    assert (snapshot.shutdown, tables.model("gpt-4o").lifecycle.shutdown) == (
        dt.date(2026, 10, 23),
        dt.date(2027, 1, 14),
    )


def test_a_retired_model_is_priced_with_a_warning_and_strict_refuses_it():
    result = costcalc.estimate((1024, 1024), model="claude-sonnet-4-5", as_of=DAY)
    assert result.usd is not None and result.status == "retired" and result.shutdown == "2026-11-30"
    assert "shut down on 2026-11-30" in result.warning and "claude-sonnet-5-5" in result.warning
    with pytest.raises(RetiredModelError) as caught:
        costcalc.estimate((1024, 1024), model="claude-sonnet-4-5", as_of=DAY, strict=True)
    assert caught.value.shutdown == dt.date(2026, 11, 30)
    before = costcalc.estimate((1024, 1024), model="claude-sonnet-4-5", as_of=dt.date(2026, 11, 29))
    assert (before.status, before.warning) == ("deprecated", None)  # its shutdown was scheduled


def test_a_deprecated_model_row_carries_its_shutdown():
    row = costcalc.estimate((512, 512), model="gpt-4o", as_of=DAY).as_dict()
    assert (row["status"], row["shutdown"], row["warning"]) == ("deprecated", "2027-01-14", None)


def test_the_lifecycle_rows_name_known_models():
    tables = costcalc.default_tables()
    for name in tables._lifecycles:
        tables.model(name)  # a replacement may be a model without an image rule here: only named


def test_a_lifecycle_row_without_a_source_is_an_error(tmp_path):
    with pytest.raises(TableError, match=r"lifecycle row 1 \(gpt-4o\): needs a source"):
        load_tables(_file(tmp_path, '[[lifecycle]]\nnames = ["gpt-4o"]\nshutdown = 2027-01-14\n'))


def _example_models() -> set[str]:
    """Every model the README's commands and the commands' --help examples name."""
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    for name, command in cli.commands.items():
        texts.append(command.help or "")
    found = set()
    for text in texts:
        for line in text.splitlines():
            if "costcalc " in line or "model=" in line:
                found.update(re.findall(r"(?:-m|--model)[ =]([\w.:/@-]+)", line))
                found.update(re.findall(r"model=[\"']([\w.:/@-]+)[\"']", line))
    return {name for text in found for name in text.split(",") if name}


def test_the_examples_use_models_live_today():
    """README and --help examples must not name a model past its shutdown date (checked on the real today)."""
    tables = costcalc.default_tables()
    day = costcalc.default_tables().as_of
    dead = sorted(
        name
        for name in _example_models()
        if _known(tables, name) and tables.model(name).lifecycle.status(day) == "retired"
    )
    assert not dead, f"examples name models past their shutdown: {dead}"


def _known(tables: Tables, name: str) -> bool:
    try:
        tables.model(name)
    except KeyError:
        return False
    return True
