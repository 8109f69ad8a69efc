"""Preflight of whole trees: each image under the sources, optimized into OUTDIR (docs/README.md).

A file given as a source is written straight into OUTDIR (OUTDIR/photo.jpg);
a folder's tree is mirrored there, under the folder's own name when several
sources are given.

Nothing a user owns is overwritten or lost (issue 9): OUTDIR may not be a
source folder or lie inside one (unless `in_place`); every output path is
planned before any is written (`outputs`), and a run that would write over a source, over
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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..catalog.settings import Settings
from ..catalog.tables import Tables, default_tables
from ..errors import CostcalcError, OutputConflictError
from ..files import MAX_SOURCE_BYTES, atomic_write, current_umask, read_regular, sync_files, sync_folders
from ..parallel import map_chunks
from ..words import display_path, os_reason
from .manifest import MANIFEST, Manifest, Record
from .optimize import conversions, optimize
from .outputs import SUFFIX_FORMATS, Planned, check_destination, plan_outputs, stat_or_none
from .planning import check_budget_rules

__all__ = [
    "OptimizeRow",
    "OptimizeTotals",
    "OPTIMIZE_FIELDS",
    "Planned",
    "optimize_paths",
    "plan_outputs",
    "check_destination",
]

CHUNK = 1
"""Images per unit of work: one, so that Ctrl-C is answered within an image, the first worker starts after one
image done here, and no worker idles at the end while another has images queued (bench_optimize: 5.1x -> 5.7x
plain Pillow at -j2 on 60 photos)."""


class OptimizeRow(NamedTuple):
    """One source image: where its output went, sizes, bytes and tokens before and after, or why not.

    status: written, up to date, skipped (left out by an option), or error.
    With several models, tokens_before and tokens_after are dicts by model (docs/README.md).
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

    With several models the token sums are dicts by model; a sum with an unknown part (docs/openai.md) is None.
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
    """A sum of tokens; unknown (None) once any part is (docs/openai.md)."""
    return None if total is None or tokens is None else total + tokens


@dataclass(frozen=True)
class _Config:
    """What a worker needs: the preflight options and the tables to rebuild."""

    model: str | tuple[str, ...]
    """One model, or several sharing one file (docs/README.md)."""
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
    names = _checked_models(model, detail, max_tokens, tables)
    model = names[0] if len(names) == 1 else tuple(names)
    items = plan_outputs(
        sources,
        outdir,
        format=format,
        in_place=in_place,
        umask=current_umask(),
        convert=conversions(names, tables),
        **walk_options,
    )
    root = os.path.realpath(outdir)
    manifest = Manifest.load(root)
    options = _options(names, detail, max_tokens, format, quality, keep_metadata, first_frame, tables)
    items = _claim(items, manifest, outdir, options, overwrite=overwrite, redo=force or in_place, max_bytes=max_bytes)
    _record_pending(manifest, items, outdir, options)
    config = _Config(
        model,
        detail,
        max_tokens,
        format,
        quality,
        keep_metadata,
        first_frame,
        force or in_place,
        tables.files,
        strict,
        root,
        os.fspath(outdir),
        max_bytes,
        request_images,
    )
    chunks = map_chunks(_optimize_chunk, config, items, jobs=jobs, size=CHUNK, heavy=True)
    return _recorded(chunks, manifest, options, outdir)


def _checked_models(model: str | Sequence[str], detail: str, max_tokens: int | None, tables: Tables) -> list[str]:
    """The models named, each checked with `detail` (and the budget rules with `max_tokens`) before any file is
    read: a bad model, detail or budget fails the run at once."""
    names = [model] if isinstance(model, str) else list(model)
    for name in names:
        tables.model(name).rule(detail)  # fail early on a bad model or detail
    if max_tokens is not None:
        check_budget_rules(names, detail, tables)  # a budget no size can be promised to meet: before any file
    return names


def _record_pending(manifest: Manifest, items: list[Planned], outdir, options: dict) -> None:
    """Each output to be written, put in the manifest as pending (this run's own once written, even if the run is
    interrupted), and the manifest saved before the first output is written."""
    for item in items:
        if item.output is not None and item.found.problem is None and not item.fresh:
            status = stat_or_none(item.found.path)
            if status is not None:
                manifest.put(
                    _real_output(manifest.root, outdir, item.output),
                    Record(os.path.abspath(item.found.path), status.st_size, status.st_mtime_ns, None, options),
                )
    manifest.save()


def _real_output(root: str, outdir, output: str) -> str:
    """An output's path below OUTDIR's real path (the manifest's keys are relative to it)."""
    return os.path.join(root, os.path.relpath(output, outdir))


def _options(names, detail, max_tokens, format, quality, keep_metadata, first_frame, tables: Tables) -> dict:
    """The options that make an output what it is: another value of any of them makes another file."""
    from ..catalog.limits import limits_for

    return {
        "models": sorted(names),
        "detail": detail,
        "max_tokens": max_tokens,
        "format": format,
        "quality": quality,
        "keep_metadata": keep_metadata,
        "first_frame": first_frame,
        "limits": sorted({limits_for(tables.model(name)).edition for name in names}),
        "tables": [os.fspath(path) for path in tables.files],
    }


def _claim(
    items: list[Planned], manifest: Manifest, outdir, options: dict, *, overwrite: bool, redo: bool, max_bytes: int
) -> list[Planned]:
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
                raise OutputConflictError(
                    f"{display_path(output)} is in the output folder but optimize did not "
                    f"write it (not in its {MANIFEST}, or changed since): it would be replaced; "
                    f"move it, or pass overwrite=True"
                )
            claimed.append(item)
            continue
        fresh = (
            not redo
            and record.size is not None
            and record.options == options
            and _unchanged(found.path, record, max_bytes)
        )
        claimed.append(item._replace(fresh=fresh))
    return claimed


def _unchanged(source: str, record: Record, max_bytes: int) -> bool:
    """Whether a source is the one an output was made from: the same size and mtime, or the same bytes."""
    status = stat_or_none(source)
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
    """The rows of each chunk; what was written goes into the manifest, saved at the end, interrupted or not,
    once the files written and their folders are synced (all at once: no worker waits on a disk per image)."""
    folders: dict[str, None] = {}
    written: list[str] = []
    try:
        for pairs in chunks:
            rows = []
            for row, record in pairs:
                if record is not None:
                    real = _real_output(manifest.root, outdir, row.output)
                    size, mtime_ns, digest, out_size, out_mtime_ns = record
                    manifest.put(
                        real, Record(os.path.abspath(row.path), size, mtime_ns, digest, options, out_size, out_mtime_ns)
                    )
                    folders[os.path.dirname(real)] = None
                    written.append(real)
                rows.append(row)
            yield rows
    finally:
        sync_files(written)
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
        return OptimizeRow(
            found.path, output, "skipped" if found.skipped else "error", error=f"{shown}: {found.problem}"
        ), None
    if fresh and not config.force:
        return OptimizeRow(found.path, output, "up to date"), None
    try:
        data, status = read_regular(found.path, config.max_bytes, name=shown)
        result = _optimized(config, data, found.path, output, shown)
    except Exception as error:  # anything one file does is its row, never the end of the run (issue 9)
        return OptimizeRow(
            found.path,
            output,
            "error",
            error=_reason(shown, error),
            rule=getattr(error, "rule", None),
            warning=getattr(error, "warning", None),
        ), None
    try:
        written = _write(config, output, result.data, mode, owner)
    except OSError as error:
        return OptimizeRow(
            found.path, output, "error", error=f"{shown}: cannot write {display_path(output)}: {os_reason(error)}"
        ), None
    record = (
        status.st_size,
        status.st_mtime_ns,
        hashlib.sha256(data).hexdigest(),
        written.st_size,
        written.st_mtime_ns,
    )
    return _written_row(found.path, output, result), record


def _optimized(config: _Config, data: bytes, source: str, output: str, shown: str):
    """`optimize` of one file's bytes with the run's options; the format its output's name asks for when the name
    was changed for a conversion."""
    fmt = config.format
    if fmt is None and Path(output).suffix.lower() != Path(source).suffix.lower():  # named for a conversion
        fmt = SUFFIX_FORMATS.get(Path(output).suffix.lower())
    return optimize(
        data,
        model=config.model,
        detail=config.detail,
        max_tokens=config.max_tokens,
        format=fmt,
        quality=config.quality,
        keep_metadata=config.keep_metadata,
        first_frame=config.first_frame,
        name=shown,
        request_images=config.request_images,
        settings=Settings(_tables(config.table_files), strict=config.strict),
    )


def _write(config: _Config, output: str, data: bytes, mode: int | None, owner: tuple[int, int] | None):
    """Write one output whole (below OUTDIR's real path, never through a link); its lstat."""
    out = Path(output)
    root = config.root
    if root is not None:
        out = Path(_real_output(root, config.outdir, output))
    atomic_write(out, data, mode, root=root, owner=owner, sync=False, durable=False)  # synced at the end
    return os.lstat(out)


def _written_row(source: str, output: str, result) -> OptimizeRow:
    """The row of a file written: sizes, bytes and tokens before and after, and what the plan says."""
    planned = result.plan
    return OptimizeRow(
        source,
        output,
        "written",
        planned.width,
        planned.height,
        result.width,
        result.height,
        result.bytes_before,
        result.bytes_after,
        result.tokens_before,
        result.tokens_after,
        warning=result.warning,
        note=result.note,
    )


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
    """The tables read from `files`: the ones this process holds already when they are the default ones (a
    worker forked from it, or the run itself at -j1), else read anew (a fresh worker, or tables of your own)."""
    shipped = default_tables()
    return shipped if tuple(shipped.files) == tuple(files) else Tables({}, {}).with_files(*files)
