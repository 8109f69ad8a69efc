"""Audit output: a table for people, CSV, one JSON document, or JSON lines; all streamed.

A format renders a chunk of rows to text (`render`, run where the chunk was
read, in a worker process if there are any); the command writes `header()`,
the chunks in order, then `footer()`. Nothing keeps more than one chunk.
`render_files` renders a chunk as `runs.audit` reads it, files whose headers
read alike sharing a `Shape`: JSON and JSON lines render a Shape's rows once,
as a template the next file alike fills with its path, name and size; CSV keeps
its cells. The text is the same as `render` gives for the rows (tests hold it so).

Machine formats (CSV, JSON, JSON lines) carry each path as walked: a name that
is not UTF-8 keeps its bytes as surrogates (os.fsdecode). JSON writes each as
its escape `\\udcXX` (`report.json_safe`), so the output stays valid UTF-8 and
json.loads then os.fsencode give the name's bytes back; CSV, plain text,
carries the bytes themselves (errors='surrogateescape'). Either way a program
can open the file from the output. The table for people shows such bytes as \\xNN.
"""

from __future__ import annotations

from collections.abc import Sequence
from json.encoder import encode_basestring

from ..runs.audit import Shape, rows_of
from ..runs.totals import AUDIT_FIELDS, AuditRow, Totals
from ..words import display_path, escape
from .report import basis_legend, format_usd, rank_by_usd, ranking_line, render_table, tokens_cell, total_basis
from .stream import csv_cell, csv_made, csv_rows, json_open, json_rows_end, json_safe

__all__ = ["format_for", "json_line", "totals_table"]


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


def json_line(row: AuditRow) -> str:
    """`json.dumps(row.as_dict(), ensure_ascii=False)`, the same text, built about twice as fast.

    Positional on purpose (the hot path of --nl and --json); a test holds it to json.dumps. Pass the
    text through `json_safe` before writing it (a path that is not UTF-8 holds surrogates).
    """
    (
        path,
        model,
        detail,
        status,
        format,
        width,
        height,
        frames,
        animated,
        orientation,
        size,
        applied,
        tokens,
        usd,
        rule,
        error,
        warning,
        tier,
        basis,
        model_status,
        shutdown,
    ) = row
    return (
        f'{{"path": {encode_basestring(path)}, "model": {encode_basestring(model)}, '
        f'"detail": {encode_basestring(detail)}, "status": "{status}", "format": {_text(format)}, '
        f'"width": {_number(width)}, "height": {_number(height)}, "frames": {_number(frames)}, '
        f'"animated": {"null" if animated is None else "true" if animated else "false"}, '
        f'"orientation": {_number(orientation)}, "bytes": {_number(size)}, "applied_detail": {_text(applied)}, '
        f'"tokens": {_number(tokens)}, "usd": {"null" if usd is None else repr(float(usd))}, '
        f'"rule": {_text(rule)}, "error": {_text(error)}, "warning": {_text(warning)}, "tier": {_text(tier)}, '
        f'"basis": {_text(basis)}, "model_status": {_text(model_status)}, "shutdown": {_text(shutdown)}}}'
    )


_PATH, _NAME, _SIZE = "\0path\0", "\0name\0", 987_654_321_987_654_321
"""Stand-ins for a file's path, its name in messages and its byte size, in the rows a template is made of."""

_SHOWN = "<costcalc: the path>"
"""A stand-in for a file's path as the table shows it (printable: shown as it is)."""


class _Format:
    """Base: header, rows rendered a chunk at a time, footer."""

    shows_rows = True
    """Whether `render` writes anything per row (a columnar source builds rows only when it does)."""

    def __init__(self, models: Sequence[str]):
        self.models = tuple(models)

    def header(self) -> str:
        return ""

    def render(self, rows: list[AuditRow]) -> str:
        raise NotImplementedError

    def render_files(self, files: list) -> str:
        """`render` of the rows of a chunk's files, as `runs.audit` reads them."""
        return self.render(rows_of(files))

    def _each_file(self, files: list, key, make, fill) -> list[str]:
        """Each file's text: its own rows rendered, or its Shape's template (`make(shape)`, made once per
        Shape and `key`) filled with the file's path, name and size (`fill(template, path, shown, size)`); the
        rows rendered where either gives None."""
        parts: list[str] = []
        add = parts.append
        for file in files:
            if file.__class__ is list:
                add(self.render(file))
                continue
            shape, path, shown, size = file
            template = shape.rendered.get(key, False)
            if template is False:
                template = shape.rendered[key] = make(shape)
            text = None if template is None else fill(template, path, shown, size)
            add(self.render(shape.rows_for(path, shown, size)) if text is None else text)
        return parts

    def first(self, text: str) -> str:
        """The first non-empty chunk's text, as it must stand after the header."""
        return text

    def footer(self, totals: Totals, extra: dict) -> str:
        return ""


class _Templated(_Format):
    """JSON text, whose strings escape character by character: a Shape's rows rendered once, with stand-ins for
    the path, name and size, are cut at them; a file alike joins the pieces with its own, escaped as json_line
    does."""

    def render_files(self, files):
        return json_safe("".join(self._each_file(files, self.__class__, self._template, self._fill)))

    @staticmethod
    def _fill(template, path: str, shown: str, size) -> str:
        pieces, named = template
        escaped = encode_basestring(path)
        if named:
            join = (escaped[1:-1] if shown == path else encode_basestring(shown)[1:-1]).join
            size = str(size)
            return escaped.join([size.join(map(join, piece)) for piece in pieces])
        return escaped.join(map(str(size).join, pieces))

    def _template(self, shape: Shape) -> tuple[list, bool] | None:
        """(the text cut at the path, then at the size, then, when a message names the file, at its name;
        whether one does), or None when a stand-in is not where it must be."""
        rows = shape.rows_for(_PATH, _NAME, _SIZE)
        text = self.render(rows)
        path, name, size = encode_basestring(_PATH), encode_basestring(_NAME)[1:-1], str(_SIZE)
        named = sum(row.error is not None for row in rows)
        if (text.count(path), text.count(name), text.count(size)) != (len(rows), named, len(rows) * shape.sized):
            return None
        if named:
            return [[cut.split(name) for cut in piece.split(size)] for piece in text.split(path)], True
        return [piece.split(size) for piece in text.split(path)], False


class _Lines(_Templated):
    """--nl: one JSON object per file and model."""

    def render(self, rows):
        return json_safe("".join(json_line(row) + "\n" for row in rows))


_AT_PATH, _AT_SIZE, _AT_ERROR = (AUDIT_FIELDS.index(name) for name in ("path", "bytes", "error"))


class _Csv(_Format):
    """--csv: a header row, then one row per file and model."""

    def header(self):
        return csv_rows((), AUDIT_FIELDS)

    def render(self, rows):
        return csv_rows(row.as_dict().values() for row in rows)

    def render_files(self, files):
        """A Shape's cells made once; a file's path, size and messages put in its own."""
        lines = []
        for file in files:
            if file.__class__ is list:
                lines.extend([csv_cell(value) for value in row.as_dict().values()] for row in file)
                continue
            shape, path, shown, size = file
            made = shape.rendered.get(_Csv)
            if made is None:
                made = shape.rendered[_Csv] = [
                    ([csv_cell(value) for value in row.as_dict().values()], row.error) for row in shape.rows
                ]
            path = csv_cell(path)
            for cells, error in made:
                cells = cells.copy()
                cells[_AT_PATH] = path
                if shape.sized:
                    cells[_AT_SIZE] = size
                if error is not None:
                    cells[_AT_ERROR] = csv_cell(shown + error)
                lines.append(cells)
        return csv_made(lines)


class _Json(_Templated):
    """--json: one document {"rows": [...], "totals": {...}, "limits": ..., "budget": ...}."""

    def header(self):
        return json_open()

    def render(self, rows):
        return json_safe("".join(",\n    " + json_line(row) for row in rows))

    def first(self, text):
        return text[1:]  # no comma before the first row

    def footer(self, totals, extra):
        document = {"totals": {name: t.as_dict() for name, t in totals.by_model.items()}, **extra}
        if hasattr(totals, "percentiles"):  # runs.summary.Summary: an audit of data where it lives
            document.update(totals.as_dict())
        return json_rows_end(document, bool(totals_files(totals)))


class _Table(_Format):
    """A table for people: one line per file with each model's tokens and USD; totals after."""

    TOKENS, USD = 10, 12

    def __init__(self, models: Sequence[str], per_file: bool = True, words=None):
        super().__init__(models)
        self.per_file = self.shows_rows = per_file
        self.words = words
        """How a message is worded for its reader (the command line's flags for the library's parameters), or None:
        as the library words it. Only the message: never the file's name beside it."""
        self.widths = tuple(max(len(name) - self.USD - 2, self.TOKENS) for name in models)

    def header(self):
        if not self.per_file:
            return ""
        top = " " * 21 + "".join(f"{name:<{w + self.USD + 2}}  " for name, w in zip(self.models, self.widths))
        bottom = f"{'format':<6}  {'size':>11}  " + "".join(
            f"{'tokens':>{w}}  {'USD':>{self.USD}}  " for w in self.widths
        )
        return top.rstrip() + "\n" + bottom + "path\n"

    def render(self, rows):
        if not self.per_file:
            return ""
        count = len(self.models)
        return "".join(self._line(rows[start : start + count]) for start in range(0, len(rows), count))

    def render_files(self, files):
        """A Shape's line made once, cut at the file's path; a file alike puts its own there (its name appears
        nowhere else in the line: the message after it is the Shape's)."""
        if not self.per_file:
            return ""
        return "".join(self._each_file(files, (_Table, self.words), self._cut, self._fill))

    def _cut(self, shape: Shape) -> list[str] | None:
        line = self._line(shape.rows_for(_SHOWN, _SHOWN, None))  # the table shows no byte size
        return line.split(_SHOWN) if line.count(_SHOWN) == 1 else None

    @staticmethod
    def _fill(cut: list[str], path: str, shown: str, size) -> str | None:
        display = display_path(path)
        return display.join(cut) if display == shown else None  # else a name in the message that is not its path

    def _line(self, rows: list[AuditRow]) -> str:
        first = rows[0]
        size = f"{first.width}×{first.height}" if first.width and first.height else "-"
        cells, reason = [], None
        shown = display_path(first.path)
        for row, width in zip(rows, self.widths):
            if (
                row.status == "priced"
            ):  # `≤ 1,120`, `≈ 800` (docs/README.md); unknown: multiplier unpublished (docs/openai.md)
                tokens = tokens_cell(row.tokens, row.basis or "exact")
                cells.append(f"{tokens:>{width}}  {format_usd(row.usd):>{self.USD}}")
            else:
                cells.append(f"{row.status:>{width}}  {(row.rule or ''):>{self.USD}}")
                reason = reason or (row.error or "").removeprefix(f"{shown}: ")
        reason = reason or (f"warning: {first.warning}" if first.warning else None)
        line = f"{first.format or '-':<6}  {size:>11}  " + "".join(cell + "  " for cell in cells) + shown
        if not reason:
            return line + "\n"
        return f"{line}  ({escape(self.words(reason) if self.words else reason)})\n"

    def footer(self, totals, extra):
        return ("\n" if self.per_file else "") + totals_table(totals) + summary_tables(totals) + "\n"


def totals_files(totals: Totals) -> int:
    """How many files the totals count (the same for every model)."""
    return max((t.files for t in totals.by_model.values()), default=0)


def totals_table(totals: Totals) -> str:
    """Per-model totals: files by status, tokens (`≤`/`≈` as sure as their least sure part), USD; then
    rejections by rule, and what `≤` and `≈` mean."""
    header = [["model", "files", "priced", "rejected", "unreadable", "skipped", "tokens", "USD"]]
    body, rules = [], []
    known = {name: None if t.unknown_price or t.unknown_tokens else t.usd for name, t in totals.by_model.items()}
    for name in rank_by_usd(known):  # cheapest first for the input set (issue 20)
        t = totals.by_model[name]
        usd = "unknown" if t.unknown_price or t.unknown_tokens else format_usd(t.usd)
        tokens = (
            "unknown" if t.unknown_tokens else tokens_cell(t.tokens, total_basis(t.bases))
        )  # docs/openai.md, docs/README.md
        body.append([name, *(f"{n:,}" for n in (t.files, t.priced, t.rejected, t.unreadable, t.skipped)), tokens, usd])
        if t.rules:
            rules.append(
                f"{name} rejected by rule: " + ", ".join(f"{rule} {n:,}" for rule, n in sorted(t.rules.items()))
            )
        if t.unknown_tokens:  # docs/openai.md: accepted, sized and counted in patches, but not in tokens
            rules.append(
                f"{name}: tokens unknown for {t.unknown_tokens:,} priced files: its image-token multiplier "
                f"is not published; `costcalc probe -m {name}` measures it"
            )
    bases = set().union(*(t.bases for t in totals.by_model.values()))
    rules += basis_legend(bases)
    if len(totals.by_model) > 1:
        unpriced = {name: t.rejected + t.unreadable for name, t in totals.by_model.items()}
        rules.insert(0, ranking_line(known, "these files", unpriced))
    text = render_table(header, body, right=set(range(1, 8)))
    return text + ("\n" + "\n".join(rules) if rules else "")


PREFIXES_SHOWN = 20
"""Prefixes (or shards, tables, hosts) the text summary lists, those with most files first; --json has all."""


def summary_tables(totals: Totals) -> str:
    """For a `runs.summary.Summary`: tokens per image (p50/p90/p99/max) per model, then the totals per prefix or
    shard (files, priced, tokens and USD of each model); "" for plain totals."""
    if not hasattr(totals, "percentiles"):
        return ""
    header = [["model", "images", "p50", "p90", "p99", "max"]]
    body = []
    for name, p in totals.percentiles().items():
        cells = ["-" if p[k] is None else f"{p[k]:,}" for k in ("p50", "p90", "p99", "max")]
        body.append([name, f"{p['images']:,}", *cells])
    text = "\n\ntokens per image" + (" (approximate: over 100,000 distinct counts)" if totals.approximate else "")
    text += "\n" + render_table(header, body, right=set(range(1, 6)))
    if len(totals.groups) > 1:
        text += "\n\n" + _prefix_table(totals)
    return text


def _prefix_table(totals) -> str:
    groups = sorted(totals.groups.items(), key=lambda item: (-totals_files(item[1]), item[0]))
    header = [["prefix", "model", "files", "priced", "tokens", "USD"]]
    body = []
    for group, t in groups[:PREFIXES_SHOWN]:
        for name, m in t.by_model.items():
            usd = "unknown" if m.unknown_price or m.unknown_tokens else format_usd(m.usd)
            tokens = "unknown" if m.unknown_tokens else f"{m.tokens:,}"
            body.append([display_path(group), name, f"{m.files:,}", f"{m.priced:,}", tokens, usd])
    more = len(groups) - PREFIXES_SHOWN
    text = "by prefix\n" + render_table(header, body, right={2, 3, 4, 5})
    return text + (f"\n(+{more:,} more prefixes: --json lists them all)" if more > 0 else "")


def format_for(output: str | None, models: Sequence[str], summary: bool = False, words=None) -> _Format:
    """The format for --nl, --csv, --json, or the table (a line per file unless `summary`), whose messages
    `words(message)` words for its reader (data keeps the library's words)."""
    if output == "nl":
        return _Lines(models)
    if output == "csv":
        return _Csv(models)
    if output == "json":
        return _Json(models)
    return _Table(models, per_file=not summary, words=words)
