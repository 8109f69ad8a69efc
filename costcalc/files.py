"""Writing outputs so that nothing a user owns is lost: whole files or none, on disk before they appear (issue 9).

A file is written to a temporary name in its folder, given ordinary
permissions (0o666 less the umask, as `open` would; `mkstemp` alone gives
0o600) or the mode of the original it replaces, flushed to disk (fsync), then
renamed into place; the folder is synced after the rename so the new name
survives a crash too.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "file_mode", "current_umask", "kept_mode"]


def current_umask() -> int:
    """The process umask, read without changing it where the OS can tell (Linux /proc), else set and restored.

    The fallback sets 0o077 for an instant, not 0: a file another thread makes
    meanwhile comes out private rather than world-writable. Call it once, from
    the main thread, at the start of a run.
    """
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o077)
    os.umask(old)
    return old


def file_mode(umask: int | None = None) -> int:
    """The permissions of a new file: 0o666 less the umask (the current one unless given)."""
    return 0o666 & ~(current_umask() if umask is None else umask)


def kept_mode(st_mode: int) -> int:
    """The permission bits of an original to give its replacement (set-id bits dropped)."""
    return stat.S_IMODE(st_mode) & 0o1777


def atomic_write(path: Path, data: bytes, mode: int | None = None, *, replace: bool = True) -> None:
    """Write `data` to `path` all at once with permissions `mode` (default `file_mode()`): temporary, fsync, rename.

    With `replace` False an existing `path` is never replaced: the temporary is linked to its name, which fails
    (FileExistsError) if something is there, even if it appeared a moment ago.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode() if mode is None else mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".costcalc-tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(out.fileno(), mode)
            else:  # Windows before Python 3.13
                os.chmod(temporary, mode)
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            _link_new(temporary, path)
    except BaseException:  # Ctrl-C included: never leave the temporary behind
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(path.parent)


def _link_new(temporary: str, path: Path) -> None:
    """Give `temporary` the name `path` only if nothing has it (a hard link, then the temporary removed); where
    links are not supported, a check and a rename."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network and FAT file systems)
        if os.path.lexists(path):
            raise FileExistsError(17, "File exists", os.fspath(path)) from None
        os.replace(temporary, path)
        return
    os.unlink(temporary)


def _sync_folder(folder: Path) -> None:
    """fsync a folder so a rename in it is on disk; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
