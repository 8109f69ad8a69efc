"""Budget gates: a total against --max-tokens / --max-usd, failing closed on an unknown price."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["over_budget", "parse_usd"]


def over_budget(
    label: str,
    tokens: int,
    usd: Decimal | None,
    *,
    max_tokens: int | None = None,
    max_usd: Decimal | None = None,
) -> list[str]:
    """Why a total breaks the budget, one message per limit; empty when it fits.

    `usd` None means some price is unknown: a USD limit then cannot be shown to
    hold, and counts as broken (a budget gate fails closed).
    """
    problems = []
    if max_tokens is not None and tokens > max_tokens:
        problems.append(f"{label}: {tokens:,} tokens, over --max-tokens {max_tokens:,}")
    if max_usd is not None:
        if usd is None:
            problems.append(f"{label}: price unknown, so --max-usd {max_usd} cannot be checked")
        elif usd > max_usd:
            problems.append(f"{label}: ${usd}, over --max-usd {max_usd}")
    return problems


def parse_usd(text: str) -> Decimal:
    """A non-negative dollar amount, exactly ('0.50', '$12'); ValueError otherwise."""
    try:
        value = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of dollars") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} is not an amount of dollars")
    return value
