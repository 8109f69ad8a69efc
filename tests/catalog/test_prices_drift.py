"""The shipped price tables against their sources (docs/prices.md).

Generated rows (tables/update_prices.py) must equal the pinned genai-prices, so a bumped
pin or a hand-edit shows up here naming the model, our price and genai-prices' price.
Every model has a price or a reasoned place in UNKNOWN; no price row is an orphan; and the
CLI's start-up never imports genai-prices or pydantic.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.catalog.tables import default_tables, get_price, list_models, tables_dir
from costcalc.errors import UnknownModelError

ROOT = Path(__file__).resolve().parents[2]
PRICES = tables_dir() / "prices"
GENERATED = re.compile(r"genai-prices (?P<version>[\w.]+) \(pydantic/genai-prices\), (?P<provider>[^/]+)/(?P<model>.+)")

_DASHSCOPE = (
    "genai-prices 0.2.3 has no Alibaba / DashScope provider, and no USD price page of Alibaba's own "
    "was found (only CNY and third-party copies): unknown until one is (tables/prices/overrides.toml)"
)
_OPEN_WEIGHTS = "an open-weights (Hugging Face) name: each host sets its own price; no vendor API price"
UNKNOWN = {
    # model name -> why it has no price (docs/prices.md: unknown stays unknown, never borrowed)
    "llama-4-scout": "genai-prices prices Llama 4 per host only (Bedrock's llama4-scout-17b-instruct is priced)",
    "llama-4-maverick": "genai-prices prices Llama 4 per host only (Bedrock's llama4-maverick-17b-instruct is priced)",
    "llama-4-scout-17b-16e-instruct": _OPEN_WEIGHTS,
    "llama-4-maverick-17b-128e-instruct": _OPEN_WEIGHTS,
    "llama-4-maverick-17b-128e-instruct-fp8": _OPEN_WEIGHTS,
    "pixtral-large-instruct-2411": _OPEN_WEIGHTS,
    "mistral-small-3.2-24b-instruct-2506": _OPEN_WEIGHTS,
    "mistral-small-3.1-24b-instruct-2503": _OPEN_WEIGHTS,
    "mistral-small-3.1": "genai-prices 0.2.3 has no mistral-small-2503 (its mistral-small-3.1-24b-instruct "
    "row, 0.351, names no API id)",
    "mistral-small-2503": "genai-prices 0.2.3 has no mistral-small-2503",
    "devstral-small-2512": "genai-prices 0.2.3 knows only labs-devstral-small-2512; not the same id",
    "grok-4.1": "genai-prices 0.2.3 prices grok-4-1-fast only, not grok-4.1",
    "grok-4-1": "genai-prices 0.2.3 prices grok-4-1-fast only, not grok-4.1",
    **dict.fromkeys(
        (
            "qwen3-vl-plus",
            "qwen3-vl-flash",
            "qwen-vl-max",
            "qwen-vl-plus",
            "qwen3.5-plus",
            "qwen3.5-flash",
            "qwen3.6-plus",
            "qwen3-vl-235b-a22b-instruct",
            "qwen3-vl-235b-a22b-thinking",
            "qwen3-vl-32b-instruct",
            "qwen3-vl-30b-a3b-instruct",
            "qwen3-vl-8b-instruct",
            "qvq-max",
            "qvq-plus",
            "qvq-72b-preview",
            "qwen2.5-vl-72b-instruct",
            "qwen2.5-vl-32b-instruct",
            "qwen2.5-vl-7b-instruct",
            "qwen2.5-vl-3b-instruct",
            "qwen-vl-max-2025-04-08",
            "qwen-vl-max-2025-04-02",
            "qwen-vl-max-2025-01-25",
            "qwen-vl-max-2024-12-30",
            "qwen-vl-max-2024-11-19",
            "qwen-vl-max-2024-10-30",
            "qwen-vl-max-2024-08-09",
            "qwen-vl-plus-2025-05-07",
            "qwen-vl-plus-2025-01-25",
            "qwen-vl-plus-2025-01-02",
            "qwen-vl-plus-2024-08-09",
        ),
        _DASHSCOPE,
    ),
}


def _rows(path: Path) -> list[dict]:
    """A price file's rows, read straight from the TOML (not through costcalc's parser)."""
    return tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal).get("price", [])


def _price_rows():
    for path in sorted(PRICES.glob("*.toml")):
        for index, row in enumerate(_rows(path), start=1):
            yield path, index, row


GENERATED_ROWS = [
    pytest.param(row, GENERATED.fullmatch(row["source"]), id=f"{path.stem}:{row['names'][0]}")
    for path, _, row in _price_rows()
    if GENERATED.fullmatch(row["source"])
]


def _pin() -> str:
    test_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    (pin,) = [req.split("==")[1] for req in test_extra if req.replace(" ", "").startswith("genai-prices==")]
    return pin


@pytest.fixture(scope="module")
def snapshot():
    """The installed genai-prices data (the test extra pins its version)."""
    genai_prices = pytest.importorskip(
        "genai_prices", reason="genai-prices is not installed (pip install -e '.[test]'): price drift not checked"
    )
    from genai_prices.data_snapshot import get_snapshot

    return genai_prices.__version__, get_snapshot()


def test_the_tables_are_generated_from_the_pinned_version():
    assert GENERATED_ROWS, "no row generated from genai-prices: run python tables/update_prices.py"
    versions = {match["version"] for _, match in (p.values for p in GENERATED_ROWS)}
    assert versions == {_pin()}, f"rows from genai-prices {versions}, pyproject pins {_pin()}: regenerate the tables"


def test_the_installed_genai_prices_is_the_pinned_one(snapshot):
    version, _ = snapshot
    assert version == _pin(), f"genai-prices {version} installed, {_pin()} pinned: pip install genai-prices=={_pin()}"


def _split(value):
    """(base, (start, tier rate) | None) of a genai-prices rate; None stays None."""
    if value is None or not hasattr(value, "tiers"):
        return value, None
    assert len(value.tiers) == 1, f"{len(value.tiers)} tiers: our rows hold one"
    return value.base, (value.tiers[0].start, value.tiers[0].price)


def _read_on(row: dict) -> dt.date:
    """The day a generated row is read on: its window's last day, else its first day or the day it was checked."""
    checked = dt.date.fromisoformat(row["checked"])
    return row.get("valid_until") or max(row.get("valid_from") or checked, checked)


@pytest.mark.parametrize("row, source", GENERATED_ROWS)
def test_a_generated_row_equals_genai_prices(snapshot, row, source):
    _, data = snapshot
    where = f"{row['names']} ({source['provider']}/{source['model']})"
    provider = next((p for p in data.providers if p.id == source["provider"]), None)
    model = next((m for m in provider.models if m.id == source["model"]), None) if provider else None
    assert model is not None, f"{where}: genai-prices no longer has this model"
    prices = model.get_prices(dt.datetime.combine(_read_on(row), dt.time(12), tzinfo=dt.UTC))
    image = prices.__dict__.get("input_image_mtok")  # gpt-image-1: image input has its own rate
    rate, cached = (
        (image, prices.__dict__.get("cache_image_read_mtok"))
        if image is not None
        else (prices.input_mtok, prices.cache_read_mtok)
    )
    (base, tier), (cached_base, cached_tier) = _split(rate), _split(cached)
    ours = row.get("long_context")
    assert (row["usd_per_1m_input"], row.get("cached_input")) == (base, cached_base), (
        f"{where}: ours {row['usd_per_1m_input']} (cached {row.get('cached_input')}), "
        f"genai-prices now {base} (cached {cached_base}): regenerate or move the row to overrides.toml"
    )
    theirs = (
        None
        if tier is None
        else {"above": tier[0], "usd_per_1m_input": tier[1]} | ({"cached_input": cached_tier[1]} if cached_tier else {})
    )
    assert ours == theirs, f"{where}: long context ours {ours}, genai-prices now {theirs}"


def test_each_generated_name_still_resolves_to_its_row(snapshot):
    """genai-prices still maps each of our names to the model its row names (the generator's references)."""
    _, data = snapshot
    from costcalc.catalog import genai as script

    tables = default_tables()
    vendors = {name: vendor for vendor, name in script.model_names(tables)}
    moved = []
    for row, source in (p.values for p in GENERATED_ROWS):
        for name in row["names"]:
            vendor = vendors[tables.model(name).family]  # a snapshot row: its family's vendor
            found = script.lookup(data, vendor, name, _read_on(row))
            if found is None or (found.provider, found.model) != (source["provider"], source["model"]):
                moved.append(f"{name}: {source['provider']}/{source['model']} -> {found and found.model}")
    assert not moved, f"regenerate the price tables: {moved}"


def test_every_model_has_a_price_or_a_reason():
    names = {model.name for model in list_models()}
    unpriced = sorted(name for name in names if get_price(name) is None)
    assert unpriced == sorted(UNKNOWN), (
        f"without a price and not in UNKNOWN: {sorted(set(unpriced) - set(UNKNOWN))}; "
        f"in UNKNOWN but priced or gone: {sorted(set(UNKNOWN) - set(unpriced))}"
    )
    assert all(reason.strip() for reason in UNKNOWN.values())


def test_no_price_row_is_an_orphan_or_a_duplicate():
    tables, seen, problems = default_tables(), {}, []
    for path, index, row in _price_rows():
        assert row.get("source") and row.get("date") and row.get("checked"), f"{path.name} row {index}"
        for name in row["names"]:
            try:
                tables.model(name)  # exact, or a dated snapshot of a model in the tables
            except UnknownModelError:
                problems.append(f"{path.name} row {index}: {name} is in no model table")
            if seen.get(name, path.name) != path.name:
                problems.append(f"{name} is priced in both {seen[name]} and {path.name}")
            seen[name] = path.name
    assert not problems, problems


def test_a_snapshot_is_priced_before_its_family():
    """docs/prices.md: gpt-4o-2024-05-13 costs 5.00 while gpt-4o costs 2.50."""
    assert get_price("gpt-4o-2024-05-13").usd_per_1m_input == Decimal("5.00")
    assert get_price("gpt-4o").usd_per_1m_input == Decimal("2.50")
    assert get_price("gpt-4o-2024-08-06").usd_per_1m_input == Decimal("2.50")


def test_spec_section_7_prices():
    """Every docs/prices.md price of a model in the tables, whichever file holds it."""
    spec = {
        "gpt-6-astra": "10.00",
        "gpt-5.6-sol": "5.00",
        "gpt-5.6-terra": "2.00",
        "gpt-5.6-luna": "0.20",
        "gpt-5.2": "1.75",
        "gpt-5-chat-latest": "1.25",
        "gpt-4-turbo": "10.00",
        "o1-pro": "150.00",
        "computer-use-preview": "3.00",
        # today's models (docs/openai.md rows: multiplier unknown, so their image USD stays null)
        "gpt-6-sol": "2.00",
        "gpt-6-luna": "0.10",
        "gpt-6.1-sol": "2.00",
        "gpt-6.2-astra": "8.00",
        "gpt-6.2-sol": "2.00",
    }
    got = {name: get_price(name).usd_per_1m_input for name in spec}
    assert got == {name: Decimal(price) for name, price in spec.items()}
    long_context = get_price("gpt-5.6-sol").long_context  # docs/prices.md: doubles above 272K
    assert (long_context.above, long_context.usd_per_1m_input) == (272000, Decimal("10.00"))


def test_the_cli_never_imports_genai_prices_or_pydantic():
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "costcalc", "estimate", "--size", "1x1", "-m", "gpt-4o"],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "costcalc.catalog.tables" in imported  # the check sees costcalc's own imports
    heavy = sorted(m for m in imported if m.split(".")[0] in {"genai_prices", "pydantic", "pydantic_core"})
    assert not heavy, heavy
