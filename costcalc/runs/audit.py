"""Auditing many files: walk, read headers, check the input rules, price; rows stream, totals run.

The work is split in chunks of files (`parallel.map_chunks`): with jobs > 1 in
worker processes (a header parser gains nothing from threads), results in walk
order. Memory stays flat however many files: nothing holds more than the
chunks in flight, one folder listing and a bounded table of `Shape`s.

Files whose headers read alike (the same format, size, frames, orientation and
defect) get the same verdicts and prices: each such header is judged and priced
once per model (a `Shape`), and its rows are rendered once per output format;
every other file with it takes those rows with its own path, name and byte size.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Iterator

from ..catalog.limits import Limits, limits_for
from ..catalog.settings import dated
from ..catalog.tables import Tables
from ..errors import CostcalcError
from ..inspection.headers import inspect_path
from ..inspection.walk import walk_fields
from ..parallel import map_chunks
from ..pricing.cost import Pricer
from ..pricing.verdict import unique_models, unread_verdict, verdict
from ..records import field, record
from .summary import MAX_ROOTS, Summary, group_by_sources
from .totals import AuditRow

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Shape", "audit", "audit_rendered", "header_rows", "rows_of"]

CHUNK = 256
"""Files per unit of work."""

SHAPES = 4096
"""The most `Shape`s remembered per audit and process (the table starts afresh past it)."""


@record
class _Config:
    """Everything a worker process needs to rebuild the pricers and limits, and to render."""

    models: tuple[str, ...]
    detail: str
    table_files: tuple[str, ...]
    edition: str | None
    strict: bool = False
    render: Any = field(default=None, compare=False)
    """An output format with render(rows) -> str and render_files(files) -> str, for `audit_rendered`; not
    part of the identity, so a worker's unpickled copy still finds `_setup`'s cache."""
    tier: str = "standard"
    as_of: _dt.date | None = None
    """The day prices and lifecycles are read for (the tables' own day)."""
    regional: bool = False
    roots: tuple[str, ...] = ()
    """The paths audited, by which the summary groups files (runs.summary: the first folder below each)."""


class Shape:
    """The rows, one per model, of every file whose header reads alike: the same but for the file's path, the
    name its messages start with, and its byte size (`rows_for`).

    A file's verdicts depend on its header (format, size, frames, orientation, defect) and, through a
    `max_image_bytes` rule (the one input rule that reads it, catalog.limits), on its byte size: a size within
    every such rule reads alike whatever it is. A header that could not be read is alike another by its error:
    the format named and the message after the file's name. `rows` hold an empty path and, in `error`, the text
    after the name; `sized`: the rows carry the file's byte size. `rendered` keeps what an output format made of
    them (output.audit), by format class.
    """

    __slots__ = ("rows", "sized", "rendered")

    def __init__(self, rows: list[AuditRow], sized: bool):
        self.rows, self.sized = rows, sized
        self.rendered: dict[Any, Any] = {}

    def rows_for(self, path: str, shown: str, size: int | None) -> list[AuditRow]:
        """The rows of the file at `path`, named `shown` in messages, of `size` bytes."""
        size = size if self.sized else None
        return [
            row._replace(path=path, bytes=size, error=None if row.error is None else shown + row.error)
            for row in self.rows
        ]


def _shape_of(rows: list[AuditRow], shown: str, sized: bool) -> Shape | None:
    """The Shape of one file's rows (`header_rows`), or None when a message does not start with its name."""
    if any(row.error is not None and not row.error.startswith(shown) for row in rows):
        return None
    cut = len(shown)
    return Shape([row._replace(path="", error=None if row.error is None else row.error[cut:]) for row in rows], sized)


class _Run:
    """One audit's models in one process: pricers, input rules, the byte size within every rule, the Shapes."""

    __slots__ = ("pricers", "limits", "max_bytes", "shapes", "group_of")

    def __init__(self, pricers: tuple[Pricer, ...], limits: tuple[Limits, ...], roots: tuple[str, ...]):
        self.pricers, self.limits = pricers, limits
        self.group_of = group_by_sources(roots)
        """A file's group in the summary: the first folder below the root it was found under (runs.summary)."""
        sizes = [rules.rules["max_image_bytes"].value for rules in limits if "max_image_bytes" in rules.rules]
        self.max_bytes: int | None = min(sizes, default=None)
        """A file of at most this many bytes breaks no `max_image_bytes` rule (None: no model has one)."""
        self.shapes: dict[tuple, Shape | None] = {}


_RUNS: dict[_Config, _Run] = {}
"""The audits set up in this process (a forked worker inherits them), by configuration; at most eight."""


def _setup(config: _Config, tables: Tables | None = None) -> _Run:
    """Each model's pricer and its vendor's input rules (docs/limits.md, docs/README.md), from `tables` (the
    caller's) or, in a worker process that did not inherit them, from the configuration's table files."""
    run = _RUNS.get(config)
    if run is None:
        if tables is None:
            tables = Tables({}, {}).with_files(*config.table_files).at(config.as_of).in_region(config.regional)
        pricers = tuple(Pricer(name, config.detail, tables, tier=config.tier) for name in config.models)
        run = _Run(pricers, tuple(limits_for(pricer.model, config.edition) for pricer in pricers), config.roots)
        if len(_RUNS) >= 8:
            _RUNS.clear()
        _RUNS[config] = run
    return run


def audit(
    paths: Iterable[str | os.PathLike],
    *,
    models: Iterable[str],
    detail: str = "auto",
    tables: Tables | None = None,
    edition: str | None = None,
    jobs: int = 1,
    strict: bool = False,
    tier: str = "standard",
    as_of: _dt.date | None = None,
    **walk_options,
) -> Iterator[AuditRow]:
    """Rows for every file under `paths` and every model, in walk order, as they are ready.

    One bad file never stops the audit: it gets rows with its status and
    reason. Model, detail and limits edition are checked before any file is
    read (UnknownModelError, UnsupportedDetailError, TableError); a model named
    twice (or by two aliases of one row) counts once. `edition` names an edition
    of the limits table (default: the newest). `strict` makes a damaged file
    (one with a warning) unreadable. `jobs` > 1 reads in that many worker
    processes. `tier`: the service tier to price at (docs/prices.md; TierError, before
    any file is read, for a model without it). `as_of` (default: the tables' day, today): the day whose prices
    and model lifecycles apply (each row's `model_status` and `shutdown`). `walk_options` are those of
    `costcalc.walk.walk`: recursive, globs, excludes, follow_symlinks, hidden.
    """
    config = _config(models, detail, tables, edition, strict, None, tier, as_of)
    for rows in _map_chunks(_chunk_rows, config, paths, jobs, walk_options):
        yield from rows


def audit_rendered(
    paths: Iterable[str | os.PathLike],
    *,
    models: Iterable[str],
    render,
    detail: str = "auto",
    tables: Tables | None = None,
    edition: str | None = None,
    jobs: int = 1,
    strict: bool = False,
    tier: str = "standard",
    as_of: _dt.date | None = None,
    own_process: bool = False,
    **walk_options,
) -> Iterator[tuple[str, Summary, int]]:
    """Like `audit`, a chunk at a time, rendered where it is read: (text, the chunk's totals, files). The totals
    are a `runs.summary.Summary`: per model, per first folder below each path, and tokens per image.

    `render` is a picklable output format with render(rows) -> str, and optionally render_files(files) -> str
    for a chunk's files as they are read here (output.audit's formats: files alike share a `Shape`). The
    command line uses this so that worker processes, not the parent, build the output text. `own_process`: this
    process is costcalc's own (the command line), whose allocator a long audit may tune
    (`parallel.keep_freed_memory`); worker processes always are.
    """
    paths = list(paths)
    roots = tuple(os.fsdecode(path) for path in paths[: MAX_ROOTS + 1])
    config = _config(models, detail, tables, edition, strict, render, tier, as_of, roots)
    return _map_chunks(_chunk_rendered, config, paths, jobs, walk_options, own_process)


def _config(models, detail, tables, edition, strict, render, tier, as_of, roots=()) -> _Config:
    """What every chunk's work needs, checked and picklable: the tables as of the day, each model once. The
    pricers are set up here, from these tables (UnknownModelError, TierError, ... before any file is read)."""
    tables = dated(tables, as_of)
    config = _Config(
        tuple(unique_models(models, tables)),
        detail,
        tables.file_names,
        edition,
        strict,
        render,
        tier,
        tables.as_of,
        tables.regional,
        roots,
    )
    _RUNS.pop(config, None)  # these tables, not those of an earlier audit alike
    _setup(config, tables)
    return config


def _map_chunks(work, config: _Config, paths, jobs: int, walk_options, own_process: bool = False) -> Iterator:
    """`work(config, chunk)` over the walk, in order, in `jobs` processes. Each `Found` goes as a plain tuple (a
    named tuple pickles through Python code, ten times slower, for a worker)."""
    found = walk_fields(paths, **walk_options)
    return map_chunks(work, config, found, jobs=jobs, size=CHUNK, own_process=own_process)


def _chunk_rows(config: _Config, chunk: list[tuple]) -> list[AuditRow]:
    return rows_of(_chunk_files(config, chunk))


def rows_of(files: list) -> list[AuditRow]:
    """The rows of a chunk's files (`_chunk_files`)."""
    rows: list[AuditRow] = []
    for file in files:
        rows.extend(file if file.__class__ is list else file[0].rows_for(*file[1:]))
    return rows


def _with_lifecycle(rows: list[AuditRow], pricers: tuple[Pricer, ...]) -> list[AuditRow]:
    """`rows` (one per pricer, in order) with each model's status and shutdown date on the tables' day."""
    return [row._replace(model_status=pricer.status, shutdown=pricer.shutdown) for row, pricer in zip(rows, pricers)]


def _chunk_rendered(config: _Config, chunk: list[tuple]) -> tuple[str, Summary, int]:
    files = _chunk_files(config, chunk)
    group_of = _setup(config).group_of
    totals = Summary(config.models)
    alike: dict[str, dict[Shape, int]] = {}  # group -> Shape -> files
    folders: dict[str, tuple[str, dict[Shape, int]]] = {}  # a file's folder -> its group and the group's counts
    for file in files:
        if not file:
            continue
        path = file[0].path if file.__class__ is list else file[1]
        folder = path.rpartition("/")[0]
        found = folders.get(folder)
        if found is None:
            group = group_of(path)
            found = folders[folder] = (group, alike.setdefault(group, {}))
        group, counts = found
        if file.__class__ is list:
            for row in file:
                totals.add_in_group(row, 1, group)
        else:
            shape = file[0]
            counts[shape] = counts.get(shape, 0) + 1
    for group, counts in alike.items():
        for shape, count in counts.items():
            for row in shape.rows:
                totals.add_in_group(row, count, group)
    totals.settle()
    render_files = getattr(config.render, "render_files", None)  # output.audit's formats have it
    if render_files is None:
        return config.render.render(rows_of(files)), totals, len(chunk)
    return render_files(files), totals, len(chunk)


def _chunk_files(config: _Config, chunk: list[tuple]) -> list:
    """Each file of the chunk (a `Found`'s fields): (its Shape, path, name shown, byte size), or its rows when no
    Shape fits it."""
    run = _setup(config)
    pricers, limits, max_bytes, shapes = run.pricers, run.limits, run.max_bytes, run.shapes
    detail, strict = config.detail, config.strict
    files: list = []
    for path, shown, problem, skipped in chunk:
        if problem is not None:
            files.append(_found_rows(path, shown, problem, skipped, pricers, detail))
            continue
        try:
            info = inspect_path(path, name=shown, regular=True)
        except CostcalcError as error:
            message = str(error)
            format = getattr(error, "format", None)
            key = (format, message[len(shown) :]) if message.startswith(shown) else (format, None, message)
            info, failure, size, sized = None, error, None, False
        else:
            size, sized = info.bytes, True
            if size is None or (max_bytes is not None and size > max_bytes):  # the error names the size
                files.append(header_rows(path, shown, info, None, pricers, limits, detail, strict))
                continue
            failure, key = None, (*info[:6], info.warning)
        shape = shapes.get(key, False)
        if shape is False:
            if len(shapes) >= SHAPES:
                shapes.clear()
            rows = header_rows(path, shown, info, failure, pricers, limits, detail, strict)
            shape = shapes[key] = _shape_of(rows, shown, sized)
            if shape is None:
                files.append(rows)
                continue
        if shape is None:
            files.append(header_rows(path, shown, info, failure, pricers, limits, detail, strict))
        else:
            files.append((shape, path, shown, size))
    return files


def _found_rows(path: str, shown: str, problem: str, skipped: bool, pricers: tuple[Pricer, ...], detail: str):
    """The rows of what the walk met and could not audit (`problem`): skipped on purpose, or unreadable."""
    status = "skipped" if skipped else "unreadable"
    return _with_lifecycle(
        [AuditRow(path, p.model.name, detail, status, error=f"{shown}: {problem}", tier=p.tier) for p in pricers],
        pricers,
    )


def header_rows(
    path: str,
    shown: str,
    info,
    error: CostcalcError | None,
    pricers: tuple[Pricer, ...],
    limits: tuple[Limits, ...],
    detail: str,
    strict: bool = False,
) -> list[AuditRow]:
    """The rows of one image whose header was read (`info`), or could not be (`error`), wherever it lives: a
    format costcalc cannot read is rejected by rule `formats` where the API refuses it too, else unreadable; a read
    header gets each model's verdict (pricing.verdict). `shown` names it in messages."""
    if info is None:
        rows = []
        for pricer, rules in zip(pricers, limits):
            outcome = unread_verdict(error, rules)
            reason = outcome.reason if outcome.reason.startswith(shown) else f"{shown}: {outcome.reason}"
            rows.append(
                AuditRow(
                    path,
                    pricer.model.name,
                    detail,
                    outcome.status,
                    format=getattr(error, "format", None),
                    rule=outcome.rule,
                    error=reason,
                    tier=pricer.tier,
                )
            )
        return _with_lifecycle(rows, pricers)
    facts = (info.format, info.width, info.height, info.frames, info.animated, info.orientation, info.bytes)
    rows = []
    for pricer, rules in zip(pricers, limits):
        outcome = verdict(info, pricer, rules, strict=strict)
        reason = None if outcome.reason is None else f"{shown}: {outcome.reason}"
        usd = None if outcome.tokens is None else pricer.usd(outcome.tokens)
        basis = _basis(pricer, info) if outcome.status == "priced" else None
        rows.append(
            AuditRow(
                path,
                pricer.model.name,
                detail,
                outcome.status,
                *facts,
                pricer.applied_detail,
                outcome.tokens,
                usd,
                outcome.rule,
                reason,
                outcome.warning,
                pricer.tier,
                basis,
                pricer.status,
                pricer.shutdown,
            )
        )
    return rows


def _basis(pricer: Pricer, info) -> str:
    """How sure a priced file's tokens are (docs/README.md): the rule's basis; a rule that is not exact may be
    surer for this size (Gemini 2.0's small images are exact), so its own sizing says."""
    basis = pricer.basis
    return basis if basis in ("exact", "unknown") else pricer.rule.size(info.width, info.height).basis
