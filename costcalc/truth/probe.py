"""`costcalc probe`: measure a model's image-token rule at the vendor's free token-counting endpoint (docs/probe.md).

With the user's own key, synthetic PNGs of chosen sizes (made in memory with
Pillow, one flat grey, a few KB even when huge) are sent to the endpoint that
counts a request's input tokens without running the model:

- OpenAI    `POST {base}/responses/input_tokens`          → {"input_tokens": N}   (base: …/v1)
- Anthropic `POST {base}/v1/messages/count_tokens`        → {"input_tokens": N}
- Gemini    `POST {base}/v1beta/models/{model}:countTokens` → {"totalTokens": N}

An image's tokens are the request's count less the count of the same request
without the image (asked once). The sizes are chosen to pin every parameter of
the scheme the vendor uses, then the fitted rule is checked on sizes it was not
fitted on:

- OpenAI tile (docs/openai.md): base and tile from a 1-tile and a 2-tile image; the
  short side (768 or 512) and the 2048 fit from sizes that tell them apart.
- OpenAI patch (docs/openai.md): the multiplier as the simplest decimal of at most
  3 places (more is a failed fit) giving every count as ceil(patches × m); the
  pixel limit from one-row images (where the count stops growing) and images
  whose short side gains a patch row exactly at a candidate limit; the budget
  from patch grids just under and over each candidate, and from sizes whose
  budget shrink differs by a patch.
- Claude (docs/anthropic.md): max edge from one-row images (only floor(edge / 28) is
  observable), max tokens from patch grids (only the products a·b are).
- Gemini (docs/google.md): one count per image whatever its size, per media resolution.

Wherever several values bill every size alike (Claude's edges 1988–2015, a
pixel limit over 65,504 px), the table's value is kept if it is one of them,
else a round thousand, a whole number of patches, or the smallest; the output
says which values are equivalent.

Assumptions, each checked by the final sizes: a patch model's pixel limit is at
least 512 px and its budget at least 256 patches and at least limit / 32; a
Claude model's max tokens are at least max edge / 28; no per-image overhead.
OpenAI's billing may differ from ceil(patches × m) by one token (docs/openai.md): the
count binary floats give (150 × 1.62 → 244, not 243) is allowed, and nothing more.

Network goes only to the base URL given (default: the vendor's official one);
the user chose the target, so no address is refused. httpx2 is imported only
here (`pip install 'costcalc[fetch]'`). Tests use a fake API on 127.0.0.1
(tests/fake_api.py).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import replace
from math import isqrt
from typing import Any

from .. import schemes
from ..catalog.tables import Model, Tables, default_tables
from ..errors import ProbeError, ProbeUsageError, UnknownModelError
from ..schemes.patch import PatchRule
from .endpoint import (
    BASE_URLS,
    KEY_VARIABLES,
    MAX_REQUESTS,
    TIMEOUT,
    CountEndpointClient,
    Session,
    check_base_url,
    key_for,
    png,
)
from .fitters import (
    LIMIT_SENTINEL,
    PATCH,
    Fit,
    NoFit,
    Reading,
    Recorder,
    decimal_text,
    fit_claude,
    fit_flat,
    fit_tile,
)
from .patch_fit import PatchFit
from .result import ProbeResult, compare
from .rows import check_row_file, row_toml, write_row

__all__ = [
    "APIS",
    "BASE_URLS",
    "KEY_VARIABLES",
    "MAX_REQUESTS",
    "Reading",
    "Fit",
    "ProbeResult",
    "probe",
    "fit_rule",
    "resolve_api",
    "key_for",
    "png",
    "row_toml",
    "check_base_url",
    "check_row_file",
    "write_row",
    "decimal_text",
    "NoFit",
]

APIS = ("openai", "anthropic", "gemini")
"""The vendors whose token-counting endpoints probe speaks (docs/probe.md)."""
_VENDOR_API = {"openai": "openai", "anthropic": "anthropic", "google": "gemini"}
_API_VENDOR = {api: vendor for vendor, api in _VENDOR_API.items()}
_DETAILS = {
    "openai": ("low", "high", "original", "auto"),
    "anthropic": ("auto",),
    "gemini": ("low", "medium", "high", "ultra_high", "auto"),
}
CHECKS = 6
"""Sizes the fitted rule is checked on, none of them used to fit it."""


def resolve_api(model: str, api: str | None = None, tables: Tables | None = None) -> tuple[str, Model | None]:
    """The API to probe `model` at and its table row (None when the table does not know it).

    `api` is needed only for a model the table does not know (UnknownModelError
    otherwise) or whose vendor has no counting endpoint here (ProbeUsageError).
    """
    tables = tables or default_tables()
    try:
        row = tables.model(model)
    except UnknownModelError:
        if api is None:
            raise
        return api, None
    its_api = _VENDOR_API.get(row.vendor)
    if api is not None and its_api is not None and api != its_api:  # the table's vendor is the model's (docs/probe.md)
        raise ProbeUsageError(
            f"api {api}: the table lists {model!r} under {row.vendor}, whose API is {its_api}; leave api out"
        )
    if api is None:
        api = its_api
        if api is None:
            raise ProbeUsageError(
                f"model {model!r} is a {row.vendor or 'other'} model; probe speaks "
                f"{', '.join(APIS)}: give api if its vendor offers one of those endpoints"
            )
    return api, row


# ------------------------------------------------------------------ the table's rule, for comparison


def _table_params(row: Model | None, scheme: str, level: str) -> dict[str, Any] | None:
    """The table's parameters for the fitted scheme and level: values, None (no budget) or "unknown"."""
    if row is None or row.scheme != scheme:
        return None
    rules = dict(row.rules)
    rule = rules.get(level, rules.get(row.auto) if level == "auto" else None)
    return schemes.get(scheme).probe_params(row, rule)


# ------------------------------------------------------------------ fit and probe


def fit_rule(ask: Callable[[int, int, str], int], api: str, detail: str = "auto", row: Model | None = None) -> Fit:
    """Fit the scheme `api` uses from image-token counts: `ask(width, height, detail)` → tokens.

    The table row (if any) gives the values to keep where several bill alike
    and the patch limit (30,000 patches). NoFit when no rule fits.
    """
    if not hasattr(ask, "seen"):
        ask = Recorder(ask)
    if api == "anthropic":
        table = dict(row.rules).get("auto") if row is not None and row.scheme == "claude" else None
        return fit_claude(ask, table)
    if api == "gemini":
        return fit_flat(ask, detail)
    first, second = ask(32, 32, detail), ask(64, 64, detail)  # 1 and 4 patches; 1 tile both
    if first == second:
        table = dict(row.rules).get("high") if row is not None and row.scheme == "tile" else None
        fit = fit_tile(ask, detail, table)
        # docs/openai.md: low detail is the flat `base`; the whole rule is fitted at high, low checked against base
        notes = (
            (
                "the tile scheme's low detail is a flat `base` count: the whole rule was fitted at high and "
                "low checked against base",
            )
            if detail == "low"
            else ()
        )
        return replace(fit, notes=notes, sent="auto" if detail == "auto" else "high")
    level = _level(row, "patch", detail)
    table = _table_params(row, "patch", level) or {}
    table = {name: value for name, value in table.items() if not (isinstance(value, str) and value == "unknown")}
    caps = [rule.max_patches for _, rule in (row.rules if row is not None else ()) if isinstance(rule, PatchRule)]
    fit = PatchFit(ask, detail, caps[0] if caps else 30000, table).run()
    return replace(fit, level=level, sent=detail)


def _level(row: Model | None, scheme: str, detail: str) -> str:
    """The table level a detail's parameters belong to (an unknown model's `auto` is stored as the scheme says)."""
    kind = schemes.get(scheme)
    if kind.probe_level is not None:
        return kind.probe_level
    if detail != "auto":
        return detail
    if row is not None and row.scheme == scheme:
        return row.auto
    return kind.probe_auto


def _check_sizes(fit: Fit) -> list[tuple[int, int, str]]:
    """Sizes to check the fit on: common photo and screen sizes and sizes near each fitted limit."""
    sizes = [
        (1024, 1024),
        (1920, 1080),
        (777, 333),
        (3000, 2000),
        (2048, 4096),
        (4032, 3024),
        (300, 5000),
        (1075, 1520),
        (2560, 1669),
        (513, 2049),
    ]
    p = fit.params
    if fit.scheme == "patch":
        limit, budget = p["max_dimension"], p["patch_budget"]
        if limit < LIMIT_SENTINEL:
            sizes[:0] = [(limit + 97, limit // 3 + 5), (limit - 1, limit // 2)]
        if budget is not None:
            side = isqrt(budget) * PATCH
            sizes[:0] = [(side + 40, side - 100), (side - 3, side - 70)]
    elif fit.scheme == "claude":
        sizes[:0] = [(p["max_edge"] + 300, 700), (200, 200), (1092, 1092), (3840, 2160)]
    checks = [(w, h, fit.sent) for w, h in dict.fromkeys(sizes) if fit.rule.reject(w, h, fit.rule.size(w, h)) is None]
    if fit.scheme == "tile":
        checks.insert(1, (1024, 1024, "low"))
    return checks


def _measure(
    session: Session, api: str, detail: str, row: Model | None
) -> tuple[Fit | None, str | None, ProbeError | None]:
    """(the fitted rule, why it does not fit, the endpoint's failure): fit, then check on CHECKS sizes not fitted on,
    then check the fit on every size it was fitted on (each measurement gets its predicted count)."""
    fit = problem = failure = None
    try:
        fit = fit_rule(session, api, detail, row)
        session.use = "check"
        checks = wrong = 0
        for w, h, level in _check_sizes(fit):
            if checks == CHECKS:
                break
            if (w, h, level) in session.seen:
                continue
            tokens = session(w, h, level)
            allowed = fit.expected(w, h, level)
            session.log[-1] = Reading(w, h, level, tokens, "check", allowed[0])
            checks, wrong = checks + 1, wrong + (tokens not in allowed)
        if wrong:
            problem = f"the fitted rule missed {wrong} of the sizes it was checked on"
    except NoFit as error:
        problem = str(error)
    except ProbeError as error:  # the endpoint failed: raised again by probe, with what was measured before it
        return None, str(error), error
    if fit is not None and problem is None:
        predicted = [
            m
            if m.use == "check"
            else Reading(m.width, m.height, m.detail, m.tokens, m.use, fit.expected(m.width, m.height, m.detail)[0])
            for m in session.log
        ]
        misses = [m for m in predicted if m.use == "fit" and m.tokens not in fit.expected(m.width, m.height, m.detail)]
        if misses:
            problem = f"the fitted rule misses {len(misses)} of the sizes it was fitted on"
        session.log = predicted
    return fit, problem, failure


def _checked(model: str, api: str | None, detail: str, key: str | None, tables: Tables):
    """(api, the model's row or None, key), every argument checked before the first request (ProbeUsageError)."""
    api, row = resolve_api(model, api, tables)
    if api not in APIS:
        raise ProbeUsageError(f"api must be one of {', '.join(APIS)}, not {api!r}")
    if detail not in _DETAILS[api]:
        raise ProbeUsageError(f"detail {detail}: the {api} endpoint takes {', '.join(_DETAILS[api])}")
    if key is None:
        key, names = key_for(api)
        if key is None:
            raise ProbeUsageError(f"probe needs your {api} API key: set {' or '.join(names)}")
    return api, row, key


def _table_for(row, fit, detail: str):
    """The table's parameters to compare with: at the fitted scheme and level, or (no fit) the table's own rule
    for this detail, shown beside the measurements; None when the table has no rule there."""
    if fit is not None:
        return _table_params(row, fit.scheme, fit.level)
    try:
        return _table_params(row, row.scheme, _level(row, row.scheme, detail)) if row is not None else None
    except AttributeError:  # the table has no rule at that level
        return None


def probe(
    model: str,
    *,
    api: str | None = None,
    base_url: str | None = None,
    detail: str = "auto",
    key: str | None = None,
    tables: Tables | None = None,
    max_requests: int = MAX_REQUESTS,
    timeout: float = TIMEOUT,
    today: _dt.date | None = None,
) -> ProbeResult:
    """Measure `model`'s image-token rule at its vendor's token-counting endpoint (docs/probe.md).

    `key` defaults to the vendor's environment variable (KEY_VARIABLES);
    ProbeUsageError without one. ProbeError when the endpoint fails. A fit that
    fails is a result with ok False and the measurements, not an error.
    """
    api, row, key = _checked(model, api, detail, key, tables or default_tables())
    base_url = BASE_URLS[api] if base_url is None else check_base_url(base_url)
    endpoint = CountEndpointClient(api, base_url, key, model, timeout)
    session = Session(lambda size, level: endpoint.count(None if size is None else png(*size), level), max_requests)
    date = (today or _dt.date.today()).isoformat()
    try:
        fit, problem, failure = _measure(session, api, detail, row)
    finally:
        endpoint.close()
    ok = problem is None
    table_scheme = row.scheme if row is not None else None
    table = _table_for(row, fit if ok else None, detail)
    result = ProbeResult(
        model=model,
        api=api,
        base_url=base_url,
        endpoint=endpoint.url,
        detail=detail,
        date=date,
        requests=session.requests,
        measurements=tuple(session.log),
        ok=ok,
        problem=problem,
        fit=fit if ok else None,
        family=row.family if row is not None else None,
        vendor=row.vendor if row is not None and row.vendor else _API_VENDOR[api],
        table=table,
        table_scheme=table_scheme,
        comparison=compare(fit, table) if ok else {},
        row=row,
        retries=endpoint.retries,
        error=None if failure is None else str(failure),
    )
    if failure is not None:
        failure.result = result
        raise failure
    return result
