"""Money and budget gates: exact USD arithmetic, and a total against max_tokens / max_usd (failing closed).

A broken budget is data (`Overrun`), worded by whoever shows it: the library with
its parameter names (`max_usd`), the command line with its flags (`--max-usd`).

USD never depends on the caller's `decimal` context (issue 9, exact money): every
sum, product and rounding of money runs in MONEY, a fixed context wide enough to
be exact for every value a table allows (at most 12 decimal places and 2**24 USD
per 1M tokens, so any amount is a whole number of 1e-18 USD, far inside 60 digits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext

from .records import record

__all__ = ["MONEY", "MAX_USD", "Overrun", "over_budget", "parse_usd", "usd_sum"]

MONEY = Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""The one `decimal` context money is computed in, whatever the caller's is; every field is set, none inherited."""

MAX_USD = Decimal(10) ** 15
"""The largest max_usd accepted (a JSON number must stay finite)."""


def usd_sum(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of USD amounts, computed in MONEY."""
    with localcontext(MONEY):
        return sum(amounts, Decimal(0))


@record
class Overrun:
    """One way a total breaks a budget, as data: what went over (`label`), which limit (`kind`: the
    parameter, `max_tokens`, `max_usd` or `total_usd`; `budget` for the budget as a whole), the limit,
    and the total (`value`; None when unknown, which fails closed, with `unknown` saying what is unknown).

    `words()` says it with the parameter names (`over max_usd 0.05`), `words(names)` with the caller's own
    names for them (the command line passes {"max_usd": "--max-usd", ...}); `str()` is `words()`.
    """

    label: str
    kind: str
    limit: int | Decimal | None
    value: int | Decimal | None
    unknown: str = ""

    def words(self, names: Mapping[str, str] | None = None) -> str:
        """The overrun in one line, naming its limit as `names` spells it (default: the parameter name)."""
        name = (names or {}).get(self.kind, self.kind)
        if self.kind == "budget":
            return f"{self.unknown}, so the budget cannot be checked"
        if self.kind == "max_tokens":
            if self.value is None:
                return f"{self.label}: {self.unknown}, so {name} {self.limit:,} cannot be checked"
            return f"{self.label}: {self.value:,} tokens, over {name} {self.limit:,}"
        if self.value is None:
            return f"{self.label}: {self.unknown} unknown, so {name} {self.limit} cannot be checked"
        return f"{self.label}: ${MONEY.normalize(self.value):f}, over {name} {self.limit:f}"

    def __str__(self) -> str:
        return self.words()


def over_budget(
    label: str,
    tokens: int | None,
    usd: Decimal | None,
    *,
    max_tokens: int | None = None,
    max_usd: Decimal | None = None,
) -> list[Overrun]:
    """How a total breaks the budget, one Overrun per limit; empty when it fits.

    `usd` None means some price is unknown, `tokens` None some tokens (an unpublished
    multiplier): that limit then cannot be shown to hold, and counts as
    broken (a budget gate fails closed).
    """
    problems = []
    if max_tokens is not None and tokens is None:
        problems.append(Overrun(label, "max_tokens", max_tokens, None, "tokens unknown (multiplier unpublished)"))
    elif max_tokens is not None and tokens > max_tokens:
        problems.append(Overrun(label, "max_tokens", max_tokens, tokens))
    if max_usd is not None:
        if usd is None:
            problems.append(Overrun(label, "max_usd", max_usd, None, "tokens" if tokens is None else "price"))
        else:
            with localcontext(MONEY):
                over = usd > max_usd
            if over:
                problems.append(Overrun(label, "max_usd", max_usd, usd))
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
