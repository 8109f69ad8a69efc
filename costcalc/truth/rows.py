"""Writing a measured rule as a model-table row (tables/models/README.md) that `--tables FILE` loads."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .. import schemes
from ..errors import ProbeError, ProbeUsageError
from .fitters import decimal_text
from .result import ProbeResult

__all__ = ["row_toml", "check_row_file", "write_row"]


def check_row_file(path: str) -> str:
    """`path` if a row can be written there: not empty, and nothing there yet (ProbeUsageError, one line, if not).

    An existing file, link, device or folder is never replaced or written through: the user names a new file.
    """
    if not path:
        raise ProbeUsageError("row_file '': give a file name")
    if os.path.lexists(path):
        raise ProbeUsageError(f"{path} exists; give a new file name")
    return path


def write_row(path: str, text: str) -> None:
    """Write a measured row to a new file `path`, atomically with ordinary permissions (refused if it exists)."""
    from ..files import atomic_write

    atomic_write(check_row_file(path), text.encode("utf-8"))


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (Decimal, Fraction)):
        return decimal_text(Fraction(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


def row_toml(result: ProbeResult) -> str:
    """The measured rule as a model-table file (tables/models/README.md) that `--tables FILE` loads.

    Levels the probe did not measure keep the table's values (said in `note`).
    """
    if not result.ok or result.fit is None:
        raise ProbeError("no row to write: the probe did not fit a rule")
    fit, row = result.fit, result.row
    source = f"measured by costcalc probe on {result.date} at {result.base_url}"
    # the name probed: a dated snapshot or an alias gets a row of its own, never its whole family's
    entries: dict[str, Any] = {"names": [result.model.strip().lower()], "scheme": fit.scheme}
    same = row is not None and row.scheme == fit.scheme
    settings, kept = schemes.get(fit.scheme).fitted_row(fit.params, fit.rule, fit.level, row if same else None)
    entries |= settings
    note = f"measured at detail {result.detail}" + (f" (level {fit.level})" if fit.level != result.detail else "")
    note += f" with {result.requests} requests"
    if kept:
        note += f"; {', '.join(kept)}: as the shipped table gives {'it' if len(kept) == 1 else 'them'} (not measured)"
    entries |= {"evidence": "measured", "note": note, "source": source, "date": result.date, "checked": result.date}
    lines = [
        f"# {source} ({result.requests} requests to {result.endpoint}).",
        "# Load it with --tables FILE (costcalc.load_tables(FILE)); its row replaces the shipped one.",
        "",
        f"vendor = {_toml(result.vendor)}",
        "",
        "[[model]]",
    ]
    lines += [f"{name} = {_toml(value)}" for name, value in entries.items()]
    return "\n".join(lines) + "\n"
