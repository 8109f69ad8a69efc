"""Exact money and finite numbers (issue 9): USD never depends on the caller's decimal context; a table with inf
or nan is a table error (exit 2); no NaN or Infinity in any JSON output.

Expected amounts are worked by hand or with fractions.Fraction, never with costcalc's own arithmetic.
"""

import base64
import decimal
import io
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc import TableError, check_budget, count_request, load_tables
from costcalc.catalog.tables import Price
from costcalc.cli import cli
from costcalc.money import MAX_USD, Overrun, over_budget, parse_usd, usd_sum
from costcalc.output.report import format_usd, to_json, to_lines

# gpt-4o at 2.50 USD per 1M input tokens, whatever the shipped price file says today
PRICE_TABLE = '[[price]]\nnames = ["gpt-4o"]\nusd_per_1m_input = 2.50\nsource = "test"\n'
ROUNDINGS = [getattr(decimal, name) for name in dir(decimal) if name.startswith("ROUND_")]


@pytest.fixture
def tables(tmp_path):
    path = tmp_path / "price.toml"
    path.write_text(PRICE_TABLE)
    return path


@pytest.fixture
def narrow():
    """The caller's context: 3 digits, rounding up, nothing trapped (as a careless host program might set)."""
    with decimal.localcontext() as context:
        context.prec, context.rounding = 3, decimal.ROUND_UP
        context.traps[decimal.InvalidOperation] = False
        context.traps[decimal.Inexact] = False
        yield context


def png(size):
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def payload(count):
    url = "data:image/png;base64," + base64.b64encode(png((1024, 1024))).decode()
    parts = [{"type": "image_url", "image_url": {"url": url, "detail": "high"}}] * count
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": parts}]}


# 1024×1024 at high detail on gpt-4o: 85 + 170 × 4 = 765 tokens; 765 × 2.50 / 1e6 = 0.0019125 USD
ONE = Decimal("0.0019125")
TWO = Decimal("0.003825")


def test_the_issue_example_under_a_three_digit_context(tables, narrow):
    loaded = load_tables(tables)
    assert costcalc.estimate((1024, 1024), model="gpt-4o", detail="high", tables=loaded).usd == ONE
    estimate = count_request(payload(2), tables=loaded)
    assert [image.usd for image in estimate.images] == [ONE, ONE]
    assert estimate.usd == TWO  # the sum too: 3 digits would make it 0.00383


def test_check_budget_under_a_narrow_context(tables, narrow):
    loaded = load_tables(tables)
    # a budget counts the text too: 7 tokens (3 for the message, 1 for "user", 3 for the reply) × $2.50 / 1e6
    estimate = check_budget(payload(2), max_usd="0.0038425", tables=loaded)
    assert (estimate.usd, estimate.budget_usd) == (TWO, Decimal("0.0038425"))
    with pytest.raises(costcalc.BudgetExceeded, match=r"\$0.0038425, over max_usd 0.0038424"):
        check_budget(payload(2), max_usd="0.0038424", tables=loaded)
    with pytest.raises(ValueError, match="not an amount"):
        check_budget(payload(1), max_usd="lots", tables=loaded)  # not NaN, even with InvalidOperation untrapped


def test_cli_totals_under_a_narrow_context(tables, tmp_path, narrow):
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(png((1024, 1024)))
    shown = CliRunner().invoke(
        cli,
        [
            "estimate",
            str(tmp_path / "a.png"),
            str(tmp_path / "b.png"),
            "-m",
            "gpt-4o",
            "-d",
            "high",
            "--tables",
            str(tables),
        ],
    )
    assert shown.exit_code == 0 and "$0.003825" in shown.stdout and "$0.0019125" in shown.stdout
    audited = CliRunner().invoke(cli, ["audit", str(tmp_path), "-m", "gpt-4o", "--tables", str(tables), "--json"])
    assert json.loads(audited.stdout)["totals"]["gpt-4o"]["usd"] == 0.003825
    summary = CliRunner().invoke(cli, ["audit", str(tmp_path), "-m", "gpt-4o", "--tables", str(tables)])
    assert "$0.003825" in summary.stdout


prices = st.builds(
    lambda units, places: Decimal(units).scaleb(-places), st.integers(1, 10**14), st.integers(0, 12)
).filter(lambda p: p <= 2**24)
contexts = st.builds(
    lambda prec, rounding, traps: decimal.Context(prec=prec, rounding=rounding, traps=traps),
    st.integers(1, 28),
    st.sampled_from(ROUNDINGS),
    st.sampled_from([[], [decimal.Inexact, decimal.Rounded], [decimal.InvalidOperation]]),
)


@settings(max_examples=150, deadline=None)
@given(contexts, prices, st.lists(st.integers(0, 10**9), min_size=1, max_size=6))
def test_usd_is_exact_in_any_context(context, price, token_counts):
    row = Price(price, "test", "", "")
    with decimal.localcontext(context):
        amounts = [row.usd(tokens) for tokens in token_counts]
        total = usd_sum(amounts)
        shown = format_usd(total)
    exact = [Fraction(price) * tokens / 10**6 for tokens in token_counts]
    assert [Fraction(amount) for amount in amounts] == exact
    assert Fraction(total) == sum(exact)
    assert shown == format_usd(total)  # the same text as in the default context


@settings(max_examples=100, deadline=None)
@given(contexts, st.lists(prices, min_size=1, max_size=5))
def test_totals_merged_in_any_context_are_exact(context, amounts):
    """A worker's chunk totals merged into the run's: the sum exact whatever the caller's decimal context."""
    from costcalc.runs.totals import ModelTotals, Totals

    whole = Totals(["m"])
    with decimal.localcontext(context):
        for amount in amounts:
            chunk = Totals(["m"])
            chunk.by_model["m"] = ModelTotals(files=1, priced=1, tokens=7, usd=amount)
            whole.merge(chunk)
    merged = whole.by_model["m"]
    assert Fraction(merged.usd) == sum(Fraction(amount) for amount in amounts)
    assert (merged.files, merged.priced, merged.tokens) == (len(amounts), len(amounts), 7 * len(amounts))


@pytest.mark.parametrize(
    "amount, text",
    [
        (Decimal("0.0019125"), "$0.0019125"),
        (Decimal("12.5"), "$12.50"),
        (Decimal("1234567.000000004"), "$1,234,567.00"),
        (Decimal("0.000000005"), "$0.00000001"),
    ],
)
def test_format_usd_in_a_narrow_context(amount, text, narrow):
    assert format_usd(amount) == text


def test_budget_parsing_and_comparison(narrow):
    assert parse_usd("$0.50") == Decimal("0.50") and parse_usd(" 12 ") == 12
    for text in ("nan", "inf", "-1", "lots", "", "1e400", str(MAX_USD + 1)):
        with pytest.raises(ValueError):
            parse_usd(text)
    over = over_budget("m", 1, Decimal("0.0019125"), max_usd=Decimal("0.0019124"))
    assert over == [Overrun("m", "max_usd", Decimal("0.0019124"), Decimal("0.0019125"))]
    assert [str(o) for o in over] == ["m: $0.0019125, over max_usd 0.0019124"]  # the library's words: no CLI flag
    assert over[0].words({"max_usd": "--max-usd"}) == "m: $0.0019125, over --max-usd 0.0019124"
    assert over_budget("m", 1, Decimal("0.0019125"), max_usd=Decimal("0.0019125")) == []


# ------------------------------------------------------------------ non-finite and out-of-range table numbers

MODEL_ROW = (
    "[[model]]\nnames = ['x']\nscheme = 'patch'\nmultiplier = {}\nauto = 'high'\nhigh = {{ max_dimension = 10 }}\n"
)
PRICE_ROW = "[[price]]\nnames = ['gpt-4o']\nusd_per_1m_input = {}\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (MODEL_ROW.format("inf"), "multiplier must be a finite positive number, not infinity"),
        (MODEL_ROW.format("+inf"), "multiplier must be a finite"),
        (MODEL_ROW.format("nan"), "multiplier must be a finite positive number, not nan"),
        (MODEL_ROW.format("-nan"), "multiplier must be a finite"),
        (MODEL_ROW.format("1e30"), "multiplier must be a positive number up to 16,777,216"),
        (PRICE_ROW.format("inf"), "usd_per_1m_input must be a finite positive number, not infinity"),
        (PRICE_ROW.format("nan"), "usd_per_1m_input must be a finite positive number, not nan"),
        (PRICE_ROW.format("-inf"), "usd_per_1m_input must be a finite"),
        (PRICE_ROW.format("1e400"), "usd_per_1m_input must be a positive number up to"),
        (PRICE_ROW.format("100000000"), "usd_per_1m_input must be a positive number up to"),
        (PRICE_ROW.format("1e-20"), "more than 12 decimal places"),
        (PRICE_ROW.format("-2.5"), "usd_per_1m_input must be a positive number"),
    ],
)
def test_non_finite_and_out_of_range_numbers_are_table_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(TableError, match=message) as caught:
        load_tables(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "row", [MODEL_ROW.format("inf"), MODEL_ROW.format("nan"), PRICE_ROW.format("inf"), PRICE_ROW.format("nan")]
)
def test_cli_exits_2_on_a_non_finite_table(tmp_path, row):
    (tmp_path / "a.png").write_bytes(png((64, 64)))
    (tmp_path / "bad.toml").write_text(row)
    (tmp_path / "payload.json").write_text(json.dumps(payload(1)))
    for arguments in (
        ["estimate", str(tmp_path / "a.png"), "-m", "gpt-4o", "--json"],
        ["request", str(tmp_path / "payload.json"), "--json"],
        ["audit", str(tmp_path), "-m", "gpt-4o", "--json"],
    ):
        result = CliRunner().invoke(cli, [*arguments, "--tables", str(tmp_path / "bad.toml")])
        assert result.exit_code == 2, (arguments, result.output)
        assert "Traceback" not in result.output and "bad.toml" in result.stderr
        assert "Infinity" not in result.stdout and "NaN" not in result.stdout


def _no_constants(name):
    raise AssertionError(f"{name} in JSON output")


def test_json_output_is_strict_json_at_the_largest_allowed_price(tmp_path):
    """The dearest price a table may hold still gives finite JSON numbers everywhere."""
    (tmp_path / "dear.toml").write_text(PRICE_ROW.format(2**24))
    (tmp_path / "images").mkdir()
    for name in ("a.png", "b.png"):
        (tmp_path / "images" / name).write_bytes(png((4000, 3000)))
    (tmp_path / "payload.json").write_text(json.dumps(payload(3)))
    outputs = []
    for arguments in (
        ["estimate", str(tmp_path / "images" / "a.png"), "-m", "gpt-4o", "--json"],
        ["request", str(tmp_path / "payload.json"), "--json", "--max-usd", "1e15"],
        ["request", str(tmp_path / "payload.json"), "--nl"],
        ["audit", str(tmp_path / "images"), "-m", "gpt-4o", "--json", "--max-usd", "1e15"],
        ["audit", str(tmp_path / "images"), "-m", "gpt-4o", "--nl"],
    ):
        result = CliRunner().invoke(cli, [*arguments, "--tables", str(tmp_path / "dear.toml")])
        assert result.exit_code == 0, (arguments, result.output)
        documents = result.stdout.splitlines() if "--nl" in arguments else [result.stdout]
        outputs += [json.loads(text, parse_constant=_no_constants) for text in documents]
    assert len(outputs) > 5


def test_writers_refuse_non_finite_numbers():
    for bad in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ValueError):
            to_json([{"usd": bad}])
        with pytest.raises(ValueError):
            to_lines([{"usd": bad}])
