"""`costcalc reconcile` as text: a row per model, then how the bills were read."""

from __future__ import annotations

from ..truth.reconcile import ModelReconciliation, Reconciliation
from .report import render_table

__all__ = ["reconcile_table"]


def _verdict(report: ModelReconciliation) -> str:
    """The verdict cell: agrees, disagrees (how far), or unknown."""
    if report.agrees is None:
        return "unknown"
    if report.agrees:
        return "agrees"
    if report.ratio is None:
        return "DISAGREES: bills not in step with the rule"
    off = report.ratio - 1
    least = "at least " if report.upper_bound else ""
    return f"DISAGREES: bills {least}{abs(off):.1%} {'over' if off > 0 else 'under'} the rule"


def _how(report: ModelReconciliation) -> str:
    """How the billed image tokens were found, in words."""
    framing = report.framing_per_request
    shown = f"{framing:g}" if framing is not None else "?"
    words = {
        "reported": "as the answers report them",
        "text counted": "prompt tokens less the counted text" + (f" (and {shown} per request)" if framing else ""),
        "fit": f"prompt tokens less {shown} tokens of text and framing per request (fitted)",
        "bound": "at most the whole prompt tokens",
    }
    return "; ".join(words[method] for method in (report.method or "").split("+") if method in words)


def reconcile_table(result: Reconciliation) -> str:
    """The people's report: a row per model, then how the bills were read, notes, and how many lines were skipped."""
    header = [["model", "requests", "images", "predicted", "billed", "ratio", "verdict"]]
    body = []
    for name, report in result.models.items():
        bound = "≤ " if report.upper_bound else ""
        billed = "?" if report.billed_image_tokens is None else f"{bound}{report.billed_image_tokens:,}"
        ratio = "?" if report.ratio is None else f"{bound}{report.ratio:.3f}"
        body.append(
            [
                name,
                str(report.requests),
                str(report.images),
                f"{report.predicted_image_tokens:,}",
                billed,
                ratio,
                _verdict(report),
            ]
        )
    lines = [render_table(header, body, right={1, 2, 3, 4, 5})] if body else ["no request could be reconciled"]
    lines.append("")
    for name, report in result.models.items():
        if report.method:
            lines.append(f"{name}: billed image tokens = {_how(report)}")
        if report.note:
            lines.append(f"{name}: {report.note}")
    count = len(result.skipped)
    if count:
        lines.append(f"skipped {count} line{'' if count == 1 else 's'} (reasons on stderr)")
    return "\n".join(lines).rstrip("\n")
