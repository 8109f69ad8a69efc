"""cli/quick.py: a command line run without click prints what the click command prints, byte for byte, and ends
with the same status; every line it is not sure of goes to click."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc.cli import audit as audit_command
from costcalc.cli import auditing, cli, estimating, quick
from costcalc.cli import estimate as estimate_command

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(tempfile.mkdtemp(prefix="costcalc-quick-"))
atexit.register(shutil.rmtree, FILES, ignore_errors=True)


def _files() -> dict[str, str]:
    """Images of every outcome (priced, damaged, unreadable, missing, a folder, an odd name), made once."""
    made = {
        "png": FILES / "a.png",
        "jpeg": FILES / "b.jpg",
        "gif": FILES / "anim.gif",
        "broken": FILES / "broken.png",
        "odd": FILES / "odd\x1b[31m name.png",
    }
    if not made["png"].exists():
        Image.new("RGB", (1200, 700)).save(made["png"])
        Image.new("RGB", (640, 2000)).save(made["jpeg"], quality=50)
        frames = [Image.new("P", (30, 20), color) for color in (1, 2)]
        frames[0].save(made["gif"], save_all=True, append_images=frames[1:])
        made["broken"].write_bytes(b"\x89PNG\r\n\x1a\nnot really")
        Image.new("RGB", (20, 3000)).save(made["odd"], format="PNG")
    paths = {key: str(path) for key, path in made.items()}
    paths.update(missing=str(FILES / "missing.png"), folder=str(FILES), url="https://example.com/cat.jpg")
    nested = FILES / "tree" / "deeper"
    nested.mkdir(parents=True, exist_ok=True)
    for at, size in enumerate([(300, 200), (2000, 50), (64, 64)]):
        Image.new("RGB", size).save(nested.parent / f"p{at}.png")
        Image.new("RGB", size[::-1]).save(nested / f"q{at}.jpg")
    (nested / ".hidden.png").write_bytes(made["png"].read_bytes())
    (nested / "notes.txt").write_text("not an image")
    paths.update(tree=str(FILES / "tree"), deeper=str(nested))
    return paths


PATHS = _files()
SIZES = ["1024x1024", "2049x513", " 12 x 7 ", "8×8", "1024x1024", "0x5", "abc", "100000x100000"]
GOOD_MODELS = ["gpt-4o", "gpt-4.1-mini", "gpt-4o,gemini-3-flash-preview", "claude-sonnet-4-6"]
MODELS = GOOD_MODELS * 3 + ["nope-model", ","]
DETAILS = ["auto"] * 6 + ["low", "high", "original", "medium", "HIGH"]
TIERS = ["standard"] * 4 + ["batch", "flex", "priority", "nope"]
DAYS = ["2026-12-06", "2025-03-01", " 2026-01-01 ", "yesterday"]


def _option(flag: str, values: list[str]):
    short = {"--size": "-s", "--model": "-m", "--detail": "-d"}.get(flag)
    forms = [lambda v: [flag, v], lambda v: [f"{flag}={v}"]] + (
        [lambda v: [short, v], lambda v: [short + v]] if short else []
    )
    return st.tuples(st.sampled_from(forms), st.sampled_from(values)).map(lambda pair: pair[0](pair[1]))


TOKENS = st.one_of(
    _option("--size", SIZES),
    _option("--model", MODELS),
    _option("--detail", DETAILS),
    _option("--tier", TIERS),
    _option("--limits", ["2026-12", "nope"]),
    _option("--as-of", DAYS),
    st.sampled_from([["--strict"], ["--regional"], ["--json"], ["--csv"], ["--nl"]]),
    st.sampled_from(sorted(PATHS)).map(lambda key: [PATHS[key]]),
)


def _quick(argv: list[str], monkeypatch) -> tuple[int | None, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stdout", out)
        patched.setattr(sys, "stderr", err)
        status = quick.run(argv)
    return status, out.getvalue(), err.getvalue()


def _click(argv: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


AUDIT_TOKENS = st.one_of(
    _option("--model", MODELS),
    _option("--detail", DETAILS),
    _option("--tier", TIERS),
    _option("--limits", ["2026", "nope"]),
    _option("--as-of", DAYS),
    _option("--jobs", ["1", "2", "1", "0", "x"]),
    st.sampled_from(
        [[flag] for flag in ("--strict", "--regional", "--json", "--csv", "--nl", "--summary", "--allow-empty")]
        + [["--hidden"], ["--no-recursive"], ["--recursive"], ["--follow-symlinks"]]
    ),
    st.sampled_from(["tree", "deeper", "png", "broken", "missing", "odd"]).map(lambda key: [PATHS[key]]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.sampled_from(GOOD_MODELS), tokens=st.lists(TOKENS, max_size=6))
def test_a_line_run_without_click_prints_and_ends_as_the_click_command(first, tokens, monkeypatch):
    argv = ["estimate", "-m", first] + [token for group in tokens for token in group]
    status, out, err = _quick(argv, monkeypatch)
    if status is not None:
        assert (status, out, err) == _click(argv)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.sampled_from(["tree", "deeper", "png"]), tokens=st.lists(AUDIT_TOKENS, max_size=6))
def test_an_audit_run_without_click_prints_and_ends_as_the_click_command(first, tokens, monkeypatch):
    argv = ["audit", PATHS[first], "-m", "gpt-4o"] + [token for group in tokens for token in group]
    status, out, err = _quick(argv, monkeypatch)
    if status is not None:
        assert (status, out, err) == _click(argv)


def _arguments(argv: list[str], monkeypatch) -> tuple:
    """What each path hands the command's own code (estimating.run, auditing.run) for `argv`: (quick's, click's)."""
    calls: list = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return 0

    for module in (estimating, estimate_command, auditing, audit_command):
        monkeypatch.setattr(module, "run", record)
    status = _quick(argv, monkeypatch)[0]
    if status is None:
        return None, None
    CliRunner().invoke(cli, argv)
    return tuple(calls)


def _normal(call) -> dict:
    """A call's arguments by name (estimating.run takes them by keyword from quick, by position from click)."""
    args, kwargs = call
    if len(args) == 3:  # auditing.run(paths, models, given, day=, regional=)
        return {"paths": args[0], "models": args[1], **args[2], **kwargs}
    names = ("images", "sizes", "models", "detail", "edition", "tier", "strict", "remote", "output", "table_files")
    return {**dict(zip(names, args)), **kwargs}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["estimate", "audit"]), data=st.data())
def test_each_path_hands_the_command_the_same_arguments(command, data, monkeypatch):
    tokens = data.draw(st.lists(TOKENS if command == "estimate" else AUDIT_TOKENS, max_size=7))
    head = ["-m", data.draw(st.sampled_from(GOOD_MODELS))] + ([PATHS["tree"]] if command == "audit" else [])
    argv = [command, *head] + [token for group in tokens for token in group]
    mine, theirs = _arguments(argv, monkeypatch)
    if mine is not None:
        assert _normal(mine) == _normal(theirs)


@pytest.mark.parametrize(
    "argv",
    [
        ["--size", "1024x1024", "-m", "gpt-4o"],
        ["-s", "2049x513", "-m", "gpt-4o,gpt-4.1-mini", "-d", "high", "--csv"],
        [PATHS["png"], PATHS["jpeg"], PATHS["missing"], "-m", "gemini-3-flash-preview", "--nl"],
        [PATHS["gif"], PATHS["odd"], PATHS["broken"], "-m", "gpt-4o", "--strict", "--tier", "batch"],
        [PATHS["folder"], "--size=8x8", "--model=gpt-4o", "--as-of", "2025-03-01", "--json"],
        ["-s1024x1024", "-mclaude-sonnet-4-6", "--regional", "--limits", "2026"],
    ],
)
def test_plain_lines_run_without_click_and_print_the_same(argv, monkeypatch):
    status, out, err = _quick(["estimate", *argv], monkeypatch)
    assert status is not None, "left to click"
    assert (status, out, err) == _click(["estimate", *argv])
    assert out


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h"],
        ["--size", "8x8"],  # no -m: COSTCALC_MODEL or click's error
        ["-", "-m", "gpt-4o"],
        ["--size", "8x8", "-m", "gpt-4o", "--fetch"],
        ["--size", "8x8", "-m", "gpt-4o", "--tables", "mine.toml"],
        ["--size", "8x8", "-m", "gpt-4o", "--", "a.png"],
        ["--size", "8x8", "-m", "gpt-4o", "--json", "--csv"],
        ["--size", "8x8", "-m", "nope-model"],
        ["--size", "-1x8", "-m", "gpt-4o"],
        ["--size", "8x8", "-m", "gpt-4o", "--as-of", "yesterday"],
        ["--size", "8x8", "-m", "gpt-4o", "-d", "HIGH"],
        ["--size", "8x8", "-m", "gpt-4o", "--strict=yes"],
        [],
    ],
)
def test_every_other_line_is_left_to_click_with_nothing_written(argv, monkeypatch):
    assert _quick(["estimate", *argv], monkeypatch) == (None, "", "")


@pytest.mark.parametrize(
    "argv",
    [
        ["--size", "1024x1024", "-m", "gpt-4o"],
        [PATHS["png"], PATHS["broken"], "-m", "gpt-4o,claude-sonnet-4-6", "--nl"],
    ],
)
def test_plain_lines_hand_the_command_what_click_hands_it(argv, monkeypatch):
    mine, theirs = _arguments(["estimate", *argv], monkeypatch)
    assert mine is not None and _normal(mine) == _normal(theirs)


@pytest.mark.parametrize(
    "argv",
    [
        [PATHS["tree"], "-m", "gpt-4o"],
        [PATHS["tree"], PATHS["png"], "-m", "gpt-4o", "-m", "gemini-3-flash-preview", "--json", "-j1"],
        [PATHS["deeper"], "-m", "claude-sonnet-4-6", "--summary", "--hidden", "--no-recursive", "--strict"],
        [PATHS["tree"], "-mgpt-4o", "--csv", "--tier=batch", "--jobs", "2", "--as-of", "2025-03-01"],
        [PATHS["missing"], PATHS["odd"], "-m", "gpt-4.1-mini", "--nl", "--allow-empty", "--follow-symlinks"],
    ],
)
def test_plain_audit_lines_run_without_click_and_print_the_same(argv, monkeypatch):
    status, out, err = _quick(["audit", *argv], monkeypatch)
    assert status is not None, "left to click"
    assert (status, out, err) == _click(["audit", *argv])
    mine, theirs = _arguments(["audit", *argv], monkeypatch)
    assert _normal(mine) == _normal(theirs)


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "gpt-4o"],
        [".", "--help"],
        [".", "-m", "gpt-4o", "--glob", "*.png"],
        [".", "-m", "gpt-4o", "--max-usd", "1"],
        [".", "-m", "gpt-4o", "--html", "r.html"],
        ["s3://bucket/x", "-m", "gpt-4o"],
        ["data.parquet", "-m", "gpt-4o"],
        [".", "-m", "gpt-4o", "--urls"],
        [".", "-m", "gpt-4o", "-j", "0"],
        [".", "-m", "gpt-4o", "-j", "²"],  # a digit to str.isdigit, not to int()
        [".", "-m", "gpt-4o", "--jobs=①"],
        [".", "-m", "gpt-4o", "-j", "9" * 5000],  # past int()'s 4,300 digits: click's error, not a traceback
        [".", "-m", "gpt-4o", "--recursive", "--no-recursive"],
        [".", "-m", "nope-model"],
        [".", "-m", "gpt-4o", "--limits", "nope"],
    ],
)
def test_every_other_audit_line_is_left_to_click_with_nothing_written(argv, monkeypatch):
    assert _quick(["audit", *argv], monkeypatch) == (None, "", "")


def test_the_audit_defaults_are_the_options_a_quick_line_never_gives():
    command = cli.get_command(None, "audit")
    read = set(quick.VALUES["audit"].values()) | set(quick.FLAGS["audit"].values()) | {"paths", "output"}
    read |= {"as_json", "as_csv", "as_nl", "recursive", "edition", "jobs"}
    never = {param.name for param in command.params if param.expose_value} - read - {"table_files"}
    assert never == set(quick.AUDIT_DEFAULTS)


def test_other_commands_and_table_files_from_the_environment_are_left_to_click(monkeypatch):
    assert _quick(["models"], monkeypatch)[0] is None
    monkeypatch.setenv("COSTCALC_TABLES", "mine.toml")
    assert _quick(["estimate", "--size", "8x8", "-m", "gpt-4o"], monkeypatch)[0] is None


@pytest.mark.parametrize(
    "argv, status, shown",
    [
        (["estimate", "--size", "1024x1024", "-m", "gpt-4o"], 0, "765"),
        (["audit", PATHS["tree"], "-m", "gpt-4o", "--json", "-j2"], 1, '"status": "priced"'),
    ],
    ids=["estimate", "audit"],
)
def test_the_command_runs_without_importing_click_or_what_a_start_up_need_not(argv, status, shown, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "COSTCALC_TABLES"}
    env["PYTHONPATH"] = str(ROOT)
    code = f"import runpy, sys; sys.argv = ['costcalc', *{argv!r}]\n"
    code += "try:\n    runpy.run_module('costcalc', run_name='__main__')\nfinally:\n"
    code += "    print(sorted({'click', 'typing', 'dataclasses', 'inspect', 'pathlib'} & set(sys.modules)), file=sys.stderr)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == status, done.stderr
    assert shown in done.stdout and done.stderr.strip().endswith("[]")


@pytest.mark.parametrize("name", ["estimate", "audit"])
def test_each_option_read_without_click_is_the_click_commands_own_of_the_same_kind(name):
    command = cli.get_command(None, name)
    options = {opt: param for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for flag, key in quick.VALUES[name].items():
        assert not options[flag].is_flag, flag
        assert options[flag].name == key, flag
    for flag in quick.FLAGS[name]:
        assert options[flag].is_flag, flag


def _run(argv: list[str], **popen) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "COSTCALC_TABLES"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen([sys.executable, "-m", "costcalc", *argv], env=env, **popen)


@pytest.mark.parametrize("force_click", [False, True], ids=["quick", "click"])
def test_a_reader_that_leaves_early_gets_the_status_of_what_was_read(force_click):
    """console.py's promise: `| head -1` ends quietly with the run's status (1: a file could not be priced)."""
    argv = ["estimate", PATHS["png"], PATHS["broken"], "-m", "gpt-4o"] + (["--fetch"] if force_click else [])
    done = _run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done.stdout.close()  # gone before the command writes a byte
    assert done.wait(timeout=60) == 1
    assert b"Traceback" not in done.stderr.read()


@pytest.mark.parametrize("force_click", [False, True], ids=["quick", "click"])
def test_a_closed_standard_error_is_no_failure(force_click):
    argv = ["estimate", "--size", "10x10", "-m", "gpt-4o"] + (["--fetch"] if force_click else [])
    done = _run(argv, stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
    out, _ = done.communicate(timeout=60)
    assert done.returncode == 0 and b"gpt-4o" in out
