"""The billing schemes, one module each, and their registry (in the spirit of tiktoken's and Pillow's plugins).

A model table row names its scheme (`scheme = "tile"`); `REGISTRY` maps that word
to the module that holds it, loaded on first use. A scheme module holds its rule
dataclasses (`base.Rule`: one size, NumPy arrays, rejections, its `models` cell),
and a `SCHEME` (`base.Scheme`): its row keys, its parser, what the probe compares.
Adding a scheme is one module and one line here.

    >>> from costcalc import schemes
    >>> schemes.get("tile").probe_level
    'high'
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)

if TYPE_CHECKING:  # pragma: no cover
    from .base import Scheme

__all__ = ["REGISTRY", "get", "words"]

REGISTRY: dict[str, str] = {
    "tile": "costcalc.schemes.tile",  # OpenAI tiles: a flat low, tiles at high
    "patch": "costcalc.schemes.patch",  # OpenAI patches: pixel limit, budget, multiplier
    "claude": "costcalc.schemes.claude",  # Anthropic
    "fixed": "costcalc.schemes.fixed",  # one count per image and level: Gemini 2.5 / 3, Nova 2
    "gemini_tiles": "costcalc.schemes.gemini_tiles",  # Gemini 2.0 / 1.5
    "mistral": "costcalc.schemes.mistral",
    "qwen": "costcalc.schemes.qwen",  # Qwen-VL on DashScope
    "nearest": "costcalc.schemes.nearest",  # Amazon Nova 1
    "llama4": "costcalc.schemes.llama4",  # Meta Llama 4
    "unknown": "costcalc.schemes.unknown",  # no public rule: an error, never a guess
}
"""Scheme word → the module holding it (its `SCHEME`), in the order messages list them."""

_RULES = {
    "FixedRule": "tile",
    "TileRule": "tile",
    "PatchRule": "patch",
    "ClaudeRule": "claude",
    "FlatRule": "fixed",
    "GeminiTileRule": "gemini_tiles",
    "MistralRule": "mistral",
    "QwenRule": "qwen",
    "NearestRule": "nearest",
    "Llama4Rule": "llama4",
    "UnpublishedRule": "unknown",
}
"""The shipped rule classes by name, for `from costcalc.schemes import TileRule`."""


def words() -> tuple[str, ...]:
    """Every registered scheme word."""
    return tuple(REGISTRY)


_LOADED: dict[str, Scheme] = {}


def get(word: str) -> Scheme:
    """The scheme a table's `scheme` word names, its module imported on first use; KeyError for a word not in
    REGISTRY."""
    module = REGISTRY[word]
    scheme = _LOADED.get(module)
    if scheme is None:
        scheme = _LOADED[module] = import_module(module).SCHEME
    return scheme


def __getattr__(name: str):
    if name in _RULES:
        return getattr(import_module(REGISTRY[_RULES[name]]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
