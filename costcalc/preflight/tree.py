"""Preflight of whole trees: each image under the sources, optimized, mirrored under OUTDIR (SPEC §4).

Nothing a user owns is overwritten or lost: OUTDIR may not be a source folder
or lie inside one (unless `in_place`), every file is written to a temporary
name in its folder and renamed into place (an interrupted run leaves no half
file), and originals are only read. An output no older than its source is up to
date and skipped, unless `force`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

from ..errors import CostcalcError
from ..parallel import map_chunks
from .optimize import optimize
from .resize import EXTENSIONS
from .write import atomic_write
from ..pricing.tables import Tables, default_tables
from ..inspection.walk import Found, walk

__all__ = ["MirrorRow", "MirrorTotals", "MIRROR_FIELDS", "mirror", "check_destination"]

CHUNK = 4
"""Images per unit of work: small, so that Ctrl-C is answered within a few images."""


class MirrorRow(NamedTuple):
    """One source image: where its output went, sizes, bytes and tokens before and after, or why not.

    status: written, up to date, skipped (left out by an option), or error.
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
    tokens_before: int | None = None
    tokens_after: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the fields of MIRROR_FIELDS."""
        return dict(zip(MIRROR_FIELDS, self))


MIRROR_FIELDS = MirrorRow._fields
"""The fields of one row in --nl and --json output, in order."""


@dataclass
class MirrorTotals:
    """Running sums over mirror rows (bytes and tokens of the files written)."""

    files: int = 0
    written: int = 0
    up_to_date: int = 0
    skipped: int = 0
    errors: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    unknown_tokens_before: int = field(default=0)
    """Files written whose original the API would have rejected (no tokens before)."""

    def add(self, row: MirrorRow) -> None:
        """Count one row."""
        self.files += 1
        if row.status == "written":
            self.written += 1
            self.bytes_before += row.bytes_before
            self.bytes_after += row.bytes_after
            self.tokens_after += row.tokens_after
            if row.tokens_before is None:
                self.unknown_tokens_before += 1
            else:
                self.tokens_before += row.tokens_before
        elif row.status == "up to date":
            self.up_to_date += 1
        elif row.status == "skipped":
            self.skipped += 1
        else:
            self.errors += 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(vars(self))


@dataclass(frozen=True)
class _Config:
    """What a worker needs: the preflight options and the tables to rebuild."""

    model: str
    detail: str
    max_tokens: int | None
    format: str | None
    quality: int | None
    keep_metadata: bool
    first_frame: bool
    force: bool
    table_files: tuple[Path, ...]


def check_destination(sources: Iterable[str | os.PathLike], outdir: str | os.PathLike, in_place: bool) -> None:
    """ValueError if OUTDIR is a source folder or inside one (unless `in_place`), or a source file."""
    out = Path(outdir).resolve()
    for source in sources:
        src = Path(source).resolve()
        if src.is_dir() and (out == src or src in out.parents) and not in_place:
            raise ValueError(f"output folder {outdir} is {'the source' if out == src else 'inside the source'} "
                             f"{source}; pick another, or pass --in-place to replace the originals")  # fmt: skip
        if src.is_file() and out == src:
            raise ValueError(f"output folder {outdir} is the source file {source}")


def _targets(sources, outdir: Path, format: str | None, walk_options) -> Iterator[tuple[Found, str | None, str | None]]:
    """(found, output path, problem) for each file: one source is mirrored into OUTDIR, several each under its name."""
    sources = [os.fspath(source) for source in sources]
    suffix = EXTENSIONS[format.upper()] if format else None
    claimed: set[str] = set()
    own = os.path.realpath(outdir)
    for source in sources:
        base = outdir if len(sources) == 1 else outdir / Path(source).resolve().name
        # with --in-place, OUTDIR may lie inside a source folder: never walk into this run's outputs
        nested = own.startswith(os.path.realpath(source) + os.sep)
        for found in walk([source], **walk_options):
            if nested and os.path.realpath(found.path).startswith(own + os.sep):
                continue
            relative = os.path.relpath(found.path, source) if os.path.isdir(source) else os.path.basename(found.path)
            output = base / relative
            if suffix:
                output = output.with_suffix(suffix)
                key = os.path.normcase(os.fspath(output))
                if key in claimed:  # a.png and a.jpg both becoming a.webp
                    yield found, None, f"its output {output} is already written from another source in this run"
                    continue
                claimed.add(key)
            yield found, os.fspath(output), None


def mirror(
    sources: Iterable[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    model: str,
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
    **walk_options,
) -> Iterator[list[MirrorRow]]:
    """Optimize every image under `sources` into `outdir`; a list of rows per chunk, in walk order.

    ValueError before anything is written if `outdir` is, or is inside, a
    source folder (unless `in_place`); errors of model and detail come first too.
    """
    sources = list(sources)
    check_destination(sources, outdir, in_place)
    tables = tables or default_tables()
    tables.model(model).rule(detail)  # fail early on a bad model or detail
    config = _Config(model, detail, max_tokens, format, quality, keep_metadata, first_frame,
                     force or in_place, tables.files)  # fmt: skip
    items = _targets(sources, Path(outdir), format, walk_options)
    return map_chunks(_mirror_chunk, config, items, jobs=jobs, size=CHUNK)


def _mirror_chunk(config: _Config, chunk: list) -> list[MirrorRow]:
    return [_mirror_one(config, *item) for item in chunk]


def _mirror_one(config: _Config, found: Found, output: str | None, problem: str | None) -> MirrorRow:
    shown = found.display
    if found.problem is not None or problem is not None:
        status = "skipped" if found.skipped else "error"
        return MirrorRow(shown, output, status, error=f"{shown}: {found.problem or problem}")
    out = Path(output)
    if not config.force and _up_to_date(found.path, out):
        return MirrorRow(shown, output, "up to date")
    try:
        tables = _tables(config.table_files)
        result = optimize(found.path, model=config.model, detail=config.detail, max_tokens=config.max_tokens,
                          format=config.format, quality=config.quality, keep_metadata=config.keep_metadata,
                          first_frame=config.first_frame, tables=tables)  # fmt: skip
        atomic_write(out, result.data)
    except (CostcalcError, ValueError, OSError) as error:
        message = str(error) if str(error).startswith(shown) else f"{shown}: {error}"
        return MirrorRow(shown, output, "error", error=message)
    planned = result.plan
    return MirrorRow(shown, output, "written", planned.width, planned.height, result.width, result.height,
                     result.bytes_before, result.bytes_after, result.tokens_before, result.tokens_after)  # fmt: skip


def _up_to_date(source: str, output: Path) -> bool:
    try:
        return output.stat().st_mtime_ns >= os.stat(source).st_mtime_ns
    except OSError:
        return False


@lru_cache(maxsize=8)
def _tables(files: tuple[Path, ...]) -> Tables:
    return Tables({}, {}).with_files(*files)
