"""The model and price tables: docs/openai.md transcribed, lookup rules, user files, packaging."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import costcalc
from costcalc import get_model, get_price, list_models, load_tables
from costcalc.catalog.tables import tables_dir
from costcalc.schemes.patch import PatchRule
from costcalc.schemes.tile import FixedRule, TileRule

# docs/openai.md, tile models: name → (base, tile, short side)
TILE = {
    "gpt-5.1": (70, 140, 768),
    "gpt-5": (70, 140, 768),
    "gpt-5-chat-latest": (70, 140, 768),
    "gpt-4o": (85, 170, 768),
    "gpt-4.1": (85, 170, 768),
    "gpt-4.5-preview": (85, 170, 768),
    "gpt-4-turbo": (85, 170, 768),
    "gpt-4-vision-preview": (85, 170, 768),
    "azure/gpt-4-vision-preview": (65, 129, 768),
    "gpt-4o-mini": (2833, 5667, 768),
    "o1": (75, 150, 768),
    "o1-pro": (75, 150, 768),
    "o3": (75, 150, 768),
    "computer-use-preview": (65, 129, 768),
    "gpt-image-1": (65, 129, 512),
}
# docs/openai.md, patch models: name → ({detail: (max_dimension, budget)}, auto, multiplier)
P1536 = {"low": (2048, 1536), "high": (2048, 1536)}
PATCH = {
    "gpt-6-astra": ({"low": (512, None), "high": (65535, 2500), "original": (65535, None)}, "original", "1.2"),
    **{
        f"gpt-5.6-{n}": ({"low": (512, None), "high": (2048, 2500), "original": (65535, None)}, "original", "1.2")
        for n in ("sol", "terra", "luna")
    },
    "gpt-5.5": ({"low": (512, None), "high": (2048, 2500), "original": (6000, 10000)}, "original", "1.2"),
    **{
        n: ({"low": (2048, 6144), "high": (2048, 2500), "original": (6000, 10000)}, "high", "1.2")
        for n in ("gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano")
    },
    "gpt-5.2": ({"low": (2048, 6144), "high": (2048, 6144)}, "high", "1.2"),
    "gpt-4.1-mini": ({"low": (2048, 6144), "high": (2048, 6144)}, "high", "1.62"),
    "gpt-4.1-mini-2025-04-14": (P1536, "high", "1.62"),
    "gpt-4.1-nano": (P1536, "high", "2.46"),
    "o4-mini": (P1536, "high", "1.72"),
    "gpt-5-mini": (P1536, "high", "1.2"),
    "gpt-5-nano": (P1536, "high", "1.5"),
}
# docs/openai.md: today's models, multiplier unknown (tests/catalog/test_unpublished_multipliers.py); the @2025 rows of
# gpt-5-mini and gpt-5-nano are retired (a documentation error, never billed)
TODAY = {"gpt-6-sol", "gpt-6-luna", "gpt-6.1-sol", "gpt-6.1-terra", "gpt-6.2-astra", "gpt-6.2-sol"}


@pytest.mark.parametrize("name", sorted(TILE))
def test_tile_rows_match_the_spec(name):
    base, tile, short = TILE[name]
    model = get_model(name)
    assert model.scheme == "tile" and model.auto == "high" and model.details == ("low", "high", "auto")
    low, high = dict(model.rules)["low"], dict(model.rules)["high"]
    assert low == FixedRule(tokens=base, fit=512)
    assert high == TileRule(base=base, tile=tile, fit=2048, short_side=short, tile_size=512)


@pytest.mark.parametrize("name", sorted(PATCH))
def test_patch_rows_match_the_spec(name):
    details, auto, multiplier = PATCH[name]
    model = get_model(name)
    assert model.scheme == "patch" and model.auto == auto and model.multiplier == Decimal(multiplier)
    rules = dict(model.rules)
    assert set(rules) == set(details)
    for level, (max_dimension, budget) in details.items():
        rule = rules[level]
        assert isinstance(rule, PatchRule)
        assert (rule.max_dimension, rule.patch_budget, rule.patch_size, rule.max_patches) == (
            max_dimension,
            budget,
            32,
            30000,
        )


def test_the_table_is_exactly_the_spec():
    openai = {
        m.name for m in list_models() if m.vendor == "openai"
    }  # other vendors: tests/schemes/test_vendor_rules.py
    assert openai == set(TILE) | set(PATCH) | TODAY | {"gpt-4.1-mini@2025"}


def test_every_row_has_a_source_and_dates():
    for model in list_models():
        assert model.source and model.date and model.checked, model.name
        price = get_price(model)
        if price is not None:
            assert price.source and price.date and price.checked, model.name


def test_unknown_prices_stay_unknown():
    assert get_price("qwen3-vl-plus") is None  # no USD price of Alibaba's own on file (docs/prices.md)
    assert costcalc.estimate((100, 100), model="qwen3-vl-plus").usd is None
    assert get_price("gpt-4o").usd_per_1m_input == Decimal("2.50")


def test_lookup_exact_then_dated_snapshot():
    snapshot = get_model("gpt-4o-2024-08-06")
    assert (snapshot.name, snapshot.family) == ("gpt-4o-2024-08-06", "gpt-4o")
    assert get_price("gpt-4o-2024-08-06") == get_price("gpt-4o")
    # a snapshot with its own row is not sent to its family
    assert get_model("gpt-4.1-mini-2025-04-14").family == "gpt-4.1-mini-2025-04-14"
    assert get_model("gpt-4o-mini-2024-07-18").family == "gpt-4o-mini"  # never a prefix match on gpt-4o
    assert get_model(" GPT-4o ").name == "gpt-4o"


@pytest.mark.parametrize("name", ["gpt-4x", "gpt-4o-latest", "gpt-4o-2024-08", "gpt", "", "claude-3"])
def test_unknown_model_is_a_keyerror_with_close_matches(name):
    with pytest.raises(costcalc.UnknownModelError) as caught:
        get_model(name)
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, costcalc.CostcalcError)
    assert "costcalc models" in str(caught.value)


def test_unknown_model_suggests():
    with pytest.raises(KeyError, match="did you mean gpt-4o"):
        get_model("gpt-4x")


def test_tables_are_immutable():
    tables = costcalc.default_tables()
    with pytest.raises(TypeError):
        tables._models["x"] = None
    with pytest.raises(AttributeError):  # a frozen dataclass
        get_model("gpt-4o").scheme = "patch"


USER_TABLE = """
[[model]]
names = ["my-vision", "my-vision-large"]
scheme = "patch"
multiplier = 1.25
auto = "high"
high = { max_dimension = 1024, patch_budget = 256 }

[[model]]
name = "gpt-4o"
scheme = "tile"
base = 100
tile = 200

[[price]]
names = ["my-vision"]
usd_per_1m_input = 3.00
source = "our contract"
date = "2026-11-01"
"""


def test_user_table_adds_and_overrides(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(USER_TABLE)
    tables = load_tables(path)
    assert costcalc.image_tokens(2048, 2048, model="my-vision", tables=tables) == 320  # 256 × 1.25
    assert costcalc.image_tokens(1024, 1024, model="gpt-4o", detail="high", tables=tables) == 100 + 4 * 200
    assert costcalc.estimate((2048, 2048), model="my-vision", tables=tables).usd == Decimal("0.00096")
    assert get_price("my-vision-large", tables=tables) is None
    assert get_model("gpt-4o", tables=tables).source == str(path)
    # the shipped tables are untouched
    assert costcalc.image_tokens(1024, 1024, model="gpt-4o", detail="high") == 765
    with pytest.raises(costcalc.UnknownModelError):
        get_model("my-vision")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[model]]\nnames=['x']\nscheme='tile'\nbase=1\n", "missing tile"),
        ("[[model]]\nnames=['x']\nscheme='tile'\nbase=1\ntile=2\nbudget=3\n", "unknown key"),
        ("[[model]]\nnames=['x']\nscheme='hex'\n", "scheme must be"),
        ("[[model]]\nnames=['x']\nscheme='patch'\nmultiplier=1.2\nauto='low'\nhigh={max_dimension=10}\n", "auto must"),
        ("[[model]]\nnames=['x']\nscheme='patch'\nmultiplier=0\nauto='high'\nhigh={max_dimension=10}\n", "multiplier"),
        (
            "[[model]]\nnames=['x']\nscheme='patch'\nmultiplier=1\nauto='high'\nhigh={max_dimension=0}\n",
            "max_dimension",
        ),
        ("[[model]]\nnames=[]\nscheme='tile'\n", "names"),
        ("[[price]]\nnames=['x']\nusd_per_1m_input='cheap'\n", "usd_per_1m_input"),
        ("model = 3\n", "array of tables"),
        ("[[model]\n", "not valid TOML"),
    ],
)
def test_bad_user_tables_name_file_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(costcalc.TableError, match=message) as caught:
        load_tables(path)
    assert str(path) in str(caught.value)


def test_missing_user_table(tmp_path):
    with pytest.raises(costcalc.TableError, match="cannot read"):
        load_tables(tmp_path / "nope.toml")


def test_installed_package_finds_its_tables_from_another_folder(tmp_path):
    """A non-editable install carries the tables inside the package (pyproject force-include)."""
    package = Path(costcalc.__file__).resolve().parent
    if "site-packages" in package.parts:
        assert tables_dir() == package / "tables"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-m", "costcalc", "models", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(out.stdout)) == len(list_models())
