"""The top level the Messages family shares: `system` and `messages[].content[]`.

Chat Completions (OpenAI, and Mistral, Qwen's compatible mode and xAI), Anthropic Messages, Bedrock
Converse and the legacy GPT-4V payloads all put their parts in `messages[].content[]`; the parts
themselves are read by their own shape modules. Anthropic and Bedrock also take a `system` list of blocks.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import RequestError
from ..words import show_value
from .base import ImageRef, Path, Shape, Walk, items_of, qwen_detail, where_of


def read_messages(walk: Walk, messages, path: Path) -> Iterator[ImageRef]:
    """Each message's content, in order; RequestError for a message that is not an object."""
    for i, message in enumerate(items_of(messages, f"'{where_of(path)}'", "a list")):
        if not isinstance(message, dict):
            raise RequestError(f"{where_of((*path, i))} must be an object, not {show_value(message)}")
        yield from walk.content(message.get("content"), (*path, i, "content"))


def _root(walk: Walk, document: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
    system = document.get("system")
    if system is not None and not isinstance(system, str):
        for i, block in enumerate(items_of(system, "'system'", "a string or a list of blocks")):
            yield from walk.part(block, ("system", i))
    yield from read_messages(walk, document["messages"], ("messages",))


SHAPE = Shape(name="messages", roots=(("messages", _root, 1),), default_detail=qwen_detail)
