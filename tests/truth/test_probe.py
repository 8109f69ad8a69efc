"""`costcalc probe` (docs/probe.md): hidden rules recovered from a fake vendor API on 127.0.0.1, in few requests.

The fake (tests/fake_api.py) bills by parameters the probe cannot see, with its
own implementation of the SPEC's formulas; every expected value here is either
a hidden parameter or the fake's own bill. No test touches any other host.
"""

import json
import math
import re
import shlex
import socket
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_api import Claude, FakeAPI, Flat, Noisy, Patch, Rejected, Tile
from hypothesis import given, settings
from hypothesis import strategies as st

import costcalc
from costcalc.cli import cli
from costcalc.truth.probe import MAX_REQUESTS, NoFit, fit_rule, row_toml

pytest.importorskip("httpx2")

ROOT = Path(__file__).resolve().parents[2]
_real_create_connection = socket.create_connection


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Only loopback connections; no keys, proxies or table files from the machine running the tests."""

    def create_connection(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"the test tried to connect to {address}")
        return _real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "COSTCALC_TABLES",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def run(*args, key="test-key", env=None):
    """costcalc probe ARGS with the key in every vendor's variable; (exit code, stdout, stderr)."""
    variables = {"OPENAI_API_KEY": key, "ANTHROPIC_API_KEY": key, "GEMINI_API_KEY": key} if key else {}
    result = CliRunner().invoke(cli, ["probe", *map(str, args)], env={**variables, **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def probe_json(api, *args):
    code, out, err = run(*args, "--json")
    assert err == "" or code in (0, 4), err
    return code, json.loads(out)


def image_requests(api):
    return [r for r in api.requests if r[2] is not None]


# ------------------------------------------------------------------ hidden rules recovered


def test_tile_model_with_non_standard_base_and_tile_and_short_side():
    with FakeAPI({"tile-x": Tile(77, 155, short_side=512)}) as api:
        code, doc = probe_json(api, "-m", "tile-x", "--api", "openai", "--base-url", f"{api.url}/v1")
    assert code == 0, doc
    assert doc["scheme"] == "tile" and doc["ok"] is True
    assert doc["fitted"] == {"base": 77, "tile": 155, "short_side": 512, "fit": 2048, "tile_size": 512}
    assert doc["table"] is None and doc["agrees"] is None  # the table does not know it
    assert doc["requests"] == len(api.requests) <= 12  # one request without an image, then one per size
    checks = [m for m in doc["measurements"] if m["use"] == "check"]
    assert len(checks) == 6 and all(m["tokens"] == m["predicted"] for m in checks)
    assert any(m["detail"] == "low" and m["tokens"] == 77 for m in checks)  # low is the base


def test_patch_model_multiplier_limit_and_budget():
    hidden = Patch("1.37", {"high": (1800, 2000)}, auto="high")
    with FakeAPI({"patch-x": hidden}) as api:
        code, doc = probe_json(api, "-m", "patch-x", "--api", "openai", "--base-url", f"{api.url}/v1", "-d", "high")
    assert code == 0, doc
    assert doc["fitted"] == {"multiplier": "1.37", "max_dimension": 1800, "patch_budget": 2000}
    assert doc["equivalent"] == {}  # each pinned to one value
    assert doc["requests"] == len(api.requests) <= 40
    assert {r[3] for r in image_requests(api)} == {"high"}
    fitted = [m for m in doc["measurements"] if m["use"] == "fit"]
    for m in doc["measurements"]:  # the fake's own bill, image by image
        assert m["tokens"] == hidden.tokens("high", m["width"], m["height"])
    assert all(m["tokens"] == m["predicted"] for m in fitted)


def test_claude_style_tier_edge_and_tokens():
    with FakeAPI({"claude-x": Claude(2000, 3000)}) as api:
        code, doc = probe_json(api, "-m", "claude-x", "--api", "anthropic", "--base-url", api.url)
    assert code == 0, doc
    assert doc["scheme"] == "claude" and doc["fitted"] == {"max_edge": 2000, "max_tokens": 3000}
    # Only floor(edge / 28) and the grid products under the cap are observable: the output says which values bill alike
    assert doc["equivalent"] == {"max_edge": "1,988–2,015", "max_tokens": "3,000–3,007"}
    assert doc["requests"] == len(api.requests) <= 25


def test_known_claude_tier_agrees_with_the_table():
    with FakeAPI({"claude-opus-4-7": Claude(2576, 4784), "claude-haiku-4-5": Claude(1568, 1568)}) as api:
        for model, edge, most in (("claude-opus-4-7", 2576, 4784), ("claude-haiku-4-5", 1568, 1568)):
            code, doc = probe_json(api, "-m", model, "--base-url", api.url)
            assert code == 0 and doc["agrees"] is True and doc["api"] == "anthropic"
            assert doc["fitted"] == {"max_edge": edge, "max_tokens": most}
            assert set(doc["comparison"].values()) == {"agree"}


def test_gpt_6_sol_measured_into_a_full_row(tmp_path):
    """The table knows gpt-6-sol's sizing but not its multiplier; the probe measures it and writes a row that prices."""
    hidden = Patch("1.25", {"low": (512, None), "high": (2048, 2500), "original": (65535, None)}, auto="original")
    row = tmp_path / "gpt-6-sol.toml"
    assert costcalc.estimate((1024, 1024), model="gpt-6-sol").tokens is None  # unknown before
    with FakeAPI({"gpt-6-sol": hidden}) as api:
        code, out, err = run("-m", "gpt-6-sol", "--base-url", f"{api.url}/v1", "--write", row)
        requests = len(api.requests)
    assert code == 0, out + err
    assert "multiplier     1.25      unknown  new" in out
    assert f"wrote {row}" in err
    text = row.read_text()
    assert "multiplier = 1.25" in text and 'evidence = "measured"' in text
    assert re.search(r'source = "measured by costcalc probe on \d{4}-\d\d-\d\d at http://127\.0\.0\.1:\d+/v1"', text)
    assert int(re.search(r"with (\d+) requests", text)[1]) == requests <= 30
    tables = costcalc.load_tables(row)
    model = tables.model("gpt-6-sol")
    assert model.evidence == "measured" and model.multiplier == 1.25
    for w, h in ((1024, 1024), (4032, 3024), (7000, 4000), (65535, 400), (333, 77)):
        estimate = costcalc.estimate((w, h), model="gpt-6-sol", tables=tables)
        assert estimate.tokens == hidden.tokens("auto", w, h)
        assert estimate.usd is not None  # the shipped price applies: a full row
    with pytest.raises(costcalc.UnpublishedRuleError):  # levels not measured stay as the table has them
        costcalc.estimate((100, 100), model="gpt-6-sol", detail="low", tables=tables)


def test_each_detail_level_measured_and_written(tmp_path):
    hidden = Patch("1.25", {"low": (512, None), "high": (2048, 2500), "original": (65535, None)}, auto="original")
    with FakeAPI({"gpt-6-sol": hidden}) as api:
        for detail, limit, budget in (("high", 2048, 2500), ("low", 512, None)):
            code, doc = probe_json(api, "-m", "gpt-6-sol", "-d", detail, "--base-url", f"{api.url}/v1")
            assert code == 0 and doc["level"] == detail
            assert doc["fitted"] == {"multiplier": "1.25", "max_dimension": limit, "patch_budget": budget}
        row = tmp_path / "high.toml"
        assert run("-m", "gpt-6-sol", "-d", "high", "--base-url", f"{api.url}/v1", "--write", row)[0] == 0
    tables = costcalc.load_tables(row)
    for w, h in ((1600, 1600), (4000, 1000), (2048, 2048)):
        assert costcalc.image_tokens(w, h, model="gpt-6-sol", detail="high", tables=tables) == hidden.tokens(
            "high", w, h
        )
        # original keeps the table's sizing; the multiplier measured is the model's, so it prices too
        assert costcalc.estimate((w, h), model="gpt-6-sol", tables=tables).tokens == hidden.tokens("auto", w, h)


def test_written_tile_row_of_an_unknown_model_prices_like_the_hidden_rule(tmp_path):
    hidden = Tile(77, 155, short_side=512)
    row = tmp_path / "tile.toml"
    with FakeAPI({"tile-x": hidden}) as api:
        code, out, err = run("-m", "tile-x", "--api", "openai", "--base-url", f"{api.url}/v1", "--write", row)
    assert code == 0, out + err
    tables = costcalc.load_tables(row)
    for w, h in ((2049, 513), (4096, 8192), (100, 100), (1536, 1536)):
        for detail in ("low", "high", "auto"):
            assert costcalc.image_tokens(w, h, model="tile-x", detail=detail, tables=tables) == hidden.tokens(
                detail, w, h
            )
    code = CliRunner().invoke(cli, ["estimate", "--size", "2049x513", "-m", "tile-x", "--tables", str(row)]).exit_code
    assert code == 0


def test_claude_row_written_and_loaded(tmp_path):
    hidden = Claude(2000, 3000)
    row = tmp_path / "claude.toml"
    with FakeAPI({"claude-x": hidden}) as api:
        assert run("-m", "claude-x", "--api", "anthropic", "--base-url", api.url, "--write", row)[0] == 0
    tables = costcalc.load_tables(row)
    assert tables.model("claude-x").vendor == "anthropic"
    for w, h in ((1920, 1080), (3840, 2160), (2000, 2000), (1991, 28), (7000, 300)):
        assert costcalc.image_tokens(w, h, model="claude-x", tables=tables) == hidden.tokens("auto", w, h)


def test_gemini_flat_count_with_google_api_key():
    hidden = Flat({"auto": 1120, "low": 280, "medium": 560, "high": 1120, "ultra_high": 2240})
    with FakeAPI({"gemini-3-pro-preview": hidden}) as api:
        result = CliRunner().invoke(
            cli,
            ["probe", "-m", "gemini-3-pro-preview", "-d", "medium", "--base-url", api.url, "--json"],
            env={"GOOGLE_API_KEY": "test-key"},
        )
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["fitted"] == {"tokens": 560} and doc["agrees"] is True
        assert {r[3] for r in image_requests(api)} == {"medium"}  # sent as media_resolution MEDIUM


def test_table_rule_contradicted_exits_4():
    with FakeAPI({"gpt-4o": Tile(90, 180)}) as api:
        code, out, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1")
    assert code == 4, out + err
    assert re.search(r"base\s+90\s+85\s+disagree", out) and re.search(r"tile\s+180\s+170\s+disagree", out)
    assert "disagrees with the table on base, tile" in out


def test_scheme_contradicted_is_a_disagreement():
    hidden = Patch("1.2", {"high": (2048, 1536)}, auto="high")
    with FakeAPI({"gpt-4o": hidden}) as api:  # the table prices gpt-4o by tiles
        code, doc = probe_json(api, "-m", "gpt-4o", "--base-url", f"{api.url}/v1")
    assert code == 4 and doc["scheme"] == "patch" and doc["table_scheme"] == "tile" and doc["agrees"] is False


def test_from_python(tmp_path):
    import datetime

    hidden = Patch("1.25", {"original": (65535, None)}, auto="original")
    with FakeAPI({"gpt-6-sol": hidden}) as api:
        result = costcalc.probe(
            "gpt-6-sol", key="test-key", base_url=f"{api.url}/v1", today=datetime.date(2026, 11, 23)
        )
        assert result.ok and result.agrees is True and result.requests == len(api.requests)
        assert result.fit.params["multiplier"] == Fraction("1.25") and result.comparison["multiplier"] == "new"
        text = row_toml(result)
        assert 'date = "2026-11-23"' in text and f"at {api.url}/v1" in text
        short = costcalc.probe("gpt-6-sol", key="test-key", base_url=f"{api.url}/v1", max_requests=5)
    assert not short.ok and short.requests == 5 and "stopped after 5 requests" in short.problem
    with pytest.raises(costcalc.ProbeUsageError, match="OPENAI_API_KEY"):
        costcalc.probe("gpt-6-sol")


# ------------------------------------------------------------------ failures


def test_random_billing_is_reported_as_no_fit_with_the_measurements(tmp_path):
    row = tmp_path / "row.toml"
    with FakeAPI({"noisy-1": Noisy(seed=7)}) as api:
        code, out, err = run("-m", "noisy-1", "--api", "openai", "--base-url", f"{api.url}/v1", "--write", row)
        asked = len(api.requests)
    assert code == 1
    assert "no fit:" in out and "fit" in out.split("no fit:")[0]
    shown = re.findall(r"^\d+×\d+\s+auto\s+-?[\d,]+\s+\S*\s*fit$", out, flags=re.M)
    assert len(shown) >= 2  # every measurement made is listed
    assert f"{asked} requests" in out and asked <= MAX_REQUESTS
    assert not row.exists() and "not written" in err
    with FakeAPI({"noisy-1": Noisy(seed=7)}) as api:
        code, doc = probe_json(api, "-m", "noisy-1", "--api", "openai", "--base-url", f"{api.url}/v1")
    assert code == 1 and doc["ok"] is False and doc["problem"] and doc["fitted"] is None
    assert len(doc["measurements"]) == doc["requests"] - 1


def test_random_claude_billing_fails_too():
    with FakeAPI({"claude-noisy": Noisy(seed=3)}) as api:
        code, out, _ = run("-m", "claude-noisy", "--api", "anthropic", "--base-url", api.url)
    assert code == 1 and "no fit:" in out


@pytest.mark.parametrize(
    "variable, api, model",
    [
        ("OPENAI_API_KEY", "openai", "gpt-4o"),
        ("ANTHROPIC_API_KEY", "anthropic", "claude-opus-4-7"),
        ("GEMINI_API_KEY or GOOGLE_API_KEY", "gemini", "gemini-3-pro-preview"),
    ],
)
def test_no_key_is_one_line_naming_the_variable(variable, api, model):
    code, out, err = run("-m", model, key=None)
    assert code == 2 and out == ""
    assert err == f"Error: probe needs your {api} API key: set {variable}\n"


def test_http_errors_are_one_line(tmp_path):
    with FakeAPI({"gpt-4o": Tile(85, 170)}) as api:
        code, out, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1", key="wrong")
        assert (code, out) == (1, "")
        assert err == f"Error: POST {api.url}/v1/responses/input_tokens: HTTP 401: Incorrect API key provided\n"
        code, _, err = run("-m", "no-such-model", "--api", "openai", "--base-url", f"{api.url}/v1")
        assert code == 1 and "HTTP 404: The model `no-such-model` does not exist" in err and err.count("\n") == 1
        code, _, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/nowhere")
        assert code == 1 and "HTTP 404" in err and err.count("\n") == 1
    with socket.socket() as spare:  # a port nothing listens on
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
    code, out, err = run("-m", "gpt-4o", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert (
        code == 1 and out == "" and err.startswith(f"Error: POST http://127.0.0.1:{port}/v1/responses/input_tokens: ")
    )
    assert err.count("\n") == 1


def test_rate_limits_are_waited_out():
    with FakeAPI({"gpt-4o": Tile(85, 170)}, throttle=3) as api:
        code, doc = probe_json(api, "-m", "gpt-4o", "--base-url", f"{api.url}/v1")
        assert code == 0 and doc["agrees"] is True
        assert doc["retries"] == api.throttled > 0 and doc["requests"] == len(api.requests)
        code, out, _ = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1")
        assert code == 0 and re.search(r"\d+ requests \(\d+ more sent again after a rate limit\)", out)
    with FakeAPI({"gpt-4o": Tile(85, 170)}, throttle=1) as api:  # refused every time: given up, in one line
        code, out, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1")
        assert (code, out) == (1, "") and err.endswith("HTTP 429: Rate limit reached\n") and err.count("\n") == 1
        assert api.throttled == 5  # the request and 4 more


def test_arguments():
    code, _, err = run("-m", "mystery-1")
    assert code == 2 and "unknown model 'mystery-1'" in err and "--api openai|anthropic|gemini" in err
    code, _, err = run("-m", "claude-opus-4-7", "-d", "high")
    assert code == 2 and err == "Error: --detail high: the anthropic endpoint takes auto\n"
    code, _, err = run("-m", "pixtral-12b")  # a vendor without a counting endpoint here
    assert code == 2 and "--api" in err and err.count("\n") == 1


def test_request_bodies_carry_the_image_and_the_same_text():
    with FakeAPI({"gpt-4o": Tile(85, 170)}) as api:
        code, doc = probe_json(api, "-m", "gpt-4o", "-d", "high", "--base-url", f"{api.url}/v1")
    assert code == 0
    without = [r for r in api.requests if r[2] is None]
    assert len(without) == 1  # the request without an image, asked once
    sent = [(r[2], r[3]) for r in image_requests(api)]
    assert len(sent) == len(set(sent)) == doc["requests"] - 1  # each size and detail asked once
    assert [((m["width"], m["height"]), m["detail"]) for m in doc["measurements"]] == sent


# ------------------------------------------------------------------ the fitting, without HTTP (invariants)


def _ceilings(patches: int, multiplier: Fraction) -> set[int]:
    """ceil(patches × m) exactly, and as binary floats give it (OpenAI may bill either, docs/openai.md)."""
    return {
        -(-patches * multiplier.numerator // multiplier.denominator),
        math.ceil(patches * (multiplier.numerator / multiplier.denominator)),
    }


def _asker(rule, detail="auto"):
    asked = []

    def ask(width, height, level):
        asked.append((width, height))
        return rule.tokens(level, width, height)

    return ask, asked


@settings(max_examples=15, deadline=None)
@given(
    limit=st.one_of(st.integers(512, 9000), st.sampled_from([512, 2048, 6000, 65535])),
    budget=st.one_of(st.none(), st.integers(0, 20000)),
    multiplier=st.one_of(
        st.integers(100, 300).map(lambda n: f"{n / 100:.2f}"), st.integers(1000, 3000).map(lambda n: f"{n / 1000:.3f}")
    ),
    sizes=st.lists(st.tuples(st.integers(1, 20000), st.integers(1, 20000)), min_size=20, max_size=20),
)
def test_patch_fit_bills_like_the_hidden_rule(limit, budget, multiplier, sizes):
    """Whatever the hidden limit (≥ 512 px), budget (≥ 256 and ≥ limit / 32 patches) and 2–3 place multiplier:
    the fitted rule bills every size as the hidden one does, within the request bound."""
    if budget is not None:
        budget = max(budget, 256, -(-limit // 32))
    hidden = Patch(multiplier, {"high": (limit, budget)}, auto="high")
    ask, asked = _asker(hidden)
    fit = fit_rule(ask, "openai", "high")
    assert len(asked) <= MAX_REQUESTS - 8  # room for the request without an image and the checks
    fitted, wanted = Fraction(fit.params["multiplier"]), Fraction(multiplier)
    if fitted != wanted:  # allowed only where no patch count the hidden rule can bill tells the two apart
        most = min(budget or 30000, (-(-limit // 32)) ** 2, 30000)
        for patches in range(1, most + 1):
            assert _ceilings(patches, fitted) & _ceilings(patches, wanted), (patches, fitted, wanted)
    for w, h in sizes:
        try:
            billed = hidden.tokens("high", w, h)
        except Rejected:
            continue
        assert billed in fit.expected(w, h, "high"), (w, h)


@settings(max_examples=40, deadline=None)
@given(
    edge=st.integers(300, 9000),
    cap=st.integers(1, 90000),
    sizes=st.lists(st.tuples(st.integers(1, 8000), st.integers(1, 8000)), min_size=20, max_size=20),
)
def test_claude_fit_bills_like_the_hidden_rule(edge, cap, sizes):
    """Whatever the hidden max edge and max tokens (≥ edge / 28): the fitted rule bills every size alike."""
    cap = max(cap, edge // 28, 1)
    hidden = Claude(edge, cap)
    ask, asked = _asker(hidden)
    fit = fit_rule(ask, "anthropic")
    assert len(asked) <= 25
    for w, h in sizes:
        assert fit.expected(w, h, "auto") == (hidden.tokens("auto", w, h),)


def test_multiplier_neighbours_are_told_apart():
    """1.37 against 1.369, 1.371 and 1.4: the decimals a coarse probe could not tell apart."""
    for value in ("1.37", "1.369", "1.371", "1.4", "1.5", "2.46", "1.2"):
        ask, asked = _asker(Patch(value, {"high": (2048, 1536)}, auto="high"))
        assert fit_rule(ask, "openai", "high").params["multiplier"] == Fraction(value)


@pytest.mark.parametrize(
    "value, limit, budget",
    [("1.2", 2048, 2500), ("1.62", 2048, 1536), ("2.46", 2048, 1536), ("1.2", 6000, 10000), ("1.1", 65535, None)],
)
def test_float_rounding_of_the_bill_is_allowed(value, limit, budget):
    """OpenAI may bill one token more than the formula, as binary floats take ceil(patches × m) (150 × 1.62 → 244,
    not 243: docs/openai.md): the same rule is found."""
    hidden = Patch(value, {"high": (limit, budget)}, auto="high", floats=True)
    if value == "1.62":
        assert hidden.tokens("high", 480, 320) == 244  # 15 × 10 patches
    ask, _ = _asker(hidden)
    fit = fit_rule(ask, "openai", "high")
    assert fit.params == {"multiplier": Fraction(value), "max_dimension": limit, "patch_budget": budget}


def test_a_multiplier_of_more_than_three_places_is_no_fit():
    ask, _ = _asker(Patch("1.2345", {"high": (2048, 2500)}, auto="high"))
    with pytest.raises(NoFit):
        fit_rule(ask, "openai", "high")


def test_inconsistent_answers_fit_nothing():
    ask, _ = _asker(Noisy(seed=1))
    with pytest.raises(NoFit):
        fit_rule(ask, "openai", "auto")


# ------------------------------------------------------------------ the README's session is real


SESSION = re.search(
    r"```\n(\$ OPENAI_API_KEY=test-key costcalc probe .*?)```", (ROOT / "README.md").read_text(), flags=re.S
)


@pytest.mark.skipif(SESSION is None, reason="no probe session in the README")
def test_readme_probe_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", SESSION[1], flags=re.M)
    assert commands
    with FakeAPI() as api:  # the models `python -m tests.fake_api` serves
        port = api.url.rsplit(":", 1)[1]
        for command, shown in commands:
            words = shlex.split(command.replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
            env = dict(word.split("=", 1) for word in words if re.fullmatch(r"[A-Z_]+=\S*", word))
            words = [word for word in words if word not in {f"{k}={v}" for k, v in env.items()}]
            assert words[0] == "costcalc"
            result = CliRunner().invoke(cli, words[1:], env=env)
            expected = shown.replace("127.0.0.1:8765", f"127.0.0.1:{port}").rstrip("\n").splitlines()
            assert result.output.rstrip("\n").splitlines() == expected, command


# ------------------------------------------------------------------ edge cases (issue 10)


def _gpt_4o_row(tmp_path, name="row.toml"):
    """A row measured from a fake gpt-4o, written to a new file; (exit code, stderr, path)."""
    row = tmp_path / name
    with FakeAPI({"gpt-4o": Tile(85, 170)}) as api:
        code, _, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1", "--write", row)
    return code, err, row


@pytest.mark.parametrize("kind", ["file", "read-only", "symlink", "dangling", "folder", "device"])
def test_write_never_replaces_what_is_there(tmp_path, kind):
    """Item 1: an existing path is refused before any request, and left exactly as it was."""
    target = tmp_path / "target.toml"
    target.write_text("mine\n")
    path = tmp_path / "row.toml"
    if kind == "file":
        path.write_text("mine\n")
    elif kind == "read-only":
        path.write_text("mine\n")
        path.chmod(0o444)
    elif kind == "symlink":
        path.symlink_to(target)
    elif kind == "dangling":
        path.symlink_to(tmp_path / "nowhere.toml")
    elif kind == "folder":
        path.mkdir()
    else:
        path = Path("/dev/null")
    before = path.lstat()
    with FakeAPI({"gpt-4o": Tile(85, 170)}) as api:
        code, out, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1", "--write", path)
        assert api.requests == []  # refused up front
    assert (code, out, err) == (2, "", f"Error: {path} exists; give a new file name\n")
    after = path.lstat()
    assert (after.st_mode, after.st_ino, after.st_size) == (before.st_mode, before.st_ino, before.st_size)
    assert target.read_text() == "mine\n"
    if kind in ("file", "read-only"):
        assert path.read_text() == "mine\n"


def test_write_to_a_new_file_has_ordinary_permissions(tmp_path):
    """Item 1: the new file is whole, with 0o666 less the umask, and no temporary left behind."""
    import os

    old = os.umask(0o022)
    try:
        code, err, row = _gpt_4o_row(tmp_path)
    finally:
        os.umask(old)
    assert code == 0, err
    assert row.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["row.toml"]
    assert costcalc.load_tables(row).model("gpt-4o").evidence == "measured"


def test_base_url_that_is_not_a_url_is_a_usage_error():
    """Item 3: an unclosed IPv6 bracket is one line, exit 2, not a traceback."""
    code, out, err = run("-m", "gpt-4o", "--base-url", "http://[::1/v1")
    assert (code, out) == (2, "") and err.startswith("Error: --base-url 'http://[::1/v1': ") and err.count("\n") == 1


def test_empty_base_url_is_refused_not_the_vendor_default():
    """Item 4: --base-url '' never falls back to the vendor's URL (the offline fixture fails any other host)."""
    code, out, err = run("-m", "gpt-4o", "--base-url", "")
    assert (code, out) == (2, "") and err.startswith("Error: --base-url '': ") and err.count("\n") == 1


def test_empty_write_is_refused():
    """Item 5: --write '' is a usage error before any request, not a silent success."""
    with FakeAPI({"gpt-4o": Tile(85, 170)}) as api:
        code, out, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1", "--write", "")
        assert api.requests == []
    assert (code, out, err) == (2, "", "Error: --write '': give a file name\n")


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:99999/v1", "Port out of range"),
        ("http:///v1", "names no host"),
        ("http://127.0.0.1:0/v1", "port 0"),
        ("ftp://127.0.0.1/v1", "http:// or https://"),
        ("127.0.0.1:8765/v1", "http:// or https://"),
    ],
)
def test_impossible_base_urls_are_usage_errors_not_network_errors(url, reason):
    """Item 10: a URL no request could go to is exit 2, one line, checked before connecting."""
    code, out, err = run("-m", "gpt-4o", "--base-url", url)
    assert (code, out) == (2, "") and err.startswith(f"Error: --base-url {url!r}: ") and err.count("\n") == 1
    assert reason in err


def test_api_conflicting_with_the_table_is_refused():
    """Item 12: the table lists claude-opus-4-7 under anthropic; --api openai is refused before any request."""
    with FakeAPI({"claude-opus-4-7": Claude(1568, 1568)}) as api:
        code, out, err = run("-m", "claude-opus-4-7", "--api", "openai", "--base-url", f"{api.url}/v1")
        assert api.requests == []
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "--api openai" in err and "anthropic" in err
    with FakeAPI({"claude-opus-4-7": Claude(1568, 1568)}) as api:  # the matching --api is fine
        code, _, err = run("-m", "claude-opus-4-7", "--api", "anthropic", "--base-url", api.url)
    assert code in (0, 4), err


def test_tile_low_detail_says_the_whole_rule_was_fitted_at_high():
    """Item 13: -d low on a tile model measures high; the header and the JSON say so."""
    with FakeAPI({"gpt-4o": Tile(85, 170)}) as api:
        code, out, _ = run("-m", "gpt-4o", "-d", "low", "--base-url", f"{api.url}/v1")
        assert code == 0
        header = out.splitlines()[0]
        assert "detail low" in header and "flat base" in header and "at high" in header
        code, doc = probe_json(api, "-m", "gpt-4o", "-d", "low", "--base-url", f"{api.url}/v1")
    assert doc["detail"] == "low" and doc["sent"] == "high" and doc["level"] == "high"
    assert any("low detail is a flat `base`" in note for note in doc["notes"])
    details = Counter(m["detail"] for m in doc["measurements"])
    assert details["high"] >= 3 and details["low"] >= 1  # the rule fitted at high, low checked
    assert {m["tokens"] for m in doc["measurements"] if m["detail"] == "low"} == {85}  # the hidden base


class _Refuses(Tile):
    """A tile model whose endpoint refuses images wider than 1,000 px (HTTP 400) once a few have been counted."""

    def tokens(self, detail, width, height):
        if width > 1000:
            raise Rejected("image too wide")
        return super().tokens(detail, width, height)


def test_json_document_even_when_the_endpoint_fails():
    """Item 14: --json prints one document with the table's parameters, what was measured and the error."""
    with FakeAPI({"gpt-4o": _Refuses(85, 170)}) as api:
        code, out, err = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1", "--json")
    assert code == 1 and err.startswith("Error: POST ") and "HTTP 400: image too wide" in err and err.count("\n") == 1
    doc = json.loads(out)
    assert doc["ok"] is False and "HTTP 400: image too wide" in doc["error"] and doc["error"] == doc["problem"]
    assert doc["table"] == {"base": 85, "tile": 170, "short_side": 768, "fit": 2048, "tile_size": 512}  # tables/
    assert [(m["width"], m["height"], m["tokens"]) for m in doc["measurements"]] == [(32, 32, 255), (64, 64, 255)]
    with FakeAPI({"gpt-4o": Tile(85, 170)}) as api:  # refused at the first request: still a document
        code, out, _ = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1", "--json", key="wrong")
    doc = json.loads(out)
    assert code == 1 and doc["measurements"] == [] and "HTTP 401" in doc["error"] and doc["table"]["base"] == 85


def test_json_document_of_a_failed_fit_has_the_tables_parameters():
    """Item 14: a failed fit of a model the table knows still shows the table's parameters."""
    with FakeAPI({"gpt-4o": Noisy(seed=3)}) as api:
        code, out, _ = run("-m", "gpt-4o", "--base-url", f"{api.url}/v1", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and doc["error"] is None and doc["measurements"]
    assert doc["table"] == {"base": 85, "tile": 170, "short_side": 768, "fit": 2048, "tile_size": 512}


def test_write_without_a_file_lands_in_the_data_folder_and_every_command_reads_it(tmp_path, monkeypatch):
    """`probe --write` with no FILE: the row goes into the data folder; estimate then prices with it, no --tables."""
    from costcalc.catalog.tables import forget_data

    monkeypatch.setenv("COSTCALC_DATA_DIR", str(tmp_path / "data"))
    hidden = Patch("1.25", {"low": (512, None), "high": (2048, 2500), "original": (65535, None)}, auto="original")
    with FakeAPI({"gpt-6-sol": hidden}) as api:
        code, out, err = run(
            "-m",
            "gpt-6-sol",
            "--base-url",
            f"{api.url}/v1",
            "--write",
            env={"COSTCALC_DATA_DIR": str(tmp_path / "data")},
        )
    assert code == 0, out + err
    (written,) = (tmp_path / "data" / "models").glob("gpt-6-sol-*.toml")
    assert f"wrote {written}" in err
    forget_data()
    try:
        assert costcalc.estimate((1024, 1024), model="gpt-6-sol").tokens == hidden.tokens("auto", 1024, 1024)
        result = CliRunner().invoke(
            cli,
            ["estimate", "--size", "1024x1024", "-m", "gpt-6-sol", "--json"],
            env={"COSTCALC_DATA_DIR": str(tmp_path / "data")},
        )
        assert json.loads(result.stdout)[0]["tokens"] == hidden.tokens("auto", 1024, 1024), result.output
    finally:
        monkeypatch.delenv("COSTCALC_DATA_DIR")
        forget_data()
    assert costcalc.estimate((1024, 1024), model="gpt-6-sol").tokens is None  # the suite's own empty folder again


def test_claude_fit_reaches_the_last_partial_patch_of_an_8000_px_side():
    """Edge 8008 (beyond 8000 px sides): an 8000 px side holds 286 patches, so a max tokens of 285 × 286 = 81510
    bills differently from 284 × 285 = 80940; the fit must probe up to it (found by hypothesis in CI)."""
    hidden = Claude(8008, 81510)
    ask, asked = _asker(hidden)
    fit = fit_rule(ask, "anthropic")
    assert len(asked) <= 25
    assert fit.expected(8000, 7980, "auto") == (hidden.tokens("auto", 8000, 7980),) == (81510,)
