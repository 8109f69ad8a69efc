"""Preflight of whole trees: each image under the sources, optimized into OUTDIR (SPEC §4).

A file given as a source is written straight into OUTDIR (OUTDIR/photo.jpg);
a folder's tree is mirrored there, under the folder's own name when several
sources are given.

Nothing a user owns is overwritten or lost (issue 9): OUTDIR may not be a
source folder or lie inside one (unless `in_place`); every output path is
planned before any is written, and a run that would write over a source, over
a different original, two sources to one output, or an output where another
needs a folder (or a folder where a file is) is refused whole; every
file is written to a temporary name in its folder, synced and renamed into
place with ordinary permissions (an interrupted run leaves no half file); and
originals are only read, unless `in_place`.

OUTDIR is this command's (issue 15): nothing is written outside its real
path — a symbolic link to a folder inside it is refused while planning, and
every write enters the folders below OUTDIR by descriptor without following a
link (files.atomic_write with `root`), so a link made meanwhile is refused too;
folders and files are compared by device and inode, so a bind mount of a
source is the source; a file in OUTDIR that its manifest (manifest.Manifest)
does not own is refused unless `overwrite`; an output is up to date (and
skipped, unless `force`) when the manifest owns it, its source is unchanged
and the options are the same. Sources are read with a size cap (`max_bytes`)
as regular files only. Each output folder is synced once, at the end.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..catalog.tables import Tables, default_tables
from ..errors import CostcalcError, OutputConflictError
from ..files import MAX_SOURCE_BYTES, atomic_write, current_umask, file_mode, kept_mode, read_regular, sync_folders
from ..inspection.walk import Found, walk
from ..parallel import map_chunks
from ..words import display_path, os_reason
from .manifest import MANIFEST, Manifest, Record
from .optimize import conversions, optimize
from .planning import check_budget_rules
from .resize import EXTENSIONS

__all__ = ["OptimizeRow", "OptimizeTotals", "OPTIMIZE_FIELDS", "Planned", "optimize_paths", "plan_outputs", "check_destination"]

LINK_HINT = "optimize does not follow links: give the link's target as a PATH"
"""How optimize reaches a linked file: it has no option to follow links (audit's --follow-symlinks)."""

CHUNK = 4
"""Images per unit of work: small, so that Ctrl-C is answered within a few images."""


class OptimizeRow(NamedTuple):
    """One source image: where its output went, sizes, bytes and tokens before and after, or why not.

    status: written, up to date, skipped (left out by an option), or error.
    With several models, tokens_before and tokens_after are dicts by model (SPEC §4, §6).
    """

    path: str
    output: str | None
    status: str
    width: int | None = None
    height: int | None = None
    target_width: int | None = None
    target_height: int | None = None
    bytes_before: int | None = None
    bytes_after: int | None = None
    tokens_before: int | None | dict[str, int | None] = None
    tokens_after: int | None | dict[str, int | None] = None
    error: str | None = None
    rule: str | None = None
    """The input rule a refused source breaks (pricing.verdict), as in audit."""
    warning: str | None = None
    """The defect of a damaged source (ImageInfo.warning); None when whole."""
    note: str | None = None
    """What the plan says (Plan.note): the original size kept by a rule without a resize, the model that
    prevents a shared size, unknown tokens; and when the original was written because a copy came out larger."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the fields of OPTIMIZE_FIELDS."""
        return dict(zip(OPTIMIZE_FIELDS, self))


OPTIMIZE_FIELDS = OptimizeRow._fields
"""The fields of one row in --nl and --json output, in order."""


@dataclass
class OptimizeTotals:
    """Running sums over optimize rows (bytes and tokens of the files written).

    With several models the token sums are dicts by model; a sum with an unknown part (SPEC §2a) is None.
    """

    files: int = 0
    written: int = 0
    up_to_date: int = 0
    skipped: int = 0
    errors: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    tokens_before: int | None | dict[str, int | None] = 0
    tokens_after: int | None | dict[str, int | None] = 0
    unknown_tokens_before: int = field(default=0)
    """Files written whose original the API (one of the models) would have rejected (no tokens before)."""
    any_size: tuple[str, ...] = ()
    """Models whose bill does not depend on the size, planned around (`planning.any_size_models`): said once."""

    def add(self, row: OptimizeRow) -> None:
        """Count one row."""
        self.files += 1
        if row.status == "written":
            self.written += 1
            self.bytes_before += row.bytes_before
            self.bytes_after += row.bytes_after
            self._add_tokens(row.tokens_before, row.tokens_after)
        elif row.status == "up to date":
            self.up_to_date += 1
        elif row.status == "skipped":
            self.skipped += 1
        else:
            self.errors += 1

    def _add_tokens(self, before, after) -> None:
        if not isinstance(after, dict):
            before, after = {None: before}, {None: after}
        elif not isinstance(self.tokens_after, dict):
            self.tokens_before, self.tokens_after = {}, {}
        totals_before = self.tokens_before if isinstance(self.tokens_before, dict) else {None: self.tokens_before}
        totals_after = self.tokens_after if isinstance(self.tokens_after, dict) else {None: self.tokens_after}
        rejected = False
        for name, tokens in after.items():
            totals_after[name] = _plus(totals_after.get(name, 0), tokens)
            totals_before.setdefault(name, 0)
            if before.get(name) is None and tokens is not None:
                rejected = True  # the original was rejected: a budget plan made it fit
            else:
                totals_before[name] = _plus(totals_before[name], before.get(name))
        self.unknown_tokens_before += rejected
        if None in totals_after:
            self.tokens_before, self.tokens_after = totals_before[None], totals_after[None]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        found = dict(vars(self))
        found["any_size"] = list(self.any_size)
        return found


def _plus(total: int | None, tokens: int | None) -> int | None:
    """A sum of tokens; unknown (None) once any part is (SPEC §2a)."""
    return None if total is None or tokens is None else total + tokens


@dataclass(frozen=True)
class _Config:
    """What a worker needs: the preflight options and the tables to rebuild."""

    model: str | tuple[str, ...]
    """One model, or several sharing one file (SPEC §4, §6)."""
    detail: str
    max_tokens: int | None
    format: str | None
    quality: int | None
    keep_metadata: bool
    first_frame: bool
    force: bool
    table_files: tuple[Path, ...]
    strict: bool = False
    root: str | None = None
    """OUTDIR's real path: every write stays below it (files.atomic_write)."""
    outdir: str | None = None
    max_bytes: int = MAX_SOURCE_BYTES
    request_images: int | None = None


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
        status = _stat(src)
        if status is None:
            continue
        src_id = (status.st_dev, status.st_ino)
        if stat.S_ISDIR(status.st_mode) and src_id in above and not in_place:
            raise ValueError(f"output folder {outdir} is {'the source' if out_id == src_id else 'inside the source'} "
                             f"{source}; pick another, or pass in_place=True to replace the originals")  # fmt: skip
        if not stat.S_ISDIR(status.st_mode) and out_id == src_id:
            raise ValueError(f"output folder {outdir} is the source file {source}")


def _identity(path) -> tuple[int, int] | None:
    status = _stat(path)
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
    linked = _linked_folders(outdir)
    entries = list(_targets(sources, Path(outdir), format, walk_options, convert or {}))
    identities: list[tuple[int, int, int] | None] = []  # (device, inode, mode) of each source file
    originals: dict[tuple[int, int], str] = {}
    for found, _ in entries:
        status = _stat(found.path) if found.problem is None else None
        identities.append(None if status is None else (status.st_dev, status.st_ino, status.st_mode))
        if status is not None:
            originals.setdefault((status.st_dev, status.st_ino), found.display)
    beside = _originals_region(sources, outdir)
    real_folder = lru_cache(maxsize=4096)(os.path.realpath)
    claimed: dict[str, tuple[tuple[int, int] | None, str]] = {}
    folded: dict[str, str] = {}
    existing: dict[tuple[int, int], str] = {}
    planned: list[Planned] = []
    written: list[tuple[str, str, str]] = []  # (real output path, source shown, output shown)
    for (found, output), identity in zip(entries, identities):
        if found.problem is not None:
            planned.append(Planned(found, output, None))
            continue
        shown, out_shown = found.display, display_path(output)
        folder, name = os.path.split(output)
        link = linked(folder)
        if link is not None:
            raise OutputConflictError(f"output {out_shown} of {shown} would be written through {display_path(link)}, "
                                      f"a symbolic link in the output folder: optimize never writes outside "
                                      f"{display_path(os.fspath(outdir))}; remove the link or choose another "
                                      f"output folder")  # fmt: skip
        real = os.path.join(real_folder(folder or os.curdir), name)
        key = os.path.normcase(real)
        source_id = None if identity is None else identity[:2]
        if key in claimed:
            if source_id is not None and claimed[key][0] == source_id:
                continue  # the same file named twice: written once
            raise OutputConflictError(f"{claimed[key][1]} and {shown} would both be written to {out_shown}; "
                                      f"optimize them in separate runs or rename one")  # fmt: skip
        claimed[key] = (source_id, shown)
        if _CASELESS:
            other = folded.setdefault(key.casefold(), out_shown)
            if other != out_shown:
                raise OutputConflictError(f"outputs {other} and {out_shown} differ only in case: one file here; "
                                          f"rename a source")  # fmt: skip
        mode, owner = new_mode, None
        status = _stat(output)
        if status is not None:
            out_id = (status.st_dev, status.st_ino)
            if out_id == source_id:
                if not in_place:
                    raise OutputConflictError(f"output {out_shown} is the source {shown} itself; pass in_place=True "
                                              f"to replace the originals, or choose another output folder")  # fmt: skip
                source_folder, source_name = os.path.split(found.path)
                if key != os.path.normcase(os.path.join(real_folder(source_folder or os.curdir), source_name)):
                    raise OutputConflictError(f"output {out_shown} is another name (a link) of its source {shown}: "
                                              f"in_place=True replaces an original under its own name only")  # fmt: skip
                mode = kept_mode(identity[2])
                owner = (status.st_uid, status.st_gid)
            elif out_id in originals:
                raise OutputConflictError(f"output {out_shown} of {shown} is the source {originals[out_id]}, which "
                                          f"it would replace; choose another output folder")  # fmt: skip
            elif beside(real):
                raise OutputConflictError(f"output {out_shown} of {shown} already exists beside the sources and is "
                                          f"not {shown}'s original: it would be replaced; choose another output "
                                          f"folder, or move {out_shown}")  # fmt: skip
            other = existing.setdefault(out_id, out_shown)
            if other != out_shown:
                raise OutputConflictError(f"outputs {other} and {out_shown} are the same file (a link); "
                                          f"choose another output folder")  # fmt: skip
        planned.append(Planned(found, output, mode, owner))
        written.append((real, shown, output))
    _check_folders(written, claimed)
    return planned


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
                raise OutputConflictError(f"output {display_path(output)} of {shown} needs a folder "
                                          f"{display_path(folder_shown)}, where {claimed[key][1]} is to be written; "
                                          f"optimize them in separate runs or rename one")  # fmt: skip
            if os.path.isdir(folder):
                break
            if os.path.lexists(folder):
                raise OutputConflictError(f"output {display_path(output)} of {shown} needs a folder "
                                          f"{display_path(folder_shown)}, but a file of that name is there; choose "
                                          f"another output folder")  # fmt: skip
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
        return any(under(real, root) and not (own != root and under(own, root) and under(real, own))
                   for root in roots)  # fmt: skip

    return beside


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


_SUFFIX_FORMATS = {".heic": "HEIC", ".heif": "HEIF", ".hif": "HEIF", ".avif": "AVIF", ".tif": "TIFF", ".tiff": "TIFF",
                   ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".gif": "GIF"}  # fmt: skip
"""The format a file's name says, for naming a converted output (the header decides what is converted)."""


def _targets(sources: list[str], outdir: Path, format: str | None, walk_options,
             convert: dict[str, str] | None = None) -> Iterator[tuple[Found, str]]:  # fmt: skip
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
            elif _SUFFIX_FORMATS.get(output.suffix.lower()) in convert:
                output = output.with_suffix(EXTENSIONS[convert[_SUFFIX_FORMATS[output.suffix.lower()]]])
            yield found, os.fspath(output)


def optimize_paths(
    sources: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    model: str | Sequence[str],
    detail: str = "auto",
    max_tokens: int | None = None,
    format: str | None = None,
    quality: int | None = None,
    keep_metadata: bool = False,
    first_frame: bool = False,
    in_place: bool = False,
    force: bool = False,
    tables: Tables | None = None,
    jobs: int = 1,
    strict: bool = False,
    overwrite: bool = False,
    max_bytes: int = MAX_SOURCE_BYTES,
    request_images: int | None = None,
    **walk_options,
) -> Iterator[list[OptimizeRow]]:
    """Optimize every image under `sources` into `outdir`; a list of rows per chunk, in walk order.

    `model` may name several models: one file each image, which every model
    sees as it would the original at the same tokens (`planning.plan_many`).
    Before anything is written: errors of model and detail; PlanError for
    `max_tokens` on a model whose tokens are unknown or approximate; ValueError if
    `outdir` is, or is inside, a source folder (unless `in_place`); and
    OutputConflictError from `plan_outputs` if any output would overwrite a
    source or another original, or take two sources, or be written through a
    link; and OutputConflictError naming a file in `outdir` that its manifest
    does not own (unless `overwrite`). The umask is read here, once. One
    file's failure (even Pillow's or MemoryError) is its error row. The
    manifest is saved before the first output is written and at the end;
    each output folder is synced once, at the end.
    """
    sources = list(sources)
    tables = tables or default_tables()
    names = [model] if isinstance(model, str) else list(model)
    for name in names:
        tables.model(name).rule(detail)  # fail early on a bad model or detail
    if max_tokens is not None:
        check_budget_rules(names, detail, tables)  # a budget no size can be promised to meet: before any file
    model = names[0] if len(names) == 1 else tuple(names)
    items = plan_outputs(sources, outdir, format=format, in_place=in_place, umask=current_umask(),
                         convert=conversions(names, tables), **walk_options)  # fmt: skip
    root = os.path.realpath(outdir)
    manifest = Manifest.load(root)
    options = _options(names, detail, max_tokens, format, quality, keep_metadata, first_frame, tables)
    items = _claim(items, manifest, outdir, options, overwrite=overwrite, redo=force or in_place, max_bytes=max_bytes)
    for item in items:
        if item.output is not None and item.found.problem is None and not item.fresh:
            status = _stat(item.found.path)
            if status is not None:  # pending: this run's own once written, even if it is interrupted
                manifest.put(_real_output(root, outdir, item.output),
                             Record(os.path.abspath(item.found.path), status.st_size, status.st_mtime_ns, None,
                                    options))  # fmt: skip
    manifest.save()
    config = _Config(model, detail, max_tokens, format, quality, keep_metadata, first_frame,
                     force or in_place, tables.files, strict, root, os.fspath(outdir), max_bytes,
                     request_images)  # fmt: skip
    return _recorded(map_chunks(_optimize_chunk, config, items, jobs=jobs, size=CHUNK), manifest, options, outdir)


def _real_output(root: str, outdir, output: str) -> str:
    """An output's path below OUTDIR's real path (the manifest's keys are relative to it)."""
    return os.path.join(root, os.path.relpath(output, outdir))


def _options(names, detail, max_tokens, format, quality, keep_metadata, first_frame, tables: Tables) -> dict:
    """The options that make an output what it is: another value of any of them makes another file."""
    from ..catalog.limits import limits_for

    return {"models": sorted(names), "detail": detail, "max_tokens": max_tokens, "format": format,
            "quality": quality, "keep_metadata": keep_metadata, "first_frame": first_frame,
            "limits": sorted({limits_for(tables.model(name)).edition for name in names}),
            "tables": [os.fspath(path) for path in tables.files]}  # fmt: skip


def _claim(items: list[Planned], manifest: Manifest, outdir, options: dict, *, overwrite: bool, redo: bool,
           max_bytes: int) -> list[Planned]:
    """Each planned output that exists: refused (OutputConflictError, naming it) unless the manifest owns it, it is
    its own original replaced in place, or `overwrite`; marked fresh when owned, from the same source, same options."""
    claimed = []
    for item in items:
        found, output = item.found, item.output
        if output is None or found.problem is not None:
            claimed.append(item)
            continue
        try:
            status = os.lstat(output)
        except OSError:
            claimed.append(item)
            continue
        record = manifest.get(_real_output(manifest.root, outdir, output))
        own_original = item.owner is not None
        if stat.S_ISDIR(status.st_mode):
            claimed.append(item)  # a folder where a file goes: the write says so, in its row
            continue
        if record is None or not record.owns(status):
            if not (own_original or overwrite):
                raise OutputConflictError(f"{display_path(output)} is in the output folder but optimize did not "
                                          f"write it (not in its {MANIFEST}, or changed since): it would be replaced; "
                                          f"move it, or pass overwrite=True")  # fmt: skip
            claimed.append(item)
            continue
        fresh = not redo and record.size is not None and record.options == options and \
            _unchanged(found.path, record, max_bytes)  # fmt: skip
        claimed.append(item._replace(fresh=fresh))
    return claimed


def _unchanged(source: str, record: Record, max_bytes: int) -> bool:
    """Whether a source is the one an output was made from: the same size and mtime, or the same bytes."""
    status = _stat(source)
    if status is None or status.st_size != record.source_size:
        return False
    if status.st_mtime_ns == record.source_mtime_ns:
        return True
    if record.source_sha256 is None:
        return False
    try:
        data, _ = read_regular(source, max_bytes)
    except CostcalcError:
        return False
    return hashlib.sha256(data).hexdigest() == record.source_sha256


def _recorded(chunks, manifest: Manifest, options: dict, outdir) -> Iterator[list[OptimizeRow]]:
    """The rows of each chunk; what was written goes into the manifest, saved (and each folder synced) at the end,
    interrupted or not."""
    folders: dict[str, None] = {}
    try:
        for pairs in chunks:
            rows = []
            for row, record in pairs:
                if record is not None:
                    real = _real_output(manifest.root, outdir, row.output)
                    size, mtime_ns, digest, out_size, out_mtime_ns = record
                    manifest.put(real, Record(os.path.abspath(row.path), size, mtime_ns, digest, options, out_size,
                                              out_mtime_ns))  # fmt: skip
                    folders[os.path.dirname(real)] = None
                rows.append(row)
            yield rows
    finally:
        sync_folders(folders)
        manifest.save()


def _optimize_chunk(config: _Config, chunk: list[Planned]) -> list[tuple[OptimizeRow, tuple | None]]:
    return [_optimize_one(config, item) for item in chunk]


def _optimize_one(config: _Config, item: Planned) -> tuple[OptimizeRow, tuple | None]:
    """One file's row, and what the manifest records of an output written: (source size, mtime_ns, SHA-256,
    output size, mtime_ns)."""
    found, output, mode, owner, fresh = item
    shown = found.display  # for messages; rows carry found.path, which round-trips (os.fsencode opens it)
    if found.problem is not None:
        return OptimizeRow(found.path, output, "skipped" if found.skipped else "error",
                           error=f"{shown}: {found.problem}"), None  # fmt: skip
    out = Path(output)
    try:
        if fresh and not config.force:
            return OptimizeRow(found.path, output, "up to date"), None
        data, status = read_regular(found.path, config.max_bytes, name=shown)
        tables = _tables(config.table_files)
        fmt = config.format
        if fmt is None and Path(output).suffix.lower() != Path(found.path).suffix.lower():  # named for a conversion
            fmt = _SUFFIX_FORMATS.get(Path(output).suffix.lower())
        result = optimize(data, model=config.model, detail=config.detail, max_tokens=config.max_tokens,
                          format=fmt, quality=config.quality, keep_metadata=config.keep_metadata,
                          first_frame=config.first_frame, tables=tables, strict=config.strict, name=shown,
                          request_images=config.request_images)  # fmt: skip
    except Exception as error:  # anything one file does is its row, never the end of the run (issue 9)
        return OptimizeRow(found.path, output, "error", error=_reason(shown, error), rule=getattr(error, "rule", None),
                           warning=getattr(error, "warning", None)), None  # fmt: skip
    try:
        root = config.root
        if root is not None:
            out = Path(_real_output(root, config.outdir, output))
        atomic_write(out, result.data, mode, root=root, owner=owner, sync=False)
        written = os.lstat(out)
    except OSError as error:
        return OptimizeRow(found.path, output, "error",
                           error=f"{shown}: cannot write {display_path(output)}: {os_reason(error)}"), None  # fmt: skip
    planned = result.plan
    record = (status.st_size, status.st_mtime_ns, hashlib.sha256(data).hexdigest(), written.st_size,
              written.st_mtime_ns)  # fmt: skip
    return OptimizeRow(found.path, output, "written", planned.width, planned.height, result.width, result.height,
                       result.bytes_before, result.bytes_after, result.tokens_before, result.tokens_after,
                       warning=result.warning, note=result.note), record  # fmt: skip


def _reason(shown: str, error: Exception) -> str:
    """One line for a file's failure, starting with the file."""
    if isinstance(error, MemoryError):
        text = "ran out of memory"
    elif isinstance(error, (CostcalcError, ValueError, OSError)):
        text = os_reason(error) if isinstance(error, OSError) and not isinstance(error, CostcalcError) else str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())  # one line
    return text if text.startswith(shown) else f"{shown}: {text}"


@lru_cache(maxsize=8)
def _tables(files: tuple[Path, ...]) -> Tables:
    return Tables({}, {}).with_files(*files)
