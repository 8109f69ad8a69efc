"""Regenerate tables/prices/<vendor>.toml from the genai-prices database (SPEC §7).

    pip install genai-prices==<the pin in pyproject.toml's test extra>
    python tables/update_prices.py [--as-of YYYY-MM-DD]

For every model name in the model tables (tables/models/*.toml) it
asks genai-prices (pydantic/genai-prices, PyPI) for that model's price on the as-of
date (default: today) and writes one price row per genai-prices model into the file of
the model's vendor. costcalc itself never imports genai-prices (its import costs about
0.3 s); the CLI reads only the TOML written here.

Service tiers (SPEC §7) are data too. Where genai-prices has a price variant for a tier
(`processing: batch`, `service_tier: flex` / `priority`) in force on the as-of date, the row
gets that tier's rates as genai-prices resolves them (`tiers.batch = {...}`); every other
tier a vendor offers comes from the vendor's defaults at the top of its file (VENDOR_DEFAULTS
here: [tiers.<tier>] multiply, and [cache] multiples of the input rate), each with its source.

Hand-kept prices (ones genai-prices lacks, or that SPEC §7 sources better) live in
tables/prices/overrides.toml, which this script reads and never writes: a name priced
there is left out of the generated files. tests/test_prices_drift.py holds every
generated row to the pinned genai-prices, so a bumped pin shows its drift as a failing test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

TABLES = Path(__file__).resolve().parent
PRICES = TABLES / "prices"
OVERRIDES = PRICES / "overrides.toml"
PYPROJECT = TABLES.parent / "pyproject.toml"
SOURCE = "genai-prices {version} (pydantic/genai-prices), {provider}/{model}"
"""A generated row's source; the drift test reads the provider and model id back from it."""

VENDOR_PROVIDER = {
    # our vendor (a model file's `provider`, else its stem) -> the genai-prices provider of its plain names
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "mistral": "mistral",
    "amazon": "aws",  # Nova is sold through Bedrock only
    "meta": None,  # genai-prices' "meta" provider is Meta's own Muse API, not Llama: hosts only
    "xai": "x-ai",
    "qwen": None,  # genai-prices 0.2.3 has no Alibaba / DashScope provider
}
VENDOR_ALIASES = {"x-ai": "xai", "grok": "xai", "aws": "amazon", "nova": "amazon", "llama": "meta",
                  "alibaba": "qwen", "dashscope": "qwen", "gemini": "google", "claude": "anthropic"}
PREFIX_PROVIDER = {
    # an explicit vendor prefix (`anthropic/claude-opus-4-7`, SPEC §6f) -> genai-prices provider
    "openai": "openai", "azure": "azure", "anthropic": "anthropic", "google": "google",
    "gemini": "google", "vertex_ai": "google", "mistral": "mistral", "mistralai": "mistral",
    "xai": "x-ai", "x-ai": "x-ai", "bedrock": "aws", "aws": "aws", "amazon": "aws",
}
BEDROCK = re.compile(r"^(?:[a-z]{2,8}\.)?(?:anthropic|amazon|meta|mistral|openai|qwen|deepseek)\.[a-z0-9]")
"""A Bedrock model id or inference profile (`anthropic.claude-…`, `global.anthropic.…`), SPEC §6f."""
REFERENCES = {
    # our name -> (genai-prices provider, the reference to ask for), where genai-prices' own
    # matching finds the wrong model or none. Each is the same model under the vendor's API id.
    "gemini-1.5-flash-8b": ("google", "gemini-flash-1.5-8b"),  # its `contains gemini-1.5-flash` takes the 8b as 1.5 Flash
    "mistral-medium-3": ("mistral", "mistral-medium-2505"),  # Medium 3 is 2505; genai-prices files the bare name under 3.5
    "mistral-medium-3.1": ("mistral", "mistral-medium-2508"),
    "mistral-small-3.2": ("mistral", "mistral-small-2506"),
    "pixtral-12b-2409": ("mistral", "pixtral-12b"),
    "pixtral-large": ("mistral", "pixtral-large-2411"),
    "magistral-small": ("mistral", "magistral-small-latest"),  # its clause wants `magistral-small-…`
    "grok-4.1-fast": ("x-ai", "grok-4-1-fast"),
    "llama4-scout-17b-instruct": ("aws", "meta.llama4-scout-17b-instruct-v1:0"),  # Bedrock's spelling: its price
    "llama4-maverick-17b-instruct": ("aws", "meta.llama4-maverick-17b-instruct-v1:0"),
}


_OPENAI_BATCH = "OpenAI Batch API: 50% off (platform.openai.com/docs/guides/batch; SPEC §7)"
_GEMINI = "Gemini API optimization: {what} (ai.google.dev/gemini-api/docs/optimization; SPEC §7)"
VENDOR_DEFAULTS = {
    # our vendor -> its defaults, written at the top of its generated file (SPEC §7: tiers are data,
    # per vendor and model). A row's own tier (a genai-prices variant) wins over a default.
    "openai": {
        # Flex and Priority only where genai-prices has the model's own variant: not every model offers them.
        "tiers": {"batch": {"multiply": "0.5", "source": _OPENAI_BATCH}},
    },
    "anthropic": {
        "tiers": {"batch": {"multiply": "0.5", "source": "Anthropic Message Batches API: 50% off "
                                                        "(docs.anthropic.com/en/docs/build-with-claude/batch-processing; SPEC §7)"}},
        "cache": {"read": "0.1", "write": "1.25", "write_1h": "2",
                  "source": "Anthropic prompt caching: reads 0.1x, 5-minute writes 1.25x, 1-hour writes 2x the input "
                            "rate (docs.anthropic.com/en/docs/build-with-claude/prompt-caching; SPEC §7)"},
    },
    "google": {
        "tiers": {
            "batch": {"multiply": "0.5", "source": _GEMINI.format(what="Batch 50% discount")},
            "flex": {"multiply": "0.5", "source": _GEMINI.format(what="Flex 50% discount")},
            "priority": {"unknown": "Gemini Priority costs 75% to 100% more than Standard, by model; no per-model "
                                    "rate in genai-prices 0.2.3",
                         "source": _GEMINI.format(what="Priority 75% to 100% more than standard")},
        },
        "cache": {"read": "0.1", "source": _GEMINI.format(what="Caching 90% discount")},
    },
    "xai": {
        "long_context": {"above": 200000, "multiply": "2",
                         "source": "SPEC §7: xAI doubles the input rate once a request's input exceeds 200K tokens "
                                   "(genai-prices 0.2.3 has it for grok-4.20 only)"},
    },
    "qwen": {
        "tiers": {"batch": {"multiply": "0.5", "source": "Alibaba Cloud Model Studio billing: batch calls cost 50% of "
                                                       "real-time calls (alibabacloud.com/help/en/model-studio/"
                                                       "billing-for-model-studio; SPEC §7)"}},
    },
}
TIER_CONTEXTS = {"batch": {"processing": "batch"}, "flex": {"service_tier": "flex"},
                 "priority": {"service_tier": "priority"}}  # fmt: skip
"""Our tier -> the genai-prices price context (`when` of a price variant) that selects it."""


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


def pinned_version() -> str:
    """The genai-prices version pinned in pyproject.toml's test extra."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    for requirement in project["optional-dependencies"]["test"]:
        found = re.fullmatch(r"genai-prices==([\w.]+)", requirement.replace(" ", ""))
        if found:
            return found[1]
    raise SystemExit(f"{PYPROJECT}: no genai-prices==X.Y.Z in the test extra")


def model_names() -> list[tuple[str, str]]:
    """(vendor, name) for every model name in the model tables, in table order."""
    found: dict[str, str] = {}
    for path in sorted((TABLES / "models").glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        vendor = str(document.get("provider", path.stem))
        vendor = VENDOR_ALIASES.get(vendor, vendor)
        if vendor not in VENDOR_PROVIDER:
            raise SystemExit(f"{path}: vendor {vendor!r} has no genai-prices provider in VENDOR_PROVIDER")
        for row in document.get("model", []):
            names = row.get("names", row.get("name"))
            for name in [names] if isinstance(names, str) else names:
                found.setdefault(name.strip().lower(), vendor)
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
    """The generated row for one of our names, or None when genai-prices has no price for it."""
    for provider_id, ref in references(vendor, name):
        try:
            _, model = snapshot.find_provider_model(ref, None, provider_id, None)
        except LookupError:
            continue
        owner = next(p.id for p in snapshot.providers if any(m is model for m in p.models))
        return price_row(vendor, owner, model, as_of)
    return None


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
                tiers.append((tier, rates))
    return Row(vendor, provider, model.id, standard.usd_per_1m_input, standard.cached_input, standard.long_context,
               _price_date(model, when, as_of), tuple(tiers))  # fmt: skip


def has_variant(model, context: dict[str, str], when: dt.datetime) -> bool:
    """Whether genai-prices has a price variant for exactly this context in force at `when` (a tier it prices)."""
    return any(variant.when == context and (variant.constraint is None or variant.constraint.active(when))
               for variant in model.price_variants or ())  # fmt: skip


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


def snapshots(snapshot, tables, vendor: str, name: str, family: Row, as_of: dt.date) -> list[tuple[str, Row]]:
    """Names genai-prices prices apart from `name` that costcalc resolves to it (`gpt-4o-2024-05-13`).

    costcalc maps such a name (a dated snapshot, by the model table's own name rules) to
    `name`'s model row but looks for its own price first (SPEC §7: a snapshot can cost more
    than its family), so each gets a row here.
    """
    provider = next((p for p in snapshot.providers if p.id == family.provider), None)
    found = []
    for candidate in sorted({text for model in provider.models for text in _equals(model.match)} if provider else ()):
        try:
            resolved = tables.model(candidate)
        except KeyError:
            continue
        if resolved.family == name != candidate:  # an alias of `name`, not a row of its own
            row = lookup(snapshot, vendor, candidate, as_of)
            if row is not None and (row.model, row.usd_per_1m_input) != (family.model, family.usd_per_1m_input):
                found.append((candidate, row))
    return found


def model_tables():
    """costcalc's model tables alone: its own name rules say which genai-prices names are our snapshots."""
    sys.path.insert(0, str(TABLES.parent))
    from costcalc.catalog.tables import Tables, model_files

    return Tables({}, {}).with_files(*model_files(TABLES))


def _equals(clause) -> list[str]:
    """Every exact name a genai-prices match clause tree names."""
    if hasattr(clause, "equals"):
        return [clause.equals.lower()]
    children = getattr(clause, "or_", None) or getattr(clause, "and_", None) or []
    return [text for child in children for text in _equals(child)]


def overridden() -> set[str]:
    """Every name tables/prices/overrides.toml prices (the generator leaves those out)."""
    if not OVERRIDES.is_file():
        return set()
    names = set()
    for row in tomllib.loads(OVERRIDES.read_text()).get("price", []):
        row_names = row.get("names", row.get("name"))
        names.update(n.strip().lower() for n in ([row_names] if isinstance(row_names, str) else row_names))
    return names


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
    """The vendor's defaults (VENDOR_DEFAULTS) as TOML: provider, [tiers.<tier>], [cache]."""
    defaults = VENDOR_DEFAULTS.get(vendor)
    if not defaults:
        return ["", "# Service tiers: standard only (no vendor default; a row's own tiers.* where genai-prices has them)."]
    lines = ["", "# Vendor defaults (SPEC §7): a tier a row has no tiers.<tier> of its own for is the row's",
             "# standard rates times `multiply`; [cache] gives cache reads/writes as multiples of the input rate;",
             "# [long_context] the rule of the rows that carry no long_context of their own.",
             f'provider = "{vendor}"']
    for tier, rule in defaults.get("tiers", {}).items():
        lines += ["", f"[tiers.{tier}]"]
        lines += [f"multiply = {rule['multiply']}"] if "multiply" in rule else [f'unknown = "{rule["unknown"]}"']
        lines.append(f'source = "{rule["source"]}"')
    long = defaults.get("long_context")
    if long:
        lines += ["", "[long_context]", f"above = {long['above']}", f"multiply = {long['multiply']}",
                  f'source = "{long["source"]}"']
    cache = defaults.get("cache")
    if cache:
        lines += ["", "[cache]"] + [f"{kind} = {cache[kind]}" for kind in ("read", "write", "write_1h") if kind in cache]
        lines.append(f'source = "{cache["source"]}"')
    return lines


def render(vendor: str, rows: dict[tuple, list[str]], missing: list[str], skipped: list[str],
           version: str, as_of: dt.date) -> str:
    """The TOML text of one generated vendor file."""
    lines = [
        f"# GENERATED by tables/update_prices.py from genai-prices {version} on {as_of}: do not edit.",
        "# USD per 1M input tokens (the image-input rate where genai-prices has one); cached_input is",
        "# the cache-read rate; long_context the rates once a request's input exceeds `above` tokens;",
        "# tiers.<tier> a service tier's rates where genai-prices has a variant for it (SPEC §7).",
        "# Hand-kept prices go in overrides.toml (loaded last). Format: see costcalc/pricing/tables.py.",
    ]
    if skipped:
        lines.append(f"# Priced in overrides.toml instead: {', '.join(skipped)}.")
    if missing:
        lines.append(f"# Not in genai-prices {version} (price unknown unless overrides.toml has it): "
                     f"{', '.join(missing)}.")
    lines += _vendor_lines(vendor)
    for row, names in rows.items():
        lines += ["", "[[price]]", "names = [" + ", ".join(f'"{n}"' for n in names) + "]"]
        lines += _rate_keys(Rates(row.usd_per_1m_input, row.cached_input, row.long_context))
        lines += [f'source = "{SOURCE.format(version=version, provider=row.provider, model=row.model)}"',
                  f'date = "{row.date}"', f'checked = "{as_of}"']
        for tier, rates in row.tiers:
            lines.append(f"tiers.{tier} = {{ {', '.join(_rate_keys(rates))} }}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write tables/prices/<vendor>.toml for every vendor in the model tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today(),
                        help="price the models on this date (default: today)")
    args = parser.parse_args(argv)
    import genai_prices
    from genai_prices.data_snapshot import get_snapshot

    version, pin = genai_prices.__version__, pinned_version()
    if version != pin:
        raise SystemExit(f"genai-prices {version} is installed but pyproject.toml pins {pin}: "
                         f"pip install genai-prices=={pin} (or bump the pin first)")
    snapshot, manual, tables = get_snapshot(), overridden(), model_tables()
    by_vendor: dict[str, dict[tuple, list[str]]] = defaultdict(dict)
    missing, skipped = defaultdict(list), defaultdict(list)
    for vendor, name in model_names():
        if name in manual:
            skipped[vendor].append(name)
            continue
        row = lookup(snapshot, vendor, name, args.as_of)
        if row is None:
            missing[vendor].append(name)
        else:
            by_vendor[vendor].setdefault(row, []).append(name)
            for snapshot_name, snapshot_row in snapshots(snapshot, tables, vendor, name, row, args.as_of):
                if snapshot_name not in manual:
                    by_vendor[vendor].setdefault(snapshot_row, []).append(snapshot_name)
    PRICES.mkdir(exist_ok=True)
    for vendor in sorted(set(by_vendor) | set(missing) | set(skipped)):
        path = PRICES / f"{vendor}.toml"
        path.write_text(render(vendor, by_vendor[vendor], missing[vendor], skipped[vendor], version, args.as_of))
        print(f"{path.relative_to(TABLES.parent)}: {sum(map(len, by_vendor[vendor].values()))} names priced, "
              f"{len(missing[vendor])} unknown, {len(skipped[vendor])} in overrides.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
