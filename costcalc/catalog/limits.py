"""What the API accepts, as dated data: each finding names the rule it breaks (docs/limits.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from ..errors import CostcalcError, TableError
from ..records import record
from ..schemes.fields import check_keys
from . import compiled
from .tables import LIMITS, compiled_names, tables_folder

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from ..inspection.headers import ImageInfo

__all__ = ["Limit", "Limits", "Finding", "load_limits", "limit_editions", "size_limits"]

_RULES = {
    "formats": "image",
    "animated": "image",
    "max_image_bytes": "image",
    "max_images": "request",
    "max_request_bytes": "request",
    "max_request_image_bytes": "request",
    "max_images_side": "request",  # value { above = N, side = S }: over N images, every image within S × S px
    "max_batch_requests": "batch",  # requests per batch file (docs/README.md; checked by pricing.batchfile)
    "max_batch_bytes": "batch",  # bytes of a batch input file (docs/README.md)
}
DEFAULT_VENDOR = "openai"
"""Rows without a `vendor` are OpenAI's. A vendor without rows of its own has no input rules checked:
its limits are unknown, never borrowed from another vendor (docs/README.md)."""


@record
class Limit:
    """One rule of one edition, with its source."""

    edition: str
    scope: str
    rule: str
    value: Any
    source: str
    checked: str
    vendor: str = DEFAULT_VENDOR
    """The vendor whose rule it is (the model table's `vendor`: anthropic, google, ...)."""


@record
class Finding:
    """A rule a file breaks: the rule's name and a message naming it and its source."""

    rule: str
    message: str


class Limits:
    """The rules of one edition; `check_image` gives the first one an image breaks."""

    def __init__(self, edition: str, rules: Mapping[str, Limit]):
        self.edition = edition
        self.rules = MappingProxyType(dict(rules))

    def refuses_format(self, format: str) -> Finding | None:
        """The `formats` rule's finding when this edition's API does not take `format`; None when it does, or
        when no formats rule is on file (then what it refuses is unknown)."""
        formats = self.rules.get("formats")
        if formats is not None and format not in formats.value:
            return self._finding(formats, f"{format} is not an accepted format ({', '.join(formats.value)})")
        return None

    def check_image(self, info: ImageInfo) -> Finding | None:
        """The first per-image rule `info` breaks, or None."""
        refused = self.refuses_format(info.format)
        if refused is not None:
            return refused
        animated = self.rules.get("animated")
        # docs/limits.md rejects animated GIF and, alike, animated WebP; an APNG is a valid
        # PNG whose default image every decoder shows, and no source rejects it.
        if animated is not None and info.animated and info.format in ("GIF", "WEBP") and not animated.value:
            return self._finding(animated, f"animated {info.format}: the API accepts still images only")
        size = self.rules.get("max_image_bytes")
        if size is not None and info.bytes is not None and info.bytes > size.value:
            return self._finding(size, f"{info.bytes:,} bytes, over the {size.value:,}-byte limit per image")
        return None

    def _finding(self, limit: Limit, text: str) -> Finding:
        return Finding(
            limit.rule, f"{text} [rule {limit.rule}, limits {limit.edition}; `costcalc limits` shows sources]"
        )


def limit_editions(path: str | os.PathLike | None = None, vendor: str | None = None) -> list[str]:
    """The editions of one vendor's rows (default: OpenAI's) in the limits table, newest first."""
    return _editions(_vendor_rows(_load(_file(path)), vendor))


def load_limits(edition: str | None = None, path: str | os.PathLike | None = None, vendor: str | None = None) -> Limits:
    """The rules of `edition` (default: the newest) of one vendor (default: OpenAI) from the shipped table or `path`.

    A vendor without rows of its own gets no rules (edition "none"): what it refuses is unknown.
    """
    file = _file(path)
    rows = _vendor_rows(_load(file), vendor)
    editions = _editions(rows)
    if not editions:
        if edition is not None:
            raise TableError(f"{file}: no limits rows for {vendor or DEFAULT_VENDOR}, so no edition {edition!r}")
        return Limits("none", {})
    chosen = edition or editions[0]
    if chosen not in editions:
        raise TableError(f"{file}: no limits edition {chosen!r}; editions: {', '.join(editions)}")
    return Limits(chosen, {row.rule: row for row in rows if row.edition == chosen})


def _file(path: str | os.PathLike | None) -> str | Path:
    """The limits table: `path`, or the shipped tables/limits.toml (a string: no pathlib at start-up)."""
    if not path:
        return os.path.join(tables_folder(), LIMITS)
    from pathlib import Path

    return Path(path)


def _editions(rows: tuple[Limit, ...]) -> list[str]:
    """The editions among `rows`, newest first."""
    return sorted({row.edition for row in rows}, reverse=True)


def _vendor_rows(rows: tuple[Limit, ...], vendor: str | None) -> tuple[Limit, ...]:
    """The rows of `vendor` (default: OpenAI)."""
    return tuple(row for row in rows if row.vendor == (vendor or DEFAULT_VENDOR))


def limits_for(model, edition: str | None = None, path: str | os.PathLike | None = None) -> Limits:
    """The input rules of `model`'s vendor (a Model with `.vendor`), edition `edition` or the newest."""
    return load_limits(edition, path, vendor=getattr(model, "vendor", "") or None)


def limit_vendors(path: str | os.PathLike | None = None) -> list[str]:
    """Every vendor with rows in the limits table, OpenAI first."""
    rows = _load(_file(path))
    found = dict.fromkeys(row.vendor for row in rows)
    return sorted(found, key=lambda p: (p != DEFAULT_VENDOR, p))


SIZE_RULES = ("max_side", "min_side", "max_aspect", "max_patches")
"""The size limits a model's own rule rejects by (its `reject`, `costcalc.schemes`), listed by `size_limits`."""


def size_limits(tables=None) -> list[Limit]:
    """The size limits in the model rules (scope `size`, edition `model table`), one row per vendor, limit and value.

    They live in the model tables, not here, because each binds a scheme, not a
    vendor's whole API: Claude's and Nova's 8,000 px sides (docs/anthropic.md, docs/README.md),
    Mistral's 10,000 px (docs/mistral.md), Qwen's sides over 10 px and 200:1 aspect
    (docs/qwen.md), OpenAI's 30,000 patches (docs/openai.md).
    """
    from ..schemes.base import can_reject
    from .tables import default_tables

    found: dict[tuple[str, str, Any], list] = {}
    for model in (tables or default_tables()).models():
        for detail in model.details:
            try:
                _, rule = model.rule(detail)
            except CostcalcError:  # a detail whose rule is unpublished: nothing to reject by
                continue
            if not can_reject(rule):
                continue
            for name in SIZE_RULES:
                value = getattr(rule, name, None)
                if value is not None:
                    models = found.setdefault((model.vendor or DEFAULT_VENDOR, name, value), [])
                    if model not in models:
                        models.append(model)
    rows = []
    for (vendor, name, value), models in found.items():
        names = list(dict.fromkeys(model.name for model in models))
        rows.append(
            Limit(
                "model table",
                "size",
                name,
                value,
                f"{models[0].source} ({len(names)} model names, e.g. {names[0]})",
                models[0].checked,
                vendor,
            )
        )
    return sorted(rows, key=lambda row: (row.vendor != DEFAULT_VENDOR, row.vendor))


@cache
def _load(path: str | Path) -> tuple[Limit, ...]:
    """The rows of a limits table; the shipped one's from the compiled tables when they match it (catalog/compiled.py)."""
    folder = tables_folder()
    if os.fspath(path) == os.path.join(folder, LIMITS):
        rows = compiled.part("limits", folder, compiled_names(folder))
        if rows is not None:
            return rows
    from pathlib import Path

    return read_limits(Path(path))


def read_limits(path: Path) -> tuple[Limit, ...]:
    """The rows of a limits table, read and checked from its TOML."""
    from .loading import read_toml, rows_of, text_field

    document = read_toml(path)
    check_keys(document, {"limit"}, str(path))
    rows = []
    for index, row in enumerate(rows_of(path, document, "limit"), start=1):
        where = f"{path}: limit row {index}"
        check_keys(row, {"edition", "scope", "rule", "value", "source", "checked", "vendor"}, where)
        rule = row.get("rule")
        if rule not in _RULES:
            raise TableError(f"{where}: rule must be one of {', '.join(_RULES)}, not {rule!r}")
        if row.get("scope") != _RULES[rule]:
            raise TableError(f"{where}: rule {rule} has scope {_RULES[rule]!r}")
        if "value" not in row or "edition" not in row:
            raise TableError(f"{where}: needs edition and value")
        value = row["value"]
        value = tuple(value) if isinstance(value, list) else value
        if rule == "max_images_side" and not (
            isinstance(value, dict)
            and set(value) == {"above", "side"}
            and all(type(number) is int and number > 0 for number in value.values())
        ):
            raise TableError(f"{where}: max_images_side needs value = {{ above = N, side = S }} (whole numbers)")
        rows.append(
            Limit(
                edition=text_field(row, "edition", where, default=""),
                scope=row["scope"],
                rule=rule,
                value=value,
                source=text_field(row, "source", where, default=str(path)),
                checked=text_field(row, "checked", where, default=""),
                vendor=text_field(row, "vendor", where, default=DEFAULT_VENDOR),
            )
        )
    if not rows:
        raise TableError(f"{path}: no [[limit]] rows")
    return tuple(rows)
