"""Ray: PriceBatch in map_batches and audit_with_ray, the same rows as one process, on a real local cluster (2 CPUs).

Here, not beside the other tests of their modules: Ray leaves threads in the test process, and tests that
run earlier check how costcalc starts workers from a single-threaded process.
"""

from __future__ import annotations

import pytest
from odd_images import odd_images  # noqa: E402

ray = pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")

from costcalc.arrow import PriceBatch, price_batch  # noqa: E402


def test_ray_audit_equals_one_process(tmp_path):
    from costcalc.ray_engine import audit_with_ray, rows_table
    from costcalc.runs.remote import audit_heads, heads_for

    for name, data in odd_images().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    models = ["gpt-4o", "claude-sonnet-4-5"]
    expected = rows_table(audit_heads(heads_for(str(tmp_path)), models=models))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        batches = list(audit_with_ray([str(tmp_path), str(tmp_path / "missing")], models=models, keys_per_block=5))
    finally:
        ray.shutdown()
    got = pa.Table.from_batches(batches)
    assert got.slice(0, expected.num_rows).to_pylist() == expected.to_pylist()  # row for row, in order
    tail = got.slice(expected.num_rows).to_pylist()
    assert [row["status"] for row in tail] == ["unreadable", "unreadable"] and "missing" in tail[0]["error"]


def test_ray_map_batches_equals_one_process():
    sizes = [(w, h) for w in (50, 900, 8200, 30000) for h in (14, 700, 5000)]
    table = pa.table({"w": [w for w, _ in sizes], "h": [h for _, h in sizes]})
    expected = price_batch(table, models=["gpt-4o", "claude-sonnet-4-5"], width_column="w", height_column="h")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        ds = (
            ray.data.from_arrow(table)
            .repartition(3)
            .map_batches(
                PriceBatch,
                fn_constructor_kwargs={
                    "models": ["gpt-4o", "claude-sonnet-4-5"],
                    "width_column": "w",
                    "height_column": "h",
                },
                batch_format="pyarrow",
                concurrency=1,
            )
        )
        got = pa.concat_tables(ray.get(ds.to_arrow_refs()))
    finally:
        ray.shutdown()

    def key(row):
        return row["w"], row["h"]

    assert sorted(got.to_pylist(), key=key) == sorted(expected.to_pylist(), key=key)


def test_listing_reaches_ray_a_block_at_a_time(monkeypatch):
    """The datasource's read task yields a source's keys block by block as they are listed: taking the first
    block lists only that block's keys (a listing of 10 M keys is never held whole)."""
    from costcalc.inspection import remote
    from costcalc.inspection.remote import RemoteObject
    from costcalc.ray_engine import _listing

    listed = []

    def listing(source, storage_options=None):
        for i in range(1000):
            listed.append(i)
            yield RemoteObject(f"{source}k{i:04d}.jpg", 10)

    monkeypatch.setattr(remote, "list_objects", listing)
    tasks = _listing(["s3://a/", "s3://b/"], 10, None).get_read_tasks(4)
    assert len(tasks) == 2
    blocks = iter(tasks[1]())
    first = next(blocks)
    assert first.column("url").to_pylist() == [f"s3://b/k{i:04d}.jpg" for i in range(10)]
    assert len(listed) <= 11
