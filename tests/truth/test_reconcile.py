"""`costcalc reconcile` (docs/probe.md, issue 11): bills checked against predictions, per model.

The logs are synthetic but honest about what they test: real PNG images (data
URLs), and usage numbers written here from the SPEC's worked rules by hand —
never from costcalc — plus a per-request text overhead of about ten tokens.
"""

from __future__ import annotations

import base64
import io
import json
import math
import random
from functools import cache

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc.cli import cli
from costcalc.errors import LogReadError
from costcalc.truth.reconcile import (
    Exchange,
    bill_of,
    fit_line,
    read_batch,
    reconcile,
    reconcile_exchanges,
)

# gpt-4o, tile scheme base 85 / tile 170 (docs/openai.md), worked by hand:
GPT4O = {
    (512, 512, "high"): 85 + 170 * 1,  # fits 2048; short side 512 ≤ 768 stays; 1 × 1 tiles
    (1000, 300, "high"): 85 + 170 * 2,  # short side 300 stays; ceil(1000/512) × ceil(300/512) = 2 × 1
    (1536, 512, "high"): 85 + 170 * 3,  # 3 × 1 tiles
    (1024, 1024, "high"): 85 + 170 * 4,  # → 768 × 768, 2 × 2 (docs/openai.md table: 765)
    (2048, 4096, "high"): 85 + 170 * 6,  # → 1024 × 2048 → 768 × 1536, 2 × 3 (docs/openai.md table: 1105)
    (640, 480, "low"): 85,  # low is base alone
}
# claude-sonnet-4-5 (standard tier, docs/anthropic.md, Anthropic's worked table):
CLAUDE = {
    (200, 200): 8 * 8,  # ceil(200/28)² = 64
    (1000, 1000): 36 * 36,  # 1296
    (1092, 1092): 39 * 39,  # 1521
    (1920, 1080): 52 * 30,  # → 1456 × 819: 52 × ceil(29.25) = 1560
}
GEMINI3_DEFAULT = 1120  # gemini-3-pro-preview, media_resolution unspecified: a ceiling (docs/google.md)


@cache
def png(width: int, height: int) -> str:
    """A real PNG of that size, base64 (1-bit, so even 2048 × 4096 stays a few KB)."""
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def chat(model: str, *images: tuple[int, int, str], text: str = "What is in this picture?") -> dict:
    """A Chat Completions payload with these (width, height, detail) images."""
    content = [{"type": "text", "text": text}]
    content += [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png(w, h)}", "detail": d}}
        for w, h, d in images
    ]
    return {"model": model, "messages": [{"role": "user", "content": content}]}


def chat_answer(prompt_tokens: int, model: str = "gpt-4o-2024-08-06") -> dict:
    """A Chat Completions answer billing `prompt_tokens`."""
    return {
        "object": "chat.completion",
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 9,
            "total_tokens": prompt_tokens + 9,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        },
    }


def claude(width: int, height: int, model: str = "claude-sonnet-4-5") -> dict:
    """An Anthropic Messages payload with one base64 image."""
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png(width, height)}}
    return {
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": [image, {"type": "text", "text": "Describe it."}]}],
    }


def claude_answer(total: int, cached: int = 0) -> dict:
    """An Anthropic answer billing `total` input tokens, `cached` of them read from the cache."""
    return {
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "usage": {
            "input_tokens": total - cached,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cached,
            "output_tokens": 12,
        },
    }


def gemini(width: int, height: int) -> dict:
    """A Gemini generateContent payload (it names no model) with one inline image."""
    parts = [{"inline_data": {"mime_type": "image/png", "data": png(width, height)}}, {"text": "Caption this."}]
    return {"contents": [{"role": "user", "parts": parts}]}


def gemini_answer(image: int, text: int, model: str | None = "gemini-3-pro-preview") -> dict:
    """A Gemini answer whose usage splits the prompt by modality."""
    usage = {
        "promptTokenCount": image + text,
        "candidatesTokenCount": 4,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": text}, {"modality": "IMAGE", "tokenCount": image}],
    }
    answer = {"candidates": [], "usageMetadata": usage}
    if model:
        answer["modelVersion"] = model
    return answer


def gpt4o_log(factor: float = 1.0, model: str = "gpt-4o", repeat: int = 2) -> list[dict]:
    """gpt-4o requests of every GPT4O size, billed ceil(rule × factor) plus 10–12 tokens of text and framing."""
    lines = []
    for k in range(repeat):
        for i, (size, tokens) in enumerate(GPT4O.items()):
            framing = 10 + (i + k) % 3
            lines.append({"request": chat(model, size), "response": chat_answer(math.ceil(tokens * factor) + framing)})
    return lines


def claude_log(factor: float = 1.0, repeat: int = 2) -> list[dict]:
    """claude-sonnet-4-5 requests of every CLAUDE size, billed ceil(rule × factor) plus 9–11 tokens, partly cached."""
    lines = []
    for k in range(repeat):
        for i, (size, tokens) in enumerate(CLAUDE.items()):
            billed = math.ceil(tokens * factor) + 9 + (i + k) % 3
            lines.append({"request": claude(*size), "response": claude_answer(billed, cached=billed // 3)})
    return lines


LOGS = {"gpt-4o": gpt4o_log, "claude-sonnet-4-5": claude_log}


def write_lines(path, lines) -> str:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def run(*args):
    return CliRunner().invoke(cli, ["reconcile", *map(str, args)])


# ------------------------------------------------------------------ verdicts


def test_the_hand_worked_rules_are_what_costcalc_predicts(tmp_path):
    result = reconcile(write_lines(tmp_path / "log.jsonl", gpt4o_log(repeat=1)))
    report = result.models["gpt-4o"]
    assert report.predicted_image_tokens == sum(GPT4O.values()) == 255 + 425 + 595 + 765 + 1105 + 85
    assert report.requests == report.images == len(GPT4O)


def test_honest_bills_with_framing_agree(tmp_path):
    result = reconcile(write_lines(tmp_path / "log.jsonl", gpt4o_log()))
    report = result.models["gpt-4o"]
    assert report.agrees is True
    assert report.ratio == pytest.approx(1.0, abs=0.01)
    assert report.billed_image_tokens == pytest.approx(2 * sum(GPT4O.values()), rel=0.01)
    assert result.agrees is True


@pytest.mark.parametrize("model", LOGS)
@pytest.mark.parametrize(
    "factor, agrees",
    [(1.30, False), (1.06, False), (1.04, True), (1.0, True), (0.96, True), (0.94, False), (0.70, False)],
)
def test_a_rule_off_by_five_percent_or_more_is_flagged(tmp_path, model, factor, agrees):
    """OpenAI text is counted (tiktoken) or, without it, fitted; Anthropic text is always fitted."""
    result = reconcile(write_lines(tmp_path / "log.jsonl", LOGS[model](factor)))
    report = result.models[model]
    assert report.agrees is agrees
    assert report.ratio == pytest.approx(factor, abs=0.01)
    assert result.agrees is agrees
    if model.startswith("claude"):
        assert report.method == "fit" and report.framing_per_request == pytest.approx(10, abs=5)


def test_one_model_over_among_honest_ones(tmp_path):
    lines = gpt4o_log(1.3, model="gpt-4.1") + gpt4o_log()
    for i, (size, tokens) in enumerate(CLAUDE.items()):  # Claude: bills split between fresh and cached input
        lines.append({"request": claude(*size), "response": claude_answer(tokens + 9 + i % 2, cached=tokens // 2)})
    result = reconcile(write_lines(tmp_path / "log.jsonl", lines))
    verdicts = {name: report.agrees for name, report in result.models.items()}
    assert verdicts == {"claude-sonnet-4-5": True, "gpt-4.1": False, "gpt-4o": True}
    assert result.models["gpt-4.1"].ratio == pytest.approx(1.3, abs=0.01)
    assert result.models["claude-sonnet-4-5"].predicted_image_tokens == sum(CLAUDE.values())
    assert result.models["claude-sonnet-4-5"].method == "fit"
    assert result.agrees is False


def test_several_images_in_one_request(tmp_path):
    sizes = list(GPT4O)
    lines = []
    for k in range(6):
        chosen = sizes[k : k + 2]
        tokens = sum(GPT4O[size] for size in chosen)
        lines.append({"request": chat("gpt-4o", *chosen), "response": chat_answer(tokens + 11)})
    report = reconcile(write_lines(tmp_path / "log.jsonl", lines)).models["gpt-4o"]
    assert report.images == 11 and report.requests == 6
    assert report.agrees is True


def test_reported_image_tokens_are_taken_as_they_are(tmp_path):
    """Gemini's IMAGE modality needs no fit: one request decides; the rule is a ceiling (docs/google.md)."""
    at = write_lines(tmp_path / "at.jsonl", [{"request": gemini(800, 600), "response": gemini_answer(1120, 7)}])
    below = write_lines(tmp_path / "below.jsonl", [{"request": gemini(800, 600), "response": gemini_answer(1000, 7)}])
    over = write_lines(tmp_path / "over.jsonl", [{"request": gemini(800, 600), "response": gemini_answer(1190, 7)}])
    report = reconcile(at).models["gemini-3-pro-preview"]
    assert (report.method, report.billed_image_tokens, report.agrees) == ("reported", GEMINI3_DEFAULT, True)
    assert report.basis == "maximum"
    assert reconcile(below).models["gemini-3-pro-preview"].agrees is True
    assert reconcile(over).models["gemini-3-pro-preview"].agrees is False  # 1190 / 1120 = 1.0625


def test_model_from_the_answer_or_from_m(tmp_path):
    log = write_lines(tmp_path / "log.jsonl", [{"request": gemini(800, 600), "response": gemini_answer(1120, 7, None)}])
    skipped = reconcile(log)
    assert skipped.models == {} and "give -m" in skipped.skipped[0].reason
    assert reconcile(log, model="gemini-3-pro-preview").models["gemini-3-pro-preview"].agrees is True
    result = run(log, "-m", "gemini-3-pro-preview", "--json")
    assert result.exit_code == 0, result.output
    assert run(log, "-m", "gemini-9-nope").exit_code == 2


def test_same_size_images_cannot_separate_text_from_images(tmp_path):
    """Every request predicts 1296: a constant text and a rule off by a factor look alike, so: unknown."""
    lines = [{"request": claude(1000, 1000), "response": claude_answer(1296 + 12)} for _ in range(4)]
    result = reconcile(write_lines(tmp_path / "log.jsonl", lines))
    report = result.models["claude-sonnet-4-5"]
    assert report.agrees is None and report.ratio is None
    assert "cannot be told apart" in report.note
    assert result.agrees is None
    assert run(tmp_path / "log.jsonl").exit_code == 1
    # ... unless even the whole bill is short of the prediction: no text explains that
    short = [{"request": claude(1000, 1000), "response": claude_answer(1000)} for _ in range(4)]
    report = reconcile(write_lines(tmp_path / "short.jsonl", short)).models["claude-sonnet-4-5"]
    assert report.agrees is False and report.ratio == pytest.approx(1000 / 1296, abs=1e-3)


def test_bills_off_in_shape_are_bounded_by_the_whole_prompts(tmp_path):
    """gpt-4.1-mini priced by its documented 6,144-patch budget, billed as measured in 2025 (1,536 cap, docs/openai.md)."""
    documented = {
        (512, 512): 415,  # 16 × 16 = 256 patches × 1.62 = 414.72 → 415
        (1024, 1024): 1659,  # 32 × 32 = 1024 patches × 1.62 = 1658.88 → 1659
        (2400, 1800): 4977,
    }  # → 2048 × 1536: 64 × 48 = 3072 patches × 1.62 = 4976.64 → 4977
    measured = {(512, 512): 415, (1024, 1024): 1659, (2400, 1800): 2353}  # the last: docs/openai.md, billed 2025
    lines = [
        {"request": chat("gpt-4.1-mini", (*size, "high")), "response": chat_answer(measured[size] + 15)}
        for size in [*documented, (2400, 1800)]
    ]
    report = reconcile(write_lines(tmp_path / "log.jsonl", lines)).models["gpt-4.1-mini"]
    assert report.predicted_image_tokens == 415 + 1659 + 2 * 4977
    assert report.agrees is False
    if report.method == "bound":  # text unknown: at most the whole prompts were image tokens
        assert report.upper_bound and report.billed_image_tokens == 415 + 1659 + 2 * 2353 + 4 * 15
        assert "fall short" in report.note
    assert report.ratio < 0.6


@pytest.mark.parametrize("repeat", [1, 50])
def test_bills_off_in_shape_without_counted_text(tmp_path, monkeypatch, repeat):
    """Text unknown: the gpt-4.1-mini cap is still caught, with few requests or many (the line does not fit)."""
    text_count(monkeypatch, None)
    measured = {(512, 512): 415, (1024, 1024): 1659, (2400, 1800): 2353, (1800, 2400): 2353}  # see above
    lines = [
        {"request": chat("gpt-4.1-mini", (*size, "high")), "response": chat_answer(tokens + 15 + k % 2)}
        for k in range(repeat)
        for size, tokens in measured.items()
    ]
    report = reconcile(write_lines(tmp_path / "log.jsonl", lines)).models["gpt-4.1-mini"]
    assert report.method == "bound" and report.agrees is False
    assert report.predicted_image_tokens == repeat * (415 + 1659 + 2 * 4977)


@pytest.mark.parametrize("repeat", [2, 40])
def test_one_size_billed_off_the_rule_is_caught(tmp_path, repeat):
    """claude-sonnet-4-5 billed as the high-resolution tier (docs/anthropic.md: 1920 × 1080 → 2691, not 1560)."""
    billed = {**CLAUDE, (1920, 1080): 2691}  # the other sizes fit both tiers: 64, 1296, 1521
    lines = [
        {"request": claude(*size), "response": claude_answer(billed[size] + 10 + k % 3)}
        for k in range(repeat)
        for size in CLAUDE
    ]
    result = run(write_lines(tmp_path / "log.jsonl", lines), "--json")
    report = json.loads(result.stdout)["models"]["claude-sonnet-4-5"]
    assert result.exit_code == 4 and report["agrees"] is False
    assert report["method"] == "bound" and report["ratio"] is None  # the share of text stays unknown
    assert "no framing per request brings every image size" in report["note"]
    assert "DISAGREES: bills not in step with the rule" in run(tmp_path / "log.jsonl").stdout


@pytest.mark.parametrize("seed", range(12))
def test_scattered_text_never_raises_a_false_alarm(seed):
    """Honest bills whose text varies by hundreds of tokens: agree or unknown, never 'disagrees'."""
    draw = random.Random(seed)
    sizes = list(CLAUDE.items())
    exchanges = []
    for k in range(draw.choice([8, 40])):
        size, tokens = draw.choice(sizes)
        exchanges.append(Exchange(f"call {k}", claude(*size), claude_answer(tokens + draw.randrange(300))))
    report = reconcile_exchanges(exchanges).models["claude-sonnet-4-5"]
    assert report.agrees is not False, report


def test_requests_without_images_pin_the_framing(tmp_path):
    """Text-only requests (prediction 0) give the fit its spread, so one image size suffices."""
    lines = [{"request": claude(1000, 1000), "response": claude_answer(round(1296 * 1.3) + 12)} for _ in range(3)]
    text_only = {"model": "claude-sonnet-4-5", "max_tokens": 9, "messages": [{"role": "user", "content": "Hi there"}]}
    lines += [{"request": text_only, "response": claude_answer(12)} for _ in range(3)]
    report = reconcile(write_lines(tmp_path / "log.jsonl", lines)).models["claude-sonnet-4-5"]
    assert report.agrees is False and report.ratio == pytest.approx(1.3, abs=0.01)
    assert report.framing_per_request == pytest.approx(12)


def text_count(monkeypatch, tokens):
    """Make count_request report `tokens` of text (None: unknown, as without tiktoken), whatever is installed."""
    import costcalc.pricing.request as request_module

    real = request_module.count_request

    class Counted:
        def __init__(self, estimate):
            self._estimate, self.text_tokens = estimate, tokens

        def __getattr__(self, name):
            return getattr(self._estimate, name)

    monkeypatch.setattr(request_module, "count_request", lambda *a, **k: Counted(real(*a, **k)))


def test_counted_text_is_taken_off_the_bill(tmp_path, monkeypatch):
    """With count_request's text_tokens (issue 11, OpenAI via tiktoken), even one image size can be judged."""
    text_count(monkeypatch, 9)
    for factor, agrees in ((1.0, True), (1.3, False), (1.06, False), (1.04, True)):
        lines = [
            {"request": chat("gpt-4o", (1024, 1024, "high")), "response": chat_answer(math.ceil(765 * factor) + 9)}
            for _ in range(3)
        ]
        report = reconcile(write_lines(tmp_path / "log.jsonl", lines)).models["gpt-4o"]
        assert (report.method, report.agrees) == ("text counted", agrees)
        assert report.billed_image_tokens == 3 * math.ceil(765 * factor)


# ------------------------------------------------------------------ batch files


def batch_pair(tmp_path, factor: float = 1.0):
    """An OpenAI Batch input (c0..c5, gpt-4o) and its output: shuffled, c3 unanswered, c4 an error, an orphan."""
    sizes = list(GPT4O.items())
    inputs, outputs = [], []
    for i, (size, tokens) in enumerate(sizes):
        custom_id = f"c{i}"
        inputs.append(
            {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": chat("gpt-4o", size)}
        )
        if i == 3:
            continue
        if i == 4:
            outputs.append(
                {
                    "id": f"batch_req_{i}",
                    "custom_id": custom_id,
                    "response": None,
                    "error": {"code": "server_error", "message": "The server had an error"},
                }
            )
            continue
        body = chat_answer(math.ceil(tokens * factor) + 10 + i % 2)
        outputs.append(
            {
                "id": f"batch_req_{i}",
                "custom_id": custom_id,
                "error": None,
                "response": {"status_code": 200, "request_id": f"req_{i}", "body": body},
            }
        )
    outputs.append(
        {
            "id": "batch_req_x",
            "custom_id": "orphan",
            "error": None,
            "response": {"status_code": 200, "request_id": "req_x", "body": chat_answer(100)},
        }
    )
    random.Random(7).shuffle(outputs)
    return write_lines(tmp_path / "in.jsonl", inputs), write_lines(tmp_path / "out.jsonl", outputs)


def test_batch_files_are_joined_by_custom_id(tmp_path):
    source, answers = batch_pair(tmp_path)
    result = reconcile(source, answers)
    report = result.models["gpt-4o"]
    assert report.requests == 4  # c0, c1, c2, c5
    expected = sum(tokens for i, tokens in enumerate(GPT4O.values()) if i not in (3, 4))
    assert report.predicted_image_tokens == expected
    assert report.agrees is True
    reasons = [skip.reason for skip in result.skipped]
    assert len(reasons) == 3 and report.skipped == 2
    assert any("'c3'" in r and "no answer" in r for r in reasons)
    assert any("'c4'" in r and "server_error" in r for r in reasons)
    assert any("'orphan'" in r and "not in" in r for r in reasons)


def test_batch_over_the_rule_and_a_failed_status(tmp_path):
    source, answers = batch_pair(tmp_path, factor=1.3)
    lines = [json.loads(line) for line in open(answers)]
    for line in lines:
        if line["custom_id"] == "c0":
            line["response"] = {"status_code": 400, "request_id": "r", "body": {"error": {"message": "bad image"}}}
    write_lines(tmp_path / "out.jsonl", lines)
    result = reconcile(source, answers)
    assert result.models["gpt-4o"].agrees is False and result.models["gpt-4o"].requests == 3
    assert any("HTTP 400: bad image" in skip.reason for skip in result.skipped)
    cli_result = run(source, answers)
    assert cli_result.exit_code == 4
    assert "DISAGREES" in cli_result.stdout and "skipped:" in cli_result.stderr


def test_batch_json_shape_and_exit_code(tmp_path):
    result = run(*batch_pair(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["models"]
    report = document["models"]["gpt-4o"]
    assert {"requests", "predicted_image_tokens", "billed_image_tokens", "ratio", "agrees"} <= set(report)
    assert isinstance(report["requests"], int) and isinstance(report["predicted_image_tokens"], int)
    assert isinstance(report["billed_image_tokens"], int) and isinstance(report["ratio"], float)
    assert report["agrees"] is True and report["skipped"] == 2


def test_swapped_or_lone_batch_files_say_so(tmp_path):
    source, answers = batch_pair(tmp_path)
    lone = run(source)
    assert lone.exit_code == 2 and "second argument" in lone.output
    swapped = run(answers, source)
    assert swapped.exit_code == 2 and "input file first" in swapped.output
    with pytest.raises(LogReadError):
        list(read_batch(answers, source))


# ------------------------------------------------------------------ bad lines, bad files


def test_lines_that_cannot_be_priced_or_billed_are_skipped_with_reasons(tmp_path):
    file_image = {
        "model": "gpt-4o",
        "input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}],
    }
    lines = gpt4o_log() + [
        {"request": chat("gpt-4o", (512, 512, "high")), "response": {"error": {"message": "rate limited"}}},
        {"request": chat("gpt-4o", (512, 512, "high")), "response": {"choices": []}},
        {"request": chat("gpt-4o", (512, 512, "high")), "response": {"usage": {"prompt_tokens": -3}}},
        {"request": chat("gpt-nonsense", (512, 512, "high")), "response": chat_answer(300)},
        {"request": file_image, "response": {"usage": {"input_tokens": 300}}},
        {"request": {"model": "gpt-4o", "messages": 5}, "response": chat_answer(300)},
        {"request": chat("gpt-4o", (512, 512, "high"))},
        {"request": "{not json", "response": chat_answer(300)},
        {"request": chat("gpt-6-sol", (1024, 1024, "auto")), "response": chat_answer(1300)},  # multiplier unknown
    ]
    result = reconcile(write_lines(tmp_path / "log.jsonl", lines))
    reasons = [skip.reason for skip in result.skipped]
    assert len(reasons) == 9
    assert result.models["gpt-6-sol"].requests == 0 and "probe" in reasons[-1]
    for expected in (
        "rate limited",
        "no usage",
        "not a token count",
        "unknown model",
        "file",
        "'response'",
        "not JSON",
    ):
        assert any(expected in reason for reason in reasons), (expected, reasons)
    assert result.models["gpt-4o"].agrees is True and result.models["gpt-4o"].skipped == 6
    assert result.models["gpt-nonsense"].requests == 0 and result.models["gpt-nonsense"].agrees is None
    cli_result = run(tmp_path / "log.jsonl")
    assert cli_result.exit_code == 1  # a model that could not be judged at all, none disagreeing
    assert "Traceback" not in cli_result.output and cli_result.stderr.count("skipped:") == 9


@pytest.mark.parametrize(
    "content, where",
    [
        (b'{"request": {}, "response": {}}\n\nnot json\n', ":3: not JSON"),
        (b"[1, 2]\n", ":1: expected a JSON object"),
        (b'{"request": 1}\n\xff\xfe\n', ":2: not UTF-8"),
        (b'{"request": ' + b"[" * 100000 + b"]" * 100000 + b"}\n", ":1:"),
    ],
)
def test_unreadable_files_exit_2_naming_file_and_line(tmp_path, content, where):
    log = tmp_path / "log.jsonl"
    log.write_bytes(content)
    result = run(log)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and f"log.jsonl{where}" in result.output, result.output


def test_missing_files_folders_and_too_many_arguments(tmp_path):
    assert run(tmp_path / "missing.jsonl").exit_code == 2
    assert "no such file" in run(tmp_path / "missing.jsonl").output
    assert "folder" in run(tmp_path).output and run(tmp_path).exit_code == 2
    assert run("a", "b", "c").exit_code == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert run(empty).exit_code == 1 and "no request could be reconciled" in run(empty).output


def test_standard_input_and_the_table(tmp_path):
    text = "".join(json.dumps(line) + "\n" for line in gpt4o_log(1.3))
    result = CliRunner().invoke(cli, ["reconcile", "-"], input=text)
    assert result.exit_code == 4
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["model", "requests", "images", "predicted", "billed", "ratio", "verdict"]
    assert row.split()[:4] == ["gpt-4o", "12", "12", f"{2 * sum(GPT4O.values()):,}"]
    assert "DISAGREES: bills 30" in row and "over the rule" in row


# ------------------------------------------------------------------ parts


def test_bills_of_each_vendor():
    assert bill_of(chat_answer(812)).total == 812
    assert (
        bill_of(
            {"object": "response", "usage": {"input_tokens": 70, "input_tokens_details": {"cached_tokens": 50}}}
        ).total
        == 70
    )
    anthropic = bill_of(claude_answer(500, cached=200))
    assert (anthropic.total, anthropic.shape) == (500, "anthropic")
    written = bill_of({"type": "message", "usage": {"input_tokens": 5, "cache_creation_input_tokens": 300}})
    assert written.total == 305
    reported = bill_of(gemini_answer(258, 9))
    assert (reported.total, reported.image) == (267, 258)
    snake = bill_of(
        {
            "usage_metadata": {
                "prompt_token_count": 300,
                "prompt_tokens_details": [{"modality": "IMAGE", "token_count": 258}],
            }
        }
    )
    assert snake.image == 258
    xai = bill_of({"usage": {"prompt_tokens": 900, "prompt_tokens_details": {"text_tokens": 20, "image_tokens": 880}}})
    assert xai.image == 880
    for bad in (
        {},
        {"usage": {}},
        {"usage": {"prompt_tokens": "9"}},
        [],
        "not json",
        {"usage": {"prompt_tokens": True}},
    ):
        with pytest.raises(ValueError):
            bill_of(bad)


def test_an_exchange_is_reconciled_from_python_objects():
    exchanges = [
        Exchange(f"call {i}", chat("gpt-4o", size), chat_answer(tokens + 10))
        for i, (size, tokens) in enumerate(GPT4O.items())
    ]
    result = reconcile_exchanges(exchanges)
    assert result.as_dict()["models"]["gpt-4o"]["agrees"] is True


@settings(max_examples=150, deadline=None)
@given(
    xs=st.lists(st.integers(0, 5000), min_size=2, max_size=30).filter(lambda xs: len(set(xs)) >= 2),
    slope=st.integers(50, 200),
    intercept=st.integers(0, 500),
)
def test_fit_line_recovers_a_line_exactly(xs, slope, intercept):
    points = [(x, intercept + slope * x / 100) for x in xs]
    fitted_slope, fitted_intercept = fit_line(points)
    assert fitted_slope == pytest.approx(slope / 100, abs=1e-9)
    assert fitted_intercept == pytest.approx(intercept, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(xs=st.lists(st.integers(0, 3000), min_size=9, max_size=30, unique=True), wild=st.integers(1000, 100000))
def test_fit_line_shrugs_off_one_wild_point(xs, wild):
    points = [(x, 12 + 1.3 * x) for x in xs]
    points[len(points) // 2] = (points[len(points) // 2][0], wild)
    slope, intercept = fit_line(points)
    assert slope == pytest.approx(1.3, rel=0.2)


def test_fit_line_needs_two_different_x():
    assert fit_line([(5, 9), (5, 11)]) is None


# ------------------------------------------------------------------ edge cases (edge-case hunt items 2, 8, 9)


@pytest.mark.parametrize("count", [10**400, 10**30, 10**12 + 1])
def test_huge_token_counts_are_skipped_as_not_a_token_count(tmp_path, count):
    """A usage count no request can bill (above 10^12) is skipped like NaN, never a traceback or float noise."""
    line = json.dumps({"request": chat("gpt-4o", (512, 512, "high")), "response": {"usage": {"prompt_tokens": 1}}})
    line = line.replace('"prompt_tokens": 1', f'"prompt_tokens": {count}')
    path = tmp_path / "log.jsonl"
    path.write_text(line + "\n")
    result = reconcile(str(path))
    assert len(result.skipped) == 1 and "usage.prompt_tokens is not a token count" in result.skipped[0].reason
    assert result.models["gpt-4o"].requests == 0
    cli_result = run(path)
    assert "Traceback" not in cli_result.output and cli_result.exit_code == 1
    assert "not a token count" in cli_result.stderr and "e+" not in cli_result.output


def test_a_bill_smaller_than_its_own_text_is_skipped_never_negative(tmp_path, monkeypatch):
    """prompt_tokens 0 with 14 counted text tokens: skipped with a reason, not billed −14 (exit 4)."""
    text_count(monkeypatch, 14)
    reported = {"usage": {"prompt_tokens": 5, "prompt_tokens_details": {"text_tokens": 9}}}  # 5 − 9 < 0
    lines = [
        {"request": chat("gpt-4o", (512, 512, "high")), "response": chat_answer(0)},
        {"request": chat("gpt-4o", (512, 512, "high")), "response": reported},
    ]
    path = write_lines(tmp_path / "log.jsonl", lines)
    result = reconcile(path)
    assert len(result.skipped) == 2 and all("smaller than" in skip.reason for skip in result.skipped)
    report = result.models["gpt-4o"]
    assert report.requests == 0 and report.agrees is None and report.skipped == 2
    cli_result = run(path)
    shown = cli_result.output.replace(str(path), "LOG")  # the temporary folder's name may hold "-14" itself
    assert cli_result.exit_code == 1 and "-14" not in shown and "Traceback" not in shown
