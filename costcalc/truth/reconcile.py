"""Reconcile: do the API's bills agree with the predicted image tokens? (docs/probe.md, issue 11).

Input is requests together with the API's answers, either

- a log: JSON lines of `{"request": <payload>, "response": <API response>}`
  (an optional `"model"` beside them names the model when neither does), or
- an OpenAI Batch pair (docs/README.md): the input file, JSON lines of
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
image (OpenAI's billing may differ from its formula by one token, docs/openai.md); a
rule that is a ceiling (docs/README.md, `maximum`: Gemini 3) agrees with any bill at or
below it. Where image tokens were fitted, the verdict must hold beyond the fit's
uncertainty (3 standard errors, more with few requests: a false alarm costs more
than an unknown); when the tolerance lies inside it the verdict is unknown.

A line that cannot be joined, has no usage, answered an error, names
no model or holds an image that cannot be priced is skipped, with the reason.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterable

from ..errors import CostcalcError, LogReadError
from ..pricing import request as _request  # looked up at each call (tests replace count_request)
from .exchanges import Bill, Exchange, Skip, bill_of, named_model, read_batch, read_log
from .fitting import fit_line
from .judging import BASIS_ORDER, Gathered, ModelReconciliation, Reconciliation, Seen, judge

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
    "BASIS_ORDER",
]


TOLERANCE = 0.05
"""Bills 5% or more away from the prediction disagree (issue 11)."""


def reconcile_exchanges(
    exchanges: Iterable[Exchange | Skip],
    *,
    model: str | None = None,
    tables=None,
    base_dir: str | os.PathLike | None = None,
    tolerance: float = TOLERANCE,
    as_of: _dt.date | None = None,
) -> Reconciliation:
    """Predict every exchange's image tokens, read its bill, and judge each model (see the module docstring).

    `model` overrides the model the requests name; `base_dir` is where relative
    image paths in the payloads are read from. Each exchange is read on its own
    day where the log gives one (Exchange.date), else on `as_of` (default: the
    tables' day, today). Lines that cannot be priced or billed become Skips; only
    CostcalcError is raised.
    """
    from ..catalog.settings import dated

    tables = dated(tables, as_of)
    days = {None: tables}  # the tables read on each day a line names, once per day
    models: dict[str, Gathered] = {}
    skipped: list[Skip] = []
    for exchange in exchanges:
        entry = (
            _resolved(exchange, tables)
            if isinstance(exchange, Skip)
            else _seen(exchange, model, _on(days, exchange.date), base_dir)
        )
        if isinstance(entry, Skip):
            skipped.append(entry)
            if entry.model is not None:
                models.setdefault(entry.model, Gathered()).skips.append(entry)
            continue
        found, seen, bases = entry
        gathered = models.setdefault(found, Gathered())
        gathered.bases.update(bases)
        gathered.seen.append(seen)
    reports = {name: judge(name, gathered, tolerance) for name, gathered in sorted(models.items())}
    return Reconciliation(reports, tuple(skipped))


def _on(days: dict, day):
    """The tables read on `day` (the run's own when None), kept per day."""
    if day not in days:
        days[day] = days[None].at(day)
    return days[day]


def _seen(exchange: Exchange, model: str | None, tables, base_dir) -> Skip | tuple[str, Seen, set[str]]:
    """One exchange predicted and billed: (its model's table name, what was seen, its images' bases), or a Skip."""
    request = exchange.request
    if isinstance(request, (str, bytes)):
        try:
            request = json.loads(request)
        except ValueError:
            return Skip(exchange.where, "the request is not JSON", exchange.model)
    name = model or named_model(request) or exchange.model or named_model(exchange.response)
    if name is None:
        return Skip(exchange.where, "no model named by the request or the answer (give -m)")
    try:
        found = tables.model(name).name
    except CostcalcError as error:
        return Skip(exchange.where, str(error), name)
    try:
        bill = bill_of(exchange.response)
        estimate = _request.count_request(request, model=name, tables=tables, base_dir=base_dir)
    except (ValueError, CostcalcError) as reason:
        return Skip(exchange.where, str(reason), found)
    unpriced = [image for image in estimate.images if image.tokens is None]
    if unpriced:
        image = unpriced[0]
        reason = image.error or "its image tokens are unknown"
        return Skip(exchange.where, reason if reason.startswith(image.where) else f"{image.where}: {reason}", found)
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
        return Skip(
            exchange.where,
            f"the billed prompt ({bill.total} tokens) is smaller than {known} "
            f"({bill.total - billed} tokens): the bill cannot be read",
            found,
        )
    predicted = sum(image.tokens for image in estimate.images)
    bases = {image.basis for image in estimate.images if image.basis}
    return found, Seen(predicted, len(estimate.images), float(billed), method, bill.shape), bases


def _resolved(entry: Skip, tables) -> Skip:
    """A reader's Skip counted under its model's table name (its own name when the table lacks it)."""
    if entry.model is None:
        return entry
    try:
        return Skip(entry.where, entry.reason, tables.model(entry.model).name)
    except CostcalcError:
        return entry


def reconcile(
    *paths: str,
    model: str | None = None,
    tables=None,
    tolerance: float = TOLERANCE,
    as_of: _dt.date | None = None,
) -> Reconciliation:
    """Reconcile a log (one path) or an OpenAI Batch input and output file (two paths) with the predictions.

    Each request is read on the day its log line gives (`created` in an OpenAI answer, or a `date` /
    `timestamp` beside request and response), else on `as_of` (default: the tables' day, today).

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
    return reconcile_exchanges(
        exchanges, model=model, tables=tables, base_dir=base_dir, tolerance=tolerance, as_of=as_of
    )
