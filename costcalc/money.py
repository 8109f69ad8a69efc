"""Money and budget gates: exact USD arithmetic, and a total against --max-tokens / --max-usd (failing closed).

USD never depends on the caller's `decimal` context (issue 9, exact money): every
sum, product and rounding of money runs in MONEY, a fixed context wide enough to
be exact for every value a table allows (at most 12 decimal places and 2**24 USD
per 1M tokens, so any amount is a whole number of 1e-18 USD, far inside 60 digits).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext

__all__ = ["MONEY", "MAX_USD", "over_budget", "parse_usd", "usd_sum"]

MONEY = Context(prec=60, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999, capitals=1, clamp=0, flags=[],
                traps=[InvalidOperation, DivisionByZero, Overflow])  # fmt: skip
"""The one `decimal` context money is computed in, whatever the caller's is; every field is set, none inherited."""

MAX_USD = Decimal(10) ** 15
"""The largest --max-usd accepted (a JSON number must stay finite)."""


def usd_sum(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of USD amounts, computed in MONEY."""
    with localcontext(MONEY):
        return sum(amounts, Decimal(0))


def over_budget(
    label: str,
    tokens: int | None,
    usd: Decimal | None,
    *,
    max_tokens: int | None = None,
    max_usd: Decimal | None = None,
) -> list[str]:
    """Why a total breaks the budget, one message per limit; empty when it fits.

    `usd` None means some price is unknown, `tokens` None some tokens (an unpublished
    multiplier, SPEC §2a): that limit then cannot be shown to hold, and counts as
    broken (a budget gate fails closed).
    """
    problems = []
    if max_tokens is not None and tokens is None:
        problems.append(f"{label}: tokens unknown (multiplier unpublished), so --max-tokens {max_tokens:,} "
                        f"cannot be checked")
    elif max_tokens is not None and tokens > max_tokens:
        problems.append(f"{label}: {tokens:,} tokens, over --max-tokens {max_tokens:,}")
    if max_usd is not None:
        if usd is None:
            what = "tokens" if tokens is None else "price"
            problems.append(f"{label}: {what} unknown, so --max-usd {max_usd} cannot be checked")
        else:
            with localcontext(MONEY):
                over = usd > max_usd
            if over:
                problems.append(f"{label}: ${MONEY.normalize(usd):f}, over --max-usd {max_usd:f}")
    return problems


def parse_usd(text: str) -> Decimal:
    """A non-negative dollar amount up to MAX_USD, exactly ('0.50', '$12'); ValueError otherwise."""
    try:
        with localcontext(MONEY):
            value = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of dollars") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} is not an amount of dollars")
    if value > MAX_USD:
        raise ValueError(f"{text!r} is more than {MAX_USD:,f} dollars")
    return value
