"""The model and price tables: TOML data under `tables/`, loaded once, never mutated (SPEC §2).

The shipped model table is one file per vendor, tables/models/*.toml, loaded in
sorted order (SPEC §2, §6). Lookup is by exact name, then by the name rules each
vendor's file declares as data in its [aliases] (SPEC §6f): vendor and cloud
prefixes (`anthropic/`, `us.anthropic.`), suffixes (`-v1:0`, `-latest`) and
dated snapshots (`-YYYY-MM-DD`, `-YYYYMMDD`, `@YYYYMMDD`), each applied only to
that vendor's rows, and never over a name that has its own row. A user's own
table file layers over the shipped ones and yields a new `Tables`; nothing
global changes.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .. import schemes as _schemes
from ..errors import TableError, TierError, UnknownModelError, UnpublishedRuleError, UnsupportedDetailError
from ..money import MONEY
from ..schemes.base import Rule
from ..schemes.fields import MAX_LIMIT, Row, check_keys
from ..schemes.fields import decimal as _decimal
from ..schemes.fields import integer as _integer
from ..schemes.unknown import UnpublishedRule
from ..words import file_kind
from .dates import ACTIVE, Lifecycle, check_overlaps, check_window, in_window, parse_lifecycle, today

__all__ = [
    "Model",
    "Price",
    "LongContext",
    "TierPrice",
    "TierRule",
    "TIERS",
    "CACHE_KINDS",
    "Tables",
    "Aliases",
    "DETAILS",
    "SCHEMES",
    "MAX_LIMIT",
    "default_tables",
    "shipped_tables",
    "forget_data",
    "load_tables",
    "tables_dir",
    "price_files",
    "model_files",
    "get_model",
    "get_price",
    "list_models",
]

DETAILS = ("low", "medium", "high", "ultra_high", "original", "auto")
"""Every detail level a request can name (medium and ultra_high: Gemini's media resolutions, SPEC §6b)."""

SCHEMES = _schemes.words()
"""The `scheme` words of a model row, as registered in `costcalc.schemes.REGISTRY` when the tables were imported."""

_ROW_KEYS = {"names", "name", "scheme", "source", "date", "checked", "note", "evidence", "doubt"}
EVIDENCE = ("documented", "measured", "documented, measured")
"""What a row rests on (SPEC §2b): a vendor document, public measurements of API bills, or both."""
_ALIAS_KEYS = {"prefixes", "suffixes", "snapshots", "names"}
_PLACEHOLDERS = "YMDN"
"""In a snapshot pattern each of these stands for one digit (`-YYYY-MM-DD`); every other character is literal."""
_PRICE_KEYS = {"names", "name", "usd_per_1m_input", "cached_input", "long_context", "tiers", "source", "date",
               "checked", "valid_from", "valid_until", "doubt", "confidence", "note"}  # fmt: skip
_LONG_CONTEXT_KEYS = {"above", "usd_per_1m_input", "cached_input", "valid_from", "valid_until"}
OVERRIDES = "overrides.toml"
"""The hand-kept price file in tables/prices/, loaded after the generated ones (SPEC §7)."""

TIERS = ("standard", "batch", "flex", "priority", "fast", "ultrafast")
"""The service tiers a price can be asked for (docs/prices.md): standard, and the ones a vendor or row offers.
OpenAI calls its Priority tier Fast (a vendor file's [tier_aliases] maps `priority` to `fast`) and adds Ultrafast."""
CACHE_KINDS = ("read", "write", "write_1h")
"""Cached input (SPEC §7): a cache read, a cache write (Anthropic: 5-minute), a 1-hour cache write."""
_TIER_KEYS = {"usd_per_1m_input", "cached_input", "long_context", "source", "note", "valid_from", "valid_until"}
_VENDOR_TIER_KEYS = {"multiply", "unknown", "source"}
_CACHE_KEYS = {*CACHE_KINDS, "source"}
_VENDOR_LONG_KEYS = {"above", "multiply", "source"}
_TIER_ROW_KEYS = {"names", "name", "tier", "multiply", "source", "note", "valid_from", "valid_until"}
_REGIONAL_KEYS = {"names", "name", "multiply", "source", "note", "valid_from", "valid_until"}


@dataclass(frozen=True)
class Model:
    """One row of the model table, as looked up by one of its names."""

    name: str
    """The name it goes by: the row's own for any spelling of it (`openai/gpt-4o`, `claude-3-5-sonnet-latest`,
    `gpt-5.6`); a dated snapshot keeps its date, without prefixes or suffixes (`gpt-4o-2024-08-06`)."""
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
    provider: str = ""
    """The vendor file the row comes from (`anthropic`, `google`, ...); its name rules apply to the row."""
    note: str = ""
    """What a reader of the row should know (a doubt, an unpublished rule)."""
    evidence: str = ""
    """What the row rests on (SPEC §2b): documented, measured, or both (EVIDENCE); '' when the row does not say."""
    doubt: str = ""
    """Why its figure may be wrong: the documented rule contradicted or unverified by measurement (SPEC §2a, §2b)."""
    lifecycle: Lifecycle = ACTIVE
    """Released, deprecated, shutdown and replacement, where a [[lifecycle]] row gives them (docs/lifecycle.md)."""

    @property
    def tokens_unknown(self) -> bool:
        """True for a patch row whose multiplier nobody published: sizes and patches known, tokens not (SPEC §2a)."""
        return self.scheme == "patch" and self.multiplier is None

    @property
    def details(self) -> tuple[str, ...]:
        """The detail levels this model accepts, `auto` last."""
        return tuple(level for level, _ in self.rules if level != "auto") + ("auto",)

    @property
    def bases(self) -> tuple[str, ...]:
        """How sure its figures are, per detail level in order, without repeats (SPEC §6): exact, maximum, ..."""
        return tuple(dict.fromkeys(rule.basis for _, rule in self.rules))

    def rule(self, detail: str) -> tuple[str, Rule]:
        """The detail level `detail` applies (auto resolved) and its rule.

        UnsupportedDetailError for a level the model lacks; UnpublishedRuleError
        for a level (or model) whose rule nobody published (SPEC §2b, §6).
        """
        applied = self.auto if detail == "auto" else detail
        for level, rule in self.rules:
            if level == applied:
                if isinstance(rule, UnpublishedRule):
                    raise UnpublishedRuleError(self.name, detail, rule.note, self.provider)
                return level, rule
        raise UnsupportedDetailError(self.name, detail, self.details)


@dataclass(frozen=True)
class Aliases:
    """One vendor's name rules, as data (SPEC §6f): prefixes, suffixes and snapshot patterns to strip."""

    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = ()
    """Patterns like `-YYYYMMDD`: Y, M, D, N one digit each, the rest literal."""
    names: tuple[tuple[str, str], ...] = ()
    """(alias, row name) pairs: a name the vendor uses for another (`gpt-5.6` is `gpt-5.6-sol`, SPEC §2a)."""

    def __or__(self, other: Aliases) -> Aliases:
        """Both sets of rules, in order, without repeats (a later file's alias of a name wins)."""
        lists = (tuple(dict.fromkeys(a + b)) for a, b in zip(
            (self.prefixes, self.suffixes, self.snapshots), (other.prefixes, other.suffixes, other.snapshots)))
        return Aliases(*lists, tuple({**dict(self.names), **dict(other.names)}.items()))

    def forms(self, name: str) -> tuple[list[str], list[tuple[str, str]]]:
        """The names `name` may stand for, nearest first: (undated forms, then (form with a snapshot removed,
        the dated form it was removed from)).

        Prefixes are stripped repeatedly (`bedrock/us.anthropic.…`), then at most one
        suffix, then at most one snapshot.
        """
        stems, queue = [], [name]
        while queue:
            stem = queue.pop(0)
            if stem in stems:
                continue
            stems.append(stem)
            queue += [stem[len(p):] for p in self.prefixes if stem.startswith(p) and len(stem) > len(p)]
        undated = []
        for stem in stems:
            undated += [stem] + [stem[: -len(x)] for x in self.suffixes if stem.endswith(x) and len(stem) > len(x)]
        named = dict(self.names)
        undated = list(dict.fromkeys(form for stem in undated for form in (stem, named.get(stem)) if form))
        dated = [(m[1], form) for form in undated for pattern in _snapshot_patterns(self.snapshots)
                 if (m := pattern.fullmatch(form))]  # fmt: skip
        return undated, dated


@cache
def _snapshot_patterns(snapshots: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(
        re.compile("(.+)" + "".join(r"\d" if c in _PLACEHOLDERS else re.escape(c) for c in pattern))
        for pattern in snapshots
    )


@dataclass(frozen=True)
class LongContext:
    """The rates of the whole request once its input exceeds `above` tokens (SPEC §7 long context; Price.rate)."""

    above: int
    usd_per_1m_input: Decimal | None
    """None: the tier publishes no rate above `above` while standard has a long-context rule (unknown, Price.rates)."""
    cached_input: Decimal | None = None
    valid_from: _dt.date | None = None
    """The first day these rates hold (inclusive); None: from any day the row holds."""
    valid_until: _dt.date | None = None
    """The last day these rates hold (inclusive); None: until any day the row holds."""


@dataclass(frozen=True)
class TierPrice:
    """One service tier's rates for a price row (SPEC §7); `usd_per_1m_input` None: offered, its rate unpublished."""

    usd_per_1m_input: Decimal | None
    cached_input: Decimal | None = None
    """USD per 1M cache-read input tokens in this tier, where known."""
    long_context: LongContext | None = None
    """This tier's long-context rates, where it has them."""
    source: str = ""
    note: str = ""
    """Why the rate is unknown (e.g. Gemini Priority: 75–100% over standard, by model)."""
    valid_from: _dt.date | None = None
    """The first day this tier's rates hold (inclusive); None: from any day the row holds."""
    valid_until: _dt.date | None = None
    """The last day this tier's rates hold (inclusive); None: until any day the row holds."""


@dataclass(frozen=True)
class TierRule:
    """A vendor's default for one tier (SPEC §7): its rates are the standard ones times `multiply`, or unknown."""

    multiply: Decimal | None
    """None: the vendor offers the tier but no rate for it is known (`note` says why)."""
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class Price:
    """A dated price: USD per 1M input tokens, with its source, service tiers and cached-input rates (SPEC §7)."""

    usd_per_1m_input: Decimal
    source: str
    date: str
    checked: str
    cached_input: Decimal | None = None
    """USD per 1M cache-read input tokens, where the source gives one (SPEC §7)."""
    long_context: LongContext | None = None
    """The long-context rates, where the source gives them (SPEC §7): the whole request above `above` tokens."""
    tiers: tuple[tuple[str, TierPrice], ...] = ()
    """Tiers besides standard: the row's own (genai-prices variants), then its vendor's defaults, in TIERS order."""
    cache: tuple[tuple[str, Decimal], ...] = ()
    """The vendor's cached-input rates as multiples of the input rate (CACHE_KINDS; a row's cached_input wins)."""
    model: str = field(default="", compare=False)
    """The model name the price was looked up for (for messages); '' for a bare row. Not part of equality."""
    valid_from: _dt.date | None = None
    """The first day this price holds (inclusive, UTC); None: since any day."""
    valid_until: _dt.date | None = None
    """The last day this price holds (inclusive, UTC); None: until further notice."""
    doubt: str = ""
    """Why the figure may be wrong (a weak or conflicting source); shown with every estimate priced from it."""
    aliases: tuple[tuple[str, str], ...] = ()
    """(word, tier) pairs: another word its vendor accepts for a tier (OpenAI: `priority` is `fast`)."""

    @property
    def window(self) -> tuple[_dt.date | None, _dt.date | None]:
        """(valid_from, valid_until) of this price."""
        return self.valid_from, self.valid_until

    def on(self, day: _dt.date) -> Price:
        """This price as it stands on `day`: a tier or long-context rate whose own window does not hold it left out."""
        tiers = tuple((name, _tier_on(rates, day)) for name, rates in self.tiers
                      if in_window(rates.valid_from, rates.valid_until, day))  # fmt: skip
        long = self.long_context
        if long is not None and not in_window(long.valid_from, long.valid_until, day):
            long = None
        if tiers == self.tiers and long is self.long_context:
            return self
        return replace(self, tiers=tiers, long_context=long)

    @property
    def offered(self) -> tuple[str, ...]:
        """The tiers this price can be asked for, standard first."""
        return ("standard", *(name for name, _ in self.tiers))

    def rates(self, tier: str = "standard") -> TierPrice:
        """One tier's rates; TierError naming the tiers offered when this price has no such tier."""
        tier = dict(self.aliases).get(tier, tier)
        if tier == "standard":
            return TierPrice(self.usd_per_1m_input, self.cached_input, self.long_context, self.source)
        for name, rates in self.tiers:
            if name == tier:
                if rates.long_context is None and self.long_context is not None and rates.usd_per_1m_input is not None:
                    # SPEC §7: standard bills more above the threshold; a tier row silent on it does not say its
                    # base rate holds there, so above the threshold its rate is unknown, never the base rate.
                    above = self.long_context.above
                    note = (f"tier {tier} publishes no long-context rate: above {above:,} input tokens "
                            f"its USD is unknown")  # fmt: skip
                    return replace(rates, long_context=LongContext(above, None), note=rates.note or note)
                return rates
        raise TierError(self.model or "this price", tier, self.offered)

    def rate(self, *, tier: str = "standard", input_tokens: int | None = None,
             cached: bool | str = False) -> Decimal | None:  # fmt: skip
        """USD per 1M tokens as billed: the tier's rate, its long-context rate once `input_tokens` (the whole
        request's input) exceeds the threshold (SPEC §7: strictly above it), and the cached-input rate when
        `cached` (True or "read"; "write", "write_1h": cache writes). None when the tier's rate is unpublished."""
        rates = self.rates(tier)
        kind = _cache_kind(cached, self.model)
        if rates.usd_per_1m_input is None:
            return None
        long = rates.long_context
        above = long is not None and input_tokens is not None and input_tokens > long.above
        base = long.usd_per_1m_input if above else rates.usd_per_1m_input
        if base is None:  # above the threshold of a tier without long-context rates (Price.rates)
            return None
        if kind is None:
            return base
        multipliers = dict(self.cache)
        own = (long.cached_input if above else rates.cached_input) if kind == "read" else None
        if own is not None:
            return own
        if kind in multipliers:
            with localcontext(MONEY):
                return base * multipliers[kind]
        kinds = [k for k in CACHE_KINDS if k in multipliers or (k == "read" and rates.cached_input is not None)]
        what = "long-context cached-input rate" if kind == "read" and above else "cached-input rate"
        raise TierError(self.model or "this price", kind, tuple(kinds), what=f"{what} (tier {tier})")

    def usd(self, tokens: int, *, tier: str = "standard", input_tokens: int | None = None,
            cached: bool | str = False) -> Decimal | None:  # fmt: skip
        """The exact price of `tokens` input tokens, whatever the caller's decimal context (issue 9).

        `tier` (SPEC §7) picks the tier's rates; `input_tokens` is the whole request's input (default:
        `tokens`, a request of these tokens alone): above the long-context threshold the whole request is
        priced at the higher rate; `cached` prices the tokens as cache reads (True, "read") or writes
        ("write", "write_1h"). TierError for a tier or cache kind the price lacks; None when the tier's rate
        is unpublished.
        """
        rate = self.rate(tier=tier, input_tokens=tokens if input_tokens is None else input_tokens, cached=cached)
        if rate is None:
            return None
        with localcontext(MONEY):
            return rate * tokens / 1_000_000


def _tier_on(rates: TierPrice, day: _dt.date) -> TierPrice:
    """A tier's rates on `day`: its long-context rate left out outside that rate's own window."""
    long = rates.long_context
    if long is None or in_window(long.valid_from, long.valid_until, day):
        return rates
    return replace(rates, long_context=None)


def _cache_kind(cached: bool | str, model: str) -> str | None:
    """`cached` as one of CACHE_KINDS (True is a read), or None for uncached; TierError for anything else."""
    if cached is False or cached is None:
        return None
    if cached is True:
        return "read"
    if isinstance(cached, str) and cached in CACHE_KINDS:
        return cached
    raise TierError(model or "this price", cached, CACHE_KINDS, what="cached-input kind")


def check_tier(tier: object) -> str:
    """`tier` when it is one of TIERS (SPEC §7); TierError naming them otherwise (any model's own: Tables.check_tier)."""
    if isinstance(tier, str) and tier in TIERS:
        return tier
    raise TierError("costcalc", tier, TIERS)


@dataclass(frozen=True)
class _Vendor:
    """One vendor's defaults from its price file (SPEC §7): tiers offered, cached-input multipliers."""

    tiers: Mapping[str, TierRule]
    cache: Mapping[str, Decimal]
    long_context: tuple[int, Decimal] | None = None
    """(above, multiply): the long-context rule of a vendor whose rows carry none (xAI: 200K, SPEC §7)."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    """[tier_aliases]: word -> tier, another word the vendor accepts for a tier (OpenAI: priority -> fast)."""

    def __or__(self, other: _Vendor) -> _Vendor:
        """These defaults with `other`'s over them, tier by tier and kind by kind."""
        return _Vendor({**self.tiers, **other.tiers}, {**self.cache, **other.cache},
                       other.long_context or self.long_context, {**self.aliases, **other.aliases})  # fmt: skip

    def apply(self, price: Price, model: str) -> Price:
        """`price` with the vendor's default long-context rule (where the row has none), default tiers (where
        the row has none of its own) and cache multipliers."""
        if price.long_context is None and self.long_context is not None:
            above, m = self.long_context
            rates = _times(m, price.usd_per_1m_input, price.cached_input)
            price = replace(price, long_context=LongContext(above, *rates))
        own = {self.aliases.get(name, name): rates for name, rates in price.tiers}  # a hand-kept tiers.priority
        for name, rule in self.tiers.items():
            if name not in own:
                own[name] = _scaled(price, rule)
        tiers = tuple((name, own[name]) for name in TIERS if name in own)
        cache = tuple((kind, self.cache[kind]) for kind in CACHE_KINDS if kind in self.cache)
        return replace(price, tiers=tiers, cache=cache, model=model, aliases=tuple(self.aliases.items()))


_NO_VENDOR = _Vendor({}, {})


@dataclass(frozen=True)
class DatedMultiple:
    """A [[tier]] or [[regional]] row of a price file: a model's rates times `multiply` in a window (docs/prices.md).

    [[tier]] adds (or replaces) one tier as the standard rates times `multiply` (OpenAI Ultrafast: 3x until
    2027-02-28, then 6x); [[regional]] is what regional processing costs over the rates of every tier."""

    tier: str
    multiply: Decimal
    source: str
    note: str = ""
    valid_from: _dt.date | None = None
    valid_until: _dt.date | None = None


def _dated_rows(rows: tuple[DatedMultiple, ...], day: _dt.date) -> list[DatedMultiple]:
    return [row for row in rows if in_window(row.valid_from, row.valid_until, day)]


def _with_tier_rows(price: Price, rows: tuple[DatedMultiple, ...], day: _dt.date) -> Price:
    """`price` with its [[tier]] rows in force on `day` as tiers (standard rates times the row's multiple)."""
    own = dict(price.tiers)
    for row in _dated_rows(rows, day):
        own[row.tier] = _scaled(price, TierRule(row.multiply, row.source, row.note))
    return replace(price, tiers=tuple((name, own[name]) for name in TIERS if name in own))


def _regional(price: Price, rows: tuple[DatedMultiple, ...], day: _dt.date) -> Price | None:
    """`price` under regional processing: every rate times its [[regional]] multiple on `day`; None when no row
    documents one (unknown, never the global price)."""
    found = _dated_rows(rows, day)
    if not found:
        return None
    m = found[0].multiply
    long = price.long_context
    if long is not None:
        long = replace(long, usd_per_1m_input=_times(m, long.usd_per_1m_input)[0],
                       cached_input=_times(m, long.cached_input)[0])  # fmt: skip
    tiers = tuple((name, _regional_tier(rates, m)) for name, rates in price.tiers)
    base, cached = _times(m, price.usd_per_1m_input, price.cached_input)
    return replace(price, usd_per_1m_input=base, cached_input=cached, long_context=long, tiers=tiers,
                   source=f"{price.source}; regional processing x{m}: {found[0].source}")  # fmt: skip


def _regional_tier(rates: TierPrice, m: Decimal) -> TierPrice:
    long = rates.long_context
    if long is not None:
        long = replace(long, usd_per_1m_input=_times(m, long.usd_per_1m_input)[0],
                       cached_input=_times(m, long.cached_input)[0])  # fmt: skip
    base, cached = _times(m, rates.usd_per_1m_input, rates.cached_input)
    return replace(rates, usd_per_1m_input=base, cached_input=cached, long_context=long)


def _scaled(price: Price, rule: TierRule) -> TierPrice:
    """A default tier's rates: the row's standard rates times the vendor's multiple, exactly (or unknown)."""
    if rule.multiply is None:
        return TierPrice(None, source=rule.source, note=rule.note)
    m, long = rule.multiply, price.long_context
    if long is not None:
        long = LongContext(long.above, *_times(m, long.usd_per_1m_input, long.cached_input))
    return TierPrice(*_times(m, price.usd_per_1m_input, price.cached_input), long, rule.source)


def _times(m: Decimal, *rates: Decimal | None) -> tuple[Decimal | None, ...]:
    """Each rate times `m`, exactly in budget.MONEY (an unknown rate stays None)."""
    with localcontext(MONEY):
        return tuple(None if rate is None else rate * m for rate in rates)


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
        self._models = MappingProxyType({name: replace(model, lifecycle=lifecycles[name]) if name in lifecycles
                                         else model for name, model in models.items()})  # fmt: skip
        self._vendors = MappingProxyType(dict(vendors or {}))
        self._prices = MappingProxyType({name: (rows,) if isinstance(rows, Price) else tuple(rows)
                                         for name, rows in prices.items()})  # fmt: skip
        self._defaults = MappingProxyType({k: MappingProxyType(dict(v)) for k, v in (defaults or {}).items()})
        self._aliases = MappingProxyType(dict(aliases or {}))
        self._lifecycles = MappingProxyType(lifecycles)
        self._as_of = as_of
        self._multiples = MappingProxyType({kind: MappingProxyType(dict(rows)) for kind, rows in
                                            (multiples or {}).items()})  # fmt: skip
        self._regional_view = False
        self.files = files
        self._priced: dict[tuple, Price | None] = {}  # Tables.price, per (name, family, provider, day)

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
        vendor = self._vendors.get(found.provider, _NO_VENDOR)
        for name in self._price_names(found):
            rows = self._prices.get(name)
            if rows:
                return tuple(vendor.apply(row, found.name) for row in rows)
        return ()

    def _forms(self, wanted: str, only: str | None = None) -> list[tuple[str, str, str]]:
        """(name, vendor, shown) triples `wanted` may stand for under each vendor's name rules (or `only` one's),
        nearest first; `shown` is the name a model found so is called: the row's own for an undated form
        (`openai/gpt-4o` is gpt-4o), the dated form for a snapshot (`openai/gpt-4o-2024-08-06` is
        gpt-4o-2024-08-06), without prefixes or suffixes (SPEC §6f)."""
        undated, dated = [], []
        for provider, aliases in self._aliases.items():
            if only is None or provider == only:
                near, far = aliases.forms(wanted)
                undated += [(name, provider, name) for name in near[1:]]
                dated += [(name, provider, form) for name, form in far]
        return undated + dated

    def _aliased(self, wanted: str) -> list[tuple[str, str]]:
        """(row name, shown name) pairs `wanted` stands for under the vendors' name rules, nearest first
        (undated before dated)."""
        return [(name, shown) for name, provider, shown in self._forms(wanted)
                if name in self._models and self._models[name].provider == provider]  # fmt: skip

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
        with its service tiers and cached-input rates (the row's own over its vendor's defaults, SPEC §7)."""
        found = self.model(model)
        day = self.as_of
        key = (found.name, found.family, found.provider, day)
        if key not in self._priced:  # asked twice per image priced (check_tier, then price): work it out once
            self._priced[key] = self._find_price(found, day)
        return self._priced[key]

    def _price_names(self, found: Model) -> tuple[str, ...]:
        """The names whose price rows may price `found`, nearest first: its own, the names it stands for, its family."""
        return (found.name, *(name for name, *_ in self._forms(found.name, found.provider)), found.family)

    def _find_price(self, found: Model, day: _dt.date) -> Price | None:
        """The price in force on `day`; None when the nearest name with rows has none that day (never a neighbour's)."""
        for name in self._price_names(found):
            rows = self._prices.get(name)
            if rows:
                price = next((row for row in rows if in_window(row.valid_from, row.valid_until, day)), None)
                if price is None:
                    return None
                price = self._vendors.get(found.provider, _NO_VENDOR).apply(price.on(day), found.name)
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
        """The service tiers `model` can be priced at (SPEC §7), standard first: its price's, or (price unknown)
        its vendor's defaults."""
        price = self.price(model)
        if price is not None:
            return price.offered
        vendor = self._vendors.get(self.model(model).provider, _NO_VENDOR)
        return tuple(name for name in TIERS if name == "standard" or name in vendor.tiers)

    def check_tier(self, model: str | Model, tier: object) -> str:
        """`tier` when `model` offers it; TierError naming the tiers it has otherwise (SPEC §7)."""
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
        """A new `Tables`: these files' rows over this one's (a name in a file replaces its old row)."""
        models, prices, lifecycles = dict(self._models), dict(self._prices), dict(self._lifecycles)
        files, defaults, aliases, vendors = self.files, self._defaults, dict(self._aliases), dict(self._vendors)
        multiples = {kind: dict(rows) for kind, rows in self._multiples.items()}
        for path in paths:
            file_models, file_prices, defaults, (provider, file_aliases, vendor), file_lifecycles, file_multiples = (
                _load_file(Path(path), defaults))
            lifecycles.update(file_lifecycles)
            for kind, rows in file_multiples.items():
                multiples.setdefault(kind, {}).update(rows)
            if vendor is not None:
                vendors[provider] = vendors.get(provider, _NO_VENDOR) | vendor
            for name, model in file_models.items():
                if not model.provider and name in models:  # a row of your own keeps its vendor's name rules
                    file_models[name] = replace(model, provider=models[name].provider)
            models.update(file_models)
            prices.update(file_prices)
            if file_aliases is not None:
                aliases[provider] = aliases.get(provider, Aliases()) | file_aliases
                _check_alias_cycles(dict(aliases[provider].names), f"{path}: [aliases]: names")  # across files too
            files += (Path(path),)
        tables = Tables(models, prices, files, defaults, aliases, vendors, lifecycles, self._as_of, multiples)
        return tables.in_region(self._regional_view)


@cache  # asked once per request priced (load_limits): resolving the path was a third of a small request's time
def tables_dir() -> Path:
    """Where the shipped tables are: inside the installed package, else the source checkout."""
    here = Path(__file__).resolve().parent.parent  # the costcalc package
    for candidate in (here / "tables", here.parent / "tables"):
        if (candidate / "models").is_dir():
            return candidate
    raise TableError(f"costcalc's own tables are missing (looked in {here / 'tables'}); reinstall costcalc")


@cache
def shipped_tables() -> Tables:
    """The shipped tables alone, read on first use and kept."""
    folder = tables_dir()
    return Tables({}, {}).with_files(*model_files(folder), *price_files(folder), *lifecycle_files(folder))


def default_tables() -> Tables:
    """The tables every lookup reads: the shipped ones with the user's data folder over them (`costcalc tables
    update` prices, `probe --write` rows; catalog/userdata.py), read on first use and kept per folder."""
    from .userdata import data_dir

    return _layered(str(data_dir()))


@cache
def _layered(folder: str) -> Tables:
    from .userdata import data_files, stale_prices

    files = data_files(Path(folder))
    if stale_prices(Path(folder), shipped_tables().checked):  # a newer costcalc ships newer prices than the update
        files = [path for path in files if path.parent.name != "prices"]
    return shipped_tables().with_files(*files) if files else shipped_tables()


def forget_data() -> None:
    """Read the data folder again at the next lookup (after `tables update` or `probe --write` changed it)."""
    _layered.cache_clear()


def model_files(folder: Path) -> list[Path]:
    """The shipped model files: tables/models/*.toml, one per vendor, in sorted order (SPEC §2, §6)."""
    return sorted((folder / "models").glob("*.toml"))


def lifecycle_files(folder: Path) -> list[Path]:
    """The shipped lifecycle file, tables/lifecycle.toml (docs/lifecycle.md), when there is one."""
    path = folder / "lifecycle.toml"
    return [path] if path.is_file() else []


def price_files(folder: Path) -> list[Path]:
    """The shipped price files: tables/prices/*.toml sorted, the hand-kept overrides last (SPEC §7)."""
    files = sorted((folder / "prices").glob("*.toml"))
    return sorted(files, key=lambda path: path.name == OVERRIDES)


def load_tables(*paths: str | os.PathLike[str], base: Tables | None = None) -> Tables:
    """The shipped tables (or `base`) with the rows of these files of your own over them."""
    return (base or default_tables()).with_files(*paths)


# ------------------------------------------------------------------ parsing


def _load_file(path: Path, inherited: Mapping[str, Mapping[str, Any]]):
    """Parse one table file: its models, its prices, the defaults in force after it, (provider, its [aliases],
    its vendor defaults: [tiers] and [cache], SPEC §7).

    A file's [defaults.<scheme>] lay over those it inherits and apply to its own
    rows and to files loaded after it. `provider = "..."` names the vendor its
    rows and name rules belong to.
    """
    document = read_toml(path)
    check_keys(document, {"schema", "provider", "aliases", "defaults", "model", "price", "tiers", "cache", "long_context",
                          "lifecycle", "generated", "tier", "regional", "tier_aliases"}, f"{path}")  # fmt: skip
    defaults = _merge_defaults(path, inherited, document.get("defaults", {}))
    provider = text_field(document, "provider", f"{path}", default="")
    aliases = _parse_aliases(document["aliases"], f"{path}: [aliases]") if "aliases" in document else None
    models: dict[str, Model] = {}
    for index, row in enumerate(rows_of(path, document, "model"), start=1):
        model = _parse_model(row, defaults, f"{path}: model row {index}", path, provider)
        models.update({name: replace(model, name=name, family=name) for name in model.names})
    lifecycles: dict[str, Lifecycle] = {}
    for index, row in enumerate(rows_of(path, document, "lifecycle"), start=1):
        names, lifecycle = parse_lifecycle(row, f"{path}: lifecycle row {index}", _names, check_keys, text_field)
        for name in names:
            if name in lifecycles:
                raise TableError(f"{path}: lifecycle row {index}: {name!r} already has a lifecycle row in this file")
            lifecycles[name] = lifecycle
    vendor = _load_vendor(document, path)
    multiples = {kind: _load_multiples(path, document, kind) for kind in ("tier", "regional") if kind in document}
    return models, _load_prices(path, document), defaults, (provider, aliases, vendor), lifecycles, multiples


def _load_multiples(path: Path, document: dict, kind: str) -> dict[str, tuple[DatedMultiple, ...]]:
    """A file's [[tier]] rows (names, tier, multiply, source, window) or [[regional]] rows (no tier), by name; the
    windows of one name (and tier) must not overlap."""
    found: dict[str, list[tuple[str, DatedMultiple]]] = {}
    for index, row in enumerate(rows_of(path, document, kind), start=1):
        where = f"{path}: {kind} row {index}"
        check_keys(row, _TIER_ROW_KEYS if kind == "tier" else _REGIONAL_KEYS, where)
        names = _names(row, where)
        tier = text_field(row, "tier", where, default="") if kind == "tier" else "regional"
        if kind == "tier" and tier not in TIERS[1:]:
            raise TableError(f"{where}: tier must be one of {', '.join(TIERS[1:])}, not {tier!r}")
        if not row.get("source"):
            raise TableError(f"{where}: needs a source (the vendor's page)")
        start, end = check_window(row, where)
        multiple = DatedMultiple(tier, _decimal(row, "multiply", where), text_field(row, "source", where, default=""),
                                 text_field(row, "note", where, default=""), start, end)  # fmt: skip
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
        names = _names(row, where)
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
    """[aliases] prefixes / suffixes / snapshots: lists of lower-case text (SPEC §6f)."""
    if not isinstance(spec, dict):
        raise TableError(f"{where}: must be a table")
    check_keys(spec, _ALIAS_KEYS, where)
    lists: dict[str, Any] = {"names": _alias_names(spec.get("names", {}), f"{where}: names")}
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


def _alias_names(spec: Any, where: str) -> tuple[tuple[str, str], ...]:
    """[aliases] names = { "alias" = "row name", ... }: lower-case text both sides (SPEC §2a, §6f)."""
    if not isinstance(spec, dict) or not all(isinstance(v, str) and v for v in spec.values()):
        raise TableError(f'{where}: must be an inline table like {{ "gpt-5.6" = "gpt-5.6-sol" }}')
    for text in (*spec, *spec.values()):
        if text != text.lower() or not text.strip():
            raise TableError(f"{where}: {text!r} must be lower-case text (names are compared in lower case)")
    _check_alias_cycles(spec, where)
    return tuple(spec.items())


def _check_alias_cycles(names: Mapping[str, str], where: str) -> None:
    """TableError naming the loop when aliases lead back to themselves (`a` → `b` → `a`, or `a` → `a`).

    An alias names another name of a row (SPEC §2a, §6f); one that comes back to
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
            loop = path[path.index(name):] + [name]
            shown = (f"the alias {name!r} names itself" if len(loop) == 2
                     else f"the aliases {' → '.join(loop)} go round in a circle")  # fmt: skip
            raise TableError(f"{where}: {shown}; an alias must lead to a model row")
        done.update(path)


def _row_tiers(spec: Any, where: str) -> tuple[tuple[str, TierPrice], ...]:
    """A price row's own tiers (SPEC §7): `tiers.batch = { usd_per_1m_input = 1.25, cached_input = ..., long_context
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
            found[name] = TierPrice(None, source=text_field(rates, "source", at, default=""), note=note,
                                    valid_from=start, valid_until=end)  # fmt: skip
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
    """A price file's vendor defaults (SPEC §7), or None: [tiers.<tier>] with `multiply` (or `unknown` = why) and
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


def _parse_model(row: dict, defaults: dict, where: str, path: Path, provider: str = "") -> Model:
    """One [[model]] row: the common keys here, the scheme's own settings by its registered parser."""
    scheme = row.get("scheme")
    words = _schemes.words()
    if scheme not in words:
        raise TableError(f"{where}: scheme must be one of {', '.join(words)}, not {scheme!r}")
    kind = _schemes.get(scheme)
    check_keys(row, _ROW_KEYS | kind.keys, where)
    names = _names(row, where)
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
        provider=provider,
    )


def _names(row: dict, where: str) -> tuple[str, ...]:
    names = row.get("names", row.get("name"))
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise TableError(f"{where}: needs names = [\"model-name\", ...]")
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
