"""Audit output, streamed: a table for people, CSV, one JSON document, or JSON lines.

Every writer takes rows as they come and keeps nothing but the current file's
rows, so memory stays flat however long the audit.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from typing import Callable, Sequence, TextIO

from .audit import AUDIT_FIELDS, AuditRow, Totals
from .report import format_usd, render_table

__all__ = ["writer_for", "totals_table", "Progress"]


class _Writer:
    """Base: rows in, text out; `finish` closes the document."""

    def __init__(self, out: TextIO, models: Sequence[str]):
        self.write: Callable[[str], object] = out.write
        self.models = models

    def row(self, row: AuditRow) -> None:
        raise NotImplementedError

    def finish(self, totals: Totals, extra: dict) -> None:
        """Close the document (totals go wherever the format puts them)."""


class _Lines(_Writer):
    """--nl: one JSON object per file and model, as it comes."""

    def row(self, row: AuditRow) -> None:
        self.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")


class _Csv(_Writer):
    """--csv: a header row, then one row per file and model."""

    def __init__(self, out: TextIO, models: Sequence[str]):
        super().__init__(out, models)
        self.csv = csv.writer(out, lineterminator="\n")
        self.csv.writerow(AUDIT_FIELDS)

    def row(self, row: AuditRow) -> None:
        values = row.as_dict()
        self.csv.writerow(["" if values[name] is None else values[name] for name in AUDIT_FIELDS])


class _Json(_Writer):
    """--json: one document {"rows": [...], "totals": {...}, ...}, written as it goes."""

    def __init__(self, out: TextIO, models: Sequence[str]):
        super().__init__(out, models)
        self.write('{\n  "rows": [')
        self.first = True

    def row(self, row: AuditRow) -> None:
        self.write(("\n    " if self.first else ",\n    ") + json.dumps(row.as_dict(), ensure_ascii=False))
        self.first = False

    def finish(self, totals: Totals, extra: dict) -> None:
        document = {"totals": {name: t.as_dict() for name, t in totals.by_model.items()}, **extra}
        tail = json.dumps(document, indent=2, ensure_ascii=False)[1:-1].rstrip()
        self.write(("\n  ]," if not self.first else "],") + tail + "\n}\n")


class _Table(_Writer):
    """A table for people: one line per file, each model's tokens and USD, then totals."""

    TOKENS, USD = 10, 12

    def __init__(self, out: TextIO, models: Sequence[str], per_file: bool = True):
        super().__init__(out, models)
        self.per_file = per_file
        self.pending: list[AuditRow] = []
        self.widths = [max(len(name) - self.USD - 2, self.TOKENS) for name in models]
        if per_file:
            top = " " * 20 + "".join(f"{name:<{w + self.USD + 2}}  " for name, w in zip(models, self.widths))
            bottom = f"{'format':<6}  {'size':>11}  " + "".join(
                f"{'tokens':>{w}}  {'USD':>{self.USD}}  " for w in self.widths
            )
            self.write(top.rstrip() + "\n" + bottom + "path\n")

    def row(self, row: AuditRow) -> None:
        if self.pending and self.pending[0].path != row.path:
            self._flush()
        self.pending.append(row)

    def _flush(self) -> None:
        rows, self.pending = self.pending, []
        if not self.per_file:
            return
        first = rows[0]
        size = f"{first.width}×{first.height}" if first.width else "-"
        cells = []
        reason = None
        for row, width in zip(rows, self.widths):
            if row.status == "priced":
                cells.append(f"{row.tokens:>{width},}  {format_usd(row.usd):>{self.USD}}")
            else:
                cells.append(f"{row.status:>{width}}  {(row.rule or ''):>{self.USD}}")
                reason = reason or (row.error or "").removeprefix(f"{row.path}: ")
        line = f"{first.format or '-':<6}  {size:>11}  " + "".join(cell + "  " for cell in cells) + first.path
        self.write(line + (f"  ({reason})" if reason else "") + "\n")

    def finish(self, totals: Totals, extra: dict) -> None:
        if self.pending:
            self._flush()
        self.write(("\n" if self.per_file else "") + totals_table(totals) + "\n")


def totals_table(totals: Totals) -> str:
    """Per-model totals: files by status, tokens, USD; then rejections by rule."""
    header = [["model", "files", "priced", "rejected", "unreadable", "skipped", "tokens", "USD"]]
    body, rules = [], []
    for name, t in totals.by_model.items():
        usd = "unknown" if t.unknown_price else format_usd(t.usd)
        body.append([name, *(f"{n:,}" for n in (t.files, t.priced, t.rejected, t.unreadable, t.skipped, t.tokens)), usd])
        if t.rules:
            rules.append(f"{name} rejected by rule: " + ", ".join(f"{rule} {n:,}" for rule, n in sorted(t.rules.items())))
    text = render_table(header, body, right=set(range(1, 8)))
    return text + ("\n" + "\n".join(rules) if rules else "")


def writer_for(output: str | None, out: TextIO, models: Sequence[str], summary: bool = False) -> _Writer:
    """The writer for --nl, --csv, --json, or the table (per file unless `summary`)."""
    if output == "nl":
        return _Lines(out, models)
    if output == "csv":
        return _Csv(out, models)
    if output == "json":
        return _Json(out, models)
    return _Table(out, models, per_file=not summary)


class Progress:
    """A one-line counter on stderr, redrawn at most five times a second; silent when disabled."""

    def __init__(self, enabled: bool, stream: TextIO = sys.stderr):
        self.enabled = enabled
        self.stream = stream
        self.start = self.last = time.monotonic()
        self.files = 0

    def tick(self) -> None:
        """Count one file; redraw when due."""
        self.files += 1
        if self.enabled and self.files % 64 == 0:
            now = time.monotonic()
            if now - self.last >= 0.2:
                self.last = now
                rate = self.files / max(now - self.start, 1e-9)
                self.stream.write(f"\r{self.files:,} files · {now - self.start:.1f}s · {rate:,.0f} files/s")
                self.stream.flush()

    def done(self) -> None:
        """Erase the line."""
        if self.enabled and self.last != self.start:
            self.stream.write("\r\033[K")
            self.stream.flush()
