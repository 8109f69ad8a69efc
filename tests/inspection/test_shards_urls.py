"""WebDataset shards (inspection.shards) and URL lists (inspection.urllist), local servers only."""

from __future__ import annotations

import io
import tarfile

import pytest
from odd_images import encode, odd_images
from range_server import RangeServer

from costcalc.errors import CostcalcError
from costcalc.inspection.headers import inspect
from costcalc.inspection.shards import IMAGE_SUFFIXES, iter_shard_heads
from costcalc.inspection.urllist import iter_url_heads, read_urls


def _verdict(data: bytes):
    try:
        return inspect(data), None
    except CostcalcError as error:
        return None, str(error)


def _tar(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_webdataset_shards_and_a_truncated_one(tmp_path):
    files = odd_images()
    members = {}
    for i, (name, data) in enumerate(files.items()):
        key = f"{i:06}"
        members[f"{key}.{name.rsplit('.', 1)[1]}"] = data
        members[f"{key}.json"] = b'{"caption": "x"}'
    whole = _tar(members)
    (tmp_path / "shard-000.tar").write_bytes(whole)
    (tmp_path / "shard-001.tar").write_bytes(whole[: len(whole) // 2])
    heads = list(iter_shard_heads(str(tmp_path / "*.tar")))
    images = [n for n in members if n.endswith(IMAGE_SUFFIXES)]
    first = heads[: len(images)]
    assert [h.path for h in first] == [f"{tmp_path}/shard-000.tar/{n}" for n in images]
    for head, name in zip(first, images):
        info, error = _verdict(members[name])
        if info is not None:
            assert head.info == info, name
        else:
            assert head.info is None and str(head.error).endswith(error), name
    rest = heads[len(images) :]
    assert rest[-1].path == f"{tmp_path}/shard-001.tar" and "cut short" in str(rest[-1].error)
    assert all(h.path.startswith(f"{tmp_path}/shard-001.tar/") for h in rest[:-1]) and len(rest) > 1
    (missing,) = iter_shard_heads(str(tmp_path / "nope.tar"))
    assert missing.info is None and "no such" in str(missing.error)


def test_remote_shard_over_http():
    pytest.importorskip("fsspec")
    png = encode(__import__("PIL.Image").Image.new("RGB", (33, 44)), "PNG")
    with RangeServer({"s.tar": _tar({"a.png": png, "a.txt": b"hi"})}) as server:
        (head,) = iter_shard_heads(f"{server.url}/s.tar")
        assert head.path.endswith("s.tar/a.png") and (head.info.width, head.info.height) == (33, 44)


def test_url_list_with_garbage_lines(tmp_path):
    png = encode(__import__("PIL.Image").Image.new("RGB", (12, 34)), "PNG")
    with RangeServer({"a.png": png, "b.txt": b"text"}, forbidden=frozenset({"f.png"})) as server:
        lines = [
            f"{server.url}/a.png",
            "",
            "# a comment",
            "not a url at all",
            "ftp://example.com/x.png",
            f"{server.url}/b.txt",
            f"{server.url}/missing.png",
            f"{server.url}/f.png",
            "http://[::1",
            f"{server.url}/a.png",
        ]
        listing = tmp_path / "urls.txt"
        listing.write_text("\n".join(lines) + "\n")
        heads = list(iter_url_heads(listing, allow_private=True, concurrency=4, per_host=2))
        assert len(heads) == 8
        assert heads[0].info.height == 34 and heads[-1].info.height == 34
        assert all(h.info is None for h in heads[1:-1])
        assert "404" in str(heads[4].error) and "403" in str(heads[5].error)
        refused = list(iter_url_heads(urls=[f"{server.url}/a.png"]))
        assert "loopback" in str(refused[0].error)
        (tmp_path / "u.csv").write_text(f"id,url\n1,{server.url}/a.png\n2,\n")
        assert [u for _, u in read_urls(tmp_path / "u.csv", url_column="url")] == [f"{server.url}/a.png", ""]
        with pytest.raises(CostcalcError, match="no column 'link'"):
            list(read_urls(tmp_path / "u.csv", url_column="link"))
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"URL": [f"{server.url}/a.png", None]}), tmp_path / "u.parquet")
        heads = list(iter_url_heads(tmp_path / "u.parquet", url_column="URL", allow_private=True))
        assert heads[0].info.width == 12 and heads[1].info is None
