"""JSON text with long strings in it, parsed in the time of its small skeleton.

A request body of a few photos is megabytes of base64 in a few strings and a few hundred
bytes of structure. `json.loads` walks every byte of those strings; here the strings'
bounds are found with a `"`-search (memchr speed: base64 holds no quote), each long string
is cut out of the text and parsed on its own (a plain ASCII decode when it holds no
backslash, else `json.loads` of that string alone), and only the skeleton left around
them goes through the JSON parser. The result equals `json.loads(data)` — same values,
same types, the same errors — for every input; anything the fast path is not sure of
(invalid UTF-8, a quote it cannot pair, a marker clash) goes to `json.loads` unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["loads", "LONG"]

LONG = 4096
"""A string at least this many bytes long is parsed apart from the skeleton."""

_MARK = "\x00costcalc-long-string\x00"
"""The skeleton's stand-in for the i-th long string: this text and i. JSON text cannot hold a raw NUL."""


def loads(data: bytes, **options: Any) -> Any:
    """`json.loads(data, **options)` for UTF-8 JSON bytes, fast when long strings make up most of it.

    `options` are json.loads' own (`parse_constant`, `parse_int`, ...), applied to the skeleton.
    """
    if len(data) < 4 * LONG or 0 in data[:4] or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return json.loads(data, **options)  # small, or UTF-16/32 (json.detect_encoding): no fast path
    spans = _long_strings(data)
    if not spans:
        return json.loads(data, **options)
    try:
        strings = [_string(data, start, end) for start, end in spans]
    except (UnicodeDecodeError, ValueError):
        return json.loads(data, **options)  # let the parser word the error
    parts, last = [], 0
    for index, (start, end) in enumerate(spans):
        parts.append(data[last : start + 1])
        parts.append(f"\\u0000costcalc-long-string\\u0000{index}".encode())
        last = end
    parts.append(data[last:])
    skeleton = b"".join(parts)
    found: list[int] = []
    try:
        document = json.loads(skeleton, **options)
    except ValueError:  # positions in the skeleton are not the text's, nor its encoding: the full parse says it
        return json.loads(data, **options)
    document = _restore(document, strings, found)
    if len(found) != len(strings):  # a marker was a key, or lost: be exact instead
        return json.loads(data, **options)
    return document


def _long_strings(data: bytes) -> list[tuple[int, int]]:
    """(opening quote, closing quote) of every string at least LONG bytes long; [] when unsure.

    Outside strings JSON has no `"`, so unescaped quotes alternate: opener, closer, opener…
    A quote is escaped when an odd run of backslashes stands before it.
    """
    spans = []
    opening = None
    at = -1
    while (at := data.find(b'"', at + 1)) >= 0:  # memchr: a long base64 string is crossed at memory speed
        run = 0
        while at - run - 1 >= 0 and data[at - run - 1] == 0x5C:  # backslashes
            run += 1
        if run % 2:
            if opening is None:
                return []  # an escaped quote outside a string: not JSON; the parser says so
            continue
        if opening is None:
            opening = at
        else:
            if at - opening - 1 >= LONG:
                spans.append((opening, at))
            opening = None
    return spans if opening is None else []


def _string(data: bytes, start: int, end: int) -> str:
    """The string between the quotes at `start` and `end`, as json.loads reads it."""
    if data.find(b"\\", start + 1, end) < 0:
        try:
            text = str(memoryview(data)[start + 1 : end], "ascii")  # checks ASCII as it copies
        except UnicodeDecodeError:
            text = None
        if text is not None and not _has_control(data, start + 1, end):
            return text
    return json.loads(data[start : end + 1])  # escapes, or text json.loads refuses (it words why)


def _has_control(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] holds a byte below 0x20, which a JSON string may not hold raw (RFC 8259,
    section 7)."""
    import numpy as np

    return bool(np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start).min() < 0x20)


def _restore(value: Any, strings: list[str], found: list[int]) -> Any:
    """`value` with each marker string replaced by its long string (markers as keys are left: caught after)."""
    stack: list[tuple[Any, Callable[[Any], None]]] = []
    root: list[Any] = [value]
    stack.append((value, lambda new: root.__setitem__(0, new)))
    while stack:
        item, put = stack.pop()
        if isinstance(item, str):
            if item.startswith(_MARK):
                index = int(item[len(_MARK) :])
                found.append(index)
                put(strings[index])
        elif isinstance(item, list):
            for i, child in enumerate(item):
                if isinstance(child, (str, list, dict)):
                    stack.append((child, lambda new, i=i, item=item: item.__setitem__(i, new)))
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(child, (str, list, dict)):
                    stack.append((child, lambda new, key=key, item=item: item.__setitem__(key, new)))
    return root[0]
