"""The progress line: count, rate, and an ETA only where the fraction done or the whole is known; nothing when
disabled."""

from __future__ import annotations

import io

import pytest

from costcalc.output import progress as progress_module
from costcalc.output.progress import Progress


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    return now


def test_rate_and_eta_when_the_whole_is_known(clock):
    stream = io.StringIO()
    line = Progress(True, stream=stream, unit="images")
    clock[0] += 2.0
    line.add(1000, 0.25)  # a quarter in 2 s: 6 s to go
    assert stream.getvalue() == "\r1,000 images · 2.0s · 500 images/s · 25% · ETA 6s\033[K"
    line.done()
    assert stream.getvalue().endswith("\r\033[K")


def test_rate_only_when_the_whole_is_unknown(clock):
    stream = io.StringIO()
    line = Progress(True, stream=stream, unit="images")
    clock[0] += 4.0
    line.add(200)
    assert stream.getvalue() == "\r200 images · 4.0s · 50 images/s\033[K"


def test_count_of_the_whole_once_known(clock):
    """Rate only while the whole is unknown; `n/total`, percent and ETA from the chunk that brings it on."""
    stream = io.StringIO()
    line = Progress(True, stream=stream, unit="images")
    clock[0] += 1.0
    line.add(100, total=None)
    assert stream.getvalue() == "\r100 images · 1.0s · 100 images/s\033[K"
    clock[0] += 1.0
    line.add(100, total=800)  # 200 of 800 in 2 s: 6 s to go
    assert stream.getvalue().endswith("\r200/800 images · 2.0s · 100 images/s · 25% · ETA 6s\033[K")
    clock[0] += 1.0
    line.add(100)  # a later chunk without the whole keeps it
    assert stream.getvalue().endswith("\r300/800 images · 3.0s · 100 images/s · 38% · ETA 5s\033[K")
    clock[0] += 1.0
    line.add(600, total=800)  # all done (or more than listed): no percent, no ETA
    assert stream.getvalue().endswith("\r900/800 images · 4.0s · 225 images/s\033[K")


def test_disabled_writes_nothing(clock):
    stream = io.StringIO()
    line = Progress(False, stream=stream)
    clock[0] += 5.0
    line.add(10, 0.5)
    line.done()
    assert stream.getvalue() == ""


def test_size_column_chunks_carry_the_whole_from_parquet_metadata(tmp_path):
    """The whole (for the ETA) comes from the Parquet footers' row counts, before any row is read."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from costcalc.cli.sources import SOURCE_KEYS, remote_chunks
    from costcalc.output.audit import format_for

    for name in ("a", "b"):
        pq.write_table(pa.table({"W": [100] * 30, "H": [50] * 30}), tmp_path / f"{name}.parquet")
    options = dict.fromkeys(SOURCE_KEYS)
    options.update(width_column="W", height_column="H", engine="local", concurrency=4)
    audit_options = {"detail": "auto", "tables": None, "tier": "standard", "edition": None, "strict": False}
    chunks = list(
        remote_chunks(
            [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")],
            ["gpt-4o"],
            format_for(None, ["gpt-4o"], summary=True),
            audit_options,
            options,
        )
    )
    assert [(text, files, whole) for text, _, files, whole in chunks] == [("", 30, 60), ("", 30, 60)]


def _folder(root, count: int) -> str:
    from PIL import Image

    for i in range(count):
        folder = root / f"d{i % 3}"
        folder.mkdir(exist_ok=True)
        Image.new("RGB", (i + 1, 4)).save(folder / f"{i:03}.png")
    (root / "d0" / "notes.txt").write_text("not an image")
    return f"file://{root}/"


def test_store_chunks_carry_the_whole_once_the_listing_has_ended(tmp_path):
    """With a progress line, the whole of a store listing comes with the chunks once a listing of its own,
    run ahead of the reads, has ended; without one (a pipe), never, and nothing is listed twice."""
    pytest.importorskip("fsspec")
    from costcalc.cli.sources import SOURCE_KEYS, remote_chunks
    from costcalc.output.audit import format_for

    url = _folder(tmp_path, 600)  # 601 objects: three chunks of 256 images
    options = dict.fromkeys(SOURCE_KEYS)
    options.update(engine="local", concurrency=4)
    audit_options = {"detail": "auto", "tables": None, "tier": "standard", "edition": None, "strict": False}
    render = format_for(None, ["gpt-4o"], summary=True)
    shown = list(remote_chunks([url], ["gpt-4o"], render, audit_options, options, progress=True))
    assert [files for _, _, files, _ in shown] == [256, 256, 89]
    assert shown[-1][3] == 601  # the last chunk comes after every read, long after the listing ended
    piped = list(remote_chunks([url], ["gpt-4o"], render, audit_options, options))
    assert [whole for *_, whole in piped] == [None, None, None]


def test_no_progress_on_a_pipe(tmp_path):
    """CliRunner's stderr is no terminal: no carriage return, no progress text."""
    from click.testing import CliRunner

    from costcalc.cli import cli

    (tmp_path / "a").mkdir()
    result = CliRunner().invoke(cli, ["audit", f"file://{tmp_path}/a", "-m", "gpt-4o", "--summary"])
    assert "\r" not in result.output and "images/s" not in result.output
