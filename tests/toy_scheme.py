"""A toy billing scheme, as a plugin would add one: this module and one line in `costcalc.schemes.REGISTRY`.

`scheme = "toy"`: each started `square` × `square` px square costs `per_square` tokens;
a side over `max_side` is rejected. Used by tests/schemes/test_registry.py only.
"""

from __future__ import annotations

from dataclasses import dataclass

from costcalc.schemes.base import Parsed, Rule, Scheme, Sizing, too_large


@dataclass(frozen=True, slots=True)
class SquareRule(Rule):
    square: int
    per_square: int
    max_side: int

    def size(self, width: int, height: int) -> Sizing:
        squares = -(-width // self.square) * -(-height // self.square)
        return Sizing(width, height, squares, None, squares * self.per_square)

    def reject(self, width: int, height: int, sizing: Sizing) -> tuple[str, str] | None:
        return too_large("max_side", self.max_side, width, height)

    def cell(self) -> str:
        return f"{self.per_square}/{self.square}px"

    def long_short_array(self, long, short):
        squares = -(-long // self.square) * -(-short // self.square)
        return long, short, squares, squares * self.per_square

    def reject_array(self, long, short, units):
        return long > self.max_side


def parse(row) -> Parsed:
    rule = SquareRule(row.integer("square"), row.integer("per_square"), row.integer("max_side"))
    return Parsed((("auto", rule),), "auto")


SCHEME = Scheme(keys=frozenset({"square", "per_square", "max_side"}), parse=parse)
