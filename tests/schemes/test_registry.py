"""Adding a billing scheme is one module and one registry line: a toy scheme, registered from tests/, is loaded
from a TOML row by the normal table loader and priced by every front end without editing costcalc."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from costcalc import image_tokens_batch, load_tables, schemes
from costcalc.cli import cli
from costcalc.errors import ImageRejectedError, TableError
from costcalc.pricing.cost import Pricer

ROW = """
[[model]]
names = ["toy-vision"]
scheme = "toy"
square = 100
per_square = 7
max_side = 1000
source = "https://example.com/toy-pricing"

[[price]]
name = "toy-vision"
usd_per_1m_input = 2.00
source = "https://example.com/toy-pricing"
date = "2026-12-01"
"""


@pytest.fixture
def toy(monkeypatch, tmp_path):
    """The toy scheme registered (the one line), and a table file with one row of it."""
    monkeypatch.setitem(schemes.REGISTRY, "toy", "toy_scheme")
    path = tmp_path / "toy.toml"
    path.write_text(ROW)
    return path


def test_a_registered_scheme_is_loaded_and_priced(toy):
    tables = load_tables(toy)
    model = tables.model("toy-vision")
    assert model.scheme == "toy" and model.auto == "auto"
    pricer = Pricer("toy-vision", tables=tables)
    assert pricer.tokens(250, 100) == 3 * 1 * 7  # 3 squares across, 1 down
    assert pricer.tokens(1000, 1000) == 100 * 7
    with pytest.raises(ImageRejectedError):
        pricer.tokens(1001, 10)


def test_a_registered_scheme_has_a_numpy_path(toy):
    tables = load_tables(toy)
    widths, heights = np.array([250, 100, 999]), np.array([100, 250, 1])
    assert image_tokens_batch(widths, heights, model="toy-vision", tables=tables).tolist() == [21, 21, 70]
    with pytest.raises(ImageRejectedError):
        image_tokens_batch(np.array([10, 2000]), np.array([10, 10]), model="toy-vision", tables=tables)


def test_a_registered_scheme_shows_in_models(toy):
    result = CliRunner().invoke(cli, ["models", "--json", "--tables", str(toy)])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    toy_row = rows["toy-vision"]
    assert toy_row["scheme"] == "toy"
    assert toy_row["details"] == {"auto": {"square": 100, "per_square": 7, "max_side": 1000, "basis": "exact"}}
    assert toy_row["usd_per_1m_input"] == 2.0
    text = CliRunner().invoke(cli, ["models", "toy-vision", "--tables", str(toy)])  # one model in full: its cells
    assert "7/100px" in text.stdout


def test_a_registered_scheme_checks_its_row_keys(toy, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(ROW.replace("per_square = 7", "per_squares = 7"))
    with pytest.raises(TableError, match="per_squares"):
        load_tables(bad)


def test_an_unregistered_scheme_is_a_table_error(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(ROW)
    with pytest.raises(TableError, match="scheme must be one of tile, patch, .* not 'toy'"):
        load_tables(path)


def test_every_registered_scheme_loads():
    for word in schemes.words():
        scheme = schemes.get(word)
        assert isinstance(scheme.keys, frozenset) and callable(scheme.parse)
