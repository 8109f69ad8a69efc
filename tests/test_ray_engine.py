"""--engine ray's library side: the same audit rows as one process, on a real local Ray cluster (2 CPUs)."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from odd_images import odd_images

ray = pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")


def test_ray_audit_equals_one_process(tmp_path):
    from costcalc.ray_engine import audit_with_ray, rows_table
    from costcalc.remote_audit import audit_heads, heads_for

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
