"""Measured cases: public reports of what an API billed for one image of known size (docs/README.md, docs/probe.md).

Data beside the model table, in tables/measured/<vendor>.toml, each row with its
source and date. They are never computed: tests hold every model row to them
(exact on tile models, ±1 on patch models, docs/openai.md), and `costcalc models`
shows how many back each row, and when they were made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import TableError, UnknownModelError
from .loading import read_toml, rows_of, text_field
from .tables import DETAILS, Model, Tables, check_keys, default_tables, tables_dir

__all__ = ["Measurement", "measured_files", "load_measured", "default_measurements", "measurements", "evidence_text"]

_KEYS = {
    "model",
    "detail",
    "width",
    "height",
    "tokens",
    "rejected",
    "patches",
    "total",
    "endpoint",
    "source",
    "date",
    "note",
    "disagrees",
}


@dataclass(frozen=True)
class Measurement:
    """One public report: the model, detail and size sent, and what the API billed or that it refused the image."""

    vendor: str
    model: str
    """The model name as reported (a dated snapshot resolves to its row)."""
    detail: str
    width: int
    height: int
    tokens: int | None
    """The image's own tokens; None when the report gives none (a refusal, or an acceptance without usage)."""
    rejected: bool
    """True when the API refused the image (docs/openai.md step 4)."""
    patches: int | None
    """The patch count the report states, where it states one."""
    total: int | None
    """The prompt tokens the report shows, text included."""
    endpoint: str
    source: str
    """The public report: a URL."""
    date: str
    note: str = ""
    """How the figure was derived."""
    disagrees: str = ""
    """Why the report is known to differ from the rule costcalc prices ('' when it should agree)."""

    @property
    def where(self) -> str:
        """A short label for messages: model, detail, size, and the report."""
        return f"{self.model} {self.detail} {self.width}×{self.height} ({self.source}, {self.date})"


def measured_files(folder: Path | None = None) -> list[Path]:
    """The shipped measurement files: tables/measured/*.toml, in sorted order."""
    return sorted(((folder or tables_dir()) / "measured").glob("*.toml"))


def load_measured(*paths: str | os.PathLike[str]) -> tuple[Measurement, ...]:
    """The measured cases of these files (default: the shipped ones); TableError naming a bad row."""
    rows: list[Measurement] = []
    for path in map(Path, paths or measured_files()):
        document = read_toml(path)
        check_keys(document, {"vendor", "measured"}, f"{path}")
        vendor = text_field(document, "vendor", f"{path}", default=path.stem)
        for index, row in enumerate(rows_of(path, document, "measured"), start=1):
            rows.append(_parse(row, vendor, f"{path}: measured row {index}"))
    return tuple(rows)


def _parse(row: dict, vendor: str, where: str) -> Measurement:
    check_keys(row, _KEYS, where)
    for key in ("model", "source", "date"):
        if not text_field(row, key, where, default=""):
            raise TableError(f"{where}: needs {key}")
    detail = text_field(row, "detail", where, default="auto")
    if detail not in DETAILS:
        raise TableError(f"{where}: detail must be one of {', '.join(DETAILS)}, not {detail!r}")

    def number(key: str, required: bool = False) -> int | None:
        value = row.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TableError(f"{where}: {key} must be a whole number of at least 1, not {value!r}")
        return value

    rejected = row.get("rejected", False)
    if not isinstance(rejected, bool):
        raise TableError(f"{where}: rejected must be true or false, not {rejected!r}")
    tokens, patches = number("tokens"), number("patches")
    if rejected and tokens is not None:
        raise TableError(f"{where}: a rejected image has no tokens")
    if not rejected and tokens is None and patches is None:
        raise TableError(f"{where}: give tokens, patches, or rejected = true")
    return Measurement(
        vendor=vendor,
        model=text_field(row, "model", where, default="").strip().lower(),
        detail=detail,
        width=number("width", True),
        height=number("height", True),
        tokens=tokens,
        rejected=rejected,
        patches=patches,
        total=number("total"),
        endpoint=text_field(row, "endpoint", where, default=""),
        source=text_field(row, "source", where, default=""),
        date=text_field(row, "date", where, default=""),
        note=text_field(row, "note", where, default=""),
        disagrees=text_field(row, "disagrees", where, default=""),
    )


@cache
def default_measurements() -> tuple[Measurement, ...]:
    """The shipped measured cases, read on first use and kept."""
    return load_measured()


def measurements(
    model: str | Model, *, tables: Tables | None = None, cases: tuple[Measurement, ...] | None = None
) -> list[Measurement]:
    """The measured cases of `model`'s table row (any of its names, or their snapshots), in file order.

    Names the tables do not know are left out (tests/catalog/test_measured.py requires every one known).
    """
    tables = tables or default_tables()
    row = tables.model(model).names
    found = []
    for case in default_measurements() if cases is None else cases:
        try:
            if tables.model(case.model).family in row:
                found.append(case)
        except UnknownModelError:
            continue
    return found


def evidence_text(model: Model, cases: list[Measurement]) -> str:
    """What a row rests on, with dates (docs/README.md): `documented 2026-10`, `measured 2026-09 (3)`, both, or ''.

    The documented date is the row's source edition; measured dates are those of its
    measured cases (the row's own date when it cites reports not in tables/measured).
    """
    parts = []
    if "documented" in model.evidence:
        parts.append(f"documented {model.date}")
    if "measured" in model.evidence:
        dates = sorted({case.date for case in cases})
        when = (dates[0] if len(dates) == 1 else f"{dates[0]}…{dates[-1]}") if dates else model.date
        parts.append(f"measured {when}" + (f" ({len(cases)})" if cases else ""))
    return "; ".join(parts)
