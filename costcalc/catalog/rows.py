"""The row types of the model and price tables (docs/prices.md, tables/models/README.md): a model row, its
vendor's name rules, a dated price with its tiers, cached-input and long-context rates, a vendor's defaults, and
the dated multiples ([[tier]], [[regional]]) of a price file. Plain frozen data with the arithmetic on them;
reading files is `loading`, finding rows by name is `tables`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from decimal import Decimal, localcontext
from functools import cache

from .. import schemes as _schemes
from ..errors import TierError, UnpublishedRuleError, UnsupportedDetailError
from ..money import MONEY
from ..records import field, record, replace
from ..schemes.base import Rule
from ..schemes.unknown import UnpublishedRule
from .dates import ACTIVE, Lifecycle, in_window

__all__ = [
    "Model",
    "Aliases",
    "LongContext",
    "TierPrice",
    "TierRule",
    "Price",
    "DatedMultiple",
    "DETAILS",
    "SCHEMES",
    "EVIDENCE",
    "TIERS",
    "CACHE_KINDS",
    "OVERRIDES",
    "check_tier",
]

DETAILS = ("low", "medium", "high", "ultra_high", "original", "auto")
"""Every detail level a request can name (medium and ultra_high: Gemini's media resolutions, docs/google.md)."""

SCHEMES = _schemes.words()
"""The `scheme` words of a model row, as registered in `costcalc.schemes.REGISTRY` when the tables were imported."""

_ROW_KEYS = {"names", "name", "scheme", "source", "date", "checked", "note", "evidence", "doubt"}
EVIDENCE = ("documented", "measured", "documented, measured")
"""What a row rests on (docs/README.md): a vendor document, public measurements of API bills, or both."""
_ALIAS_KEYS = {"prefixes", "suffixes", "snapshots", "names"}
_PLACEHOLDERS = "YMDN"
"""In a snapshot pattern each of these stands for one digit (`-YYYY-MM-DD`); every other character is literal."""
_PRICE_KEYS = {
    "names",
    "name",
    "usd_per_1m_input",
    "cached_input",
    "long_context",
    "tiers",
    "source",
    "date",
    "checked",
    "valid_from",
    "valid_until",
    "doubt",
    "confidence",
    "note",
}
_LONG_CONTEXT_KEYS = {"above", "usd_per_1m_input", "cached_input", "valid_from", "valid_until"}
OVERRIDES = "overrides.toml"
"""The hand-kept price file in tables/prices/, loaded after the generated ones (docs/prices.md)."""

TIERS = ("standard", "batch", "flex", "priority", "fast", "ultrafast")
"""The service tiers a price can be asked for (docs/prices.md): standard, and the ones a vendor or row offers.
OpenAI calls its Priority tier Fast (a vendor file's [tier_aliases] maps `priority` to `fast`) and adds Ultrafast."""
CACHE_KINDS = ("read", "write", "write_1h")
"""Cached input (docs/prices.md): a cache read, a cache write (Anthropic: 5-minute), a 1-hour cache write."""
_TIER_KEYS = {"usd_per_1m_input", "cached_input", "long_context", "source", "note", "valid_from", "valid_until"}
_VENDOR_TIER_KEYS = {"multiply", "unknown", "source"}
_CACHE_KEYS = {*CACHE_KINDS, "source"}
_VENDOR_LONG_KEYS = {"above", "multiply", "source"}
_TIER_ROW_KEYS = {"names", "name", "tier", "multiply", "source", "note", "valid_from", "valid_until"}
_REGIONAL_KEYS = {"names", "name", "multiply", "source", "note", "valid_from", "valid_until"}


@record
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
    vendor: str = ""
    """The vendor file the row comes from (`anthropic`, `google`, ...); its name rules apply to the row."""
    note: str = ""
    """What a reader of the row should know (a doubt, an unpublished rule)."""
    evidence: str = ""
    """What the row rests on (docs/README.md): documented, measured, or both (EVIDENCE); '' when the row does not say."""
    doubt: str = ""
    """Why its figure may be wrong: the documented rule contradicted or unverified by measurement (docs/openai.md, docs/README.md)."""
    lifecycle: Lifecycle = ACTIVE
    """Released, deprecated, shutdown and replacement, where a [[lifecycle]] row gives them (docs/lifecycle.md)."""

    @property
    def tokens_unknown(self) -> bool:
        """True for a patch row whose multiplier nobody published: sizes and patches known, tokens not (docs/openai.md)."""
        return self.scheme == "patch" and self.multiplier is None

    @property
    def details(self) -> tuple[str, ...]:
        """The detail levels this model accepts, `auto` last."""
        return tuple(level for level, _ in self.rules if level != "auto") + ("auto",)

    @property
    def bases(self) -> tuple[str, ...]:
        """How sure its figures are, per detail level in order, without repeats (docs/README.md): exact, maximum, ..."""
        return tuple(dict.fromkeys(rule.basis for _, rule in self.rules))

    def rule(self, detail: str) -> tuple[str, Rule]:
        """The detail level `detail` applies (auto resolved) and its rule.

        UnsupportedDetailError for a level the model lacks; UnpublishedRuleError
        for a level (or model) whose rule nobody published (docs/README.md).
        """
        applied = self.auto if detail == "auto" else detail
        for level, rule in self.rules:
            if level == applied:
                if isinstance(rule, UnpublishedRule):
                    raise UnpublishedRuleError(self.name, detail, rule.note, self.vendor)
                return level, rule
        raise UnsupportedDetailError(self.name, detail, self.details)


@record
class Aliases:
    """One vendor's name rules, as data (docs/README.md): prefixes, suffixes and snapshot patterns to strip."""

    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = ()
    """Patterns like `-YYYYMMDD`: Y, M, D, N one digit each, the rest literal."""
    names: tuple[tuple[str, str], ...] = ()
    """(alias, row name) pairs: a name the vendor uses for another (`gpt-5.6` is `gpt-5.6-sol`, docs/openai.md)."""

    def __or__(self, other: Aliases) -> Aliases:
        """Both sets of rules, in order, without repeats (a later file's alias of a name wins)."""
        lists = (
            tuple(dict.fromkeys(a + b))
            for a, b in zip(
                (self.prefixes, self.suffixes, self.snapshots), (other.prefixes, other.suffixes, other.snapshots)
            )
        )
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
            queue += [stem[len(p) :] for p in self.prefixes if stem.startswith(p) and len(stem) > len(p)]
        undated = []
        for stem in stems:
            undated += [stem] + [stem[: -len(x)] for x in self.suffixes if stem.endswith(x) and len(stem) > len(x)]
        named = dict(self.names)
        undated = list(dict.fromkeys(form for stem in undated for form in (stem, named.get(stem)) if form))
        dated = [
            (m[1], form)
            for form in undated
            for pattern in _snapshot_patterns(self.snapshots)
            if (m := pattern.fullmatch(form))
        ]
        return undated, dated


@cache
def _snapshot_patterns(snapshots: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(
        re.compile("(.+)" + "".join(r"\d" if c in _PLACEHOLDERS else re.escape(c) for c in pattern))
        for pattern in snapshots
    )


@record
class LongContext:
    """The rates of the whole request once its input exceeds `above` tokens (docs/prices.md long context; Price.rate)."""

    above: int
    usd_per_1m_input: Decimal | None
    """None: the tier publishes no rate above `above` while standard has a long-context rule (unknown, Price.rates)."""
    cached_input: Decimal | None = None
    valid_from: _dt.date | None = None
    """The first day these rates hold (inclusive); None: from any day the row holds."""
    valid_until: _dt.date | None = None
    """The last day these rates hold (inclusive); None: until any day the row holds."""


@record
class TierPrice:
    """One service tier's rates for a price row (docs/prices.md); `usd_per_1m_input` None: offered, its rate unpublished."""

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


@record
class TierRule:
    """A vendor's default for one tier (docs/prices.md): its rates are the standard ones times `multiply`, or unknown."""

    multiply: Decimal | None
    """None: the vendor offers the tier but no rate for it is known (`note` says why)."""
    source: str = ""
    note: str = ""


@record
class Price:
    """A dated price: USD per 1M input tokens, with its source, service tiers and cached-input rates (docs/prices.md)."""

    usd_per_1m_input: Decimal
    source: str
    date: str
    checked: str
    cached_input: Decimal | None = None
    """USD per 1M cache-read input tokens, where the source gives one (docs/prices.md)."""
    long_context: LongContext | None = None
    """The long-context rates, where the source gives them (docs/prices.md): the whole request above `above` tokens."""
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
        tiers = tuple(
            (name, _tier_on(rates, day))
            for name, rates in self.tiers
            if in_window(rates.valid_from, rates.valid_until, day)
        )
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
                    # docs/prices.md: standard bills more above the threshold; a tier row silent on it does not say its
                    # base rate holds there, so above the threshold its rate is unknown, never the base rate.
                    above = self.long_context.above
                    note = (
                        f"tier {tier} publishes no long-context rate: above {above:,} input tokens its USD is unknown"
                    )
                    return replace(rates, long_context=LongContext(above, None), note=rates.note or note)
                return rates
        raise TierError(self.model or "this price", tier, self.offered)

    def rate(
        self, *, tier: str = "standard", input_tokens: int | None = None, cached: bool | str = False
    ) -> Decimal | None:
        """USD per 1M tokens as billed: the tier's rate, its long-context rate once `input_tokens` (the whole
        request's input) exceeds the threshold (docs/prices.md: strictly above it), and the cached-input rate when
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

    def usd(
        self, tokens: int, *, tier: str = "standard", input_tokens: int | None = None, cached: bool | str = False
    ) -> Decimal | None:
        """The exact price of `tokens` input tokens, whatever the caller's decimal context (issue 9).

        `tier` (docs/prices.md) picks the tier's rates; `input_tokens` is the whole request's input (default:
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
    """`tier` when it is one of TIERS (docs/prices.md); TierError naming them otherwise (any model's own: Tables.check_tier)."""
    if isinstance(tier, str) and tier in TIERS:
        return tier
    raise TierError("costcalc", tier, TIERS)


@record
class _Vendor:
    """One vendor's defaults from its price file (docs/prices.md): tiers offered, cached-input multipliers."""

    tiers: Mapping[str, TierRule]
    cache: Mapping[str, Decimal]
    long_context: tuple[int, Decimal] | None = None
    """(above, multiply): the long-context rule of a vendor whose rows carry none (xAI: 200K, docs/prices.md)."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    """[tier_aliases]: word -> tier, another word the vendor accepts for a tier (OpenAI: priority -> fast)."""

    def __or__(self, other: _Vendor) -> _Vendor:
        """These defaults with `other`'s over them, tier by tier and kind by kind."""
        return _Vendor(
            {**self.tiers, **other.tiers},
            {**self.cache, **other.cache},
            other.long_context or self.long_context,
            {**self.aliases, **other.aliases},
        )

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


@record
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
        long = replace(
            long, usd_per_1m_input=_times(m, long.usd_per_1m_input)[0], cached_input=_times(m, long.cached_input)[0]
        )
    tiers = tuple((name, _regional_tier(rates, m)) for name, rates in price.tiers)
    base, cached = _times(m, price.usd_per_1m_input, price.cached_input)
    return replace(
        price,
        usd_per_1m_input=base,
        cached_input=cached,
        long_context=long,
        tiers=tiers,
        source=f"{price.source}; regional processing x{m}: {found[0].source}",
    )


def _regional_tier(rates: TierPrice, m: Decimal) -> TierPrice:
    long = rates.long_context
    if long is not None:
        long = replace(
            long, usd_per_1m_input=_times(m, long.usd_per_1m_input)[0], cached_input=_times(m, long.cached_input)[0]
        )
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
