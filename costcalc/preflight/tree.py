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
originals are only read, unless `in_place`. An output no older than its source
is up to date and skipped, unless `force`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..catalog.tables import Tables, default_tables
from ..errors import CostcalcError, OutputConflictError
from ..files import atomic_write, current_umask, file_mode, kept_mode
from ..inspection.walk import Found, walk
from ..parallel import map_chunks
from ..words import display_path, os_reason
from .optimize import optimize
from .planning import check_budget_rules
from .resize import EXTENSIONS

__all__ = ["OptimizeRow", "OptimizeTotals", "OPTIMIZE_FIELDS", "Planned", "optimize_paths", "plan_outputs", "check_destination"]

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
        return dict(vars(self))


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


def check_destination(sources: Iterable[str | os.PathLike], outdir: str | os.PathLike, in_place: bool) -> None:
    """ValueError if OUTDIR is a source folder or inside one (unless `in_place`), or a source file."""
    out = Path(outdir).resolve()
    for source in sources:
        src = Path(source).resolve()
        if src.is_dir() and (out == src or src in out.parents) and not in_place:
            raise ValueError(f"output folder {outdir} is {'the source' if out == src else 'inside the source'} "
                             f"{source}; pick another, or pass in_place=True to replace the originals")  # fmt: skip
        if src.is_file() and out == src:
            raise ValueError(f"output folder {outdir} is the source file {source}")


class Planned(NamedTuple):
    """One file of a run: what the walk found, where its output goes (None if it gets none), its permissions."""

    found: Found
    output: str | None
    mode: int | None


_CASELESS = sys.platform in ("darwin", "win32")
"""Where file names usually ignore case: two outputs differing only in case are one file."""


def plan_outputs(
    sources: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    format: str | None = None,
    in_place: bool = False,
    umask: int | None = None,
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
    entries = list(_targets(sources, Path(outdir), format, walk_options))
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
        mode = new_mode
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
        planned.append(Planned(found, output, mode))
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


def _targets(sources: list[str], outdir: Path, format: str | None, walk_options) -> Iterator[tuple[Found, str]]:
    """(found, output path) for each file: a file source straight into OUTDIR; a folder mirrored into OUTDIR, or
    under its own name there when several sources are given."""
    suffix = EXTENSIONS[format.upper()] if format else None
    own = os.path.realpath(outdir)
    for source in sources:
        folder = os.path.isdir(source)
        base = outdir / Path(source).resolve().name if folder and len(sources) > 1 else outdir
        # with --in-place, OUTDIR may lie inside a source folder: never walk into this run's outputs
        nested = own.startswith(os.path.realpath(source) + os.sep)
        for found in walk([source], **walk_options):
            if nested and os.path.realpath(found.path).startswith(own + os.sep):
                continue
            relative = os.path.relpath(found.path, source) if os.path.isdir(source) else os.path.basename(found.path)
            output = base / relative
            if suffix:
                output = output.with_suffix(suffix)
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
    **walk_options,
) -> Iterator[list[OptimizeRow]]:
    """Optimize every image under `sources` into `outdir`; a list of rows per chunk, in walk order.

    `model` may name several models: one file each image, which every model
    sees as it would the original at the same tokens (`planning.plan_many`).
    Before anything is written: errors of model and detail; PlanError for
    `max_tokens` on a model whose tokens are unknown or approximate; ValueError if
    `outdir` is, or is inside, a source folder (unless `in_place`); and
    OutputConflictError from `plan_outputs` if any output would overwrite a
    source or another original, or take two sources. The umask is read here,
    once. One file's failure (even Pillow's or MemoryError) is its error row.
    """
    sources = list(sources)
    tables = tables or default_tables()
    names = [model] if isinstance(model, str) else list(model)
    for name in names:
        tables.model(name).rule(detail)  # fail early on a bad model or detail
    if max_tokens is not None:
        check_budget_rules(names, detail, tables)  # a budget no size can be promised to meet: before any file
    model = names[0] if len(names) == 1 else tuple(names)
    items = plan_outputs(sources, outdir, format=format, in_place=in_place, umask=current_umask(), **walk_options)
    config = _Config(model, detail, max_tokens, format, quality, keep_metadata, first_frame,
                     force or in_place, tables.files, strict)  # fmt: skip
    return map_chunks(_optimize_chunk, config, items, jobs=jobs, size=CHUNK)


def _optimize_chunk(config: _Config, chunk: list[Planned]) -> list[OptimizeRow]:
    return [_optimize_one(config, item) for item in chunk]


def _optimize_one(config: _Config, item: Planned) -> OptimizeRow:
    found, output, mode = item
    shown = found.display  # for messages; rows carry found.path, which round-trips (os.fsencode opens it)
    if found.problem is not None:
        return OptimizeRow(found.path, output, "skipped" if found.skipped else "error", error=f"{shown}: {found.problem}")
    out = Path(output)
    try:
        if not config.force and _up_to_date(found.path, out):
            return OptimizeRow(found.path, output, "up to date")
        tables = _tables(config.table_files)
        result = optimize(found.path, model=config.model, detail=config.detail, max_tokens=config.max_tokens,
                          format=config.format, quality=config.quality, keep_metadata=config.keep_metadata,
                          first_frame=config.first_frame, tables=tables, strict=config.strict)  # fmt: skip
    except Exception as error:  # anything one file does is its row, never the end of the run (issue 9)
        return OptimizeRow(found.path, output, "error", error=_reason(shown, error), rule=getattr(error, "rule", None),
                           warning=getattr(error, "warning", None))  # fmt: skip
    try:
        atomic_write(out, result.data, mode)
    except OSError as error:
        return OptimizeRow(found.path, output, "error", error=f"{shown}: cannot write {display_path(output)}: {os_reason(error)}")
    planned = result.plan
    return OptimizeRow(found.path, output, "written", planned.width, planned.height, result.width, result.height,
                     result.bytes_before, result.bytes_after, result.tokens_before, result.tokens_after,
                     warning=result.warning, note=result.note)  # fmt: skip


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


def _up_to_date(source: str, output: Path) -> bool:
    try:
        return output.stat().st_mtime_ns >= os.stat(source).st_mtime_ns
    except OSError:
        return False


@lru_cache(maxsize=8)
def _tables(files: tuple[Path, ...]) -> Tables:
    return Tables({}, {}).with_files(*files)
