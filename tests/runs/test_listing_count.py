"""A store's listing counted ahead of the reads (inspection.remote.ListingCount), for a progress line's ETA:
the whole is known while most reads are still to come, equals what the run yields, and no key is held."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("fsspec")

from costcalc.inspection.remote import ListingCount, iter_remote_heads  # noqa: E402
from costcalc.runs.remote import heads_of  # noqa: E402


def _pngs(root, count: int) -> None:
    from PIL import Image

    for i in range(count):
        folder = root / f"d{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (i + 1, 3)).save(folder / f"{i:03}.png")


def _wait_for_total(count: ListingCount, seconds: float = 20.0) -> int | None:
    deadline = time.monotonic() + seconds
    while count.total is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return count.total


def test_total_known_while_the_reads_are_held_back(tmp_path):
    """The reads wait for the consumer (4 objects in flight or queued at concurrency 1); the count does not."""
    _pngs(tmp_path, 120)
    count = ListingCount()
    heads = iter_remote_heads([f"file://{tmp_path}/"], concurrency=1, count=count)
    first = next(heads)
    assert count.total is None or count.total == 120
    assert _wait_for_total(count) == 120
    rest = list(heads)
    assert 1 + len(rest) == 120 and first.info.width in range(1, 121)


def test_total_counts_every_source_skips_and_unlistable_sources(tmp_path):
    """Several sources, one pipeline; skipped objects are not counted, a source that cannot be listed is one
    item (its error row); the total equals the items yielded."""
    _pngs(tmp_path / "a", 10)
    _pngs(tmp_path / "b", 7)
    count = ListingCount()
    sources = [f"file://{tmp_path}/a/", f"file://{tmp_path}/b/**/*.png", "nosuch://x/"]  # no store to list
    heads = list(heads_of(sources, count=count, skip=lambda path: path.endswith("/005.png")))
    assert count.total == len(heads) == 10 + 7 - 2 + 1
    assert heads[-1].error is not None and heads[-1].info is None


def test_no_count_without_a_counter_or_for_tables(tmp_path):
    """Nothing counts unless asked; URL lists, tables and shards go source by source and never get a total."""
    _pngs(tmp_path, 5)
    listed = tmp_path / "urls.txt"
    listed.write_text("".join(f"file://{p}\n" for p in sorted(tmp_path.rglob("*.png"))))
    count = ListingCount()
    heads = list(heads_of([str(listed)], count=count, urls=True, allow_private=True))
    assert len(heads) == 5 and count.total is None


def test_total_of_an_s3_prefix(tmp_path, monkeypatch):
    """moto's S3 server on 127.0.0.1: the LIST-only count of a prefix equals the keys the run reads. The endpoint
    and keys go in storage_options (a store of their own: the default s3 store of other tests is left alone)."""
    s3fs = pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {
        "endpoint_url": f"http://{host}:{port}",
        "key": "testing-key-id",
        "secret": "testing-secret-value",
    }
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    try:
        fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
        fs.mkdir("count")
        _pngs(tmp_path, 40)
        for path in sorted(tmp_path.rglob("*.png")):
            fs.pipe(f"count/imgs/{path.relative_to(tmp_path).as_posix()}", path.read_bytes())
        fs.pipe("count/other/x.png", b"not listed")
        count = ListingCount()
        heads = iter_remote_heads(
            ["s3://count/imgs/**/*.png"], concurrency=1, count=count, storage_options={"s3": options}
        )
        next(heads)
        assert _wait_for_total(count) == 40
        assert 1 + sum(1 for h in heads if h.error is None) == 40
    finally:
        server.stop()
