"""The plainest `costcalc estimate` and `costcalc audit` command lines, run without click (~35 ms of imports:
most of a start-up).

`costcalc estimate --size 1024x1024 -m gpt-4o` and `costcalc audit photos/ -m gpt-4o
--json` and their like — models, detail, tier, limits, --strict, --as-of, --regional,
an output format; for estimate files or sizes, for audit local folders, -j, --summary
and the walk's switches — are parsed here and run by the command's own code
(`estimating.run`, `auditing.run`). Anything else goes to click, as does every line
this module is not sure of: help, --fetch, --tables, --glob, a budget, data where it
lives, standard input, an option it does not know, a value that starts with `-`, `--`,
or a bad argument (so the error is click's, word for word; nothing is written before
it is known). tests/cli/test_quick.py holds both paths to the same arguments, output
and status.
"""

from __future__ import annotations

import os
import sys

from .common import BadArgument, parse_day, split_models

__all__ = ["run"]

_SHARED_VALUES = {"-m": "models", "--model": "models", "-d": "detail", "--detail": "detail"}
_SHARED_VALUES |= {"--limits": "edition", "--tier": "tier", "--as-of": "as_of"}
_SHARED_FLAGS = {"--strict": "strict", "--regional": "regional", "--json": "json", "--csv": "csv", "--nl": "nl"}
VALUES = {
    "estimate": {**_SHARED_VALUES, "-s": "sizes", "--size": "sizes"},
    "audit": {**_SHARED_VALUES, "-j": "jobs", "--jobs": "jobs"},
}
"""Each command's options that take a value, and what they set (sizes and models add up; the others: the last)."""
FLAGS = {
    "estimate": _SHARED_FLAGS,
    "audit": {
        **_SHARED_FLAGS,
        "--summary": "summary",
        "--allow-empty": "allow_empty",
        "--hidden": "hidden",
        "--follow-symlinks": "follow_symlinks",
        "--recursive": "recursive",
        "--no-recursive": "no_recursive",
    },
}
_MANY = ("sizes", "models")


def run(argv: list[str]) -> int | None:
    """The exit status of `costcalc *argv` run here, or None when click must run it (nothing written then)."""
    if os.environ.get("_COSTCALC_COMPLETE") or os.environ.get("COSTCALC_TABLES") or not argv:
        return None
    found = _parse(argv[0], argv[1:])
    if found is None:
        return None
    if argv[0] == "estimate":
        given = _estimate_arguments(found)
        return None if given is None else _estimate(given)
    given = _audit_arguments(found)
    return None if given is None else _audit(*given)


def _parse(command: str, tokens: list[str]) -> dict | None:
    """The options and positional arguments of `command`'s line, or None for a line left to click."""
    if command not in VALUES:
        return None
    values, flags = VALUES[command], FLAGS[command]
    short = {name for name in values if len(name) == 2}
    found: dict = {"sizes": [], "models": [], "positional": []}
    tokens = iter(tokens)
    for token in tokens:
        name, value = token, None
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        elif token[:2] in short and len(token) > 2:
            name, value = token[:2], token[2:]
        if name in values:
            value = next(tokens, None) if value is None else value
            if value is None or value.startswith("-"):
                return None
            key = values[name]
            if key in _MANY:
                found[key].append(value)
            else:
                found[key] = value
        elif name in flags and value is None:
            found[flags[name]] = True
        elif token.startswith("-"):  # help, --fetch, --tables, `-` (standard input), `--`, an unknown option
            return None
        else:
            found["positional"].append(token)
    return found


def _shared(found: dict) -> dict | None:
    """What both commands read alike: models (commas split them), detail, tier, the day, one output format."""
    from ..catalog.rows import DETAILS, TIERS

    models = split_models(found["models"])
    outputs = [name for name in ("json", "csv", "nl") if found.get(name)]
    detail, tier = found.get("detail", "auto"), found.get("tier", "standard")
    if not models or len(outputs) > 1 or detail not in DETAILS or tier not in TIERS:
        return None
    try:
        day = parse_day(found["as_of"]) if "as_of" in found else None
    except BadArgument:
        return None
    return {
        "models": models,
        "detail": detail,
        "edition": found.get("edition"),
        "tier": tier,
        "strict": bool(found.get("strict")),
        "output": outputs[0] if outputs else None,
        "table_files": (),
        "day": day,
        "regional": bool(found.get("regional")),
    }


def _estimate_arguments(found: dict) -> dict | None:
    shared = _shared(found)
    if shared is None:
        return None
    remote = {"fetch": False, "allow_private": False, "timeout": 10.0}
    return {"images": tuple(found["positional"]), "sizes": tuple(found["sizes"]), "remote": remote, **shared}


AUDIT_DEFAULTS = {
    "globs": (),
    "excludes": (),
    "max_tokens": None,
    "budget_usd": None,
    "html_path": None,
    "urls": False,
    "url_column": None,
    "column": None,
    "width_column": None,
    "height_column": None,
    "concurrency": 64,
    "allow_private": False,
    "parquet_out": None,
    "resume": False,
    "engine": "local",
}
"""What the audit's click options hold when not given, for those a quick line never gives (test_quick holds them to
click's)."""


def _audit_arguments(found: dict) -> tuple | None:
    shared = _shared(found)
    paths = tuple(found["positional"])
    jobs = found.get("jobs", str(os.cpu_count() or 1))
    if shared is None or not paths or not (jobs.isascii() and jobs.isdigit() and len(jobs) < 8) or int(jobs) < 1:
        return None
    if found.get("recursive") and found.get("no_recursive"):
        return None  # click takes the last one given: left to it
    from .sources import is_where_it_lives

    if is_where_it_lives(paths, AUDIT_DEFAULTS):
        return None
    day, regional, models = shared.pop("day"), shared.pop("regional"), shared.pop("models")
    given = {
        **AUDIT_DEFAULTS,
        **shared,
        "recursive": not found.get("no_recursive"),
        "follow_symlinks": bool(found.get("follow_symlinks")),
        "hidden": bool(found.get("hidden")),
        "summary": bool(found.get("summary")),
        "allow_empty": bool(found.get("allow_empty")),
        "jobs": int(jobs),
    }
    return paths, models, given, day, regional


def _estimate(given: dict) -> int | None:
    """estimating.run with what it writes held until it is done: any error before then, and click runs the line."""
    from .estimating import run as estimate

    held = _Held()
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = held.stream("out"), held.stream("err")
    try:
        status = estimate(**given)
    except Exception:  # a bad argument, anything: click runs the line and says it, in its words
        return None
    finally:
        sys.stdout, sys.stderr = real
    return held.replay(status)


def _audit(paths, models, given: dict, day, regional) -> int | None:
    """auditing.run, its rows streamed: a bad argument comes before any output (then click runs the line); an
    error after it is worded as the click group words it."""
    from ..errors import CostcalcError
    from .auditing import run as audit
    from .common import ExitCode, echo, text_streams

    text_streams()
    try:
        return audit(paths, models, given, day=day, regional=regional)
    except BadArgument:
        return None
    except KeyboardInterrupt:
        echo("\ninterrupted", err=True)
        return ExitCode.INTERRUPTED
    except (CostcalcError, MemoryError, OSError) as error:
        return _failed(error, paths)


def _failed(error: BaseException, paths=()) -> int:
    """Say `error` as the click group says it (common.failure), once output has begun; its exit status. The
    `paths` given are said as they are."""
    from .common import echo, failure
    from .words import line_words, named_paths

    worded = failure(error)
    if worded is None:  # a closed pipe: console.py ends quietly
        raise error
    echo(f"Error: {line_words(worded[0], named_paths(paths))}", err=True)
    return worded[1]


class _Held:
    """What the command wrote to stdout and stderr, in order, until it is done."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str]] = []

    def stream(self, which: str) -> _Stream:
        return _Stream(self.parts, which)

    def replay(self, status: int) -> int:
        """Write it all out (stdout as the click group sets it up: common.text_streams); the exit status: the
        command's, also when the reader leaves early (| head: console.py's promise)."""
        from ..interrupt import quiet_stdout
        from .common import text_streams

        text_streams()
        try:
            for which, text in self.parts:
                stream = sys.stdout if which == "out" else sys.stderr
                if stream is not None:  # a closed stream (2>&-) is None: click.echo leaves it out too
                    stream.write(text)
                    stream.flush()
        except BrokenPipeError:
            quiet_stdout()
        except OSError as error:  # a disk full: one line, as the click group says it
            return _failed(error)
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
