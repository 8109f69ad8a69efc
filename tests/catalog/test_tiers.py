"""Service tiers, cached input and the long-context rate (docs/prices.md; issue 11).

Expected dollars are written out by hand from the vendors' published rates (through
genai-prices 0.2.3 and docs/prices.md), never computed with the code under test; the generated
tiers are also held to genai-prices' own resolution of its price variants.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.catalog.tables import TIERS, default_tables, get_price, load_tables, tables_dir
from costcalc.cli import cli
from costcalc.errors import CostcalcError, TableError, TierError
from costcalc.pricing.cost import Pricer, price_size
from costcalc.pricing.estimate import estimate
from costcalc.pricing.request import count_request

MILLION = 1_000_000


def rate(model: str, tier: str = "standard", **options) -> Decimal:
    """USD per 1M tokens as billed in a short request (below any long-context threshold)."""
    price = get_price(model)
    per_token = price.usd(1, tier=tier, **options)
    assert price.rate(tier=tier, input_tokens=1, **options) == per_token * MILLION
    return per_token * MILLION


# ------------------------------------------------------------------ tiers per vendor


@pytest.mark.parametrize(
    "model, standard, batch",
    [
        ("gpt-4o", "2.5", "1.25"),  # genai-prices variant (processing: batch)
        ("gpt-4-vision-preview", "10", "5"),  # no variant: OpenAI's Batch default, 50% off
        ("claude-sonnet-4-5", "3", "1.5"),
        ("claude-opus-4-7", "5", "2.5"),
        ("gemini-2.5-flash", "0.3", "0.15"),
        ("gemini-3-pro-preview", "2", "1"),  # no variant: Gemini's Batch default
    ],
)
def test_batch_is_half_of_standard_exactly(model, standard, batch):
    assert rate(model) == Decimal(standard)
    assert rate(model, "batch") == Decimal(batch)
    assert rate(model, "batch") * 2 == rate(model)


def test_batch_halves_an_image_estimate_exactly():
    """gpt-4o, 1024×1024 at high: 85 + 4 × 170 = 765 tokens (docs/openai.md)."""
    standard = price_size(1024, 1024, model="gpt-4o")
    batch = price_size(1024, 1024, model="gpt-4o", tier="batch")
    assert (standard.tokens, standard.usd, standard.tier) == (765, Decimal("0.0019125"), "standard")
    assert (batch.tokens, batch.usd, batch.tier) == (765, Decimal("0.00095625"), "batch")
    assert batch.as_dict()["tier"] == "batch" and batch.as_dict()["usd_per_1m_input"] == 1.25


@pytest.mark.parametrize(
    "model, tier, expected",
    [
        ("gpt-5", "flex", "0.625"),
        ("gpt-5", "priority", "2.5"),  # OpenAI Priority: about x2 (genai-prices variant)
        ("gpt-4o", "priority", "4.25"),
        ("gpt-4.1-mini", "priority", "0.7"),
        ("o3", "flex", "1"),
        ("gpt-5.6-sol", "priority", "10"),  # overrides.toml: the 5.00 list price, x2
        ("gpt-5.6-sol", "flex", "2.5"),
        ("gemini-2.5-flash", "flex", "0.15"),  # Gemini Flex: 50% off (vendor default)
    ],
)
def test_flex_and_priority_rates(model, tier, expected):
    assert rate(model, tier) == Decimal(expected)


def test_a_snapshot_is_priced_before_its_family_in_every_tier():
    """docs/prices.md: gpt-4o-2024-05-13 costs 5.00, its family 2.50; its own variants give batch and priority."""
    assert (rate("gpt-4o-2024-05-13"), rate("gpt-4o-2024-05-13", "batch"), rate("gpt-4o-2024-05-13", "priority")) == (
        Decimal("5"),
        Decimal("2.5"),
        Decimal("8.75"),
    )
    assert rate("gpt-4o-2024-08-06") == Decimal("2.5")
    assert price_size(512, 512, model="gpt-4o-2024-05-13").usd == Decimal("0.001275")  # 255 tokens × 5.00


@pytest.mark.parametrize(
    "model, tier, offered",
    [
        ("gpt-4o", "flex", "standard, batch, fast"),
        ("gpt-4-turbo", "priority", "standard, batch"),
        ("pixtral-12b", "batch", "standard"),  # Mistral: no tier in genai-prices for it, none in docs/prices.md
        ("claude-sonnet-4-5", "flex", "standard, batch"),
        ("qwen-vl-max", "priority", "standard, batch"),  # price unknown, DashScope's Batch still offered
    ],
)
def test_a_tier_the_model_lacks_is_an_error_naming_the_tiers_it_has(model, tier, offered):
    with pytest.raises(TierError, match=re.escape(f"{model} has no tier {tier}; it has: {offered}")) as caught:
        Pricer(model, tier=tier)
    with pytest.raises(TierError, match=re.escape(f"it has: {offered}")):
        default_tables().check_tier(model, tier)
    assert isinstance(caught.value, CostcalcError)
    for call in (
        lambda: price_size(100, 100, model=model, tier=tier),
        lambda: estimate((100, 100), model=model, tier=tier),
    ):
        with pytest.raises(TierError):
            call()


def test_xai_offers_the_standard_tier_only():
    """xAI: no tier in genai-prices 0.2.3 or docs/prices.md (grok-4's image rule is unpublished, so only the table says)."""
    assert default_tables().tiers("grok-4") == ("standard",)
    with pytest.raises(TierError, match="grok-4 has no tier batch; it has: standard"):
        default_tables().check_tier("grok-4", "batch")


@pytest.mark.parametrize("tier", ["cheap", "Batch", "", None, 2])
def test_a_tier_that_is_no_tier_is_an_error(tier):
    with pytest.raises(TierError, match="has no tier"):
        Pricer("gpt-4o", tier=tier)


def test_an_unpublished_tier_rate_is_unknown_not_guessed():
    """Gemini Priority: 75–100% over Standard by model, no per-model rate: offered, USD null."""
    result = price_size(1024, 1024, model="gemini-2.5-flash", tier="priority")
    assert result.tier == "priority" and result.tokens is not None and result.usd is None
    assert result.as_dict()["usd_per_1m_input"] is None
    assert "75% to 100%" in get_price("gemini-2.5-flash").rates("priority").note


def test_unpriced_model_keeps_its_vendors_tiers():
    assert default_tables().tiers("qwen-vl-max") == ("standard", "batch")
    assert price_size(1000, 1000, model="qwen-vl-max", tier="batch").usd is None


# ------------------------------------------------------------------ cached input


def test_anthropic_cache_reads_and_writes():
    """Anthropic: reads 0.1x (the row's own 0.30), writes 1.25x (5 minutes) and 2x (1 hour) of 3.00."""
    assert rate("claude-sonnet-4-5", cached=True) == Decimal("0.3")
    assert rate("claude-sonnet-4-5", cached="write") == Decimal("3.75")
    assert rate("claude-sonnet-4-5", cached="write_1h") == Decimal("6")
    assert rate("claude-sonnet-4-5", "batch", cached="write") == Decimal("1.875")  # 1.25 x the batch rate 1.50


def test_gemini_cached_read_is_ninety_percent_off():
    assert rate("gemini-2.5-flash", cached=True) == Decimal("0.03")  # the row's own rate
    assert rate("gemini-2.0-flash-lite", cached=True) == Decimal("0.0075")  # no own rate: 0.1 x 0.075


def test_openai_cached_rates_are_per_model_and_missing_ones_error():
    assert rate("gpt-4o", cached=True) == Decimal("1.25")
    assert rate("gpt-5", cached=True) == Decimal("0.125")
    with pytest.raises(TierError, match="gpt-4-turbo has no cached-input rate"):
        rate("gpt-4-turbo", cached=True)
    with pytest.raises(TierError, match="cached-input kind"):
        rate("gpt-4o", cached="sometimes")


def test_cached_tokens_in_a_request():
    """gpt-4o: 765 image tokens plus the text; 500 of them read from the cache at 1.25 instead of 2.50."""
    pytest.importorskip("tiktoken")
    payload = {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe it."},
                    {"type": "input_image", "file_id": "f", "detail": "high"},
                ],
            }
        ],
    }
    result = count_request(payload, file_sizes={"f": (1024, 1024)}, cached_tokens=500)
    assert result.text_tokens is not None and result.input_tokens == result.text_tokens + 765
    expected = (Decimal(result.input_tokens - 500) * Decimal("2.5") + 500 * Decimal("1.25")) / MILLION
    assert result.input_usd == expected and result.cached_tokens == 500
    assert result.usd == Decimal("0.0019125")  # the images alone, uncached
    with pytest.raises(CostcalcError, match="more than the request's"):
        count_request(payload, file_sizes={"f": (1024, 1024)}, cached_tokens=result.input_tokens + 1)
    with pytest.raises(TierError, match="gpt-4-turbo has no cached-input rate"):
        count_request(payload, model="gpt-4-turbo", file_sizes={"f": (1024, 1024)}, cached_tokens=1)
    with pytest.raises(CostcalcError, match="cached_tokens"):
        count_request(payload, file_sizes={"f": (1024, 1024)}, cached_tokens=-1)


# ------------------------------------------------------------------ long context


@pytest.mark.parametrize(
    "model, above, low, high",
    [
        ("gpt-5.4", 272_000, "2.5", "5"),
        ("gpt-6-sol", 272_000, "2", "4"),
        ("gpt-5.6-sol", 272_000, "5", "10"),
        ("claude-sonnet-4-5", 200_000, "3", "6"),
        ("gemini-2.5-pro", 200_000, "1.25", "2.5"),
        ("grok-4", 128_000, "3", "6"),  # grok-4: its own tier from 128K (overrides.toml)
    ],
)
def test_long_context_switches_above_the_threshold_for_the_whole_request(model, above, low, high):
    price = get_price(model)
    at, over = price.usd(above), price.usd(above + 1)
    assert at == Decimal(low) * above / MILLION
    assert over == Decimal(high) * (above + 1) / MILLION  # every token at the higher rate, not just the excess
    assert price.usd(1000, input_tokens=above) == Decimal(low) / 1000
    assert price.usd(1000, input_tokens=above + 1) == Decimal(high) / 1000


def test_long_context_in_each_tier():
    price = get_price("gpt-5.4")
    assert price.usd(MILLION, tier="batch", input_tokens=272_001) == Decimal("2.5")
    assert price.usd(MILLION, tier="flex", input_tokens=272_001, cached=True) == Decimal("0.25")
    assert price.usd(MILLION, tier="priority", input_tokens=272_001) is None  # genai-prices: no rate there


LONG_TABLE = """
[[price]]
names = ["gpt-4o"]
usd_per_1m_input = 2.00
long_context = {{ above = {above}, usd_per_1m_input = 3.00 }}
source = "test"
"""


def _with_threshold(tmp_path: Path, above: int):
    path = tmp_path / f"long-{above}.toml"
    path.write_text(LONG_TABLE.format(above=above))
    return load_tables(path)


def test_a_single_image_crossing_the_threshold_is_priced_at_the_long_rate(tmp_path):
    """A 1024×1024 image on gpt-4o is 765 tokens: exactly at a threshold of 765, over one of 764."""
    at = price_size(1024, 1024, model="gpt-4o", tables=_with_threshold(tmp_path, 765))
    over = price_size(1024, 1024, model="gpt-4o", tables=_with_threshold(tmp_path, 764))
    assert (at.usd, over.usd) == (Decimal("0.00153"), Decimal("0.002295"))
    assert (at.as_dict()["usd_per_1m_input"], over.as_dict()["usd_per_1m_input"]) == (2.0, 3.0)


def test_text_carries_a_request_over_the_threshold(tmp_path):
    """Image 765 + text: at the threshold nothing changes; one token over, the image too costs the long rate."""
    pytest.importorskip("tiktoken")
    payload = {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hello"},
                    {"type": "input_image", "file_id": "file-1", "detail": "high"},
                ],
            }
        ],
    }
    probe = count_request(payload, file_sizes={"file-1": (1024, 1024)})
    assert probe.text_tokens is not None, probe.text_note
    total = probe.text_tokens + 765
    at = count_request(payload, file_sizes={"file-1": (1024, 1024)}, tables=_with_threshold(tmp_path, total))
    over = count_request(payload, file_sizes={"file-1": (1024, 1024)}, tables=_with_threshold(tmp_path, total - 1))
    assert (at.input_tokens, at.long_context, at.images[0].usd) == (total, False, Decimal("0.00153"))
    assert (over.input_tokens, over.long_context, over.images[0].usd) == (total, True, Decimal("0.002295"))
    assert over.input_usd == Decimal(3) * total / MILLION and at.input_usd == Decimal(2) * total / MILLION


def test_unmeasured_text_leaves_the_long_context_rate_open():
    payload = {
        "model": "claude-sonnet-4-5",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image", "source": {"type": "file", "file_id": "f"}},
                ],
            }
        ],
    }
    result = count_request(payload, file_sizes={"f": (200, 200)})
    assert result.text_tokens is None and result.input_tokens is None and result.long_context is None
    assert "200,000" in result.input_note


# ------------------------------------------------------------------ exactness


@settings(max_examples=150, deadline=None)
@given(
    tokens=st.integers(0, 10**9),
    tier=st.sampled_from(["standard", "batch", "priority"]),
    model=st.sampled_from(["gpt-4o", "gpt-5.4", "gpt-6-sol", "o3"]),
    cached=st.booleans(),
)
def test_money_is_exact_whatever_the_callers_context(tokens, tier, model, cached):
    price = get_price(model)
    applied = price.rates(tier)
    long = applied.long_context is not None and tokens > applied.long_context.above
    per_million = (
        (applied.long_context.cached_input if cached else applied.long_context.usd_per_1m_input)
        if long
        else (applied.cached_input if cached else applied.usd_per_1m_input)
    )
    with localcontext() as context:
        context.prec = 3  # a caller's coarse context must not round money
        got = price.usd(tokens, tier=tier, cached=cached)
    if per_million is None:  # a tier silent above the long-context threshold: unknown there
        assert got is None
        return
    assert Fraction(got) == Fraction(per_million) * tokens / MILLION


# ------------------------------------------------------------------ the tables


def test_every_tier_row_of_the_tables_parses_and_offers_standard_first():
    for model in default_tables().models():
        offered = default_tables().tiers(model)
        assert offered[0] == "standard" and set(offered) <= set(TIERS)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[tiers.cheap]\nmultiply = 0.5\n", "unknown key"),
        ('[tiers.batch]\nsource = "x"\n', "either multiply"),
        ('[tiers.batch]\nmultiply = 0.5\nunknown = "why"\n', "either multiply"),
        (
            '[[price]]\nnames = ["gpt-4o"]\nusd_per_1m_input = 1\ntiers.batch = { usd_per_1m_input = "unknown" }\n',
            "note",
        ),
        (
            '[[price]]\nnames = ["gpt-4o"]\nusd_per_1m_input = 1\ntiers.standard = { usd_per_1m_input = 1 }\n',
            "unknown key",
        ),
        ('[[price]]\nnames = ["gpt-4o"]\nusd_per_1m_input = 1\ntiers.batch = { usd_per_1m_input = -1 }\n', "positive"),
        ("[cache]\nread = 0.1\nlater = 2\n", "unknown key"),
    ],
)
def test_bad_tier_data_is_a_table_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text('vendor = "openai"\n' + text if text.startswith("[tiers") or text.startswith("[cache") else text)
    with pytest.raises(TableError, match=message) as caught:
        load_tables(path)
    assert str(path) in str(caught.value)


def test_a_users_file_can_give_a_vendor_a_tier(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('vendor = "xai"\n[tiers.batch]\nmultiply = 0.5\nsource = "my contract"\n')
    tables = load_tables(path)
    assert tables.price("grok-4").usd(MILLION, tier="batch", input_tokens=1) == Decimal("1.5")
    assert tables.price("grok-4").usd(MILLION, tier="batch") == Decimal("3")  # over 200K: xAI's doubled rate, halved


# ------------------------------------------------------------------ genai-prices, the source


@pytest.fixture(scope="module")
def snapshot():
    pytest.importorskip("genai_prices", reason="genai-prices is not installed (pip install -e '.[test]')")
    from genai_prices.data_snapshot import get_snapshot

    return get_snapshot()


CONTEXTS = {
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}
GENERATED = re.compile(r"genai-prices [\w.]+ \(pydantic/genai-prices\), (?P<provider>[^/]+)/(?P<model>.+)")


def _split(value):
    if value is None or not hasattr(value, "tiers"):
        return value, None
    return value.base, {"above": value.tiers[0].start, "usd_per_1m_input": value.tiers[0].price}


def test_generated_tiers_equal_genai_prices_variants(snapshot):
    """Each row's tiers.<tier> is what genai-prices resolves for that price context; no variant, no row tier."""
    import tomllib

    checked, problems = 0, []
    for path in sorted((tables_dir() / "prices").glob("*.toml")):
        for row in tomllib.loads(path.read_text(), parse_float=Decimal).get("price", []):
            found = GENERATED.fullmatch(row["source"])
            if not found:
                continue
            provider = next(p for p in snapshot.providers if p.id == found["provider"])
            model = next(m for m in provider.models if m.id == found["model"])
            seen = dt.date.fromisoformat(row["checked"])  # a dated row is read on its window's last day
            day = row.get("valid_until") or max(row.get("valid_from") or seen, seen)
            when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            for tier, context in CONTEXTS.items():
                active = any(
                    v.when == context and (v.constraint is None or v.constraint.active(when))
                    for v in model.price_variants or ()
                )
                # OpenAI renamed Priority to Fast: its rows file genai-prices' priority variant as tiers.fast
                ours = row.get("tiers", {}).get("fast" if tier == "priority" and path.stem == "openai" else tier)
                if not active:
                    if ours is not None:
                        problems.append(f"{row['names'][0]}: {tier} without a genai-prices variant")
                    continue
                prices = model.get_prices(when, context)
                image = prices.__dict__.get("input_image_mtok")
                rate, cached = (
                    (image, prices.__dict__.get("cache_image_read_mtok"))
                    if image is not None
                    else (prices.input_mtok, prices.cache_read_mtok)
                )
                (base, long), (cached_base, cached_long) = _split(rate), _split(cached)
                theirs = {"usd_per_1m_input": base} | ({"cached_input": cached_base} if cached_base is not None else {})
                if long is not None:
                    theirs["long_context"] = long | (
                        {"cached_input": cached_long["usd_per_1m_input"]} if cached_long else {}
                    )
                if ours != theirs:
                    problems.append(f"{row['names'][0]} {tier}: ours {ours}, genai-prices {theirs}")
                checked += 1
    assert checked > 50 and not problems, problems


# ------------------------------------------------------------------ the command line


def test_cli_tier_on_estimate():
    result = CliRunner().invoke(cli, ["estimate", "--size", "1024x1024", "-m", "gpt-4o", "--tier", "batch", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["tier"], row["usd"], row["usd_per_1m_input"]) == ("batch", 0.00095625, 1.25)


def test_cli_tier_the_model_lacks_exits_2_naming_the_tiers():
    result = CliRunner().invoke(cli, ["estimate", "--size", "1024x1024", "-m", "gpt-4o", "--tier", "flex"])
    assert result.exit_code == 2
    assert "--tier flex: gpt-4o has no tier flex; it has: standard, batch, fast" in result.output
    result = CliRunner().invoke(cli, ["estimate", "--size", "1x1", "-m", "gpt-4o", "--tier", "cheap"])
    assert result.exit_code == 2


def test_cli_tier_on_audit_request_and_video(tmp_path):
    samples = Path(__file__).resolve().parents[2] / "samples"
    result = CliRunner().invoke(
        cli, ["audit", str(samples / "icon.webp"), "-m", "gpt-4o", "--tier", "batch", "--nl", "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.splitlines()[0])
    assert (row["tier"], row["tokens"], row["usd"]) == ("batch", 255, 0.00031875)  # 255 × 1.25 / 1M
    assert CliRunner().invoke(cli, ["audit", str(samples), "-m", "grok-4", "--tier", "batch"]).exit_code == 2

    payload = tmp_path / "p.json"
    payload.write_text(
        json.dumps({"model": "gpt-4o", "input": [{"type": "input_image", "file_id": "f", "detail": "high"}]})
    )
    result = CliRunner().invoke(
        cli, ["request", str(payload), "--file-size", "f=1024x1024", "--tier", "priority", "--json"]
    )
    document = json.loads(result.output)
    assert (document["tier"], document["images"][0]["usd"]) == ("priority", 0.00325125)  # 765 × 4.25 / 1M
    assert CliRunner().invoke(cli, ["request", str(payload), "--tier", "flex"]).exit_code == 2

    pytest.importorskip("av")
    result = CliRunner().invoke(
        cli, ["video", str(samples / "banner.gif"), "-m", "gpt-4o", "--tier", "batch", "--json"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["tier"] == "batch" and Decimal(str(row["usd"])) == Decimal(row["tokens"]) * Decimal("1.25") / MILLION
    assert (
        CliRunner().invoke(cli, ["video", str(samples / "banner.gif"), "-m", "gpt-4o", "--tier", "flex"]).exit_code == 2
    )


def test_a_tier_without_long_context_rates_is_unknown_above_the_threshold():
    """gpt-5.4 standard bills $5/M above 272,000 (docs/prices.md); its priority row is silent there: unknown, with why."""
    from decimal import Decimal as D

    from costcalc.catalog.tables import default_tables

    price = default_tables().price("gpt-5.4")
    assert price.usd(272_000, tier="priority") == D("5.0") * 272_000 / 1_000_000  # at the threshold: base rate
    assert price.usd(360_007, tier="priority") is None
    assert price.usd(360_007, tier="priority", cached=True) is None
    assert "no long-context rate" in price.rates("priority").note
    assert price.usd(360_007, tier="batch") == D("2.5") * 360_007 / 1_000_000  # batch publishes its own


# ------------------------------------------------------------------ OpenAI Fast and Ultrafast, regional processing


@pytest.mark.parametrize(
    "model, day, tier, expected",
    [
        # gpt-6.2-sol standard 2.00 (OpenAI's gpt-6.2 page): Fast 2x, Ultrafast 3x until 2027-02-28, 6x after
        ("gpt-6.2-sol", "2026-12-06", "fast", "4.0"),
        ("gpt-6.2-sol", "2026-12-06", "priority", "4.0"),  # the old word, still accepted
        ("gpt-6.2-sol", "2026-12-06", "ultrafast", "6"),
        ("gpt-6.2-sol", "2027-02-28", "ultrafast", "6"),
        ("gpt-6.2-sol", "2027-03-01", "ultrafast", "12"),
        ("gpt-6.2-astra", "2026-12-06", "ultrafast", "24"),  # 8.00 x 3
        ("gpt-6.2-astra", "2027-03-01", "ultrafast", "48"),
    ],
)
def test_openai_fast_and_ultrafast_are_dated_multiples(model, day, tier, expected):
    price = get_price(model, as_of=dt.date.fromisoformat(day))
    assert price.rate(tier=tier) == Decimal(expected)


def test_ultrafast_doubles_above_the_long_context_threshold_too():
    price = get_price("gpt-6.2-sol", as_of=dt.date(2026, 12, 6))
    assert price.rate(tier="ultrafast", input_tokens=272_001) == Decimal("12.0")  # 4.00 above 272K, x3
    assert price.rate(tier="ultrafast", cached=True) == Decimal("0.3")  # cached 0.10, x3


def test_gpt_6_2_has_fast_and_ultrafast_but_no_flex():
    assert default_tables().tiers("gpt-6.2-sol") == ("standard", "batch", "fast", "ultrafast")
    with pytest.raises(TierError, match="gpt-6.2-sol has no tier flex; it has: standard, batch, fast, ultrafast"):
        default_tables().check_tier("gpt-6.2-sol", "flex")
    assert default_tables().check_tier("gpt-5", "priority") == "priority"  # OpenAI: priority is fast
    with pytest.raises(TierError):  # no Ultrafast row for an older model
        default_tables().check_tier("gpt-5", "ultrafast")


def test_gemini_priority_is_not_renamed():
    assert "priority" in default_tables().tiers("gemini-4-argon") and "fast" not in default_tables().tiers(
        "gemini-4-argon"
    )


def test_regional_processing_is_ten_percent_where_documented_and_unknown_elsewhere():
    regional = default_tables().in_region()
    assert regional.price("gpt-6.2-sol").usd_per_1m_input == Decimal("2.20")
    assert regional.price("gpt-6.2-sol").rate(tier="fast") == Decimal("4.40")
    assert regional.price("nova-2-lite").usd_per_1m_input == Decimal("0.33")  # genai-prices' regional id says 0.33
    assert regional.price("gpt-4o") is None and regional.price("claude-opus-4-7") is None
    import costcalc

    assert costcalc.estimate((512, 512), model="gpt-4o", regional=True).usd is None
    assert costcalc.estimate((512, 512), model="gpt-4o").usd is not None
    result = CliRunner().invoke(cli, ["models", "gpt-6.2-sol", "--regional", "--json"])
    assert json.loads(result.stdout)[0]["usd_per_1m_input"] == 2.2


def test_tier_rows_are_checked(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tier]]\nnames = ["gpt-4o"]\ntier = "turbo"\nmultiply = 2\nsource = "x"\n')
    with pytest.raises(TableError, match="tier must be one of"):
        load_tables(bad)
    bad.write_text(
        '[[tier]]\nnames = ["gpt-4o"]\ntier = "fast"\nmultiply = 2\nsource = "x"\n'
        '[[tier]]\nnames = ["gpt-4o"]\ntier = "fast"\nmultiply = 3\nsource = "y"\nvalid_from = 2026-01-01\n'
    )
    with pytest.raises(TableError, match="overlap"):
        load_tables(bad)
    bad.write_text('[[regional]]\nnames = ["gpt-4o"]\nmultiply = -1\nsource = "x"\n')
    with pytest.raises(TableError, match="positive"):
        load_tables(bad)
