"""Edge cases of the outputs found by the edge-case hunt (issue 10): one test per defect.

#6 basis in every audit output; #7 JSON that stays UTF-8 for a file name that is not;
#8 one name per model however it is spelled; #12 what to do about an unpublished rule;
#19 error text in JSON's words, never Python's; #21 "1 image", not "1 images".
"""

import csv
import io
import json
import os
import subprocess
import sys

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from costcalc.catalog.tables import default_tables, get_model, get_price
from costcalc.cli import cli
from costcalc.output.report import json_text
from costcalc.pricing.verdict import unique_models
from costcalc.runs.audit import audit
from costcalc.runs.totals import AuditRow


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def png(path, size):
    Image.new("RGB", size, "green").save(path, "PNG")
    return path


def run_bytes(*args, cwd=None) -> tuple[int, bytes, str]:
    """The real command in a child process: (exit code, stdout as bytes, stderr)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}
    done = subprocess.run([sys.executable, "-m", "costcalc", *args], capture_output=True, env=env, timeout=60, cwd=cwd)
    assert b"Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr.decode("utf-8", "replace")


# ------------------------------------------------------------------ #6 basis in every audit output


def test_audit_says_how_sure_its_tokens_are_in_every_output(tmp_path):
    # docs/google.md: Gemini 3 bills at most 1,120 per image at its default media resolution (a maximum);
    # Gemini 2.0 bills 258 exactly when both sides are ≤ 384 px, approximate tiles above; OpenAI tiles are exact.
    png(tmp_path / "a_small.png", (300, 200))
    png(tmp_path / "b_big.png", (1600, 1200))
    models = ["gemini-3-pro-preview", "gemini-2.0-flash", "gpt-4o"]
    expected = {
        ("a_small.png", "gemini-3-pro-preview"): "maximum",
        ("b_big.png", "gemini-3-pro-preview"): "maximum",
        ("a_small.png", "gemini-2.0-flash"): "exact",
        ("b_big.png", "gemini-2.0-flash"): "approximate",
        ("a_small.png", "gpt-4o"): "exact",
        ("b_big.png", "gpt-4o"): "exact",
    }

    rows = list(audit([tmp_path], models=models))
    assert "basis" in AuditRow._fields
    assert {(os.path.basename(r.path), r.model): r.basis for r in rows} == expected
    args = ["audit", tmp_path, *(a for m in models for a in ("-m", m))]
    lines = [json.loads(line) for line in run(*args, "--nl").stdout.splitlines()]
    assert {(os.path.basename(r["path"]), r["model"]): r["basis"] for r in lines} == expected
    table = list(csv.DictReader(io.StringIO(run(*args, "--csv").stdout)))
    assert {(os.path.basename(r["path"]), r["model"]): r["basis"] for r in table} == expected
    document = json.loads(run(*args, "--json").stdout)
    assert {(os.path.basename(r["path"]), r["model"]): r["basis"] for r in document["rows"]} == expected
    assert {name: t["basis"] for name, t in document["totals"].items()} == {
        "gemini-3-pro-preview": "maximum",
        "gemini-2.0-flash": "approximate",
        "gpt-4o": "exact",
    }
    people = run(*args).stdout
    assert "≤ 1,120" in people and "≤ 2,240" in people  # a row, and the total of two maxima
    assert "≈ " in people and "≤ N: a documented maximum" in people
    bmp = tmp_path / "other" / "scan.bmp"
    bmp.parent.mkdir()
    Image.new("RGB", (20, 20)).save(bmp, "BMP")
    rejected = json.loads(run("audit", bmp.parent, "-m", "gpt-4o", "--nl").stdout)
    assert rejected["status"] == "rejected" and rejected["basis"] is None  # no tokens, nothing to be sure of


# ------------------------------------------------------------------ #7 JSON stays UTF-8


undecodable = st.integers(0xDC80, 0xDCFF).map(chr)  # what os.fsdecode makes of a byte that is not UTF-8


@given(st.lists(st.text() | undecodable).map("".join))
def test_json_text_is_utf8_and_gives_the_very_string_back(text):
    document = json_text({"path": text, "rows": [text]}, indent=2)
    assert json.loads(document.encode("utf-8").decode("utf-8")) == {"path": text, "rows": [text]}
    assert json.loads(json_text("\ud800").encode("utf-8")) == "\ud800"  # a lone high surrogate from a payload


def test_json_outputs_stay_utf8_and_name_a_latin1_file_a_program_can_open(tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9.png"
    png(name, (10, 10))
    folder, path = os.fsdecode(os.fsencode(tmp_path)), os.fsdecode(name)

    def opens(found: str) -> None:
        with open(os.fsencode(found), "rb") as handle:
            assert handle.read(4) == b"\x89PNG"

    def document(*args):
        code, out, err = run_bytes(*args)
        assert code == 0, err
        assert b"\xe9" not in out  # not the raw byte: JSON is UTF-8 (RFC 8259 §8.1)
        return out.decode("utf-8")  # strict: raises on any byte that is not UTF-8

    opens(json.loads(document("audit", folder, "-m", "gpt-4o", "--json"))["rows"][0]["path"])
    opens(json.loads(document("audit", folder, "-m", "gpt-4o", "--nl").splitlines()[0])["path"])
    opens(json.loads(document("estimate", path, "-m", "gpt-4o", "--json"))[0]["source"])
    opens(json.loads(document("estimate", path, "-m", "gpt-4o", "--nl").splitlines()[0])["source"])
    payload = tmp_path / "payload.json"
    payload.write_text(
        '{"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "image_url", '
        '"image_url": {"url": "caf\\udce9.png"}}]}]}'
    )
    priced = json.loads(document("request", payload, "--json"))
    assert priced["images"][0]["tokens"] == 255  # 10 × 10 on gpt-4o: 85 + 170 × 1 tile (docs/openai.md)
    code, out, _ = run_bytes("audit", path, "-m", "gpt-4o", "--csv")  # plain text: the bytes themselves
    assert code == 0 and b"caf\xe9.png" in out


# ------------------------------------------------------------------ #8 one name per model


def test_a_model_spelled_two_ways_is_one_model(tmp_path):
    # docs/README.md: vendor ids resolve to one row; a dated snapshot stays its own name (it may have its own price)
    names = {
        "openai/gpt-4o": "gpt-4o",
        "OpenAI/GPT-4o": "gpt-4o",
        "anthropic/claude-opus-4-7": "claude-opus-4-7",
        "claude-3-5-sonnet-latest": "claude-3-5-sonnet",
        "gpt-5.6": "gpt-5.6-sol",
        "openai/gpt-4o-2024-08-06": "gpt-4o-2024-08-06",
        "gpt-4o-2024-08-06": "gpt-4o-2024-08-06",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0": "claude-sonnet-4-5-20250929",
    }
    assert {spelled: get_model(spelled).name for spelled in names} == names
    assert get_price("openai/gpt-4o-2024-05-13") == get_price("gpt-4o-2024-05-13") != get_price("gpt-4o")
    tables = default_tables()
    assert unique_models(["gpt-4o", "openai/gpt-4o", "anthropic/claude-opus-4-7", "claude-opus-4-7"], tables) == [
        "gpt-4o",
        "claude-opus-4-7",
    ]

    png(tmp_path / "a.png", (1024, 1024))  # 765 tokens on gpt-4o (docs/openai.md worked example)
    document = json.loads(run("audit", tmp_path, "-m", "gpt-4o", "-m", "openai/gpt-4o", "--json").stdout)
    assert list(document["totals"]) == ["gpt-4o"] and document["totals"]["gpt-4o"]["tokens"] == 765
    assert len(document["rows"]) == 1
    summary = run("audit", tmp_path, "-m", "gpt-4o", "-m", "openai/gpt-4o", "--summary").stdout
    lines = [line.split() for line in summary.splitlines() if line.startswith("gpt-4o")]
    assert "openai/gpt-4o" not in summary and len(lines) == 2  # its totals, its tokens per image: once each
    assert lines[0][6] == "765" and lines[1][1:] == ["1", "765", "765", "765", "765"]
    rows = json.loads(run("estimate", "--size", "1024x1024", "-m", "gpt-4o", "-m", "openai/gpt-4o", "--json").stdout)
    assert [row["model"] for row in rows] == ["gpt-4o"]


# ------------------------------------------------------------------ #12 an unpublished rule


def test_an_unpublished_rule_says_how_to_measure_it_and_exits_2():
    grok = run("estimate", "--size", "1x1", "-m", "grok-4")  # xAI: no rule, no counting endpoint probe speaks
    assert grok.exit_code == 2 and "once available" not in grok.output
    assert "costcalc reconcile" in grok.output and "cannot reach" in grok.output
    argon = run("estimate", "--size", "1x1", "-m", "gemini-4-argon")  # Google: probe speaks Gemini's endpoint
    assert argon.exit_code == 2 and "`costcalc probe -m gemini-4-argon`" in argon.output
    epilog = run("estimate", "-h").output
    code_2 = epilog[epilog.index("  2  ") : epilog.index("  130")]
    assert "unpublished" in code_2


# ------------------------------------------------------------------ #19 JSON's words, not Python's


def test_errors_name_json_kinds_and_never_python_internals(tmp_path):
    for text, kind in (("null", "null"), ("[1]", "a list"), ('"x"', "a string"), ("7", "a number")):
        payload = tmp_path / "payload.json"
        payload.write_text(text)
        result = run("request", payload)
        assert result.exit_code == 2 and f"it is {kind}" in result.output
        assert "NoneType" not in result.output and "(it is a list)" not in result.output
    log = tmp_path / "calls.jsonl"
    log.write_text(
        '{"request": {"model": "gpt-4o", "messages": []}, "response": {"usage": {"prompt_tokens": '
        + "1" * 5001
        + "}}}\n"
    )
    result = run("reconcile", log)
    assert result.exit_code == 2 and f"{log}:1:" in result.output and "5,001 digits" in result.output
    assert "sys.set_int_max_str_digits" not in result.output
    log.write_text("[1, 2]\n")
    result = run("reconcile", log)
    assert result.exit_code == 2 and "not a list" in result.output


# ------------------------------------------------------------------ #21 grammar


def test_one_image_is_one_image_not_one_images(tmp_path):
    png(tmp_path / "a.png", (10, 10))
    payload = tmp_path / "payload.json"
    payload.write_text(
        '{"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "image_url", '
        '"image_url": {"url": "a.png"}}]}]}'
    )
    shown = run("request", payload).output
    assert "gpt-4o: 1 image, 0 unpriced" in shown and "1 images" not in shown
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        json.dumps(
            {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": json.loads(payload.read_text())}
        )
        + "\n"
    )
    shown = run("request", batch).output
    assert "1 request;" in shown and "1 request priced, 1 image;" in shown and "1 requests" not in shown
