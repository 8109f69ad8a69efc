"""The progress line: count, rate, and an ETA only where the fraction done is known; nothing when disabled."""

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


def test_disabled_writes_nothing(clock):
    stream = io.StringIO()
    line = Progress(False, stream=stream)
    clock[0] += 5.0
    line.add(10, 0.5)
    line.done()
    assert stream.getvalue() == ""


def test_size_column_chunks_carry_the_fraction_from_parquet_metadata(tmp_path):
    """The fraction done (for the ETA) comes from the Parquet footers' row counts, before any row is read."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from costcalc.cli.sources import SOURCE_KEYS, remote_chunks
    from costcalc.output.audit import format_for

    for name in ("a", "b"):
        pq.write_table(pa.table({"W": [100] * 30, "H": [50] * 30}), tmp_path / f"{name}.parquet")
    options = dict.fromkeys(SOURCE_KEYS)
    options.update(width_column="W", height_column="H", engine="local", concurrency=4)
    audit_options = {"detail": "auto", "tables": None, "tier": "standard", "limits": None, "strict": False}
    chunks = list(
        remote_chunks(
            [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")],
            ["gpt-4o"],
            format_for(None, ["gpt-4o"], summary=True),
            audit_options,
            options,
        )
    )
    assert [(text, files, fraction) for text, _, files, fraction in chunks] == [("", 30, 0.5), ("", 30, 1.0)]


def test_no_progress_on_a_pipe(tmp_path):
    """CliRunner's stderr is no terminal: no carriage return, no progress text."""
    from click.testing import CliRunner

    from costcalc.cli import cli

    (tmp_path / "a").mkdir()
    result = CliRunner().invoke(cli, ["audit", f"file://{tmp_path}/a", "-m", "gpt-4o", "--summary"])
    assert "\r" not in result.output and "images/s" not in result.output
