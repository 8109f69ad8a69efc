"""Reading an Anthropic Message Batches document, `{"requests": [...]}`, an element at a time with line numbers."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

from ..errors import RequestError
from ..files import MAX_SOURCE_BYTES
from ..pricing.payload import no_constant, parse_int
from .batchrows import BatchTotals

__all__ = ["Broken", "JsonDocument", "DECODER"]

DECODER = json.JSONDecoder(parse_constant=no_constant, parse_int=parse_int)
_SPACE = re.compile(r"[ \t\n\r]*")


class Broken(Exception):
    """A Message Batches document that cannot be read on from here: the line and the reason."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


class JsonDocument:
    """The elements of `{"requests": [...]}` read a piece at a time (never the whole document), with line numbers.

    Each element is decoded once it is whole: the buffer holds what is not yet
    read, growing at least twofold while an element is cut off, so a large
    element costs linear time and the memory of that element only.
    """

    CHUNK = 1 << 20

    def __init__(self, chunks: Iterator[bytes], totals: BatchTotals):
        self._chunks, self._totals = chunks, totals
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text, self.pos, self.eof = "", 0, False
        self._line, self._line_pos = 1, 0  # the line number at text[_line_pos]

    def _line_at(self, index: int) -> int:
        """The line number of text[index], counted forward only."""
        if index > self._line_pos:
            self._line += self.text.count("\n", self._line_pos, index)
            self._line_pos = index
        return self._line

    def _more(self, wanted: int = 1) -> bool:
        """Read on, at least `wanted` characters when the file has them; False at the end."""
        if self.eof:
            return False
        if self.pos > self.CHUNK:  # drop what has been read
            self._line_at(self.pos)
            self.text, self._line_pos, self.pos = self.text[self.pos :], self._line_pos - self.pos, 0
        if len(self.text) - self.pos > MAX_SOURCE_BYTES:  # one element that never ends: an error, not an OOM
            raise Broken(self._line_at(self.pos), f"a request of over {MAX_SOURCE_BYTES:,} bytes: not read further")
        parts, size = [self.text], len(self.text)
        target = size + max(wanted, 1)
        try:
            while size < target:
                chunk = next(self._chunks, None)
                if chunk is None:
                    parts.append(self._decoder.decode(b"", final=True))
                    self.eof = True
                    break
                self._totals.bytes += len(chunk)
                parts.append(self._decoder.decode(chunk))
                size += len(parts[-1])
        except UnicodeDecodeError as error:
            raise Broken(self._line_at(len(self.text)), f"not UTF-8 text ({error.reason})") from None
        self.text = "".join(parts)
        return True

    def _next(self) -> str:
        """The next character that is not white space ('' at the end); pos is on it."""
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                return ""

    def _value(self) -> Any:
        """The JSON value at the next non-space character, reading on while it is cut off; Broken when not JSON."""
        self._next()
        while True:
            try:
                value, end = DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                cut = error.msg.startswith("Unterminated string") or error.pos >= len(self.text) - 8
                if cut and self._more(len(self.text) - self.pos):
                    continue
                raise Broken(self._line_at(error.pos), f"not JSON: {error.msg}") from None
            except RequestError as error:
                raise Broken(self._line_at(self.pos), str(error)) from None
            except RecursionError:
                raise Broken(self._line_at(self.pos), "JSON nested too deeply to read") from None
            if end == len(self.text) and not isinstance(value, (dict, list, str)) and self._more():
                continue  # a number (or literal) may go on in the next piece
            self.pos = end
            return value

    def _expect(self, chars: str, what: str) -> str:
        char = self._next()
        if not char or char not in chars:
            found = repr(char) if char else "the end of the file"
            raise Broken(self._line_at(self.pos), f"not a Message Batches body: expected {what}, found {found}")
        self.pos += 1
        return char

    def requests(self) -> Iterator[tuple[int, int, Any]]:
        """(line, index, value) of each element of the top-level `requests` list."""
        self._expect("{", "'{'")
        found = False
        if self._next() == "}":
            self.pos += 1
        else:
            while True:
                if self._next() != '"':
                    self._expect('"', "a key")
                key = self._value()
                self._expect(":", "':'")
                if key == "requests" and self._next() == "[":
                    found = True
                    self.pos += 1
                    yield from self._elements()
                else:
                    self._value()  # another key's value: skipped
                if self._expect(",}", "',' or '}'") == "}":
                    break
        if self._next():
            raise Broken(self._line_at(self.pos), "not a Message Batches body: more after the document's end")
        if not found:
            raise Broken(1, 'not a Message Batches body: no "requests" list')

    def _elements(self) -> Iterator[tuple[int, int, Any]]:
        if self._next() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            self._next()
            yield self._line_at(self.pos), index, self._value()
            index += 1
            if self._expect(",]", f"',' or ']' after requests[{index - 1}]") == "]":
                return
