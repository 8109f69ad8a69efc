"""The summary of an audit of data where it lives: totals per model, per prefix or shard, and tokens per image.

`Summary` is `runs.audit.Totals` (the totals per model) with two more views, merged chunk by chunk
as the totals are:

- `groups`: the same totals per *group*, where a group is the first folder below the audited
  root for objects in a store or a local folder (`s3://bucket/imgs/cats/` for
  `s3://bucket/imgs/cats/a/1.jpg` audited from `s3://bucket/imgs/`; the root itself for the
  objects directly in it), the shard for WebDataset members (`shard-0001.tar`), the file
  for rows of a table (`part-0.parquet`), and the host for a URL list (`https://host/`).
  At most MAX_GROUPS groups are kept; items of any group past them count under `(other)`.
- `tokens`: per model, how many priced images have each token count, from which the
  percentiles of tokens per image are read exactly (nearest rank: the smallest count that
  at least p % of the priced images are at or under). Distinct counts are bounded by the
  schemes' caps in practice; past MAX_DISTINCT, counts are kept to three significant digits
  and the percentiles say `approximate`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from .totals import AuditRow, Totals

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "MAX_GROUPS",
    "MAX_ROOTS",
    "OTHER",
    "PERCENTILES",
    "Summary",
    "folder_of",
    "group_by_source",
    "group_by_sources",
]

MAX_GROUPS = 1000
"""Groups kept in a summary; the rest count under OTHER."""
OTHER = "(other)"
MAX_ROOTS = 64
"""Past this many sources, each item is grouped by its own folder (not by the root above it, which would mean
trying every source for every item)."""
MAX_DISTINCT = 100_000
"""Distinct token counts kept exactly per model."""
PERCENTILES = (50, 90, 99)


def group_by_source(source: str, kind: str = "store") -> Callable[[str], str]:
    """The group of an item's path audited from `source`: kind `store` (objects or files below a root, by
    their first folder), `shard` (members of a .tar: the shard), `table` (`file#row`: the file), `urls` (the host)."""
    if kind == "table":
        return lambda path: path.rpartition("#")[0] or path
    if kind == "shard":
        return _shard_of
    if kind == "urls":
        return _host_of
    base = _base(source)

    def group(path: str) -> str:
        if path.startswith(base):
            head, sep, _ = path[len(base) :].partition("/")
            return base + head + "/" if sep else base
        return path.rpartition("/")[0] + "/" if "/" in path else path

    return group


def group_by_sources(sources: Iterable[str], kind: str = "store") -> Callable[[str], str]:
    """`group_by_source` over several sources: an item's group is that of the source whose root it lies below
    (the longest), else its own folder."""
    sources = list(sources)
    if kind == "store" and not 0 < len(sources) <= MAX_ROOTS:  # none, or too many to try each: a file's folder
        return folder_of
    if kind != "store" or len(sources) == 1:
        return group_by_source(sources[0] if sources else "", kind)
    groups = sorted(((_base(s), group_by_source(s)) for s in sources), key=lambda pair: -len(pair[0]))

    def group(path: str) -> str:
        for base, of in groups:
            if path.startswith(base) or path == base[:-1]:  # below the root, or the one file it names
                return of(path)
        return groups[-1][1](path)

    return group


def _base(source: str) -> str:
    """The root of a source as its items' paths start: the folder it names, or the folder above its first glob
    character ("" for a pattern in the working folder) — a local path that exists is a folder, whatever its name
    holds (`photos[1]/`), as the walk reads it."""
    shown = _shown(source)
    magic = min((shown.find(c) for c in "*?[" if c in shown), default=-1)
    if magic >= 0 and ("://" in source or not os.path.exists(source)):
        head, sep, _ = shown[:magic].rpartition("/")
        return head + sep
    return shown.rstrip("/") + "/"


def _shown(source: str) -> str:
    """A source as its items' paths show it: a URL without credentials (inspection.stores.redact); a local
    path as it is (no store module imported for a local audit)."""
    if "://" not in source:
        return source
    from ..inspection.stores import redact

    return redact(source)


def folder_of(path: str) -> str:
    """The folder a path is in, as a group ("./" for a bare name)."""
    head, sep, _ = path.rpartition("/")
    return head + sep if sep else "./"


def _shard_of(path: str) -> str:
    lowered = path.lower()
    for suffix in (".tar.gz/", ".tgz/", ".tar/"):
        at = lowered.find(suffix)
        if at >= 0:
            return path[: at + len(suffix) - 1]
    return path


def _host_of(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}://{rest.partition('/')[0]}/" if sep else url


class Summary(Totals):
    """Totals per model, per group (`group_of(path)`) and the token counts per image, merged as chunks come."""

    def __init__(self, models: Iterable[str], group_of: Callable[[str], str] | None = None):
        super().__init__(models)
        self.models = tuple(self.by_model)
        self.group_of = group_of
        self.groups: dict[str, Totals] = {}
        self.tokens: dict[str, dict[int, int]] = {name: {} for name in self.models}
        self.approximate = False

    def add(self, row: AuditRow, count: int = 1, group: str | None = None) -> None:
        """Count one row, or `count` rows alike but for their paths, in `group` (default: the row's, found by
        `group_of`)."""
        super().add(row, count)
        if self.group_of is not None:
            self.group(self.group_of(row.path) if group is None else group).add(row, count)
        if row.status == "priced" and row.tokens is not None:
            self.count_tokens(row.model, ((row.tokens, count),))

    def add_in_group(self, row: AuditRow, count: int, group: str) -> None:
        """Count `count` rows alike in `group` and in the tokens per image, not yet in the totals per model:
        `settle` adds the groups into those once a chunk is counted (a row is added once, not twice)."""
        self.group(group).add(row, count)
        if row.status == "priced" and row.tokens is not None:
            self.count_tokens(row.model, ((row.tokens, count),))

    def settle(self) -> Summary:
        """The totals per model made the sum of the groups counted by `add_in_group` (call once, after them)."""
        for totals in self.groups.values():
            Totals.merge(self, totals)
        return self

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a worker's chunk going to the parent) without `group_of`, which the parent does not need."""
        return {**self.__dict__, "group_of": None}

    def group(self, name: str) -> Totals:
        """The totals of group `name` (OTHER once MAX_GROUPS are kept)."""
        found = self.groups.get(name)
        if found is None:
            if len(self.groups) >= MAX_GROUPS:
                name = OTHER
                found = self.groups.get(name)
            if found is None:
                found = self.groups[name] = Totals(self.models)
        return found

    def count_tokens(self, model: str, counts: Iterable[tuple[int, int]]) -> None:
        """Add (token count, images) pairs of one model."""
        seen = self.tokens.setdefault(model, {})
        for tokens, n in counts:
            seen[tokens] = seen.get(tokens, 0) + n
        if len(seen) > MAX_DISTINCT:
            self.approximate = True
            self.tokens[model] = _coarse(seen)

    def merge(self, other: Totals) -> None:
        """Add another chunk's totals (a Summary: its groups and token counts too)."""
        super().merge(other)
        if isinstance(other, Summary):
            for name, totals in other.groups.items():
                self.group(name).merge(totals)
            for model, counts in other.tokens.items():
                self.count_tokens(model, counts.items())
            self.approximate |= other.approximate

    def percentiles(self) -> dict[str, dict[str, Any]]:
        """Per model: images (priced, tokens known), p50, p90, p99 and max tokens per image (None when none)."""
        out = {}
        for model in self.models:
            counts = self.tokens.get(model, {})
            values = sorted(counts)
            total = sum(counts.values())
            entry: dict[str, Any] = {"images": total}
            for p in PERCENTILES:
                entry[f"p{p}"] = _nearest_rank(values, counts, total, p)
            entry["max"] = values[-1] if values else None
            if self.approximate:
                entry["approximate"] = True
            out[model] = entry
        return out

    def as_dict(self) -> dict[str, Any]:
        """`tokens_per_image` (percentiles per model) and `by_prefix` ({group: {model: totals}}), for --json."""
        return {
            "tokens_per_image": self.percentiles(),
            "by_prefix": {
                name: {model: t.as_dict() for model, t in totals.by_model.items()}
                for name, totals in sorted(self.groups.items())
            },
        }


def _nearest_rank(values: list[int], counts: dict[int, int], total: int, p: int) -> int | None:
    if not total:
        return None
    rank = -(-total * p // 100)  # ceil(p% of the images), at least 1
    seen = 0
    for value in values:
        seen += counts[value]
        if seen >= max(rank, 1):
            return value
    return values[-1]


def _coarse(counts: dict[int, int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for value, n in counts.items():
        digits = len(str(abs(value)))
        step = 10 ** max(digits - 3, 0)
        key = value // step * step
        out[key] = out.get(key, 0) + n
    return out
