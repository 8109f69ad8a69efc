"""Batch files and logs priced a request at a time (docs/README.md, issue 12): OpenAI Batch input files, Anthropic Message
Batches, JSON-lines logs; totals at the batch tier; batch limits; streaming; the `request` command on them."""

import base64
import io
import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import costcalc
from costcalc.catalog.tables import default_tables
from costcalc.cli import cli
from costcalc.runs import batchfile, batchread
from costcalc.runs.batchfile import BatchRun, count_batch


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "PNG")
    return out.getvalue()


def data_url(width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(png(width, height)).decode()


def chat_line(custom_id: str, model: str = "gpt-4o", size=(800, 600), detail: str | None = None) -> dict:
    image = {"url": data_url(*size)} | ({"detail": detail} if detail else {})
    body = {
        "model": model,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": image},
                ],
            }
        ],
    }
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def responses_line(custom_id: str, size=(300, 200)) -> dict:
    body = {
        "model": "gpt-4o",
        "input": [
            {"role": "user", "content": [{"type": "input_image", "image_url": data_url(*size), "detail": "low"}]}
        ],
    }
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/responses", "body": body}


def claude_params(size=(1000, 1000), model: str = "claude-sonnet-4-5") -> dict:
    source = {"type": "base64", "media_type": "image/png", "data": base64.b64encode(png(*size)).decode()}
    return {
        "model": model,
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": [{"type": "image", "source": source}, {"type": "text", "text": "Describe it."}]}
        ],
    }


def write_lines(path, lines) -> str:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return str(path)


def rate(model: str, tier: str) -> Decimal:
    """USD per 1M input tokens, read from the shipped price table."""
    return default_tables().price(model).rates(tier).usd_per_1m_input


def run(*args):
    return CliRunner().invoke(cli, ["request", *args])


@pytest.fixture
def openai_file(tmp_path):
    """Chat and Responses lines, a line that is not JSON, a line for a model nobody knows."""
    return write_lines(
        tmp_path / "batch.jsonl",
        [
            chat_line("photo-1"),  # 800×600 at gpt-4o high: 2×2 tiles, 85 + 4×170 = 765 tokens
            responses_line("thumb-2"),  # low detail: 85 tokens
            '{"custom_id": "broken-3", "method": "POST", ',
            chat_line("future-4", model="gpt-9-turbo"),
        ],
    )


# ------------------------------------------------------------------ OpenAI Batch input files


def test_openai_batch_rows_errors_and_totals_at_the_batch_tier(openai_file):
    result = count_batch(openai_file)
    assert (result.kind, result.tier, result.tier_note) == ("openai_batch", "batch", None)
    assert [(row.line, row.custom_id) for row in result.rows] == [
        (1, "photo-1"),
        (2, "thumb-2"),
        (3, None),
        (4, "future-4"),
    ]
    photo, thumb, broken, future = result.rows
    assert (photo.estimate.image_tokens, photo.endpoint) == (765, "/v1/chat/completions")
    assert (thumb.estimate.image_tokens, thumb.endpoint) == (85, "/v1/responses")
    assert broken.estimate is None and broken.error.startswith(f"{openai_file}:3: not JSON")
    assert future.estimate is None and future.error.startswith(
        f"{openai_file}:4 (future-4): unknown model 'gpt-9-turbo'"
    )
    totals = result.totals
    assert (totals.requests, totals.errors, totals.priced.requests, totals.priced.images) == (4, 2, 2, 2)
    assert totals.priced.image_tokens == 850
    # batch = half of standard, in the table; the total is 850 tokens at the table's batch rate
    assert rate("gpt-4o", "batch") * 2 == rate("gpt-4o", "standard")
    assert totals.priced.usd == 850 * rate("gpt-4o", "batch") / 1_000_000
    assert photo.estimate.usd == Decimal("0.00095625")  # by hand: 765 tokens × $1.25 per 1M (batch)
    assert totals.bytes == Path(openai_file).stat().st_size


def test_standard_tier_on_request_costs_twice_the_batch_tier(openai_file):
    batch, standard = count_batch(openai_file), count_batch(openai_file, tier="standard")
    assert standard.tier == "standard"
    assert standard.totals.priced.usd == 2 * batch.totals.priced.usd
    assert standard.totals.priced.image_tokens == batch.totals.priced.image_tokens


def test_each_line_is_priced_as_count_request_prices_its_body(openai_file):
    lines = [json.loads(line) for line in Path(openai_file).read_text().splitlines() if '"photo-1"' in line[:30]]
    direct = costcalc.count_request(lines[0]["body"], tier="batch")
    assert count_batch(openai_file).rows[0].estimate == direct


def test_an_unknown_tier_is_refused_before_reading(openai_file):
    with pytest.raises(costcalc.CostcalcError, match="cheap"):
        count_batch(openai_file, tier="cheap")


@pytest.mark.parametrize(
    "line, reason",
    [
        ({"custom_id": "a", "method": "GET", "url": "/v1/chat/completions", "body": {}}, "method 'GET'"),
        (
            {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"model": "x", "input": "hi"}},
            "url '/v1/embeddings': costcalc prices /v1/chat/completions and /v1/responses",
        ),
        ({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": [1]}, "body must be"),
        (
            {
                "custom_id": 7,
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o", "messages": []},
            },
            "custom_id must be a non-empty string",
        ),
        ({"custom_id": "a", "params": {}}, "not an OpenAI Batch request line: no method, url, body"),
        ([1, 2], "a request must be a JSON object"),
        ('{"custom_id": NaN}', "NaN is not a JSON value"),
    ],
)
def test_a_bad_openai_line_is_its_own_error_row_and_the_run_goes_on(tmp_path, line, reason):
    path = write_lines(tmp_path / "b.jsonl", [chat_line("first"), line, chat_line("last")])
    first, bad, last = count_batch(path).rows
    assert first.estimate is not None and last.estimate is not None
    assert bad.estimate is None and bad.error.startswith(f"{path}:2") and reason in bad.error, bad.error


def test_blank_lines_crlf_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "b.jsonl"
    text = "\r\n".join(json.dumps(line) for line in (chat_line("a"), chat_line("b")))
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\r\n", "\r\n\r\n").encode() + b"\r\n")
    rows = count_batch(str(path)).rows
    assert [(row.line, row.custom_id, row.estimate.image_tokens) for row in rows] == [(1, "a", 765), (3, "b", 765)]


def test_repeated_custom_ids_mixed_models_and_endpoints_are_findings(tmp_path):
    path = write_lines(
        tmp_path / "b.jsonl", [chat_line("x"), chat_line("x", model="gpt-4.1-mini"), responses_line("y")]
    )
    rules = {finding.rule: finding.message for finding in count_batch(path).findings}
    assert set(rules) == {"custom_id", "one_model", "one_endpoint"}
    assert "'x' (lines 1 and 2)" in rules["custom_id"]
    assert "'gpt-4o' (line 1), 'gpt-4.1-mini' (line 2)" in rules["one_model"]
    clean = write_lines(tmp_path / "c.jsonl", [chat_line("x"), chat_line("y")])
    assert count_batch(clean).findings == ()


# ------------------------------------------------------------------ Anthropic Message Batches


@pytest.mark.parametrize("indent", [None, 2])
def test_anthropic_message_batches_document(tmp_path, indent):
    requests = [
        {"custom_id": "big", "params": claude_params((1000, 1000))},
        {"custom_id": "small", "params": claude_params((200, 100))},
    ]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps({"requests": requests}, indent=indent))
    result = count_batch(str(path))
    assert (result.kind, result.tier) == ("anthropic_batch", "batch")
    assert [row.custom_id for row in result.rows] == ["big", "small"]
    assert [row.estimate.image_tokens for row in result.rows] == [36 * 36, 8 * 4]  # docs/anthropic.md: ⌈w/28⌉ × ⌈h/28⌉
    for row, request in zip(result.rows, requests):
        assert row.estimate == costcalc.count_request(request["params"], tier="batch")
        assert row.where == f"requests[{result.rows.index(row)}]"
    if indent:  # each element's own line: `{` of requests[0] on line 3, of requests[1] after its last line
        text = path.read_text().splitlines()
        assert [text[row.line - 1].strip() for row in result.rows] == ["{", "{"]
        assert result.rows[0].line == 3 and '"small"' in text[result.rows[1].line]
    else:
        assert [row.line for row in result.rows] == [1, 1]
    assert rate("claude-sonnet-4-5", "batch") * 2 == rate("claude-sonnet-4-5", "standard")
    tokens = sum(row.estimate.image_tokens for row in result.rows)
    assert result.totals.priced.usd == tokens * rate("claude-sonnet-4-5", "batch") / 1_000_000
    assert result.findings == ()


def test_anthropic_json_lines_and_custom_id_rules(tmp_path):
    path = write_lines(
        tmp_path / "a.jsonl",
        [
            {"custom_id": "ok_1", "params": claude_params((200, 200))},
            {"custom_id": "has space", "params": claude_params((200, 200))},
            {"custom_id": "ok_1", "params": claude_params((200, 200))},
        ],
    )
    result = count_batch(path)
    assert result.kind == "anthropic_batch" and all(row.estimate for row in result.rows)
    messages = [finding.message for finding in result.findings]
    assert any("'ok_1' (lines 1 and 3)" in m for m in messages)
    assert any("'has space' (line 2)" in m and "1-64 letters" in m for m in messages)


def test_a_broken_document_ends_with_an_error_row_naming_the_line(tmp_path):
    good = json.dumps({"custom_id": "a", "params": claude_params((200, 200))})
    path = tmp_path / "r.json"
    path.write_text('{"requests": [\n' + good + ',\n{"custom_id": "b", "params": {"model": oops}}\n]}\n')
    first, broken = count_batch(str(path)).rows
    assert first.estimate is not None
    assert broken.estimate is None and broken.error.startswith(f"{path}:3: not JSON")
    path.write_text('{"requests": [' + good + "]} trailing")
    rows = count_batch(str(path)).rows
    assert rows[0].estimate is not None and "more after the document's end" in rows[1].error


@settings(max_examples=100, deadline=None)
@given(
    chunk=st.integers(1, 64),
    indent=st.sampled_from([None, 0, 1, 4]),
    values=st.lists(
        st.dictionaries(
            st.text(max_size=5),
            st.recursive(
                st.none()
                | st.booleans()
                | st.integers()
                | st.text(max_size=8)
                | st.floats(allow_nan=False, allow_infinity=False),
                lambda inner: st.lists(inner, max_size=3),
                max_leaves=6,
            ),
            max_size=4,
        ),
        max_size=5,
    ),
    other=st.booleans(),
)
def test_the_document_reader_gives_json_loads_elements_at_any_chunk_size(chunk, indent, values, other):
    document = {"other": [1, "x"], "requests": values} if other else {"requests": values}
    data = json.dumps(document, indent=indent, ensure_ascii=bool(chunk % 2)).encode()
    pieces = iter([data[i : i + chunk] for i in range(0, len(data), chunk)])
    reader = batchread.JsonDocument(pieces, batchfile.BatchTotals())
    found = list(reader.requests())
    assert [value for _, _, value in found] == values
    assert [index for _, index, _ in found] == list(range(len(values)))
    assert reader._totals.bytes == len(data)


def test_documents_are_read_in_pieces_never_whole(tmp_path, monkeypatch):
    """A stream that refuses read() without a size, or larger than one piece: the file is never loaded whole."""

    class Pieces(io.BytesIO):
        def read(self, size=-1):
            assert size is not None and 0 < size <= 512, size
            return super().read(size)

    monkeypatch.setattr(batchread.JsonDocument, "CHUNK", 512)
    requests = [{"custom_id": f"r{i}", "params": claude_params((100 + i, 100))} for i in range(8)]
    data = json.dumps({"requests": requests}, indent=1).encode()
    assert len(data) > 5 * 512
    rows = count_batch(Pieces(data), name="pieces.json").rows
    assert [row.custom_id for row in rows] == [f"r{i}" for i in range(8)] and all(row.estimate for row in rows)
    lines = json.dumps(chat_line("a")).encode() + b"\n" + json.dumps(chat_line("b")).encode() + b"\n"
    assert [row.custom_id for row in count_batch(Pieces(lines)).rows] == ["a", "b"]  # line by line, no read()


# ------------------------------------------------------------------ logs of requests, and what a file is


def test_an_agent_log_is_priced_a_turn_at_a_time_at_standard_rates(tmp_path):
    turn = chat_line("t")["body"]
    path = write_lines(
        tmp_path / "agent.log",
        [
            turn,
            {"request": claude_params((200, 200)), "response": {"usage": {"input_tokens": 99}}},
            {"request": turn | {"model": "gpt-4.1-mini"}, "response": {}},
        ],
    )
    result = count_batch(path)
    assert (result.kind, result.tier) == ("log", "standard")
    assert [row.estimate.model for row in result.rows] == ["gpt-4o", "claude-sonnet-4-5", "gpt-4.1-mini"]
    assert result.rows[0].estimate.usd == 765 * rate("gpt-4o", "standard") / 1_000_000
    assert set(result.totals.models) == {"gpt-4o", "claude-sonnet-4-5", "gpt-4.1-mini"}
    assert result.findings == ()


@pytest.mark.parametrize(
    "name, content, kind",
    [
        ("batch.json", [chat_line("a")], "openai_batch"),  # the structure decides, not the name
        ("agent.txt", [chat_line("a")["body"], chat_line("b")["body"]], "log"),
        ("one.jsonl", [chat_line("a")["body"]], "payload"),  # one request on one line: a payload
        ("bad-first.jsonl", ["{oops", chat_line("a")], "openai_batch"),
        ("odd-first.jsonl", [{"custom_id": "a"}, chat_line("b")], "openai_batch"),
        ("bad-then-payload.jsonl", ["[1]", chat_line("a")["body"]], "log"),
    ],
)
def test_the_kind_comes_from_the_structure(tmp_path, name, content, kind):
    with BatchRun(write_lines(tmp_path / name, content)) as opened:
        assert opened.kind == kind


def test_a_pretty_printed_payload_keeps_the_single_request_output(tmp_path):
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(chat_line("a")["body"], indent=2))
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("where") and "messages[0].content[1]" in result.output
    (row,) = count_batch(str(path)).rows
    assert row.estimate.image_tokens == 765


# ------------------------------------------------------------------ batch limits


def test_batch_limit_rows_cite_the_vendors():
    openai = batchfile._batch_limits("openai_batch", None)
    anthropic = batchfile._batch_limits("anthropic_batch", None)
    assert (openai["max_batch_requests"].value, openai["max_batch_bytes"].value) == (50_000, 200_000_000)
    assert (anthropic["max_batch_requests"].value, anthropic["max_batch_bytes"].value) == (100_000, 256_000_000)
    assert all("OpenAI" in limit.source for limit in openai.values())
    assert all("Anthropic" in limit.source for limit in anthropic.values())
    assert batchfile._batch_limits("log", None) == {}


def test_a_file_of_50001_requests_is_flagged(tmp_path):
    """Every request counts, priced or not: tiny embeddings lines (not priced, so cheap to read) make the file."""
    line = '{"custom_id": "r%d", "method": "POST", "url": "/v1/embeddings", "body": {"input": "hi"}}\n'
    path = tmp_path / "many.jsonl"
    path.write_text("".join(line % i for i in range(50_001)))
    result = count_batch(str(path))
    assert result.totals.requests == 50_001 and result.totals.errors == 50_001
    (finding,) = result.findings
    assert finding.rule == "max_batch_requests"
    assert finding.message == "50,001 requests, over the 50,000 allowed per batch [limits 2026-10]"
    with open(path, "rb+") as file:  # one line fewer: at the limit, allowed
        file.truncate(path.stat().st_size - len(line % 50_000))
    assert count_batch(str(path)).findings == ()


def _limits_with(monkeypatch, **values):
    """load_limits as shipped, with these batch limits changed."""
    real = batchfile.load_limits

    def patched(*args, **kwargs):
        limits = real(*args, **kwargs)
        rules = {name: replace(rule, value=values.get(name, rule.value)) for name, rule in limits.rules.items()}
        return type(limits)(limits.edition, rules)

    monkeypatch.setattr(batchfile, "load_limits", patched)


@pytest.mark.parametrize("maker", ["openai", "anthropic"])
def test_the_bytes_and_request_limits_are_checked_at_their_edge(tmp_path, monkeypatch, maker):
    if maker == "openai":
        path = write_lines(tmp_path / "b.jsonl", [chat_line("a"), chat_line("b")])
    else:
        path = str(tmp_path / "r.json")
        (tmp_path / "r.json").write_text(
            json.dumps({"requests": [{"custom_id": c, "params": claude_params((99, 99))} for c in "ab"]})
        )
    size = (tmp_path / path.rsplit("/", 1)[1]).stat().st_size
    _limits_with(monkeypatch, max_batch_bytes=size, max_batch_requests=2)
    assert count_batch(path).findings == ()  # at the limit: allowed
    _limits_with(monkeypatch, max_batch_bytes=size - 1, max_batch_requests=1)
    found = {finding.rule: finding.message for finding in count_batch(path).findings}
    assert found["max_batch_bytes"].startswith(f"{size:,} bytes, over the {size - 1:,} allowed per batch file")
    assert found["max_batch_requests"].startswith("2 requests, over the 1 allowed per batch")
    result = run(path)
    assert result.exit_code == 1 and "limit: 2 requests, over the 1 allowed per batch" in result.output


# ------------------------------------------------------------------ the command


def test_request_command_on_a_batch_file(openai_file):
    result = run(openai_file)
    assert result.exit_code == 1  # a line unread, a model unknown
    out = result.output
    assert f"Error: {openai_file}:3: not JSON" in out and f"Error: {openai_file}:4 (future-4): unknown model" in out
    assert "photo-1" in out and "OpenAI Batch input file, 4 requests, 2 could not be read or priced" in out
    assert "total (gpt-4o) at the batch tier: 2 requests priced, 2 images; 850 image tokens, $0.0010625" in out


def test_request_command_json_nl_csv(openai_file):
    document = json.loads(CliRunner().invoke(cli, ["request", openai_file, "--json"]).stdout)
    assert (document["kind"], document["tier"]) == ("openai_batch", "batch")
    assert [row["custom_id"] for row in document["rows"]] == ["photo-1", "thumb-2", None, "future-4"]
    assert document["totals"]["image_tokens"] == 850 and document["totals"]["errors"] == 2
    assert document["budget"]["over"] == [] and {f["rule"] for f in document["findings"]} == {
        "one_model",
        "one_endpoint",
    }
    lines = CliRunner().invoke(cli, ["request", openai_file, "--nl"]).stdout.splitlines()
    assert [json.loads(line)["line"] for line in lines] == [1, 2, 3, 4]
    csv_text = CliRunner().invoke(cli, ["request", openai_file, "--csv"]).stdout.splitlines()
    assert csv_text[0].startswith("line,custom_id,model,endpoint,images") and len(csv_text) == 5
    assert csv_text[1].startswith("1,photo-1,gpt-4o,/v1/chat/completions,1,0,765,0.00095625")


def test_tier_given_on_the_command_line_wins(openai_file):
    standard = json.loads(CliRunner().invoke(cli, ["request", openai_file, "--json", "--tier", "standard"]).stdout)
    batch = json.loads(CliRunner().invoke(cli, ["request", openai_file, "--json"]).stdout)
    assert (standard["tier"], batch["tier"]) == ("standard", "batch")
    assert standard["totals"]["usd"] == 2 * batch["totals"]["usd"] == 850 * 2.5 / 1e6
    refused = run(openai_file, "--cached-tokens", "10")
    assert refused.exit_code == 2 and "--cached-tokens is one request's" in refused.output


def test_budget_applies_to_the_whole_file(tmp_path):
    path = write_lines(tmp_path / "b.jsonl", [chat_line("a"), chat_line("b")])  # 2 × 765 tokens, $0.0019125
    assert run(path, "--max-usd", "0.002", "--max-tokens", "1530").exit_code == 0
    over = run(path, "--max-usd", "0.0019")
    assert over.exit_code == 4 and "over budget: 2 requests: $0.0019125, over --max-usd 0.0019" in over.output
    assert run(path, "--max-tokens", "1529").exit_code == 4
    unread = write_lines(tmp_path / "c.jsonl", [chat_line("a"), "{oops", chat_line("b")])
    failed = run(unread, "--max-usd", "100")  # a line it could not read: the budget cannot be shown to hold
    assert failed.exit_code == 5 and "1 request(s) could not be read" in failed.output


def test_unpriced_images_and_request_limits_are_reported_per_line(tmp_path):
    missing = chat_line("gone")
    missing["body"]["messages"][0]["content"][1]["image_url"]["url"] = "nowhere.png"
    path = write_lines(tmp_path / "b.jsonl", [chat_line("a"), missing])
    result = run(path)
    assert result.exit_code == 1
    assert f"Error: {path}:2 (gone): messages[0].content[1]" in result.output
    row = count_batch(path).rows[1].as_dict()
    assert row["unpriced"] == 1 and row["image_errors"] and row["error"] is None


def test_more_rows_than_the_table_shows_lists_the_costliest(tmp_path):
    # gpt-4.1-mini bills 32 px patches: sides of 100, 140, ... 540 px cost more and more
    lines = [chat_line(f"r{i}", "gpt-4.1-mini", size=(100 + 40 * i, 100 + 40 * i)) for i in range(12)]
    table = run(write_lines(tmp_path / "b.jsonl", lines)).output.splitlines()
    shown = [line.split()[1] for line in table[1:11]]
    assert shown == [f"r{i}" for i in range(11, 1, -1)]
    assert "the 10 costliest of 12 requests" in table[11]


def test_standard_input_and_a_missing_file():
    lines = "".join(json.dumps(chat_line(c)) + "\n" for c in "ab")
    result = CliRunner().invoke(cli, ["request", "-", "--nl"], input=lines)
    assert (
        result.exit_code == 0 and [json.loads(line)["image_tokens"] for line in result.stdout.splitlines()] == [765] * 2
    )
    assert run("no-such-batch.jsonl").exit_code == 2
    with pytest.raises(costcalc.RequestError, match="no-such-batch.jsonl: no such file"):
        count_batch("no-such-batch.jsonl")


def test_count_batch_is_public():
    assert "count_batch" in costcalc.__all__ and costcalc.count_batch is count_batch


def test_a_row_whose_image_is_unpriced_is_unknown_not_zero(tmp_path):
    """Edge-case hunt 7: an image that cannot be priced (a file_id) makes its row and the totals unknown, not $0.00."""
    unpriced = {
        "custom_id": "file-5",
        "method": "POST",
        "url": "/v1/responses",
        "body": {
            "model": "gpt-4o",
            "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-abc"}]}],
        },
    }
    path = write_lines(tmp_path / "batch.jsonl", [responses_line("thumb-1"), unpriced])
    thumb, row = count_batch(path).rows
    assert row.estimate.unpriced == 1
    assert (row.as_dict()["image_tokens"], row.as_dict()["usd"]) == (None, None)
    assert thumb.as_dict()["image_tokens"] == 85  # the priced row keeps its figures
    result = run(path, "--json")
    document = json.loads(result.stdout)
    assert document["rows"][1]["usd"] is None and document["rows"][1]["image_tokens"] is None
    assert document["totals"]["usd"] is None and document["totals"]["image_tokens"] is None
    table = run(path).stdout
    assert "unknown image tokens, unknown" in table and not re.search(r"\$0\.00(?![0-9])", table)
