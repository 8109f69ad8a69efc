"""What optimize wrote into an output folder: OUT/.costcalc-optimize.json (issue 15).

For each output (by its path below OUT) the manifest keeps its source (path,
size, mtime_ns, SHA-256 of the bytes read), the options that made it (models,
detail, --max-tokens, quality, format, metadata and frame choices, limits
editions, extra tables), and the size and mtime_ns the output had when
written. A file in OUT that the manifest does not own (no entry, or an entry
whose output has since changed) is not costcalc's to replace; an output is up
to date only when the manifest owns it, its source is unchanged (same size and
mtime, or the same bytes), and the options are the same.

Only the parent process writes the manifest (workers report what they wrote),
whole or not at all (files.atomic_write); before the first output is written,
the entries about to be written are saved as pending, so an interrupted run
still owns what it wrote. Entries are merged with the file's current contents
when saved.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from ..errors import ImageReadError, OutputConflictError
from ..files import atomic_write, file_mode, read_regular

__all__ = ["MANIFEST", "Manifest", "Record"]

MANIFEST = ".costcalc-optimize.json"
"""The manifest's name in OUT."""

_FORMAT = "costcalc-optimize/1"
_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Record:
    """One output as written: its source then, the options, and the output's size and mtime_ns (None: pending)."""

    source: str
    source_size: int
    source_mtime_ns: int
    source_sha256: str | None
    options: dict[str, Any]
    size: int | None = None
    mtime_ns: int | None = None

    def owns(self, status: os.stat_result) -> bool:
        """Whether the file now at the output is the one written (a pending entry owns whatever is there)."""
        return self.size is None or (status.st_size == self.size and status.st_mtime_ns == self.mtime_ns)


class Manifest:
    """The manifest of one output folder (`root`, a real path): entries by output path relative to it."""

    def __init__(self, root: str, entries: dict[str, Record] | None = None):
        self.root = root
        self.path = os.path.join(root, MANIFEST)
        self.entries: dict[str, Record] = entries or {}
        self.changed: dict[str, Record] = {}

    @classmethod
    def load(cls, root: str) -> Manifest:
        """The manifest in `root` (empty when there is none); OutputConflictError when it cannot be read."""
        return cls(root, _read(os.path.join(root, MANIFEST)))

    def key(self, output: str) -> str:
        return os.path.relpath(output, self.root)

    def get(self, output: str) -> Record | None:
        return self.entries.get(self.key(output))

    def put(self, output: str, record: Record) -> None:
        self.entries[self.key(output)] = self.changed[self.key(output)] = record

    def save(self) -> None:
        """Write the entries changed by this run over the file's current ones, atomically."""
        if not self.changed:
            return
        try:
            current = _read(self.path)
        except OutputConflictError:
            current = {}
        current.update(self.changed)
        document = {"format": _FORMAT, "outputs": {key: vars(record) for key, record in sorted(current.items())}}
        text = json.dumps(document, indent=1, ensure_ascii=True) + "\n"
        os.makedirs(self.root, exist_ok=True)
        atomic_write(self.path, text.encode("ascii"), file_mode(), root=self.root)
        self.changed = {}


def _read(path: str) -> dict[str, Record]:
    try:
        data, _ = read_regular(path, _MAX_BYTES)
    except ImageReadError as error:
        if not os.path.lexists(path):
            return {}
        raise OutputConflictError(f"{error}: cannot read the manifest of what optimize wrote here") from None
    try:
        document = json.loads(data)
        if document.get("format") != _FORMAT:
            raise ValueError(f"format {document.get('format')!r}, not {_FORMAT!r}")
        return {str(key): Record(**value) for key, value in document["outputs"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise OutputConflictError(f"{path}: not a manifest costcalc optimize wrote ({' '.join(str(error).split())}); "
                                  f"move it away to start afresh") from None  # fmt: skip
