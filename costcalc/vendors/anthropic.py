"""Anthropic Messages (https://docs.anthropic.com/en/api/messages), read in `messages[].content[]` and `system`.

- `image` blocks, `source` base64 (`media_type`, `data`), url or file, also inside `tool_result`;
  `transformations.oversized_image = "error"` on the block or its tool result, and the screenshots
  a computer-use tool returns, are refused when over the size the model works from rather than downscaled
  (https://docs.anthropic.com/en/docs/build-with-claude/vision);
- `document` blocks: a PDF (base64, url or file source) is billed as the text and an image of each page
  (https://docs.anthropic.com/en/docs/build-with-claude/pdf-support), unpriced until a page rule is on file;
  a plain-text or content document is text;
- the answer's `usage`: input_tokens + cache_creation_input_tokens + cache_read_input_tokens;
- the free token-counting endpoint `POST /v1/messages/count_tokens`
  (https://docs.anthropic.com/en/api/messages-count-tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..words import show_value
from .base import (
    Bill,
    CountEndpoint,
    ImageRef,
    Path,
    Shape,
    Walk,
    details_bill,
    need_text,
    token_count,
    tool_output,
    where_of,
)

NO_IMAGE = frozenset(
    {
        "search_result",
        "tool_use",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
    }
)
"""Messages content blocks that carry no image (tool_result and document are read)."""

MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
"""Anthropic's accepted base64 media types (Messages API, ImageBlockParam)."""


def screenshot_ids(document: dict) -> frozenset[str]:
    """Ids of computer-use tool calls: their tool_result screenshots are never downscaled."""
    tools, messages = document.get("tools"), document.get("messages")
    if not isinstance(tools, list) or not isinstance(messages, list):
        return frozenset()
    # Anthropic's computer tool types are versioned by date: computer_20241022, computer_20250124, ...
    names = {
        tool["name"]
        for tool in tools
        if isinstance(tool, dict)
        and isinstance(tool.get("type"), str)
        and tool["type"].startswith("computer_")
        and isinstance(tool.get("name"), str)
    }
    if not names:
        return frozenset()
    ids = set()
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                if isinstance(block.get("name"), str) and block["name"] in names:
                    ids.add(block["id"])
    return frozenset(ids)


def _oversized(walk: Walk, block: dict, where: str, inside: dict | None) -> tuple[bool, str | None]:
    """Whether an oversized image is rejected rather than downscaled, and any error in saying so."""
    used = inside.get("tool_use_id") if inside is not None else None
    reject = isinstance(used, str) and used in walk.memo("anthropic.screenshots", lambda: screenshot_ids(walk.document))
    for owner, at in ((inside, "the tool result's"), (block, where)):
        if not isinstance(owner, dict) or owner.get("transformations") is None:
            continue
        transformations = owner["transformations"]
        if not isinstance(transformations, dict):
            return reject, f"{at} transformations must be an object, not {show_value(transformations)}"
        value = transformations.get("oversized_image")
        if value is not None and not isinstance(value, str):
            return reject, f"{at} transformations.oversized_image must be a string, not {show_value(value)}"
        reject = reject or value == "error"
    return reject, None


def _image(walk: Walk, block: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """An `image` block: source base64 / url / file."""
    where = where_of(path)
    reject, error = _oversized(walk, block, where, inside)
    source = block.get("source")
    if not isinstance(source, dict):
        yield ImageRef(path, "url", "", error=f"{where}.source must be an object with a type, not {show_value(source)}")
        return
    kind = source.get("type")
    if kind == "base64":
        media = source.get("media_type")
        if error is None and media is not None and media not in MEDIA_TYPES:
            error = (
                f"{where}.source.media_type: {show_value(media)} is not an accepted image type "
                f"({', '.join(MEDIA_TYPES)})"
            )
        data = source.get("data")
        yield ImageRef(
            path,
            "base64",
            data,
            reject_oversized=reject,
            media_type=media,
            error=error or need_text(data, f"{where}.source.data"),
            data_path=(*path, "source", "data"),
            media_path=(*path, "source", "media_type"),
        )
    elif kind in ("url", "file"):
        field = "url" if kind == "url" else "file_id"
        value = source.get(field)
        yield ImageRef(
            path, field, value, reject_oversized=reject, error=error or need_text(value, f"{where}.source.{field}")
        )
    else:
        yield ImageRef(
            path, "url", "", error=f"{where}.source.type must be base64, url or file, not {show_value(kind)}"
        )


def _document(walk: Walk, block: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """A `document` block: a PDF is unpriced (module docstring); a text or content document is text."""
    source = block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if kind in ("text", "content"):
        return
    if kind == "base64" and source.get("media_type") in (None, "application/pdf"):
        yield ImageRef(path, "base64", source.get("data"), kind="pdf", data_path=(*path, "source", "data"))
    elif kind in ("url", "file"):
        field = "url" if kind == "url" else "file_id"
        yield ImageRef(path, field, source.get(field), kind="pdf")
    else:
        yield ImageRef(path, "url", "", kind="file")


def _tool_result(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    yield from tool_output(walk, part, path, inside, "content")


def bill(response: dict) -> Bill | None:
    """input_tokens plus cache creation and cache reads (an answer of type message, or one with cache counts)."""
    usage = response.get("usage")
    if not isinstance(usage, dict) or "input_tokens" not in usage:
        return None
    if response.get("type") != "message" and not any(key.startswith("cache_") for key in usage):
        return None
    total = sum(
        token_count(usage, key, "usage")
        for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return details_bill(usage, "anthropic", total, "input_tokens_details")


def _body(model: str, data: str | None, detail: str, prompt: str) -> dict[str, Any]:
    content: list[dict] = [{"type": "text", "text": prompt}]
    if data is not None:
        content.insert(0, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}})
    return {"model": model, "messages": [{"role": "user", "content": content}]}


COUNT = CountEndpoint(
    api="anthropic",
    path=lambda model: "/v1/messages/count_tokens",
    headers=lambda key: {"x-api-key": key, "anthropic-version": "2023-06-01"},
    body=_body,
    count_field="input_tokens",
)

SHAPE = Shape(
    name="anthropic",
    typed={"image": _image, "tool_result": _tool_result, "document": _document},
    no_image=NO_IMAGE,
    bill=bill,
    count=COUNT,
    sdk_routes={"anthropic": ("/messages",)},
)
