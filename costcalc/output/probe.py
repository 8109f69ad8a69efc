"""`costcalc probe` as text: the fitted rule beside the table's, the checks, the verdict."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..truth.probe import ProbeResult, decimal_text
from .report import render_table

__all__ = ["probe_report"]


def probe_report(result: ProbeResult) -> str:
    """The probe as text: the fitted rule beside the table's, the checks (every measurement when the fit failed)."""
    fit = result.fit
    lines = [
        f"{result.model} at {result.endpoint}, detail {result.detail}"
        + (f" ({fit.scheme} scheme, level {fit.level})" if fit else "")
    ]
    if fit is not None and fit.scheme == "tile" and result.detail == "low":  # docs/openai.md: say what was measured
        lines[0] += "; low detail is the scheme's flat base: fitted the whole rule at high, low checked"
    if fit is not None:
        body = []
        for name, value in fit.params.items():
            known = "" if result.table is None else _shown(result.table.get(name, "unknown"))
            verdict = result.comparison.get(name, "")
            body.append([name, _shown(value), known, verdict])
        header = ["parameter", "measured", "table" if result.table is not None else "", ""]
        lines += ["", render_table([header], body, right=set())]
        lines += [
            f"  {name}: any of {span} bills every size the same (kept: {_shown(fit.params[name])})"
            for name, span in fit.equivalent.items()
        ]
        lines += [f"  note: {note}" for note in fit.notes]
    shown = result.measurements if not result.ok else [m for m in result.measurements if m.use == "check"]
    if shown:
        rows = [
            [
                f"{m.width}×{m.height}",
                m.detail,
                f"{m.tokens:,}",
                "" if m.predicted is None else f"{m.predicted:,}",
                m.use,
            ]
            for m in shown
        ]
        lines += ["", render_table([["size", "detail", "tokens", "predicted", "use"]], rows, right={2, 3})]
    fitted = sum(1 for m in result.measurements if m.use == "fit")
    checked = [m for m in result.measurements if m.use == "check"]
    lines.append("")
    retried = f" ({result.retries} more sent again after a rate limit)" if result.retries else ""
    lines.append(
        f"{result.requests} requests{retried}: {fitted} size{'s' * (fitted != 1)} to fit, "
        f"{len(checked)} to check, each against the same request without the image"
    )
    lines.append(_verdict(result))
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, Fraction):
        return decimal_text(value)
    return str(value)


def _verdict(result: ProbeResult) -> str:
    if not result.ok:
        return f"no fit: {result.problem}"
    if result.table_scheme is None:
        return "the table does not know this model: `--write FILE` saves the measured row"
    if result.table_scheme != result.fit.scheme:
        return f"disagrees: the table prices it as a {result.table_scheme} model, the answers fit the {result.fit.scheme} scheme"
    wrong = [n for n, v in result.comparison.items() if v == "disagree"]
    new = [n for n, v in result.comparison.items() if v == "new"]
    if wrong:
        return f"disagrees with the table on {', '.join(wrong)}"
    if new:
        return f"agrees with the table where it knows; measured what it does not ({', '.join(new)})"
    return "agrees with the table"
