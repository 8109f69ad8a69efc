"""What every vendor shape module shares: image references with their JSON paths, bills, count endpoints, the walk.

A shape module (openai_chat.py, anthropic.py, ...) describes one vendor API shape as a `Shape`: the part
types and payload roots it reads (each a reader yielding `ImageRef`s), the parts that carry no image, how
its answer's usage bills a prompt, its token-counting endpoint and the SDK routes the guard prices. The
`Walk` here goes through a payload and hands each part to the shape that reads it; it never looks at the
model's name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import RequestError
from ..words import show_value

__all__ = [
    "Path",
    "ImageRef",
    "Bill",
    "Unbilled",
    "CountEndpoint",
    "Shape",
    "Walk",
    "Registry",
    "where_of",
    "need_text",
    "first_key",
    "items_of",
    "url_scheme",
    "token_count",
    "details_bill",
    "tool_output",
]

Path = tuple  # of str keys and int indexes: a place in the payload, as data
Reader = Callable[["Walk", dict, Path, "dict | None"], Iterator["ImageRef"]]


def where_of(path: Path) -> str:
    """A payload location such as messages[1].content[2].image_url, made from its JSON path."""
    text = ""
    for key in path:
        if isinstance(key, int) and not isinstance(key, bool):
            text += f"[{key}]"
        else:
            name = key if isinstance(key, str) and key.isidentifier() else show_value(key)
            text += f".{name}" if text else name
    return text or "payload"


@dataclass(frozen=True)
class ImageRef:
    """An image (or another billed part) found in a payload, not yet read; `error` set when the part itself is bad."""

    path: Path
    """The part's JSON path, e.g. ("messages", 1, "content", 2)."""
    source: str
    """url (a data URL, path or http(s) URL), base64, bytes, file_id, file_uri or s3."""
    value: Any = ""
    detail: str = "auto"
    detail_where: str = ""
    """Where the detail came from, for its error; '' for the default."""
    resize: int | None = None
    max_pixels: int | None = None
    min_pixels: int | None = None
    pixels_where: str = ""
    """Where max_pixels / min_pixels were set, for their error."""
    reject_oversized: bool = False
    """Anthropic: `transformations.oversized_image = "error"`, or a computer-use screenshot."""
    media_type: str | None = None
    """The media type the part declares (Anthropic base64 sources), checked against the bytes."""
    error: str | None = None
    data_path: Path | None = None
    """The JSON path of the inline image's text (a data URL or base64), which the guard may replace; None if none."""
    media_path: Path | None = None
    """The JSON path of the media type declared beside inline base64 (replaced with it); None when none is."""
    kind: str = "image"
    """image; pdf or file: a part the vendor bills as page images plus text, unpriced until a page rule is on file;
    part: a typed part costcalc does not recognise (unpriced, never free)."""

    @property
    def where(self) -> str:
        """The printable location made from `path`."""
        return where_of(self.path)


@dataclass(frozen=True)
class Bill:
    """The prompt tokens an answer's usage bills: the total, and its own split when it gives one."""

    total: int
    shape: str
    """chat, responses, anthropic or gemini."""
    image: int | None = None
    """Image tokens the answer reports itself (Gemini's IMAGE modality, `image_tokens`)."""
    other: int = 0
    """Tokens the answer reports as neither text nor image (audio), taken off the total."""
    text: int | None = None
    """Text tokens the answer reports itself (`text_tokens`; Gemini's TEXT modality)."""


class Unbilled(Exception):
    """An answer whose usage cannot be read: the reason."""


MAX_TOKEN_COUNT = 10**12
"""The most prompt tokens one request can plausibly bill: no model's context window comes near it.
A larger usage count is a corrupt or synthetic log line, read as "not a token count" like NaN or -1."""


def token_count(container: dict, key: str, where: str) -> int:
    """A token count from usage: a whole number in 0..MAX_TOKEN_COUNT (0 when absent), else Unbilled naming it."""
    value = container.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKEN_COUNT:
        shown = json.dumps(value)[:40] if not isinstance(value, int) or value.bit_length() < 128 else "a huge number"
        raise Unbilled(f"{where}.{key} is not a token count: {shown}")
    return value


def details_bill(usage: dict, shape: str, total: int, details_key: str) -> Bill:
    """A Bill with the split an OpenAI-style usage details object gives."""
    details = usage.get(details_key)
    if not isinstance(details, dict):
        return Bill(total, shape)
    where = f"usage.{details_key}"
    image = token_count(details, "image_tokens", where) if "image_tokens" in details else None
    text = token_count(details, "text_tokens", where) if "text_tokens" in details else None
    return Bill(total, shape, image=image, other=token_count(details, "audio_tokens", where), text=text)


@dataclass(frozen=True)
class CountEndpoint:
    """A vendor's free token-counting endpoint, as `costcalc probe` calls it."""

    api: str
    path: Callable[[str], str]
    """model → the URL path after the base URL."""
    headers: Callable[[str], dict[str, str]]
    """key → the authentication headers."""
    body: Callable[[str, str | None, str, str], dict[str, Any]]
    """(model, base64 PNG or None, detail, prompt) → the request body."""
    count_field: str
    """The answer's field holding the count."""


@dataclass(frozen=True)
class Shape:
    """One vendor API shape: what it reads in a payload, how its usage bills, its endpoints."""

    name: str
    typed: Mapping[str, Reader] = field(default_factory=dict)
    """Part `type` → its reader."""
    untyped: tuple[tuple[str, Callable[[Any], bool], Reader], ...] = ()
    """(key, test of its value, reader) for parts without a `type` (Bedrock blocks, legacy GPT-4V)."""
    no_image: frozenset[str] = frozenset()
    """Typed parts and items that carry no image and are billed as text or not at all: passed over."""
    untyped_no_image: frozenset[str] = frozenset()
    """Keys of untyped parts that carry no image."""
    roots: tuple[tuple[str, Reader, int], ...] = ()
    """(payload key, reader of the whole payload, rank) for a shape with its own top level; when a payload has
    several such keys, the lowest rank reads it (Gemini's `contents` before `messages` before `input`)."""
    default_detail: Callable[[dict], tuple[str, str]] | None = None
    """The detail of parts naming none, and where it was set, for payloads read from this shape's roots."""
    bill: Callable[[dict], Bill | None] | None = None
    """An answer → its Bill, or None when the answer is not this shape's."""
    count: CountEndpoint | None = None
    sdk_routes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """SDK package → the POST URL path endings this shape is sent to (the guard prices those)."""


class Registry:
    """Shapes in the order they are tried, with their part readers gathered once (the first shape naming a type
    reads it)."""

    def __init__(self, shapes: tuple[Shape, ...]):
        self.shapes = shapes
        self.typed: dict[str, Reader] = {}
        self.no_image: set[str] = set()
        self.untyped_no_image: set[str] = set()
        for shape in shapes:
            for kind, reader in shape.typed.items():
                self.typed.setdefault(kind, reader)
            self.no_image.update(shape.no_image)
            self.untyped_no_image.update(shape.untyped_no_image)


class Walk:
    """The image parts of one payload, in payload order, each handed to the shape that reads it."""

    def __init__(self, document: dict, registry: Registry):
        self.document = document
        self.shapes = registry.shapes
        self.typed, self.no_image, self.untyped_no_image = registry.typed, registry.no_image, registry.untyped_no_image
        found = [
            (rank, n, key, reader, shape)
            for n, shape in enumerate(self.shapes)
            for key, reader, rank in shape.roots
            if key in document
        ]
        self.root = min(found, key=lambda entry: entry[:2])[2:] if found else None
        self.detail, self.detail_where = "auto", ""
        self._memo: dict[str, Any] = {}

    def refs(self) -> Iterator[ImageRef]:
        """Every image part; RequestError for what cannot be a request."""
        if self.root is None:
            keys = [f"'{key}'" for shape in self.shapes for key, _, _ in shape.roots]
            named = ", ".join(keys[:-1]) + f" or {keys[-1]}" if len(keys) > 1 else "".join(keys)
            raise RequestError(
                f"no {named}: not a payload of a shape costcalc reads "
                f"({', '.join(shape.name for shape in self.shapes)})"
            )
        key, reader, shape = self.root
        if shape.default_detail is not None:
            self.detail, self.detail_where = shape.default_detail(self.document)
        yield from reader(self, self.document, (), None)

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        """A value computed once per payload (e.g. the ids of computer-use tool calls)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def content(self, content, path: Path, inside: dict | None = None) -> Iterator[ImageRef]:
        """A message's content: a string, or a list of parts."""
        if content is None or isinstance(content, str):
            return
        for j, part in enumerate(items_of(content, where_of(path), "a string or a list of parts")):
            yield from self.part(part, (*path, j), inside)

    def part(self, part, path: Path, inside: dict | None = None) -> Iterator[ImageRef]:
        """One content part or block; `inside` is the tool result it sits in, if any."""
        if isinstance(part, str):
            return  # legacy text
        where = where_of(path)
        if not isinstance(part, dict):
            raise RequestError(f"{where}: a content part must be an object or a string, not {show_value(part)}")
        kind = part.get("type")
        if kind is None:
            yield from self._untyped(part, path, inside)
            return
        if not isinstance(kind, str):
            raise RequestError(f"{where}.type must be a string, not {show_value(kind)}")
        reader = self.typed.get(kind)
        if reader is not None:
            yield from reader(self, part, path, inside)
        elif kind not in self.no_image:  # billed somehow, but not by a rule costcalc has: unpriced, never free
            yield ImageRef(
                path,
                "part",
                kind="part",
                error=(
                    f"{where}: part of unknown type {show_value(kind)}, so unpriced; images are 'image_url' (Chat "
                    f"Completions), 'input_image' (Responses), 'image' (Messages)"
                ),
            )

    def _untyped(self, part: dict, path: Path, inside: dict | None) -> Iterator[ImageRef]:
        for shape in self.shapes:
            for key, test, reader in shape.untyped:
                if key in part and test(part[key]):
                    yield from reader(self, part, path, inside)
                    return
        if not self.untyped_no_image.intersection(part):
            raise RequestError(f"{where_of(path)}: a content part without a 'type'")

    def detail_of(self, value, where: str) -> tuple[str, str, str | None]:
        """(detail, where it was set, error): a part's own detail, else the payload's default."""
        if value is None:
            return self.detail, self.detail_where, None
        if isinstance(value, str) and 0 < len(value) <= 40:
            return value, where, None
        return "auto", where, f"{where} must be a detail word such as low, high or auto, not {show_value(value)}"


def items_of(value, where: str, what: str) -> list:
    """`value`, which must be a list, or RequestError naming `where` and what it must be."""
    if not isinstance(value, list):
        raise RequestError(f"{where} must be {what}, not {show_value(value)}")
    return value


def need_text(value, where: str) -> str | None:
    """The error for a field that must be a non-empty string, or None."""
    if isinstance(value, str) and value:
        return None
    return f"{where} must be a non-empty string, not {show_value(value)}"


def first_key(mapping: dict, *keys: str) -> str | None:
    """The first of `keys` present in `mapping` (snake_case or camelCase spellings)."""
    for key in keys:
        if key in mapping:
            return key
    return None


def url_scheme(value: str, data: bool = False) -> str:
    """The scheme of a URL ('ftp' in ftp://...), or '' for a plain path; with `data`, 'data' for a data URL."""
    if data and value[:5].lower() == "data:":
        return "data"
    scheme, separator, _ = value[:40].partition("://")
    return scheme.lower() if separator and scheme.isalnum() else ""


def pixels(part: dict, image: dict, path: Path) -> tuple[dict, str | None]:
    """Qwen's max_pixels and min_pixels, on the part or in its image_url (Alibaba Model Studio, "Image input":
    https://www.alibabacloud.com/help/en/model-studio/vision), and any error in them."""
    where = where_of(path)
    found: dict[str, Any] = {}
    for name in ("max_pixels", "min_pixels"):
        owner, at = (part, where) if part.get(name) is not None else (image, f"{where}.image_url")
        value = owner.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**40:
            return {}, f"{at}.{name} must be a whole number of pixels, not {show_value(value)}"
        found[name] = value
        found["pixels_where"] = f"{at}.{name}"
    return found, None


def qwen_detail(document: dict) -> tuple[str, str]:
    """Qwen's `vl_high_resolution_images` (on the payload, or DashScope native's `parameters`) as `high`."""
    for owner, prefix in ((document, ""), (document.get("parameters"), "parameters.")):
        if isinstance(owner, dict) and owner.get("vl_high_resolution_images") is not None:
            value = owner["vl_high_resolution_images"]
            if not isinstance(value, bool):
                raise RequestError(f"{prefix}vl_high_resolution_images must be true or false, not {show_value(value)}")
            if value:
                return "high", f"{prefix}vl_high_resolution_images"
    return "auto", ""


def data_url_parts(value) -> tuple[str, str] | None:
    """(media type, base64 text) of a base64 data URL, or None for anything else."""
    if not isinstance(value, str) or value[:5].lower() != "data:":
        return None
    head, comma, data = value.partition(",")
    if not comma or not head.lower().endswith(";base64"):
        return None
    return head[5:-7].strip().lower(), data


def tool_output(walk: Walk, part: dict, path: Path, inside: dict | None, field: str = "output") -> Iterator[ImageRef]:
    """A tool's output (a part or a list of parts), read with the output as the part its images sit `inside`."""
    if inside is not None:
        raise RequestError(f"{where_of(path)}: a {part.get('type')} inside a tool result")
    value = part.get(field)
    if isinstance(value, dict):
        yield from walk.part(value, (*path, field), part)
    else:
        yield from walk.content(value, (*path, field), part)
