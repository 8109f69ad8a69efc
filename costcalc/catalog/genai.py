"""Price rows from genai-prices' data (pydantic/genai-prices): one generator for the maintainers' script
(tables/update_prices.py, which writes the shipped tables/prices/*.toml) and for `costcalc tables update`
(which writes the same rows into the user's data folder from genai-prices' published data file).

genai-prices is imported by neither module here: the caller hands in a snapshot its own loader built
(`genai_prices.data_snapshot.get_snapshot()`, or `DataSnapshot(_providers_from_raw(json))`), so
costcalc's start-up never imports it.

For every model name of our model tables it asks the snapshot for the model's prices and writes
one price row per window: genai-prices dates a price change as a start-date constraint, so each
start date (of a price, or of a tier's variant) opens a new window (`valid_from`), and the
window before it ends the day before (`valid_until`); adjacent windows with equal rates are one.
Where genai-prices has a price variant for a tier (`processing: batch`, `service_tier: flex` /
`priority`), the row gets that tier's rates; every other tier a vendor offers comes from the
vendor's defaults at the top of its file (VENDOR_DEFAULTS). Names priced in the shipped
tables/prices/overrides.toml are left out (hand-kept, better sourced).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import Decimal

__all__ = [
    "SOURCE",
    "VENDOR_PROVIDER",
    "lookup",
    "lookup_rows",
    "model_names",
    "references",
    "windowed_rows",
    "price_row",
    "render",
    "snapshots",
]

SOURCE = "genai-prices {version} (pydantic/genai-prices), {provider}/{model}"
"""A generated row's source; the drift test reads the provider and model id back from it."""
_DAY = dt.timedelta(days=1)

VENDOR_PROVIDER = {
    # our vendor (a model file's `vendor`, else its stem) -> the genai-prices provider of its plain names
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "mistral": "mistral",
    "amazon": "aws",  # Nova is sold through Bedrock only
    "meta": None,  # genai-prices' "meta" provider is Meta's own Muse API, not Llama: hosts only
    "xai": "x-ai",
    "qwen": None,  # genai-prices 0.2.5 has no Alibaba / DashScope provider
    "deepseek": None,  # priced by hand (peak and off-peak hours): overrides.toml
}
VENDOR_ALIASES = {
    "x-ai": "xai",
    "grok": "xai",
    "aws": "amazon",
    "nova": "amazon",
    "llama": "meta",
    "alibaba": "qwen",
    "dashscope": "qwen",
    "gemini": "google",
    "claude": "anthropic",
}
PREFIX_PROVIDER = {
    # an explicit vendor prefix (`anthropic/claude-opus-4-7`) -> genai-prices provider
    "openai": "openai",
    "azure": "azure",
    "anthropic": "anthropic",
    "google": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "mistral": "mistral",
    "mistralai": "mistral",
    "xai": "x-ai",
    "x-ai": "x-ai",
    "bedrock": "aws",
    "aws": "aws",
    "amazon": "aws",
}
BEDROCK = re.compile(r"^(?:[a-z]{2,8}\.)?(?:anthropic|amazon|meta|mistral|openai|qwen|deepseek)\.[a-z0-9]")
"""A Bedrock model id or inference profile (`anthropic.claude-…`, `global.anthropic.…`)."""
REFERENCES = {
    # our name -> (genai-prices provider, the reference to ask for), where genai-prices' own
    # matching finds the wrong model or none. Each is the same model under the vendor's API id.
    "gemini-1.5-flash-8b": (
        "google",
        "gemini-flash-1.5-8b",
    ),  # its `contains gemini-1.5-flash` takes the 8b as 1.5 Flash
    "mistral-medium-3": (
        "mistral",
        "mistral-medium-2505",
    ),  # Medium 3 is 2505; genai-prices files the bare name under 3.5
    "mistral-medium-3.1": ("mistral", "mistral-medium-2508"),
    "mistral-small-3.2": ("mistral", "mistral-small-2506"),
    "pixtral-12b-2409": ("mistral", "pixtral-12b"),
    "pixtral-large": ("mistral", "pixtral-large-2411"),
    "magistral-small": ("mistral", "magistral-small-latest"),  # its clause wants `magistral-small-…`
    "grok-4.1-fast": ("x-ai", "grok-4-1-fast"),
    "llama4-scout-17b-instruct": ("aws", "meta.llama4-scout-17b-instruct-v1:0"),  # Bedrock's spelling: its price
    "llama4-maverick-17b-instruct": ("aws", "meta.llama4-maverick-17b-instruct-v1:0"),
    "nova-2-lite": ("aws", "global.amazon.nova-2-lite-v1:0"),
    "mistral-small-4": ("mistral", "mistral-small-2603"),
    **{name: ("x-ai", "grok-4.20") for name in ("grok-4-20", "grok-4.20-reasoning", "grok-4.20-non-reasoning")},
    **{f"grok-4-{n}": ("x-ai", f"grok-4.{n}") for n in (3, 5, 6, 7)},  # sold by inference profile: global 0.30
}


_OPENAI_BATCH = "OpenAI Batch API: 50% off (https://platform.openai.com/docs/guides/batch)"
_GEMINI = "Gemini API optimization: {what} (https://ai.google.dev/gemini-api/docs/optimization)"
VENDOR_DEFAULTS = {
    # our vendor -> its defaults, written at the top of its generated file (tiers are data, per vendor
    # and model; docs/prices.md). A row's own tier (a genai-prices variant) wins over a default.
    "openai": {
        # Flex and Fast (Priority) only where genai-prices has the model's own variant: not every model offers them.
        "tiers": {"batch": {"multiply": "0.5", "source": _OPENAI_BATCH}},
        # OpenAI renamed Priority to Fast; `service_tier: "priority"` still works (https://openai.com/api/pricing/).
        "tier_aliases": {"priority": "fast"},
    },
    "anthropic": {
        "tiers": {
            "batch": {
                "multiply": "0.5",
                "source": "Anthropic Message Batches API: 50% off "
                "(https://docs.anthropic.com/en/docs/build-with-claude/batch-processing)",
            }
        },
        "cache": {
            "read": "0.1",
            "write": "1.25",
            "write_1h": "2",
            "source": "Anthropic prompt caching: reads 0.1x, 5-minute writes 1.25x, 1-hour writes 2x the input "
            "rate (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching)",
        },
    },
    "google": {
        "tiers": {
            "batch": {"multiply": "0.5", "source": _GEMINI.format(what="Batch 50% discount")},
            "flex": {"multiply": "0.5", "source": _GEMINI.format(what="Flex 50% discount")},
            "priority": {
                "unknown": "Gemini Priority costs 75% to 100% more than Standard, by model; no per-model "
                "rate in genai-prices",
                "source": _GEMINI.format(what="Priority 75% to 100% more than standard"),
            },
        },
        "cache": {"read": "0.1", "source": _GEMINI.format(what="Caching 90% discount")},
    },
    "xai": {
        "long_context": {
            "above": 200000,
            "multiply": "2",
            "source": "xAI doubles the input rate once a request's input exceeds 200K tokens "
            "(https://docs.x.ai/docs/models)",
        },
    },
    "qwen": {
        "tiers": {
            "batch": {
                "multiply": "0.5",
                "source": "Alibaba Cloud Model Studio billing: batch calls cost 50% of "
                "real-time calls (alibabacloud.com/help/en/model-studio/"
                "billing-for-model-studio)",
            }
        },
    },
}
TIER_CONTEXTS = {
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}
"""Our tier -> the genai-prices price context (`when` of a price variant) that selects it."""
TIER_NAMES = {"openai": {"priority": "fast"}}
"""Per vendor: our tier word for a genai-prices context where the vendor renamed it (OpenAI Priority is Fast)."""


@dataclass(frozen=True)
class Rates:
    """One tier's input rates: (base, cached base or None, (above, rate, cached rate or None) or None)."""

    usd_per_1m_input: Decimal
    cached_input: Decimal | None
    long_context: tuple[int, Decimal, Decimal | None] | None


@dataclass(frozen=True)
class Row:
    """One generated price row, before it is written."""

    vendor: str
    provider: str
    model: str
    usd_per_1m_input: Decimal
    cached_input: Decimal | None
    long_context: tuple[int, Decimal, Decimal | None] | None
    date: str
    tiers: tuple[tuple[str, Rates], ...] = ()
    """The tiers genai-prices has a variant for, in TIER_CONTEXTS order, as genai-prices resolves them."""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @property
    def rates(self) -> tuple:
        """What the row prices, without its dates: two rows with equal rates are one price."""
        return self.provider, self.model, self.usd_per_1m_input, self.cached_input, self.long_context, self.tiers


def model_names(tables) -> list[tuple[str, str]]:
    """(vendor, name) for every model name of `tables` (a costcalc Tables), in table order."""
    found: dict[str, str] = {}
    for model in tables.models():
        vendor = VENDOR_ALIASES.get(model.vendor, model.vendor)
        if vendor in VENDOR_PROVIDER:
            found.setdefault(model.name, vendor)
    return [(vendor, name) for name, vendor in found.items()]


def references(vendor: str, name: str) -> list[tuple[str, str]]:
    """The (genai-prices provider, model reference) pairs to try for one of our names, best first."""
    if name in REFERENCES:
        return [REFERENCES[name]]
    prefix, slash, rest = name.partition("/")
    if slash:
        provider = PREFIX_PROVIDER.get(prefix)
        return [(provider, rest)] if provider else []
    if BEDROCK.match(name):
        return [("aws", name)]
    if "@" in name and vendor == "anthropic":
        return [("google", name)]  # a Vertex id (`claude-opus-4-7@20250929`): Google sells it
    provider = VENDOR_PROVIDER.get(vendor)
    if provider is None:
        return []
    refs = [(provider, name)]
    if "@" in name:  # an edition marker of our own (`gpt-5-mini@2025`): the model's price
        refs.append((provider, name.partition("@")[0]))
    if provider == "aws":  # a plain Nova name is the Bedrock model `amazon.<name>`
        refs.append((provider, f"amazon.{name}"))
    if vendor == "anthropic" and "." in name:  # claude-opus-4.7: Anthropic's id is claude-opus-4-7
        refs.append((provider, name.replace(".", "-")))
    return refs


def lookup(snapshot, vendor: str, name: str, as_of: dt.date) -> Row | None:
    """The generated row in force on `as_of` for one of our names, or None when genai-prices has no price for it."""
    found = _find(snapshot, vendor, name)
    return None if found is None else price_row(vendor, found[0], found[1], as_of)


def _find(snapshot, vendor: str, name: str):
    """(genai-prices provider id, model) of one of our names, or None."""
    for provider_id, ref in references(vendor, name):
        try:
            _, model = snapshot.find_provider_model(ref, None, provider_id, None)
        except LookupError:
            continue
        return next(p.id for p in snapshot.providers if any(m is model for m in p.models)), model
    return None


def lookup_rows(snapshot, vendor: str, name: str, as_of: dt.date) -> tuple[Row, ...]:
    """Every dated row of one of our names (windowed_rows), or () when genai-prices has no price for it."""
    found = _find(snapshot, vendor, name)
    return () if found is None else windowed_rows(vendor, found[0], found[1], as_of)


def change_days(model, as_of: dt.date) -> list[dt.date]:
    """The days a new price of `model` starts on (genai-prices' start-date constraints), and the days after
    `as_of` a tier's variant starts on (a scheduled change; a past variant start is only when genai-prices
    added the tier, and is read on each window's last day instead)."""
    days = set()
    for conditional in model.prices if isinstance(model.prices, list) else ():
        days.add(getattr(conditional.constraint, "start_date", None))
    for variant in model.price_variants or ():
        day = getattr(variant.constraint, "start_date", None)
        days.add(day if day is not None and day > as_of else None)
    return sorted(day for day in days if day is not None)


def windowed_rows(vendor: str, provider: str, model, as_of: dt.date) -> tuple[Row, ...]:
    """One row per window of `model`'s prices, oldest first; windows of equal rates joined; the last open-ended.

    Each window is read on its last day (the open last window on `as_of`, or its first day if later)."""
    days = change_days(model, as_of)
    rows: list[Row] = []
    for start, end in zip([None, *days], [*(day - _DAY for day in days), None]):
        row = price_row(vendor, provider, model, end or max(start or as_of, as_of))
        if row is None:
            continue
        last = rows[-1] if rows else None
        if (
            last is not None
            and last.rates == row.rates
            and last.valid_until is not None
            and start is not None
            and last.valid_until + _DAY == start
        ):
            rows[-1] = replace(last, valid_until=end)
        else:
            rows.append(replace(row, valid_from=start, valid_until=end, date=str(start or as_of)))
    return tuple(rows)


def price_row(vendor: str, provider: str, model, as_of: dt.date) -> Row | None:
    """Our row for one genai-prices model on `as_of` (image-input rate where it has one), or None."""
    when = dt.datetime.combine(as_of, dt.time(12), tzinfo=dt.UTC)
    standard = rates_of(model.get_prices(when))
    if standard is None:
        return None
    tiers = []
    for tier, context in TIER_CONTEXTS.items():
        if has_variant(model, context, when):
            rates = rates_of(model.get_prices(when, context))
            if rates is not None:
                tiers.append((TIER_NAMES.get(vendor, {}).get(tier, tier), rates))
    return Row(
        vendor,
        provider,
        model.id,
        standard.usd_per_1m_input,
        standard.cached_input,
        standard.long_context,
        _price_date(model, when, as_of),
        tuple(tiers),
    )


def has_variant(model, context: dict[str, str], when: dt.datetime) -> bool:
    """Whether genai-prices has a price variant for exactly this context in force at `when` (a tier it prices)."""
    return any(
        variant.when == context and (variant.constraint is None or variant.constraint.active(when))
        for variant in model.price_variants or ()
    )


def rates_of(prices) -> Rates | None:
    """The input rates of a genai-prices ModelPrice (the image-input rate where it has one), or None."""
    rate, cached = prices.input_mtok, prices.cache_read_mtok
    if getattr(prices, "input_image_mtok", None) is not None:  # gpt-image-1: images bill above text
        rate, cached = prices.input_image_mtok, getattr(prices, "cache_image_read_mtok", None)
    if rate is None:
        return None
    base, tier = _split(rate)
    cached_base, cached_tier = _split(cached) if cached is not None else (None, None)
    long_context = None
    if tier is not None:
        same = cached_tier is not None and cached_tier[0] == tier[0]
        long_context = (tier[0], tier[1], cached_tier[1] if same else None)
    return Rates(base, cached_base, long_context)


def _split(value) -> tuple[Decimal, tuple[int, Decimal] | None]:
    """(base rate, (tier start, tier rate) or None) of a Decimal or a genai-prices TieredPrices."""
    tiers = getattr(value, "tiers", None)
    if tiers is None:
        return Decimal(value), None
    if len(tiers) > 1:
        raise SystemExit(f"{len(tiers)} long-context tiers: our price row holds one; extend the format first")
    return Decimal(value.base), (tiers[0].start, Decimal(tiers[0].price))


def _price_date(model, when: dt.datetime, as_of: dt.date) -> str:
    """When the price in force began, where genai-prices dates it; else the as-of date."""
    if isinstance(model.prices, list):
        for conditional in reversed(model.prices):
            constraint = conditional.constraint
            if constraint is None or constraint.active(when):
                start = getattr(constraint, "start_date", None)
                return (start or as_of).isoformat()
    return as_of.isoformat()


def snapshots(
    snapshot, tables, vendor: str, name: str, family: tuple[Row, ...], as_of: dt.date
) -> list[tuple[str, tuple[Row, ...]]]:
    """Names genai-prices prices apart from `name` that costcalc resolves to it (`gpt-4o-2024-05-13`).

    costcalc maps such a name (a dated snapshot, by the model table's own name rules) to
    `name`'s model row but looks for its own price first (a snapshot can cost more than its
    family), so each gets rows here.
    """
    provider = next((p for p in snapshot.providers if p.id == family[0].provider), None)
    found = []
    for candidate in sorted({text for model in provider.models for text in _equals(model.match)} if provider else ()):
        resolved = tables.find(candidate)  # no close-match search for each of genai-prices' names
        if resolved is not None and resolved.family == name != candidate:  # an alias of `name`, not a row of its own
            rows = lookup_rows(snapshot, vendor, candidate, as_of)
            if rows and [row.rates for row in rows] != [row.rates for row in family]:
                found.append((candidate, rows))
    return found


def _equals(clause) -> list[str]:
    """Every exact name a genai-prices match clause tree names."""
    if hasattr(clause, "equals"):
        return [clause.equals.lower()]
    children = getattr(clause, "or_", None) or getattr(clause, "and_", None) or []
    return [text for child in children for text in _equals(child)]


def _number(value: Decimal) -> str:
    text = format(value, "f")
    return text if "." in text else text + ".0"


def _rate_keys(rates: Rates) -> list[str]:
    """`usd_per_1m_input = …`, `cached_input = …`, `long_context = {…}`: one TOML key = value each."""
    keys = [f"usd_per_1m_input = {_number(rates.usd_per_1m_input)}"]
    if rates.cached_input is not None:
        keys.append(f"cached_input = {_number(rates.cached_input)}")
    if rates.long_context is not None:
        above, rate, long_cached = rates.long_context
        extra = f", cached_input = {_number(long_cached)}" if long_cached is not None else ""
        keys.append(f"long_context = {{ above = {above}, usd_per_1m_input = {_number(rate)}{extra} }}")
    return keys


def _vendor_lines(vendor: str) -> list[str]:
    """The vendor's defaults (VENDOR_DEFAULTS) as TOML: vendor, [tiers.<tier>], [cache]."""
    defaults = VENDOR_DEFAULTS.get(vendor)
    if not defaults:
        return [
            "",
            "# Service tiers: standard only (no vendor default; a row's own tiers.* where genai-prices has them).",
        ]
    lines = [
        "",
        "# Vendor defaults (docs/prices.md): a tier a row has no tiers.<tier> of its own for is the row's",
        "# standard rates times `multiply`; [cache] gives cache reads/writes as multiples of the input rate;",
        "# [long_context] the rule of the rows that carry no long_context of their own.",
        f'vendor = "{vendor}"',
    ]
    for tier, rule in defaults.get("tiers", {}).items():
        lines += ["", f"[tiers.{tier}]"]
        lines += [f"multiply = {rule['multiply']}"] if "multiply" in rule else [f'unknown = "{rule["unknown"]}"']
        lines.append(f'source = "{rule["source"]}"')
    long = defaults.get("long_context")
    if long:
        lines += [
            "",
            "[long_context]",
            f"above = {long['above']}",
            f"multiply = {long['multiply']}",
            f'source = "{long["source"]}"',
        ]
    aliases = defaults.get("tier_aliases")
    if aliases:
        lines += ["", "[tier_aliases]"] + [f'{word} = "{tier}"' for word, tier in aliases.items()]
    cache = defaults.get("cache")
    if cache:
        lines += ["", "[cache]"] + [
            f"{kind} = {cache[kind]}" for kind in ("read", "write", "write_1h") if kind in cache
        ]
        lines.append(f'source = "{cache["source"]}"')
    return lines


def render(
    vendor: str,
    rows: dict[tuple[Row, ...], list[str]],
    missing: list[str],
    skipped: list[str],
    version: str,
    as_of: dt.date,
    by: str = "tables/update_prices.py",
) -> str:
    """The TOML text of one generated vendor file: each group of names with its dated rows."""
    lines = [
        f"# GENERATED by {by} from genai-prices {version} on {as_of}: do not edit.",
        "# USD per 1M input tokens (the image-input rate where genai-prices has one); cached_input is",
        "# the cache-read rate; long_context the rates once a request's input exceeds `above` tokens;",
        "# tiers.<tier> a service tier's rates where genai-prices has a variant for it; valid_from /",
        "# valid_until the days (inclusive, UTC) a row holds (docs/prices.md).",
        "# Hand-kept prices go in overrides.toml (loaded last). Format: tables/models/README.md.",
    ]
    if skipped:
        lines.append(f"# Priced in overrides.toml instead: {', '.join(skipped)}.")
    if missing:
        lines.append(
            f"# Not in genai-prices {version} (price unknown unless overrides.toml has it): {', '.join(missing)}."
        )
    lines += _vendor_lines(vendor)
    for group, names in rows.items():
        for row in group:
            lines += ["", "[[price]]", "names = [" + ", ".join(f'"{n}"' for n in names) + "]"]
            lines += _rate_keys(Rates(row.usd_per_1m_input, row.cached_input, row.long_context))
            lines += [f"valid_from = {row.valid_from}"] if row.valid_from else []
            lines += [f"valid_until = {row.valid_until}"] if row.valid_until else []
            lines += [
                f'source = "{SOURCE.format(version=version, provider=row.provider, model=row.model)}"',
                f'date = "{row.date}"',
                f'checked = "{as_of}"',
            ]
            lines += [f"tiers.{tier} = {{ {', '.join(_rate_keys(rates))} }}" for tier, rates in row.tiers]
    return "\n".join(lines) + "\n"


def generate(
    snapshot, tables, manual: set[str], version: str, as_of: dt.date, by: str = "tables/update_prices.py"
) -> dict[str, str]:
    """{vendor: the TOML text of its generated price file} for every vendor of `tables`' model rows.

    `snapshot`: a genai-prices DataSnapshot (its bundled data, or one its loader built from a published
    data file); `tables`: costcalc's model tables (their name rules say which names are our snapshots);
    `manual`: names the hand-kept overrides price (left out)."""
    by_vendor: dict[str, dict[tuple[Row, ...], list[str]]] = {}
    missing: dict[str, list[str]] = {}
    skipped: dict[str, list[str]] = {}
    for vendor, name in model_names(tables):
        if name in manual:
            skipped.setdefault(vendor, []).append(name)
            continue
        rows = lookup_rows(snapshot, vendor, name, as_of)
        if not rows:
            missing.setdefault(vendor, []).append(name)
            continue
        by_vendor.setdefault(vendor, {}).setdefault(rows, []).append(name)
        for snapshot_name, snapshot_rows in snapshots(snapshot, tables, vendor, name, rows, as_of):
            if snapshot_name not in manual:
                by_vendor[vendor].setdefault(snapshot_rows, []).append(snapshot_name)
    return {
        vendor: render(
            vendor, by_vendor.get(vendor, {}), missing.get(vendor, []), skipped.get(vendor, []), version, as_of, by
        )
        for vendor in sorted(set(by_vendor) | set(missing) | set(skipped))
    }
