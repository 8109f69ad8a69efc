"""The shipped tables pre-read: what the TOML loader makes of tables/, kept in `tables.pickle` beside this module, so
a command starts without parsing and checking TOML (about a millisecond to load instead of tens).

tables/ stays the source of truth, reviewed as TOML. `tables.pickle` is derived from it by
`python -m costcalc.catalog.compiler` and checked in; tests/catalog/test_compiled.py rebuilds it from the TOML and
fails, naming that command, when the two differ. It is read only when it describes exactly the files in front of it:
the same names, sizes and CRC-32 of the content of every shipped table file, and the same fields in every row class
it holds. Otherwise the TOML is read as before: slower, never stale. Your own tables (`--tables`, the data folder)
are always read and checked as TOML.

The file is a pickle: it ships inside the package beside this code, and nothing is ever read from anywhere else.
"""

from __future__ import annotations

import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping
from functools import cache

from ..records import names as record_names

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from pathlib import Path

try:  # the C unpickler alone: `pickle` itself imports more than a start-up needs
    from _pickle import loads as _loads
except ImportError:  # pragma: no cover - an interpreter without the accelerator
    from pickle import loads as _loads

__all__ = ["FILE", "FORMAT", "COMMAND", "PARTS", "fingerprint", "part", "classes", "same_classes", "Rows"]

FILE = os.path.join(os.path.dirname(__file__), "tables.pickle")
"""The compiled tables, inside the package (the wheel carries them like a module); a string: no pathlib at start-up."""
FORMAT = 2
"""Raised when the layout of the file changes; a file of another format is not read. The file is a pickled
{"format", "crc", "body"}: `body` the pickled contents ({"fingerprint", "classes", "parts"}), `crc` its CRC-32, so a
damaged file (a bit flipped in a price or a name) is not read."""
COMMAND = "python -m costcalc.catalog.compiler"
"""What rebuilds FILE from tables/."""
PARTS = ("tables", "limits")
"""What FILE holds, each pickled on its own and unpickled when first asked for: the model, price and lifecycle
tables (`Tables._state`, the models and prices in groups of rows pickled on their own again: `Rows`) and the
limits table's rows."""


def fingerprint(folder: Path, files: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...] | None:
    """(name below `folder`, size, CRC-32 of the bytes) of each file, in order; None when one is not a regular file
    that can be read (then the TOML loader says what is wrong with it)."""
    found = []
    for path in files:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        with open(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = handle.read()
        found.append((os.path.relpath(path, folder).replace(os.sep, "/"), len(data), zlib.crc32(data)))
    return tuple(found)


@cache
def _outer() -> dict | None:
    """FILE's header and pickled parts, or None when it is missing, unreadable or of another format."""
    try:
        with open(FILE, "rb") as handle:
            outer = _loads(handle.read())
        if not isinstance(outer, dict) or outer.get("format") != FORMAT or zlib.crc32(outer["body"]) != outer["crc"]:
            return None
        inner = _loads(outer["body"])
    except Exception:  # missing, damaged, or written by another Python: the TOML is read instead
        return None
    return inner if isinstance(inner, dict) and {"fingerprint", "classes", "parts"} <= inner.keys() else None


@cache
def _matches(folder: Path, files: tuple[Path, ...]) -> bool:
    outer = _outer()
    return outer is not None and outer["fingerprint"] == fingerprint(folder, files)


def part(name: str, folder: Path, files: tuple[Path, ...]):
    """Part `name` of FILE (PARTS), when FILE was built from exactly `files` (below `folder`) and every row class it
    holds still has the fields it had then; None otherwise (then read the TOML)."""
    if not _matches(folder, files):
        return None
    outer = _outer()
    try:
        value = _loads(outer["parts"][name])
    except Exception:  # a row class renamed or moved since FILE was built
        return None
    return value if same_classes(outer["classes"][name]) else None


def classes(name: str) -> dict[str, tuple[str, ...]]:
    """The classes part `name` of FILE holds ("module:name" → its record fields), for `Rows`."""
    outer = _outer()
    return outer["classes"][name] if outer is not None else {}


_verified: set[tuple[str, tuple[str, ...]]] = set()


def same_classes(spec: dict[str, tuple[str, ...]]) -> bool:
    """Whether each class named in `spec` ("module:name" → its record fields) still has exactly those fields.

    A class whose module is not imported yet is passed over: no object of it was unpickled (that would have
    imported it); `Rows` asks again after each row it unpickles.
    """
    for key, names in spec.items():
        if (key, names) in _verified:
            continue
        module, _, name = key.partition(":")
        loaded = sys.modules.get(module)
        if loaded is None:
            continue
        found = getattr(loaded, name, None)
        if found is None or record_names(found) != names:
            return False
        _verified.add((key, names))
    return True


class Rows(Mapping):
    """name → row of a compiled table, unpickled when first asked for, so a command imports the modules of the rows
    it looks up (a model's scheme) and not every one. `groups` is (name → the index of its group, the groups): each
    group pickles the rows of some names as one {name: row} dict (a model row under each of its names).
    `fallback(name)` gives the row read from the TOML instead when a class it holds has changed since FILE was built."""

    def __init__(
        self, groups: tuple[dict[str, int], list[bytes]], spec: dict[str, tuple[str, ...]], fallback: Callable
    ):
        self._index, self._groups = groups
        self._spec = spec
        self._fallback = fallback
        self._rows: dict = {}

    def __getitem__(self, name: str):
        try:
            return self._rows[name]
        except KeyError:
            pass
        group = self._index[name]  # KeyError for a name without a row
        try:
            rows = _loads(self._groups[group])
        except Exception:  # a class renamed or moved since FILE was built
            rows = None
        if rows is None or not same_classes(self._spec):
            rows = {key: self._fallback(key) for key, at in self._index.items() if at == group}
        self._rows.update(rows)
        return rows[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)
