"""runs.summary: how items are grouped per prefix or shard, and the percentiles of tokens per image."""

from __future__ import annotations

import pytest

from costcalc.runs.summary import MAX_GROUPS, OTHER, Summary, group_by_source, group_by_sources
from costcalc.runs.totals import AuditRow


def test_groups_by_first_folder_below_the_root():
    group = group_by_source("s3://b/imgs/")
    assert group("s3://b/imgs/cats/a/1.jpg") == "s3://b/imgs/cats/"
    assert group("s3://b/imgs/top.jpg") == "s3://b/imgs/"
    assert group_by_source("s3://b/imgs/**/*.jpg")("s3://b/imgs/dogs/2.jpg") == "s3://b/imgs/dogs/"
    assert group_by_source("s3://b/imgs/one.jpg")("s3://b/imgs/one.jpg") == "s3://b/imgs/"
    assert group_by_source("data")("data/x/y.png") == "data/x/"


def test_groups_of_shards_tables_and_url_lists():
    assert group_by_source("s/*.tar", "shard")("s/000001.tar/a/b.jpg") == "s/000001.tar"
    assert group_by_source("s/*.tgz", "shard")("s/7.TGZ/b.jpg") == "s/7.TGZ"
    assert group_by_source("t/*.parquet", "table")("t/part-0.parquet#12") == "t/part-0.parquet"
    assert group_by_source("urls.txt", "urls")("https://example.com/a/b.jpg?x=1") == "https://example.com/"


def test_several_sources_each_group_below_its_own_root():
    group = group_by_sources(["s3://b/imgs/", "s3://b/imgs/more/"])
    assert group("s3://b/imgs/more/x/1.jpg") == "s3://b/imgs/more/x/"
    assert group("s3://b/imgs/x/1.jpg") == "s3://b/imgs/x/"


def test_groups_past_the_cap_count_as_other():
    summary = Summary(["gpt-4o"], group_by_source("s3://b/"))
    for i in range(MAX_GROUPS + 5):
        summary.add(AuditRow(f"s3://b/{i:05d}/x.jpg", "gpt-4o", "auto", "priced", tokens=100 + i % 3))
    assert len(summary.groups) == MAX_GROUPS + 1 and summary.groups[OTHER].by_model["gpt-4o"].files == 5
    assert summary.percentiles()["gpt-4o"] == {
        "images": MAX_GROUPS + 5,
        "p50": 101,
        "p90": 102,
        "p99": 102,
        "max": 102,
    }


def test_merged_chunks_give_the_same_percentiles_as_one():
    whole, parts = Summary(["m"]), [Summary(["m"]) for _ in range(3)]
    for i, tokens in enumerate([5, 1, 9, 9, 2, 7, 3, 3, 8, 1]):
        row = AuditRow(f"p/{i}.jpg", "m", "auto", "priced", tokens=tokens)
        whole.add(row)
        parts[i % 3].add(row)
    merged = Summary(["m"])
    for part in parts:
        merged.merge(part)
    assert merged.percentiles() == whole.percentiles()
    assert whole.percentiles()["m"] == {"images": 10, "p50": 3, "p90": 9, "p99": 9, "max": 9}


def _local_tree(root):
    """Files alike (one Shape) in several folders, so that a Shape's files are counted in each one's group."""
    from PIL import Image

    sizes = {"a/one.png": (500, 400), "a/deep/two.png": (800, 400), "b/three.png": (1100, 400), "top.png": (64, 64)}
    sizes.update({f"b/same{i}.png": (64, 64) for i in range(300)})  # more than a chunk (256 files)
    for name, size in sizes.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size).save(root / name)
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return sizes


def _expected_groups(root, sizes, tokens_of):
    groups = {}
    for name, size in sizes.items():
        head = name.split("/")[0] + "/" if "/" in name else ""
        entry = groups.setdefault(f"{root}/{head}", {"files": 0, "priced": 0, "tokens": 0})
        entry["files"] += 1
        entry["priced"] += 1
        entry["tokens"] += tokens_of[size]
    groups[f"{root}/a/"]["files"] += 1  # broken.png: unreadable
    return groups


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_local_audit_sums_per_first_folder_and_gives_percentiles(tmp_path, jobs):
    """--json of a local folder has by_prefix (the first folder below the path audited, the path itself for its
    own files) and tokens_per_image, equal to sums and nearest ranks taken from the --nl rows by hand."""
    import json
    import subprocess
    import sys

    root = tmp_path / "tree"
    sizes = _local_tree(root)
    command = [sys.executable, "-m", "costcalc", "audit", str(root), "-m", "gpt-4o", "-j", jobs]
    rows = [
        json.loads(line)
        for line in subprocess.run([*command, "--nl"], capture_output=True, text=True).stdout.splitlines()
    ]
    tokens_of = {(row["width"], row["height"]): row["tokens"] for row in rows if row["status"] == "priced"}
    assert tokens_of == {(500, 400): 255, (800, 400): 425, (1100, 400): 595, (64, 64): 255}  # 85 + 170 a tile
    document = json.loads(subprocess.run([*command, "--json"], capture_output=True, text=True).stdout)
    got = {
        name: {key: totals["gpt-4o"][key] for key in ("files", "priced", "tokens")}
        for name, totals in document["by_prefix"].items()
    }
    assert got == _expected_groups(root, sizes, tokens_of)
    priced = sorted(tokens_of[size] for size in sizes.values())
    rank = lambda p: priced[-(-len(priced) * p // 100) - 1]  # noqa: E731 - nearest rank, by hand
    assert document["tokens_per_image"]["gpt-4o"] == {
        "images": len(priced),
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": priced[-1],
    }


def test_a_local_audit_imports_no_store_module(tmp_path):
    """Grouping a local folder's files needs no URL redaction: neither the store modules nor asyncio load."""
    import subprocess
    import sys

    from PIL import Image

    Image.new("RGB", (10, 10)).save(tmp_path / "a.png")
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write(repr(sorted(m for m in sys.modules if m == 'asyncio' "
        "or m.startswith('costcalc.inspection.st') or m == 'costcalc.inspection.remote'))))\n"
        "from costcalc.console import main\n"
        f"sys.argv = ['costcalc', 'audit', {str(tmp_path)!r}, '-m', 'gpt-4o', '--json']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert '"by_prefix"' in done.stdout and done.stderr.strip().endswith("[]"), done.stderr


def test_a_local_folder_named_with_glob_characters_is_a_folder_not_a_pattern(tmp_path, monkeypatch):
    """`costcalc audit 'photos[1]/'` walks that folder: its files group by the first folder below it, as any
    folder's do (not by the folder each file is in, nor all under the root)."""
    for folder in ("photos[1]/a/b", "photos[2]/c/d"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert group_by_source("photos[1]")("photos[1]/a/b/x.png") == "photos[1]/a/"
    assert group_by_source("./photos[1]/")("./photos[1]/a/b/x.png") == "./photos[1]/a/"
    assert group_by_source("photos[1]")("photos[1]/x.png") == "photos[1]/"
    group = group_by_sources(["photos[1]", "photos[2]"])
    assert group("photos[1]/a/b/x.png") == "photos[1]/a/"
    assert group("photos[2]/c/d/x.png") == "photos[2]/c/"
    assert group_by_source("photos[*]/**")("photos[1]/a/b/x.png") == "photos[1]/"  # no such folder: a pattern


def test_past_max_roots_each_item_groups_by_its_own_folder():
    from costcalc.runs.summary import MAX_ROOTS

    few = group_by_sources([f"d{i}" for i in range(MAX_ROOTS)])
    many = group_by_sources([f"d{i}" for i in range(MAX_ROOTS + 1)])
    assert few("d3/a/b/x.png") == "d3/a/" and many("d3/a/b/x.png") == "d3/a/b/"
    assert many("x.png") == "./" and group_by_sources([])("d/x.png") == "d/"
