"""The shared options mean the same in every command that takes them; CSV is neutralised everywhere it is written."""

from __future__ import annotations

import ast
import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc.cli import ExitCode, cli
from costcalc.output.stream import csv_cell

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def one_line_error(result, code=2) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip("\n").splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.fixture
def inputs(tmp_path):
    """A file or folder each command can take: an image, a folder, a payload, a reconcile log."""
    shutil.copy(SAMPLES / "photo.jpg", tmp_path / "photo.jpg")
    shutil.copy(SAMPLES / "banner.gif", tmp_path / "banner.gif")
    payload = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "photo.jpg"}}]}],
    }
    (tmp_path / "payload.json").write_text(json.dumps(payload))
    (tmp_path / "log.jsonl").write_text(json.dumps({"request": payload, "response": {}}) + "\n")
    return tmp_path


def command_lines(inputs: Path) -> dict[str, list[str]]:
    """Each command that takes -m, with the arguments it needs besides -m."""
    return {
        "estimate": ["estimate", "--size", "512x512"],
        "audit": ["audit", str(inputs / "photo.jpg")],
        "optimize": ["optimize", str(inputs / "photo.jpg"), "-o", str(inputs / "out")],
        "video": ["video", str(inputs / "banner.gif")],
        "request": ["request", str(inputs / "payload.json")],
        "reconcile": ["reconcile", str(inputs / "log.jsonl")],
        "probe": ["probe"],
    }


MANY_MODELS = ["estimate", "audit", "optimize", "video"]
ONE_MODEL = ["request", "reconcile", "probe"]


@pytest.mark.parametrize("command", MANY_MODELS + ONE_MODEL)
def test_an_unknown_model_is_one_line_and_exit_2_in_every_command(inputs, command):
    line = one_line_error(run(*command_lines(inputs)[command], "-m", "no-such-model"))
    assert "--model no-such-model: unknown model 'no-such-model'" in line
    assert not (inputs / "out").exists()


@pytest.mark.parametrize("command", MANY_MODELS)
def test_comma_separated_models_are_repeated_models(inputs, command):
    line = command_lines(inputs)[command]
    if command == "optimize":  # each run its own folder; the rows then differ only by it
        comma = run(*line[:-1], inputs / "a", "-m", "gpt-4o,claude-sonnet-4-5", "--nl")
        repeated = run(*line[:-1], inputs / "b", "-m", "gpt-4o", "-m", "claude-sonnet-4-5", "--nl")
        assert comma.stdout.replace(str(inputs / "a"), "OUT") == repeated.stdout.replace(str(inputs / "b"), "OUT")
    else:
        comma = run(*line, "-m", "gpt-4o,claude-sonnet-4-5", "--json")
        repeated = run(*line, "-m", "gpt-4o", "-m", "claude-sonnet-4-5", "--json")
        assert comma.stdout == repeated.stdout
        assert "claude-sonnet-4-5" in comma.stdout and "gpt-4o" in comma.stdout
    assert comma.exit_code == repeated.exit_code == 0, comma.output
    single = run(*(line if command != "optimize" else line[:-1] + [str(inputs / "c")]), "-m", "gpt-4o", "--nl")
    assert single.exit_code == 0 and "claude-sonnet-4-5" not in single.stdout


def test_comma_separated_models_in_the_environment(inputs):
    given = run("estimate", "--size", "512x512", "--json", env={"COSTCALC_MODEL": "gpt-4o,claude-sonnet-4-5"})
    assert given.exit_code == 0 and {row["model"] for row in json.loads(given.stdout)} == {
        "gpt-4o",
        "claude-sonnet-4-5",
    }


@pytest.mark.parametrize("command", ONE_MODEL)
def test_a_model_list_where_one_model_is_taken_is_one_line(inputs, command):
    line = one_line_error(run(*command_lines(inputs)[command], "-m", "gpt-4o,claude-sonnet-4-5"))
    assert "--model gpt-4o,claude-sonnet-4-5: give one model here" in line


FORMATS = {
    "estimate": ("json", "csv", "nl"),
    "audit": ("json", "csv", "nl"),
    "optimize": ("json", "nl"),
    "video": ("json", "csv", "nl"),
    "request": ("json", "csv", "nl"),
    "models": ("json", "csv", "nl"),
    "limits": ("json", "csv", "nl"),
}


@pytest.mark.parametrize("command", sorted(FORMATS))
def test_two_output_formats_conflict_in_every_command(inputs, command):
    first, second = FORMATS[command][:2]
    line = command_lines(inputs).get(command, [command]) + (["-m", "gpt-4o"] if command in MANY_MODELS else [])
    error = one_line_error(run(*line, f"--{first}", f"--{second}"))
    assert error == f"Error: --{first} and --{second} conflict: give one output format"
    assert not (inputs / "out").exists()


@pytest.mark.parametrize("command", ["estimate", "audit", "optimize", "video", "probe"])
def test_an_unknown_detail_is_exit_2_in_every_command(inputs, command):
    result = run(*command_lines(inputs)[command], "-m", "gpt-4o", "-d", "huge")
    assert result.exit_code == 2 and "'huge' is not one of" in result.stderr


@pytest.mark.parametrize("command", ["estimate", "audit", "video", "request"])
def test_a_tier_the_model_lacks_is_one_line_in_every_command(inputs, command):
    line = command_lines(inputs)[command] + ["-m", "gpt-4o"]
    tables = inputs / "no-flex.toml"  # a model whose vendor offers no flex tier
    tables.write_text(
        '[[model]]\nnames = ["tierless"]\nscheme = "tile"\nauto = "high"\n'
        "high = { base = 85, tile = 170 }\nlow = { base = 85, tile = 0 }\n"
        '[[price]]\nnames = ["tierless"]\nusd_per_1m_input = 1.0\nsource = "test"\n'
    )
    line[line.index("gpt-4o")] = "tierless"
    error = run(*line, "--tables", tables, "--tier", "flex")
    assert error.exit_code == 2, error.output
    assert error.stderr.startswith("Error: ") and "flex" in error.stderr and error.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "command", ["estimate", "audit", "optimize", "video", "request", "reconcile", "probe", "models"]
)
def test_a_bad_table_file_is_one_line_in_every_command(inputs, command):
    bad = inputs / "bad.toml"
    bad.write_text("[[model]]\nnames = 1\n")
    line = command_lines(inputs).get(command, [command]) + (["-m", "gpt-4o"] if command != "models" else [])
    assert one_line_error(run(*line, "--tables", bad)).startswith("Error: --tables: ")


@pytest.mark.parametrize("command", ["audit", "request"])
def test_budget_options_mean_the_same_in_every_command(inputs, command):
    line = command_lines(inputs)[command] + ["-m", "gpt-4o"]
    assert one_line_error(run(*line, "--max-usd", "lots")) == "Error: --max-usd: 'lots' is not an amount of dollars"
    over = run(*line, "--max-tokens", "1")
    assert over.exit_code == ExitCode.OVER_BUDGET and "over --max-tokens 1" in over.stderr
    assert "max_tokens" not in over.stderr  # the command line's words: flags, not parameter names
    over_usd = run(*line, "--max-usd", "0.000001", "--json")
    assert over_usd.exit_code == 4 and "over --max-usd 0.000001" in json.loads(over_usd.stdout)["budget"]["over"][0]


@pytest.mark.parametrize("command", ["audit", "optimize"])
def test_jobs_is_checked_alike(inputs, command):
    assert run(*command_lines(inputs)[command], "-m", "gpt-4o", "-j", "0").exit_code == 2


@pytest.mark.parametrize("command", ["estimate", "audit", "request"])
def test_an_unknown_limits_edition_is_exit_2(inputs, command):
    result = run(*command_lines(inputs)[command], "-m", "gpt-4o", "--limits", "1999-01")
    assert result.exit_code == 2 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_exit_codes_combine():
    assert [ExitCode.of(u, o) for u in (False, True) for o in (False, True)] == [0, 4, 1, 5]
    assert ExitCode.INTERRUPTED == 130 and ExitCode.USAGE == 2


# ------------------------------------------------------------------ shell completion


def test_help_documents_shell_completion():
    shown = run("--help").output
    assert "_COSTCALC_COMPLETE=bash_source costcalc" in shown


@pytest.mark.parametrize("typed, expected", [("gpt-4", "gpt-4o"), ("gpt-4o,claude-son", "gpt-4o,claude-sonnet-4-5")])
def test_model_names_complete(typed, expected):
    env = {"_COSTCALC_COMPLETE": "bash_complete", "COMP_WORDS": f"costcalc estimate -m {typed}", "COMP_CWORD": "3"}
    result = CliRunner().invoke(cli, [], env=env, prog_name="costcalc")
    offered = [line.partition(",")[2] if line.startswith("plain,") else line for line in result.output.splitlines()]
    assert expected in offered and all(name.startswith(typed) for name in offered), offered


# ------------------------------------------------------------------ CSV injection (OWASP)

FORMULA = "=HYPERLINK(1)"


@pytest.mark.parametrize(
    "text, cell",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        (None, ""),
        (-1, -1),
        (7.8e-05, "0.000078"),
    ],
)
def test_csv_cells(text, cell):
    assert csv_cell(text) == cell


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_neutralised(text: str) -> None:
    found = cells(text)
    assert any(FORMULA in cell for cell in found), text
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in found), found


@pytest.fixture
def formula_image(tmp_path):
    path = tmp_path / f"{FORMULA}.png"
    Image.new("RGB", (64, 64)).save(path)
    return path


def test_estimate_csv_is_neutralised(formula_image):
    assert_neutralised(run("estimate", formula_image, "-m", "gpt-4o", "--csv").stdout)


def test_audit_csv_is_neutralised(formula_image):
    assert_neutralised(run("audit", formula_image.parent, "-m", "gpt-4o", "--csv").stdout)


def test_request_csv_is_neutralised(formula_image):
    payload = formula_image.parent / "payload.json"
    payload.write_text(
        json.dumps(
            {
                "model": "gpt-4o",
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": formula_image.name}}]}
                ],
            }
        )
    )
    assert_neutralised(run("request", payload, "--csv").stdout)


def test_batch_file_csv_is_neutralised(tmp_path):
    line = {
        "custom_id": FORMULA,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    }
    (tmp_path / "batch.jsonl").write_text(json.dumps(line) + "\n")
    assert_neutralised(run("request", tmp_path / "batch.jsonl", "--csv").stdout)


def test_video_csv_is_neutralised(tmp_path):
    clip = tmp_path / f"{FORMULA}.gif"
    shutil.copy(SAMPLES / "banner.gif", clip)
    assert_neutralised(run("video", clip, "-m", "gpt-4o", "--csv").stdout)


def test_models_csv_is_neutralised(tmp_path):
    tables = tmp_path / "t.toml"
    tables.write_text(f'[[price]]\nnames = ["gpt-4o"]\nusd_per_1m_input = 2.5\nsource = "{FORMULA}"\n')
    assert_neutralised(run("models", "--tables", tables, "--csv").stdout)


def test_limits_csv_is_neutralised(monkeypatch):
    from costcalc.catalog import limits

    shipped = limits.size_limits
    monkeypatch.setattr(
        limits, "size_limits", lambda: [rule.__class__(**{**vars(rule), "source": FORMULA}) for rule in shipped()[:1]]
    )
    assert_neutralised(run("limits", "--csv").stdout)


# ------------------------------------------------------------------ shape


def test_cli_modules_and_functions_stay_small():
    """Counted as tests/test_size_limits.py counts: lines of code, not docstrings, comments or blank lines."""
    from test_size_limits import offenders

    found = [
        item
        for path in sorted((ROOT / "costcalc" / "cli").glob("*.py"))
        for item in offenders(path.read_text(), path.name)
    ]
    assert not found, found


def test_shared_options_are_declared_once():
    for path in sorted((ROOT / "costcalc" / "cli").glob("*.py")):
        # words.py: the flag names the messages use; quick.py: reads the plainest estimate lines without click, held
        # to the click command's own options by tests/cli/test_quick.py
        if path.name not in ("options.py", "words.py", "quick.py"):
            source = path.read_text()
            for flag in (
                '"-m"',
                '"--model"',
                '"--tier"',
                '"--tables"',
                '"--strict"',
                '"--limits"',
                '"--max-usd"',
                '"--jobs"',
                '"--json"',
            ):
                assert flag not in source, f"{path.name} declares {flag}"


def test_budget_words_in_the_library_name_parameters_not_flags():
    from decimal import Decimal

    from costcalc.money import over_budget

    texts = [str(o) for o in over_budget("m", None, None, max_tokens=5, max_usd=Decimal(1))]
    texts += [str(o) for o in over_budget("m", 10, Decimal(2), max_tokens=5, max_usd=Decimal(1))]
    assert texts and all("--" not in text for text in texts), texts
    assert texts[0] == "m: tokens unknown (multiplier unpublished), so max_tokens 5 cannot be checked"


def _strings(tree: ast.AST):
    """Every string literal of a module that is not a docstring (f-string parts included)."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:  # a string statement: a docstring, or an attribute's
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    docstrings.add(id(statement.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_library_messages_name_parameters_not_flags():
    """Only cli/ (and output/, which renders for the command line) words a message with a flag."""
    import re

    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
    allowed = {("truth/rows.py", "# Load it with --tables FILE")}  # a comment in the row file it writes
    found = []
    for path in sorted((ROOT / "costcalc").rglob("*.py")):
        shown = path.relative_to(ROOT / "costcalc").as_posix()
        if shown.startswith(("cli/", "output/")):
            continue
        for line, text in _strings(ast.parse(path.read_text())):
            if flag.search(text) and not any(shown == p and text.startswith(t) for p, t in allowed):
                found.append(f"{shown}:{line}: {text!r}")
    assert not found, found


@pytest.mark.parametrize(
    "library, command_line",
    [
        (
            "symbolic link, not followed (follow_symlinks=True follows it)",
            "symbolic link, not followed (use --follow-symlinks)",
        ),
        (
            "a.gif: animated GIF: the API accepts still images; pass first_frame=True to keep the first frame only",
            "a.gif: animated GIF: the API accepts still images; pass first_frame (--first-frame) to keep the first frame only",
        ),
        ("base_url 'x': give an http:// or https:// URL", "--base-url 'x': give an http:// or https:// URL"),
        (
            "--model m: api openai: the table lists 'm' under x; leave api out",
            "--model m: --api openai: the table lists 'm' under x; leave --api out",
        ),
        ("messages[0].max_tokens: not a number", "messages[0].max_tokens: not a number"),  # a payload field stays
    ],
)
def test_the_command_line_says_flags_for_parameters(library, command_line):
    from costcalc.cli.words import flag_words

    assert flag_words(library) == command_line


def test_a_files_name_is_never_reworded_as_a_flag(tmp_path):
    """Only a message is said in flags: a file named like a library phrase keeps its name in every table (the
    audit once showed `drop max_tokens.jpg` as `drop --max-tokens.jpg`, rewording the whole table's text)."""
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLES / "photo.jpg", tmp_path / "in" / "drop max_tokens.jpg")
    shutil.copy(SAMPLES / "scan.bmp", tmp_path / "in" / "in_place=True.bmp")
    (tmp_path / "in" / "overwrite=True.jpg").symlink_to("drop max_tokens.jpg")
    audit = run("audit", tmp_path / "in", "-m", "gpt-4o").stdout
    optimize = run("optimize", tmp_path / "in", "-m", "gpt-4o", "-o", tmp_path / "out").stdout
    for table in (audit, optimize):
        for name in ("drop max_tokens.jpg", "in_place=True.bmp", "overwrite=True.jpg"):
            assert f"/in/{name}" in table, table
        assert "--max-tokens" not in table and "--in-place" not in table and "--overwrite" not in table, table
    assert "(symbolic link, not followed (use --follow-symlinks))" in audit  # the message is still in flags
    shown = run("show", tmp_path / "in" / "in_place=True.bmp", "-m", "gpt-4o", "-o", tmp_path / "grid.png")
    assert one_line_error(shown, 1).startswith(f"Error: {tmp_path / 'in' / 'in_place=True.bmp'}: cannot read")
    taken = tmp_path / "overwrite=True.png"
    taken.write_bytes(b"mine")
    refused = one_line_error(run("show", SAMPLES / "photo.jpg", "-m", "gpt-4o", "-o", taken), 2)
    assert refused == f"Error: --output: {taken} already exists; choose another name, or pass --force"
    assert taken.read_bytes() == b"mine"
    estimated = run("estimate", tmp_path / "in" / "in_place=True.bmp", "-m", "gpt-4o")
    assert estimated.exit_code == 1 and f"Error: {tmp_path / 'in' / 'in_place=True.bmp'}: BMP" in estimated.stderr
    from costcalc.cli.words import line_words

    said = "x/overwrite=True.png: symbolic link, not followed (follow_symlinks=True follows it)"
    assert line_words(said, ["x/overwrite=True.png"]) == (
        "x/overwrite=True.png: symbolic link, not followed (use --follow-symlinks)"
    )
    assert line_words("a: pass replace=True", ["a"]) == "a: pass --force"  # a short name: whole names only
    assert line_words("m: leave m out of a max_tokens run", ["a"]) == "m: leave m out of a --max-tokens run"
    odd = tmp_path / "drop max_tokens\nx.png"
    odd.write_bytes(b"x")
    shown = one_line_error(run("show", odd, "-m", "gpt-4o", "-o", tmp_path / "grid2.png"), 1)
    escaped = str(odd).replace("\n", "\\n")
    assert shown.startswith(f"Error: {escaped}: not an image")
    assert line_words(said) == said.replace("overwrite=True", "--overwrite").replace(
        "(follow_symlinks=True follows it)", "(use --follow-symlinks)"
    )  # without the name to keep, the whole message is worded


PHRASES = [
    "symbolic link, not followed (follow_symlinks=True follows it)",
    "already exists; choose another name, or pass replace=True",
    "drop max_tokens or raise it",
    "cannot read: not an image",
]


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=30), st.sampled_from(PHRASES))
def test_a_kept_name_is_said_as_it_is_and_the_message_in_flags(name, phrase):
    from costcalc.cli.words import flag_words, line_words
    from costcalc.words import escape

    said = line_words(f"{name}: {phrase}", [name])
    assert said.startswith(f"{escape(name)}: ")
    if name not in phrase:
        assert said == f"{escape(name)}: {escape(flag_words(phrase))}"


@pytest.mark.parametrize("rows", [[], [{"a": 1}], [{"a": 1.5, "b": [1, {"c": None}], "d": "é\udce9"}, {"a": -2}]])
def test_one_writer_for_every_format(rows):
    from costcalc.output.stream import RowWriter, json_text

    def written(output, **options):
        out = io.StringIO()
        RowWriter(output, out, ["a", "b", "d"], **options).rows(rows).end({"totals": 1} if options else None)
        return out.getvalue()

    assert written("json") == json_text(rows, indent=2) + "\n"  # a list document, as json.dumps lays it out
    document = json.loads(written("json", head={"file": "f"}))
    assert document == {"file": "f", "rows": [json.loads(json_text(row)) for row in rows], "totals": 1}
    assert [json.loads(line) for line in written("nl").splitlines()] == [json.loads(json_text(r)) for r in rows]
    table = list(csv.reader(io.StringIO(written("csv"))))
    assert table[0] == ["a", "b", "d"] and len(table) == len(rows) + 1
    with pytest.raises(ValueError):
        RowWriter("xml", io.StringIO())


def test_a_command_loads_its_own_module_only():
    # start-up (issue 18): `costcalc estimate` imports the estimate command, not audit's, optimize's, ...; the
    # command list still holds every command
    import subprocess
    import sys

    code = (
        "import sys; from costcalc.cli.app import main; sys.argv = ['costcalc', 'estimate', '--size', '8x8', "
        "'-m', 'gpt-4o', '--json']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('costcalc.cli.')), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stderr.strip().splitlines()[-1]
    assert "costcalc.cli.estimate" in loaded
    assert not any(f"costcalc.cli.{name}'" in loaded for name in ("audit", "optimize", "video", "truth", "request"))
    from costcalc.cli import cli

    assert {"estimate", "audit", "optimize", "request", "models", "video"} <= set(cli.commands)
