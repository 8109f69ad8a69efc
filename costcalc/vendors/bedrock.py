"""Amazon Bedrock Converse (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).

Blocks without a `type`, in `messages[].content[]` and `system`:
- `{"image": {"format", "source": {"bytes" | "s3Location"}}}` (ImageBlock), also inside `toolResult`
  and `guardContent`; bytes are base64 in JSON, raw from boto3;
- `{"document": {"format": "pdf", ...}}` (DocumentBlock): a PDF, unpriced until a page rule is on file.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import RequestError
from ..words import show_value
from .base import ImageRef, Path, Shape, Walk, need_text, where_of

FORMATS = ("png", "jpeg", "gif", "webp")
"""ImageBlock formats (AWS Bedrock API reference, ImageBlock)."""

NO_IMAGE = frozenset(
    {
        "text",
        "document",
        "video",
        "audio",
        "toolUse",
        "cachePoint",
        "reasoningContent",
        "citationsContent",
        "searchResult",
    }
)
"""Keys of untyped blocks that carry no image (DashScope native's `text` too); a PDF document is read above."""


def image_ref(image: dict, path: Path, image_path: Path) -> ImageRef:
    """An ImageBlock at `image_path`, reported at its block's `path`."""
    where = where_of(image_path)
    fmt = image.get("format")
    error = None
    if fmt not in FORMATS:
        error = f"{where}.format must be one of {', '.join(FORMATS)}, not {show_value(fmt)}"
    source = image.get("source")
    if not isinstance(source, dict):
        return ImageRef(path, "bytes", "", error=error or f"{where}.source must be an object, not {show_value(source)}")
    if "bytes" in source:
        data = source["bytes"]
        if isinstance(data, (bytes, bytearray, memoryview)) and len(data):
            return ImageRef(path, "bytes", bytes(data), error=error)
        return ImageRef(
            path,
            "base64",
            data,
            error=error or need_text(data, f"{where}.source.bytes"),
            data_path=(*image_path, "source", "bytes"),
        )
    location = source.get("s3Location")
    if isinstance(location, dict):
        uri = location.get("uri")
        return ImageRef(path, "s3", uri, error=error or need_text(uri, f"{where}.source.s3Location.uri"))
    return ImageRef(path, "bytes", "", error=error or f"{where}.source needs bytes or s3Location")


def _image(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    yield image_ref(part["image"], path, (*path, "image"))


def _tool_result(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    if inside is not None:
        raise RequestError(f"{where_of(path)}: a toolResult inside a tool result")
    result = part["toolResult"]
    if not isinstance(result, dict):
        raise RequestError(f"{where_of(path)}.toolResult must be an object, not {show_value(result)}")
    yield from walk.content(result.get("content"), (*path, "toolResult", "content"), result)


def _guard(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    guard = part["guardContent"]
    if isinstance(guard, dict) and isinstance(guard.get("image"), dict):
        yield image_ref(guard["image"], path, (*path, "guardContent", "image"))


def _document(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """A PDF DocumentBlock: unpriced; its bytes read for the page count when they are inline."""
    source = part["document"].get("source")
    data = source.get("bytes") if isinstance(source, dict) else None
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield ImageRef(path, "bytes", bytes(data), kind="pdf")
    elif isinstance(data, str):
        yield ImageRef(path, "base64", data, kind="pdf")
    else:
        yield ImageRef(path, "s3", "", kind="pdf")


def _is_pdf(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("format"), str) and value["format"].lower() == "pdf"


SHAPE = Shape(
    name="bedrock",
    untyped=(
        ("image", lambda value: isinstance(value, dict), _image),
        ("toolResult", lambda value: True, _tool_result),
        ("guardContent", lambda value: True, _guard),
        ("document", _is_pdf, _document),
    ),
    untyped_no_image=NO_IMAGE,
)
