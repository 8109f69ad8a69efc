"""`estimate()` from every kind of source, and the `costcalc` command end to end."""

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc
import costcalc.output.report
from costcalc.cli import cli

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "photo.jpg"


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "shot.png"
    Image.new("RGB", (1800, 2400)).save(path)
    return path


def test_estimate_from_every_kind_of_source(png):
    by_size = costcalc.estimate((1800, 2400), model="gpt-4.1-mini-2025-04-14")
    for source in (png, str(png), png.read_bytes(), png.open("rb"), [1800, 2400]):
        result = costcalc.estimate(source, model="gpt-4.1-mini-2025-04-14")
        assert (result.width, result.height, result.tokens) == (1800, 2400, by_size.tokens) == (1800, 2400, 2353)
    assert costcalc.estimate(png, model="gpt-4o").source == str(png)


def test_estimate_bad_sources():
    with pytest.raises(costcalc.ImageReadError):
        costcalc.estimate("no/such/file.png", model="gpt-4o")
    with pytest.raises(costcalc.InvalidImageError):
        costcalc.estimate(b"not an image", model="gpt-4o")
    with pytest.raises(TypeError):
        costcalc.estimate((1, 2, 3), model="gpt-4o")


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_cli_side_by_side_table():
    result = run("estimate", str(SAMPLE), "-m", "gpt-4o", "-m", "gpt-4.1-mini", "-m", "gpt-5.4")
    assert result.exit_code == 0, result.output
    header, subheader, row = result.output.splitlines()[:3]
    assert header.split() == ["gpt-4o", "gpt-4.1-mini", "gpt-5.4"]
    assert subheader.split() == ["image", "size", "tokens", "USD", "tokens", "USD", "tokens", "USD"]
    expected = [costcalc.estimate(SAMPLE, model=m) for m in ("gpt-4o", "gpt-4.1-mini", "gpt-5.4")]
    cells = row.split()
    assert cells[:2] == [str(SAMPLE), "2560×1669"]
    assert cells[2::2] == [f"{e.tokens:,}" for e in expected]
    assert cells[3::2] == [costcalc.output.report.format_usd(e.usd) for e in expected]
    assert "detail: auto (gpt-4o → high" in result.output


def test_cli_json_and_csv_rows():
    result = run("estimate", "--size", "1024x1024", "--size", "2049×513", "-m", "gpt-4o", "-m", "gpt-6-astra", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(r["model"], r["width"], r["height"], r["tokens"]) for r in rows] == [
        ("gpt-4o", 1024, 1024, 765),
        ("gpt-6-astra", 1024, 1024, 1229),
        ("gpt-4o", 2049, 513, 1445),
        ("gpt-6-astra", 2049, 513, 1326),
    ]
    assert rows[0]["usd"] == 0.0019125 and rows[1]["usd"] == 0.01229 and rows[0]["detail"] == "auto"  # 1229 × $10
    assert all(r["error"] is None for r in rows)
    result = run("estimate", "--size", "1024x1024", "-m", "gpt-4o", "--csv")
    (row,) = csv.DictReader(io.StringIO(result.output))
    assert (row["model"], row["tokens"], row["usd"], row["error"]) == ("gpt-4o", "765", "0.0019125", "")


def test_cli_bad_files_do_not_stop_the_batch(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello")
    result = run("estimate", str(tmp_path / "gone.jpg"), str(text), str(SAMPLE), "-m", "gpt-4o", "--json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["error"] is None for r in rows] == [False, False, True]
    assert "gone.jpg: no such file" in rows[0]["error"] and "notes.png: not an image" in rows[1]["error"]
    assert result.stderr.count("Error:") == 2
    assert "Traceback" not in result.output


def test_cli_rejected_image_is_an_error_row():
    result = run("estimate", "--size", "6000x6000", "--size", "10x10", "-m", "gpt-6-astra", "-d", "original")
    assert result.exit_code == 1
    assert "30,000 patches" in result.stderr
    assert "error" in result.stdout and "total" in result.stdout


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["--size", "0x100", "-m", "gpt-4o"], "--size '0x100': width"),
        (["--size", "100", "-m", "gpt-4o"], "--size '100': expected WIDTHxHEIGHT"),
        (["--size", "10x10", "-m", "gpt-4x"], "--model gpt-4x: unknown model 'gpt-4x'; did you mean gpt-4o"),
        (["--size", "10x10", "-m", "gpt-4o", "-d", "original"], "it supports: low, high, auto"),
        (["-m", "gpt-4o"], "nothing to price"),
        (["--size", "10x10", "-m", "gpt-4o", "--tables", "/no/such.toml"], "--tables: /no/such.toml: cannot read"),
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(args, culprit):
    result = run("estimate", *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0], result.output


def test_cli_missing_model_is_a_usage_error():
    result = run("estimate", "--size", "10x10")
    assert result.exit_code == 2 and "--model" in result.output


def test_cli_model_from_environment():
    result = run("estimate", "--size", "1024x1024", "--json", env={"COSTCALC_MODEL": "gpt-4o"})
    assert json.loads(result.output)[0]["tokens"] == 765


def test_cli_user_tables(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[[model]]\nname = "house-model"\nscheme = "tile"\nbase = 1\ntile = 2\n')
    result = run("estimate", "--size", "1024x1024", "-m", "house-model", "--tables", str(mine), "--json")
    assert json.loads(result.output)[0]["tokens"] == 1 + 4 * 2
    result = run("models", "--json", env={"COSTCALC_TABLES": str(mine)})
    assert "house-model" in [m["name"] for m in json.loads(result.output)]


def test_cli_models():
    result = run("models")
    assert result.exit_code == 0
    lines = result.output.split("\n\n")[0].splitlines()  # the table; the rows' doubts follow it (docs/README.md)
    assert len(lines) == 1 + len(costcalc.list_models())
    assert any(line.split()[:3] == ["gpt-5.4", "openai", "exact"] for line in lines)  # the scheme: models NAME
    rows = json.loads(run("models", "--json").output)
    astra = next(r for r in rows if r["name"] == "gpt-6-astra")
    assert (
        astra["details"]["high"]["patch_budget"] == 2500 and Decimal(astra["usd_per_1m_input"]) == 10
    )  # docs/prices.md


def test_help_is_made_of_examples_and_documents_exit_codes():
    result = run("estimate", "--help")
    assert "costcalc estimate photo.jpg -m gpt-4o" in result.output and "Exit codes" in result.output


def test_python_dash_m_and_console_script():
    out = subprocess.run([sys.executable, "-m", "costcalc", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"costcalc, version {costcalc.__version__}"
