"""Writes the compiled tables (catalog/compiled.py) from the TOML in tables/:

    python -m costcalc.catalog.compiler    # rebuild costcalc/catalog/tables.pickle

Run it after every change to tables/ (models, prices, lifecycle.toml, limits.toml) and commit the file with the
change; tables/update_prices.py runs it after writing the price files, and tests/catalog/test_compiled.py fails
until it is run. The TOML is read with every check the loader makes, so a table that does not load cannot be
compiled.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import zlib
from pathlib import Path

from ..files import atomic_write
from ..records import names as record_names
from .compiled import FILE as _FILE
from .compiled import FORMAT, PARTS, fingerprint
from .limits import read_limits
from .tables import LIMITS, compiled_files, read_shipped, tables_dir

__all__ = ["build", "main"]


def build(folder: Path | None = None) -> bytes:
    """The compiled form of the shipped tables in `folder` (default: costcalc's own), read from their TOML."""
    folder = folder or tables_dir()
    files = compiled_files(folder)
    return encode({"tables": read_shipped(folder)._state(), "limits": read_limits(folder / LIMITS)}, folder, files)


def encode(parts: dict, folder: Path, files: tuple[Path, ...]) -> bytes:
    """The file's bytes for `parts` (PARTS → value) read from `files` below `folder`.

    Each part is pickled on its own, with the fields of every costcalc class it holds (each must be a
    record, costcalc.records), so a class changed since is noticed when the file is read. No part may name `folder`: a row
    whose source defaults to its file's path would carry this machine's path into every install.
    """
    prints = fingerprint(folder, files)
    if prints is None:
        raise ValueError(f"{folder}: a shipped table file is not a regular file")
    pickled: dict[str, bytes] = {}
    classes: dict[str, dict[str, tuple[str, ...]]] = {}
    for name in PARTS:
        seen: dict[str, tuple[str, ...]] = {}
        value = parts[name]
        if name == "tables":  # the rows of each model and each price name on their own (compiled.Rows)
            models = _grouped(value["models"], lambda model: model.names, seen)
            value = {**value, "models": models, "prices": _grouped(value["prices"], None, seen)}
        pickled[name], classes[name] = _dumps(value, seen), seen
        if os.fsencode(folder) in pickled[name]:
            raise ValueError(f"{folder}: the compiled {name} name this folder; give every row a source")
    body = pickle.dumps({"fingerprint": prints, "classes": classes, "parts": pickled}, protocol=5)
    return pickle.dumps({"format": FORMAT, "crc": zlib.crc32(body), "body": body}, protocol=5)


def _grouped(rows: dict, key, seen: dict[str, tuple[str, ...]]) -> tuple[dict[str, int], list[bytes]]:
    """compiled.Rows' groups, in table order: the rows of the names `key(row)` puts together pickled as one (the
    models of one table row: its `names`), else each name's alone."""
    groups: dict = {}
    for name, row in rows.items():
        groups.setdefault(name if key is None else key(row), {})[name] = row
    index = {name: at for at, group in enumerate(groups.values()) for name in group}
    return {name: index[name] for name in rows}, [_dumps(group, seen) for group in groups.values()]


def _dumps(value, seen: dict[str, tuple[str, ...]]) -> bytes:
    buffer = io.BytesIO()
    _Recorder(buffer, seen).dump(value)
    return buffer.getvalue()


class _Recorder(pickle.Pickler):
    """A pickler noting each costcalc class it meets in `seen`, with that class's fields."""

    def __init__(self, buffer, seen: dict[str, tuple[str, ...]]):
        super().__init__(buffer, protocol=5)
        self.seen = seen

    def reducer_override(self, obj):
        kind = type(obj)
        if kind.__module__.partition(".")[0] == "costcalc":
            key = f"{kind.__module__}:{kind.__qualname__}"
            if key not in self.seen:
                fields = record_names(kind)
                if fields is None:
                    raise ValueError(f"{key} is not a record: its layout could not be checked when loaded")
                self.seen[key] = fields
        return NotImplemented


FILE = Path(_FILE)
"""The compiled tables (catalog/compiled.py)."""


def main() -> int:
    """Write FILE from the shipped TOML (left alone when it holds the same bytes already)."""
    data = build()
    try:
        current = FILE.read_bytes()
    except FileNotFoundError:
        current = None
    if current != data:
        atomic_write(FILE, data)
    print(f"{FILE.name}: {'written' if current != data else 'up to date'} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
