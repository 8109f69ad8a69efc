"""Writing a measured rule as a model-table row (tables/models/README.md) that `--tables FILE` loads."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..errors import ProbeError, ProbeUsageError
from ..schemes.rules import FlatRule, PatchRule, UnpublishedRule
from .fitters import CLAUDE_PATCH, PATCH, decimal_text
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
    kept = _scheme_entries(fit, row, entries)
    note = f"measured at detail {result.detail}" + (f" (level {fit.level})" if fit.level != result.detail else "")
    note += f" with {result.requests} requests"
    if kept:
        note += f"; {', '.join(kept)}: as the shipped table gives {'it' if len(kept) == 1 else 'them'} (not measured)"
    entries |= {"evidence": "measured", "note": note, "source": source, "date": result.date, "checked": result.date}
    lines = [f"# {source} ({result.requests} requests to {result.endpoint}).",
             "# Load it with --tables FILE (costcalc.load_tables(FILE)); its row replaces the shipped one.",
             "", f"provider = {_toml(result.provider)}", "", "[[model]]"]  # fmt: skip
    lines += [f"{name} = {_toml(value)}" for name, value in entries.items()]
    return "\n".join(lines) + "\n"


def _scheme_entries(fit, row, entries: dict[str, Any]) -> list[str]:
    """The fitted scheme's keys added to `entries`; the levels not measured, kept as the shipped table gives them."""
    same = row is not None and row.scheme == fit.scheme
    kept: list[str] = []
    p = fit.params
    if fit.scheme == "tile":
        low_fit = dict(row.rules)["low"].fit if same else 512
        entries |= {"base": p["base"], "tile": p["tile"], "fit": p["fit"], "short_side": p["short_side"],
                    "tile_size": p["tile_size"], "low_fit": low_fit}  # fmt: skip
    elif fit.scheme == "patch":
        entries |= {"multiplier": p["multiplier"], "auto": row.auto if same else fit.level,
                    "patch_size": PATCH, "max_patches": fit.rule.max_patches}  # fmt: skip
        levels = dict(row.rules) if same else {}
        for level in ("low", "high", "original"):
            if level == fit.level:
                entries[level] = {"max_dimension": p["max_dimension"]} | (
                    {"patch_budget": p["patch_budget"]} if p["patch_budget"] is not None else {})
            elif isinstance(levels.get(level), PatchRule):
                rule = levels[level]
                entries[level] = {"max_dimension": rule.max_dimension} | (
                    {"patch_budget": rule.patch_budget} if rule.patch_budget is not None else {})
                kept.append(level)
            elif isinstance(levels.get(level), UnpublishedRule):
                entries[level] = "unknown"
                kept.append(level)
    elif fit.scheme == "claude":
        entries |= {"max_edge": p["max_edge"], "max_tokens": p["max_tokens"], "patch_size": CLAUDE_PATCH,
                    "max_side": fit.rule.max_side}  # fmt: skip
    else:
        levels = [(level, rule) for level, rule in row.rules] if same else []
        if fit.level not in dict(levels):
            levels.append((fit.level, None))
        for level, rule in levels:
            if level == fit.level:
                entries[level] = {"tokens": p["tokens"], "basis": "flat"}
            elif isinstance(rule, FlatRule):
                entries[level] = {"tokens": rule.tokens, "basis": rule.basis}
                kept.append(level)
            else:
                entries[level] = "unknown"
                kept.append(level)
        if "auto" not in entries:  # auto names a level (the table's, else the one measured)
            entries["auto"] = row.auto if same and row.auto != "auto" else fit.level
    return kept
