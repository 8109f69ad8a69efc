"""costcalc.arrow.price_batch and inspection.columns: equal to the scalar path item by item, nothing raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from odd_images import odd_images

from costcalc import estimate
from costcalc.errors import CostcalcError, ImageRejectedError
from costcalc.inspection.headers import inspect

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from costcalc.arrow import PriceBatch, price_batch  # noqa: E402 - after the importorskip of pyarrow
from costcalc.inspection.columns import iter_column_heads, iter_sizes  # noqa: E402

MODELS = [
    "gpt-4o",
    "claude-sonnet-4-5",
    "qwen3-vl-plus",
    "gpt-4.1-mini",
    "pixtral-12b",
    "gemini-2.0-flash",
    "llama-4-scout",
    "nova-pro",
]


def scalar_size(model: str, width, height):
    """(status, tokens, usd, basis, rule) from costcalc.estimate((width, height))."""
    try:
        result = estimate((width, height), model=model)
    except ImageRejectedError as error:
        return ("rejected", None, None, None, error.rule)
    except CostcalcError:
        return ("unreadable", None, None, None, None)
    return ("priced", result.tokens, None if result.usd is None else float(result.usd), result.basis, None)


def scalar_image(model: str, data: bytes):
    """The same from costcalc.estimate(ImageInfo) of the image's header."""
    try:
        info = inspect(data)
    except ImageRejectedError as error:
        return ("rejected", None, None, None, error.rule)
    except CostcalcError:
        return ("unreadable", None, None, None, None)
    return scalar_size_info(model, info)


def scalar_size_info(model, info):
    try:
        result = estimate(info, model=model)
    except ImageRejectedError as error:
        return ("rejected", None, None, None, error.rule)
    except CostcalcError:
        return ("unreadable", None, None, None, None)
    return ("priced", result.tokens, None if result.usd is None else float(result.usd), result.basis, None)


def rows_of(out, model: str):
    columns = [out.column(f"{model}_{k}").to_pylist() for k in ("status", "tokens", "usd", "basis", "rule")]
    return list(zip(*columns))


SIZES = [
    (1024, 768),
    (8000, 100),
    (8001, 100),
    (100, 8001),
    (20000, 20000),
    (4000, 19),
    (4000, 20),
    (28, 28),
    (2, 500),
    (10000, 40),
    (1, 1),
    (7999, 7999),
    (3000, 14),
    (2**31 - 1, 2**31 - 1),
    (3000000, 5),
]


def test_laion_size_columns_equal_scalar(tmp_path):
    """LAION-style WIDTH/HEIGHT (floats, nulls, zeros): rejected sizes (Claude over 8000 px, Qwen past 200:1) masked."""
    widths = [float(w) for w, _ in SIZES] + [None, 0.0, 12.5, -3.0, float("nan")]
    heights = [float(h) for _, h in SIZES] + [100.0, 100.0, 100.0, 100.0, 100.0]
    path = tmp_path / "laion.parquet"
    pq.write_table(pa.table({"URL": [f"u{i}" for i in range(len(widths))], "WIDTH": widths, "HEIGHT": heights}), path)
    batches = list(iter_sizes(path, "WIDTH", "HEIGHT"))
    assert len(batches) == 1 and batches[0].valid.tolist() == [True] * len(SIZES) + [False] * 5
    out = price_batch(pq.read_table(path).to_batches()[0], models=MODELS, width_column="WIDTH", height_column="HEIGHT")
    assert out.num_columns == 3 + 5 * len(MODELS)
    for model in MODELS:
        got = rows_of(out, model)
        for i, (w, h) in enumerate(zip(widths, heights)):
            size = (int(w), int(h)) if i < len(SIZES) else (0, 100)
            assert got[i] == scalar_size(model, *size), (model, w, h)
    statuses = dict(zip(MODELS, (rows_of(out, m) for m in MODELS)))
    assert statuses["claude-sonnet-4-5"][2][0] == "rejected" and statuses["claude-sonnet-4-5"][1][0] == "priced"
    assert statuses["qwen3-vl-plus"][5][0] == "rejected"  # 4000×19: past Qwen's aspect bound


@settings(max_examples=60)
@given(
    st.lists(st.tuples(st.integers(1, 40000), st.integers(1, 40000)), min_size=1, max_size=40),
    st.sampled_from(MODELS),
    st.sampled_from(["standard", "batch"]),
)
def test_price_batch_equals_scalar_property(sizes, model, tier):
    batch = pa.RecordBatch.from_pydict({"w": [w for w, _ in sizes], "h": [h for _, h in sizes]})
    try:
        out = price_batch(batch, models=[model], width_column="w", height_column="h", tier=tier)
    except CostcalcError:  # the model lacks this tier: the scalar path says the same
        with pytest.raises(CostcalcError):
            estimate((1, 1), model=model, tier=tier)
        return
    for (w, h), row in zip(sizes, rows_of(out, model)):
        try:
            result = estimate((w, h), model=model, tier=tier)
            expected = ("priced", result.tokens, None if result.usd is None else float(result.usd), result.basis, None)
        except ImageRejectedError as error:
            expected = ("rejected", None, None, None, error.rule)
        assert row == expected


def test_datasets_image_feature_parquet(tmp_path, monkeypatch):
    """Parquet written by the datasets library's own Image feature: {bytes, path} structs, priced from the bytes."""
    datasets = pytest.importorskip("datasets")
    import tqdm

    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)  # no tqdm monitor thread left behind: later tests want one
    files = odd_images()
    names = list(files)
    path = tmp_path / "hf.parquet"
    ds = datasets.Dataset.from_dict({"image": [{"bytes": files[n], "path": n} for n in names], "name": names})
    ds.cast_column("image", datasets.Image()).to_parquet(str(path))
    table = pq.read_table(path)
    assert pa.types.is_struct(table.schema.field("image").type)
    heads = list(iter_column_heads(path, "image", batch_size=5))
    assert [h.path for h in heads] == [f"{path}#{i}" for i in range(len(names))]
    for head, name in zip(heads, names):
        try:
            expected = inspect(files[name])
        except CostcalcError as error:
            assert head.info is None and str(head.error) == f"{head.path}: {error}"
        else:
            assert head.info == expected, name
    models = ["gpt-4o", "claude-sonnet-4-5", "qwen3-vl-plus"]
    pricer = PriceBatch(models, column="image")
    for batch in table.to_batches(max_chunksize=4):
        out = pricer(batch)
        for model in models:
            for name, row in zip(batch.column("name").to_pylist(), rows_of(out, model)):
                assert row == scalar_image(model, files[name]), (model, name)


def test_binary_and_path_columns(tmp_path):
    files = {k: v for k, v in odd_images().items() if not k.startswith("c/")}
    for name, data in files.items():
        (tmp_path / name.replace("/", "_")).write_bytes(data)
    paths = [str(tmp_path / n.replace("/", "_")) for n in files] + [str(tmp_path / "missing.png")]
    batch = pa.RecordBatch.from_pydict({"img": list(files.values()) + [None], "path": paths})
    by_bytes = price_batch(batch, models=["gpt-4o"], column="img")
    by_path = price_batch(batch, models=["gpt-4o"], column="path")
    assert rows_of(by_bytes, "gpt-4o")[:-1] == rows_of(by_path, "gpt-4o")[:-1]
    assert rows_of(by_bytes, "gpt-4o")[-1][0] == rows_of(by_path, "gpt-4o")[-1][0] == "unreadable"


def test_bad_tables_are_one_line_errors(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": [1, 2], "s": ["a", "b"]}), path)
    with pytest.raises(CostcalcError, match="no column 'image'"):
        list(iter_column_heads(path, "image"))
    with pytest.raises(CostcalcError, match="image column of type int64"):
        list(iter_column_heads(path, "n"))
    with pytest.raises(CostcalcError, match="expected whole numbers"):
        list(iter_sizes(path, "s", "n"))
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(CostcalcError, match="cannot read the table"):
        list(iter_sizes(tmp_path / "junk.parquet", "a", "b"))
    with pytest.raises(ValueError):
        PriceBatch(["gpt-4o"])


def test_jsonl_and_arrow_shards(tmp_path):
    import json

    rows = [{"w": 100 * (i + 1), "h": 50} for i in range(10)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:5]) + "\n")
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows[5:]) + "\n")
    got = [int(w) for b in iter_sizes(str(tmp_path / "*.jsonl"), "w", "h") for w in b.widths]
    assert got == [r["w"] for r in rows]
    from pyarrow import feather

    feather.write_feather(pa.table({"w": [5, 6], "h": [7, 8]}), tmp_path / "x.arrow")
    assert [int(h) for b in iter_sizes(tmp_path / "x.arrow", "w", "h") for h in b.heights] == [7, 8]


def test_size_columns_use_the_pricing_side_limit():
    from costcalc.inspection import columns
    from costcalc.pricing.cost import MAX_SIDE

    assert columns.MAX_SIDE == MAX_SIDE
