"""The plainest `costcalc estimate` command lines, run without click (~35 ms of imports: most of a start-up).

`costcalc estimate --size 1024x1024 -m gpt-4o` and its like — files or sizes, models,
detail, tier, limits, --strict, --as-of, --regional and an output format — are parsed
here and run by the command's own code (`estimating.run`), with what it writes held
until it is done. Anything else goes to click, as does every line this module is not
sure of: help, --fetch, --tables, standard input, an option it does not know, a value
that starts with `-`, `--`, a bad argument (so the error is click's, word for word), or
any error at all before the output (nothing was written yet; the command runs again
under click). tests/cli/test_quick.py holds both paths to the same output and status.
"""

from __future__ import annotations

import os
import sys

from .common import BadArgument

__all__ = ["run"]

_VALUES = {
    "-s": "sizes",
    "--size": "sizes",
    "-m": "models",
    "--model": "models",
    "-d": "detail",
    "--detail": "detail",
    "--limits": "edition",
    "--tier": "tier",
    "--as-of": "as_of",
}
"""The options that take a value, and what they set (sizes and models add up; the others: the last one given)."""
_FLAGS = {"--strict": "strict", "--regional": "regional", "--json": "json", "--csv": "csv", "--nl": "nl"}
_DECLINE = None


def run(argv: list[str]) -> int | None:
    """The exit status of `costcalc *argv` run here, or None when click must run it (nothing written then)."""
    if os.environ.get("_COSTCALC_COMPLETE") or os.environ.get("COSTCALC_TABLES"):
        return _DECLINE
    given = _parse(argv)
    if given is None:
        return _DECLINE
    from .estimating import run as estimate

    held = _Held()
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = held.stream("out"), held.stream("err")
    try:
        status = estimate(**given)
    except (BadArgument, Exception):  # click says it, in its words
        return _DECLINE
    finally:
        sys.stdout, sys.stderr = real
    return held.replay(status)


def _parse(argv: list[str]) -> dict | None:
    """estimating.run's arguments from `estimate ...`, or None for a line left to click."""
    if not argv or argv[0] != "estimate":
        return None
    found: dict = {"sizes": [], "models": [], "images": []}
    tokens = iter(argv[1:])
    for token in tokens:
        name, value = token, None
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        elif token[:2] in ("-s", "-m", "-d") and len(token) > 2:
            name, value = token[:2], token[2:]
        if name in _VALUES:
            value = next(tokens, None) if value is None else value
            if value is None or value.startswith("-"):
                return None
            key = _VALUES[name]
            if key in ("sizes", "models"):
                found[key].append(value)
            else:
                found[key] = value
        elif name in _FLAGS and value is None:
            found[_FLAGS[name]] = True
        elif token.startswith("-"):  # help, --fetch, --tables, `-` (standard input), `--`, an unknown option
            return None
        else:
            found["images"].append(token)
    return _arguments(found)


def _arguments(found: dict) -> dict | None:
    from ..catalog.rows import DETAILS, TIERS

    models = tuple(name.strip() for text in found["models"] for name in text.split(",") if name.strip())
    outputs = [name for name in ("json", "csv", "nl") if found.get(name)]
    detail, tier = found.get("detail", "auto"), found.get("tier", "standard")
    if not models or len(outputs) > 1 or detail not in DETAILS or tier not in TIERS:
        return None
    day = None
    if "as_of" in found:
        import datetime as dt

        try:
            day = dt.date.fromisoformat(found["as_of"].strip())
        except ValueError:
            return None
    return {
        "images": tuple(found["images"]),
        "sizes": tuple(found["sizes"]),
        "models": models,
        "detail": detail,
        "edition": found.get("edition"),
        "tier": tier,
        "strict": bool(found.get("strict")),
        "remote": {"fetch": False, "allow_private": False, "timeout": 10.0},
        "output": outputs[0] if outputs else None,
        "table_files": (),
        "day": day,
        "regional": bool(found.get("regional")),
    }


class _Held:
    """What the command wrote to stdout and stderr, in order, until it is done."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str]] = []

    def stream(self, which: str) -> _Stream:
        return _Stream(self.parts, which)

    def replay(self, status: int) -> int:
        """Write it all out (stdout as the click group sets it up: common.text_streams); the exit status."""
        from .common import ExitCode, text_streams

        text_streams()
        try:
            for which, text in self.parts:
                stream = sys.stdout if which == "out" else sys.stderr
                stream.write(text)
                stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:  # a disk full: one line, as the click group says it
            sys.stderr.write(f"Error: {getattr(error, 'filename', None) or 'output'}: {error.strerror or error}\n")
            return ExitCode.UNPRICED
        return status


class _Stream:
    """A text stream that keeps what is written to it (`_Held`)."""

    def __init__(self, parts: list, which: str) -> None:
        self.parts, self.which = parts, which

    def write(self, text: str) -> int:
        self.parts.append((self.which, text))
        return len(text)

    def flush(self) -> None:
        pass
