"""Image sources inside a request payload: data URLs, bare base64, local paths (SPEC §3).

A data URL is decoded only where the header parser reads: each read of bytes
[offset, offset + count) decodes just the base64 groups that cover it, so a
photo of several MB costs a few KiB of decoding, never the whole image.
"""

from __future__ import annotations

import binascii
import os
import re
from base64 import b64decode
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import unquote_to_bytes, urlsplit

from ..errors import ImageReadError, InvalidImageError, PathNotAllowedError
from ..files import inside
from .headers import HEAD_BYTES, ImageInfo, inspect_path, inspect_reader

__all__ = ["ACCEPTED_TYPES", "ALLOWED_ROOTS", "confined", "inspect_base64", "inspect_data_url", "inspect_local"]

ALLOWED_ROOTS: ContextVar[tuple[str, ...] | None] = ContextVar("costcalc_allowed_roots", default=None)
"""The folders (real paths) local paths in a payload may be read from, in this context; None: anywhere."""


@contextmanager
def confined(roots: tuple[str, ...] | None):
    """Meanwhile, `inspect_local` reads only inside `roots` (links resolved): anything else is PathNotAllowedError,
    the same whether it exists or not (an agent's payload is not the user's, issue 15)."""
    token = ALLOWED_ROOTS.set(None if roots is None else tuple(roots))
    try:
        yield
    finally:
        ALLOWED_ROOTS.reset(token)

ACCEPTED_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jpg": "JPEG", "image/webp": "WEBP",
                  "image/gif": "GIF"}  # fmt: skip
"""Media types a data URL may declare."""

_SPACE = re.compile(rb"\s+")


def inspect_data_url(url: str, where: str) -> ImageInfo:
    """The header facts of a `data:<type>;base64,...` URL, decoding only the header's bytes."""
    comma = url.find(",", 0, 512)
    if comma < 0:
        raise InvalidImageError(f"{where}: not a data URL: no ',' after its media type")
    meta = url[5:comma].strip().lower()
    media, _, rest = meta.partition(";")
    if "base64" not in rest.split(";"):
        raise InvalidImageError(f"{where}: data URL is not base64 (';base64' missing)")
    if media not in ACCEPTED_TYPES:
        allowed = ", ".join(sorted(set(ACCEPTED_TYPES) - {"image/jpg"}))
        raise InvalidImageError(f"{where}: data URL of type {media or 'none'}: the API accepts {allowed}")
    return inspect_base64(url, where, start=comma + 1)


def inspect_base64(text: str, where: str, start: int = 0) -> ImageInfo:
    """The header facts of base64 image data in `text[start:]`, decoding only what the header needs."""
    end = len(text)
    padding = (text[end - 2 : end].count("=") if end - start >= 2 else 0)
    size = max((end - start) * 3 // 4 - padding, 0)

    def fetch(offset: int, count: int) -> bytes:
        first = start + offset // 3 * 4
        last = min(end, start + (offset + count + 2) // 3 * 4)
        chunk = text[first:last]
        if not chunk.isascii():  # b64decode would raise a plain ValueError
            raise binascii.Error("a character that is not base64")
        return b64decode(chunk, validate=True)[offset % 3 : offset % 3 + count]

    try:
        head = fetch(0, HEAD_BYTES)
        return inspect_reader(head, fetch, size, name=where)
    except binascii.Error as error:
        squeezed = _SPACE.sub(b"", text[start:].encode("ascii", "replace"))
        if len(squeezed) != end - start:  # line breaks in the base64: read it again without them
            return inspect_base64(squeezed.decode("ascii"), where)
        raise InvalidImageError(f"{where}: not valid base64 ({error})") from None


def inspect_local(url: str, where: str, base: str | os.PathLike | None = None) -> ImageInfo:
    """The header facts of a local file: a path (relative to `base`) or a file:// URL."""
    if url.startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ImageReadError(f"{where}: file URL on another host ({parts.netloc})")
        # percent-escapes are bytes (RFC 8089, RFC 3986 §2.1): file:///caf%E9.png is the Latin-1 name,
        # decoded as the system decodes file names (undecodable bytes kept as surrogates, PEP 383)
        path = os.fsdecode(unquote_to_bytes(parts.path))
    else:
        path = url
    if "\0" in path:
        raise ImageReadError(f"{where}: a path with a NUL character, which no file can have")
    try:
        os.fsencode(path)
    except UnicodeEncodeError:
        raise ImageReadError(f"{where}: a path that cannot be a file name on this system") from None
    if base is not None and not os.path.isabs(path):
        path = os.path.join(base, path)
    roots = ALLOWED_ROOTS.get()
    if roots is not None:
        found = inside(path, roots)
        if found is None:
            raise PathNotAllowedError(f"{where}: outside the allowed roots")
        path = found[0]
    return inspect_path(path, name=where)
