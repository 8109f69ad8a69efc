"""audit as a CI gate (issue 15): a budget over no file, or a --glob that matches nothing, proves nothing: a warning
and exit 1 (--allow-empty for the old behaviour); a pattern that cannot be one is a usage error (exit 2)."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from costcalc.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def audit(*args):
    return CliRunner().invoke(cli, ["audit", *map(str, args), "-m", "gpt-4o", "-j", "1"])


@pytest.fixture
def photos(tmp_path) -> Path:
    shutil.copyfile(ROOT / "samples" / "photo.jpg", tmp_path / "photo.jpg")
    return tmp_path


@pytest.mark.parametrize("budget", [["--max-usd", "5"], ["--max-tokens", "100000"]])
def test_a_budget_over_no_file_fails(tmp_path, budget):
    (tmp_path / "empty").mkdir()
    result = audit(tmp_path / "empty", *budget, "--summary")
    assert result.exit_code == 1 and "no file to audit" in result.stderr and "--allow-empty" in result.stderr
    assert audit(tmp_path / "empty", *budget, "--summary", "--allow-empty").exit_code == 0


def test_a_glob_that_matches_nothing_fails(photos):
    result = audit(photos, "--glob", "*.jpeg", "--max-usd", "5")
    assert result.exit_code == 1 and "no file matches --glob *.jpeg" in result.stderr
    assert audit(photos, "--glob", "*.jpeg", "--allow-empty").exit_code == 0
    assert audit(photos, "--glob", "*.jpg", "--max-usd", "5").exit_code == 0  # it matches: priced, within budget


def test_without_a_gate_an_empty_folder_is_still_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    assert audit(tmp_path / "empty").exit_code == 0


@pytest.mark.parametrize("pattern", ["photo[.jpg", "", "[ab"])
def test_an_invalid_glob_is_a_usage_error(photos, pattern):
    result = audit(photos, "--glob", pattern)
    assert result.exit_code == 2 and "not a valid pattern" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
