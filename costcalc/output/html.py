"""`costcalc audit --html report.html`: one self-contained page for a team or a finance review (issue 20).

No network, no script: styles inline, charts as inline SVG, thumbnails as
data URLs. The page holds

- the totals per model, and what they come to at each service tier the
  model's price offers, side by side, cheapest model first;
- the cost by folder (or bucket prefix);
- a histogram of tokens per image, per model;
- the 50 most expensive images (by the dearest model), each with a small
  thumbnail: at most 50 images are decoded, each DCT-scaled or bounded as
  preflight decodes (`preflight.picture.thumbnail_url`);
- what `optimize` would save per model, from the planner alone (no file is
  written): tokens before and after, and bytes after in proportion to the
  pixels kept (an estimate, marked so).

Memory is bounded whatever the number of files: running sums per model, tier
and folder (at most MAX_FOLDERS folders, the rest summed as one), one
histogram per model, a heap of the TOP dearest files, planner results cached
by size. Every file name is escaped (html.escape).
"""

from __future__ import annotations

import heapq
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from html import escape
from pathlib import Path

from ..catalog.tables import Tables, default_tables
from ..money import MONEY
from ..runs.summary import Summary, group_by_sources
from ..runs.totals import AuditRow, Totals
from ..words import display_path
from .report import format_usd, rank_by_usd, tokens_cell

__all__ = [
    "HtmlReport",
    "TOP",
    "MAX_FOLDERS",
    "HISTOGRAM_EDGES",
    "check_report_path",
    "write_report",
    "rendered_rows",
    "GENERATOR",
]

GENERATOR = '<meta name="generator" content="costcalc audit --html">'
"""The mark of a page this module wrote: only such a page is replaced by a new one."""

TOP = 50
"""The dearest images listed (and thumbnailed)."""
MAX_FOLDERS = 10_000
"""Folders summed one by one; files in further folders are summed under "(other folders)"."""
FOLDERS_SHOWN = 40
"""Folders listed on the page, dearest first (the rest summed in one line)."""
HISTOGRAM_EDGES = (0, 100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600)
"""Lower edges of the token bins: each bin holds images from its edge to the next (the last, up)."""
_OTHER = "(other folders)"
_SIZE_RULES = ("max_side", "max_patches", "min_side", "max_aspect")
"""Rules a smaller copy can satisfy: a file rejected by one of them is what optimize makes sendable."""


@dataclass
class _Saving:
    """What optimize would save for one model, summed over the files it prices."""

    files: int = 0
    resized: int = 0
    limited: int = 0
    """Files the API would reject as they are, made sendable by a smaller copy."""
    bytes_before: int = 0
    bytes_after: float = 0.0
    tokens_before: int = 0
    tokens_after: int = 0
    unknown: int = 0
    """Files whose tokens are unknown, or the planner could not plan (left out of the sums)."""


@dataclass
class _File:
    """One file's figures across models, for the dearest list."""

    path: str
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    costs: dict = field(default_factory=dict)
    """model → (tokens, usd, basis)."""

    def key(self) -> tuple:
        usd = [cost[1] for cost in self.costs.values() if cost[1] is not None]
        tokens = [cost[0] for cost in self.costs.values() if cost[0] is not None]
        return (max(usd, default=Decimal(0)), max(tokens, default=0), self.path)


class HtmlReport:
    """Collects audit rows (`add`) and renders the page (`render`). Rows of one file arrive together."""

    def __init__(
        self,
        models: Sequence[str],
        *,
        tables: Tables | None = None,
        detail: str = "auto",
        tier: str = "standard",
        roots: Sequence[str] = (),
        title: str = "costcalc audit",
    ) -> None:
        self.models = list(models)
        self.tables = tables or default_tables()
        self.detail = detail
        self.tier = tier
        self.roots = [os.fspath(root) for root in roots]
        self.title = title
        self.tiers = {name: self._tier_names(name) for name in self.models}
        self.by_tier = {name: defaultdict(lambda: Decimal(0)) for name in self.models}
        self.tier_unknown = {name: defaultdict(int) for name in self.models}
        self.folders: dict[str, dict[str, list]] = {}
        self.histogram = {name: [0] * len(HISTOGRAM_EDGES) for name in self.models}
        self.savings = {name: _Saving() for name in self.models}
        self.top: list[tuple] = []
        self._seq = 0
        self._current: _File | None = None
        self._plan = lru_cache(maxsize=65536)(self._plan_size)
        self._usd = lru_cache(maxsize=65536)(self._tier_usd)
        self._pricers: dict = {}
        self._prices = {name: self.tables.price(self.tables.model(name)) for name in self.models}

    def _tier_names(self, model: str) -> tuple[str, ...]:
        price = self.tables.price(self.tables.model(model))
        return price.offered if price is not None else ("standard",)

    # --- collecting
    def add(self, row: AuditRow) -> None:
        """Count one row (one file, one model)."""
        if self._current is None or self._current.path != row.path:
            self._flush()
            self._current = _File(row.path, *_upright(row), row.bytes)
        if row.status == "rejected" and row.rule in _SIZE_RULES and row.width and row.height:
            planned = self._plan(row.model, row.width, row.height, row.orientation or 1)
            self.savings[row.model].limited += planned is not None and planned[3]
        if row.status != "priced":
            return
        self._current.costs[row.model] = (row.tokens, row.usd, row.basis)
        self._add_tiers(row)
        self._add_folder(row)
        if row.tokens is not None:
            self.histogram[row.model][_bin(row.tokens)] += 1
        self._add_saving(row)

    def _tier_usd(self, model: str, tier: str, tokens: int):
        price = self._prices.get(model)
        return None if price is None else price.usd(tokens, tier=tier)

    def _add_tiers(self, row: AuditRow) -> None:
        for tier in self.tiers[row.model]:
            usd = None if row.tokens is None else self._usd(row.model, tier, row.tokens)
            if usd is None:
                self.tier_unknown[row.model][tier] += 1
            else:
                self.by_tier[row.model][tier] = MONEY.add(self.by_tier[row.model][tier], usd)

    def _add_folder(self, row: AuditRow) -> None:
        folder = self._folder(row.path)
        if folder not in self.folders and len(self.folders) >= MAX_FOLDERS:
            folder = _OTHER
        sums = self.folders.setdefault(folder, {})
        files, tokens, usd, unknown = sums.setdefault(row.model, [0, 0, Decimal(0), 0])
        files += 1
        if row.tokens is None or row.usd is None:
            unknown += 1
        else:
            tokens += row.tokens
            usd = MONEY.add(usd, row.usd)
        sums[row.model] = [files, tokens, usd, unknown]

    def _folder(self, path: str) -> str:
        folder = os.path.dirname(path)
        return folder or "."

    def _add_saving(self, row: AuditRow) -> None:
        saving = self.savings[row.model]
        saving.files += 1
        if row.width is None or row.height is None:
            saving.unknown += 1
            return
        planned = self._plan(row.model, row.width, row.height, row.orientation or 1)
        if planned is None or row.tokens is None or planned[2] is None:
            saving.unknown += 1
            return
        (width, height), target, after, _ = planned
        kept = (target[0] * target[1]) / (width * height)
        saving.resized += target != (width, height)
        saving.bytes_before += row.bytes or 0
        saving.bytes_after += (row.bytes or 0) * kept
        saving.tokens_before += row.tokens
        saving.tokens_after += after

    def _plan_size(self, model: str, width: int, height: int, orientation: int):
        """((upright w, h), target, tokens after, limited) of the planner's same-tokens plan for one model
        (`planning.same_tokens`), or None when it cannot plan."""
        from ..errors import CostcalcError
        from ..preflight.planning import same_tokens

        upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
        try:
            target, _, after, limited, _ = same_tokens(self._pricer(model), *upright)
        except CostcalcError:
            return None
        return upright, target, after, limited is not None

    def _pricer(self, model: str):
        pricer = self._pricers.get(model)
        if pricer is None:
            from ..pricing.cost import Pricer

            pricer = self._pricers[model] = Pricer(model, self.detail, self.tables, tier=self.tier)
        return pricer

    def _flush(self) -> None:
        current, self._current = self._current, None
        if current is None or not current.costs:
            return
        self._seq += 1
        item = (current.key(), self._seq, current)
        if len(self.top) < TOP:
            heapq.heappush(self.top, item)
        elif item[:2] > self.top[0][:2]:
            heapq.heapreplace(self.top, item)

    # --- rendering
    def render(self, totals: Totals, *, limits: str = "", thumbnails: bool = True) -> str:
        """The whole page: every section, from these rows and the run's totals (the --json totals)."""
        self._flush()
        order = _cheapest_first(self.models, totals)
        parts = [
            _HEAD.format(title=escape(self.title)),
            f"<h1>{escape(self.title)}</h1>",
            self._intro(totals, limits),
            self._totals(order, totals),
            self._folders_table(order),
            self._histograms(order),
            self._dearest(order, thumbnails),
            self._savings_table(order),
            "</body>\n</html>\n",
        ]
        return "\n".join(parts)

    def _intro(self, totals: Totals, limits: str) -> str:
        files = max((t.files for t in totals.by_model.values()), default=0)
        roots = ", ".join(escape(display_path(root)) for root in self.roots) or "-"
        return (
            f'<p class="meta">{files:,} files under {roots}; detail {escape(self.detail)}; priced at the '
            f"{escape(self.tier)} tier{'; limits ' + escape(limits) if limits else ''}. Models are ranked by USD "
            f"for these files, cheapest first.</p>"
        )

    def _totals(self, order: list[str], totals: Totals) -> str:
        tiers = list(dict.fromkeys([self.tier, *(tier for name in order for tier in self.tiers[name])]))
        head = "".join(f"<th>{escape(tier)} USD{' (audited)' if tier == self.tier else ''}</th>" for tier in tiers)
        rows = []
        for rank, name in enumerate(order, start=1):
            t = totals.by_model[name]
            data = t.as_dict()
            tokens = "unknown" if data["tokens"] is None else escape(tokens_cell(data["tokens"], data["basis"]))
            usd = None if data["usd"] is None else t.usd
            cells = []
            for tier in tiers:
                if tier == self.tier:  # the run's own total, as --json gives it
                    text = "unknown" if usd is None else escape(format_usd(usd))
                    cells.append(f'<td class="num total">{text}</td>')
                elif tier not in self.tiers[name]:
                    cells.append('<td class="na">-</td>')
                elif self.tier_unknown[name][tier]:
                    cells.append('<td class="num">unknown</td>')
                else:
                    value = self.by_tier[name][tier]
                    cells.append(f'<td class="num" data-usd="{value}">{escape(format_usd(value))}</td>')
            rows.append(
                f'<tr class="model" data-model="{escape(name)}" data-tokens="{"" if data["tokens"] is None else data["tokens"]}" '
                f'data-usd="{"" if usd is None else usd}"><td>{rank}</td><td class="name">{escape(name)}</td>'
                f'<td class="num">{data["files"]:,}</td><td class="num">{data["priced"]:,}</td>'
                f'<td class="num">{data["rejected"]:,}</td><td class="num">{data["unreadable"]:,}</td>'
                f'<td class="num">{tokens}</td>{"".join(cells)}</tr>'
            )
        return (
            '<h2 id="totals">Totals per model and tier</h2>\n<table class="totals"><thead><tr><th>#</th><th>model'
            "</th><th>files</th><th>priced</th><th>rejected</th><th>unreadable</th><th>tokens</th>"
            f"{head}</tr></thead><tbody>\n"
            + "\n".join(rows)
            + '</tbody></table>\n<p class="note">The audited tier is the run\'s total; each other column prices '
            "every image at that tier's rate, as a request of its own. A dash: the model's price offers no such "
            "tier; unknown: a rate or a count is not published. ≤ N: a documented maximum, the bill is at most this; "
            "≈ N: the vendor publishes only approximate figures.</p>"
        )

    def _folders_table(self, order: list[str]) -> str:
        def cost(item):
            return max((sums[2] for sums in item[1].values()), default=Decimal(0))

        ranked = sorted(self.folders.items(), key=lambda item: (cost(item), item[0]), reverse=True)
        shown, rest = ranked[:FOLDERS_SHOWN], ranked[FOLDERS_SHOWN:]
        head = "".join(f"<th>{escape(name)} tokens</th><th>{escape(name)} USD</th>" for name in order)
        rows = [self._folder_row(escape(display_path(folder)), sums, order) for folder, sums in shown]
        if rest:
            merged: dict[str, list] = {}
            for _, sums in rest:
                for name, (files, tokens, usd, unknown) in sums.items():
                    mine = merged.setdefault(name, [0, 0, Decimal(0), 0])
                    merged[name] = [mine[0] + files, mine[1] + tokens, MONEY.add(mine[2], usd), mine[3] + unknown]
            rows.append(self._folder_row(f"({len(rest):,} more folders)", merged, order))
        return (
            '<h2 id="folders">Cost by folder</h2>\n<table><thead><tr><th>folder</th><th>images</th>'
            f"{head}</tr></thead><tbody>\n" + "\n".join(rows) + "</tbody></table>"
        )

    @staticmethod
    def _folder_row(label: str, sums: dict, order: list[str]) -> str:
        files = max((sums[name][0] for name in sums), default=0)
        cells = []
        for name in order:
            found = sums.get(name)
            if found is None:
                cells.append('<td class="na">-</td><td class="na">-</td>')
                continue
            _, tokens, usd, unknown = found
            more = f" + {unknown:,} unknown" if unknown else ""
            cells.append(f'<td class="num">{tokens:,}{more}</td><td class="num">{escape(format_usd(usd))}</td>')
        return f'<tr><td class="path">{label}</td><td class="num">{files:,}</td>{"".join(cells)}</tr>'

    def _histograms(self, order: list[str]) -> str:
        charts = [_histogram_svg(name, self.histogram[name]) for name in order]
        return '<h2 id="histogram">Tokens per image</h2>\n<div class="charts">' + "\n".join(charts) + "</div>"

    def _dearest(self, order: list[str], thumbnails: bool) -> str:
        items = [entry for _, _, entry in sorted(self.top, key=lambda item: item[:2], reverse=True)]
        head = "".join(f"<th>{escape(name)}</th>" for name in order)
        rows = []
        for rank, entry in enumerate(items, start=1):
            thumb = _thumbnail(entry.path) if thumbnails else None
            image = f'<img alt="" src="{thumb}">' if thumb else '<span class="na">-</span>'
            size = f"{entry.width}×{entry.height}" if entry.width else "-"
            cells = []
            for name in order:
                cost = entry.costs.get(name)
                if cost is None:
                    cells.append('<td class="na">-</td>')
                    continue
                tokens, usd, basis = cost
                shown = "unknown" if tokens is None else escape(tokens_cell(tokens, basis or "exact"))
                cells.append(f'<td class="num">{shown} tokens<br>{escape(format_usd(usd))}</td>')
            rows.append(
                f'<tr><td>{rank}</td><td class="thumb">{image}</td><td class="path">'
                f'{escape(display_path(entry.path))}</td><td class="num">{size}</td>'
                f'<td class="num">{_bytes(entry.bytes)}</td>{"".join(cells)}</tr>'
            )
        return (
            f'<h2 id="dearest">The {len(items)} most expensive images</h2>\n<table><thead><tr><th>#</th><th></th>'
            f"<th>image</th><th>size</th><th>bytes</th>{head}</tr></thead><tbody>\n"
            + "\n".join(rows)
            + "</tbody></table>"
        )

    def _savings_table(self, order: list[str]) -> str:
        rows = []
        for name in order:
            s = self.savings[name]
            share = f"{1 - s.bytes_after / s.bytes_before:.0%}" if s.bytes_before else "-"
            rows.append(
                f'<tr><td class="name">{escape(name)}</td><td class="num">{s.files - s.unknown:,}</td>'
                f'<td class="num">{s.resized:,}</td><td class="num">{s.limited:,}</td>'
                f'<td class="num">{_bytes(s.bytes_before)}</td><td class="num">≈ {_bytes(round(s.bytes_after))}'
                f'</td><td class="num">{share}</td><td class="num">{s.tokens_before:,}</td>'
                f'<td class="num">{s.tokens_after:,}</td>'
                f'<td class="num">{s.unknown:,}</td></tr>'
            )
        return (
            '<h2 id="optimize">What optimize would save, per model</h2>\n<table><thead><tr><th>model</th>'
            "<th>planned</th><th>resized</th><th>made sendable</th><th>bytes now</th><th>bytes after</th>"
            "<th>less</th><th>tokens now</th><th>tokens after</th><th>not planned</th></tr></thead><tbody>\n"
            + "\n".join(rows)
            + "</tbody></table>\n"
            '<p class="note">From the planner alone, each model on its own: no file is written. A copy at the size '
            "the model works from costs the tokens the original does; bytes after are estimated in proportion to "
            'the pixels kept. "Made sendable": files the API would reject as they are (a side, patch or aspect '
            "limit) that a smaller copy fits; they are not in the other columns.</p>"
        )


def check_report_path(path: str | os.PathLike) -> None:
    """OutputConflictError unless `path` is free, or holds a report this module wrote (which a new one replaces):
    never over a user's own file (an image, another page) by a slip of the argument."""
    from ..errors import OutputConflictError

    path = os.fspath(path)
    if os.path.isdir(path):
        raise OutputConflictError(f"{display_path(path)} is a folder; name the report's file, e.g. report.html")
    if not os.path.lexists(path):
        return
    try:
        with open(path, "rb") as handle:
            start = handle.read(4096)
    except OSError:
        start = b""
    if GENERATOR.encode() not in start:
        raise OutputConflictError(
            f"{display_path(path)} exists and is not a costcalc report; choose another name, or move it"
        )


def write_report(path: str | os.PathLike, page: str) -> None:
    """Write the page atomically (files.atomic_write), after `check_report_path`."""
    from ..files import atomic_write

    check_report_path(path)
    atomic_write(Path(path), page.encode("utf-8"))


def rendered_rows(rows: Iterable[AuditRow], render, models: Sequence[str], report: HtmlReport, files: int = 256):
    """(text, totals, files) a chunk of `files` files at a time, as `runs.audit.audit_rendered` yields, from rows
    read here (`runs.audit.audit`), each also added to `report`."""
    count = max(1, len(models))
    group_of = group_by_sources(report.roots)
    chunk: list[AuditRow] = []
    for row in rows:
        report.add(row)
        chunk.append(row)
        if len(chunk) >= files * count and len(chunk) % count == 0:
            yield _chunk(chunk, render, models, group_of)
            chunk = []
    if chunk:
        yield _chunk(chunk, render, models, group_of)


def _chunk(rows: list[AuditRow], render, models: Sequence[str], group_of):
    totals = Summary(models, group_of)
    for row in rows:
        totals.add(row)
    return render.render(rows), totals, len(rows) // max(1, len(models))


def _upright(row: AuditRow) -> tuple[int | None, int | None]:
    if row.width is None or row.height is None:
        return None, None
    return (row.height, row.width) if (row.orientation or 1) in (5, 6, 7, 8) else (row.width, row.height)


def _bin(tokens: int) -> int:
    index = 0
    for position, edge in enumerate(HISTOGRAM_EDGES):
        if tokens >= edge:
            index = position
    return index


def _cheapest_first(models: Sequence[str], totals: Totals) -> list[str]:
    """Models by USD for the input set, cheapest first (as the audit table ranks them); unknown USD last."""
    known = {
        name: None if t.unknown_price or t.unknown_tokens else t.usd
        for name, t in ((name, totals.by_model[name]) for name in models)
    }
    return rank_by_usd(known)


def _bytes(size: int | None) -> str:
    if size is None:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _histogram_svg(model: str, counts: list[int]) -> str:
    """An inline SVG bar chart: images per token bin."""
    width, height, bar, gap, bottom = 460, 200, 36, 8, 40
    top = max(counts) or 1
    bars = []
    for index, count in enumerate(counts):
        x = 30 + index * (bar + gap)
        h = round((height - bottom - 20) * count / top)
        y = height - bottom - h
        low = HISTOGRAM_EDGES[index]
        label = f"{low:,}+" if index == len(counts) - 1 else f"{low:,}"
        bars.append(
            f'<rect x="{x}" y="{y}" width="{bar}" height="{h}" fill="#4a7bd0"><title>{count:,} images, '
            f"{escape(label)} tokens</title></rect>"
            f'<text x="{x + bar / 2}" y="{y - 4}" text-anchor="middle">{count:,}</text>'
            f'<text x="{x + bar / 2}" y="{height - bottom + 14}" text-anchor="middle">{escape(label)}</text>'
        )
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="10" role="img" aria-label="tokens per image, '
        f'{escape(model)}">{"".join(bars)}<line x1="26" y1="{height - bottom}" x2="{width - 4}" '
        f'y2="{height - bottom}" stroke="#333"/><text x="{width / 2}" y="{height - 8}" text-anchor="middle">'
        f"tokens per image (bins from)</text></svg><figcaption>{escape(model)}</figcaption></figure>"
    )


def _thumbnail(path: str) -> str | None:
    """A data URL of a small thumbnail, or None when the file cannot be decoded (within preflight's bound)."""
    from ..preflight.picture import thumbnail_url

    try:
        return thumbnail_url(path)
    except Exception:  # a thumbnail is a nicety: a file that will not decode gets none
        return None


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="costcalc audit --html">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; vertical-align: middle; }}
th {{ background: #f0f0f0; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.name {{ white-space: nowrap; }}
td.audited, td.total {{ font-weight: bold; }}
td.na, span.na {{ color: #999; text-align: center; }}
td.path {{ overflow-wrap: anywhere; min-width: 8em; max-width: 40em; }}
td.thumb img {{ max-width: 96px; max-height: 96px; display: block; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; }} figcaption {{ text-align: center; }}
p.note, p.meta {{ color: #555; max-width: 60em; }}
</style>
</head>
<body>"""
