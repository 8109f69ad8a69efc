"""Folder audits: every kind of file the issue names, checked against Pillow; the CLI's contract."""

import csv
import io
import json
import os
import struct
import zlib
from itertools import islice

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import costcalc
import costcalc.inspection.headers
from costcalc.cli import cli
from costcalc.output.audit import json_line
from costcalc.runs.audit import audit
from costcalc.runs.totals import AUDIT_FIELDS, AuditRow, Totals


def png_bytes(size=(300, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, "PNG")
    return out.getvalue()


def png_header_claiming(width, height):
    """A PNG whose IHDR claims a size its (empty) data never delivers."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def save(path, image, fmt, **options):
    image.save(path, fmt, **options)
    return path


@pytest.fixture
def tree(tmp_path):
    """Every kind of file the issue names, with the status and rule each must get."""
    root = tmp_path / "tree"
    (root / "sub" / "folder.jpg").mkdir(parents=True)
    (root / ".hidden").mkdir()
    rgb = Image.new("RGB", (640, 480), "navy")
    exif = Image.Exif()
    exif[0x0112] = 6
    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "blue", "green")]
    expect = {
        "photo.jpg": ("priced", None),
        "rotated.jpg": ("priced", None),
        "huge-app.jpg": ("priced", None),
        "shot.png": ("priced", None),
        "png-named.jpg": ("priced", None),
        "still.gif": ("priced", None),
        "moving.gif": ("rejected", "animated"),
        "still.webp": ("priced", None),
        "moving.webp": ("rejected", "animated"),
        "apng.png": ("priced", None),
        "bitmap.bmp": ("rejected", "formats"),
        "empty.png": ("unreadable", None),
        "cut.png": ("unreadable", None),
        "notes.txt": ("unreadable", None),
        "giant.png": ("priced", None),
        "caf\udce9.png": ("priced", None),
        "sub/folder.jpg/inside.png": ("priced", None),
        "link.jpg": ("skipped", None),
        "dangling.jpg": ("skipped", None),
        "loop-a.jpg": ("skipped", None),
        "loop-b.jpg": ("skipped", None),
        "pipe.png": ("unreadable", None),
    }
    save(root / "photo.jpg", rgb, "JPEG")
    save(root / "rotated.jpg", rgb, "JPEG", exif=exif.tobytes())
    save(root / "huge-app.jpg", rgb, "JPEG", icc_profile=b"\0" * 200_000)
    (root / "shot.png").write_bytes(png_bytes())
    (root / "png-named.jpg").write_bytes(png_bytes((123, 45)))
    save(root / "still.gif", frames[0].quantize(16), "GIF")
    save(root / "moving.gif", frames[0], "GIF", save_all=True, append_images=frames[1:])
    save(root / "still.webp", rgb, "WEBP")
    save(root / "moving.webp", frames[0], "WEBP", save_all=True, append_images=frames[1:])
    save(root / "apng.png", frames[0], "PNG", save_all=True, append_images=frames[1:])
    save(root / "bitmap.bmp", rgb, "BMP")
    (root / "empty.png").write_bytes(b"")
    (root / "cut.png").write_bytes(png_bytes()[:20])
    (root / "notes.txt").write_text("not an image")
    (root / "giant.png").write_bytes(png_header_claiming(60000, 60000))
    (root / os.fsdecode(b"caf\xe9.png")).write_bytes(png_bytes((10, 10)))
    (root / "sub" / "folder.jpg" / "inside.png").write_bytes(png_bytes((64, 64)))
    (root / ".hidden" / "secret.png").write_bytes(png_bytes((8, 8)))
    (root / ".dot.png").write_bytes(png_bytes((8, 8)))
    os.symlink("photo.jpg", root / "link.jpg")
    os.symlink("missing.jpg", root / "dangling.jpg")
    os.symlink("loop-b.jpg", root / "loop-a.jpg")
    os.symlink("loop-a.jpg", root / "loop-b.jpg")
    os.mkfifo(root / "pipe.png")
    return root, expect


def rows_by_file(rows, root):
    return {os.path.relpath(r.path, root).replace("\\xe9", "\udce9"): r for r in rows}


def test_every_kind_of_file_gets_a_row_and_nothing_raises(tree):
    root, expect = tree
    rows = list(audit([root], models=["gpt-4o"]))
    got = rows_by_file(rows, root)
    assert {name: (row.status, row.rule) for name, row in got.items()} == expect
    for row in rows:
        assert (row.status == "priced") == (row.error is None)
    assert "caf\udce9.png" in {os.path.basename(r.path) for r in rows}  # as os.fsdecode gives it (issue 9)
    assert got["rotated.jpg"].orientation == 6
    assert got["png-named.jpg"].format == "PNG"  # the content decides, not the name
    assert got["giant.png"].tokens == 85 + 170 * 4  # 60000 × 60000 → 768 × 768
    assert "empty file" in got["empty.png"].error and "named pipe" in got["pipe.png"].error


def test_priced_rows_match_pillow(tree):
    root, _ = tree
    for row in audit([root], models=["gpt-4o"]):
        if row.status == "priced" and "giant" not in row.path:
            with Image.open(os.fsencode(row.path)) as image:  # the path round-trips
                assert (row.format, row.width, row.height) == (image.format, *image.size)
                assert row.animated == getattr(image, "is_animated", False)
                assert row.tokens == costcalc.image_tokens(*image.size, model="gpt-4o")


def test_options_hidden_symlinks_recursion_globs(tree):
    root, _ = tree

    def names(**options):
        return {os.path.relpath(r.path, root) for r in audit([root], models=["gpt-4o"], **options)}

    assert ".dot.png" in names(hidden=True) and ".hidden/secret.png" in names(hidden=True)
    followed = rows_by_file(audit([root], models=["gpt-4o"], follow_symlinks=True), root)
    assert followed["link.jpg"].status == "priced"
    assert "dangling" in followed["dangling.jpg"].error and followed["dangling.jpg"].status == "unreadable"
    assert "loop" in followed["loop-a.jpg"].error
    assert "sub/folder.jpg/inside.png" not in names(recursive=False)
    assert names(globs=["*.GIF"]) == {"still.gif", "moving.gif"}
    assert "sub/folder.jpg/inside.png" not in names(excludes=["sub"])
    assert names(globs=["sub/*/*.png"]) == {"sub/folder.jpg/inside.png"}


def test_a_folder_linked_into_itself_is_walked_once(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(png_bytes())
    os.symlink("..", tmp_path / "a" / "up")
    rows = list(audit([tmp_path], models=["gpt-4o"], follow_symlinks=True))
    assert [r.status for r in rows if r.path.endswith("x.png")] == ["priced"]
    assert any("loop" in (r.error or "") for r in rows)


def test_unreadable_file(tree, monkeypatch):
    root, _ = tree
    real_open = os.open

    def deny(path, *args, **kwargs):
        if str(path).endswith("shot.png"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(costcalc.inspection.headers.os, "open", deny)
    row = rows_by_file(audit([root], models=["gpt-4o"]), root)["shot.png"]
    assert (row.status, row.error) == ("unreadable", f"{root}/shot.png: permission denied")


def test_limits_editions(tmp_path):
    big = tmp_path / "big.jpg"
    with big.open("wb") as handle:  # a valid header, then a hole: 20 MB without writing them
        Image.new("RGB", (100, 100)).save(handle, "JPEG")
        handle.truncate(20_000_001)
    (newest,) = audit([big], models=["gpt-4o"])
    (older,) = audit([big], models=["gpt-4o"], edition="2023-2025")
    assert newest.status == "priced"
    assert (older.status, older.rule) == ("rejected", "max_image_bytes") and "20,000,001 bytes" in older.error
    with pytest.raises(costcalc.TableError, match="no limits edition"):
        list(audit([big], models=["gpt-4o"], edition="1999"))


def test_patch_rejection_names_its_rule(tmp_path):
    (tmp_path / "wide.png").write_bytes(png_header_claiming(6000, 6000))
    (row,) = audit([tmp_path], models=["gpt-6-astra"], detail="original")
    assert (row.status, row.rule) == ("rejected", "max_patches")


def test_bad_model_fails_before_reading(tmp_path):
    with pytest.raises(costcalc.UnknownModelError):
        next(audit([tmp_path], models=["gpt-4x"]))


def test_streams_rows_before_the_walk_ends(tmp_path):
    path = tmp_path / "one.png"
    path.write_bytes(png_bytes())

    def endless():
        while True:
            yield path

    rows = audit(endless(), models=["gpt-4o"])
    assert [r.status for r in islice(rows, 3)] == ["priced"] * 3


def test_workers_give_the_same_rows_in_the_same_order(tmp_path):
    for i in range(700):  # more than two chunks
        (tmp_path / f"{i:04d}.png").write_bytes(png_bytes((10 + i, 20)))
    one = list(audit([tmp_path], models=["gpt-4o", "gpt-5.4"]))
    two = list(audit([tmp_path], models=["gpt-4o", "gpt-5.4"], jobs=2))
    assert one == two and len(one) == 1400


def test_totals_merge_equals_adding(tree):
    root, _ = tree
    rows = list(audit([root], models=["gpt-4o"]))
    whole, left, right = Totals(["gpt-4o"]), Totals(["gpt-4o"]), Totals(["gpt-4o"])
    for index, row in enumerate(rows):
        whole.add(row)
        (left if index % 2 else right).add(row)
    left.merge(right)
    assert left.by_model["gpt-4o"].as_dict() == whole.by_model["gpt-4o"].as_dict()


optional_text = st.none() | st.text()
rows = st.builds(
    AuditRow,
    st.text(),
    st.text(),
    st.text(),
    st.sampled_from(["priced", "rejected"]),
    optional_text,
    st.none() | st.integers(),
    st.none() | st.integers(),
    st.none() | st.integers(),
    st.none() | st.booleans(),
    st.none() | st.integers(1, 8),
    st.none() | st.integers(0),
    optional_text,
    st.none() | st.integers(0),
    st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=7),
    optional_text,
    optional_text,
)


@given(rows)
def test_fast_json_line_is_json_dumps(row):
    assert json_line(row) == json.dumps(row.as_dict(), ensure_ascii=False)


# ------------------------------------------------------------------- the CLI


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_cli_nl_rows_and_exit_code_for_unpriced_files(tree):
    root, expect = tree
    result = run("audit", root, "-m", "gpt-4o", "-m", "gpt-5.4", "--nl")
    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 2 * len(expect)
    for needed in ("path", "format", "width", "height", "model", "detail", "tokens", "usd", "error"):
        assert all(needed in o for o in objects)
    assert "files" in result.stderr and "gpt-5.4" in result.stderr  # totals on stderr


def test_cli_json_document(tree):
    root, expect = tree
    document = json.loads(run("audit", root, "-m", "gpt-4o", "--json").stdout)
    assert len(document["rows"]) == len(expect)
    totals = document["totals"]["gpt-4o"]
    assert totals["files"] == len(expect) and totals["rejected_by_rule"] == {"animated": 2, "formats": 1}
    assert totals["tokens"] == sum(r["tokens"] or 0 for r in document["rows"])
    assert document["limits"] == "2026-10" and document["budget"]["over"] == []


def test_cli_csv_and_table(tree):
    root, expect = tree
    table = list(csv.DictReader(io.StringIO(run("audit", root, "-m", "gpt-4o", "--csv").stdout)))
    assert len(table) == len(expect) and list(table[0]) == list(AUDIT_FIELDS)
    text = run("audit", root, "-m", "gpt-4o").stdout
    assert "rejected" in text and "animated" in text and "total" not in text.splitlines()[0]
    assert text.count("\n") > len(expect)
    summary = run("audit", root, "-m", "gpt-4o", "--summary").stdout
    assert summary.splitlines()[0].split()[:3] == ["model", "files", "priced"]


def test_cli_budget_gate_exit_codes(tmp_path):
    (tmp_path / "a.png").write_bytes(png_bytes((1024, 1024)))  # 765 tokens on gpt-4o
    assert run("audit", tmp_path, "-m", "gpt-4o", "--max-tokens", 765).exit_code == 0
    over = run("audit", tmp_path, "-m", "gpt-4o", "--max-tokens", 764)
    assert over.exit_code == 4 and "over --max-tokens 764" in over.stderr
    assert run("audit", tmp_path, "-m", "gpt-4o", "--max-usd", "0.0019125").exit_code == 0
    assert run("audit", tmp_path, "-m", "gpt-4o", "--max-usd", "$0.0019").exit_code == 4
    unknown = run("audit", tmp_path, "-m", "qwen3-vl-plus", "--max-usd", "100")
    assert unknown.exit_code == 4 and "price unknown" in unknown.stderr  # fails closed
    (tmp_path / "b.txt").write_text("x")
    assert run("audit", tmp_path, "-m", "gpt-4o", "--max-tokens", 1).exit_code == 5  # over budget and unpriced
    bad = run("audit", tmp_path, "-m", "gpt-4o", "--max-usd", "lots")
    assert bad.exit_code == 2 and "--max-usd" in bad.output


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["-m", "gpt-4x"], "unknown model 'gpt-4x'"),
        (["-m", "gpt-4o", "-d", "original"], "does not support detail 'original'"),
        (["-m", "gpt-4o", "--limits", "1999"], "no limits edition '1999'"),
    ],
)
def test_cli_bad_arguments(tmp_path, args, culprit):
    result = run("audit", tmp_path, *args)
    assert result.exit_code == 2 and culprit in result.output and len(result.output.strip().splitlines()) == 1


def test_cli_audit_help_documents_exit_codes():
    text = run("audit", "--help").output
    assert "Exit codes" in text and "over budget" in text and "costcalc audit photos/ -m gpt-4o" in text


def test_cli_limits_lists_rules_with_sources():
    rows = json.loads(run("limits", "--json").output)
    openai = [r for r in rows if r["vendor"] == "openai" and r["scope"] != "size"]  # size: the model rules' own
    assert {r["edition"] for r in openai} == {"2026-10", "2023-2025"} and all(r["source"] for r in rows)
    # each vendor's own rules (docs/README.md): Claude's 8000 px / 2000 px above 20 images, Gemini's 3,600 images
    assert {"anthropic", "google", "mistral"} <= {r["vendor"] for r in rows}
    assert any(r["vendor"] == "google" and r["rule"] == "max_images" and r["value"] == 3600 for r in rows)
    assert "max_image_bytes" in run("limits").output
