"""Turning estimates and tables into text: aligned tables, CSV and JSON with stable fields."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from ..catalog.tables import Model, Price, Tables
from ..money import MONEY
from ..pricing.cost import Estimate
from ..schemes.base import MARKS, total_basis
from ..words import escape
from .stream import json_rows_end, json_safe, json_text, to_csv, to_json, to_lines

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ESTIMATE_FIELDS",
    "estimate_row",
    "error_row",
    "format_usd",
    "basis_legend",
    "json_safe",
    "json_text",
    "json_rows_end",
    "counted",
    "render_table",
    "to_csv",
    "to_json",
    "to_lines",
    "estimates_table",
    "model_row",
    "model_detail",
    "models_table",
    "price_fields",
    "tokens_cell",
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
    "basis",
    "usd",
    "tier",
    "usd_per_1m_input",
    "price_source",
    "price_from",
    "price_until",
    "as_of",
    "status",
    "shutdown",
    "warning",
    "note",
    "doubt",
    "rule",
    "error",
)
"""The fields of one estimate row in --json and --csv output, in order."""

_USD_STEP = Decimal("0.00000001")


def estimate_row(estimate: Estimate) -> dict[str, Any]:
    """A priced row: the estimate's fields, `rule` and `error` null."""
    return {**estimate.as_dict(), "rule": None, "error": None}


def error_row(
    source: str | None,
    model: str,
    detail: str,
    error: str,
    size: tuple[int, int] | None = None,
    rule: str | None = None,
    warning: str | None = None,
) -> dict:
    """A row that could not be priced: what is known, the rest null, the rule it breaks (if rejected) and the reason."""
    row: dict[str, Any] = dict.fromkeys(ESTIMATE_FIELDS)
    row.update(source=source, model=model, detail=detail, error=error, rule=rule, warning=warning)
    if size:
        row.update(width=size[0], height=size[1])
    return row


def format_usd(usd: Decimal | None) -> str:
    """Exact to 8 decimals, at least 2 (`$0.0027625`, `$12.50`), or `unknown` without a price."""
    if usd is None:
        return "unknown"
    text = f"{usd.quantize(_USD_STEP, rounding=ROUND_HALF_UP, context=MONEY):,f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def counted(count: int, noun: str) -> str:
    """`1 image`, `2 images`, `1,000 images`: a count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def render_table(header: Sequence[Sequence[str]], body: Sequence[Sequence[str]], right: set[int]) -> str:
    """Columns padded to their widest cell; `right` holds the right-aligned column indexes. Every cell is escaped
    (words.escape): a file name, a custom_id or a model name from a bill never moves the cursor or breaks a line."""
    lines = [*header, *([escape(text) for text in line] for line in body)]
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
    totals: dict[str, list] = {name: [0, Decimal(0), 0, set()] for name in models}  # tokens, usd, unknown, bases
    remarks: dict[str, str] = {}  # what the reader must know about a model, once each (docs/openai.md, docs/README.md)
    for index, (label, size) in enumerate(sources):
        row = [label, f"{size[0]}×{size[1]}" if size else "?"]
        for name in models:
            result = results[(index, name)]
            if isinstance(result, Estimate):
                row += [estimate_tokens_cell(result), format_usd(result.usd)]
                totals[name][0] = (
                    None if result.tokens is None or totals[name][0] is None else totals[name][0] + result.tokens
                )
                totals[name][3].add(result.basis)
                for text in (result.note, result.doubt and f"doubt: {result.doubt}"):
                    if text:
                        remarks.setdefault(f"{name}: {text}", name)
                if result.usd is None:
                    totals[name][2] += 1
                else:
                    totals[name][1] = MONEY.add(totals[name][1], result.usd)
            else:
                row += ["error", ""]
        body.append(row)
    if len(sources) > 1:
        total = ["total", ""]
        for name in models:
            tokens, usd, unknown, bases = totals[name]
            total += [tokens_cell(tokens, total_basis(bases)), "unknown" if unknown else format_usd(usd)]
        body.append(total)
    right = set(range(2, 2 + 2 * len(models)))
    bases = set().union(*(total[3] for total in totals.values()))
    lines = [*remarks, *basis_legend(bases)]
    if len(models) > 1:  # the models ranked by USD for these images, cheapest first (issue 20)
        failed = {
            name for name in models for index in range(len(sources)) if not isinstance(results[(index, name)], Estimate)
        }
        usd = {name: None if name in failed or totals[name][2] else totals[name][1] for name in models}
        lines.insert(0, ranking_line(usd, "these images" if len(sources) > 1 else "this image"))
    return render_table([top, bottom], body, right) + "".join(f"\n{line}" for line in (["", *lines] if lines else []))


def rank_by_usd(usd: dict[str, Decimal | None]) -> list[str]:
    """The model names by USD, cheapest first; an unknown USD (an unpriced image, an unknown price) last, in the
    order given."""
    order = {name: index for index, name in enumerate(usd)}
    return sorted(usd, key=lambda name: (usd[name] is None, usd[name] or 0, order[name]))


def ranking_line(usd: dict[str, Decimal | None], what: str, unpriced: dict[str, int] | None = None) -> str:
    """`cheapest first for these images: a $0.10, b $0.20 (+ 2 files unpriced), c unknown`."""
    unpriced = unpriced or {}
    return f"cheapest first for {what}: " + ", ".join(
        f"{name} {'unknown' if usd[name] is None else format_usd(usd[name])}"
        + (f" (+ {unpriced[name]:,} unpriced)" if unpriced.get(name) else "")
        for name in rank_by_usd(usd)
    )


_LEGEND = {
    "maximum": "≤ N: a documented maximum; the bill is at most this (docs/README.md)",
    "approximate": "≈ N: an approximation; the vendor publishes only approximate figures (docs/README.md)",
    "flat": "flat: the vendor bills one fixed count per image (docs/README.md)",
}
"""The line under an estimate table explaining each kind of figure that is not exact."""


def basis_legend(bases) -> list[str]:
    """The lines under a table saying what its `≤`, `≈` and flat figures mean, for the bases it shows (docs/README.md)."""
    return [text for basis, text in _LEGEND.items() if basis in bases]


MODEL_DETAILS = ("low", "medium", "high", "ultra_high", "original")
"""The detail columns of `models_table`; `auto` follows them."""


def tokens_cell(tokens: int | None, basis: str = "exact") -> str:
    """Tokens as a table shows them: `1,560`, `≤ 1,120` (maximum), `≈ 800` (approximate), or `unknown` (None)."""
    if tokens is None:
        return "unknown"
    return f"{MARKS.get(basis, '')}{tokens:,}"


def estimate_tokens_cell(estimate: Estimate) -> str:
    """An estimate's tokens cell; unknown tokens (docs/openai.md) show the patches, which are known: `unknown (11,750 patches)`."""
    if estimate.tokens is None and estimate.patches is not None:
        return f"unknown ({estimate.patches:,} patches)"
    return tokens_cell(estimate.tokens, estimate.basis)


def _detail_cell(rule) -> str:
    """One detail level of a model, compactly: what its rule is made of (the rule's own `cell`)."""
    return rule.cell()


def _rule_dict(rule) -> dict[str, Any]:
    """A rule's parameters as JSON-ready values (the rule's own `as_dict`)."""
    return rule.as_dict()


def _multiplier(model: Model) -> str | None:
    """The multiplier as text: a decimal, `unknown` on a patch row without one (docs/openai.md), else None."""
    if model.multiplier is not None:
        return str(model.multiplier)
    return "unknown" if model.tokens_unknown else None


def model_row(model: Model, tables: Tables) -> dict[str, Any]:
    """A model as a JSON-ready dict: vendor, scheme, how sure (bases), detail rules, the price in force on the
    tables' day (rates, tiers, window), its lifecycle that day, sources and evidence."""
    from ..catalog.measured import evidence_text, measurements

    price = tables.price(model)
    cases = measurements(model, tables=tables)
    return {
        "name": model.name,
        "vendor": model.vendor or None,
        "scheme": model.scheme,
        "bases": list(model.bases),
        "auto": model.auto,
        "multiplier": _multiplier(model),
        "details": {level: _rule_dict(rule) for level, rule in model.rules},
        **price_fields(price),
        "as_of": str(tables.as_of),
        **model.lifecycle.as_dict(tables.as_of),
        "note": model.note or None,
        "source": model.source,
        "date": model.date,
        "checked": model.checked,
        "evidence": model.evidence or None,
        "evidence_dates": evidence_text(model, cases) or None,
        "doubt": "; ".join(text for text in (model.doubt, price and price.doubt) if text) or None,
        "measured_cases": len(cases),
    }


def _number(value) -> float | None:
    return None if value is None else float(value)


def price_fields(price: Price | None) -> dict[str, Any]:
    """A price's JSON fields: input and cached rates, long context, tiers, its window and source (nulls when
    unknown)."""
    if price is None:
        return dict.fromkeys(
            (
                "usd_per_1m_input",
                "cached_input",
                "long_context",
                "tiers",
                "price_from",
                "price_until",
                "price_source",
                "price_date",
            )
        )
    long = price.long_context
    return {
        "usd_per_1m_input": _number(price.usd_per_1m_input),
        "cached_input": _number(price.cached_input),
        "long_context": None
        if long is None
        else {"above": long.above, "usd_per_1m_input": _number(long.usd_per_1m_input)},
        "tiers": {name: _number(rates.usd_per_1m_input) for name, rates in price.tiers},
        "price_from": None if price.valid_from is None else str(price.valid_from),
        "price_until": None if price.valid_until is None else str(price.valid_until),
        "price_source": price.source,
        "price_date": price.date,
    }


def models_table(models: Sequence[Model], tables: Tables) -> str:
    """The model table as text, readable at 100 columns: name, vendor, how sure (basis), the input price in
    force on the tables' day, and the model's status that day (with its shutdown date when one is set). A row in
    doubt is marked [n], its doubt printed under the table; `costcalc models NAME` shows one model in full."""
    header = [["model", "vendor", "basis", "USD/1M in", "status"]]
    body = []
    doubts: dict[str, list[str]] = {}
    day = tables.as_of
    for model in models:
        price = tables.price(model)
        life = model.lifecycle
        status = life.status(day)
        if life.shutdown is not None and status != "active":
            status += f" {life.shutdown}"
        name = model.name
        doubt = "; ".join(text for text in (model.doubt, price and price.doubt) if text)
        if doubt:
            doubts.setdefault(doubt, []).append(model.name)
            name += f" [{list(doubts).index(doubt) + 1}]"
        rate = "unknown" if price is None else f"{price.usd_per_1m_input:.2f}"
        bases = "/".join(_SHORT_BASIS.get(basis, basis) for basis in model.bases)
        body.append([name, model.vendor or "-", bases, rate, status])
    import textwrap

    notes = [
        textwrap.fill(f"[{n}] doubt ({', '.join(names)}): {doubt}", 100, subsequent_indent="    ")
        for n, (doubt, names) in enumerate(doubts.items(), 1)
    ]
    return render_table(header, body, right={3}) + "".join(f"\n{line}" for line in (["", *notes] if notes else []))


_SHORT_BASIS = {"approximate": "approx."}
"""How the models table spells a basis to stay within 100 columns (`--json` and `costcalc models NAME` in full)."""


def model_detail(model: Model, tables: Tables) -> str:
    """One model in full, a line per field: its rules, the price in force (rates, tiers, window), lifecycle, sources."""
    row = model_row(model, tables)
    row["details"] = {level: rule.cell() for level, rule in model.rules}  # each rule as the table shows it
    lines = []
    for key, value in row.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        lines.append(f"{key + ':':<18} {'-' if value is None else value}")
    windows = [f"{p.usd_per_1m_input:.2f} {_window(p)}" for p in tables.prices_of(model)]
    if len(windows) > 1:
        lines.append(f"{'price windows:':<18} " + "; ".join(windows))
    return "\n".join(lines)


def _window(price: Price) -> str:
    start, end = price.valid_from, price.valid_until
    return f"({start or '…'} → {end or '…'})"


def _bytes(count: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


def optimize_line(row, words=None) -> str:
    """One preflight row for people: status, size before → after, bytes, tokens, path → output. `words(message)`
    words each message for its reader (the command line's flags), never the paths beside it."""
    from ..words import display_path, escape

    def said(message: str) -> str:
        return words(message) if words else message

    path, output = display_path(row.path), display_path(row.output or "")
    if row.status != "written":
        reason = f"  ({said(escape(row.error).removeprefix(f'{path}: '))})" if row.error else ""
        return f"{row.status:<10}  {path}{reason}"
    return (
        f"{'written':<10}  {row.width}×{row.height} → {row.target_width}×{row.target_height}  "
        f"{_bytes(row.bytes_before)} → {_bytes(row.bytes_after)}  "
        f"{_token_change(row.tokens_before, row.tokens_after)} tokens  {path} → {output}"
        + (f"  (warning: {said(escape(row.warning))})" if getattr(row, "warning", None) else "")
        + (f"  (note: {said(escape(row.note))})" if getattr(row, "note", None) else "")
    )


def _token_change(before, after) -> str:
    """`765 → 765`; `rejected → 255` (a budget made a rejected original fit); `unknown → unknown` (docs/openai.md);
    with several models (dicts by model) `gpt-4o 765 → 765, claude-sonnet-4-5 1,564 → 1,564`."""
    if isinstance(after, dict):
        return ", ".join(f"{name} {_token_change(before.get(name), tokens)}" for name, tokens in after.items())
    shown = "unknown" if after is None else "rejected" if before is None else f"{before:,}"
    return f"{shown} → {'unknown' if after is None else f'{after:,}'}"


def optimize_summary(totals) -> str:
    """Totals of a preflight run: files by status, bytes and tokens before → after."""
    saved = totals.bytes_before - totals.bytes_after
    share = ""
    if totals.bytes_before:  # growth (a --format conversion can grow) is `44% more`, never `-44% less`
        share = f" ({abs(saved) / totals.bytes_before:.0%} {'less' if saved >= 0 else 'more'})"
    unknown = f" (+{totals.unknown_tokens_before} rejected before)" if totals.unknown_tokens_before else ""
    before, after = totals.tokens_before, totals.tokens_after
    if isinstance(after, dict):  # several models: a line each
        width = max(map(len, after))
        tokens = (
            "\n".join(
                f"{'tokens' if i == 0 else '':<6} {name:<{width}}  {_total(before[name])} → {_total(tokens)}"
                for i, (name, tokens) in enumerate(after.items())
            )
            + unknown
        )
    else:
        tokens = f"tokens {_total(before)}{unknown} → {_total(after)}"
    free = list(getattr(totals, "any_size", ()) or ())
    planned = ""
    if free:
        planned = (
            f"\nsizes planned for the other models: {', '.join(free)} "
            f"{'bills' if len(free) == 1 else 'bill'} the same at any size, and accept{'s' if len(free) == 1 else ''} "
            f"every size written"
        )
    return (
        f"{totals.files:,} {'file' if totals.files == 1 else 'files'}: {totals.written:,} written, {totals.up_to_date:,} up to date, "
        f"{totals.skipped:,} skipped, {totals.errors:,} {'error' if totals.errors == 1 else 'errors'}\n"
        f"bytes  {_bytes(totals.bytes_before)} → {_bytes(totals.bytes_after)}{share}\n"
        f"{tokens}{planned}"
    )


def _total(tokens: int | None) -> str:
    return "unknown" if tokens is None else f"{tokens:,}"


def request_table(estimate, words=None) -> str:
    """The images of a request, each with where it is, its size, detail, tokens and USD, then the totals; its notes
    worded by `words(note)` for the reader (the command line's flags), never the images' references."""
    header = [["where", "image", "size", "detail", "tokens", "USD"]]
    body = []
    for image in estimate.images:
        size = f"{image.width}×{image.height}" if image.width else "-"
        detail = (
            image.detail if image.applied_detail in (None, image.detail) else f"{image.detail}→{image.applied_detail}"
        )
        cost = (
            [tokens_cell(image.tokens, image.basis or "exact"), format_usd(image.usd)]
            if image.tokens is not None
            else ["rejected" if image.rule else "unpriced", image.rule or ""]
        )
        body.append([image.where, image.reference, size, detail, *cost])
    total = format_usd(estimate.usd) if estimate.usd is not None else "unknown"
    table = render_table(header, body, right={4, 5}) if body else "no images"
    bases = {image.basis for image in estimate.images if image.tokens is not None}
    overall = "approximate" if "approximate" in bases else "maximum" if "maximum" in bases else "exact"
    return (
        f"{table}\n\n{estimate.model}: {counted(len(estimate.images), 'image')}, {estimate.unpriced:,} unpriced; "
        f"{tokens_cell(estimate.image_tokens, overall)} image tokens, {total}; payload {_bytes(estimate.payload_bytes)}"
        f"\n{_request_input(estimate, words or str)}"
    )


def _request_input(estimate, words) -> str:
    """The text and whole-input lines under a request's table: tokens, USD, tier, long context (docs/prices.md)."""
    if estimate.text_tokens is None:
        text = f"text: unknown ({words(estimate.text_note)})"
    else:
        text = f"text: {estimate.text_tokens:,} tokens, {format_usd(estimate.text_usd)}" + (
            f" ({words(estimate.text_note)})" if estimate.text_note else ""
        )
    if estimate.input_tokens is None:
        whole = "input: unknown" + (f" ({words(estimate.input_note)})" if estimate.input_note else "")
    else:
        cached = f", {estimate.cached_tokens:,} of them cached" if estimate.cached_tokens else ""
        whole = f"input: {estimate.input_tokens:,} tokens (text + images){cached}, {format_usd(estimate.input_usd)}"
    flags = ([f"tier {estimate.tier}"] if estimate.tier != "standard" else []) + (
        ["the long-context rate, for the whole request"] if estimate.long_context else []
    )
    return f"{text}\n{whole}" + "".join(f"; {flag}" for flag in flags)


def video_table(rows, models) -> str:
    """One row per clip: upright size, duration, frames sent of the clip's, sent size; each model's tokens and USD."""
    top = ["", "", "", "", ""] + [cell for name in models for cell in (name, "")]
    header = ["clip", "size", "seconds", "frames", "sent at"] + ["tokens", "USD"] * len(models)
    body, totals = [], {name: [0, Decimal(0), False, set()] for name in models}  # tokens, usd, unknown, bases
    for clip, result in rows:
        if isinstance(result, str):
            body.append([clip, "error", "", "", ""] + ["", ""] * len(models))
            continue
        first = result[0]
        info = first.info
        count = f"{first.frames:,}/{info.frames:,}" + ("" if info.frames_exact else "~")
        line = [
            clip,
            f"{info.upright[0]}×{info.upright[1]}",
            f"{float(info.duration):.1f}",
            count,
            f"{first.frame_width}×{first.frame_height}",
        ]
        for estimate in result:
            line += [tokens_cell(estimate.tokens, estimate.basis), format_usd(estimate.usd)]
            total = totals[estimate.model]
            total[0] = None if total[0] is None or estimate.tokens is None else total[0] + estimate.tokens
            total[3].add(estimate.basis)
            if estimate.usd is None:
                total[2] = True
            else:
                total[1] = MONEY.add(total[1], estimate.usd)
        body.append(line)
    if len(rows) > 1:
        body.append(
            ["total", "", "", "", ""]
            + [
                cell
                for name in models
                for cell in (
                    tokens_cell(totals[name][0], total_basis(totals[name][3])),
                    "unknown" if totals[name][2] else format_usd(totals[name][1]),
                )
            ]
        )
    text = render_table([top, header], body, right={2, 3} | set(range(5, 5 + 2 * len(models))))
    sampling = next((result[0].sampling for _, result in rows if not isinstance(result, str)), "")
    notes = dict.fromkeys(
        f"{e.model}: {e.note}"
        for _, result in rows
        if not isinstance(result, str)
        for e in result
        if getattr(e, "note", None)
    )  # unknown tokens (docs/openai.md)
    bases = set().union(*(total[3] for total in totals.values()))
    legend = [text for basis, text in _LEGEND.items() if basis in bases]
    return text + (f"\n\nsampling: {sampling}" if sampling else "") + "".join(f"\n{line}" for line in (*notes, *legend))
