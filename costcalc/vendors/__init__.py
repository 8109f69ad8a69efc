"""One module per vendor API shape: a request payload → its image references (with JSON paths), a usage → a bill.

The registry here holds the shapes costcalc reads, in the order they are tried: a payload's shape is
recognised from its structure (its top-level key, then each part's `type` or keys), never from the
model's name. Adding a shape is one module defining a `Shape` and one `register()` call (a plug-in may
register its own from outside the package).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..words import json_kind
from . import anthropic, bedrock, gemini, gpt4v_legacy, messages, openai_chat, openai_responses
from .base import Bill, CountEndpoint, ImageRef, Registry, Shape, Unbilled, Walk, where_of

__all__ = [
    "Bill",
    "CountEndpoint",
    "ImageRef",
    "Shape",
    "register",
    "unregister",
    "shapes",
    "image_refs",
    "read_bill",
    "root_keys",
    "count_endpoint",
    "sdk_routes",
    "where_of",
    "error_text",
]

_SHAPES: list[Shape] = [
    messages.SHAPE,
    openai_chat.SHAPE,
    anthropic.SHAPE,
    openai_responses.SHAPE,
    bedrock.SHAPE,
    gpt4v_legacy.SHAPE,
    gemini.SHAPE,
]
_REGISTRY: list[Registry] = []
"""The registry gathered from _SHAPES, once per change."""


def register(shape: Shape) -> Shape:
    """Add a shape (or replace the one of its name); its part types and keys are read after the built-in ones."""
    unregister(shape.name)
    _SHAPES.append(shape)
    _REGISTRY.clear()
    return shape


def unregister(name: str) -> None:
    """Remove the shape named `name`, if registered."""
    _SHAPES[:] = [shape for shape in _SHAPES if shape.name != name]
    _REGISTRY.clear()


def shapes() -> tuple[Shape, ...]:
    """The registered shapes, in the order they are tried."""
    return tuple(_SHAPES)


def image_refs(document: dict) -> Iterator[ImageRef]:
    """Every image (and every part billed otherwise) in a payload, in order; RequestError for what is no request."""
    if not _REGISTRY:
        _REGISTRY.append(Registry(shapes()))
    return Walk(document, _REGISTRY[0]).refs()


def read_bill(response: Any) -> Bill:
    """What an API answer's usage bills for its prompt; Unbilled with the reason when it bills nothing."""
    if isinstance(response, (str, bytes)):
        try:
            response = json.loads(response)
        except ValueError:
            raise Unbilled("the answer is not JSON") from None
    if not isinstance(response, dict):
        raise Unbilled(f"the answer is not a JSON object but {json_kind(response)}")
    if response.get("usageMetadata", response.get("usage_metadata")) is None and response.get("usage") is None:
        if response.get("error"):
            raise Unbilled(f"the API answered an error: {error_text(response['error'])}")
        raise Unbilled("no usage in the answer")
    for shape in _SHAPES:
        bill = shape.bill(response) if shape.bill is not None else None
        if bill is not None:
            return bill
    if not isinstance(response.get("usage"), dict):
        raise Unbilled("usage is not a JSON object")
    raise Unbilled("usage has no prompt_tokens or input_tokens")


def error_text(error: Any) -> str:
    """An API error object as one short line: code and message."""
    if isinstance(error, dict):
        parts = [
            str(error[key])[:200]
            for key in ("code", "type", "status", "message")
            if isinstance(error.get(key), (str, int)) and error.get(key)
        ]
        text = ": ".join(dict.fromkeys(parts)) or "no message"
    else:
        text = str(error)[:300] if isinstance(error, (str, int, float)) else f"a {type(error).__name__}"
    return " ".join(text.split())[:300]


def root_keys() -> tuple[str, ...]:
    """The top-level keys a payload of some registered shape has (`messages`, `input`, `contents`, ...)."""
    return tuple(key for shape in _SHAPES for key, _, _ in shape.roots)


def count_endpoint(api: str) -> CountEndpoint:
    """The token-counting endpoint of `api` (openai, anthropic, gemini); KeyError when none is registered."""
    for shape in _SHAPES:
        if shape.count is not None and shape.count.api == api:
            return shape.count
    raise KeyError(api)


def sdk_routes() -> dict[str, tuple[str, ...]]:
    """SDK package → the POST URL path endings whose bodies are payloads costcalc prices."""
    routes: dict[str, tuple[str, ...]] = {}
    for shape in _SHAPES:
        for sdk, paths in shape.sdk_routes.items():
            routes[sdk] = routes.get(sdk, ()) + paths
    return routes
