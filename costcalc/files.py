"""Writing outputs so that nothing a user owns is lost: whole files or none, on disk before they appear (issue 9).

A file is written to a temporary name in its folder, given ordinary
permissions (0o666 less the umask, as `open` would; `mkstemp` alone gives
0o600) or the mode (and, when root, the owner and group) of the original it
replaces, flushed to disk (fsync), then renamed into place; the folder is
synced after the rename so the new name survives a crash too (or, with
`sync=False`, once for many files by the caller: `sync_folders`).

The temporary name is short (`.costcalc-<16 hex>.tmp`), so a legal 255-byte
name is writable. With `root`, a write never leaves `root`: every folder from
`root` down to the file's is entered by descriptor without following a
symbolic link (openat with O_NOFOLLOW), at the moment of the write, so a link
put in place after planning is refused too (issue 15).

Sources are read with the same care (`read_regular`): a non-blocking open, the
descriptor's fstat says a regular file, and a size cap, so a FIFO, a device or
a 5 GB sparse file is a one-line error, never a hang or an exhausted memory.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from .errors import ImageReadError
from .words import file_kind, os_reason

__all__ = [
    "atomic_write",
    "file_mode",
    "current_umask",
    "kept_mode",
    "sync_folders",
    "LinkedFolderError",
    "read_regular",
    "MAX_SOURCE_BYTES",
    "open_inside",
    "inside",
    "bounded_lines",
    "bounded_read",
    "LineTooLongError",
]

MAX_SOURCE_BYTES = 256 * 1024 * 1024
"""The default cap on a source read whole (`read_regular`): far above any vendor API's image limit (20 MB at most
today), far below what a host can hold many of at once."""

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_AT = all(call in os.supports_dir_fd for call in (os.open, os.rename, os.mkdir, os.unlink)) and hasattr(
    os, "O_NOFOLLOW"
)
"""Whether this OS writes by folder descriptor (POSIX); elsewhere the path is re-checked with realpath."""


class LinkedFolderError(OSError):
    """A folder on the way to an output is a symbolic link (or not a folder): never written through."""


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


def atomic_write(
    path: Path,
    data: bytes,
    mode: int | None = None,
    *,
    root: str | os.PathLike | None = None,
    owner: tuple[int, int] | None = None,
    sync: bool = True,
    replace: bool = True,
    durable: bool = True,
) -> None:
    """Write `data` to `path` all at once with permissions `mode` (default `file_mode()`): temporary, fsync, rename.

    `root`: a folder the write must stay inside (`path` lies below it): missing
    folders are made and every folder is entered without following a link;
    a link (or a file) on the way is LinkedFolderError. `owner`: the (uid,
    gid) to give the file before it appears (an original's, kept when
    replacing it; applied when this process may). `sync=False` leaves the
    folder's fsync to the caller (`sync_folders`, once for many files).
    `replace=False`: the file must be new; FileExistsError if the name exists
    (or appears meanwhile: the new name is a hard link made only if absent).
    `durable=False`: a *new* name is linked before its data is synced, which the caller does later for many
    files at once (`sync_files`); a file it replaces is always synced first, so an original is never traded
    for data still in memory.
    """
    path = Path(path)
    mode = file_mode() if mode is None else mode
    if not _AT:
        _write_by_path(path, data, mode, root, owner, sync, replace)
        return
    if root is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = os.open(path.parent, _DIR_FLAGS)
    else:
        folder = open_inside(root, path.parent)
    try:
        temporary = f".costcalc-{secrets.token_hex(8)}.tmp"
        fd = os.open(
            temporary,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
            0o600,
            dir_fd=folder,
        )
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                _own(out.fileno(), owner)
                os.fchmod(out.fileno(), mode)
                if durable or not _linked_new(temporary, path.name, folder):
                    os.fsync(out.fileno())
                    _put(temporary, path.name, folder, replace)
        except BaseException:  # Ctrl-C included: never leave the temporary behind
            try:
                os.unlink(temporary, dir_fd=folder)
            except FileNotFoundError:
                pass
            raise
        if sync:
            try:
                os.fsync(folder)
            except OSError:
                pass
    finally:
        os.close(folder)


def _linked_new(temporary: str, name: str, folder: int) -> bool:
    """Whether `temporary` now also has the new name `name` (absent until now: nothing is replaced), itself
    unlinked; False when `name` exists, left for a synced replace."""
    try:
        os.link(temporary, name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
    except FileExistsError:
        return False
    os.unlink(temporary, dir_fd=folder)
    return True


def _put(temporary: str, name: str, folder: int, replace: bool) -> None:
    """Give the synced `temporary` its name: replacing what has it (`replace`), else only if absent."""
    if replace:
        os.rename(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)  # POSIX rename replaces
    else:
        os.link(temporary, name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
        os.unlink(temporary, dir_fd=folder)


def _own(fd: int, owner: tuple[int, int] | None) -> None:
    """Give the file `owner`'s uid and gid (before its mode: a chown clears set-id bits) when this process may."""
    if owner is None or not hasattr(os, "fchown"):
        return
    try:
        os.fchown(fd, *owner)
    except PermissionError:  # not root: the file stays ours, as any file we make
        pass


def open_inside(root: str | os.PathLike, folder: str | os.PathLike) -> int:
    """A descriptor of `folder`, which lies below `root`, reached from `root` one name at a time, never through a
    symbolic link; folders missing on the way are made (never through a link either). The caller closes it.

    LinkedFolderError when a name on the way is a link or a file; ValueError when `folder` is not below `root`.
    """
    relative = os.path.relpath(os.fspath(folder), os.fspath(root))
    parts = [] if relative == os.curdir else relative.split(os.sep)
    if parts and parts[0] == os.pardir:
        raise ValueError(f"{folder} is not inside {root}")
    fd = os.open(root, _DIR_FLAGS)
    shown = os.fspath(root)
    try:
        for part in parts:
            shown = os.path.join(shown, part)
            try:
                os.mkdir(part, 0o777, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                inner = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    kind = "a symbolic link" if os.path.islink(shown) else "not a folder"
                    raise LinkedFolderError(error.errno, f"{shown} is {kind}: never written through", shown) from None
                raise
            os.close(fd)
            fd = inner
        return fd
    except BaseException:
        os.close(fd)
        raise


def _write_by_path(path: Path, data: bytes, mode: int, root, owner, sync: bool, replace: bool = True) -> None:
    """atomic_write where folders cannot be opened (Windows): the real path checked before the folders are made
    and again before the rename."""
    if root is not None:
        _check_real(path, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".costcalc-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            _own(out.fileno(), owner)
            os.chmod(temporary, mode)
            os.fsync(out.fileno())
        if root is not None:
            _check_real(path, root)
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
            os.unlink(temporary)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    if sync:
        _sync_folder(path.parent)


def _check_real(path: Path, root) -> None:
    """LinkedFolderError unless `path`'s folder resolves to where it lies below `root`'s real path (no link)."""
    real_root = os.path.realpath(root)
    expected = os.path.normcase(os.path.normpath(os.path.join(real_root, os.path.relpath(path.parent, root))))
    if os.path.normcase(os.path.realpath(path.parent)) != expected:
        raise LinkedFolderError(
            errno.ELOOP,
            f"{path.parent} leads outside {root} (a symbolic link): never written through",
            os.fspath(path.parent),
        )


def inside(path: str | os.PathLike, roots: Iterable[str]) -> tuple[str, str] | None:
    """(the real path, the root it lies in) of `path` (symbolic links resolved, relative to the working folder),
    when it lies in one of `roots` (real paths) or is one; else None. Whether `path` exists makes no difference."""
    real = os.path.realpath(os.path.abspath(os.fspath(path)))
    for root in roots:
        if real == root or real.startswith(os.path.join(root, "")):
            return real, root
    return None


class LineTooLongError(ValueError):
    """A line (or a whole document) longer than the cap it is read with: `.line` is its number (1-based)."""

    def __init__(self, line: int, cap: int):
        super().__init__(f"longer than {cap:,} bytes: more than costcalc reads in one piece")
        self.line, self.cap = line, cap


def bounded_lines(stream, cap: int = MAX_SOURCE_BYTES):
    """The lines of a binary stream, as `for line in stream` gives them, each read with at most `cap` + 1 bytes in
    memory: LineTooLongError for a line longer (an endless stream without a newline, /dev/zero). An iterator of
    pieces already bounded (fixed-size reads) is passed through."""
    readline = getattr(stream, "readline", None)
    if readline is None:
        yield from stream
        return
    number = 0
    while True:
        line = readline(cap + 1)
        if not line:
            return
        number += 1
        if len(line) > cap:
            raise LineTooLongError(number, cap)
        yield line


def bounded_read(stream, cap: int = MAX_SOURCE_BYTES) -> bytes:
    """The rest of a binary stream, at most `cap` bytes: LineTooLongError (line 1) for a longer one."""
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise LineTooLongError(1, cap)
    return data


def sync_files(paths: Iterable[str | os.PathLike], threads: int = 8) -> None:
    """fsync each file written with `atomic_write(..., durable=False)`, several at once (the file system commits
    them together), never through a link; a file gone or swapped meanwhile is left alone."""
    unique = iter(list(dict.fromkeys(os.fspath(path) for path in paths)))
    lock = threading.Lock()

    def sync_each() -> None:
        while True:
            with lock:
                path = next(unique, None)
            if path is None:
                return
            _fsync(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))

    workers = [threading.Thread(target=sync_each, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def sync_folders(folders: Iterable[str | os.PathLike]) -> None:
    """fsync each folder once: the renames made in it with `atomic_write(..., sync=False)` are then on disk."""
    for folder in dict.fromkeys(os.fspath(folder) for folder in folders):
        _sync_folder(Path(folder))


def read_regular(
    path: str | os.PathLike, max_bytes: int = MAX_SOURCE_BYTES, *, name: str | None = None
) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file and its fstat, in bounded time and memory (ImageReadError otherwise).

    Opened non-blocking (a FIFO never hangs the open), checked by fstat on the
    descriptor (not the path, which may change meanwhile): a regular file of
    at most `max_bytes`; read to at most `max_bytes` + 1 bytes, so a file that
    grows (or is swapped) meanwhile is refused, not read without end.
    """
    where = name or os.fsdecode(path)
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        )
    except OSError as error:
        raise ImageReadError(f"{where}: {os_reason(error)}") from None
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise ImageReadError(f"{where}: is a folder, not an image")
        if not stat.S_ISREG(status.st_mode):
            raise ImageReadError(f"{where}: not a regular file ({file_kind(status.st_mode)})")
        if status.st_size > max_bytes:
            raise ImageReadError(f"{where}: {status.st_size:,} bytes, over the cap of {max_bytes:,} bytes")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(max_bytes + 1 - total, 1 << 24) or 1)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise ImageReadError(f"{where}: grew past the cap of {max_bytes:,} bytes while read")
        return b"".join(chunks), status
    except ImageReadError:
        raise
    except OSError as error:
        raise ImageReadError(f"{where}: {os_reason(error)}") from None
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """fsync a folder so a rename in it is on disk; a no-op where folders cannot be opened (Windows)."""
    _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: str | os.PathLike, flags: int) -> None:
    """Open `path` with `flags` and fsync it; nothing when it cannot be opened or synced (gone, a link, Windows)."""
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
