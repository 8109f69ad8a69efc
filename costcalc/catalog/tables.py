"""The model and price tables: TOML data under `tables/`, loaded once, never mutated (docs/openai.md).

The shipped model table is one file per vendor, tables/models/*.toml, loaded in
sorted order (docs/openai.md, docs/README.md). Lookup is by exact name, then by the name rules each
vendor's file declares as data in its [aliases] (docs/README.md): vendor and cloud
prefixes (`anthropic/`, `us.anthropic.`), suffixes (`-v1:0`, `-latest`) and
dated snapshots (`-YYYY-MM-DD`, `-YYYYMMDD`, `@YYYYMMDD`), each applied only to
that vendor's rows, and never over a name that has its own row. A user's own
table file layers over the shipped ones and yields a new `Tables`; nothing
global changes.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from ..errors import TableError, TierError, UnknownModelError
from ..records import replace
from ..schemes.fields import MAX_LIMIT, check_keys
from . import compiled
from .dates import Lifecycle, in_window, today
from .rows import (
    _NO_VENDOR,
    CACHE_KINDS,
    DETAILS,
    EVIDENCE,
    OVERRIDES,
    SCHEMES,
    TIERS,
    Aliases,
    DatedMultiple,
    LongContext,
    Model,
    Price,
    TierPrice,
    TierRule,
    _regional,
    _Vendor,
    _with_tier_rows,
    check_tier,
)
from .userdata import toml_names

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

__all__ = [
    "Model",
    "Price",
    "LongContext",
    "TierPrice",
    "TierRule",
    "DatedMultiple",
    "TIERS",
    "CACHE_KINDS",
    "EVIDENCE",
    "OVERRIDES",
    "Tables",
    "Aliases",
    "DETAILS",
    "SCHEMES",
    "MAX_LIMIT",
    "check_keys",
    "check_tier",
    "default_tables",
    "shipped_tables",
    "read_shipped",
    "compiled_files",
    "forget_data",
    "load_tables",
    "tables_dir",
    "tables_folder",
    "compiled_names",
    "price_files",
    "model_files",
    "lifecycle_files",
    "get_model",
    "get_price",
    "list_models",
]


_UNSET = object()


class Tables:
    """The model and price tables; immutable, looked up by exact name, then by each vendor's name rules."""

    def __init__(
        self,
        models: Mapping[str, Model],
        prices: Mapping[str, Price | tuple[Price, ...]],
        files: tuple[Path, ...] = (),
        defaults: Mapping[str, Mapping[str, Any]] | None = None,
        aliases: Mapping[str, Aliases] | None = None,
        vendors: Mapping[str, _Vendor] | None = None,
        lifecycles: Mapping[str, Lifecycle] | None = None,
        as_of: _dt.date | None = None,
        multiples: Mapping[str, Mapping[str, tuple[DatedMultiple, ...]]] | None = None,
    ):
        lifecycles = dict(lifecycles or {})
        self._models = MappingProxyType(
            {
                name: replace(model, lifecycle=lifecycles[name]) if name in lifecycles else model
                for name, model in models.items()
            }
        )
        self._vendors = MappingProxyType(dict(vendors or {}))
        self._prices = MappingProxyType(
            {name: (rows,) if isinstance(rows, Price) else tuple(rows) for name, rows in prices.items()}
        )
        self._defaults = MappingProxyType({k: MappingProxyType(dict(v)) for k, v in (defaults or {}).items()})
        self._aliases = MappingProxyType(dict(aliases or {}))
        self._lifecycles = MappingProxyType(lifecycles)
        self._as_of = as_of
        self._multiples = MappingProxyType(
            {kind: MappingProxyType(dict(rows)) for kind, rows in (multiples or {}).items()}
        )
        self._regional_view = False
        self._files = tuple(files)
        self._priced: dict[tuple, Price | None] = {}  # Tables.price, per (name, family, vendor, day)

    def _state(self) -> dict[str, Any]:
        """What these tables hold, as plain dicts (catalog/compiled.py keeps the shipped ones so); the day, the
        regional view and the files are left out: `_from_state` is given the files and reads them on any day."""
        return {
            "checked": self.checked,
            "models": dict(self._models),
            "vendors": dict(self._vendors),
            "prices": dict(self._prices),
            "defaults": {scheme: dict(values) for scheme, values in self._defaults.items()},
            "aliases": dict(self._aliases),
            "lifecycles": dict(self._lifecycles),
            "multiples": {kind: dict(rows) for kind, rows in self._multiples.items()},
        }

    @classmethod
    def _from_state(cls, state: Mapping[str, Any], files: tuple[Path, ...]) -> Tables:
        """The tables `_state` describes (their models already carry their lifecycles), as read from `files`."""
        tables = cls.__new__(cls)
        tables._checked = state["checked"]
        tables._models = MappingProxyType(state["models"])
        tables._vendors = MappingProxyType(state["vendors"])
        tables._prices = MappingProxyType(state["prices"])
        tables._defaults = MappingProxyType({k: MappingProxyType(v) for k, v in state["defaults"].items()})
        tables._aliases = MappingProxyType(state["aliases"])
        tables._lifecycles = MappingProxyType(state["lifecycles"])
        tables._as_of = None
        tables._multiples = MappingProxyType({k: MappingProxyType(v) for k, v in state["multiples"].items()})
        tables._regional_view = False
        tables._files = tuple(files)
        tables._priced = {}
        return tables

    @property
    def file_names(self) -> tuple[str, ...]:
        """`files` as strings (no pathlib: what a worker process is told to read)."""
        return tuple(os.fspath(path) for path in self._files)

    @property
    def files(self) -> tuple[Path, ...]:
        """The table files these tables were read from, in the order they are layered (their rows over each other's)."""
        from pathlib import Path  # not before it is asked for: a start-up imports no pathlib

        return tuple(Path(path) for path in self._files)

    @files.setter
    def files(self, value) -> None:
        self._files = tuple(value)

    @property
    def as_of(self) -> _dt.date:
        """The day prices and lifecycles are read for: the one given to `at`, else today (UTC)."""
        return self._as_of or today()

    def at(self, as_of: _dt.date | None) -> Tables:
        """The same tables read on `as_of` (None: today, UTC): the prices in force and each model's status that day."""
        if as_of is not None and not isinstance(as_of, _dt.date):
            raise TypeError(f"as_of must be a datetime.date, not {as_of!r}")
        if isinstance(as_of, _dt.datetime):
            as_of = as_of.date()
        if as_of == self._as_of:
            return self
        view = Tables.__new__(Tables)
        view.__dict__.update(self.__dict__, _as_of=as_of, _priced={})
        return view

    @property
    def regional(self) -> bool:
        """Whether prices are read for regional processing (`in_region`)."""
        return self._regional_view

    def in_region(self, regional: bool = True) -> Tables:
        """The same tables priced for regional processing (data residency): each price times its vendor's documented
        multiple ([[regional]] rows, OpenAI +10%); a model whose vendor documents none has no price (unknown)."""
        if bool(regional) == self._regional_view:
            return self
        view = Tables.__new__(Tables)
        view.__dict__.update(self.__dict__, _regional_view=bool(regional), _priced={})
        return view

    @property
    def checked(self) -> _dt.date | None:
        """When the prices were last compared with their sources: the newest `checked` date of a price row."""
        known = self.__dict__.get("_checked", _UNSET)  # the compiled tables know it without reading every row
        if known is not _UNSET:
            return known
        days = {row.checked for rows in self._prices.values() for row in rows}
        found = []
        for text in days:
            try:
                found.append(_dt.date.fromisoformat(text[:10]))
            except ValueError:
                continue
        return max(found, default=None)

    def price_names(self) -> tuple[str, ...]:
        """Every name that has price rows of its own, in table order."""
        return tuple(self._prices)

    def price_rows(self, name: str) -> tuple[Price, ...]:
        """The dated price rows filed under exactly `name` (no name rules, no vendor defaults), oldest first."""
        return self._prices.get(name, ())

    def lifecycle(self, model: str | Model) -> Lifecycle:
        """The lifecycle of `model` (a snapshot's own row first, else its family's)."""
        return self.model(model).lifecycle

    def prices_of(self, model: str | Model) -> tuple[Price, ...]:
        """Every dated price row of `model` (its own name's, else the first name it stands for that has rows),
        oldest window first, with its vendor's defaults applied."""
        found = self.model(model)
        terms = self._vendors.get(found.vendor, _NO_VENDOR)
        for name in self._price_names(found):
            rows = self._prices.get(name)
            if rows:
                return tuple(terms.apply(row, found.name) for row in rows)
        return ()

    def _forms(self, wanted: str, only: str | None = None) -> list[tuple[str, str, str]]:
        """(name, vendor, shown) triples `wanted` may stand for under each vendor's name rules (or `only` one's),
        nearest first; `shown` is the name a model found so is called: the row's own for an undated form
        (`openai/gpt-4o` is gpt-4o), the dated form for a snapshot (`openai/gpt-4o-2024-08-06` is
        gpt-4o-2024-08-06), without prefixes or suffixes (docs/README.md)."""
        undated, dated = [], []
        for vendor, aliases in self._aliases.items():
            if only is None or vendor == only:
                near, far = aliases.forms(wanted)
                undated += [(name, vendor, name) for name in near[1:]]
                dated += [(name, vendor, form) for name, form in far]
        return undated + dated

    def _aliased(self, wanted: str) -> list[tuple[str, str]]:
        """(row name, shown name) pairs `wanted` stands for under the vendors' name rules, nearest first
        (undated before dated)."""
        return [
            (name, shown)
            for name, vendor, shown in self._forms(wanted)
            if name in self._models and self._models[name].vendor == vendor
        ]

    def model(self, name: str | Model) -> Model:
        """The model called `name`; UnknownModelError (a KeyError) lists close matches."""
        if isinstance(name, Model):
            return name
        if not isinstance(name, str):
            raise UnknownModelError(repr(name))
        found = self.find(name)
        if found is not None:
            return found
        import difflib  # only on the error path

        wanted = name.strip().lower()
        raise UnknownModelError(name, difflib.get_close_matches(wanted, list(self._models), n=3, cutoff=0.6))

    def find(self, name: str) -> Model | None:
        """The model called `name` (exact, then the vendors' name rules), or None: `model` without the error."""
        wanted = name.strip().lower()
        found = self._models.get(wanted)
        if found is not None:
            return found
        aliased = self._aliased(wanted)
        if aliased:  # one name per model, however it was spelled: `-m gpt-4o -m openai/gpt-4o` count once
            row, shown = aliased[0]
            lifecycle = self._lifecycles.get(shown, self._models[row].lifecycle)  # a snapshot's own, else its family's
            return replace(self._models[row], name=shown, lifecycle=lifecycle)
        return None

    def price(self, model: str | Model) -> Price | None:
        """The price of `model`: its own name's, else the names it stands for (a snapshot first), else its family's;
        with its service tiers and cached-input rates (the row's own over its vendor's defaults, docs/prices.md)."""
        found = self.model(model)
        day = self.as_of
        key = (found.name, found.family, found.vendor, day)
        if key not in self._priced:  # asked twice per image priced (check_tier, then price): work it out once
            self._priced[key] = self._find_price(found, day)
        return self._priced[key]

    def _price_names(self, found: Model) -> tuple[str, ...]:
        """The names whose price rows may price `found`, nearest first: its own, the names it stands for, its family."""
        return (found.name, *(name for name, *_ in self._forms(found.name, found.vendor)), found.family)

    def _find_price(self, found: Model, day: _dt.date) -> Price | None:
        """The price in force on `day`; None when the nearest name with rows has none that day (never a neighbour's)."""
        for name in self._price_names(found):
            rows = self._prices.get(name)
            if rows:
                price = next((row for row in rows if in_window(row.valid_from, row.valid_until, day)), None)
                if price is None:
                    return None
                price = self._vendors.get(found.vendor, _NO_VENDOR).apply(price.on(day), found.name)
                return self._multiplied(price, found, day)
        return None

    def _multiplied(self, price: Price, found: Model, day: _dt.date) -> Price | None:
        """`price` with the [[tier]] rows of its model, and under regional processing when asked for."""
        tier_rows = self._multiples_of("tier", found)
        if tier_rows:
            price = _with_tier_rows(price, tier_rows, day)
        if self._regional_view:
            return _regional(price, self._multiples_of("regional", found), day)
        return price

    def _multiples_of(self, kind: str, found: Model) -> tuple[DatedMultiple, ...]:
        rows = self._multiples.get(kind, {})
        return next((rows[name] for name in self._price_names(found) if name in rows), ())

    def tiers(self, model: str | Model) -> tuple[str, ...]:
        """The service tiers `model` can be priced at (docs/prices.md), standard first: its price's, or (price unknown)
        its vendor's defaults."""
        price = self.price(model)
        if price is not None:
            return price.offered
        terms = self._vendors.get(self.model(model).vendor, _NO_VENDOR)
        return tuple(name for name in TIERS if name == "standard" or name in terms.tiers)

    def check_tier(self, model: str | Model, tier: object) -> str:
        """`tier` when `model` offers it; TierError naming the tiers it has otherwise (docs/prices.md)."""
        offered = self.tiers(model)
        if isinstance(tier, str) and tier in offered:
            return tier
        price = self.price(model)
        if isinstance(tier, str) and price is not None and dict(price.aliases).get(tier) in offered:
            return tier  # a word its vendor accepts for one of them (OpenAI: priority is fast)
        raise TierError(self.model(model).name, tier, offered)

    def models(self) -> list[Model]:
        """Every model name in the table, in table order."""
        return list(self._models.values())

    def with_files(self, *paths: str | os.PathLike[str]) -> Tables:
        """A new `Tables`: these files' rows over this one's (a name in a file replaces its old row); no files: these
        tables (immutable, so shared as they are)."""
        if not paths:
            return self
        models, prices, lifecycles = dict(self._models), dict(self._prices), dict(self._lifecycles)
        files, defaults, aliases, vendors = self.files, self._defaults, dict(self._aliases), dict(self._vendors)
        multiples = {kind: dict(rows) for kind, rows in self._multiples.items()}
        for path in paths:
            from .loading import check_alias_cycles, load_file  # the TOML reader and its checks: only when read

            file_models, file_prices, defaults, (vendor, file_aliases, terms), file_lifecycles, file_multiples = (
                load_file(_path(path), defaults)
            )
            lifecycles.update(file_lifecycles)
            for kind, rows in file_multiples.items():
                multiples.setdefault(kind, {}).update(rows)
            if terms is not None:
                vendors[vendor] = vendors.get(vendor, _NO_VENDOR) | terms
            for name, model in file_models.items():
                if not model.vendor and name in models:  # a row of your own keeps its vendor's name rules
                    file_models[name] = replace(model, vendor=models[name].vendor)
            models.update(file_models)
            prices.update(file_prices)
            if file_aliases is not None:
                aliases[vendor] = aliases.get(vendor, Aliases()) | file_aliases
                check_alias_cycles(dict(aliases[vendor].names), f"{path}: [aliases]: names")  # across files too
            files += (_path(path),)
        tables = Tables(models, prices, files, defaults, aliases, vendors, lifecycles, self._as_of, multiples)
        return tables.in_region(self._regional_view)


def tables_dir() -> Path:
    """Where the shipped tables are: inside the installed package, else the source checkout."""
    return _path(tables_folder())


@cache  # asked once per request priced (load_limits): resolving the path was a third of a small request's time
def tables_folder() -> str:
    """`tables_dir()` as a string, found without pathlib (a start-up imports none: benchmarks/bench_startup.py)."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # the costcalc package
    for candidate in (os.path.join(here, "tables"), os.path.join(os.path.dirname(here), "tables")):
        if os.path.isdir(os.path.join(candidate, "models")):
            return candidate
    raise TableError(
        f"costcalc's own tables are missing (looked in {os.path.join(here, 'tables')}); reinstall costcalc"
    )


def _path(path) -> Path:
    from pathlib import Path

    return Path(path)


@cache
def shipped_tables() -> Tables:
    """The shipped tables alone, read on first use and kept: from their compiled form when it was built from exactly
    these files (catalog/compiled.py), else from the TOML."""
    return _shipped(tables_folder())


def _shipped(folder: str | os.PathLike[str]) -> Tables:
    state = compiled.part("tables", folder, compiled_names(folder))
    if state is None:
        return read_shipped(folder)
    spec = compiled.classes("tables")
    state["models"] = compiled.Rows(state["models"], spec, lambda name: _read_once(folder)._models[name])
    state["prices"] = compiled.Rows(state["prices"], spec, lambda name: _read_once(folder)._prices[name])
    return Tables._from_state(state, _table_names(folder))


@cache
def _read_once(folder: str | os.PathLike[str]) -> Tables:
    return read_shipped(folder)


def read_shipped(folder: str | os.PathLike[str]) -> Tables:
    """The shipped tables of `folder` read and checked from their TOML, as they are compiled (catalog/compiler.py)."""
    return Tables({}, {}).with_files(*_table_names(folder))


def _table_names(folder: str | os.PathLike[str]) -> tuple[str, ...]:
    """The shipped model, price and lifecycle files, in the order they are layered."""
    prices = sorted(toml_names(folder, "prices"), key=lambda path: os.path.basename(path) == OVERRIDES)
    lifecycle = os.path.join(os.fspath(folder), "lifecycle.toml")
    return (*toml_names(folder, "models"), *prices, *([lifecycle] if os.path.isfile(lifecycle) else []))


def compiled_names(folder: str | os.PathLike[str]) -> tuple[str, ...]:
    """`compiled_files` as strings (no pathlib at start-up)."""
    limits = os.path.join(os.fspath(folder), LIMITS)
    return (*_table_names(folder), *([limits] if os.path.isfile(limits) else []))


def _table_files(folder: Path) -> tuple[Path, ...]:
    """The shipped model, price and lifecycle files, in the order they are layered."""
    return tuple(_path(path) for path in _table_names(folder))


def compiled_files(folder: Path) -> tuple[Path, ...]:
    """Every shipped file the compiled tables are built from (catalog/compiled.py): the tables and limits.toml."""
    return tuple(_path(path) for path in compiled_names(folder))


def default_tables() -> Tables:
    """The tables every lookup reads: the shipped ones with the user's data folder over them (`costcalc tables
    update` prices, `probe --write` rows; catalog/userdata.py), read on first use and kept per folder."""
    from .userdata import data_folder

    return _layered(data_folder())


@cache
def _layered(folder: str) -> Tables:
    from .userdata import data_names, stale_prices

    files = [_path(path) for path in data_names(folder)]  # the common case, none, seen without pathlib
    if not files:
        return shipped_tables()
    if stale_prices(_path(folder), shipped_tables().checked):  # a newer costcalc ships newer prices than the update
        files = [path for path in files if path.parent.name != "prices"]
    return shipped_tables().with_files(*files) if files else shipped_tables()


def forget_data() -> None:
    """Read the data folder again at the next lookup (after `tables update` or `probe --write` changed it)."""
    _layered.cache_clear()


LIMITS = "limits.toml"
"""The shipped limits table, in the tables folder (catalog/limits.py)."""


def model_files(folder: Path) -> list[Path]:
    """The shipped model files: tables/models/*.toml, one per vendor, in sorted order (docs/openai.md, docs/README.md)."""
    return [_path(path) for path in toml_names(folder, "models")]


def lifecycle_files(folder: Path) -> list[Path]:
    """The shipped lifecycle file, tables/lifecycle.toml (docs/lifecycle.md), when there is one."""
    path = folder / "lifecycle.toml"
    return [path] if path.is_file() else []


def price_files(folder: Path) -> list[Path]:
    """The shipped price files: tables/prices/*.toml sorted, the hand-kept overrides last (docs/prices.md)."""
    files = [_path(path) for path in toml_names(folder, "prices")]
    return sorted(files, key=lambda path: path.name == OVERRIDES)


def load_tables(*paths: str | os.PathLike[str], base: Tables | None = None) -> Tables:
    """The shipped tables (or `base`) with the rows of these files of your own over them."""
    return (base or default_tables()).with_files(*paths)


# ------------------------------------------------------------------ parsing


# ------------------------------------------------------------------ public lookups


def get_model(name: str, *, tables: Tables | None = None) -> Model:
    """The model called `name` (exact, then the vendors' name rules); UnknownModelError lists close matches."""
    return (tables or default_tables()).model(name)


def get_price(name: str | Model, *, tables: Tables | None = None, as_of: _dt.date | None = None) -> Price | None:
    """The price of a model in force on `as_of` (default: today, UTC), or None when it is unknown that day."""
    tables = tables or default_tables()
    return (tables if as_of is None else tables.at(as_of)).price(name)


def list_models(*, tables: Tables | None = None) -> list[Model]:
    """Every model name in the table, in table order."""
    return (tables or default_tables()).models()
