"""A request payload as costcalc reads it: JSON text or a dict, its size in bytes, its model, file sizes given.

A payload that cannot be a request (not JSON, not UTF-8, a list where an object must be) is one
RequestError naming the place; `payload_size` counts the bytes `json.dumps` would write, at any depth,
without writing them.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from ..errors import CostcalcError, RequestError, UnknownModelError
from ..inspection.jsontext import loads
from ..vendors import where_of
from ..words import json_kind, show_value

__all__ = [
    "payload_size",
    "load_payload",
    "model_name",
    "check_file_sizes",
    "no_constant",
    "parse_int",
    "MAX_MODEL_NAME",
]

MAX_MODEL_NAME = 200
"""A longer 'model' is not a model name; the error quotes only its start."""

_END = object()
_HUGE = 10**4000


def payload_size(document: Any) -> int:
    """Bytes of `json.dumps(document)`, counted without writing it out, at any depth.

    Raw `bytes` (as boto3 takes a Bedrock image) count as the base64 text they
    are sent as. RequestError, naming the place, for what JSON cannot carry:
    NaN or infinity, a circular reference, an object of another type.
    """
    size = 0
    path: list[Any] = []  # the key or index of each open container, for messages
    frames: list[tuple[int, Iterator, bool]] = []  # (id, items, is an object) of each open container
    open_ids: set[int] = set()
    value = document
    while True:
        if isinstance(value, str):
            size += _json_string_size(value)
        elif isinstance(value, (dict, list, tuple)):
            if id(value) in open_ids:
                raise RequestError(f"{where_of(path)}: the payload contains itself (a circular reference)")
            size += 2 + 2 * max(len(value) - 1, 0)
            is_object = isinstance(value, dict)
            frames.append((id(value), iter(value.items() if is_object else enumerate(value)), is_object))
            open_ids.add(id(value))
            path.append(None)
        else:
            size += _scalar_size(value, path)
        while frames:
            ident, items, is_object = frames[-1]
            item = next(items, _END)
            if item is _END:
                frames.pop()
                open_ids.discard(ident)
                path.pop()
                continue
            key, value = item
            path[-1] = key
            if is_object:
                size += _key_size(key, path) + 2  # the key and ": "
            break
        else:
            return size


def _scalar_size(value: Any, path: list) -> int:
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, int):
        if not -_HUGE < value < _HUGE:  # Python writes no int of over 4,300 digits
            raise RequestError(f"{where_of(path)}: a number of over 4,000 digits, which JSON tools cannot write")
        return len(int.__repr__(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise RequestError(f"{where_of(path)}: {value!r} is not a JSON number")
        return len(float.__repr__(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return 4 * -(-len(value) // 3) + 2  # sent as base64 text
    raise RequestError(f"{where_of(path)}: a {type(value).__name__} is not a JSON value")


def _key_size(key: Any, path: list) -> int:
    """The size of an object key as json.dumps writes it (None, bools and numbers become strings)."""
    if isinstance(key, str):
        return _json_string_size(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return _scalar_size(key, path) + 2
    if key is None or isinstance(key, (bool, float)):
        return len(json.dumps(key)) + 2
    raise RequestError(f"{where_of(path[:-1])}: a key of type {type(key).__name__}; JSON keys are strings")


_SHORT_ESCAPES = (8, 9, 10, 12, 13)  # \b \t \n \f \r: two characters in JSON; other controls take six


def _json_string_size(text: str) -> int:
    """len(json.dumps(text)), at memory speed for the multi-MB base64 of a data URL."""
    if not text.isascii():
        return len(json.dumps(text))
    if len(text) < 65536:
        if text.isprintable() and '"' not in text and "\\" not in text:
            return len(text) + 2
        return len(json.dumps(text))
    import numpy as np  # isprintable() walks a 6 MB string character by character; this is ~10x faster

    codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    controls = int(codes.min()) < 32
    if not controls and '"' not in text and "\\" not in text:
        return len(text) + 2  # nothing to escape: base64, the common case
    escaped = int(np.count_nonzero((codes == 34) | (codes == 92)))
    short = int(np.count_nonzero(np.isin(codes, _SHORT_ESCAPES)))
    other = int(np.count_nonzero(codes < 32)) - short
    return len(text) + 2 + escaped + short + 5 * other


def load_payload(payload) -> tuple[dict, int | None]:
    """The payload as a dict, and its size in bytes when it came as text; RequestError for anything else.

    UTF-8 bytes are parsed as they are (inspection.jsontext: the long base64 strings of images cut out, the
    skeleton parsed) and their size is their length: no decode and re-encode of megabytes of base64.
    """
    if isinstance(payload, dict):
        return payload, None
    if isinstance(payload, (bytes, bytearray, memoryview)):
        data = payload if isinstance(payload, bytes) else bytes(payload)
        if _plain_utf8(data):
            bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
            return _parse(data, lambda: _decode(data)), len(data) - bom
        text = _decode(data)
    elif isinstance(payload, str):
        text = payload[1:] if payload.startswith("\ufeff") else payload
    else:
        raise RequestError(f"a payload is a dict or JSON text, not {type(payload).__name__}")
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return _parse(text, None), size


def _plain_utf8(data: bytes) -> bool:
    """Whether json.loads(data) reads `data` as `data.decode("utf-8-sig")` would: no UTF-16/32 (a BOM, or a NUL
    in the first bytes, which json.detect_encoding takes for UTF-16/32) and no 0xED byte (json.loads decodes
    with surrogatepass, which lets UTF-8-encoded surrogates through; a strict decode refuses them)."""
    return not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and 0 not in data[:4] and b"\xed" not in data


def _parse(text: str | bytes, decode) -> dict:
    """The JSON object in `text`; RequestError naming why not. `decode` words a UTF-8 error in bytes."""
    try:
        if isinstance(text, bytes):
            document = loads(text, parse_constant=no_constant, parse_int=parse_int)
        else:
            document = json.loads(text, parse_constant=no_constant, parse_int=parse_int)
    except RequestError:
        raise
    except UnicodeDecodeError:
        decode()  # raises the error worded with the offset in the payload
        raise
    except json.JSONDecodeError as error:
        raise RequestError(f"payload is not JSON: {error}") from None
    except RecursionError:
        raise RequestError(
            "payload is nested too deeply to read (JSON nested about a thousand levels or more)"
        ) from None
    if not isinstance(document, dict):
        raise RequestError(f"payload is JSON but not an object: it is {json_kind(document)}")
    return document


def _decode(data: bytes) -> str:
    """Payload bytes as text: UTF-8 (a byte-order mark is dropped), or UTF-16 when it starts with its BOM."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # PowerShell's `>` writes UTF-16
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RequestError(
            f"payload is not UTF-8 text: byte {error.object[error.start]:#04x} at offset "
            f"{error.start:,} ({error.reason})"
        ) from None


def no_constant(name: str):
    raise RequestError(f"payload is not JSON: {name} is not a JSON value (JSON has no NaN or Infinity)")


def parse_int(text: str) -> int | float:
    """A JSON integer; one too long for Python's int() (over 4,300 digits) becomes ±inf, still a number."""
    return int(text) if len(text) <= 4000 else float(text)


def model_name(document: dict, model: Any) -> str:
    """The model to price for: the caller's, else the payload's `model` (Bedrock: `modelId`)."""
    if model is None:
        key = "model" if "model" in document else "modelId"
        model = document.get(key)
        if model is None:
            raise RequestError("no model: the payload has no 'model' (or Bedrock 'modelId'); pass model=")
        if not isinstance(model, str):
            raise RequestError(f"'{key}' must be a model name, not {show_value(model)}")
    if isinstance(model, str) and len(model) > MAX_MODEL_NAME:
        raise UnknownModelError(model[:40] + f"... ({len(model):,} characters)")
    return model


def check_file_sizes(sizes: Any) -> dict[str, tuple[int, int]]:
    """file_sizes= checked once: each a (width, height) of positive whole pixels."""
    from .cost import check_size

    if not sizes:
        return {}
    if not hasattr(sizes, "items"):
        raise RequestError("file_sizes must map file ids (or URIs) to (width, height)")
    checked = {}
    for key, size in sizes.items():
        try:
            width, height = size
        except (TypeError, ValueError):
            raise RequestError(
                f"file_sizes[{show_value(key)}] must be (width, height), not {show_value(size)}"
            ) from None
        try:
            checked[key] = check_size(width, height)
        except CostcalcError as error:
            raise RequestError(f"file_sizes[{show_value(key)}]: {error}") from None
    return checked
