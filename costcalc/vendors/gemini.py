"""Gemini generateContent (https://ai.google.dev/api/generate-content), read by its `contents` key.

- `contents[].parts[]` and `systemInstruction.parts[]` (snake_case spellings too): `inline_data
  {mime_type, data}` and `file_data {mime_type, file_uri}` images; a `functionResponse`'s own parts;
- `media_resolution` per part, or `generationConfig.mediaResolution` for all (ULTRA_HIGH per part only;
  https://ai.google.dev/gemini-api/docs/media-resolution, python-genai types.MediaResolution);
- `application/pdf` parts, billed as page images plus text (https://ai.google.dev/gemini-api/docs/document-processing):
  unpriced until a page rule is on file; audio and video parts are not images and are passed over;
- the answer's `usageMetadata.promptTokenCount` with `promptTokensDetails` by modality;
- the free token-counting endpoint `POST /v1beta/models/{model}:countTokens`
  (https://ai.google.dev/api/tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ..errors import RequestError
from ..words import show_value
from .base import (
    Bill,
    CountEndpoint,
    ImageRef,
    Path,
    Shape,
    Unbilled,
    Walk,
    first_key,
    items_of,
    need_text,
    token_count,
    where_of,
)

MEDIA_RESOLUTION = {
    "MEDIA_RESOLUTION_LOW": "low",
    "MEDIA_RESOLUTION_MEDIUM": "medium",
    "MEDIA_RESOLUTION_HIGH": "high",
    "MEDIA_RESOLUTION_ULTRA_HIGH": "ultra_high",
    "MEDIA_RESOLUTION_UNSPECIFIED": "auto",
}
"""Gemini's media_resolution values as costcalc detail words."""
LEVELS = {word: name for name, word in MEDIA_RESOLUTION.items() if word != "auto"}
"""A detail word → the media resolution sent for it."""


def media_resolution(value, where: str) -> tuple[str, str | None]:
    """A Gemini MEDIA_RESOLUTION_* value as a detail word, or an error naming `where`."""
    if isinstance(value, str) and value.strip().upper() in MEDIA_RESOLUTION:
        return MEDIA_RESOLUTION[value.strip().upper()], None
    return "auto", f"{where} must be one of {', '.join(MEDIA_RESOLUTION)}, not {show_value(value)}"


def default_detail(document: dict) -> tuple[str, str]:
    """`generationConfig.mediaResolution`, for every part that names none."""
    config_key = first_key(document, "generationConfig", "generation_config")
    if config_key is None or document[config_key] is None:
        return "auto", ""
    config = document[config_key]
    if not isinstance(config, dict):
        raise RequestError(f"{config_key} must be an object, not {show_value(config)}")
    key = first_key(config, "mediaResolution", "media_resolution")
    if key is None or config[key] is None:
        return "auto", ""
    where = f"{config_key}.{key}"
    detail, error = media_resolution(config[key], where)
    if error:
        raise RequestError(error)
    if detail == "ultra_high":
        raise RequestError(f"{where}: MEDIA_RESOLUTION_ULTRA_HIGH can be set per part only, not for the request")
    return detail, where


def _root(walk: Walk, document: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    key = first_key(document, "systemInstruction", "system_instruction")
    if key is not None and document[key] is not None and not isinstance(document[key], str):
        yield from _content(walk, document[key], (key,))
    for i, content in enumerate(items_of(document["contents"], "'contents'", "a list")):
        yield from _content(walk, content, ("contents", i))


def _content(walk: Walk, content, path: Path) -> Iterator[ImageRef]:
    if not isinstance(content, dict):
        raise RequestError(f"{where_of(path)} must be an object with parts, not {show_value(content)}")
    parts = content.get("parts")
    if parts is None:
        return
    for j, part in enumerate(items_of(parts, f"{where_of(path)}.parts", "a list")):
        yield from _part(walk, part, (*path, "parts", j))


def _part(walk: Walk, part, path: Path, nested: bool = False) -> Iterator[ImageRef]:
    """One Gemini Part: inline_data / file_data images; a functionResponse's own parts."""
    where = where_of(path)
    if not isinstance(part, dict):
        raise RequestError(f"{where} must be an object, not {show_value(part)}")
    response_key = first_key(part, "functionResponse", "function_response")
    if response_key is not None and isinstance(part[response_key], dict):
        parts = part[response_key].get("parts")
        if parts is not None:
            if nested or not isinstance(parts, list):
                raise RequestError(f"{where}.{response_key}.parts must be a list of parts, not {show_value(parts)}")
            for k, inner in enumerate(parts):
                yield from _part(walk, inner, (*path, response_key, "parts", k), True)
    for keys, source, field_keys in (
        (("inline_data", "inlineData"), "base64", ("data",)),
        (("file_data", "fileData"), "file_uri", ("file_uri", "fileUri")),
    ):
        key = first_key(part, *keys)
        if key is None or part[key] is None:
            continue
        blob = part[key]
        if not isinstance(blob, dict):
            yield ImageRef(path, source, "", error=f"{where}.{key} must be an object, not {show_value(blob)}")
            continue
        mime_key = first_key(blob, "mime_type", "mimeType")
        mime = blob.get(mime_key) if mime_key else None
        field = first_key(blob, *field_keys) or field_keys[0]
        value = blob.get(field)
        if isinstance(mime, str) and mime.strip().lower() == "application/pdf":
            yield ImageRef(path, source, value, kind="pdf", data_path=(*path, key, field))
            continue
        if isinstance(mime, str) and not mime.strip().lower().startswith("image/"):
            continue  # audio, video: not an image
        detail, detail_where, error = _detail(walk, part, where)
        if mime is not None and not isinstance(mime, str):
            error = error or f"{where}.{key}.{mime_key} must be a media type, not {show_value(mime)}"
        yield ImageRef(
            path,
            source,
            value,
            detail,
            detail_where,
            data_path=(*path, key, field),
            media_path=(*path, key, mime_key or "mime_type") if source == "base64" else None,
            error=error or need_text(value, f"{where}.{key}.{field}"),
        )


def _detail(walk: Walk, part: dict, where: str) -> tuple[str, str, str | None]:
    key = first_key(part, "media_resolution", "mediaResolution")
    if key is None or part[key] is None:
        return walk.detail, walk.detail_where, None
    value, at = part[key], f"{where}.{key}"
    if isinstance(value, dict):
        value, at = value.get("level"), f"{at}.level"
    detail, error = media_resolution(value, at)
    return detail, at, error


def bill(response: dict) -> Bill | None:
    """usageMetadata: the prompt total and, when given, its IMAGE and TEXT counts."""
    usage = response.get("usageMetadata", response.get("usage_metadata"))
    if usage is None:
        return None
    if not isinstance(usage, dict):
        raise Unbilled("usageMetadata is not a JSON object")
    camel = "promptTokenCount" in usage
    total = token_count(usage, "promptTokenCount" if camel else "prompt_token_count", "usageMetadata")
    details = usage.get("promptTokensDetails", usage.get("prompt_tokens_details"))
    if not isinstance(details, list):
        return Bill(total, "gemini")
    counts: dict[str, int] = {}
    for index, entry in enumerate(details):
        if not isinstance(entry, dict):
            continue
        modality = str(entry.get("modality", "")).upper()
        count = token_count(
            entry,
            "tokenCount" if "tokenCount" in entry else "token_count",
            f"usageMetadata.promptTokensDetails[{index}]",
        )
        counts[modality] = counts.get(modality, 0) + count
    if "IMAGE" in counts:
        return Bill(total, "gemini", image=counts["IMAGE"])
    if counts and sum(counts.values()) == total:  # every modality listed, none IMAGE: no image tokens
        return Bill(total, "gemini", image=0)
    return Bill(total, "gemini", text=counts.get("TEXT"))


def _body(model: str, data: str | None, detail: str, prompt: str) -> dict[str, Any]:
    parts: list[dict] = [{"text": prompt}]
    if data is not None:
        part: dict[str, Any] = {"inline_data": {"mime_type": "image/png", "data": data}}
        if detail in LEVELS:
            part["media_resolution"] = {"level": LEVELS[detail]}
        parts.append(part)
    return {"contents": [{"role": "user", "parts": parts}]}


COUNT = CountEndpoint(
    api="gemini",
    path=lambda model: f"/v1beta/models/{quote(model, safe='')}:countTokens",
    headers=lambda key: {"x-goog-api-key": key},
    body=_body,
    count_field="totalTokens",
)

SHAPE = Shape(name="gemini", roots=(("contents", _root, 0),), default_detail=default_detail, bill=bill, count=COUNT)
