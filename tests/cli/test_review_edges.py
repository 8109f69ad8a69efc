"""Edge cases of audit's outputs and summaries found in review: what --parquet OUT may replace, and how odd folder
names show in the summary by prefix. One test per defect."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from costcalc.cli import cli


@pytest.fixture
def sizes(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = tmp_path / "sizes.parquet"
    pq.write_table(pa.table({"W": [100, 3000], "H": [200, 2000]}), table)
    return table


def _audit(table, out, *more):
    args = ["audit", str(table), "--width-column", "W", "--height-column", "H", "-m", "gpt-4o", "--summary"]
    return CliRunner().invoke(cli, [*args, "--parquet", str(out), *more])


def test_parquet_out_never_replaces_a_file_that_is_not_an_earlier_audit(tmp_path, sizes):
    mine = tmp_path / "notes.txt"
    mine.write_bytes(b"my notes\n")
    result = _audit(sizes, mine)
    assert result.exit_code == 2, result.output
    assert "--parquet" in result.output and "not a costcalc audit" in result.output
    assert mine.read_bytes() == b"my notes\n" and not (tmp_path / "notes.txt.partial").exists()
    result = _audit(sizes, sizes)  # the table audited itself: a Parquet file, not an audit's
    assert result.exit_code == 2 and "not a costcalc audit" in result.output
    assert sizes.read_bytes()[:4] == b"PAR1"


def test_parquet_out_never_writes_through_or_over_a_symlink(tmp_path, sizes):
    earlier = tmp_path / "earlier.parquet"
    assert _audit(sizes, earlier).exit_code == 0
    before = earlier.read_bytes()
    link = tmp_path / "link.parquet"
    link.symlink_to(earlier)
    result = _audit(sizes, link)
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert link.is_symlink() and earlier.read_bytes() == before
    dangling = tmp_path / "dangling.parquet"
    dangling.symlink_to(tmp_path / "nowhere.parquet")
    assert _audit(sizes, dangling).exit_code == 2 and dangling.is_symlink()
    assert not (tmp_path / "nowhere.parquet").exists()


def test_parquet_out_replaces_an_earlier_audit(tmp_path, sizes):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "audit.parquet"
    assert _audit(sizes, out).exit_code == 0
    os.utime(out, (0, 0))
    result = _audit(sizes, out)
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 2 and out.stat().st_mtime > 0


def test_resume_from_a_sibling_whose_name_the_source_starts_skips_nothing(tmp_path, monkeypatch):
    """An output of `data2/` resumed by `data/`: data2's last path starts with "data" but lies outside data/, so the
    listing of data/ is not started after it (which left out every file of data/)."""
    pytest.importorskip("pyarrow")
    from PIL import Image

    from costcalc.runs.remote import resume_after

    ordered = {"keys": True, "walk": True}
    assert resume_after(["s3://b/imgs"], "s3://b/imgs-v2/9.jpg", ordered) is None
    assert resume_after(["s3://b/imgs/"], "s3://b/imgs-v2/9.jpg", ordered) is None
    assert resume_after(["s3://b/imgs"], "s3://b/imgs/9.jpg", ordered) == "s3://b/imgs/9.jpg"
    assert resume_after(["s3://b/imgs/part-*.jpg"], "s3://b/imgs/part-9.jpg", ordered) == "s3://b/imgs/part-9.jpg"
    monkeypatch.chdir(tmp_path)
    for name in ("data/a.png", "data/b.png", "data2/z.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        Image.new("RGB", (100, 200)).save(tmp_path / name)
    base = ["-m", "gpt-4o", "--parquet", "out.parquet", "--nl"]
    assert CliRunner().invoke(cli, ["audit", "data2", *base]).exit_code == 0
    result = CliRunner().invoke(cli, ["audit", "data", *base, "--resume"])
    assert result.exit_code == 0, result.output
    assert [line.split('"')[3] for line in result.output.splitlines() if line.startswith("{")] == [
        "data/a.png",
        "data/b.png",
    ]


def test_a_folder_named_with_glob_characters_is_read_as_that_folder_with_parquet(tmp_path, monkeypatch):
    """`audit 'photos[1]' --parquet OUT` (the listing path) reads the folder of that name, as the local walk does,
    rather than the pattern `photos1` (which named nothing: 0 files and exit 0 before)."""
    import json

    from PIL import Image

    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos[1]" / "a").mkdir(parents=True)
    (tmp_path / "photos1").mkdir()  # what the pattern would match: must stay unread
    Image.new("RGB", (30, 30)).save(tmp_path / "photos[1]" / "a" / "x.png")
    Image.new("RGB", (30, 30)).save(tmp_path / "photos1" / "y.png")
    result = CliRunner().invoke(cli, ["audit", "photos[1]", "-m", "gpt-4o", "--json", "--parquet", "out.parquet"])
    document = json.loads(result.stdout)
    assert [row["path"] for row in document["rows"]] == ["photos[1]/a/x.png"], result.output


def test_a_size_with_one_side_unknown_shows_as_unknown_in_the_table():
    from costcalc.output.audit import format_for
    from costcalc.runs.totals import AuditRow

    row = AuditRow(
        "t.parquet#3", "gpt-4o", "auto", "unreadable", width=3000, height=None, error="t.parquet#3: no height"
    )
    line = format_for(None, ["gpt-4o"]).render([row])
    assert "None" not in line and line.split()[1] == "-"
