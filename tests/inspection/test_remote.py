"""Remote heads (costcalc.inspection.remote) against real servers on 127.0.0.1: moto's S3 and a range server."""

from __future__ import annotations

import json
import os
import random

import pytest
from odd_images import app_segments, encode, odd_images
from range_server import RangeServer

from costcalc.errors import CostcalcError
from costcalc.inspection.headers import inspect_path

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

from costcalc.inspection.remote import iter_remote_heads, list_objects, redact


def _local(path: str):
    """inspect_path's verdict: (info, None) or (None, the error's type and message without the path)."""
    try:
        return inspect_path(path), None
    except CostcalcError as error:
        return None, (type(error).__name__, str(error).split(": ", 1)[1])


def _remote(head):
    if head.error is None:
        return head.info, None
    return None, (type(head.error).__name__, str(head.error).split(": ", 1)[1])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd")
    for name, data in odd_images().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture(scope="module")
def s3(files):
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="testing-key-id",
        AWS_SECRET_ACCESS_KEY="testing-secret-value",
        AWS_DEFAULT_REGION="us-east-1",
    )
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("imgs")
    for path in sorted(files.rglob("*")):
        if path.is_file():
            fs.pipe(f"imgs/data/{path.relative_to(files).as_posix()}", path.read_bytes())
    yield f"http://{host}:{port}"
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.mark.parametrize("body", [True, False])
def test_s3_bucket_equals_local_files(files, s3, body):
    """Every object of the bucket reads as inspect_path reads the same local file, odd files included."""
    heads = list(iter_remote_heads("s3://imgs/data/", concurrency=8, body=body))
    names = sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())
    assert [h.path for h in heads] == [f"s3://imgs/data/{n}" for n in names]  # listing order (S3 key order)
    for head, name in zip(heads, names):
        expected = _local(str(files / name))
        got = _remote(head)
        if not body and expected[0] is not None and got[0] is not None:
            expected = (expected[0]._replace(warning=None), None)  # header only: no body checks
            got = (got[0]._replace(warning=None), None)
        assert got == expected, name
    exif = next(h for h in heads if h.path.endswith("big_exif.jpg"))
    assert exif.info.orientation == 6 and exif.requests >= 2  # the SOF is past the first read
    by_name = {h.path.rsplit("/", 1)[1]: h for h in heads}
    assert by_name["photo.jpg"].requests == (2 if body else 1)  # body: its last two bytes (EOI) too
    assert by_name["animated.gif"].info.animated


def test_s3_glob_and_single_object(files, s3):
    heads = list(iter_remote_heads(["s3://imgs/data/**/*.jpg", "s3://imgs/data/a/gradient.png"], concurrency=4))
    names = [h.path.rsplit("/data/", 1)[1] for h in heads]
    assert names == ["a/photo.jpg", "a/tall.jpg", "b/big_exif.jpg", "b/truncated.jpg", "c/empty.jpg", "a/gradient.png"]
    assert heads[-1].info.width == 700
    assert [o.url for o in list_objects("s3://imgs/data/a/*.webp")] == ["s3://imgs/data/a/sticker.webp"]


def test_s3_missing_bucket_and_key_are_clean_errors(s3):
    heads = list(
        iter_remote_heads(
            [
                "s3://no-such-bucket/x/",
                "s3://no-such-bucket/**/*.jpg",
                "s3://imgs/data/nope.jpg",
                "s3://imgs/data/a/photo.jpg",
            ]
        )
    )
    assert [h.info is None for h in heads] == [True, True, True, False]
    for head in heads[:3]:
        message = str(head.error)
        assert message.startswith(head.path + ":") and "\n" not in message
        assert "no such" in message, message
        assert "testing-secret-value" not in message and "testing-key-id" not in message


def test_no_credential_in_errors(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_supersecrettoken123")
    text = redact(
        "https://user:pa55word@host/x.jpg?X-Amz-Signature=abcdef&X-Amz-Credential=AKIA/1&w=3 "
        "token hf_supersecrettoken123"
    )
    assert "pa55word" not in text and "abcdef" not in text and "AKIA" not in text and "hf_super" not in text
    assert "w=3" in text
    heads = list(
        iter_remote_heads(["http://127.0.0.1:9/a.jpg?sig=topsecret", "https://u:hunter22@127.0.0.1:9/b.jpg"], retries=1)
    )
    for head in heads:
        assert head.error is not None
        assert "topsecret" not in str(head.error) + head.path and "hunter22" not in str(head.error) + head.path


def _photos(count: int, seed: int = 1) -> dict[str, bytes]:
    """`count` JPEGs of 0.3-3 MB: photo-like noise at random sizes (every tenth with 24 KiB of EXIF)."""
    rng = random.Random(seed)
    from PIL import Image

    base = Image.effect_noise((1400, 1000), 90).convert("RGB")
    out = {}
    for i in range(count):
        target = rng.uniform(0.3e6, 3e6)
        side = int((target / 0.55) ** 0.5)  # about 0.55 bytes a pixel at quality 95 on noise
        image = base.resize((side, side * 3 // 4)) if side <= 1400 else base.resize((side, side * 3 // 4), 0)
        data = encode(image, "JPEG", quality=95)
        if i % 10 == 0:
            data = data[:2] + app_segments(24 * 1024) + data[2:]
        out[f"p{i:04}.jpg"] = data
    return out


def test_http_ranged_reads_are_few_and_small():
    """0.3-3 MB objects: at most 1.2 requests an object and 3% of the bytes; equal to the whole-file parse."""
    from costcalc.inspection.headers import inspect

    objects = _photos(40)
    with RangeServer(objects) as server:
        heads = list(iter_remote_heads([f"{server.url}/{name}" for name in objects], concurrency=16))
        assert all(h.error is None for h in heads), [h.error for h in heads if h.error]
        for head, (name, data) in zip(heads, objects.items()):
            assert head.path.endswith(name)
            assert head.info._replace(warning=None) == inspect(data)._replace(warning=None)
        total = sum(map(len, objects.values()))
        assert min(map(len, objects.values())) > 250_000
        assert server.requests <= 1.2 * len(objects), server.requests
        assert server.bytes <= 0.03 * total, (server.bytes, total)
        assert sum(h.bytes_read for h in heads) == server.bytes


def test_http_throttling_retried_and_errors_per_item():
    objects = {"ok.png": encode(__import__("PIL.Image").Image.new("RGB", (10, 20)), "PNG"), "deny.png": b"x"}
    with RangeServer(objects, throttle=2, forbidden=frozenset({"deny.png"})) as server:
        heads = list(iter_remote_heads([f"{server.url}/ok.png", f"{server.url}/deny.png", f"{server.url}/gone.png"]))
        assert heads[0].info.height == 20 and heads[0].requests == 3  # two 503s, then the answer
        assert "403" in str(heads[1].error) and "404" in str(heads[2].error)
    with RangeServer(objects, throttle=100) as server:
        (head,) = iter_remote_heads([f"{server.url}/ok.png"], retries=3)
        assert "throttled" in str(head.error) and head.requests == 3


def test_early_stop_and_bad_arguments(files):
    stream = iter_remote_heads(str(files), concurrency=2)
    first = next(stream)
    assert first.path.endswith("gradient.png")  # folders are listed sorted
    stream.close()
    with pytest.raises(ValueError):
        list(iter_remote_heads("x", concurrency=0))
    (head,) = iter_remote_heads("nosuchscheme://x/y.jpg")
    assert head.info is None and "nosuchscheme" in str(head.error)


def test_s3_audit_rows_equal_local_audit_rows(files, s3):
    """audit_heads over the bucket (body=True) gives the local audit's rows, row for row (paths aside)."""
    from costcalc.runs.audit import audit
    from costcalc.runs.remote import audit_heads, heads_for

    models = ["gpt-4o", "claude-sonnet-4-5", "qwen3-vl-plus"]

    def keyed(rows, prefix):
        out = {}
        for row in rows:
            name = row.path[len(prefix) :]
            error = None if row.error is None else row.error.replace(row.path, "<path>")
            out[(name, row.model)] = row._replace(path=name, error=error)
        return out

    local = keyed(audit([str(files)], models=models), f"{files}/")
    remote = keyed(
        audit_heads(heads_for("s3://imgs/data/", body=True, concurrency=4), models=models), "s3://imgs/data/"
    )
    assert remote.keys() == local.keys() and len(local) == 12 * 3
    for key in local:
        assert remote[key] == local[key], key
    statuses = {row.status for row in local.values()}
    assert statuses == {"priced", "rejected", "unreadable"}


def test_parquet_rows_written_and_resumed(tmp_path, files):
    pq = pytest.importorskip("pyarrow.parquet")
    from costcalc.output.parquet_rows import ParquetRows
    from costcalc.runs.audit import audit
    from costcalc.runs.totals import AUDIT_FIELDS

    rows = list(audit([str(files)], models=["gpt-4o", "claude-sonnet-4-5"]))
    out = tmp_path / "audit.parquet"
    with ParquetRows(out, row_group_rows=5) as writer:
        writer.write(rows[:10])
    assert pq.ParquetFile(out).num_row_groups == 2
    with ParquetRows(out, resume=True, row_group_rows=5) as writer:
        assert writer.done(rows[0].path) and writer.done(rows[9].path) and not writer.done(rows[-1].path)
        writer.write(row for row in rows if not writer.done(row.path))
    table = pq.read_table(out)
    assert table.schema.names == list(AUDIT_FIELDS) and table.num_rows == len(rows)
    got = table.to_pylist()
    for row, written in zip(rows, got):
        expected = row.as_dict()
        assert written == expected
    (tmp_path / "cut.parquet").write_bytes(out.read_bytes()[:100])
    with pytest.raises(CostcalcError, match="not a whole Parquet file"):
        ParquetRows(tmp_path / "cut.parquet", resume=True)


def test_hf_urls_without_the_hub_are_clean_errors(monkeypatch):
    """hf:// through huggingface_hub's HfFileSystem. Reading from the Hub needs it reachable (not here, nor in CI):
    only the offline behaviour is tested, one clean error item each, no token in it."""
    pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_TOKEN", "hf_notarealtokenbutsecret")
    heads = list(
        iter_remote_heads(
            ["hf://datasets/someone/some-data/images/*.jpg", "hf://datasets/someone/some-data/a.jpg"], retries=1
        )
    )
    assert len(heads) == 2
    for head in heads:
        assert head.info is None and str(head.error).startswith(head.path + ": ")
        assert "\n" not in str(head.error) and "hf_notarealtoken" not in str(head.error)


def test_skip_leaves_listed_objects_unread():
    objects = {f"{i}.png": encode(__import__("PIL.Image").Image.new("RGB", (i + 1, 5)), "PNG") for i in range(6)}
    with RangeServer(objects) as server:
        urls = [f"{server.url}/{name}" for name in objects]
        heads = list(iter_remote_heads(urls, skip=lambda path: path.endswith(("1.png", "4.png"))))
        assert [h.info.width for h in heads] == [1, 3, 4, 6] and server.requests == 4


# ------------------------------------------------------------------ the command


def _nl_rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_audit_command_on_a_bucket_gives_the_local_audits_rows(files, s3):
    """`costcalc audit s3://…` prints, row for row, what `costcalc audit DIR` prints for the same files."""
    from click.testing import CliRunner

    from costcalc.cli import cli

    models = ["-m", "gpt-4o", "-m", "claude-opus-4-7"]
    remote = CliRunner().invoke(cli, ["audit", "s3://imgs/data/", *models, "--nl", "-j1"])
    local = CliRunner().invoke(cli, ["audit", str(files), *models, "--nl", "-j1"])
    assert remote.exit_code == local.exit_code == 1  # odd files: some unreadable or rejected
    keep = ("model", "status", "format", "width", "height", "tokens", "usd", "rule", "basis")

    def key(row, prefix):
        return (row["path"].split(prefix, 1)[1], *(row[k] for k in keep))

    got = sorted(key(r, "/data/") for r in _nl_rows(remote.stdout))
    want = sorted(key(r, str(files) + "/") for r in _nl_rows(local.stdout))
    assert [g[0] for g in got] == [w[0] for w in want]
    for g, w in zip(got, want):  # a header read by ranges may miss a damage warning the whole file shows
        assert g == w or (g[2], w[2]) == ("priced", "priced") and g[:2] == w[:2], (g, w)


def test_audit_command_prices_size_columns_without_images(tmp_path):
    """LAION-style WIDTH/HEIGHT columns: 1024² costs gpt-4o 765 (4 tiles: 85 + 4 × 170); 9000×100 is over Claude's
    8000-px side (rejected, max_side); a null size is unreadable; nothing stops the run."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from costcalc.cli import cli

    table = tmp_path / "laion.parquet"
    pq.write_table(pa.table({"WIDTH": [1024, 9000, None], "HEIGHT": [1024, 100, 5]}), table)
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            str(table),
            "--width-column",
            "WIDTH",
            "--height-column",
            "HEIGHT",
            "-m",
            "gpt-4o",
            "-m",
            "claude-opus-4-7",
            "--nl",
        ],
    )
    rows = {(r["path"].rsplit("#", 1)[1], r["model"]): r for r in _nl_rows(result.stdout)}
    assert result.exit_code == 1
    assert rows[("0", "gpt-4o")]["tokens"] == 765 and rows[("0", "gpt-4o")]["usd"] == 0.0019125
    assert (rows[("1", "claude-opus-4-7")]["status"], rows[("1", "claude-opus-4-7")]["rule"]) == (
        "rejected",
        "max_side",
    )
    assert rows[("2", "gpt-4o")]["status"] == "unreadable"
    half = CliRunner().invoke(cli, ["audit", str(table), "--width-column", "WIDTH", "-m", "gpt-4o"])
    assert half.exit_code == 2 and "--height-column" in half.output


def test_audit_command_writes_parquet_and_resumes(tmp_path, files):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from costcalc.cli import cli

    out = tmp_path / "rows.parquet"
    first = CliRunner().invoke(
        cli, ["audit", f"file://{files}/a/*.jpg", "-m", "gpt-4o", "--parquet", str(out), "--summary"]
    )
    assert first.exit_code in (0, 1), first.output
    written = pq.read_table(out).to_pylist()
    assert written and {r["model"] for r in written} == {"gpt-4o"}
    again = CliRunner().invoke(
        cli, ["audit", f"file://{files}/a/*.jpg", "-m", "gpt-4o", "--parquet", str(out), "--resume", "--nl"]
    )
    assert _nl_rows(again.stdout) == []  # everything was done: nothing read again
    assert len(pq.read_table(out)) == len(written)


def _cut(path, keep_paths: int) -> list[dict]:
    """Rewrite a --parquet output with only the rows of its first `keep_paths` paths (a run cut short); all rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    kept = list(dict.fromkeys(r["path"] for r in rows))[:keep_paths]
    pq.write_table(pa.Table.from_pylist([r for r in rows if r["path"] in kept], schema=pq.read_schema(path)), path)
    return rows


def test_resume_lists_an_s3_prefix_from_after_the_last_key(tmp_path, s3, monkeypatch):
    """Keys written in key order: the resumed listing asks S3 for what comes after the last (StartAfter); the
    file ends with the same rows as one whole run."""
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from costcalc.cli import cli
    from costcalc.inspection import remote

    out = tmp_path / "rows.parquet"
    args = ["audit", "s3://imgs/data/", "-m", "gpt-4o", "--parquet", str(out), "--concurrency", "4"]
    assert CliRunner().invoke(cli, [*args, "--summary"]).exit_code == 1  # odd files: some unpriced
    whole = _cut(out, 5)
    asked = []
    listing = remote._s3_after

    def spy(fs, bucket, prefix, after):
        asked.append(after)
        return listing(fs, bucket, prefix, after)

    monkeypatch.setattr(remote, "_s3_after", spy)
    again = CliRunner().invoke(cli, [*args, "--resume", "--nl"])
    paths = list(dict.fromkeys(r["path"] for r in whole))
    assert asked == [paths[4].removeprefix("s3://imgs/")]
    assert [json.loads(line)["path"] for line in again.stdout.splitlines()] == paths[5:]
    assert pq.read_table(out).to_pylist() == whole


def test_resume_of_a_walk_leaves_out_the_folders_done(tmp_path):
    """A sorted walk (a folder's files, then its subfolders): listing after b/x.jpg neither reads nor lists the
    root's files or a/ again."""
    for name in ("0.jpg", "z.jpg", "a/1.jpg", "b/x.jpg", "b/y.jpg", "b/c/1.jpg", "c/z.jpg"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not an image")  # its head is an error item, in its place
    whole = [h.path for h in iter_remote_heads(str(tmp_path), concurrency=2)]
    assert [p.removeprefix(f"{tmp_path}/") for p in whole] == [
        "0.jpg",
        "z.jpg",
        "a/1.jpg",
        "b/x.jpg",
        "b/y.jpg",
        "b/c/1.jpg",
        "c/z.jpg",
    ]
    offered = []
    heads = list(
        iter_remote_heads(str(tmp_path), concurrency=2, after=whole[3], skip=lambda p: offered.append(p) or False)
    )
    assert [h.path for h in heads] == offered == whole[4:]


def test_resume_after_only_for_one_listing_in_its_order():
    from costcalc.runs.remote import resume_after

    ordered = {"keys": True, "walk": False}
    assert resume_after(["s3://b/imgs/"], "s3://b/imgs/k/9.jpg", ordered) == "s3://b/imgs/k/9.jpg"
    assert resume_after(["s3://b/imgs/**/*.jpg"], "s3://b/imgs/k/9.jpg", ordered) == "s3://b/imgs/k/9.jpg"
    assert resume_after(["s3://b/imgs/"], "s3://b/imgs/k/9.jpg", {"keys": False, "walk": True}) is None
    assert resume_after(["data/"], "data/k/9.jpg", ordered) is None  # a walk's output not in walk order
    assert resume_after(["s3://b/imgs/", "s3://b/more/"], "s3://b/imgs/k/9.jpg", ordered) is None
    assert resume_after(["s3://b/other/"], "s3://b/imgs/k/9.jpg", ordered) is None
    assert resume_after(["s3://b/shards/*.tar"], "s3://b/shards/1.tar/a.jpg", ordered) is None


@pytest.fixture(scope="module")
def gcs(files):
    """gcp-storage-emulator (pure Python, in memory) on 127.0.0.1 holding the odd files under gs://imgs/data/;
    its address for STORAGE_EMULATOR_HOST. The empty file is left out: the emulator refuses an empty upload."""
    import socket
    import urllib.parse
    import urllib.request

    pytest.importorskip("gcsfs")
    emulator = pytest.importorskip("gcp_storage_emulator.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket="imgs")
    server.start()
    base = f"http://127.0.0.1:{port}"
    for path in sorted(files.rglob("*")):
        if path.is_file() and path.stat().st_size:
            query = urllib.parse.urlencode(
                {"uploadType": "media", "name": f"data/{path.relative_to(files).as_posix()}"}
            )
            request = urllib.request.Request(f"{base}/upload/storage/v1/b/imgs/o?{query}", data=path.read_bytes())
            urllib.request.urlopen(request, timeout=10).read()
    yield base
    server.stop()


def test_gcs_bucket_audit_equals_the_local_audit(files, gcs):
    """`costcalc audit gs://…` against the emulator, configured by the standard environment only, prints what
    the local audit prints for the same files; a missing bucket is one unreadable row and no traceback. In a
    process of its own: gcsfs reads STORAGE_EMULATOR_HOST when it is imported."""
    import subprocess
    import sys

    from click.testing import CliRunner

    from costcalc.cli import cli

    # gcsfs's experimental bucket-type probe speaks gRPC to the endpoint, which an emulator does not serve
    env = dict(os.environ, STORAGE_EMULATOR_HOST=gcs, GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT="false")
    models = ["-m", "gpt-4o", "-m", "claude-opus-4-7"]

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "costcalc", "audit", *args], env=env, capture_output=True, text=True, timeout=120
        )

    remote = run("gs://imgs/data/", *models, "--nl")
    local = CliRunner().invoke(cli, ["audit", str(files), *models, "--nl", "-j1"])
    assert remote.returncode == local.exit_code == 1, remote.stderr
    keep = ("model", "status", "format", "width", "height", "tokens", "usd", "rule", "basis")
    got = sorted((r["path"].split("/data/", 1)[1], *(r[k] for k in keep)) for r in _nl_rows(remote.stdout))
    want = sorted(
        (r["path"].split(f"{files}/", 1)[1], *(r[k] for k in keep))
        for r in _nl_rows(local.stdout)
        if os.path.getsize(r["path"])
    )
    assert got == want and len(got) == 2 * 11
    missing = run("gs://no-such-bucket/x/", "-m", "gpt-4o", "--nl")
    rows = _nl_rows(missing.stdout)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert [(r["status"], r["path"]) for r in rows] == [("unreadable", "gs://no-such-bucket/x/")]
