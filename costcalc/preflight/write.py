"""Writing outputs so that nothing a user owns is lost: whole files or none, never over a source."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".costcalc-tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:  # Ctrl-C included: never leave the temporary behind
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
