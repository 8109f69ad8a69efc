"""Reading what reconcile checks: logs of request/response lines, OpenAI Batch input and output pairs, bills.

A file that cannot be read, or a line that is not a JSON object, is one LogReadError naming FILE:LINE;
a line that cannot be joined or carries no answer is a Skip with the reason. Each answer's usage is read
into a Bill by its vendor shape (costcalc.vendors).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import LogReadError
from ..files import LineTooLongError, bounded_lines
from ..vendors import Bill, read_bill
from ..vendors import error_text as _error_text
from ..vendors.base import Unbilled
from ..words import json_kind, os_reason

__all__ = ["Exchange", "Skip", "Bill", "read_log", "read_batch", "bill_of", "named_model"]


@dataclass(frozen=True)
class Exchange:
    """One request with the API's answer, and where it was read (FILE:LINE)."""

    where: str
    request: Any
    response: Any
    model: str | None = None
    """A model named beside the two (a log line's own "model"), used when the request names none."""
    date: _dt.date | None = None
    """The day the request was made, where the log says (`date` / `timestamp` beside it, or the answer's
    `created`): its prices and lifecycle are that day's."""


@dataclass(frozen=True)
class Skip:
    """A line that was not reconciled, and why."""

    where: str
    reason: str
    model: str | None = None
    """The model it would count for, when known."""



def _lines(path: str) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) of each non-blank line; LogReadError names FILE:LINE for one that is not JSON."""
    try:
        stream = _open(path)
    except IsADirectoryError:
        raise LogReadError(f"{path}: is a folder, not a JSON lines file") from None
    except OSError as error:
        raise LogReadError(f"{path}: {os_reason(error)}") from None
    with stream as lines:
        number = 0
        try:
            for number, raw in enumerate(bounded_lines(lines), 1):
                if not raw.strip():
                    continue
                try:
                    yield number, json.loads(raw, parse_int=_whole_number)
                except _TooLong as error:
                    raise LogReadError(f"{path}:{number}: {error}") from None
                except UnicodeDecodeError as error:
                    raise LogReadError(f"{path}:{number}: not UTF-8 text ({error.reason} at byte {error.start})") from None
                except ValueError as error:
                    raise LogReadError(f"{path}:{number}: not JSON ({getattr(error, 'msg', error)})") from None
                except RecursionError:
                    raise LogReadError(f"{path}:{number}: JSON nested too deeply to read") from None
        except OSError as error:
            raise LogReadError(f"{path}:{number + 1}: {os_reason(error)}") from None
        except LineTooLongError as error:  # /dev/zero, an endless stdin: an error after the cap, not an OOM
            raise LogReadError(f"{path}:{error.line}: a line {error}") from None


class _TooLong(ValueError):
    """A JSON integer too long to read as a number: the reason, in plain words."""


_MAX_DIGITS = 4300
"""The longest integer a line may hold: Python's own limit on reading one (sys.int_info.default_max_str_digits)."""


def _whole_number(text: str) -> int:
    """A JSON integer of a log line; _TooLong (not Python's limit message) for one of more than _MAX_DIGITS digits."""
    digits = len(text) - text.startswith("-")
    if digits > _MAX_DIGITS:
        raise _TooLong(f"a number of {digits:,} digits, too long to read (at most {_MAX_DIGITS:,})")
    return int(text)


def _open(path: str):
    """The file to read lines from ("-": standard input).

    Opened without waiting for a writer (a FIFO nobody writes reads as empty,
    where a plain open would block), then read blocking as usual.
    """
    if path == "-":
        return contextlib.nullcontext(getattr(sys.stdin, "buffer", sys.stdin))  # read, never closed
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            raise IsADirectoryError(path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return open(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _object(path: str, number: int, value: Any, what: str) -> dict:
    """The line as a JSON object, or LogReadError naming it."""
    if not isinstance(value, dict):
        raise LogReadError(f"{path}:{number}: expected a JSON object ({what}), not {json_kind(value)}")
    return value


def named_model(value: Any) -> str | None:
    """A model name found in a payload or answer, when it is one."""
    if isinstance(value, dict):
        for key in ("model", "modelVersion", "model_version", "modelId"):
            name = value.get(key)
            if isinstance(name, str) and name.strip():
                return name
    return None


def read_log(path: str) -> Iterator[Exchange | Skip]:
    """The exchanges of a log of `{"request", "response"}` JSON lines ("-": standard input).

    A line that is not a JSON object is a LogReadError naming FILE:LINE (and a
    Batch input line says to give its output file too); a line without a
    request or a response is a Skip.
    """
    for number, value in _lines(path):
        where = f"{path}:{number}"
        line = _object(path, number, value, 'a {"request": ..., "response": ...} line')
        if "request" not in line and "custom_id" in line and "body" in line:
            raise LogReadError(f"{where}: an OpenAI Batch input line: give its output file as a second argument")
        if "request" not in line and "custom_id" in line and "response" in line:
            raise LogReadError(f"{where}: an OpenAI Batch output line: give the Batch input file first, then this one")
        hint = line.get("model") if isinstance(line.get("model"), str) else None
        missing = [key for key in ("request", "response") if line.get(key) is None]
        if missing:
            model = hint or named_model(line.get("request")) or named_model(line.get("response"))
            yield Skip(where, f"no {' and no '.join(repr(key) for key in missing)} in the line", model)
            continue
        yield Exchange(where, line["request"], line["response"], hint, logged_day(line, line["response"]))


def read_batch(input_path: str, output_path: str) -> Iterator[Exchange | Skip]:
    """The exchanges of an OpenAI Batch input file and its output file, joined by custom_id.

    Either file's lines may come in any order. An input line with no answer, an
    answer that is an error (`error`, or an HTTP status other than 200), an
    answer to no input line, and a repeated custom_id are Skips, with the reason.
    """
    answers: dict[str, tuple[str, dict]] = {}
    skips: list[Skip] = []
    for number, value in _lines(output_path):
        where = f"{output_path}:{number}"
        line = _object(output_path, number, value, "a Batch output line")
        if "response" not in line and "body" in line and "custom_id" in line:
            raise LogReadError(f"{where}: a Batch input line: give the Batch input file first, then its output file")
        custom_id = line.get("custom_id")
        if not isinstance(custom_id, str):
            skips.append(Skip(where, "no custom_id: cannot be joined"))
        elif custom_id in answers:
            skips.append(Skip(where, f"custom_id {custom_id!r} repeated (first at {answers[custom_id][0]})"))
        else:
            answers[custom_id] = (where, line)
    seen: dict[str, str] = {}
    for number, value in _lines(input_path):
        where = f"{input_path}:{number}"
        line = _object(input_path, number, value, "a Batch input line")
        if "body" not in line and "response" in line and "custom_id" in line:
            raise LogReadError(f"{where}: a Batch output line: give the Batch input file first, then its output file")
        custom_id, body = line.get("custom_id"), line.get("body")
        model = named_model(body)
        if not isinstance(custom_id, str):
            yield Skip(where, "no custom_id: cannot be joined", model)
            continue
        if custom_id in seen:
            yield Skip(where, f"custom_id {custom_id!r} repeated (first at {seen[custom_id]})", model)
            continue
        seen[custom_id] = where
        if body is None:
            yield Skip(where, f"custom_id {custom_id!r}: no 'body' (the request)", model)
            answers.pop(custom_id, None)
            continue
        answered = answers.pop(custom_id, None)
        if answered is None:
            yield Skip(where, f"custom_id {custom_id!r}: no answer in {output_path}", model)
            continue
        answer_at, answer = answered
        problem = _batch_problem(answer)
        if problem:
            yield Skip(where, f"custom_id {custom_id!r}: {problem} ({answer_at})", model)
            continue
        yield Exchange(where, body, answer["response"]["body"], None, logged_day({}, answer["response"]["body"]))
    yield from skips
    for custom_id, (where, _) in answers.items():
        yield Skip(where, f"custom_id {custom_id!r} is not in {input_path}: cannot be joined")


def _batch_problem(answer: dict) -> str | None:
    """Why a Batch output line holds no usable answer (an error, a failed status, no body); None when it does."""
    error = answer.get("error")
    if error:
        return f"the batch reports an error: {_error_text(error)}"
    response = answer.get("response")
    if not isinstance(response, dict):
        return "no 'response' in the answer"
    status = response.get("status_code")
    body = response.get("body")
    if status is not None and status != 200:
        detail = _error_text(body.get("error")) if isinstance(body, dict) and body.get("error") else ""
        return f"the API answered HTTP {status}" + (f": {detail}" if detail else "")
    if body is None:
        return "no 'body' in the answer's response"
    return None


def bill_of(response: Any) -> Bill:
    """What an API answer's usage bills for its prompt; ValueError with the reason when it bills nothing.

    Reads OpenAI Chat Completions (`usage.prompt_tokens`), Responses
    (`usage.input_tokens`), Anthropic Messages (`usage.input_tokens` plus cache
    creation and cache reads) and Gemini (`usageMetadata.promptTokenCount`,
    camelCase or snake_case, with `promptTokensDetails` by modality): each vendor
    shape reads its own (costcalc.vendors).
    """
    try:
        return read_bill(response)
    except Unbilled as reason:
        raise ValueError(str(reason)) from None


def logged_day(line: Any, response: Any) -> _dt.date | None:
    """The UTC day a logged request was made: a `date` or `timestamp` beside it (ISO text, or seconds since the
    epoch), else its answer's `created` (seconds since the epoch, as OpenAI's responses carry); None when neither
    says, or says something that is not a date."""
    for holder, key in ((line, "date"), (line, "timestamp"), (response, "created"), (response, "created_at")):
        value = holder.get(key) if isinstance(holder, dict) else None
        day = _day(value)
        if day is not None:
            return day
    return None


def _day(value: Any) -> _dt.date | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return _dt.datetime.fromtimestamp(value / 1000 if value > 10**11 else value, _dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            moment = _dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(_dt.UTC)
        return moment.date()
    return None
