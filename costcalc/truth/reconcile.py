"""Reconcile: do the API's bills agree with the predicted image tokens? (SPEC §8, issue 11).

Input is requests together with the API's answers, either

- a log: JSON lines of `{"request": <payload>, "response": <API response>}`
  (an optional `"model"` beside them names the model when neither does), or
- an OpenAI Batch pair (SPEC §9): the input file, JSON lines of
  `{"custom_id", "method", "url", "body"}`, and its output file, JSON lines of
  `{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`,
  joined by `custom_id` (in any order).

For each request, `count_request` predicts the image tokens (every payload
shape it reads: Chat Completions, Responses, Anthropic Messages, Gemini ...),
and the answer's `usage` gives what was billed:

- OpenAI Chat Completions: `usage.prompt_tokens` (`prompt_tokens_details`);
- OpenAI Responses: `usage.input_tokens` (`input_tokens_details`);
- Anthropic Messages: `usage.input_tokens + cache_creation_input_tokens + cache_read_input_tokens`;
- Gemini: `usageMetadata.promptTokenCount`, with `promptTokensDetails`
  (`[{"modality": "IMAGE", "tokenCount": N}, ...]`) when present.

A bill names the whole prompt, text and images together. The image tokens it
implies are found, per request, by the first of these that applies:

1. **reported** — the answer splits the prompt itself: Gemini's IMAGE
   modality count, or `image_tokens` / `text_tokens` in the usage details
   (xAI and some gateways). Image = that count (or total − reported text).
2. **text counted** — `count_request` counted the request's text
   (`text_tokens`, OpenAI with tiktoken): image = total − text − audio.
3. **fit** — only the total is known. Per model and API shape, the bills are
   regressed on the predictions, `billed total = framing + slope × predicted`,
   with the Theil–Sen estimator (the median of the slopes between pairs of
   requests whose predictions differ; the intercept the median residual), so a
   few odd requests do not move it. The intercept is the text and framing a
   request carries besides its images (never below 0); image = total − intercept.
   The line is used only when it is sure: its slope's standard error (from the
   bills' scatter, a scaled MAD) is within half the tolerance, and the median
   bill of every image size lies on it (within half the tolerance, give or
   take its scatter). This needs requests whose predictions differ (several
   image sizes, or some requests with no image).
4. **bound** — where 3 finds no sure line, text and images cannot be told
   apart: every request predicts the same count, the text scatters too much,
   or the bills are off the rule in shape (a cap, one size billed otherwise).
   The whole prompts are then an upper bound on the image tokens. The verdict
   is `agrees: false` when even they fall short of the prediction
   (`upper_bound: true`), or when no one framing per request brings every
   image size's median bill within the tolerance of the rule (a rule off in
   shape); otherwise unknown (`agrees: null`).
Residual framing left by method 2 is fitted the same way as in 3 (the
intercept may then be negative: a text count slightly high), or left at 0
where no sure line is found.

A constant per-request offset is therefore read as framing, never as a rule
error: a rule that is off by a constant per image, in single-image requests, is
not seen; the fitted `framing_per_request` is reported so it can be judged.

Verdict, per model: `ratio = billed image tokens / predicted`. The bills agree
when they are within `TOLERANCE` (5%) of the prediction, or within one token per
image (OpenAI's billing may differ from its formula by one token, SPEC §2a); a
rule that is a ceiling (SPEC §6, `maximum`: Gemini 3) agrees with any bill at or
below it. Where image tokens were fitted, the verdict must hold beyond the fit's
uncertainty (3 standard errors, more with few requests: a false alarm costs more
than an unknown); when the tolerance lies inside it the verdict is unknown.

A line that cannot be joined, has no usage, answered an error, names
no model or holds an image that cannot be priced is skipped, with the reason.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import stat
import statistics
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import CostcalcError, LogReadError
from ..files import LineTooLongError, bounded_lines
from ..words import json_kind, os_reason

__all__ = [
    "TOLERANCE",
    "Exchange",
    "Skip",
    "Bill",
    "ModelReconciliation",
    "Reconciliation",
    "read_log",
    "read_batch",
    "bill_of",
    "fit_line",
    "reconcile",
    "reconcile_exchanges",
]

TOLERANCE = 0.05
"""Bills 5% or more away from the prediction disagree (issue 11)."""

MAX_SLOPE_PAIRS = 100_000
"""Theil–Sen takes every pair of distinct predictions up to this many, else a fixed-seed sample of them."""

MEDIAN_ERROR = 1.2533
"""The standard error of a median of n normal values, in standard deviations over √n (√(π/2))."""

@dataclass(frozen=True)
class Exchange:
    """One request with the API's answer, and where it was read (FILE:LINE)."""

    where: str
    request: Any
    response: Any
    model: str | None = None
    """A model named beside the two (a log line's own "model"), used when the request names none."""


@dataclass(frozen=True)
class Skip:
    """A line that was not reconciled, and why."""

    where: str
    reason: str
    model: str | None = None
    """The model it would count for, when known."""


@dataclass(frozen=True)
class Bill:
    """The prompt tokens an answer's usage bills: the total, and its own split when it gives one."""

    total: int
    shape: str
    """chat, responses, anthropic or gemini."""
    image: int | None = None
    """Image tokens the answer reports itself (Gemini's IMAGE modality, `image_tokens`)."""
    other: int = 0
    """Tokens the answer reports as neither text nor image (audio), taken off the total."""
    text: int | None = None
    """Text tokens the answer reports itself (`text_tokens`; Gemini's TEXT modality)."""


@dataclass(frozen=True)
class ModelReconciliation:
    """One model's verdict: its requests, predicted and billed image tokens, their ratio, and how they were found."""

    model: str
    requests: int
    images: int
    predicted_image_tokens: int
    billed_image_tokens: int | None
    ratio: float | None
    agrees: bool | None
    """True within tolerance, False outside it, None when the bills cannot be separated or nothing was reconciled."""
    method: str | None
    """How billed image tokens were found: reported, text counted, fit, bound (joined by '+' when several)."""
    framing_per_request: float | None = None
    """Tokens per request fitted as text and framing (method fit), or left by the text count."""
    basis: str | None = None
    """How sure the rule is (SPEC §6): exact, maximum, approximate, flat (the least sure of its images)."""
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    upper_bound: bool = False
    """True when billed_image_tokens is the whole prompts: at most that many were image tokens."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the five keys issue 11 names first, then the rest."""
        return {
            "requests": self.requests,
            "predicted_image_tokens": self.predicted_image_tokens,
            "billed_image_tokens": self.billed_image_tokens,
            "ratio": self.ratio,
            "agrees": self.agrees,
            "images": self.images,
            "method": self.method,
            "framing_per_request": self.framing_per_request,
            "basis": self.basis,
            "skipped": self.skipped,
            "skip_reasons": dict(self.skip_reasons),
            "note": self.note,
            "upper_bound": self.upper_bound,
        }


@dataclass(frozen=True)
class Reconciliation:
    """Every model's verdict, and the lines skipped (also those of no model)."""

    models: dict[str, ModelReconciliation]
    skipped: tuple[Skip, ...] = ()

    @property
    def agrees(self) -> bool | None:
        """False when a model disagrees; else None when one cannot be judged (or there is none); else True."""
        verdicts = [model.agrees for model in self.models.values()]
        if False in verdicts:
            return False
        if None in verdicts or not verdicts:
            return None
        return True

    def as_dict(self) -> dict[str, Any]:
        """`{"models": {name: {...}}}`, the JSON issue 11 asks for."""
        return {"models": {name: report.as_dict() for name, report in self.models.items()}}


# ------------------------------------------------------------------ reading


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


def _named(value: Any) -> str | None:
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
            model = hint or _named(line.get("request")) or _named(line.get("response"))
            yield Skip(where, f"no {' and no '.join(repr(key) for key in missing)} in the line", model)
            continue
        yield Exchange(where, line["request"], line["response"], hint)


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
        model = _named(body)
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
        yield Exchange(where, body, answer["response"]["body"])
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


def _error_text(error: Any) -> str:
    """An API error object as one short line: code and message."""
    if isinstance(error, dict):
        parts = [str(error[key])[:200] for key in ("code", "type", "status", "message")
                 if isinstance(error.get(key), (str, int)) and error.get(key)]  # fmt: skip
        text = ": ".join(dict.fromkeys(parts)) or "no message"
    else:
        text = str(error)[:300] if isinstance(error, (str, int, float)) else f"a {type(error).__name__}"
    return " ".join(text.split())[:300]


# ------------------------------------------------------------------ bills


class _Unbilled(Exception):
    """An answer whose usage cannot be read: the reason."""


MAX_TOKEN_COUNT = 10**12
"""The most prompt tokens one request can plausibly bill: no model's context window comes near it (SPEC §8).
A larger usage count is a corrupt or synthetic log line, read as "not a token count" like NaN or -1."""


def _count(container: dict, key: str, where: str) -> int:
    """A token count from usage: a whole number in 0..MAX_TOKEN_COUNT (0 when absent), else _Unbilled naming it."""
    value = container.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKEN_COUNT:
        shown = json.dumps(value)[:40] if not isinstance(value, int) or value.bit_length() < 128 else "a huge number"
        raise _Unbilled(f"{where}.{key} is not a token count: {shown}")
    return value


def bill_of(response: Any) -> Bill:
    """What an API answer's usage bills for its prompt (SPEC §8); ValueError with the reason when it bills nothing.

    Reads OpenAI Chat Completions (`usage.prompt_tokens`), Responses
    (`usage.input_tokens`), Anthropic Messages (`usage.input_tokens` plus cache
    creation and cache reads) and Gemini (`usageMetadata.promptTokenCount`,
    camelCase or snake_case, with `promptTokensDetails` by modality).
    """
    try:
        return _bill(response)
    except _Unbilled as reason:
        raise ValueError(str(reason)) from None


def _bill(response: Any) -> Bill:
    if isinstance(response, (str, bytes)):
        try:
            response = json.loads(response)
        except ValueError:
            raise _Unbilled("the answer is not JSON") from None
    if not isinstance(response, dict):
        raise _Unbilled(f"the answer is not a JSON object but {json_kind(response)}")
    gemini = response.get("usageMetadata", response.get("usage_metadata"))
    usage = response.get("usage")
    if gemini is None and usage is None:
        if response.get("error"):
            raise _Unbilled(f"the API answered an error: {_error_text(response['error'])}")
        raise _Unbilled("no usage in the answer")
    if gemini is not None:
        return _gemini_bill(gemini)
    if not isinstance(usage, dict):
        raise _Unbilled("usage is not a JSON object")
    if "prompt_tokens" in usage:
        shape, total_key, details_key = "chat", "prompt_tokens", "prompt_tokens_details"
        total = _count(usage, total_key, "usage")
    elif "input_tokens" in usage:
        anthropic = response.get("type") == "message" or any(key.startswith("cache_") for key in usage)
        shape, total_key, details_key = ("anthropic" if anthropic else "responses"), "input_tokens", "input_tokens_details"
        total = sum(_count(usage, key, "usage") for key in
                    ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))  # fmt: skip
    else:
        raise _Unbilled("usage has no prompt_tokens or input_tokens")
    details = usage.get(details_key)
    if not isinstance(details, dict):
        return Bill(total, shape)
    where = f"usage.{details_key}"
    image = _count(details, "image_tokens", where) if "image_tokens" in details else None
    text = _count(details, "text_tokens", where) if "text_tokens" in details else None
    return Bill(total, shape, image=image, other=_count(details, "audio_tokens", where), text=text)


def _gemini_bill(usage: Any) -> Bill:
    """Gemini usageMetadata: the prompt total and, when given, its IMAGE and TEXT counts."""
    if not isinstance(usage, dict):
        raise _Unbilled("usageMetadata is not a JSON object")
    camel = "promptTokenCount" in usage
    total = _count(usage, "promptTokenCount" if camel else "prompt_token_count", "usageMetadata")
    details = usage.get("promptTokensDetails", usage.get("prompt_tokens_details"))
    if not isinstance(details, list):
        return Bill(total, "gemini")
    counts: dict[str, int] = {}
    for index, entry in enumerate(details):
        if not isinstance(entry, dict):
            continue
        modality = str(entry.get("modality", "")).upper()
        count = _count(entry, "tokenCount" if "tokenCount" in entry else "token_count",
                       f"usageMetadata.promptTokensDetails[{index}]")  # fmt: skip
        counts[modality] = counts.get(modality, 0) + count
    if "IMAGE" in counts:
        return Bill(total, "gemini", image=counts["IMAGE"])
    if counts and sum(counts.values()) == total:  # every modality listed, none IMAGE: no image tokens
        return Bill(total, "gemini", image=0)
    return Bill(total, "gemini", text=counts.get("TEXT"))


# ------------------------------------------------------------------ fitting


def _weighted_median(values: list[tuple[float, float]]) -> float:
    """The median of (value, weight) pairs: the mean of the two middle values when the weight splits evenly."""
    values.sort()
    half = sum(weight for _, weight in values) / 2
    running = 0.0
    for index, (value, weight) in enumerate(values):
        running += weight
        if running > half:
            return value
        if running == half:
            return (value + values[index + 1][0]) / 2
    return values[-1][0]


def fit_line(points: Iterable[tuple[float, float]]) -> tuple[float, float] | None:
    """Theil–Sen fit `y = intercept + slope × x` of (x, y) points: (slope, intercept); None when all x are equal.

    The slope is the median of the slopes between points of different x (the
    points of one x taken by their median y, each pair weighted by how many
    points it stands for); the intercept is the median of y − slope × x.
    """
    points = list(points)
    groups: dict[float, list[float]] = {}
    for x, y in points:
        groups.setdefault(x, []).append(y)
    if len(groups) < 2:
        return None
    summary = sorted((x, statistics.median(ys), len(ys)) for x, ys in groups.items())
    pairs = len(summary) * (len(summary) - 1) // 2
    if pairs <= MAX_SLOPE_PAIRS:
        chosen: Iterable[tuple[int, int]] = ((i, j) for i in range(len(summary)) for j in range(i + 1, len(summary)))
    else:
        sample = random.Random(0)
        chosen = (tuple(sorted(sample.sample(range(len(summary)), 2))) for _ in range(MAX_SLOPE_PAIRS))
    slopes = []
    for i, j in chosen:
        (x1, y1, n1), (x2, y2, n2) = summary[i], summary[j]
        slopes.append(((y2 - y1) / (x2 - x1), float(n1 * n2)))
    slope = _weighted_median(slopes)
    intercept = statistics.median(y - slope * x for x, y in points)
    return slope, intercept


@dataclass(frozen=True)
class _Line:
    """What one group's bills say about its framing: the fitted line, if trusted, and the noise around it."""

    slope: float | None
    intercept: float | None
    trusted: bool
    noise: float
    """A robust scale (scaled MAD) of a bill around what its image size predicts."""
    groups: tuple[tuple[float, float, int], ...]
    """(prediction, median bill, requests) for each distinct prediction."""
    error: float = 0.0
    """The standard error of the image tokens it finds in the whole group (from the slope's and framing's errors)."""
    sure: float = 2.0
    """How many of those standard errors make a difference sure (_sure)."""


def _noise(points: list[tuple[float, float]], groups: dict[float, list[float]],
           residuals: list[float], fitted: int) -> tuple[float, int]:  # fmt: skip
    """The bills' scatter (a scaled MAD) and its degrees of freedom.

    Measured within requests of one prediction when those leave 4 degrees of
    freedom or more (a rule off in shape does not inflate it), else around
    the line (`fitted` parameters spent); each corrected for what it spent.
    """
    repeated = {x: len(ys) for x, ys in groups.items() if len(ys) > 1}
    freedom = sum(n - 1 for n in repeated.values())
    if freedom >= 4:
        spread = [(y - statistics.median(groups[x])) * math.sqrt(repeated[x] / (repeated[x] - 1))
                  for x, y in points if x in repeated]  # fmt: skip
    else:
        freedom = max(len(points) - fitted, 1)
        spread = [r * math.sqrt(len(points) / freedom) for r in residuals]
    centre = statistics.median(spread)
    return 1.4826 * statistics.median(abs(r - centre) for r in spread), freedom


def _sure(freedom: int) -> float:
    """How many standard errors make a difference sure: 3 (false alarms cost more than unknowns), more with few data."""
    return 3 + 6 / freedom


def _line(points: list[tuple[float, float]], tolerance: float) -> _Line:
    """Fit bills on predictions and judge whether the line can be trusted to separate framing from images.

    Trusted when the slope is known to within half the tolerance (its robust
    standard error) and no prediction's median bill leaves the line by more
    than half the tolerance beyond its noise (a rule off in shape: a cap, a
    wrong tile size). Either failing, framing and images cannot be separated.
    """
    grouped: dict[float, list[float]] = {}
    for x, y in points:
        grouped.setdefault(x, []).append(y)
    groups = tuple(sorted((x, statistics.median(ys), len(ys)) for x, ys in grouped.items()))
    fitted = fit_line(points)
    if fitted is None:
        noise, freedom = _noise(points, grouped, [y - groups[0][1] for _, y in points], 1)
        return _Line(None, None, False, noise, groups, sure=_sure(freedom))
    slope, intercept = fitted
    noise, freedom = _noise(points, grouped, [y - intercept - slope * x for x, y in points], 2)
    sure, count = _sure(freedom), len(points)
    slope_error = noise / (math.sqrt(count) * statistics.pstdev(x for x, _ in points))
    straight = all(abs(y - intercept - slope * x) <= tolerance / 2 * x + sure * MEDIAN_ERROR * noise / math.sqrt(n) + 1
                   for x, y, n in groups)  # fmt: skip
    # the framing taken off each bill is off by the slope's error at the typical prediction, plus the median's own
    framing_error = math.hypot(slope_error * statistics.median(x for x, _ in points),
                               MEDIAN_ERROR * noise / math.sqrt(count))  # fmt: skip
    trusted = slope_error <= tolerance / 2 and straight
    return _Line(slope, intercept, trusted, noise, groups, framing_error * count, sure)


def _framing_can_agree(line: _Line, tolerance: float, ceiling: bool) -> bool:
    """Whether one framing per request (0 up to the smallest bill) brings every prediction within tolerance of its bills.

    Each prediction's median bill, less the framing, must be within tolerance
    of the prediction (at or below it plus tolerance, for a ceiling), give or
    take its noise and one token.
    """
    low, high = 0.0, min(y for _, y, _ in line.groups)
    for x, y, n in line.groups:
        slack = tolerance * x + line.sure * MEDIAN_ERROR * line.noise / math.sqrt(n) + 1
        high = min(high, y - x + slack)
        if not ceiling:
            low = max(low, y - x - slack)
    return low <= high


# ------------------------------------------------------------------ reconciling


@dataclass
class _Seen:
    """One reconciled request: its prediction and the tokens of the bill not yet explained."""

    predicted: int
    images: int
    billed: float
    """Image tokens (method reported), or the bill less what is known not to be image (text counted, fit)."""
    method: str
    shape: str


@dataclass
class _Model:
    """What is gathered for one model while reading."""

    seen: list[_Seen] = field(default_factory=list)
    bases: set[str] = field(default_factory=set)
    skips: list[Skip] = field(default_factory=list)


BASIS_ORDER = ("exact", "flat", "approximate", "maximum")
"""From surest to least sure (SPEC §6); a model's basis is its least sure image's."""


def reconcile_exchanges(
    exchanges: Iterable[Exchange | Skip],
    *,
    model: str | None = None,
    tables=None,
    base_dir: str | os.PathLike | None = None,
    tolerance: float = TOLERANCE,
) -> Reconciliation:
    """Predict every exchange's image tokens, read its bill, and judge each model (see the module docstring).

    `model` overrides the model the requests name; `base_dir` is where relative
    image paths in the payloads are read from. Lines that cannot be priced or
    billed become Skips; only CostcalcError is raised.
    """
    from ..catalog.tables import default_tables
    from ..pricing.request import count_request

    tables = tables or default_tables()
    models: dict[str, _Model] = {}
    skipped: list[Skip] = []

    def skip(entry: Skip) -> None:
        skipped.append(entry)
        if entry.model is not None:
            models.setdefault(entry.model, _Model()).skips.append(entry)

    for exchange in exchanges:
        if isinstance(exchange, Skip):
            skip(_resolved(exchange, tables))
            continue
        request = exchange.request
        if isinstance(request, (str, bytes)):
            try:
                request = json.loads(request)
            except ValueError:
                skip(Skip(exchange.where, "the request is not JSON", exchange.model))
                continue
        name = model or _named(request) or exchange.model or _named(exchange.response)
        if name is None:
            skip(Skip(exchange.where, "no model named by the request or the answer (give -m)"))
            continue
        try:
            found = tables.model(name).name
        except CostcalcError as error:
            skip(Skip(exchange.where, str(error), name))
            continue
        try:
            bill = bill_of(exchange.response)
        except ValueError as reason:
            skip(Skip(exchange.where, str(reason), found))
            continue
        try:
            estimate = count_request(request, model=name, tables=tables, base_dir=base_dir)
        except CostcalcError as error:
            skip(Skip(exchange.where, str(error), found))
            continue
        unpriced = [image for image in estimate.images if image.tokens is None]
        if unpriced:
            image = unpriced[0]
            reason = image.error or getattr(image, "note", None) or "its image tokens are unknown"
            skip(Skip(exchange.where, reason if reason.startswith(image.where) else f"{image.where}: {reason}", found))
            continue
        predicted = sum(image.tokens for image in estimate.images)
        text = getattr(estimate, "text_tokens", None)
        if bill.image is not None:
            billed, method = bill.image, "reported"
        elif bill.text is not None:
            billed, method = bill.total - bill.text - bill.other, "reported"
        elif isinstance(text, int):
            billed, method = bill.total - text - bill.other, "text counted"
        else:
            billed, method = bill.total - bill.other, "fit"
        if billed < 0:  # the bill is smaller than what it is known to hold besides images: not a usable bill
            known = "its own text and audio" if method != "fit" else "its audio"
            skip(Skip(exchange.where, f"the billed prompt ({bill.total} tokens) is smaller than {known} "
                      f"({bill.total - billed} tokens): the bill cannot be read", found))  # fmt: skip
            continue
        gathered = models.setdefault(found, _Model())
        gathered.bases.update(image.basis for image in estimate.images if image.basis)
        gathered.seen.append(_Seen(predicted, len(estimate.images), float(billed), method, bill.shape))
    reports = {name: _judge(name, gathered, tolerance) for name, gathered in sorted(models.items())}
    return Reconciliation(reports, tuple(skipped))


def _resolved(entry: Skip, tables) -> Skip:
    """A reader's Skip counted under its model's table name (its own name when the table lacks it)."""
    if entry.model is None:
        return entry
    try:
        return Skip(entry.where, entry.reason, tables.model(entry.model).name)
    except CostcalcError:
        return entry


def _judge(name: str, gathered: _Model, tolerance: float) -> ModelReconciliation:
    """One model's verdict from its requests (module docstring: methods and verdict)."""
    seen = gathered.seen
    reasons: dict[str, int] = {}
    for entry in gathered.skips:
        reasons[entry.reason] = reasons.get(entry.reason, 0) + 1
    known = gathered.bases & set(BASIS_ORDER)
    basis = max(known, key=BASIS_ORDER.index) if known else None
    common = dict(basis=basis, skipped=len(gathered.skips), skip_reasons=reasons)
    if not seen:
        return ModelReconciliation(name, 0, 0, 0, None, None, None, None, note="no request could be reconciled",
                                   **common)  # fmt: skip
    predicted = sum(s.predicted for s in seen)
    images = sum(s.images for s in seen)
    billed = sum(s.billed for s in seen if s.method == "reported")
    methods = {"reported"} if any(s.method == "reported" for s in seen) else set()
    framing: list[tuple[float, int]] = []
    unseparated: list[str] = []  # groups whose text and images cannot be told apart
    misshapen: list[str] = []  # groups that no framing reconciles with the rule
    errors: list[float] = []  # how far the image tokens found by fitting may surely be off
    for (method, shape), group in _groups(seen):
        points = [(float(s.predicted), s.billed) for s in group]
        line = _line(points, tolerance)
        if method == "text counted":  # the text is known: a fitted residual framing, else none
            offset = line.intercept if line.trusted else 0.0
        elif line.trusted:  # text and framing per request: never below 0
            offset = max(line.intercept, 0.0)
        else:  # only the whole prompts are known: an upper bound on image tokens
            methods.add("bound")
            billed += sum(y for _, y in points)
            if len(line.groups) == 1:
                unseparated.append(
                    f"every {shape} request predicts {int(line.groups[0][0]):,} image tokens, so the bills' text and "
                    f"image tokens cannot be told apart (send images of several sizes, or text-only requests beside them)"
                )  # fmt: skip
            elif not _framing_can_agree(line, tolerance, basis == "maximum"):
                misshapen.append(f"no framing per request brings every image size's {shape} bills within "
                                 f"{tolerance:.0%} of the rule")  # fmt: skip
            else:
                unseparated.append(
                    f"the {shape} bills do not grow in step with the predictions (text that varies, or a rule off "
                    f"in shape), so their text and image tokens cannot be separated"
                )  # fmt: skip
            continue
        methods.add(method)
        billed += sum(y for _, y in points) - offset * len(points)
        framing.append((offset, len(points)))
        errors.append(line.sure * line.error if line.trusted else 0.0)  # a counted text is taken as exact
    per_request = round(sum(o * n for o, n in framing) / sum(n for _, n in framing), 1) if framing else None
    method = "+".join(m for m in ("reported", "text counted", "fit", "bound") if m in methods)
    notes = {"maximum": ["the rule is a ceiling (SPEC §6): bills at or below it agree"],
             "approximate": ["the rule is approximate (SPEC §6)"]}.get(basis, [])  # fmt: skip
    notes += misshapen + unseparated
    if predicted == 0:
        notes.append("the requests hold no image")
        return ModelReconciliation(name, len(seen), images, 0, round(billed), None, None, method, per_request,
                                   note="; ".join(notes), **common)  # fmt: skip
    over = billed - predicted  # within one token per image always agrees: OpenAI's rounding (SPEC §2a)
    if misshapen or unseparated:  # `billed` holds at most this many image tokens: only "too low" can be told
        short = -over >= tolerance * predicted and -over > images and basis != "maximum"
        if short:
            notes.append(f"even the whole prompts ({round(billed):,} tokens) fall short of the prediction")
        return ModelReconciliation(
            name, len(seen), images, predicted, round(billed) if short else None,
            round(billed / predicted, 4) if short else None, False if short or misshapen else None, method,
            per_request, note="; ".join(notes), upper_bound=short, **common,
        )  # fmt: skip
    margin = math.hypot(*errors, 0.0)  # how far the fitted framing may surely be off

    def beyond(excess: float) -> bool:  # `excess` tokens more than predicted break the tolerance
        return excess >= tolerance * predicted and excess > images

    ceiling = basis == "maximum"  # a ceiling's bills may fall below it
    surely = beyond(over - margin) or not ceiling and beyond(-over - margin)
    maybe = beyond(over + margin) or not ceiling and beyond(-over + margin)
    agrees = False if surely else None if maybe else True
    if agrees is None:
        notes.append(f"the bills' text scatters too much to tell which side of {tolerance:.0%} they are "
                     f"(±{margin / predicted:.1%}): more requests will tell")  # fmt: skip
    return ModelReconciliation(name, len(seen), images, predicted, round(billed), round(billed / predicted, 4), agrees,
                               method, per_request, note="; ".join(notes) or None, **common)  # fmt: skip


def _groups(seen: list[_Seen]) -> list[tuple[tuple[str, str], list[_Seen]]]:
    """The requests whose bills are totals, by (method, API shape): each gets its own framing."""
    groups: dict[tuple[str, str], list[_Seen]] = {}
    for s in seen:
        if s.method != "reported":
            groups.setdefault((s.method, s.shape), []).append(s)
    return sorted(groups.items())


def reconcile(
    *paths: str,
    model: str | None = None,
    tables=None,
    tolerance: float = TOLERANCE,
) -> Reconciliation:
    """Reconcile a log (one path) or an OpenAI Batch input and output file (two paths) with the predictions.

    Raises LogReadError (a CostcalcError) naming FILE:LINE for a file that
    cannot be read or a line that is not a JSON object; see the module docstring.
    """
    if len(paths) == 1:
        exchanges = read_log(paths[0])
        base = paths[0]
    elif len(paths) == 2:
        exchanges = read_batch(paths[0], paths[1])
        base = paths[0]
    else:
        raise LogReadError(f"give one log, or a Batch input and output file; got {len(paths)} files")
    base_dir = None if base == "-" else os.path.dirname(os.path.abspath(base))
    return reconcile_exchanges(exchanges, model=model, tables=tables, base_dir=base_dir, tolerance=tolerance)
