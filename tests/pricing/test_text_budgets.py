"""Budgets mean the whole request (issue 20): check_budget and guard count text as well as images.

OpenAI text is counted exactly (tiktoken, the cookbook's framing: 3 per message, 3 for the reply); other
vendors' text by an upper bound, basis approximate: one token per UTF-8 byte of the payload's JSON without its
images' data (byte-level BPE and byte-fallback SentencePiece never make a token of less than a byte), 8 per
JSON object and 32 per request, 600 more when tools are defined; a tool that brings in content of its own
has no bound, and fails a budget closed.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import costcalc
from costcalc import BudgetExceeded
from costcalc.cli import cli

TEXT_ONLY = {
    "openai": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Describe a sunset over the sea."}]},
    "anthropic": {
        "model": "claude-sonnet-4-6",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "Describe a sunset over the sea."}],
    },
    "gemini": {"contents": [{"role": "user", "parts": [{"text": "Describe a sunset over the sea."}]}]},
}
MODELS = {"openai": None, "anthropic": None, "gemini": "gemini-2.5-flash"}


@pytest.mark.parametrize("vendor", sorted(TEXT_ONLY))
@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_text_only_request_over_five_tokens_is_refused(vendor, as_bytes):
    payload = TEXT_ONLY[vendor]
    payload = json.dumps(payload).encode() if as_bytes else payload
    with pytest.raises(BudgetExceeded, match="over max_tokens 5") as caught:
        costcalc.check_budget(payload, max_tokens=5, model=MODELS[vendor])
    assert "--" not in str(caught.value)  # the Python API names its parameters, never a flag
    assert caught.value.estimate.image_tokens == 0
    with pytest.raises(BudgetExceeded, match="over max_usd"):
        costcalc.check_budget(payload, max_usd="0.0000001", model=MODELS[vendor])


def test_openai_text_is_exact():
    # "Describe a sunset over the sea." is 7 tokens in o200k_base (tiktoken), "user" 1; 3 per message, 3 priming
    estimate = costcalc.check_budget(TEXT_ONLY["openai"], max_tokens=14)
    assert (estimate.text_tokens, estimate.budget_tokens, estimate.budget_basis) == (14, 14, "exact")
    assert estimate.budget_usd == Decimal(14) * Decimal("2.50") / 10**6
    with pytest.raises(BudgetExceeded, match="gpt-4o: 14 tokens, over max_tokens 13"):
        costcalc.check_budget(TEXT_ONLY["openai"], max_tokens=13)


def test_other_vendors_text_is_bounded_above():
    payload = TEXT_ONLY["anthropic"]
    skeleton = json.dumps(payload)  # what count_request sizes a dict as: json.dumps' own output
    bound = len(skeleton) + 8 * 2 + 32  # two JSON objects: the payload and its message
    estimate = costcalc.check_budget(payload, max_tokens=bound)
    assert (estimate.text_tokens, estimate.text_bound, estimate.budget_basis) == (None, bound, "approximate")
    assert estimate.budget_usd == bound * Decimal(3) / 10**6  # Claude Sonnet 4.6: $3 per million input tokens
    assert "approximate" in estimate.text_note
    with pytest.raises(BudgetExceeded, match=r"\(text bounded above\): [\d,]+ tokens, over max_tokens"):
        costcalc.check_budget(payload, max_tokens=bound - 1)


def test_the_bound_leaves_the_images_data_out_and_adds_their_tokens():
    import base64
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1000, 1000), (9, 9, 9)).save(out, "PNG")
    data = base64.b64encode(out.getvalue()).decode()
    payload = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 5,
        "messages": [
            {
                "role": "user",
                "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}],
            }
        ],
    }
    estimate = costcalc.count_request(payload)
    assert estimate.image_tokens == 1296  # (1000 × 1000) / 750 rounded up (Anthropic's vision docs)
    assert estimate.text_bound == len(json.dumps(payload)) - len(data) + 8 * 4 + 32
    assert estimate.budget_tokens == 1296 + estimate.text_bound


@pytest.mark.parametrize(
    "tools, bounded",
    [
        ([{"name": "get_weather", "description": "Weather of a city", "input_schema": {"type": "object"}}], True),
        ([{"type": "bash_20250124", "name": "bash"}], True),
        ([{"type": "web_search_20250305", "name": "web_search"}], False),
    ],
)
def test_tools_are_bounded_or_fail_closed(tools, bounded):
    payload = {**TEXT_ONLY["anthropic"], "tools": tools}
    estimate = costcalc.count_request(payload)
    plain = costcalc.count_request(TEXT_ONLY["anthropic"])
    if bounded:
        extra = 600 + (1300 if "type" in tools[0] else 0)
        assert estimate.text_bound >= plain.text_bound + extra
        costcalc.check_budget(payload, max_usd=1)
    else:
        assert estimate.budget_tokens is None and "web_search" in estimate.text_note
        with pytest.raises(BudgetExceeded, match="could not be counted or bounded"):
            costcalc.check_budget(payload, max_usd=1)


def test_gemini_search_fails_closed_and_openai_tools_are_bounded():
    gemini = {**TEXT_ONLY["gemini"], "tools": [{"googleSearch": {}}]}
    with pytest.raises(BudgetExceeded, match="googleSearch"):
        costcalc.check_budget(gemini, max_usd=1, model="gemini-2.5-flash")
    openai = {**TEXT_ONLY["openai"], "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}
    estimate = costcalc.check_budget(openai, max_usd=1)
    assert (estimate.text_tokens, estimate.budget_basis) == (None, "approximate")  # tools' framing unpublished
    assert estimate.text_bound > 600


def test_the_command_line_says_its_flags(tmp_path):
    from click.testing import CliRunner

    path = tmp_path / "p.json"
    path.write_text(json.dumps(TEXT_ONLY["anthropic"]), encoding="utf-8")
    done = CliRunner().invoke(cli, ["request", str(path), "--max-tokens", "5"])
    assert done.exit_code != 0 and "over --max-tokens 5" in done.output, done.output
