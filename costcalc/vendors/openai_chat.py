"""OpenAI Chat Completions parts (also Mistral, Qwen's compatible mode and xAI, which take the same shape).

- `{"type": "image_url", "image_url": {"url", "detail"}}` (Mistral: `image_url` a plain URL string; Qwen:
  `max_pixels` / `min_pixels` beside it): https://platform.openai.com/docs/api-reference/chat/create,
  https://docs.mistral.ai/capabilities/vision/, https://www.alibabacloud.com/help/en/model-studio/vision;
- `{"type": "file", "file": {"file_data" | "file_id", "filename"}}` and Mistral's `document_url`: PDFs,
  which OpenAI bills as the text and an image of each page (https://platform.openai.com/docs/guides/pdf-files):
  unpriced until a page rule is on file;
- the answer's `usage.prompt_tokens` (`prompt_tokens_details`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import RequestError
from ..words import show_value
from .base import (
    Bill,
    ImageRef,
    Path,
    Shape,
    Walk,
    data_url_parts,
    details_bill,
    need_text,
    pixels,
    token_count,
    where_of,
)

NO_IMAGE = frozenset({"text", "refusal", "input_audio", "audio"})
"""Chat Completions content parts that carry no image."""


def _image(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """`image_url`: a data URL, an http(s) URL, a path."""
    where = where_of(path)
    image = part.get("image_url")
    raw, at = part.get("detail"), f"{where}.detail"
    if isinstance(image, dict):
        url, url_path = image.get("url"), (*path, "image_url", "url")
        if image.get("detail") is not None:
            raw, at = image["detail"], f"{where}.image_url.detail"
    else:
        url, url_path, image = image, (*path, "image_url"), {}
    detail, detail_where, error = walk.detail_of(raw, at)
    found, pixels_error = pixels(part, image, path)
    yield ImageRef(
        path,
        "url",
        url,
        detail,
        detail_where,
        **found,
        data_path=url_path,
        error=error or pixels_error or need_text(url, where_of(url_path)),
    )


def file_ref(path: Path, data, data_path: Path, file_id, kind: str = "file") -> ImageRef:
    """An unpriced PDF or file part: its inline data (a data URL or base64) when it has some, else its file id."""
    where = where_of(path)
    if isinstance(data, str) and data:
        parts = data_url_parts(data)
        pdf = parts is None or parts[0] == "application/pdf"
        return ImageRef(path, "url" if parts else "base64", data, kind="pdf" if pdf else kind, data_path=data_path)
    if isinstance(file_id, str) and file_id:
        return ImageRef(path, "file_id", file_id, kind=kind)
    return ImageRef(path, "url", "", kind=kind, error=f"{where}: a file part with no file data or file id")


def _file(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """`{"type": "file", "file": {"file_data" | "file_id"}}`: unpriced (see the module docstring)."""
    file = part.get("file")
    if not isinstance(file, dict):
        raise RequestError(f"{where_of((*path, 'file'))} must be an object, not {show_value(file)}")
    yield file_ref(path, file.get("file_data"), (*path, "file", "file_data"), file.get("file_id"))


def _document_url(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """Mistral's `{"type": "document_url", "document_url": "..."}`: a PDF by URL, unpriced."""
    yield ImageRef(path, "url", part.get("document_url") or "", kind="pdf")


def bill(response: dict) -> Bill | None:
    """`usage.prompt_tokens`, with `prompt_tokens_details` (image_tokens / text_tokens / audio_tokens if given)."""
    usage = response.get("usage")
    if not isinstance(usage, dict) or "prompt_tokens" not in usage:
        return None
    return details_bill(usage, "chat", token_count(usage, "prompt_tokens", "usage"), "prompt_tokens_details")


SHAPE = Shape(
    name="openai_chat",
    typed={"image_url": _image, "file": _file, "document_url": _document_url},
    no_image=NO_IMAGE,
    bill=bill,
    sdk_routes={"openai": ("/chat/completions",)},
)
