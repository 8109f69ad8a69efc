"""WebDataset shards: every image member of `.tar` shards, local or remote, each shard streamed once.

A WebDataset shard is a plain POSIX tar whose members are grouped by key
(https://github.com/webdataset/webdataset#the-webdataset-format): `0001.jpg`,
`0001.json`, ... Each shard is opened once through fsspec (a local path or any URL) and
read front to back with `tarfile` in stream mode (`r|*`, so `.tar.gz` works too); the
header of each image member is parsed from the bytes as they pass (only its first
HEAD_BYTES are kept, more only when the parser asks), and the rest of the member is
skipped by the stream. An item is named `shard.tar/member.jpg`.

A shard cut short or corrupt gives one error item (for the rest of that shard, naming
where it stopped) after the members read whole, and the next shard is read.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import CostcalcError, ImageReadError
from .headers import HEAD_BYTES, inspect_reader
from .remote import list_objects
from .stores import RemoteHead, is_remote, redact, store_reason

__all__ = ["IMAGE_SUFFIXES", "iter_shard_heads"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".avif")
"""Members priced: the image extensions WebDataset's decoders know (its `imagehandler`), lower-cased."""


def _open(url: str, storage_options: dict[str, Any] | None):
    if is_remote(url):
        try:
            import fsspec
        except ImportError:
            raise ImageReadError(
                f"{redact(url)}: reading remote shards needs fsspec: pip install 'costcalc[s3]'"
            ) from None
        return fsspec.open(url, "rb", **(storage_options or {})).open()
    path = url.removeprefix("file://")
    return open(path, "rb")


def _shards(sources: str | Iterable[str], storage_options) -> Iterator[str | RemoteHead]:
    """The shard URLs that sources name (globs and prefixes listed), in order; a listing error is an item."""
    for source in [sources] if isinstance(sources, (str, os.PathLike)) else sources:
        source = os.fspath(source)
        if not is_remote(source) and os.path.isfile(source.removeprefix("file://")):
            yield source
            continue
        try:
            for obj in list_objects(source, storage_options=storage_options):
                if obj.url.lower().endswith((".tar", ".tar.gz", ".tgz")):
                    yield obj.url
        except CostcalcError as error:
            yield RemoteHead(redact(source), None, error)


def iter_shard_heads(
    sources: str | Iterable[str],
    *,
    storage_options: dict[str, Any] | None = None,
    suffixes: tuple[str, ...] = IMAGE_SUFFIXES,
) -> Iterator[RemoteHead]:
    """The header facts of every image member of every shard the sources name, in tar order, one pass a shard."""
    for shard in _shards(sources, storage_options):
        if isinstance(shard, RemoteHead):
            yield shard
            continue
        yield from _one_shard(shard, storage_options, suffixes)


def _one_shard(url: str, storage_options, suffixes) -> Iterator[RemoteHead]:
    shown = redact(url)
    last = None
    try:
        handle = _open(url, storage_options)
    except CostcalcError as error:
        yield RemoteHead(shown, None, error)
        return
    except Exception as error:  # noqa: BLE001 - the store's own error, as this shard's item
        yield RemoteHead(shown, None, ImageReadError(f"{shown}: cannot open: {store_reason(error)}"))
        return
    try:
        with handle, tarfile.open(fileobj=handle, mode="r|*") as tar:
            for member in tar:
                last = member.name
                if not member.isfile() or not member.name.lower().endswith(suffixes):
                    continue
                name = f"{shown}/{member.name}"
                stream = tar.extractfile(member)
                yield _member_head(stream, member.size, name)
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        where = f"after member {last}" if last else "before its first member"
        yield RemoteHead(
            shown,
            None,
            ImageReadError(
                f"{shown}: shard cut short or corrupt {where}; the rest of it is not read ({_reason(error)})"
            ),
        )


def _member_head(stream, size: int, name: str) -> RemoteHead:
    """One member's header, read forward from the tar stream: bytes kept only up to what the parser reads."""
    buffer = bytearray(stream.read(min(size, HEAD_BYTES)))
    if len(buffer) < min(size, HEAD_BYTES):
        raise EOFError(f"{name} ends early")

    def fetch(offset: int, count: int) -> bytes:
        want = min(offset + count, size)
        while len(buffer) < want:
            chunk = stream.read(want - len(buffer))
            if not chunk:
                raise EOFError(f"{name} ends early")
            buffer.extend(chunk)
        return bytes(buffer[offset : offset + count])

    try:
        info = inspect_reader(bytes(buffer), fetch, size, name=name)
    except CostcalcError as error:
        return RemoteHead(name, None, error, len(buffer), 0)
    return RemoteHead(name, info, None, len(buffer), 0)


def _reason(error: BaseException) -> str:
    return redact(" ".join(str(error).split())[:200] or type(error).__name__)
