"""One verdict per file (issue 9): estimate, audit, request and optimize give every file the same status.

The corpus is samples/ plus generated files of every kind the issue names. Each
command, through the library and through the command line, must say the same:
priced (with the same warning), rejected by the same named rule, or unreadable.
`optimize` also has to decode what it resizes: an accepted file Pillow cannot
decode may be an error row there, without a rule (its verdict is still "accepted").
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc
from costcalc.cli import cli
from costcalc.errors import AnimatedImageError, ImageRejectedError, UnsupportedFormatError
from costcalc.preflight.optimize import optimize
from costcalc.pricing.request import count_request
from costcalc.runs.audit import audit

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
MODELS = ("gpt-4o", "gpt-6-astra")  # a tile model, and a patch model that rejects over 30,000 patches (auto)
LATIN1 = os.fsdecode(b"caf\xe9.png")
MEDIA = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG header of a huge size whose data never delivers it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def make_corpus(folder: Path) -> dict[str, bytes]:
    """samples/ and one file of every kind: name -> bytes (also written into `folder`)."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "blue", "green")]
    animated = dict(save_all=True, append_images=frames[1:], duration=100)
    jpeg = _encoded(photo, "JPEG")
    png = _encoded(photo, "PNG")
    corpus = {path.name: path.read_bytes() for path in sorted(SAMPLES.iterdir()) if path.is_file()}
    corpus.update(
        {
            "photo.png": png,
            "photo.jpeg": jpeg,
            "photo.webp": _encoded(photo, "WEBP"),
            "still.gif": _encoded(photo.convert("P"), "GIF"),
            "moving.gif": _encoded(frames[0], "GIF", **animated),
            "moving.webp": _encoded(frames[0], "WEBP", **animated),
            "apng.png": _encoded(frames[0], "PNG", **animated),
            "bitmap.bmp": _encoded(photo, "BMP"),
            "cut.png": png[: len(png) // 2],
            "cut.jpeg": jpeg[: len(jpeg) // 2],
            "no-eoi.jpeg": jpeg[:-2],
            "junk.jpeg": jpeg[:20] + b"\x00junk" + jpeg[20:],
            "header-only.png": png[:33],
            "random.bin": bytes((i * 151 + 7) % 256 for i in range(3000)),
            "empty.png": b"",
            "giant.png": _png_claiming(60000, 60000),
            LATIN1: _encoded(photo.resize((10, 10)), "PNG"),
        }
    )
    for name, data in corpus.items():
        (folder / name).write_bytes(data)
    return corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verdict") / "corpus"
    return folder, make_corpus(folder)


def decodable(data: bytes) -> bool:
    """Pillow decodes every pixel (what optimize must do to write a file)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
        return True
    except Exception:  # noqa: BLE001
        return False


def by_error(error: Exception) -> tuple[str, str | None]:
    """(status, rule) of a library call that raised."""
    if isinstance(error, ImageRejectedError):
        return "rejected", error.rule
    assert isinstance(error, costcalc.CostcalcError), repr(error)
    return "unreadable", None


# ------------------------------------------------------------------ the library


def library_statuses(folder: Path, corpus: dict, model: str) -> dict[str, dict[str, tuple]]:
    """name -> command -> (status, rule, warning when priced)."""
    got: dict[str, dict[str, tuple]] = {name: {} for name in corpus}
    for row in audit([folder], models=[model]):
        got[os.path.basename(row.path)]["audit"] = (
            row.status,
            row.rule,
            row.warning if row.status == "priced" else None,
        )
    for name in corpus:
        try:
            result = costcalc.estimate(folder / name, model=model)
            got[name]["estimate"] = ("priced", None, result.warning)
        except Exception as error:  # noqa: BLE001 - by_error checks it is a CostcalcError
            got[name]["estimate"] = (*by_error(error), None)
    names = list(corpus)
    parts = [{"type": "image_url", "image_url": {"url": name}} for name in names]
    request = count_request({"model": model, "messages": [{"role": "user", "content": parts}]}, base_dir=folder)
    for name, image in zip(names, request.images):
        got[name]["request"] = _request_status(image)
    typed = [
        name for name in names if corpus[name][:4] in (b"\x89PNG", b"GIF8", b"RIFF") or corpus[name][:2] == b"\xff\xd8"
    ]
    urls = []
    for name in typed:
        info_format = {b"\x89P": "PNG", b"GI": "GIF", b"RI": "WEBP", b"\xff\xd8": "JPEG"}[corpus[name][:2]]
        urls.append(
            {
                "type": "image_url",
                "image_url": {"url": f"data:{MEDIA[info_format]};base64,{base64.b64encode(corpus[name]).decode()}"},
            }
        )
    request = count_request({"model": model, "messages": [{"role": "user", "content": urls}]})
    for name, image in zip(typed, request.images):
        got[name]["request data URL"] = _request_status(image)
    for name in corpus:
        try:
            result = optimize(folder / name, model=model)
            got[name]["optimize"] = ("priced", None, result.warning)
        except Exception as error:  # noqa: BLE001
            got[name]["optimize"] = (*by_error(error), None)
    return got


def _request_status(image) -> tuple:
    if image.tokens is not None:
        return "priced", None, image.warning
    return ("rejected", image.rule, None) if image.rule else ("unreadable", None, None)


def check_agreement(got: dict, corpus: dict) -> None:
    for name, commands in got.items():
        truth = commands["audit"]
        for command, outcome in commands.items():
            if command == "optimize" and truth[0] == "priced" and not decodable(corpus[name]) and outcome != truth:
                assert outcome[:2] == ("unreadable", None), (name, command, outcome)  # cannot decode, no rule
                continue
            if command == "optimize" and truth[:2] == ("rejected", "max_patches"):  # shrunk into the limit (issue 20)
                assert outcome[0] == "priced" or outcome[:2] == ("unreadable", None), (name, command, outcome)
                continue
            assert outcome == truth, (name, command, outcome, truth)


@pytest.mark.parametrize("model", MODELS)
def test_every_file_gets_one_verdict_through_the_library(corpus, model):
    folder, files = corpus
    got = library_statuses(folder, files, model)
    check_agreement(got, files)
    audit_says = {name: commands["audit"][:2] for name, commands in got.items()}
    # the verdicts themselves, from the list
    assert audit_says["banner.gif"] == audit_says["moving.gif"] == audit_says["moving.webp"] == ("rejected", "animated")
    assert audit_says["scan.bmp"] == audit_says["bitmap.bmp"] == ("rejected", "formats")
    assert audit_says["random.bin"] == audit_says["empty.png"] == ("unreadable", None)
    assert audit_says["apng.png"] == audit_says["junk.jpeg"] == audit_says[LATIN1] == ("priced", None)
    assert got["cut.png"]["audit"][2] and got["no-eoi.jpeg"]["audit"][2] and got["junk.jpeg"]["audit"][2] is None
    assert audit_says["giant.png"] == (("priced", None) if model == "gpt-4o" else ("rejected", "max_patches"))


def test_estimate_of_an_animated_gif_is_rejected_like_everywhere_else():
    """The issue: estimate priced samples/banner.gif at 255 tokens and exited 0."""
    with pytest.raises(AnimatedImageError) as caught:
        costcalc.estimate(SAMPLES / "banner.gif", model="gpt-4o")
    assert caught.value.rule == "animated" and isinstance(caught.value, ImageRejectedError)
    result = CliRunner().invoke(cli, ["estimate", str(SAMPLES / "banner.gif"), "-m", "gpt-4o", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["rule"] == "animated"


def test_one_error_family_names_the_rule():
    assert issubclass(UnsupportedFormatError, ImageRejectedError) and issubclass(AnimatedImageError, ImageRejectedError)
    assert issubclass(UnsupportedFormatError, costcalc.InvalidImageError)  # as before
    with pytest.raises(UnsupportedFormatError) as caught:
        costcalc.image_info(SAMPLES / "scan.bmp")
    assert caught.value.rule == "formats" and caught.value.format == "BMP"
    with pytest.raises(ImageRejectedError) as caught:
        costcalc.image_tokens(60000, 60000, model="gpt-6-astra")
    assert caught.value.rule == "max_patches"
    big = costcalc.ImageInfo("JPEG", 100, 100, 1, False, 1, 20_000_001)
    with pytest.raises(ImageRejectedError) as caught:
        costcalc.estimate(big, model="gpt-4o", edition="2023-2025")
    assert caught.value.rule == "max_image_bytes"
    assert costcalc.estimate(big, model="gpt-4o").tokens == 255  # the newest edition has no byte limit


# ------------------------------------------------------------------ the command line


def _decode(result) -> str:
    return result.stdout_bytes.decode("utf-8", "surrogateescape")


def cli_statuses(folder: Path, corpus: dict, model: str, tmp_path: Path) -> dict[str, dict[str, tuple]]:
    runner = CliRunner()
    got: dict[str, dict[str, tuple]] = {name: {} for name in corpus}
    paths = [str(folder / name) for name in corpus]
    result = runner.invoke(cli, ["estimate", *paths, "-m", model, "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    for row in json.loads(_decode(result)):
        status = "priced" if row["error"] is None else "rejected" if row["rule"] else "unreadable"
        got[os.path.basename(row["source"])]["estimate"] = (status, row["rule"], row["warning"])
    result = runner.invoke(cli, ["audit", str(folder), "-m", model, "--nl", "-j", "1"])
    assert result.exit_code == 1
    for line in _decode(result).splitlines():
        row = json.loads(line)
        got[os.path.basename(row["path"])]["audit"] = (
            row["status"],
            row["rule"],
            row["warning"] if row["status"] == "priced" else None,
        )
    payload = tmp_path / "payload.json"
    names = list(corpus)
    parts = [{"type": "image_url", "image_url": {"url": os.path.relpath(folder / name, tmp_path)}} for name in names]
    # JSON is UTF-8: a Latin-1 name travels as the escape \\udce9, which Python's json reads back as os.fsdecode does
    payload.write_text(json.dumps({"model": model, "messages": [{"role": "user", "content": parts}]}))
    result = runner.invoke(cli, ["request", str(payload), "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    for name, image in zip(names, json.loads(_decode(result))["images"]):
        status = "priced" if image["tokens"] is not None else "rejected" if image["rule"] else "unreadable"
        got[name]["request"] = (status, image["rule"], image["warning"] if status == "priced" else None)
    out = tmp_path / f"out-{model}"
    result = runner.invoke(cli, ["optimize", str(folder), "-o", str(out), "-m", model, "--nl", "--force", "-j", "1"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    for line in _decode(result).splitlines():
        row = json.loads(line)
        status = "priced" if row["status"] == "written" else "rejected" if row["rule"] else "unreadable"
        got[os.path.basename(row["path"])]["optimize"] = (status, row["rule"], row["warning"])
    return got


@pytest.mark.parametrize("model", MODELS)
def test_every_file_gets_one_verdict_through_the_command_line(corpus, model, tmp_path):
    folder, files = corpus
    got = cli_statuses(folder, files, model, tmp_path)
    assert all(len(commands) == 4 for commands in got.values()), got
    check_agreement(got, files)
    library = library_statuses(folder, files, model)
    assert {name: c["audit"] for name, c in got.items()} == {name: c["audit"] for name, c in library.items()}


# ------------------------------------------------------------------ a model named twice


def test_a_model_named_twice_counts_once(tmp_path):
    (tmp_path / "a.png").write_bytes(_encoded(Image.new("RGB", (1024, 1024)), "PNG"))  # 765 tokens on gpt-4o
    rows = list(audit([tmp_path], models=["gpt-4o", "gpt-4o", "GPT-4o"]))
    assert [(row.model, row.tokens) for row in rows] == [("gpt-4o", 765)]
    snapshot = list(audit([tmp_path], models=["gpt-4o", "gpt-4o-2024-08-06"]))
    assert [row.model for row in snapshot] == ["gpt-4o", "gpt-4o-2024-08-06"]  # a dated snapshot is its own name
    runner = CliRunner()
    gate = runner.invoke(cli, ["audit", str(tmp_path), "-m", "gpt-4o", "-m", "gpt-4o", "--max-tokens", "765", "--json"])
    assert gate.exit_code == 0, gate.output
    document = json.loads(gate.stdout)
    assert list(document["totals"]) == ["gpt-4o"] and document["totals"]["gpt-4o"]["tokens"] == 765
    rows = json.loads(
        runner.invoke(cli, ["estimate", str(tmp_path / "a.png"), "-m", "gpt-4o", "-m", "GPT-4o", "--json"]).stdout
    )
    assert [row["tokens"] for row in rows] == [765]


# ------------------------------------------------------------------ paths that round-trip


def test_machine_outputs_name_a_latin1_file_so_that_a_program_can_open_it(tmp_path):
    """The bytes of the name come back in the output: os.fsencode of the decoded path opens the file."""
    folder = tmp_path / "photos"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9.png"
    with open(name, "wb") as handle:
        handle.write(_encoded(Image.new("RGB", (10, 10)), "PNG"))
    path = os.fsdecode(name)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}

    def run(*args, raw=False) -> bytes:
        done = subprocess.run([sys.executable, "-m", "costcalc", *args], capture_output=True, env=env, timeout=60)
        assert b"Traceback" not in done.stderr and done.returncode == 0, done.stderr
        assert (b"caf\xe9.png" in done.stdout) == raw  # CSV: the raw byte; JSON: the escape \\udce9 (valid UTF-8)
        return done.stdout

    def opens(found: str) -> None:
        with open(os.fsencode(found), "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"

    def text(data):
        return data.decode("utf-8", "surrogateescape")  # as a Python program reads CSV back

    def strict(data):
        return data.decode("utf-8")  # JSON is UTF-8, always (hunt #7)

    for line in strict(run("audit", os.fsdecode(folder), "-m", "gpt-4o", "--nl")).splitlines():
        opens(json.loads(line)["path"])
    opens(json.loads(strict(run("audit", os.fsdecode(folder), "-m", "gpt-4o", "--json")))["rows"][0]["path"])
    opens(
        next(csv.DictReader(io.StringIO(text(run("audit", os.fsdecode(folder), "-m", "gpt-4o", "--csv", raw=True)))))[
            "path"
        ]
    )
    opens(json.loads(strict(run("estimate", path, "-m", "gpt-4o", "--json")))[0]["source"])
    opens(next(csv.DictReader(io.StringIO(text(run("estimate", path, "-m", "gpt-4o", "--csv", raw=True)))))["source"])
    opens(
        json.loads(
            strict(run("optimize", os.fsdecode(folder), "-o", os.fsdecode(tmp_path / "out"), "-m", "gpt-4o", "--nl"))
        )["path"]
    )
    table = run("audit", os.fsdecode(folder), "-m", "gpt-4o").decode("utf-8")  # for people
    assert "caf\\xe9.png" in table


def test_a_format_costcalc_cannot_read_is_rejected_only_where_the_api_refuses_it():
    """BMP: OpenAI's API takes PNG, JPEG, WEBP and non-animated GIF (rejected, rule formats); no formats list is
    on file for Qwen, whose API may take it, so there it is "cannot read" (unreadable) — in every command."""
    scan = str(SAMPLES / "scan.bmp")
    rows = {row.model: row for row in costcalc.audit([scan], models=["gpt-4o", "qwen3-vl-plus"])}
    assert (rows["gpt-4o"].status, rows["gpt-4o"].rule) == ("rejected", "formats")
    assert (rows["qwen3-vl-plus"].status, rows["qwen3-vl-plus"].rule) == ("unreadable", None)
    assert "cannot read" in rows["qwen3-vl-plus"].error
    result = CliRunner().invoke(cli, ["estimate", scan, "-m", "gpt-4o", "-m", "qwen3-vl-plus", "--json"])
    by_model = {row["model"]: row for row in json.loads(result.stdout)}
    assert by_model["gpt-4o"]["rule"] == "formats" and "not an accepted format" in by_model["gpt-4o"]["error"]
    assert by_model["qwen3-vl-plus"]["rule"] is None and "cannot read" in by_model["qwen3-vl-plus"]["error"]
