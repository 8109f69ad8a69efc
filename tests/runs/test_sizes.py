"""runs.sizes: size columns audited column by column give, item by item, the rows and totals the scalar path gives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc import estimate
from costcalc.errors import CostcalcError, ImageRejectedError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from costcalc.runs.sizes import SizeAudit, numbered  # noqa: E402
from costcalc.runs.totals import Totals  # noqa: E402

MODELS = [
    "gpt-4o",
    "claude-opus-4-7",  # rejects sides over 8000 px
    "qwen3-vl-plus",  # no price: usd unknown; rejects past its aspect bound
    "gpt-6-sol",  # tokens unknown (unpublished multiplier)
    "nova-pro",  # approximate
    "gemini-2.0-flash",  # approximate, exact for small images (a basis per size)
    "deepseek-flash",  # a flat maximum
]
SIDE = st.one_of(
    st.integers(1, 40000),
    st.sampled_from([8000, 8001, 1, 2**31 - 1, 14, 28]),
    st.sampled_from([None, 0, -3]),
)


def expected(model: str, width, height, tier: str):
    """(status, tokens, usd, basis, rule) from costcalc.estimate((width, height)); unreadable for an unusable side."""
    if not all(isinstance(side, int) and 1 <= side <= 2**31 - 1 for side in (width, height)):
        return ("unreadable", None, None, None, None)
    try:
        result = estimate((width, height), model=model, tier=tier)
    except ImageRejectedError as error:
        return ("rejected", None, None, None, error.rule)
    return ("priced", result.tokens, result.usd, result.basis, None)


def _table(tmp_path, sizes, name="sizes.parquet"):
    path = tmp_path / name
    kind = pa.int64()
    pq.write_table(
        pa.table(
            {
                "W": pa.array([w for w, _ in sizes], kind),
                "H": pa.array([h for _, h in sizes], kind),
                "n": range(len(sizes)),
            }
        ),
        path,
    )
    return str(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(SIDE, SIDE), min_size=1, max_size=30),
    st.lists(st.sampled_from(MODELS), min_size=1, max_size=3, unique=True),
    st.sampled_from(["standard", "batch"]),
    st.integers(1, 9),
)
def test_columns_rows_and_totals_equal_the_scalar_path(tmp_path_factory, sizes, models, tier, batch_rows):
    tmp_path = tmp_path_factory.mktemp("sizes")
    path = _table(tmp_path, sizes)
    try:
        audit = SizeAudit(models, width_column="W", height_column="H", tier=tier, batch_rows=batch_rows)
    except CostcalcError:  # a model without this tier: the scalar path says the same
        with pytest.raises(CostcalcError):
            for model in models:
                estimate((1, 1), model=model, tier=tier)
        return
    seen = []
    for part in audit.parts(path):
        rows = list(audit.rows(part))
        assert audit.table(part).to_pylist() == [row.as_dict() for row in rows]  # the Arrow rows are those rows
        one_by_one = Totals(models)
        for row in rows:
            one_by_one.add(row)
        columnar = audit.totals(part)
        for model in models:
            assert columnar.by_model[model] == one_by_one.by_model[model], model  # exact USD: Decimal equality
        seen += rows
    assert len(seen) == len(sizes) * len(models)
    for index, (w, h) in enumerate(sizes):
        for model, row in zip(models, seen[index * len(models) : (index + 1) * len(models)]):
            assert row.path == f"{path}#{index}" and row.model == model
            assert (row.status, row.tokens, row.usd, row.basis, row.rule) == expected(model, w, h, tier), (w, h)
            assert (row.width, row.height) == tuple(v if isinstance(v, int) and v >= 1 else None for v in (w, h))
            assert (row.error is None) == (row.status == "priced")


def test_percentiles_and_groups_by_table_file(tmp_path):
    """Nearest rank over the priced images: gpt-4o bills 1024² and 2048² (scaled to 768²) 4 tiles, 765 tokens;
    512² and 100² one tile, 255 (docs/openai.md): 94 images of 255 then 6 of 765."""
    a = _table(tmp_path, [(1024, 1024)] * 5 + [(512, 512)] * 4 + [(None, 5)], "a.parquet")
    b = _table(tmp_path, [(100, 100)] * 90 + [(2048, 2048)], "b.parquet")
    audit = SizeAudit(["gpt-4o", "claude-opus-4-7"], width_column="W", height_column="H", batch_rows=7)
    from costcalc.runs.summary import Summary

    summary = Summary(["gpt-4o", "claude-opus-4-7"])
    for path in (a, b):
        for part in audit.parts(path):
            summary.merge(audit.totals(part))
    p = summary.percentiles()["gpt-4o"]
    assert p == {"images": 100, "p50": 255, "p90": 255, "p99": 765, "max": 765}
    assert set(summary.groups) == {a, b}
    assert summary.groups[a].by_model["gpt-4o"].files == 10 and summary.groups[a].by_model["gpt-4o"].unreadable == 1
    assert summary.groups[b].by_model["gpt-4o"].tokens == 90 * 255 + 765
    document = summary.as_dict()
    assert set(document) == {"tokens_per_image", "by_prefix"} and document["by_prefix"][b]["gpt-4o"]["priced"] == 91


def test_resume_leaves_out_the_rows_written(tmp_path):
    path = _table(tmp_path, [(100 + i, 100) for i in range(20)])
    audit = SizeAudit(["gpt-4o"], width_column="W", height_column="H", batch_rows=8)
    done = {f"{path}#{i}" for i in range(11)} | {f"{path}#19"}  # batches 0-7, 8-15 (row by row), 16-19 (too)
    parts = list(audit.parts(path, skip=done.__contains__))
    names = [row.path for part in parts for row in audit.rows(part)]
    assert names == [f"{path}#{i}" for i in range(11, 19)]
    assert [(part.start, part.size) for part in parts] == [(11, 5), (16, 3)]


def test_string_columns_from_buffers():
    assert numbered("t.parquet#", 98, 4).to_pylist() == [
        "t.parquet#98",
        "t.parquet#99",
        "t.parquet#100",
        "t.parquet#101",
    ]
    assert numbered("é#", 0, 0).to_pylist() == [] and numbered("é#", 7, 1).to_pylist() == ["é#7"]
    for start, count in [(0, 10_123), (9_990, 30), (99_995, 20_010), (999_999_990, 25), (1_234_567, 45_678)]:
        # across 10-, 10,000- and width boundaries: each block of digits (tiled, repeated) in its place
        assert numbered("s#", start, count).to_pylist() == ["s#" + str(i) for i in range(start, start + count)]


def test_written_columns_keep_the_types_readers_see(tmp_path):
    """--parquet hands its writer dictionary arrays for the few-valued strings; the file holds the audit schema's
    types (no Arrow schema of its own), the values of the rows, and the whole file compares equal to one written
    from the same rows as plain strings."""
    from costcalc.output.parquet_rows import ParquetRows
    from costcalc.runs.rowschema import audit_schema

    path = _table(tmp_path, [(1024, 1024), (9000, 100), (None, 5), (512, 512)])
    audit = SizeAudit(["gpt-4o", "claude-opus-4-7"], width_column="W", height_column="H")
    (part,) = list(audit.parts(path))
    table = audit.table(part)
    assert pa.types.is_dictionary(table.schema.field("model").type)
    with ParquetRows(tmp_path / "columnar.parquet") as writer:
        writer.write_table(table)
    with ParquetRows(tmp_path / "rows.parquet") as writer:
        writer.write(audit.rows(part))
    columnar, rows = pq.read_table(tmp_path / "columnar.parquet"), pq.read_table(tmp_path / "rows.parquet")
    assert columnar.schema.equals(audit_schema()) and rows.schema.equals(audit_schema())
    assert columnar.to_pylist() == rows.to_pylist() == [row.as_dict() for row in audit.rows(part)]
    assert columnar.column("model").to_pylist() == ["gpt-4o", "claude-opus-4-7"] * 4
    assert b"ARROW:schema" not in (pq.ParquetFile(tmp_path / "columnar.parquet").metadata.metadata or {})


def test_wrong_column_type_is_one_line(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"W": ["a"], "H": [1]}), path)
    audit = SizeAudit(["gpt-4o"], width_column="W", height_column="H")
    with pytest.raises(CostcalcError, match=r"t\.parquet: width column 'W' is of type string: expected whole numbers"):
        list(audit.parts(str(path)))
    with pytest.raises(CostcalcError, match="no column 'X'"):
        list(SizeAudit(["gpt-4o"], width_column="X", height_column="H").parts(str(path)))


def test_command_parquet_nl_and_json_agree(tmp_path):
    """--parquet (written as Arrow tables) holds the --nl rows; --json's summary has the totals, tokens per image
    and the totals per table file; the text summary shows the percentiles."""
    import json

    from click.testing import CliRunner

    from costcalc.cli import cli

    a = _table(tmp_path, [(1024, 1024), (9000, 100), (None, 5)], "a.parquet")
    b = _table(tmp_path, [(512, 512)] * 3, "b.parquet")
    args = ["audit", a, b, "--width-column", "W", "--height-column", "H", "-m", "gpt-4o", "-m", "claude-opus-4-7"]
    out = tmp_path / "rows.parquet"
    nl = CliRunner().invoke(cli, [*args, "--nl", "--parquet", str(out)])
    assert nl.exit_code == 1, nl.output  # a rejected and an unreadable row
    lines = [json.loads(line) for line in nl.stdout.splitlines() if line.startswith("{")]
    assert pq.read_table(out).to_pylist() == lines and len(lines) == 12
    document = json.loads(CliRunner().invoke(cli, [*args, "--json"]).stdout)
    assert document["totals"]["gpt-4o"]["tokens"] == 765 + 765 + 3 * 255  # 9000×100 fits 2048×22: 4 tiles
    assert document["tokens_per_image"]["gpt-4o"] == {"images": 5, "p50": 255, "p90": 765, "p99": 765, "max": 765}
    assert document["tokens_per_image"]["claude-opus-4-7"]["images"] == 4  # 9000 px: rejected
    assert document["by_prefix"][a]["claude-opus-4-7"]["rejected_by_rule"] == {"max_side": 1}
    assert document["by_prefix"][b]["gpt-4o"]["priced"] == 3
    text = CliRunner().invoke(cli, [*args, "--summary"]).stdout
    assert "tokens per image" in text and "by prefix" in text and b in text
