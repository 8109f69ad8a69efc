"""OUT is this command's (issue 15): links inside it, files we did not write, the same folder under two paths,
owners kept in place, long names, and the manifest that says what optimize wrote (real symlinks, a real bind mount
where one can be made)."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from costcalc.cli import cli
from costcalc.errors import OutputConflictError
from costcalc.files import LinkedFolderError, atomic_write
from costcalc.preflight.manifest import MANIFEST
from costcalc.preflight.tree import optimize_paths

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "photo.jpg"


def photo(path: Path, size=(1600, 1200)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.linear_gradient("L").resize(size).convert("RGB").save(path, "JPEG")
    return path


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def rows(*args) -> dict[str, dict]:
    result = run("optimize", *args, "--nl")
    assert result.exit_code in (0, 1), result.output
    return {Path(row["path"]).name: row for row in map(json.loads, result.stdout.splitlines())}


@pytest.fixture
def tree(tmp_path) -> Path:
    photo(tmp_path / "src" / "docs" / "a.jpg")
    photo(tmp_path / "src" / "b.jpg", (900, 700))
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "keep.txt").write_bytes(b"mine")
    return tmp_path


def victim(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "victim").iterdir())


def test_a_folder_link_inside_out_is_refused_and_never_followed(tree):
    out = tree / "out"
    out.mkdir()
    (out / "docs").symlink_to(tree / "victim", target_is_directory=True)
    result = run("optimize", tree / "src", "-o", out, "-m", "gpt-4o")
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and str(out / "docs") in result.output
    assert victim(tree) == ["keep.txt"] and not (out / "b.jpg").exists()


def test_a_link_made_after_planning_is_refused_at_the_write(tree):
    """Planned with OUT/docs a real (empty) folder, swapped for a link before the write: that file's error row,
    nothing written through the link (the write enters folders by descriptor, never following a link)."""
    out = tree / "out"
    (out / "docs").mkdir(parents=True)
    chunks = optimize_paths([tree / "src"], out, model="gpt-4o")  # planned (and checked) here
    (out / "docs").rmdir()
    (out / "docs").symlink_to(tree / "victim", target_is_directory=True)
    found = {Path(row.path).name: row for chunk in chunks for row in chunk}
    assert found["a.jpg"].status == "error" and "symbolic link" in found["a.jpg"].error
    assert found["b.jpg"].status == "written"
    assert victim(tree) == ["keep.txt"]


def test_atomic_write_with_a_root_never_leaves_it(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "sub").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(LinkedFolderError, match="symbolic link"):
        atomic_write(tmp_path / "out" / "sub" / "deeper" / "x.jpg", b"data", root=tmp_path / "out")
    assert list((tmp_path / "elsewhere").iterdir()) == []
    atomic_write(tmp_path / "out" / "new" / "deeper" / "x.jpg", b"data", root=tmp_path / "out")
    assert (tmp_path / "out" / "new" / "deeper" / "x.jpg").read_bytes() == b"data"


def test_a_file_in_out_that_optimize_did_not_write_is_refused_unless_overwrite(tree):
    out = tree / "out"
    out.mkdir()
    (out / "b.jpg").write_bytes(b"the user's own picture")
    os.utime(out / "b.jpg", (1, 1))  # older than its source: main replaced it without a word
    result = run("optimize", tree / "src", "-o", out, "-m", "gpt-4o")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert str(out / "b.jpg") in result.output and "--overwrite" in result.output
    assert (out / "b.jpg").read_bytes() == b"the user's own picture" and not (out / "docs").exists()
    (out / "b.jpg").write_bytes(b"newer")  # newer than its source: main called it "up to date"
    assert run("optimize", tree / "src", "-o", out, "-m", "gpt-4o").exit_code == 2
    found = {
        Path(row.path).name: row.status
        for chunk in optimize_paths([tree / "src"], out, model="gpt-4o", overwrite=True)
        for row in chunk
    }
    assert found == {"a.jpg": "written", "b.jpg": "written"}
    with Image.open(out / "b.jpg") as image:
        assert image.size == (900, 700)


def test_an_output_changed_by_the_user_is_no_longer_ours(tree):
    out = tree / "out"
    assert run("optimize", tree / "src", "-o", out, "-m", "gpt-4o").exit_code == 0
    (out / "b.jpg").write_bytes(b"edited by hand")
    with pytest.raises(OutputConflictError, match="b.jpg"):
        optimize_paths([tree / "src"], out, model="gpt-4o")
    assert (out / "b.jpg").read_bytes() == b"edited by hand"


def test_up_to_date_means_the_same_options(tree):
    """-m gpt-4o, then -m claude-opus-4-7 into the same OUT: the second run rewrites (another model, another file);
    the same command again is up to date, and so is a touched source with the same bytes."""
    out = tree / "out"
    src = tree / "src"
    assert {row["status"] for row in rows(src, "-o", out, "-m", "gpt-4o").values()} == {"written"}
    assert {row["status"] for row in rows(src, "-o", out, "-m", "gpt-4o").values()} == {"up to date"}
    assert {row["status"] for row in rows(src, "-o", out, "-m", "claude-opus-4-7").values()} == {"written"}
    assert {row["status"] for row in rows(src, "-o", out, "-m", "claude-opus-4-7", "--quality", "70").values()} == {
        "written"
    }
    assert {row["status"] for row in rows(src, "-o", out, "-m", "claude-opus-4-7", "--quality", "70").values()} == {
        "up to date"
    }
    manifest = json.loads((out / MANIFEST).read_text())
    entry = manifest["outputs"]["b.jpg"]
    assert entry["options"]["models"] == ["claude-opus-4-7"] and entry["options"]["quality"] == 70
    assert entry["source"] == str(src / "b.jpg") and entry["source_size"] == (src / "b.jpg").stat().st_size
    assert entry["size"] == (out / "b.jpg").stat().st_size


def test_the_manifest_with_two_workers(tmp_path):
    for index in range(12):
        photo(tmp_path / "src" / f"{index:02}.jpg", (700, 500))
    out = tmp_path / "out"
    first = rows(tmp_path / "src", "-o", out, "-m", "gpt-4o", "-j", "2")
    assert {row["status"] for row in first.values()} == {"written"} and len(first) == 12
    assert len(json.loads((out / MANIFEST).read_text())["outputs"]) == 12
    again = rows(tmp_path / "src", "-o", out, "-m", "gpt-4o", "-j", "2")
    assert {row["status"] for row in again.values()} == {"up to date"}


def test_out_that_is_the_source_under_another_path_is_refused(tree):
    """A bind mount of the source folder: another real path, the same device and inode."""
    mount = tree / "mnt"
    mount.mkdir()
    made = subprocess.run(["mount", "--bind", str(tree / "src"), str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a bind mount here: {made.stderr.decode().strip()}")
    try:
        before = sorted(p.name for p in (tree / "src").rglob("*"))
        for out in (mount, mount / "docs", mount / "new"):
            result = run("optimize", tree / "src", "-o", out, "-m", "gpt-4o")
            assert result.exit_code == 2 and "source" in result.output, result.output
        assert sorted(p.name for p in (tree / "src").rglob("*")) == before
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root may give a file away")
def test_in_place_keeps_the_owner_and_group(tmp_path):
    source = photo(tmp_path / "photos" / "p.jpg")
    os.chown(source, 1234, 5678)
    os.chmod(source, 0o640)
    result = run("optimize", tmp_path / "photos", "-o", tmp_path / "photos", "-m", "gpt-4o", "--in-place")
    assert result.exit_code == 0, result.output
    status = source.stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o777) == (1234, 5678, 0o640)
    with Image.open(source) as image:
        assert image.size != (1600, 1200)  # replaced indeed


def test_a_name_of_255_bytes_is_writable(tmp_path):
    name = "n" * (255 - len(".jpg")) + ".jpg"
    photo(tmp_path / "src" / name)
    result = run("optimize", tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / name).is_file()


def test_the_skipped_link_hint_names_nothing_optimize_lacks(tmp_path):
    photo(tmp_path / "src" / "a.jpg")
    (tmp_path / "src" / "alias.jpg").symlink_to(tmp_path / "src" / "a.jpg")
    found = rows(tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o")
    assert found["alias.jpg"]["status"] == "skipped"
    mentioned = set(re.findall(r"--[a-z-]+", found["alias.jpg"]["error"]))
    offered = set(re.findall(r"--[a-z-]+", run("optimize", "--help").output))
    assert mentioned <= offered and "give the link's target" in found["alias.jpg"]["error"]


def test_overwrite_and_max_bytes_on_the_command_line(tree):
    out = tree / "out"
    out.mkdir()
    (out / "b.jpg").write_bytes(b"the user's own picture")
    assert run("optimize", tree / "src", "-o", out, "-m", "gpt-4o").exit_code == 2
    assert {row["status"] for row in rows(tree / "src", "-o", out, "-m", "gpt-4o", "--overwrite").values()} == {
        "written"
    }
    small = (tree / "src" / "b.jpg").stat().st_size + 1
    capped = rows(tree / "src", "-o", tree / "capped", "-m", "gpt-4o", "--max-bytes", small)
    assert capped["b.jpg"]["status"] == "written"
    assert capped["a.jpg"]["status"] == "error" and f"over the cap of {small:,} bytes" in capped["a.jpg"]["error"]
