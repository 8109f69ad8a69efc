"""Turning estimates and tables into text: aligned tables, CSV and JSON with stable fields."""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Sequence

from ..pricing.cost import Estimate
from ..pricing.rules import FixedRule, PatchRule, TileRule
from ..pricing.tables import Model, Tables

__all__ = [
    "ESTIMATE_FIELDS",
    "estimate_row",
    "error_row",
    "format_usd",
    "render_table",
    "to_csv",
    "to_json",
    "to_lines",
    "estimates_table",
    "model_row",
    "models_table",
]

ESTIMATE_FIELDS = (
    "source",
    "model",
    "family",
    "detail",
    "applied_detail",
    "width",
    "height",
    "scaled_width",
    "scaled_height",
    "tiles",
    "patches",
    "tokens",
    "usd",
    "usd_per_1m_input",
    "price_source",
    "error",
)
"""The fields of one estimate row in --json and --csv output, in order."""

_USD_STEP = Decimal("0.00000001")


def estimate_row(estimate: Estimate) -> dict[str, Any]:
    """A priced row: the estimate's fields and `error` null."""
    return {**estimate.as_dict(), "error": None}


def error_row(source: str | None, model: str, detail: str, error: str, size: tuple[int, int] | None = None) -> dict:
    """A row that could not be priced: what is known, the rest null, and the reason."""
    row: dict[str, Any] = dict.fromkeys(ESTIMATE_FIELDS)
    row.update(source=source, model=model, detail=detail, error=error)
    if size:
        row.update(width=size[0], height=size[1])
    return row


def format_usd(usd: Decimal | None) -> str:
    """Exact to 8 decimals, at least 2 (`$0.0027625`, `$12.50`), or `unknown` without a price."""
    if usd is None:
        return "unknown"
    text = f"{usd.quantize(_USD_STEP, rounding=ROUND_HALF_UP):,f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def to_json(rows: Sequence[dict]) -> str:
    """One JSON document: a list of row objects."""
    return json.dumps(list(rows), indent=2, ensure_ascii=False)


def to_lines(rows: Iterable[dict]) -> str:
    """JSON lines: one compact object per row, each line ending in a newline."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def to_csv(rows: Iterable[dict], fields: Sequence[str] = ESTIMATE_FIELDS) -> str:
    """CSV with a header row; empty cells for nulls."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def render_table(header: Sequence[Sequence[str]], body: Sequence[Sequence[str]], right: set[int]) -> str:
    """Columns padded to their widest cell; `right` holds the right-aligned column indexes."""
    lines = [*header, *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if i in right else text.ljust(widths[i])

    return "\n".join("  ".join(cell(i, text) for i, text in enumerate(line)).rstrip() for line in lines)


def estimates_table(
    sources: Sequence[tuple[str, tuple[int, int] | None]],
    models: Sequence[str],
    results: dict[tuple[int, str], Estimate | str],
) -> str:
    """One row per image, each model's tokens and USD side by side, totals when there are several."""
    top = ["", ""]
    bottom = ["image", "size"]
    for name in models:
        top += [name, ""]
        bottom += ["tokens", "USD"]
    body = []
    totals: dict[str, list] = {name: [0, Decimal(0), 0] for name in models}  # tokens, usd, unknown prices
    for index, (label, size) in enumerate(sources):
        row = [label, f"{size[0]}×{size[1]}" if size else "?"]
        for name in models:
            result = results[(index, name)]
            if isinstance(result, Estimate):
                row += [f"{result.tokens:,}", format_usd(result.usd)]
                totals[name][0] += result.tokens
                if result.usd is None:
                    totals[name][2] += 1
                else:
                    totals[name][1] += result.usd
            else:
                row += ["error", ""]
        body.append(row)
    if len(sources) > 1:
        total = ["total", ""]
        for name in models:
            tokens, usd, unknown = totals[name]
            total += [f"{tokens:,}", "unknown" if unknown else format_usd(usd)]
        body.append(total)
    right = set(range(2, 2 + 2 * len(models)))
    return render_table([top, bottom], body, right)


def _detail_cell(rule) -> str:
    if isinstance(rule, FixedRule):
        return f"{rule.tokens}"
    if isinstance(rule, TileRule):
        return f"{rule.base}+{rule.tile}/tile"
    if isinstance(rule, PatchRule):
        return f"{rule.max_dimension}/{rule.patch_budget if rule.patch_budget is not None else '-'}"
    raise TypeError(rule)


def model_row(model: Model, tables: Tables) -> dict[str, Any]:
    """A model as a JSON-ready dict: scheme, detail rules, price and sources."""
    details: dict[str, Any] = {}
    for level, rule in model.rules:
        if isinstance(rule, FixedRule):
            details[level] = {"tokens": rule.tokens, "fit": rule.fit}
        elif isinstance(rule, TileRule):
            details[level] = {
                "base": rule.base,
                "tile": rule.tile,
                "fit": rule.fit,
                "short_side": rule.short_side,
                "tile_size": rule.tile_size,
            }
        else:
            details[level] = {
                "max_dimension": rule.max_dimension,
                "patch_budget": rule.patch_budget,
                "patch_size": rule.patch_size,
                "max_patches": rule.max_patches,
            }
    price = tables.price(model)
    return {
        "name": model.name,
        "scheme": model.scheme,
        "auto": model.auto,
        "multiplier": None if model.multiplier is None else str(model.multiplier),
        "details": details,
        "usd_per_1m_input": None if price is None else str(price.usd_per_1m_input),
        "price_source": None if price is None else price.source,
        "price_date": None if price is None else price.date,
        "source": model.source,
        "date": model.date,
        "checked": model.checked,
    }


def models_table(models: Sequence[Model], tables: Tables) -> str:
    """The model table as text: tile cells are base+tile, patch cells max_dimension/patch_budget."""
    header = [["model", "scheme", "low", "high", "original", "auto", "mult", "USD/1M in", "date", "source"]]
    body = []
    for model in models:
        rules = dict(model.rules)
        price = tables.price(model)
        body.append(
            [
                model.name,
                model.scheme,
                *(_detail_cell(rules[level]) if level in rules else "-" for level in ("low", "high", "original")),
                model.auto,
                "-" if model.multiplier is None else str(model.multiplier),
                "unknown" if price is None else f"{price.usd_per_1m_input:.2f}",
                model.date,
                model.source,
            ]
        )
    return render_table(header, body, right={7})


def _bytes(count: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


def mirror_line(row) -> str:
    """One preflight row for people: status, size before → after, bytes, tokens, path → output."""
    if row.status != "written":
        reason = f"  ({row.error.removeprefix(f'{row.path}: ')})" if row.error else ""
        return f"{row.status:<10}  {row.path}{reason}"
    before = "rejected" if row.tokens_before is None else f"{row.tokens_before:,}"
    return (
        f"{'written':<10}  {row.width}×{row.height} → {row.target_width}×{row.target_height}  "
        f"{_bytes(row.bytes_before)} → {_bytes(row.bytes_after)}  {before} → {row.tokens_after:,} tokens  "
        f"{row.path} → {row.output}"
    )


def mirror_summary(totals) -> str:
    """Totals of a preflight run: files by status, bytes and tokens before → after."""
    saved = totals.bytes_before - totals.bytes_after
    share = f" ({saved / totals.bytes_before:.0%} less)" if totals.bytes_before else ""
    unknown = f" (+{totals.unknown_tokens_before} rejected before)" if totals.unknown_tokens_before else ""
    return (
        f"{totals.files:,} {'file' if totals.files == 1 else 'files'}: {totals.written:,} written, {totals.up_to_date:,} up to date, "
        f"{totals.skipped:,} skipped, {totals.errors:,} errors\n"
        f"bytes  {_bytes(totals.bytes_before)} → {_bytes(totals.bytes_after)}{share}\n"
        f"tokens {totals.tokens_before:,}{unknown} → {totals.tokens_after:,}"
    )


def request_table(estimate) -> str:
    """The images of a request, each with where it is, its size, detail, tokens and USD, then the totals."""
    header = [["where", "image", "size", "detail", "tokens", "USD"]]
    body = []
    for image in estimate.images:
        size = f"{image.width}×{image.height}" if image.width else "-"
        detail = image.detail if image.applied_detail in (None, image.detail) else f"{image.detail}→{image.applied_detail}"
        cost = [f"{image.tokens:,}", format_usd(image.usd)] if image.tokens is not None else [
            "rejected" if image.rule else "unpriced", image.rule or ""]
        body.append([image.where, image.reference, size, detail, *cost])
    total = format_usd(estimate.usd) if estimate.usd is not None else "unknown"
    table = render_table(header, body, right={4, 5}) if body else "no images"
    return (
        f"{table}\n\n{estimate.model}: {len(estimate.images):,} images, {estimate.unpriced:,} unpriced; "
        f"{estimate.image_tokens:,} image tokens, {total}; payload {_bytes(estimate.payload_bytes)}"
    )


def video_table(rows, models) -> str:
    """One row per clip: upright size, duration, frames sent of the clip's, sent size; each model's tokens and USD."""
    top = ["", "", "", "", ""] + [cell for name in models for cell in (name, "")]
    header = ["clip", "size", "seconds", "frames", "sent at"] + ["tokens", "USD"] * len(models)
    body, totals = [], {name: [0, Decimal(0), False] for name in models}
    for clip, result in rows:
        if isinstance(result, str):
            body.append([clip, "error", "", "", ""] + ["", ""] * len(models))
            continue
        first = result[0]
        info = first.info
        count = f"{first.frames:,}/{info.frames:,}" + ("" if info.frames_exact else "~")
        line = [clip, f"{info.upright[0]}×{info.upright[1]}", f"{float(info.duration):.1f}", count,
                f"{first.frame_width}×{first.frame_height}"]  # fmt: skip
        for estimate in result:
            line += [f"{estimate.tokens:,}", format_usd(estimate.usd)]
            total = totals[estimate.model]
            total[0] += estimate.tokens
            if estimate.usd is None:
                total[2] = True
            else:
                total[1] += estimate.usd
        body.append(line)
    if len(rows) > 1:
        body.append(["total", "", "", "", ""] + [cell for name in models for cell in (
            f"{totals[name][0]:,}", "unknown" if totals[name][2] else format_usd(totals[name][1]))])
    text = render_table([top, header], body, right={2, 3} | set(range(5, 5 + 2 * len(models))))
    sampling = next((result[0].sampling for _, result in rows if not isinstance(result, str)), "")
    return text + (f"\n\nsampling: {sampling}" if sampling else "")
