"""Batch files and logs as output (docs/README.md): rows streamed as a JSON document, JSON lines or CSV, or for people
a table of the costliest requests and the totals."""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import Any, TextIO

from ..runs.batchfile import KINDS, BatchRow, BatchSums, BatchTotals, row_fields, row_image_tokens, row_image_usd
from .report import _bytes, counted, format_usd, render_table, tokens_cell, total_basis
from .stream import RowWriter

__all__ = ["TOP", "BatchWriter", "batch_summary", "batch_table"]

TOP = 10
"""How many requests the table shows: all of them when no more, else the costliest."""


class BatchWriter:
    """Writes a file's rows as they are priced: `json` (one document), `nl`, `csv`; None keeps the TOP costliest."""

    def __init__(self, output: str | None, out: TextIO, head: dict[str, Any]):
        self.output, self.out, self.count = output, out, 0
        self._top: list[tuple[tuple, BatchRow]] = []
        self._rows = None if output is None else RowWriter(output, out, row_fields(), head)

    def row(self, row: BatchRow) -> None:
        """One request's row."""
        self.count += 1
        if self._rows is not None:
            self._rows.row(row.as_dict())
        else:
            estimate = row.estimate  # the costliest: by the whole input's USD where known, else the images'
            usd = (
                None
                if estimate is None
                else next(
                    (value for value in (getattr(estimate, "input_usd", None), estimate.usd) if value is not None), None
                )
            )
            usd = Decimal(-1) if usd is None else usd
            tokens = (estimate.image_tokens or 0) if estimate is not None else -1
            key = (usd, tokens, -self.count)  # unique: a one-line document has many rows on one line
            (heapq.heappush if len(self._top) < TOP else heapq.heappushpop)(self._top, (key, row))

    def top(self) -> list[BatchRow]:
        """The rows the table shows: every row in file order when there are at most TOP, else the costliest first."""
        if self.count <= TOP:
            return [row for key, row in sorted(self._top, key=lambda item: -item[0][-1])]
        return [row for _, row in sorted(self._top, key=lambda item: item[0], reverse=True)]

    def end(self, tail: dict[str, Any]) -> None:
        """Close a JSON document with `tail` (totals, findings, budget)."""
        if self._rows is not None:
            self._rows.end(tail if self.output == "json" else None)
        else:
            self.out.flush()


def batch_table(rows: list[BatchRow], count: int) -> str:
    """The requests shown (`rows` of `count`): line, custom_id, model, images, tokens and USD; `error` when unread."""
    extra = bool(rows) and any(
        row.estimate is not None and getattr(row.estimate, "input_tokens", None) is not None for row in rows
    )
    header = ["line", "request", "model", "images", "image tokens", *(["input tokens"] if extra else []), "USD"]
    body = []
    for row in rows:
        estimate = row.estimate
        if estimate is None:
            body.append([str(row.line), row.custom_id or "-", "-", "-", "error", *([""] if extra else []), ""])
            continue
        images = f"{len(estimate.images):,}" + (f" ({estimate.unpriced:,} unpriced)" if estimate.unpriced else "")
        bases = {image.basis for image in estimate.images if image.tokens is not None}
        whole = [tokens_cell(getattr(estimate, "input_tokens", None), total_basis(bases))] if extra else []
        body.append(
            [
                str(row.line),
                row.custom_id or "-",
                estimate.model,
                images,
                tokens_cell(row_image_tokens(estimate), total_basis(bases)),
                *whole,
                format_usd(row_image_usd(estimate)),
            ]
        )
    if not body:
        return "no requests"
    table = render_table([header], body, right={0, 3, 4, 5, 6})
    if count > len(rows):
        table += f"\n(the {len(rows)} costliest of {count:,} requests; --nl or --csv lists every one)"
    return table


def _sums(sums: BatchSums) -> str:
    basis = total_basis(sums.bases)
    text = (
        f"{counted(sums.requests, 'request')} priced, {counted(sums.images, 'image')}"
        + (f" ({sums.unpriced:,} unpriced)" if sums.unpriced else "")
        + f"; {tokens_cell(sums.image_tokens, basis)} image tokens, "
        f"{format_usd(sums.usd)}"
    )
    if getattr(sums, "input_tokens", None) is not None:
        text += f"; whole input {tokens_cell(sums.input_tokens, basis)} tokens, {format_usd(sums.input_usd)}"
    return text


def batch_summary(name: str, kind: str, tier: str, tier_note: str | None, totals: BatchTotals) -> str:
    """The file, its kind and size, the sums per model (when more than one) and the total at the tier priced."""
    unread = f", {totals.errors:,} could not be read or priced" if totals.errors else ""
    lines = [f"{name}: {KINDS[kind]}, {counted(totals.requests, 'request')}{unread}; {_bytes(totals.bytes)}"]
    if len(totals.models) > 1:
        lines += [f"  {model}: {_sums(sums)}" for model, sums in totals.models.items()]
    at = f"at standard prices ({tier_note})" if tier_note else f"at the {tier} tier"
    only = f" ({next(iter(totals.models))})" if len(totals.models) == 1 else ""
    lines.append(f"total{only} {at}: {_sums(totals.priced)}")
    return "\n".join(lines)
