"""The one writer of machine output: one JSON document, JSON lines, or CSV, streamed a row at a time.

Every command that writes rows writes them through here (`RowWriter`, or for the
audit's chunks rendered in worker processes the pieces it is built of), so the
three formats look and escape alike everywhere:

- JSON: `json.dumps` text (no NaN or Infinity), non-ASCII as itself, a lone
  surrogate (a path's byte that is not UTF-8, as os.fsdecode gives it) as its
  `\\udcXX` escape, so the text is valid UTF-8 and os.fsencode gets the bytes back.
  A document is a list of rows, or an object whose `rows` list streams between
  its other members.
- JSON lines: one compact object per row.
- CSV: a header row; nulls empty, floats in plain decimals, lists and dicts as
  JSON; a text cell that a spreadsheet would read as a formula (starting with
  `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`, as
  OWASP advises against CSV injection (https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any, TextIO

__all__ = [
    "FORMATS",
    "RowWriter",
    "csv_cell",
    "csv_made",
    "csv_rows",
    "json_open",
    "json_rows_end",
    "json_safe",
    "json_text",
    "to_csv",
    "to_json",
    "to_lines",
]

FORMATS = ("json", "nl", "csv")
"""The machine formats: one JSON document, JSON lines, CSV."""

_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate: os.fsdecode's stand-in for a byte of a name that is not UTF-8 (U+DC80-U+DCFF), or one a
payload's JSON wrote as an escape. UTF-8 cannot carry it; JSON can, as an escape."""

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, CSV injection)."""


def json_safe(text: str) -> str:
    """JSON text whose lone surrogates are written as their `\\udcXX` escapes, so the text is valid UTF-8.

    They can only stand inside JSON strings, so the escape is exact: json.loads gives the same string back,
    and os.fsencode of a path gives back the very bytes of a name that is not UTF-8.
    """
    if text.isascii():  # the common case, at memory speed: no surrogate to escape
        return text
    return _SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def json_text(value: Any, indent: int | None = None) -> str:
    """The one JSON writer of every command: `json.dumps` (no NaN or Infinity: ValueError), non-ASCII
    as itself, lone surrogates escaped (`json_safe`)."""
    return json_safe(json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False))


def json_open(head: Mapping[str, Any] | None = None) -> str:
    """What opens a streamed `{..., "rows": [` document: `head`'s members first, then the rows' list."""
    if not head:
        return '{\n  "rows": ['
    return json_text(dict(head), indent=2)[:-2] + ',\n  "rows": ['


def json_rows_end(tail: Mapping[str, Any], rows: bool) -> str:
    """What closes a streamed `{..., "rows": [` document: the list (`rows`: were any written), then `tail`'s members."""
    if not tail:
        return ("\n  ]" if rows else "]") + "\n}\n"
    return ("\n  ]," if rows else "],") + json_text(dict(tail), indent=2)[1:-1].rstrip() + "\n}\n"


def csv_cell(value: Any) -> Any:
    """A cell: null empty, a float as plain decimals (`0.000078`, never `7.8e-05`), lists and dicts as JSON,
    and text that would start a spreadsheet formula prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_rows(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None) -> str:
    """CSV text of `rows` (each a sequence of values, cells as `csv_cell` makes them), after `header` if given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_made(rows: Iterable[Sequence[Any]]) -> str:
    """CSV text of `rows` whose cells `csv_cell` made already (made twice, a float cell such as `-0.5` would
    take a `'`)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


class RowWriter:
    """Writes rows to `out` as they come, in one machine format.

    `json`: a list of rows (`head` None), or an object of `head`'s members, the `rows`, and the tail given to
    `end`; `nl`: one object per line; `csv`: the `fields` as header, then one row each (missing fields empty).
    Nothing but the row being written is kept.
    """

    def __init__(self, output: str, out: TextIO, fields: Sequence[str] = (), head: Mapping[str, Any] | None = None):
        if output not in FORMATS:
            raise ValueError(f"output must be one of {', '.join(FORMATS)}, not {output!r}")
        self.output, self.out, self.fields, self.head = output, out, tuple(fields), head
        self.count = 0
        if output == "json":
            out.write("[" if head is None else json_open(head))
        elif output == "csv":
            out.write(csv_rows((), self.fields))

    def row(self, row: Mapping[str, Any]) -> None:
        """Write one row."""
        if self.output == "json":
            if self.head is None:
                text = "\n" + "\n".join("  " + line for line in json_text(dict(row), indent=2).split("\n"))
            else:
                text = "\n    " + json_text(dict(row))
            self.out.write(("," if self.count else "") + text)
        elif self.output == "nl":
            self.out.write(json_text(dict(row)) + "\n")
        else:
            self.out.write(csv_rows([[row.get(field) for field in self.fields]]))
        self.count += 1

    def rows(self, rows: Iterable[Mapping[str, Any]]) -> RowWriter:
        """Write each of `rows`; the writer back, to `end` it."""
        for row in rows:
            self.row(row)
        return self

    def end(self, tail: Mapping[str, Any] | None = None) -> None:
        """Close the document (a JSON object takes `tail`'s members after its rows) and flush."""
        if self.output == "json":
            if self.head is None:
                self.out.write(("\n]" if self.count else "]") + "\n")
            else:
                self.out.write(json_rows_end(tail or {}, bool(self.count)))
        self.out.flush()


def to_json(rows: Sequence[dict]) -> str:
    """One JSON document: a list of row objects (NaN or Infinity raise ValueError: they are not JSON)."""
    return json_text(list(rows), indent=2)


def to_lines(rows: Iterable[dict]) -> str:
    """JSON lines: one compact object per row, each line ending in a newline."""
    return "".join(json_text(row) + "\n" for row in rows)


def to_csv(rows: Iterable[dict], fields: Sequence[str]) -> str:
    """CSV with a header row of `fields`; cells as `csv_cell` makes them (fields a row lacks are empty)."""
    return csv_rows(([row.get(field) for field in fields] for row in rows), fields)
