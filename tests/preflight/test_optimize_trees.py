"""costcalc optimize on trees: mirrored, exact sizes, originals untouched, atomic, re-runs skip, Ctrl-C safe."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc
from costcalc import files as write_module
from costcalc.cli import cli
from costcalc.files import atomic_write
from costcalc.preflight.manifest import MANIFEST
from costcalc.preflight.tree import optimize_paths


def photo(path, size, fmt="JPEG", orientation=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    image.save(path, fmt, exif=exif.tobytes())
    return path


def digest(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }  # the manifest records mtimes: its own test


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "src"
    photo(root / "a.jpg", (3000, 2000))
    photo(root / "nested" / "deeper" / "b.jpg", (2000, 3000), orientation=6)
    photo(root / "nested" / "c.png", (1500, 900), "PNG")
    photo(root / "small.jpg", (300, 200))
    return root


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_mirrors_the_tree_at_exact_planned_sizes_and_leaves_originals_alone(source, tmp_path):
    before = digest(source)
    out = tmp_path / "out"
    result = run("optimize", source, "-o", out, "-m", "gpt-4o", "--nl", "-j", 1)
    assert result.exit_code == 0, result.output
    assert digest(source) == before  # originals byte-for-byte
    rows = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    for name, relative in (
        ("a.jpg", "a.jpg"),
        ("b.jpg", "nested/deeper/b.jpg"),
        ("c.png", "nested/c.png"),
        ("small.jpg", "small.jpg"),
    ):
        row = rows[name]
        assert row["output"] == str(out / relative) and row["status"] == "written"
        planned = costcalc.plan(
            *Image.open(source / relative).size,
            model="gpt-4o",
            orientation=costcalc.image_info(source / relative).orientation,
        )
        with Image.open(out / relative) as written:
            assert (
                written.size
                == (planned.target_width, planned.target_height)
                == (row["target_width"], row["target_height"])
            )
        assert row["tokens_before"] == row["tokens_after"]
    # b.jpg is stored 2000 × 3000 with orientation 6: upright it is 3000 × 2000, and so is its output
    assert (rows["b.jpg"]["width"], rows["b.jpg"]["height"]) == (3000, 2000)
    assert (rows["b.jpg"]["target_width"], rows["b.jpg"]["target_height"]) == (1152, 768)
    assert not list(out.rglob(".costcalc-*.tmp"))


def test_refuses_to_write_into_a_source_unless_in_place(source):
    for outdir in (source, source / "nested", source / "new"):
        result = run("optimize", source, "-o", outdir, "-m", "gpt-4o")
        assert result.exit_code == 2 and "--in-place" in result.output and len(result.output.splitlines()) == 1
    assert not (source / "new").exists()
    a_before = (source / "a.jpg").read_bytes()
    result = run("optimize", source, "-o", source, "-m", "gpt-4o", "--in-place")
    assert result.exit_code == 0
    assert (source / "a.jpg").read_bytes() != a_before
    assert Image.open(source / "a.jpg").size == (1152, 768)


def test_in_place_into_a_subfolder_never_walks_its_own_outputs(source):
    result = run("optimize", source, "-o", source / "ready", "-m", "gpt-4o", "--in-place", "--nl")
    assert result.exit_code == 0
    assert not (source / "ready" / "ready").exists()
    assert all("ready" not in json.loads(line)["path"] for line in result.stdout.splitlines())


def test_reruns_skip_up_to_date_outputs(source, tmp_path):
    out = tmp_path / "out"
    assert run("optimize", source, "-o", out, "-m", "gpt-4o").exit_code == 0
    again = run("optimize", source, "-o", out, "-m", "gpt-4o", "--nl")
    assert {json.loads(line)["status"] for line in again.stdout.splitlines()} == {"up to date"}
    later = time.time() + 5
    os.utime(source / "a.jpg", (later, later))  # touched, the same bytes: still up to date (the manifest's hash)
    touched = run("optimize", source, "-o", out, "-m", "gpt-4o", "--nl")
    assert {json.loads(line)["status"] for line in touched.stdout.splitlines()} == {"up to date"}
    with (source / "a.jpg").open("ab") as changed:  # the source changed since
        changed.write(b"\0")
    statuses = {
        Path(r["path"]).name: r["status"]
        for r in map(json.loads, run("optimize", source, "-o", out, "-m", "gpt-4o", "--nl").stdout.splitlines())
    }
    assert statuses["a.jpg"] == "written" and statuses["small.jpg"] == "up to date"
    forced = run("optimize", source, "-o", out, "-m", "gpt-4o", "--nl", "--force")
    assert {json.loads(line)["status"] for line in forced.stdout.splitlines()} == {"written"}


def test_format_change_renames_and_refuses_collisions_before_writing(tmp_path):
    photo(tmp_path / "src" / "x.png", (900, 900), "PNG")
    photo(tmp_path / "src" / "x.jpg", (900, 900))
    photo(tmp_path / "src" / "y.png", (900, 900), "PNG")
    result = run("optimize", tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o", "--format", "webp", "--nl")
    # x.jpg and x.png both become x.webp: refused whole, before anything is written (issue 9)
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert "x.jpg" in result.output and "x.png" in result.output and "x.webp" in result.output
    assert not (tmp_path / "out").exists()
    (tmp_path / "src" / "x.png").unlink()
    result = run("optimize", tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o", "--format", "webp", "--nl")
    assert result.exit_code == 0 and sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        MANIFEST,
        "x.webp",
        "y.webp",
    ]
    assert Image.open(tmp_path / "out" / "x.webp").format == "WEBP"


def test_several_sources_each_under_their_name_and_json_totals(tmp_path):
    photo(tmp_path / "one" / "p.jpg", (2000, 1000))
    photo(tmp_path / "two" / "p.jpg", (1000, 2000))
    document = json.loads(
        run("optimize", tmp_path / "one", tmp_path / "two", "-o", tmp_path / "out", "-m", "gpt-5.4", "--json").stdout
    )
    assert (tmp_path / "out" / "one" / "p.jpg").exists() and (tmp_path / "out" / "two" / "p.jpg").exists()
    assert document["totals"]["written"] == 2 and len(document["rows"]) == 2


def test_bad_files_do_not_stop_the_run(tmp_path):
    photo(tmp_path / "src" / "good.jpg", (2000, 2000))
    (tmp_path / "src" / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    frames = [Image.new("RGB", (40, 40), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "src" / "anim.gif", save_all=True, append_images=frames[1:])
    result = run("optimize", tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o", "--nl")
    statuses = {Path(r["path"]).name: r["status"] for r in map(json.loads, result.stdout.splitlines())}
    assert statuses == {"anim.gif": "error", "bad.jpg": "error", "good.jpg": "written"}
    assert result.exit_code == 1
    kept = run("optimize", tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o", "--first-frame", "--nl")
    assert {Path(r["path"]).name: r["status"] for r in map(json.loads, kept.stdout.splitlines())}[
        "anim.gif"
    ] == "written"


def test_workers_write_the_same_files(source, tmp_path):
    list(optimize_paths([source], tmp_path / "one", model="gpt-4o", jobs=1))
    list(optimize_paths([source], tmp_path / "two", model="gpt-4o", jobs=2))
    assert digest(tmp_path / "one") == digest(tmp_path / "two")


def test_atomic_write_leaves_nothing_on_interrupt(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "x.jpg"
    atomic_write(target, b"old")

    def interrupted(src, dst, **folders):
        raise KeyboardInterrupt

    monkeypatch.setattr(write_module.os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and sorted(p.name for p in target.parent.iterdir()) == ["x.jpg"]


def test_ctrl_c_leaves_only_whole_files(tmp_path):
    for i in range(40):
        photo(tmp_path / "src" / f"{i:02d}.jpg", (2400, 1800))
    out = tmp_path / "out"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "costcalc",
            "optimize",
            str(tmp_path / "src"),
            "-o",
            str(out),
            "-m",
            "gpt-4o",
            "-j",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not (out.exists() and len(list(out.glob("*.jpg"))) >= 3) and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    written = list(out.glob("*.jpg"))
    assert child.returncode in (130, 0) and written
    if child.returncode == 130:
        assert b"interrupted" in err
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    for path in written:
        with Image.open(path) as image:
            image.load()  # whole: decodes to the end
            assert image.size == (1024, 768)


def _counting_fsync(monkeypatch):
    synced = []
    real = write_module.os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else fd)
        return real(fd)

    monkeypatch.setattr(write_module.os, "fsync", fsync)
    return synced


def test_a_new_file_is_linked_before_its_sync_but_a_replaced_one_is_synced_first(tmp_path, monkeypatch):
    """durable=False defers only the sync of a new name; an original is never replaced by data not yet synced."""
    synced = _counting_fsync(monkeypatch)
    target = tmp_path / "x.jpg"
    atomic_write(target, b"new", durable=False, sync=False)
    assert target.read_bytes() == b"new" and synced == []  # for the caller's sync_files
    atomic_write(target, b"newer", durable=False, sync=False)
    assert target.read_bytes() == b"newer" and len(synced) == 1  # it replaced a file: synced before the rename
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jpg"]  # no temporary left either way
    with pytest.raises(FileExistsError):
        atomic_write(target, b"other", durable=False, replace=False)
    assert target.read_bytes() == b"newer"


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="names fsync'd files through /proc")
def test_sync_files_syncs_each_file_once_and_never_through_a_link(tmp_path, monkeypatch):
    from costcalc.files import sync_files

    for name in ("a", "b", "c"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    synced = _counting_fsync(monkeypatch)
    sync_files([tmp_path / "a", tmp_path / "b", tmp_path / "b", tmp_path / "c", tmp_path / "gone", tmp_path / "link"])
    assert sorted(synced) == [str(tmp_path / name) for name in ("a", "b", "c")]


@pytest.mark.skipif(not os.path.exists("/proc/self/fd"), reason="names fsync'd files through /proc")
def test_optimize_syncs_every_output_before_it_saves_the_manifest(source, tmp_path, monkeypatch):
    """Outputs are written without a wait on the disk per image, and all synced (files, then folders) before the
    manifest claims them."""
    from costcalc.preflight import manifest as manifest_module

    synced = _counting_fsync(monkeypatch)
    at_save = []
    real_save = manifest_module.Manifest.save
    monkeypatch.setattr(manifest_module.Manifest, "save", lambda self: (at_save.append(list(synced)), real_save(self)))
    chunks = optimize_paths([source], tmp_path / "out", model="gpt-4o", jobs=1)
    rows = [r for chunk in chunks for r in chunk if r.status == "written"]
    assert rows and at_save
    files = {str((tmp_path / "out" / Path(r.output).relative_to(tmp_path / "out")).resolve()) for r in rows}
    assert files <= set(at_save[-1])  # every output synced before the manifest is saved at the end
