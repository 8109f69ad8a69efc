"""The model and price tables: TOML data under `tables/`, loaded once, never mutated (SPEC §2).

Lookup is by exact name, then by dated snapshot (`gpt-4o-2024-08-06` → `gpt-4o`)
unless the snapshot has its own row. A user's own table file layers over the
shipped one and yields a new `Tables`; nothing global changes.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import tomllib
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import TableError, UnknownModelError, UnsupportedDetailError
from .rules import FixedRule, PatchRule, Rule, TileRule

__all__ = [
    "Model",
    "Price",
    "Tables",
    "DETAILS",
    "MAX_LIMIT",
    "default_tables",
    "load_tables",
    "tables_dir",
    "get_model",
    "get_price",
    "list_models",
]

DETAILS = ("low", "high", "original", "auto")
"""Every detail level a request can name."""

MAX_LIMIT = 2**24
"""Largest number a table may give as a pixel limit, budget or multiplier term."""

_SNAPSHOT = re.compile(r"^(?P<family>.+)-\d{4}-\d{2}-\d{2}$")
_ROW_KEYS = {"names", "name", "scheme", "source", "date", "checked"}
_TILE_KEYS = {"base", "tile", "fit", "short_side", "tile_size", "low_fit"}
_PATCH_KEYS = {"multiplier", "auto", "patch_size", "max_patches", "low", "high", "original"}
_PATCH_DETAIL_KEYS = {"max_dimension", "patch_budget"}
_PRICE_KEYS = {"names", "name", "usd_per_1m_input", "source", "date", "checked"}


@dataclass(frozen=True)
class Model:
    """One row of the model table, as looked up by one of its names."""

    name: str
    """The name it was looked up by (a dated snapshot keeps its date)."""
    family: str
    """The table name that name resolved to."""
    names: tuple[str, ...]
    scheme: str
    auto: str
    rules: tuple[tuple[str, Rule], ...]
    multiplier: Decimal | None
    source: str
    date: str
    checked: str

    @property
    def details(self) -> tuple[str, ...]:
        """The detail levels this model accepts, `auto` last."""
        return tuple(level for level, _ in self.rules) + ("auto",)

    def rule(self, detail: str) -> tuple[str, Rule]:
        """The detail level `detail` applies (auto resolved) and its rule, or UnsupportedDetailError."""
        applied = self.auto if detail == "auto" else detail
        for level, rule in self.rules:
            if level == applied:
                return level, rule
        raise UnsupportedDetailError(self.name, detail, self.details)


@dataclass(frozen=True)
class Price:
    """A dated price: USD per 1M input tokens, with its source."""

    usd_per_1m_input: Decimal
    source: str
    date: str
    checked: str

    def usd(self, tokens: int) -> Decimal:
        """The exact price of `tokens` input tokens."""
        return self.usd_per_1m_input * tokens / 1_000_000


class Tables:
    """The model and price tables; immutable, looked up by exact name, then by dated snapshot."""

    def __init__(
        self,
        models: Mapping[str, Model],
        prices: Mapping[str, Price],
        files: tuple[Path, ...] = (),
        defaults: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        self._models = MappingProxyType(dict(models))
        self._prices = MappingProxyType(dict(prices))
        self._defaults = MappingProxyType({k: MappingProxyType(dict(v)) for k, v in (defaults or {}).items()})
        self.files = files

    def model(self, name: str | Model) -> Model:
        """The model called `name`; UnknownModelError (a KeyError) lists close matches."""
        if isinstance(name, Model):
            return name
        if not isinstance(name, str):
            raise UnknownModelError(repr(name))
        wanted = name.strip().lower()
        found = self._models.get(wanted)
        if found is not None:
            return found
        snapshot = _SNAPSHOT.match(wanted)
        if snapshot and snapshot["family"] in self._models:
            return replace(self._models[snapshot["family"]], name=wanted)
        import difflib  # only on the error path

        raise UnknownModelError(name, difflib.get_close_matches(wanted, list(self._models), n=3, cutoff=0.6))

    def price(self, model: str | Model) -> Price | None:
        """The price of `model` (its own row, else its family's), or None when unknown."""
        found = self.model(model)
        return self._prices.get(found.name) or self._prices.get(found.family)

    def models(self) -> list[Model]:
        """Every model name in the table, in table order."""
        return list(self._models.values())

    def with_files(self, *paths: str | os.PathLike[str]) -> "Tables":
        """A new `Tables`: these files' rows over this one's (a name in a file replaces its old row)."""
        models, prices = dict(self._models), dict(self._prices)
        files, defaults = self.files, self._defaults
        for path in paths:
            file_models, file_prices, defaults = _load_file(Path(path), defaults)
            models.update(file_models)
            prices.update(file_prices)
            files += (Path(path),)
        return Tables(models, prices, files, defaults)


def tables_dir() -> Path:
    """Where the shipped tables are: inside the installed package, else the source checkout."""
    here = Path(__file__).resolve().parent.parent  # the costcalc package
    for candidate in (here / "tables", here.parent / "tables"):
        if (candidate / "models.toml").is_file():
            return candidate
    raise TableError(f"costcalc's own tables are missing (looked in {here / 'tables'}); reinstall costcalc")


@cache
def default_tables() -> Tables:
    """The shipped tables, read on first use and kept."""
    folder = tables_dir()
    return Tables({}, {}).with_files(folder / "models.toml", folder / "prices.toml")


def load_tables(*paths: str | os.PathLike[str], base: Tables | None = None) -> Tables:
    """The shipped tables (or `base`) with the rows of these files of your own over them."""
    return (base or default_tables()).with_files(*paths)


# ------------------------------------------------------------------ parsing


def _load_file(path: Path, inherited: Mapping[str, Mapping[str, Any]]):
    """Parse one table file: its models, its prices, and the defaults in force after it.

    A file's [defaults.tile] / [defaults.patch] lay over those it inherits and
    apply to its own rows and to files loaded after it.
    """
    document = read_toml(path)
    check_keys(document, {"schema", "defaults", "model", "price"}, f"{path}")
    defaults = _merge_defaults(path, inherited, document.get("defaults", {}))
    models: dict[str, Model] = {}
    for index, row in enumerate(rows_of(path, document, "model"), start=1):
        model = _parse_model(row, defaults, f"{path}: model row {index}", path)
        models.update({name: replace(model, name=name, family=name) for name in model.names})
    prices: dict[str, Price] = {}
    for index, row in enumerate(rows_of(path, document, "price"), start=1):
        where = f"{path}: price row {index}"
        check_keys(row, _PRICE_KEYS, where)
        names = _names(row, where)
        price = Price(
            usd_per_1m_input=_decimal(row, "usd_per_1m_input", where),
            source=text_field(row, "source", where, default=str(path)),
            date=text_field(row, "date", where, default=""),
            checked=text_field(row, "checked", where, default=""),
        )
        prices.update({name: price for name in names})
    return models, prices, defaults


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML table file, decimals kept exact; TableError naming the file when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle, parse_float=Decimal)
    except OSError as error:
        raise TableError(f"{path}: cannot read table file: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise TableError(f"{path}: not valid TOML: {error}") from None


def _merge_defaults(path: Path, inherited: Mapping[str, Mapping[str, Any]], own: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(own, dict):
        raise TableError(f"{path}: [defaults] must be a table")
    check_keys(own, {"tile", "patch"}, f"{path}: [defaults]")
    merged = {}
    for scheme in ("tile", "patch"):
        section = own.get(scheme, {})
        if not isinstance(section, dict):
            raise TableError(f"{path}: [defaults.{scheme}] must be a table")
        merged[scheme] = {**inherited.get(scheme, {}), **section}
    return merged


def rows_of(path: Path, document: dict, key: str) -> list[dict]:
    """The [[key]] rows of a table document."""
    rows = document.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise TableError(f"{path}: '{key}' must be an array of tables, written [[{key}]]")
    return rows


def _parse_model(row: dict, defaults: dict, where: str, path: Path) -> Model:
    scheme = row.get("scheme")
    if scheme not in ("tile", "patch"):
        raise TableError(f"{where}: scheme must be \"tile\" or \"patch\", not {scheme!r}")
    check_keys(row, _ROW_KEYS | (_TILE_KEYS if scheme == "tile" else _PATCH_KEYS), where)
    names = _names(row, where)
    where = f"{where} ({names[0]})"
    settings = {**defaults[scheme], **row}
    if scheme == "tile":
        base = _integer(settings, "base", where, low=0)
        high = TileRule(
            base=base,
            tile=_integer(settings, "tile", where, low=0),
            fit=_integer(settings, "fit", where),
            short_side=_integer(settings, "short_side", where),
            tile_size=_integer(settings, "tile_size", where),
        )
        rules: tuple[tuple[str, Rule], ...] = (
            ("low", FixedRule(tokens=base, fit=_integer(settings, "low_fit", where))),
            ("high", high),
        )
        auto, multiplier = "high", None
    else:
        multiplier = _decimal(settings, "multiplier", where)
        exact = Fraction(multiplier)
        if exact.numerator > MAX_LIMIT or exact.denominator > MAX_LIMIT:
            raise TableError(f"{where}: multiplier {multiplier} has too many digits")
        patch_size = _integer(settings, "patch_size", where)
        max_patches = _integer(settings, "max_patches", where)
        rules = tuple(
            (level, _patch_rule(settings[level], patch_size, max_patches, exact, f"{where}: {level}"))
            for level in ("low", "high", "original")
            if level in settings
        )
        if not rules:
            raise TableError(f"{where}: a patch row needs at least one of low, high, original")
        auto = settings.get("auto")
        if auto not in {level for level, _ in rules}:
            raise TableError(f"{where}: auto must name one of its detail levels, not {auto!r}")
    return Model(
        name=names[0],
        family=names[0],
        names=names,
        scheme=scheme,
        auto=auto,
        rules=rules,
        multiplier=multiplier,
        source=text_field(row, "source", where, default=str(path)),
        date=text_field(row, "date", where, default=""),
        checked=text_field(row, "checked", where, default=""),
    )


def _patch_rule(spec: Any, patch_size: int, max_patches: int, multiplier: Fraction, where: str) -> PatchRule:
    if not isinstance(spec, dict):
        raise TableError(f"{where}: must be an inline table like {{ max_dimension = 2048, patch_budget = 1536 }}")
    check_keys(spec, _PATCH_DETAIL_KEYS, where)
    budget = _integer(spec, "patch_budget", where) if "patch_budget" in spec else None
    return PatchRule(
        max_dimension=_integer(spec, "max_dimension", where),
        patch_budget=budget,
        patch_size=patch_size,
        max_patches=max_patches,
        multiplier=multiplier,
    )


def check_keys(row: dict, allowed: set[str], where: str) -> None:
    """TableError naming any key of `row` not in `allowed` (typos are caught, not ignored)."""
    unknown = sorted(set(row) - allowed)
    if unknown:
        raise TableError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _names(row: dict, where: str) -> tuple[str, ...]:
    names = row.get("names", row.get("name"))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise TableError(f"{where}: needs names = [\"model-name\", ...]")
    return tuple(n.strip().lower() for n in names)


def _integer(row: dict, key: str, where: str, *, low: int = 1) -> int:
    value = row.get(key)
    if value is None:
        raise TableError(f"{where}: missing {key}")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_LIMIT:
        raise TableError(f"{where}: {key} must be a whole number from {low} to {MAX_LIMIT}, not {value!r}")
    return value


def _decimal(row: dict, key: str, where: str) -> Decimal:
    value = row.get(key)
    if value is None:
        raise TableError(f"{where}: missing {key}")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or not value > 0:
        raise TableError(f"{where}: {key} must be a positive number, not {value!r}")
    return Decimal(value)


def text_field(row: dict, key: str, where: str, *, default: str) -> str:
    """A text field (a TOML date becomes its ISO text)."""
    value = row.get(key, default)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if not isinstance(value, str):
        raise TableError(f"{where}: {key} must be text, not {value!r}")
    return value


# ------------------------------------------------------------------ public lookups


def get_model(name: str, *, tables: Tables | None = None) -> Model:
    """The model called `name` (exact, then dated snapshot); UnknownModelError lists close matches."""
    return (tables or default_tables()).model(name)


def get_price(name: str | Model, *, tables: Tables | None = None) -> Price | None:
    """The dated price of a model, or None when it is unknown."""
    return (tables or default_tables()).price(name)


def list_models(*, tables: Tables | None = None) -> list[Model]:
    """Every model name in the table, in table order."""
    return (tables or default_tables()).models()
