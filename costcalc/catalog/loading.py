"""Reading and checking table files (tables/models/README.md): TOML with exact decimals, each row checked and
every mistake one TableError naming the file, the row and the key.

`load_file` parses one file into its models, prices, lifecycles, vendor defaults and dated
multiples; `Tables.with_files` (catalog/tables.py) layers the results.
"""

from __future__ import annotations

import datetime as _dt
import os
import stat
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from .. import schemes as _schemes
from ..errors import TableError
from ..records import replace
from ..schemes.fields import Row, check_keys
from ..schemes.fields import decimal as _decimal
from ..schemes.fields import integer as _integer
from ..words import file_kind
from .dates import Lifecycle, check_overlaps, check_window, parse_lifecycle
from .rows import (
    _ALIAS_KEYS,
    _CACHE_KEYS,
    _LONG_CONTEXT_KEYS,
    _PLACEHOLDERS,
    _PRICE_KEYS,
    _REGIONAL_KEYS,
    _ROW_KEYS,
    _TIER_KEYS,
    _TIER_ROW_KEYS,
    _VENDOR_LONG_KEYS,
    _VENDOR_TIER_KEYS,
    CACHE_KINDS,
    EVIDENCE,
    TIERS,
    Aliases,
    DatedMultiple,
    LongContext,
    Model,
    Price,
    TierPrice,
    TierRule,
    _Vendor,
)

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["load_file", "read_toml", "rows_of", "text_field", "check_alias_cycles", "names_of"]


def load_file(path: Path, inherited: Mapping[str, Mapping[str, Any]]):
    """Parse one table file: its models, its prices, the defaults in force after it, (vendor, its [aliases],
    its vendor defaults: [tiers] and [cache], docs/prices.md).

    A file's [defaults.<scheme>] lay over those it inherits and apply to its own
    rows and to files loaded after it. `vendor = "..."` names the vendor its
    rows and name rules belong to.
    """
    document = read_toml(path)
    check_keys(
        document,
        {
            "schema",
            "vendor",
            "aliases",
            "defaults",
            "model",
            "price",
            "tiers",
            "cache",
            "long_context",
            "lifecycle",
            "generated",
            "tier",
            "regional",
            "tier_aliases",
        },
        f"{path}",
    )
    defaults = _merge_defaults(path, inherited, document.get("defaults", {}))
    vendor = text_field(document, "vendor", f"{path}", default="")
    aliases = _parse_aliases(document["aliases"], f"{path}: [aliases]") if "aliases" in document else None
    models: dict[str, Model] = {}
    for index, row in enumerate(rows_of(path, document, "model"), start=1):
        model = _parse_model(row, defaults, f"{path}: model row {index}", path, vendor)
        models.update({name: replace(model, name=name, family=name) for name in model.names})
    lifecycles: dict[str, Lifecycle] = {}
    for index, row in enumerate(rows_of(path, document, "lifecycle"), start=1):
        names, lifecycle = parse_lifecycle(row, f"{path}: lifecycle row {index}", names_of, check_keys, text_field)
        for name in names:
            if name in lifecycles:
                raise TableError(f"{path}: lifecycle row {index}: {name!r} already has a lifecycle row in this file")
            lifecycles[name] = lifecycle
    terms = _load_vendor(document, path)
    multiples = {kind: _load_multiples(path, document, kind) for kind in ("tier", "regional") if kind in document}
    return models, _load_prices(path, document), defaults, (vendor, aliases, terms), lifecycles, multiples


def _load_multiples(path: Path, document: dict, kind: str) -> dict[str, tuple[DatedMultiple, ...]]:
    """A file's [[tier]] rows (names, tier, multiply, source, window) or [[regional]] rows (no tier), by name; the
    windows of one name (and tier) must not overlap."""
    found: dict[str, list[tuple[str, DatedMultiple]]] = {}
    for index, row in enumerate(rows_of(path, document, kind), start=1):
        where = f"{path}: {kind} row {index}"
        check_keys(row, _TIER_ROW_KEYS if kind == "tier" else _REGIONAL_KEYS, where)
        names = names_of(row, where)
        tier = text_field(row, "tier", where, default="") if kind == "tier" else "regional"
        if kind == "tier" and tier not in TIERS[1:]:
            raise TableError(f"{where}: tier must be one of {', '.join(TIERS[1:])}, not {tier!r}")
        if not row.get("source"):
            raise TableError(f"{where}: needs a source (the vendor's page)")
        start, end = check_window(row, where)
        multiple = DatedMultiple(
            tier,
            _decimal(row, "multiply", where),
            text_field(row, "source", where, default=""),
            text_field(row, "note", where, default=""),
            start,
            end,
        )
        for name in names:
            found.setdefault(name, []).append((f"{kind} row {index}", multiple))
    for name, rows in found.items():
        for tier in {row.tier for _, row in rows}:
            same = [(label, row.valid_from, row.valid_until) for label, row in rows if row.tier == tier]
            if len(same) > 1:
                check_overlaps(same, f"{path}: {name} ({tier})")
    return {name: tuple(row for _, row in rows) for name, rows in found.items()}


def _load_prices(path: Path, document: dict) -> dict[str, tuple[Price, ...]]:
    """A file's [[price]] rows by name, oldest window first; TableError when two rows of one name overlap."""
    rows: dict[str, list[tuple[str, Price]]] = {}
    for index, row in enumerate(rows_of(path, document, "price"), start=1):
        where = f"{path}: price row {index}"
        check_keys(row, _PRICE_KEYS, where)
        names = names_of(row, where)
        price = _parse_price(row, f"{where} ({names[0]})", path)
        for name in names:
            rows.setdefault(name, []).append((f"price row {index}", price))
    low = _dt.date.min
    for name, found in rows.items():
        if len(found) > 1:
            check_overlaps([(label, *price.window) for label, price in found], f"{path}: {name}")
            found.sort(key=lambda item: item[1].valid_from or low)
    return {name: tuple(price for _, price in found) for name, found in rows.items()}


def _parse_price(row: dict, where: str, path: Path) -> Price:
    """One [[price]] row, its window checked (valid_from / valid_until, inclusive ISO dates)."""
    start, end = check_window(row, where)
    confidence = text_field(row, "confidence", where, default="H")
    doubt = text_field(row, "doubt", where, default="")
    if confidence not in ("H", "M", "L"):
        raise TableError(f"{where}: confidence must be one of H, M, L, not {confidence!r}")
    if confidence == "L" and not doubt:
        raise TableError(f"{where}: a row of confidence L needs a doubt saying why it may be wrong")
    return Price(
        usd_per_1m_input=_decimal(row, "usd_per_1m_input", where),
        source=text_field(row, "source", where, default=str(path)),
        date=text_field(row, "date", where, default=start.isoformat() if start else ""),
        checked=text_field(row, "checked", where, default=""),
        cached_input=_optional_decimal(row, "cached_input", where),
        long_context=_long_context(row["long_context"], where) if "long_context" in row else None,
        tiers=_row_tiers(row["tiers"], f"{where}: tiers") if "tiers" in row else (),
        valid_from=start,
        valid_until=end,
        doubt=doubt,
    )


def _parse_aliases(spec: Any, where: str) -> Aliases:
    """[aliases] prefixes / suffixes / snapshots: lists of lower-case text (docs/README.md)."""
    if not isinstance(spec, dict):
        raise TableError(f"{where}: must be a table")
    check_keys(spec, _ALIAS_KEYS, where)
    lists: dict[str, Any] = {"names": _aliasnames_of(spec.get("names", {}), f"{where}: names")}
    for key in ("prefixes", "suffixes", "snapshots"):
        value = spec.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise TableError(f"{where}: {key} must be a list of text")
        lists[key] = tuple(value)
    for text in lists["prefixes"] + lists["suffixes"]:
        if text != text.lower():
            raise TableError(f"{where}: {text!r} must be lower case (names are compared in lower case)")
    for pattern in lists["snapshots"]:
        literal = "".join(c for c in pattern if c not in _PLACEHOLDERS)
        if literal != literal.lower() or len(literal) == len(pattern):
            raise TableError(f"{where}: snapshot {pattern!r} needs digit placeholders Y, M, D or N and lower-case text")
    return Aliases(**lists)


def _aliasnames_of(spec: Any, where: str) -> tuple[tuple[str, str], ...]:
    """[aliases] names = { "alias" = "row name", ... }: lower-case text both sides (docs/openai.md, docs/README.md)."""
    if not isinstance(spec, dict) or not all(isinstance(v, str) and v for v in spec.values()):
        raise TableError(f'{where}: must be an inline table like {{ "gpt-5.6" = "gpt-5.6-sol" }}')
    for text in (*spec, *spec.values()):
        if text != text.lower() or not text.strip():
            raise TableError(f"{where}: {text!r} must be lower-case text (names are compared in lower case)")
    check_alias_cycles(spec, where)
    return tuple(spec.items())


def check_alias_cycles(names: Mapping[str, str], where: str) -> None:
    """TableError naming the loop when aliases lead back to themselves (`a` → `b` → `a`, or `a` → `a`).

    An alias names another name of a row (docs/openai.md, docs/README.md); one that comes back to
    where it started names no row at all, and is a mistake in the table.
    """
    done: set[str] = set()
    for start in names:
        path: list[str] = []
        name = start
        while name in names and name not in done and name not in path:
            path.append(name)
            name = names[name]
        if name in path:
            loop = path[path.index(name) :] + [name]
            shown = (
                f"the alias {name!r} names itself"
                if len(loop) == 2
                else f"the aliases {' → '.join(loop)} go round in a circle"
            )
            raise TableError(f"{where}: {shown}; an alias must lead to a model row")
        done.update(path)


def _row_tiers(spec: Any, where: str) -> tuple[tuple[str, TierPrice], ...]:
    """A price row's own tiers (docs/prices.md): `tiers.batch = { usd_per_1m_input = 1.25, cached_input = ..., long_context
    = {...} }`; `usd_per_1m_input = "unknown"` (with a note) for a tier offered at an unpublished rate."""
    if not isinstance(spec, dict):
        raise TableError(f"{where}: must be a table of tiers, like tiers.batch = {{ usd_per_1m_input = 1.25 }}")
    check_keys(spec, set(TIERS) - {"standard"}, where)
    found = {}
    for name, rates in spec.items():
        at = f"{where}.{name}"
        if not isinstance(rates, dict):
            raise TableError(f"{at}: must be an inline table like {{ usd_per_1m_input = 1.25 }}")
        check_keys(rates, _TIER_KEYS, at)
        note = text_field(rates, "note", at, default="")
        start, end = check_window(rates, at)
        if rates.get("usd_per_1m_input") == "unknown":
            if not note:
                raise TableError(f"{at}: an unknown rate needs a note saying why")
            found[name] = TierPrice(
                None, source=text_field(rates, "source", at, default=""), note=note, valid_from=start, valid_until=end
            )
            continue
        found[name] = TierPrice(
            usd_per_1m_input=_decimal(rates, "usd_per_1m_input", at),
            cached_input=_optional_decimal(rates, "cached_input", at),
            long_context=_long_context(rates["long_context"], at) if "long_context" in rates else None,
            source=text_field(rates, "source", at, default=""),
            note=note,
            valid_from=start,
            valid_until=end,
        )
    return tuple((name, found[name]) for name in TIERS if name in found)


def _load_vendor(document: dict, path: Path) -> _Vendor | None:
    """A price file's vendor defaults (docs/prices.md), or None: [tiers.<tier>] with `multiply` (or `unknown` = why) and
    `source`; [cache] read / write / write_1h as multiples of the input rate, and `source`; [long_context]
    `above`, `multiply` and `source`, for the rows that carry no long-context rates of their own."""
    if not {"tiers", "cache", "long_context", "tier_aliases"} & set(document):
        return None
    tiers: dict[str, TierRule] = {}
    spec = document.get("tiers", {})
    if not isinstance(spec, dict):
        raise TableError(f"{path}: [tiers] must be a table of tiers")
    check_keys(spec, set(TIERS) - {"standard"}, f"{path}: [tiers]")
    for name, rule in spec.items():
        where = f"{path}: [tiers.{name}]"
        if not isinstance(rule, dict):
            raise TableError(f"{where}: must be a table with multiply (or unknown) and source")
        check_keys(rule, _VENDOR_TIER_KEYS, where)
        source = text_field(rule, "source", where, default="")
        if ("multiply" in rule) == ("unknown" in rule):
            raise TableError(f"{where}: give either multiply (a number) or unknown (why the rate is not known)")
        if "unknown" in rule:
            tiers[name] = TierRule(None, source, text_field(rule, "unknown", where, default=""))
        else:
            tiers[name] = TierRule(_decimal(rule, "multiply", where), source)
    cache = document.get("cache", {})
    if not isinstance(cache, dict):
        raise TableError(f"{path}: [cache] must be a table")
    check_keys(cache, _CACHE_KEYS, f"{path}: [cache]")
    multipliers = {kind: _decimal(cache, kind, f"{path}: [cache]") for kind in CACHE_KINDS if kind in cache}
    long = document.get("long_context")
    if long is not None:
        where = f"{path}: [long_context]"
        if not isinstance(long, dict):
            raise TableError(f"{where}: must be a table with above, multiply and source")
        check_keys(long, _VENDOR_LONG_KEYS, where)
        long = (_integer(long, "above", where), _decimal(long, "multiply", where))
    return _Vendor(tiers, multipliers, long, _tier_aliases(document.get("tier_aliases", {}), path))


def _tier_aliases(spec: Any, path: Path) -> dict[str, str]:
    """[tier_aliases]: word = "tier", another word the vendor accepts for one of its tiers (OpenAI: priority = "fast")."""
    where = f"{path}: [tier_aliases]"
    if not isinstance(spec, dict) or not all(isinstance(v, str) for v in spec.values()):
        raise TableError(f'{where}: must be a table like priority = "fast"')
    check_keys(spec, set(TIERS[1:]), where)
    for word, tier in spec.items():
        if tier not in TIERS[1:] or tier == word:
            raise TableError(f"{where}: {word} must name another tier ({', '.join(TIERS[1:])}), not {tier!r}")
    return dict(spec)


def _long_context(spec: Any, where: str) -> LongContext:
    where = f"{where}: long_context"
    if not isinstance(spec, dict):
        raise TableError(f"{where}: must be an inline table like {{ above = 272000, usd_per_1m_input = 5.00 }}")
    check_keys(spec, _LONG_CONTEXT_KEYS, where)
    start, end = check_window(spec, where)
    return LongContext(
        above=_integer(spec, "above", where),
        usd_per_1m_input=_decimal(spec, "usd_per_1m_input", where),
        cached_input=_optional_decimal(spec, "cached_input", where),
        valid_from=start,
        valid_until=end,
    )


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML table file, decimals kept exact; TableError naming the file when it cannot be read.

    Only a regular file is read: a named pipe, a device or a folder is refused
    at once (opened without waiting for a writer, then checked), never read
    forever (issue 9: bad input is one line, never a hang).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as handle:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise TableError(f"{path}: cannot read table file: {file_kind(mode)}, not a regular file")
            return tomllib.load(handle, parse_float=Decimal)
    except OSError as error:
        raise TableError(f"{path}: cannot read table file: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise TableError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:  # TOML is UTF-8 (toml.io, v1.0.0 "Spec")
        raise TableError(f"{path}: not valid TOML: not UTF-8 text (byte {error.start})") from None


def _merge_defaults(path: Path, inherited: Mapping[str, Mapping[str, Any]], own: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(own, dict):
        raise TableError(f"{path}: [defaults] must be a table")
    words = _schemes.words()
    check_keys(own, set(words), f"{path}: [defaults]")
    merged = {}
    for scheme in words:
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


def _parse_model(row: dict, defaults: dict, where: str, path: Path, vendor: str = "") -> Model:
    """One [[model]] row: the common keys here, the scheme's own settings by its registered parser."""
    scheme = row.get("scheme")
    words = _schemes.words()
    if scheme not in words:
        raise TableError(f"{where}: scheme must be one of {', '.join(words)}, not {scheme!r}")
    kind = _schemes.get(scheme)
    check_keys(row, _ROW_KEYS | kind.keys, where)
    names = names_of(row, where)
    where = f"{where} ({names[0]})"
    note = text_field(row, "note", where, default="")
    evidence = text_field(row, "evidence", where, default="")
    if evidence and evidence not in EVIDENCE:
        raise TableError(f"{where}: evidence must be one of {', '.join(map(repr, EVIDENCE))}, not {evidence!r}")
    parsed = kind.parse(Row({**defaults.get(scheme, {}), **row}, where, note))
    return Model(
        name=names[0],
        family=names[0],
        names=names,
        scheme=scheme,
        auto=parsed.auto,
        rules=parsed.rules,
        multiplier=parsed.multiplier,
        source=text_field(row, "source", where, default=str(path)),
        date=text_field(row, "date", where, default=""),
        checked=text_field(row, "checked", where, default=""),
        note=note,
        evidence=evidence,
        doubt=text_field(row, "doubt", where, default=""),
        vendor=vendor,
    )


def names_of(row: dict, where: str) -> tuple[str, ...]:
    names = row.get("names", row.get("name"))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise TableError(f'{where}: needs names = ["model-name", ...]')
    return tuple(n.strip().lower() for n in names)


def _optional_decimal(row: dict, key: str, where: str) -> Decimal | None:
    """`_decimal` of an optional key: None when the row does not give it."""
    return _decimal(row, key, where) if key in row else None


def text_field(row: dict, key: str, where: str, *, default: str) -> str:
    """A text field (a TOML date becomes its ISO text)."""
    value = row.get(key, default)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if not isinstance(value, str):
        raise TableError(f"{where}: {key} must be text, not {value!r}")
    return value
