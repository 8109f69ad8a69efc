"""The OpenAI Responses API (https://platform.openai.com/docs/api-reference/responses/create).

- `input[]`: messages with `content[]`, and content parts or items given directly (DashScope's native
  `input.messages` too);
- `input_image` (and `computer_screenshot`) by `image_url` or `file_id`, with `detail`;
- tool outputs that carry images: `function_call_output`, `computer_call_output` (a computer-use
  screenshot), `custom_tool_call_output`, their `output` a part or a list of parts;
- `input_file` (`file_data`, `file_id` or `file_url`): a PDF billed as text plus an image of each page
  (https://platform.openai.com/docs/guides/pdf-files), unpriced until a page rule is on file;
- the answer's `usage.input_tokens` (`input_tokens_details`);
- its free token-counting endpoint `POST /responses/input_tokens`
  (https://platform.openai.com/docs/api-reference/responses/input-tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import RequestError
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
    qwen_detail,
    token_count,
    tool_output,
    where_of,
)
from .messages import read_messages
from .openai_chat import file_ref

NO_IMAGE = frozenset(
    {
        "input_text",
        "output_text",
        "refusal",
        "message",
        "function_call",
        "reasoning",
        "item_reference",
        "web_search_call",
        "file_search_call",
        "computer_call",
        "image_generation_call",
        "code_interpreter_call",
        "local_shell_call",
        "local_shell_call_output",
        "shell_call",
        "shell_call_output",
        "apply_patch_call",
        "apply_patch_call_output",
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_approval_response",
        "mcp_call",
        "custom_tool_call",
        "compaction",
    }
)
"""Responses content parts and input items that carry no image (the tool outputs below are read)."""

TOOL_OUTPUTS = ("function_call_output", "computer_call_output", "custom_tool_call_output")


def _root(walk: Walk, document: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    items = document["input"]
    if isinstance(items, str):
        return
    if isinstance(items, dict) and "messages" in items:
        yield from read_messages(walk, items["messages"], ("input", "messages"))
        return
    if not isinstance(items, list):
        raise RequestError(f"'input' must be a string or a list, not {show_value(items)}")
    for i, item in enumerate(items):
        if isinstance(item, dict) and "content" in item:
            yield from walk.content(item["content"], ("input", i, "content"))
        elif isinstance(item, dict) and "type" in item:
            yield from walk.part(item, ("input", i))
        elif not isinstance(item, str):
            raise RequestError(f"input[{i}] must be a message, a content part or a string, not {show_value(item)}")


def _image(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """`input_image` (and `computer_screenshot`): by image_url or file_id."""
    where = where_of(path)
    detail, detail_where, error = walk.detail_of(part.get("detail"), f"{where}.detail")
    if part.get("file_id") is not None:
        value = part["file_id"]
        yield ImageRef(
            path, "file_id", value, detail, detail_where, error=error or need_text(value, f"{where}.file_id")
        )
        return
    image = part.get("image_url")
    url_path = (*path, "image_url", "url") if isinstance(image, dict) else (*path, "image_url")
    url = image.get("url") if isinstance(image, dict) else image
    yield ImageRef(
        path, "url", url, detail, detail_where, data_path=url_path, error=error or need_text(url, where_of(url_path))
    )


def _input_file(walk: Walk, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    """`input_file`: unpriced (see the module docstring)."""
    file_id = part.get("file_id") or part.get("file_url")
    yield file_ref(path, part.get("file_data"), (*path, "file_data"), file_id)


def bill(response: dict) -> Bill | None:
    """`usage.input_tokens`, with `input_tokens_details` (an answer without Anthropic's marks)."""
    usage = response.get("usage")
    if not isinstance(usage, dict) or "input_tokens" not in usage:
        return None
    return details_bill(usage, "responses", token_count(usage, "input_tokens", "usage"), "input_tokens_details")


def _body(model: str, data: str | None, detail: str, prompt: str) -> dict[str, Any]:
    content: list[dict] = [{"type": "input_text", "text": prompt}]
    if data is not None:
        content.append({"type": "input_image", "image_url": f"data:image/png;base64,{data}", "detail": detail})
    return {"model": model, "input": [{"role": "user", "content": content}]}


COUNT = CountEndpoint(
    api="openai",
    path=lambda model: "/responses/input_tokens",
    headers=lambda key: {"Authorization": f"Bearer {key}"},
    body=_body,
    count_field="input_tokens",
)

SHAPE = Shape(
    name="openai_responses",
    typed={
        "input_image": _image,
        "computer_screenshot": _image,
        "input_file": _input_file,
        **dict.fromkeys(TOOL_OUTPUTS, tool_output),
    },
    no_image=NO_IMAGE,
    roots=(("input", _root, 2),),
    default_detail=qwen_detail,
    bill=bill,
    count=COUNT,
    sdk_routes={"openai": ("/responses",)},
)
