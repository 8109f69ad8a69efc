"""Where each output of an optimize run goes, all planned and checked before anything is written (issue 9).

A file given as a source is written straight into OUTDIR (OUTDIR/photo.jpg);
a folder's tree is mirrored there, under the folder's own name when several
sources are given; a converted format gets its suffix.

A run is refused whole, naming both paths, when OUTDIR is a source folder or
lies inside one (unless `in_place`), or when an output would be written over a
source, over a different original, for two sources, through a symbolic link
in OUTDIR, or where another output needs a folder (or a folder where a file
is). Files and folders are compared by device and inode, so a bind mount of
a source is the source.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from ..errors import OutputConflictError
from ..files import file_mode, kept_mode
from ..inspection.walk import Found, walk
from ..words import display_path
from .resize import EXTENSIONS

__all__ = ["LINK_HINT", "SUFFIX_FORMATS", "Planned", "check_destination", "plan_outputs", "stat_or_none"]

LINK_HINT = "optimize does not follow links: give the link's target as a PATH"
"""How optimize reaches a linked file: it has no option to follow links (audit's --follow-symlinks)."""


def check_destination(sources: Iterable[str | os.PathLike], outdir: str | os.PathLike, in_place: bool) -> None:
    """ValueError if OUTDIR is a source folder or inside one (unless `in_place`), or a source file.

    Compared by device and inode (of OUTDIR and each folder above it), not by path alone: a bind mount or
    another mount of a source folder is that folder.
    """
    out = Path(outdir).resolve()
    chain = [_identity(folder) for folder in (out, *out.parents)]
    out_id = chain[0]
    above = {identity for identity in chain if identity is not None}
    for source in sources:
        src = Path(source).resolve()
        status = stat_or_none(src)
        if status is None:
            continue
        src_id = (status.st_dev, status.st_ino)
        if stat.S_ISDIR(status.st_mode) and src_id in above and not in_place:
            raise ValueError(
                f"output folder {outdir} is {'the source' if out_id == src_id else 'inside the source'} "
                f"{source}; pick another, or pass in_place=True to replace the originals"
            )
        if not stat.S_ISDIR(status.st_mode) and out_id == src_id:
            raise ValueError(f"output folder {outdir} is the source file {source}")


def _identity(path) -> tuple[int, int] | None:
    status = stat_or_none(path)
    return None if status is None else (status.st_dev, status.st_ino)


class Planned(NamedTuple):
    """One file of a run: what the walk found, where its output goes (None if it gets none), its permissions."""

    found: Found
    output: str | None
    mode: int | None
    owner: tuple[int, int] | None = None
    """The (uid, gid) of the original an output replaces in place, kept."""
    fresh: bool = False
    """Up to date: the manifest owns the output, made from this very source with the same options."""


_CASELESS = sys.platform in ("darwin", "win32")
"""Where file names usually ignore case: two outputs differing only in case are one file."""


def plan_outputs(
    sources: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    format: str | None = None,
    in_place: bool = False,
    umask: int | None = None,
    convert: dict[str, str] | None = None,
    **walk_options,
) -> list[Planned]:
    """Every file under `sources` with its output and mode, all checked before anything is written (issue 9).

    Walks the whole run first (paths only: a few hundred bytes a file), then
    refuses with OutputConflictError, naming both paths, when an output is or
    samefiles a source (allowed with `in_place` for the file's own original
    only), when two sources map to one output, or when an existing output in
    a source's folder would replace a different original (say a.jpg → a.webp
    beside an a.webp), or when an output needs a folder that is another
    output or an existing file (`_check_folders`). A file that reaches one
    output twice (a folder given twice) is planned once. Outputs get 0o666 less the umask; one replacing
    its own original keeps the original's mode.
    """
    sources = [os.fspath(source) for source in sources]
    check_destination(sources, outdir, in_place)
    new_mode = file_mode(umask)
    entries = list(_targets(sources, Path(outdir), format, walk_options, convert or {}))
    identities, originals = _source_identities(entries)
    claims = _Claims(sources, outdir, originals, in_place, new_mode)
    planned = [claims.plan(found, output, identity) for (found, output), identity in zip(entries, identities)]
    _check_folders(claims.written, claims.claimed)
    return [item for item in planned if item is not None]


def _source_identities(entries: list[tuple[Found, str]]) -> tuple[list, dict[tuple[int, int], str]]:
    """((device, inode, mode) of each source file, None where it has none), and {(device, inode): the first name
    shown of each original}."""
    identities: list[tuple[int, int, int] | None] = []
    originals: dict[tuple[int, int], str] = {}
    for found, _ in entries:
        status = stat_or_none(found.path) if found.problem is None else None
        identities.append(None if status is None else (status.st_dev, status.st_ino, status.st_mode))
        if status is not None:
            originals.setdefault((status.st_dev, status.st_ino), found.display)
    return identities, originals


class _Claims:
    """The outputs of a run planned so far, and the checks each next one must pass (`plan_outputs`)."""

    def __init__(self, sources: list[str], outdir, originals: dict[tuple[int, int], str], in_place: bool, mode: int):
        self.outdir, self.originals, self.in_place, self.new_mode = outdir, originals, in_place, mode
        self.linked = _linked_folders(outdir)
        self.beside = _originals_region(sources, outdir)
        self.real_folder = lru_cache(maxsize=4096)(os.path.realpath)
        self.claimed: dict[str, tuple[tuple[int, int] | None, str]] = {}
        self.folded: dict[str, str] = {}
        self.existing: dict[tuple[int, int], str] = {}
        self.written: list[tuple[str, str, str]] = []  # (real output path, source shown, output shown)

    def plan(self, found: Found, output: str, identity: tuple[int, int, int] | None) -> Planned | None:
        """The file's Planned; None for a file named twice (written once); OutputConflictError when its output
        cannot be written."""
        if found.problem is not None:
            return Planned(found, output, None)
        shown, out_shown = found.display, display_path(output)
        real = self._real_path(output, shown, out_shown)
        key = os.path.normcase(real)
        source_id = None if identity is None else identity[:2]
        if not self._claim(key, source_id, shown, out_shown):
            return None
        mode, owner = self._over_existing(found, output, key, identity, real)
        self.written.append((real, shown, output))
        return Planned(found, output, mode, owner)

    def _real_path(self, output: str, shown: str, out_shown: str) -> str:
        """The output's real path (its folder resolved); OutputConflictError when a link in OUTDIR is on the way."""
        folder, name = os.path.split(output)
        link = self.linked(folder)
        if link is not None:
            raise OutputConflictError(
                f"output {out_shown} of {shown} would be written through {display_path(link)}, "
                f"a symbolic link in the output folder: optimize never writes outside "
                f"{display_path(os.fspath(self.outdir))}; remove the link or choose another "
                f"output folder"
            )
        return os.path.join(self.real_folder(folder or os.curdir), name)

    def _claim(self, key: str, source_id: tuple[int, int] | None, shown: str, out_shown: str) -> bool:
        """Claim an output for a source: False when this very source has it already; OutputConflictError when
        another source has it (or, where names ignore case, one differing only in case)."""
        if key in self.claimed:
            if source_id is not None and self.claimed[key][0] == source_id:
                return False  # the same file named twice: written once
            raise OutputConflictError(
                f"{self.claimed[key][1]} and {shown} would both be written to {out_shown}; "
                f"optimize them in separate runs or rename one"
            )
        self.claimed[key] = (source_id, shown)
        if _CASELESS:
            other = self.folded.setdefault(key.casefold(), out_shown)
            if other != out_shown:
                raise OutputConflictError(
                    f"outputs {other} and {out_shown} differ only in case: one file here; rename a source"
                )
        return True

    def _over_existing(self, found: Found, output: str, key: str, identity, real: str):
        """(mode, owner) of an output: new files get the run's mode; one replacing its own original in place keeps
        the original's mode and owner. OutputConflictError when an existing file there may not be replaced."""
        status = stat_or_none(output)
        if status is None:
            return self.new_mode, None
        shown, out_shown = found.display, display_path(output)
        out_id = (status.st_dev, status.st_ino)
        mode, owner = self.new_mode, None
        if identity is not None and out_id == identity[:2]:
            self._check_in_place(found, key, shown, out_shown)
            mode, owner = kept_mode(identity[2]), (status.st_uid, status.st_gid)
        elif out_id in self.originals:
            raise OutputConflictError(
                f"output {out_shown} of {shown} is the source {self.originals[out_id]}, which "
                f"it would replace; choose another output folder"
            )
        elif self.beside(real):
            raise OutputConflictError(
                f"output {out_shown} of {shown} already exists beside the sources and is "
                f"not {shown}'s original: it would be replaced; choose another output "
                f"folder, or move {out_shown}"
            )
        other = self.existing.setdefault(out_id, out_shown)
        if other != out_shown:
            raise OutputConflictError(
                f"outputs {other} and {out_shown} are the same file (a link); choose another output folder"
            )
        return mode, owner

    def _check_in_place(self, found: Found, key: str, shown: str, out_shown: str) -> None:
        """OutputConflictError unless an output that is its own source replaces it in place, under its own name."""
        if not self.in_place:
            raise OutputConflictError(
                f"output {out_shown} is the source {shown} itself; pass in_place=True "
                f"to replace the originals, or choose another output folder"
            )
        source_folder, source_name = os.path.split(found.path)
        if key != os.path.normcase(os.path.join(self.real_folder(source_folder or os.curdir), source_name)):
            raise OutputConflictError(
                f"output {out_shown} is another name (a link) of its source {shown}: "
                f"in_place=True replaces an original under its own name only"
            )


def _check_folders(written: list[tuple[str, str, str]], claimed: dict) -> None:
    """OutputConflictError when an output needs a folder that another output is to be written as, or where a file
    already is: refused while planning, not an OS error ("File exists") half-way through the run (issue 9)."""
    checked: set[str] = set()
    for real, shown, output in written:
        folder, folder_shown = os.path.dirname(real), os.path.dirname(output)
        while folder not in checked:
            checked.add(folder)
            key = os.path.normcase(folder)
            if key in claimed:
                raise OutputConflictError(
                    f"output {display_path(output)} of {shown} needs a folder "
                    f"{display_path(folder_shown)}, where {claimed[key][1]} is to be written; "
                    f"optimize them in separate runs or rename one"
                )
            if os.path.isdir(folder):
                break
            if os.path.lexists(folder):
                raise OutputConflictError(
                    f"output {display_path(output)} of {shown} needs a folder "
                    f"{display_path(folder_shown)}, but a file of that name is there; choose "
                    f"another output folder"
                )
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder, folder_shown = parent, os.path.dirname(folder_shown)


def _linked_folders(outdir) -> Callable[[str], str | None]:
    """For a folder below OUTDIR (as planned, not resolved): the first name on the way down from OUTDIR that is a
    symbolic link or not a folder, or None (where nothing exists yet, nothing is linked)."""
    top = os.path.normpath(os.fspath(outdir))

    @lru_cache(maxsize=4096)
    def linked(folder: str) -> str | None:
        folder = os.path.normpath(folder)
        if folder == top or not folder.startswith(os.path.join(top, "")):
            return None
        above = linked(os.path.dirname(folder))
        if above is not None:
            return above
        try:
            status = os.lstat(folder)
        except OSError:
            return None
        return folder if stat.S_ISLNK(status.st_mode) else None

    return linked


def _originals_region(sources: list[str], outdir) -> Callable[[str], bool]:
    """Whether a real path lies where originals live: in a source folder (a file source's own folder), but not
    in an OUTDIR nested inside it, whose files are this command's outputs."""
    own = os.path.realpath(outdir)
    roots = set()
    for source in sources:
        real = os.path.realpath(source)
        roots.add(real if os.path.isdir(real) else os.path.dirname(real))

    def under(path: str, root: str) -> bool:
        return path.startswith(os.path.join(root, ""))

    def beside(real: str) -> bool:
        return any(under(real, root) and not (own != root and under(own, root) and under(real, own)) for root in roots)

    return beside


def stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


SUFFIX_FORMATS = {
    ".heic": "HEIC",
    ".heif": "HEIF",
    ".hif": "HEIF",
    ".avif": "AVIF",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".gif": "GIF",
}
"""The format a file's name says, for naming a converted output (the header decides what is converted)."""


def _targets(
    sources: list[str], outdir: Path, format: str | None, walk_options, convert: dict[str, str] | None = None
) -> Iterator[tuple[Found, str]]:
    """(found, output path) for each file: a file source straight into OUTDIR; a folder mirrored into OUTDIR, or
    under its own name there when several sources are given; a converted format's suffix when `convert` says so."""
    suffix = EXTENSIONS[format.upper()] if format else None
    convert = {} if format else (convert or {})
    own = os.path.realpath(outdir)
    for source in sources:
        folder = os.path.isdir(source)
        base = outdir / Path(source).resolve().name if folder and len(sources) > 1 else outdir
        # with --in-place, OUTDIR may lie inside a source folder: never walk into this run's outputs
        nested = own.startswith(os.path.realpath(source) + os.sep)
        for found in walk([source], **{"link_hint": LINK_HINT, **walk_options}):
            if nested and os.path.realpath(found.path).startswith(own + os.sep):
                continue
            relative = os.path.relpath(found.path, source) if os.path.isdir(source) else os.path.basename(found.path)
            output = base / relative
            if suffix:
                output = output.with_suffix(suffix)
            elif SUFFIX_FORMATS.get(output.suffix.lower()) in convert:
                output = output.with_suffix(EXTENSIONS[convert[SUFFIX_FORMATS[output.suffix.lower()]]])
            yield found, os.fspath(output)
