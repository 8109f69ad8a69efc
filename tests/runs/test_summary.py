"""runs.summary: how items are grouped per prefix or shard, and the percentiles of tokens per image."""

from __future__ import annotations

from costcalc.runs.audit import AuditRow
from costcalc.runs.summary import MAX_GROUPS, OTHER, Summary, group_by_source, group_by_sources


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
