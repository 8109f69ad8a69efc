"""`scheme = "unknown"`: a model or detail level with no public rule (docs/README.md): pricing it is an error, never a guess."""

from __future__ import annotations

from ..records import record
from .base import Parsed, Rule, Scheme, Sizing
from .fields import Row

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import ClassVar

__all__ = ["UnpublishedRule", "SCHEME"]


@record
class UnpublishedRule(Rule):
    """A model or detail level with no public rule: pricing it is an error, never a guess.

    `Model.rule` raises UnpublishedRuleError before a size is priced; `size` raises it too.
    Other schemes use it for a level written `"unknown"`.
    """

    note: str
    basis: ClassVar[str] = "unknown"

    def size(self, width: int, height: int) -> Sizing:
        """Always UnpublishedRuleError: there is no rule to apply."""
        from ..errors import UnpublishedRuleError

        raise UnpublishedRuleError("this model", "auto", self.note)

    def cell(self) -> str:
        """`unknown`."""
        return "unknown"


def parse(row: Row) -> Parsed:
    """An unknown row: its note says what is not published."""
    if not row.note:
        raise row.error("an unknown row needs a note saying what is not published")
    return Parsed((("auto", UnpublishedRule(row.note)),), "auto")


SCHEME = Scheme(keys=frozenset(), parse=parse)
