"""The command line's words for the library's parameters: `max_usd` → `--max-usd`.

The library words its messages with its own parameter names (a Python user of
`guard()` or `check_budget` reads `max_usd`); the command line says the flag the
user typed instead. Budgets are data (`money.Overrun`), worded with FLAGS; the few
other messages that name a parameter are rewritten by `flag_words`, one table.
"""

from __future__ import annotations

import os
import re

from ..words import escape

__all__ = ["FLAGS", "flag_words", "line_words", "named_paths", "overrun_words"]

FLAGS = {"max_tokens": "--max-tokens", "max_usd": "--max-usd", "total_usd": "--total-usd"}
"""Budget parameters (Overrun.kind) as the command line spells them."""

_PHRASES = [
    (re.compile(r"\b(a|drop) max_tokens\b"), r"\1 --max-tokens"),
    (re.compile(r"^max_tokens cannot be "), "--max-tokens cannot be "),
    (re.compile(r"\ballow_private=True\b"), "allow_private=True (--allow-private)"),  # as the README shows it
    (re.compile(r"\bfirst_frame=True\b"), "first_frame (--first-frame)"),
    (re.compile(r"\bin_place=True\b"), "--in-place"),
    (re.compile(r"\boverwrite=True\b"), "--overwrite"),
    (re.compile(r"^(glob|exclude) pattern "), r"--\1 "),
    (re.compile(r"\bformat='jpeg' or 'webp'"), "--format jpeg or webp"),
    (re.compile(r"\bpass replace=True\b"), "pass --force"),
    (re.compile(r"\(follow_symlinks=True follows it\)"), "(use --follow-symlinks)"),
    (re.compile(r"\(give it with file_sizes=\)"), "(give it with file_sizes= or --file-size)"),
    (re.compile(r"\(pass fetch=True\)"), "(pass fetch=True, or --fetch)"),
    (re.compile(r"; pass model=$"), "; pass -m MODEL"),
    (re.compile(r"\bchoose another outdir folder\b"), "choose another --extract folder"),
    (re.compile(r"^base_url "), "--base-url "),
    (re.compile(r"^row_file ''"), "--write ''"),
    (re.compile(r"^detail (\S+):"), r"--detail \1:"),
    (re.compile(r"(^|: )api (\S+):"), r"\1--api \2:"),
    (re.compile(r"\b(give|leave) api\b"), r"\1 --api"),
]
"""Library phrases that name a parameter, and the flag the command line says instead."""


def flag_words(message: str) -> str:
    """A library message as the command line says it: each parameter it names spelled as its flag."""
    for pattern, flag in _PHRASES:
        message = pattern.sub(flag, message)
    return message


def line_words(message: str, kept=()) -> str:
    """A library message as one line for stderr: its parameters as flags (`flag_words`), and anything from outside
    in it (a file name, a custom_id, a model name from a bill) with visible escapes, never raw control characters
    (words.escape). The `kept` strings (the file's name the message starts with) are never reworded."""
    spans = sorted({text for text in kept if text and text in message}, key=len, reverse=True)
    if not spans:
        return escape(flag_words(message))
    names = "|".join(map(re.escape, spans))  # a whole name, where a message names one: at its start or after ": "
    pieces = re.split(r"(?:^|(?<=: ))(" + names + r")(?!\w)", message)
    return escape("".join(piece if index % 2 else flag_words(piece) for index, piece in enumerate(pieces)))


def named_paths(words) -> list[str]:
    """The words of a command line that name a file or folder (a dangling link too), as typed and as shown: an
    error line keeps them as they are (`line_words`' `kept`), never in flags."""
    return [
        form
        for text in words
        if isinstance(text, str) and text and not text.startswith("-") and os.path.lexists(text)
        for form in (text, escape(text))
    ]


def overrun_words(overruns) -> list[str]:
    """Each budget overrun (money.Overrun) in one line, naming its limit by flag."""
    return [overrun.words(FLAGS) for overrun in overruns]
