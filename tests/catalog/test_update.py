"""`costcalc tables update` and `tables status`: genai-prices' data file, read by its own loader, into the data folder.

Offline: the data file is built here from the installed genai-prices' own data module (the
same providers its bundled snapshot holds), written out in the shape its published file has,
and one price changed by hand.
"""

import dataclasses
import datetime
import decimal
import json
import sys

import pytest
from click.testing import CliRunner

from costcalc.catalog.tables import forget_data
from costcalc.cli import cli

pytest.importorskip("genai_prices")


def _raw(value):
    """A genai-prices object as the JSON its published data file holds (field `or_` is `or`, None left out)."""
    if type(value).__name__ == "ModelPrice":
        return {k: _raw(v) for k, v in value.__dict__.items() if not k.startswith("_") and v is not None}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name.rstrip("_"): _raw(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.init and getattr(value, f.name) is not None
        }
    if isinstance(value, (list, tuple)):
        return [_raw(v) for v in value]
    if isinstance(value, dict):
        return {k: _raw(v) for k, v in value.items()}
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def published():
    """genai-prices' own providers as its published JSON (a list of providers)."""
    from genai_prices.data import providers

    return json.dumps(_raw(providers))


def _argon(document):
    google = next(p for p in document if p["id"] == "google")
    return next(m for m in google["models"] if m["id"] == "gemini-4-argon")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("COSTCALC_DATA_DIR", str(data))
    forget_data()
    yield data
    monkeypatch.undo()
    forget_data()


def run(*args):
    result = CliRunner().invoke(cli, list(map(str, args)))
    return result.exit_code, result.stdout, result.stderr


def argon_price(day):
    code, out, err = run("models", "gemini-4-argon", "--as-of", day, "--json")
    assert code == 0, err
    return json.loads(out)[0]["usd_per_1m_input"]


def doctored(published, tmp_path, rate):
    document = json.loads(published)
    argon = _argon(document)
    assert argon["prices"][-1]["constraint"] == {"start_date": "2026-12-01"}  # the dated rise issue 17 names
    argon["prices"][-1]["prices"]["input_mtok"] = rate
    path = tmp_path / "doctored.json"
    path.write_text(json.dumps(document))
    return path


def test_doctored_price_is_applied_and_printed(published, folder, tmp_path):
    assert argon_price("2026-12-06") == 4.0
    code, out, err = run("tables", "update", "--from", doctored(published, tmp_path, "5.5"), "--as-of", "2026-12-06")
    assert code == 0, err
    assert out.splitlines() == [
        "gemini-4-argon: 4.0 (cached 0.2; batch 2.0; flex 2.0; priority 7.2) → 5.5 (cached 0.2; batch 2.0; flex 2.0; "
        "priority 7.2) (2026-12-01 →)"
    ]
    assert f"price files written to {folder / 'prices'}" in err
    assert (folder / "prices" / "google.toml").is_file()
    assert argon_price("2026-12-06") == 5.5
    assert argon_price("2026-11-20") == 2.0  # the window before the change is as it was


def test_unchanged_data_changes_nothing_it_prints(published, folder, tmp_path):
    path = tmp_path / "same.json"
    path.write_text(published)
    code, out, err = run("tables", "update", "--from", path, "--as-of", "2026-12-06")
    assert (code, out) == (0, ""), err
    assert "no price changed" in err


@pytest.mark.parametrize("breakage", ["bad json", "nan", "negative", "zero", "schema", "not a list"])
def test_broken_file_changes_nothing(published, folder, tmp_path, breakage):
    good = doctored(published, tmp_path, "5.5")
    assert run("tables", "update", "--from", good, "--as-of", "2026-12-06")[0] == 0
    before = {p.name: p.read_bytes() for p in (folder / "prices").iterdir()}
    document = json.loads(published)
    argon = _argon(document)["prices"][-1]["prices"]
    if breakage == "bad json":
        text = published[: len(published) // 2]
    elif breakage == "nan":
        argon["input_mtok"] = float("nan")
        text = json.dumps(document)  # json writes NaN, which is not JSON
    elif breakage in ("negative", "zero"):
        argon["input_mtok"] = "-4" if breakage == "negative" else "0"
        text = json.dumps(document)
    elif breakage == "schema":
        document[0]["models"][0]["prices"] = {"input_mtok": {"per_lunar_cycle": "3"}}
        text = json.dumps(document)
    else:
        text = json.dumps({"schema": 3, "providers": document})
    broken = tmp_path / "broken.json"
    broken.write_text(text)
    code, out, err = run("tables", "update", "--from", broken, "--as-of", "2026-12-06")
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"Error: {broken}: ") and "nothing was changed" in err, err
    assert {p.name: p.read_bytes() for p in (folder / "prices").iterdir()} == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging left behind
    assert argon_price("2026-12-06") == 5.5


def test_missing_file_and_missing_extra(folder, tmp_path, monkeypatch):
    code, out, err = run("tables", "update", "--from", tmp_path / "nope.json")
    assert code == 1 and "cannot read" in err and len(err.splitlines()) == 1
    path = tmp_path / "x.json"
    path.write_text("[]")
    monkeypatch.setitem(sys.modules, "genai_prices.types", None)
    code, out, err = run("tables", "update", "--from", path)
    assert code == 1 and "pip install 'costcalc[update]'" in err
    assert not folder.exists()


def test_data_dir_environment_is_honoured(published, tmp_path, monkeypatch, folder):
    other = tmp_path / "elsewhere"
    monkeypatch.setenv("COSTCALC_DATA_DIR", str(other))
    forget_data()
    assert run("tables", "update", "--from", doctored(published, tmp_path, "6"), "--as-of", "2026-12-06")[0] == 0
    assert (other / "prices" / "google.toml").is_file() and not folder.exists()
    assert argon_price("2026-12-06") == 6.0
    monkeypatch.setenv("COSTCALC_DATA_DIR", str(folder))
    forget_data()
    assert argon_price("2026-12-06") == 4.0  # an empty folder: the shipped price


def test_status_lists_the_layers(published, folder, tmp_path):
    code, out, err = run("tables", "status", "--json", "--as-of", "2026-12-06")
    assert code == 0, err
    layers = json.loads(out)
    assert [layer["layer"] for layer in layers] == ["shipped", "data folder"]
    assert layers[0]["checked"] == "2026-12-06" and layers[0]["age_days"] == 0
    assert layers[1]["path"] == str(folder) and layers[1]["checked"] is None and "empty" in layers[1]["note"]
    run("tables", "update", "--from", doctored(published, tmp_path, "5.5"), "--as-of", "2026-12-06")
    mine = tmp_path / "mine.toml"
    mine.write_text('[[price]]\nname = "gpt-4o"\nusd_per_1m_input = 9\n')
    code, out, err = run("tables", "status", "--tables", mine, "--as-of", "2027-01-20")
    assert code == 0, err
    assert out.splitlines()[:5] == [
        f"shipped      {layers[0]['path']}",
        "             prices checked 2026-12-06 (45 days before 2027-01-20); 20 files",
        f"data folder  {folder}",
        "             prices checked 2026-12-06 (45 days before 2027-01-20); 9 price files",
        f"your file    {mine}",
    ]


def test_freshness_line_suggests_an_update_when_old(folder):
    code, out, err = run("models", "gemini-4", "--as-of", "2027-02-01")
    assert code == 0
    assert "prices checked 2026-12-06" in err and "costcalc tables update" in err
    code, out, err = run("models", "gemini-4", "--as-of", "2026-12-20")
    assert "prices checked 2026-12-06" in err and "tables update" not in err
