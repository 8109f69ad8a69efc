"""optimize and video --extract never lose a file (issue 9): outputs planned and checked before any is written,
ordinary permissions, huge images and failing files as error rows, workers that are never forked."""

import hashlib
import io
import json
import os
import stat
import struct
import sys
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc import files as write
from costcalc.cli import cli
from costcalc.errors import OutputConflictError
from costcalc.parallel import start_context
from costcalc.preflight import resize, tree
from costcalc.preflight.frames import extract_frames, plan_frame_folders
from costcalc.preflight.tree import optimize_paths

TINY = {}


def tiny(ext: str) -> bytes:
    """An 8 × 8 image in the format of `ext` (encoded once)."""
    if ext not in TINY:
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (90, 140, 200)).save(out, {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[ext])
        TINY[ext] = out.getvalue()
    return TINY[ext]


def photo(path: Path, size=(1600, 1200), fmt="JPEG", **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.linear_gradient("L").resize(size).convert("RGB").save(path, fmt, **options)
    return path


def snapshot(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def identity(path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


# ---------------------------------------------------------------- the property

FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
"""Hundreds of small trees: on tmpfs where there is one (a disk may take milliseconds per folder removed)."""
TOPS = ["one/photos", "two/photos", "three/pics"]
FILES = st.tuples(
    st.sampled_from(TOPS),
    st.sampled_from(["", "x", "x/y"]),
    st.sampled_from(["a", "b", "p"]),
    st.sampled_from(["jpg", "png", "webp"]),
)


@st.composite
def runs(draw):
    files = sorted(draw(st.sets(FILES, min_size=1, max_size=7)))
    tops = sorted({top for top, *_ in files})
    sources = draw(st.lists(st.sampled_from(tops + ["file"]), min_size=1, max_size=3, unique=True))
    outdir = draw(st.sampled_from(["fresh", "source", "inside", "parent", "file-folder"]))
    index = st.integers(0, len(files) - 1)
    links = draw(st.lists(st.tuples(index, index), max_size=2, unique=True))
    # a symbolic link to a folder outside, where an output's folder goes; a file we did not write, where an output goes
    traps = draw(st.lists(st.tuples(st.sampled_from(["link", "foreign"]), index), max_size=2, unique=True))
    return (
        files,
        sources,
        outdir,
        draw(st.sampled_from([None, "jpeg", "png", "webp"])),
        draw(st.booleans()),
        links,
        traps,
    )


FOREIGN = b"not costcalc's: a file the user put in OUT"


def set_traps(root: Path, files, outdir: Path, traps) -> list[Path]:
    """The traps of a run in OUT; the foreign files made."""
    victim = root / "victim"
    victim.mkdir(exist_ok=True)
    (victim / "keep.txt").write_bytes(b"victim")
    foreign = []
    for kind, where in traps:
        top, sub, name, ext = files[where]
        for place in (outdir / sub, outdir / Path(top).name / sub):
            if kind == "link":
                if place == outdir:
                    continue
                first = outdir / place.relative_to(outdir).parts[0]
                if not os.path.lexists(first):
                    outdir.mkdir(parents=True, exist_ok=True)
                    first.symlink_to(victim, target_is_directory=True)
                continue
            if os.path.realpath(place).startswith(str(victim)) or os.path.isfile(place):
                continue
            place.mkdir(parents=True, exist_ok=True)
            for suffix in {ext, "jpg", "png", "webp"}:
                if not os.path.lexists(place / f"{name}.{suffix}"):
                    (place / f"{name}.{suffix}").write_bytes(FOREIGN)
                    foreign.append(place / f"{name}.{suffix}")
    return foreign


def build(root: Path, files, sources, outdir_kind, links):
    paths = []
    for top, sub, name, ext in files:
        path = root / top / sub / f"{name}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tiny(ext))
        paths.append(path)
    chosen = [paths[0] if source == "file" else root / source for source in sources]
    first_dir = next((root / s for s in sources if s != "file"), paths[0].parent)
    outdir = {
        "fresh": root / "out",
        "source": first_dir,
        "inside": first_dir / "ready",
        "parent": root / "one",
        "file-folder": paths[0].parent,
    }[outdir_kind]
    for where, target in links:  # hard links to a source where an output may land: samefile, not the same name
        top, sub, name, ext = files[where]
        for place in (outdir / sub, outdir / Path(top).name / sub):
            place.mkdir(parents=True, exist_ok=True)
            for suffix in {ext, "jpg", "webp"}:
                if not (place / f"{name}.{suffix}").exists():
                    os.link(paths[target], place / f"{name}.{suffix}")
    return paths, chosen, outdir


@settings(max_examples=150, deadline=None)
@given(runs())
def test_optimize_never_writes_over_a_source_nor_two_sources_to_one_output(case):
    files, sources, outdir_kind, fmt, in_place, links, traps = case
    with tempfile.TemporaryDirectory(dir=FAST_TMP) as holder, pytest.MonkeyPatch.context() as patch:
        root = Path(holder)
        _, chosen, outdir = build(root, files, sources, outdir_kind, links)
        foreign = set_traps(root, files, outdir, traps)
        victim_before = snapshot(root / "victim")
        real_out = os.path.realpath(outdir)
        every = sorted(p for p in root.rglob("*") if p.is_file())  # links in a source folder are sources too
        # an OUTDIR inside a source folder (--in-place; any below a file source) is the run's own: its files are outputs
        folders = [c if c.is_dir() else c.parent for c in chosen]
        ours = any(f in outdir.parents for f in folders)
        run_sources = [
            p
            for p in every
            if (p in chosen or any(c in p.parents for c in chosen)) and not (ours and outdir in p.parents)
        ]
        source_ids = {identity(p): str(p) for p in run_sources}
        id_before = {str(p): identity(p) for p in every}
        before = snapshot(root)
        # originals: what the run reads, and every file in a source's folder (outside that OUTDIR)
        originals = {
            path
            for path in before
            if any(f in Path(path).parents for f in folders) and not (ours and outdir in Path(path).parents)
        }
        writes = []
        real_write = tree.atomic_write

        def spy(path, data, mode=None, **options):
            if Path(path).name != ".costcalc-optimize.json":
                writes.append((str(path), os.path.realpath(path), identity(path)))
            real_write(path, data, mode, **options)

        patch.setattr(tree, "atomic_write", spy)
        patch.setattr(os, "fsync", lambda fd: None)  # durability has its own test; here, paths (and speed)
        try:
            rows = [
                row
                for chunk in optimize_paths(chosen, outdir, model="gpt-4o", format=fmt, in_place=in_place, force=True)
                for row in chunk
            ]
        except (OutputConflictError, ValueError) as error:
            event("refused")
            assert writes == [] and snapshot(root) == before, "refused, but only after writing"
            assert "\n" not in str(error)
            simple = (
                outdir_kind == "fresh"
                and not links
                and not traps
                and not in_place
                and len({Path(s).name for s in sources}) == len(sources)
                and (fmt is None or len({f[:3] for f in files}) == len(files))
            )
            assert not simple, f"refused a run with nothing to lose: {error}"
            return
        event(f"written (in place: {in_place}, traps: {bool(traps)})")
        assert snapshot(root / "victim") == victim_before, "written through a link in OUT"
        assert all(real.startswith(os.path.join(real_out, "")) for _, real, _ in writes), "written outside OUT"
        for path in foreign:  # a file in OUT we did not write is never replaced
            assert path.read_bytes() == FOREIGN, f"{path} replaced"
        row_of = {row.output: row for row in rows}
        real_outputs = [real for _, real, _ in writes]
        assert len(set(real_outputs)) == len(real_outputs), "two sources written to one output"
        for output, _, existed in writes:
            if existed in source_ids:  # only its own original, and only when asked
                own = id_before[row_of[output].path]
                assert in_place and existed == own, f"{output} overwrote the source {source_ids[existed]}"
        for path in originals:  # no original is lost or changed ...
            now, digest = Path(path), before[path]
            if not now.exists() or hashlib.sha256(now.read_bytes()).hexdigest() != digest:
                # ... except an original replaced in place by its own output
                assert in_place and path in row_of and row_of[path].status == "written"
                assert os.path.realpath(row_of[path].path) == os.path.realpath(path)
        # (an output folder that is a file, as in `optimize d d/a.jpg -o d --in-place`, is that file's error row)
        planted = {str(path) for path in foreign}  # in a source folder, a foreign file is a source: not an image
        assert all(
            row.status in ("written", "skipped") or "cannot write" in row.error or row.path in planted for row in rows
        ), [r.error for r in rows]


# ---------------------------------------------------------------- the scenarios of issue 9


def test_optimize_into_the_photos_own_folder_refuses_unless_in_place(tmp_path, monkeypatch):
    original = photo(tmp_path / "photo.jpg").read_bytes()
    monkeypatch.chdir(tmp_path)
    result = run("optimize", "photo.jpg", "-o", ".", "-m", "gpt-4o", "--force")
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert result.output.count("photo.jpg") == 2 and "--in-place" in result.output
    assert (tmp_path / "photo.jpg").read_bytes() == original and os.listdir(tmp_path) == ["photo.jpg"]
    assert run("optimize", "photo.jpg", "-o", ".", "-m", "gpt-4o", "--in-place").exit_code == 0
    assert Image.open(tmp_path / "photo.jpg").size == (1024, 768)


def test_two_sources_of_one_name_are_refused_before_anything_is_written(tmp_path):
    photo(tmp_path / "a" / "photos" / "p.jpg")
    photo(tmp_path / "a" / "photos" / "q.jpg")
    photo(tmp_path / "b" / "photos" / "p.jpg")
    result = run(
        "optimize", tmp_path / "a" / "photos", tmp_path / "b" / "photos", "-o", tmp_path / "out", "-m", "gpt-4o"
    )
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert str(tmp_path / "a" / "photos" / "p.jpg") in result.output
    assert str(tmp_path / "b" / "photos" / "p.jpg") in result.output
    assert not (tmp_path / "out").exists()


def test_in_place_format_change_never_replaces_a_different_original(tmp_path):
    photo(tmp_path / "d" / "a.jpg")
    photo(tmp_path / "d" / "a.webp", fmt="WEBP")
    photo(tmp_path / "d" / "b.jpg")
    before = snapshot(tmp_path)
    for extra in ([], ["--glob", "*.jpg"]):  # a.webp a source too, or only a file beside them
        result = run(
            "optimize", tmp_path / "d", "-o", tmp_path / "d", "--in-place", "--format", "webp", "-m", "gpt-4o", *extra
        )
        assert result.exit_code == 2 and len(result.output.splitlines()) == 1, result.output
        assert "a.webp" in result.output and "a.jpg" in result.output
        assert snapshot(tmp_path) == before


def test_an_output_that_is_a_hard_link_to_a_source_is_refused(tmp_path):
    photo(tmp_path / "src" / "p.jpg")
    (tmp_path / "out").mkdir()
    os.link(tmp_path / "src" / "p.jpg", tmp_path / "out" / "p.jpg")
    before = snapshot(tmp_path)
    result = run("optimize", tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o", "--force")
    assert result.exit_code == 2 and str(tmp_path / "out" / "p.jpg") in result.output
    assert str(tmp_path / "src" / "p.jpg") in result.output and snapshot(tmp_path) == before


def test_a_file_is_on_disk_before_its_name_and_the_name_after(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):
        calls.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
        real_fsync(fd)

    def rename(src, dst, **folders):
        calls.append(("replace", Path(dst).name))
        real_rename(src, dst, **folders)

    monkeypatch.setattr(write.os, "fsync", fsync)
    monkeypatch.setattr(write.os, "rename", rename)
    write.atomic_write(tmp_path / "p.jpg", b"data")
    # the file's bytes synced, then the rename, then the folder holding the new name
    assert calls == [("fsync", False), ("replace", "p.jpg"), ("fsync", True)]
    assert (tmp_path / "p.jpg").read_bytes() == b"data"


def test_a_file_named_twice_is_written_once(tmp_path):
    photo(tmp_path / "src" / "p.jpg")
    rows = [
        row
        for chunk in optimize_paths([tmp_path / "src", tmp_path / "src"], tmp_path / "out", model="gpt-4o")
        for row in chunk
    ]
    assert [(Path(r.path).name, r.status) for r in rows] == [("p.jpg", "written")]


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_outputs_get_ordinary_permissions_from_the_umask(tmp_path, mask, mode):
    photo(tmp_path / "src" / "p.jpg")
    photo(tmp_path / "src" / "small.png", (64, 64), "PNG")  # copied, not re-encoded: same rule
    with umask(mask):
        list(optimize_paths([tmp_path / "src"], tmp_path / "out", model="gpt-4o"))
    for name in ("p.jpg", "small.png"):
        assert stat.S_IMODE(os.stat(tmp_path / "out" / name).st_mode) == mode


def test_in_place_keeps_the_originals_mode(tmp_path):
    source = photo(tmp_path / "src" / "p.jpg")
    os.chmod(source, 0o640)
    with umask(0o022):
        rows = [
            r
            for chunk in optimize_paths([tmp_path / "src"], tmp_path / "src", model="gpt-4o", in_place=True)
            for r in chunk
        ]
    assert rows[0].status == "written" and Image.open(source).size == (1024, 768)
    assert stat.S_IMODE(os.stat(source).st_mode) == 0o640


def huge_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height, with a few bytes of pixel data: free to make, never decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_a_huge_png_is_an_error_row_naming_its_size_and_the_bound_and_the_run_goes_on(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a-huge.png").write_bytes(huge_png(20000, 10500))
    photo(tmp_path / "src" / "b-good.jpg")
    photo(tmp_path / "src" / "c-good.png", fmt="PNG")
    result = run("optimize", tmp_path / "src", "-o", tmp_path / "out", "-m", "gpt-4o", "--nl", "-j", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    rows = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["b-good.jpg"]["status"] == rows["c-good.png"]["status"] == "written"
    error = rows["a-huge.png"]["error"]
    assert rows["a-huge.png"]["status"] == "error" and "20,000×10,500" in error and "64 MP" in error
    assert not (tmp_path / "out" / "a-huge.png").exists()


def test_the_decode_bound_counts_a_baseline_jpeg_at_its_scaled_size(tmp_path, monkeypatch):
    monkeypatch.setattr(resize, "MAX_DECODE_PIXELS", 1_100_000)  # 2000 × 2000 is 4 MP; drafted by 2, 1 MP
    photo(tmp_path / "src" / "baseline.jpg", (2000, 2000))
    photo(tmp_path / "src" / "progressive.jpg", (2000, 2000), progressive=True)
    photo(tmp_path / "src" / "plain.png", (2000, 2000), "PNG")
    rows = {
        Path(r.path).name: r
        for chunk in optimize_paths([tmp_path / "src"], tmp_path / "out", model="gpt-4o")
        for r in chunk
    }
    assert rows["baseline.jpg"].status == "written"
    assert rows["progressive.jpg"].status == "error" and "progressive" in rows["progressive.jpg"].error
    assert rows["plain.png"].status == "error" and "2,000×2,000" in rows["plain.png"].error


def test_any_exception_of_one_file_is_its_error_row(tmp_path, monkeypatch):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        photo(tmp_path / "src" / name, (900, 900))
    real = tree.optimize

    def flaky(data, **options):
        if options["name"].endswith("a.jpg"):
            raise MemoryError
        if options["name"].endswith("b.jpg"):
            raise RuntimeError("decoder\nexploded")
        return real(data, **options)

    monkeypatch.setattr(tree, "optimize", flaky)
    rows = {
        Path(r.path).name: r
        for chunk in optimize_paths([tmp_path / "src"], tmp_path / "out", model="gpt-4o")
        for r in chunk
    }
    assert rows["a.jpg"].status == "error" and "out of memory" in rows["a.jpg"].error
    assert rows["b.jpg"].status == "error" and rows["b.jpg"].error.endswith("RuntimeError: decoder exploded")
    assert rows["c.jpg"].status == "written"


def test_workers_are_forked_only_from_a_single_threaded_caller():
    """A fork copies a multi-threaded host's locks held by threads the child lacks: fork only with one thread."""
    import threading

    alone = start_context().get_start_method()
    if threading.active_count() == 1:  # an earlier test may leave a thread (fsspec's I/O loop, Ray's) running
        assert alone == ("fork" if sys.platform.startswith("linux") else alone)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_context().get_start_method() in ("forkserver", "spawn")
    finally:
        stop.set()
        other.join()


# ---------------------------------------------------------------- video --extract


def animated(path: Path, fmt="GIF") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")]
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=500)
    return path


def test_two_clips_of_one_name_never_share_a_frame_folder(tmp_path):
    a, b = animated(tmp_path / "a" / "clip.gif"), animated(tmp_path / "b" / "clip.gif")
    with pytest.raises(OutputConflictError, match="clip.gif .*clip.gif"):
        plan_frame_folders([a, b], tmp_path / "out")
    assert plan_frame_folders([a, a], tmp_path / "out") == {str(a): tmp_path / "out" / "clip"}
    result = run("video", a, b, "-m", "gpt-4o", "--extract", tmp_path / "out")
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert str(a) in result.output and str(b) in result.output and not (tmp_path / "out").exists()
    also = animated(tmp_path / "a" / "clip.webp", "WEBP")  # one folder, one stem: clip.gif and clip.webp
    assert run("video", a, also, "-m", "gpt-4o", "--extract", tmp_path / "out").exit_code == 2


def test_a_clip_where_a_frame_would_go_is_refused(tmp_path):
    clip = animated(tmp_path / "anim.gif")
    inside = animated(tmp_path / "out" / "anim" / "anim-f000000.webp", "WEBP")
    before = snapshot(tmp_path)
    with pytest.raises(OutputConflictError, match="anim-f000000.webp"):
        plan_frame_folders([clip, inside], tmp_path / "out")
    assert snapshot(tmp_path) == before


def test_frames_get_ordinary_permissions(tmp_path):
    clip = animated(tmp_path / "anim.gif")
    with umask(0o022):
        assert extract_frames(clip, tmp_path / "out", model="gpt-4o", every=1) == 3
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out" / "anim").iterdir()}
    assert modes == {0o644}
