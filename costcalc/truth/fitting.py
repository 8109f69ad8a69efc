"""Fitting bills to predictions: billed total = framing + slope × predicted, by Theil–Sen, and how sure the line is.

See costcalc.truth.reconcile's docstring for how a line is used: only when its slope's standard error is
within half the tolerance and every image size's median bill lies on it.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["fit_line", "line_of", "framing_can_agree", "Line", "MAX_SLOPE_PAIRS", "MEDIAN_ERROR"]

MAX_SLOPE_PAIRS = 100_000
"""Theil–Sen takes every pair of distinct predictions up to this many, else a fixed-seed sample of them."""

MEDIAN_ERROR = 1.2533
"""The standard error of a median of n normal values, in standard deviations over √n (√(π/2))."""


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
class Line:
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


def _noise(
    points: list[tuple[float, float]], groups: dict[float, list[float]], residuals: list[float], fitted: int
) -> tuple[float, int]:
    """The bills' scatter (a scaled MAD) and its degrees of freedom.

    Measured within requests of one prediction when those leave 4 degrees of
    freedom or more (a rule off in shape does not inflate it), else around
    the line (`fitted` parameters spent); each corrected for what it spent.
    """
    repeated = {x: len(ys) for x, ys in groups.items() if len(ys) > 1}
    freedom = sum(n - 1 for n in repeated.values())
    if freedom >= 4:
        spread = [
            (y - statistics.median(groups[x])) * math.sqrt(repeated[x] / (repeated[x] - 1))
            for x, y in points
            if x in repeated
        ]
    else:
        freedom = max(len(points) - fitted, 1)
        spread = [r * math.sqrt(len(points) / freedom) for r in residuals]
    centre = statistics.median(spread)
    return 1.4826 * statistics.median(abs(r - centre) for r in spread), freedom


def _sure(freedom: int) -> float:
    """How many standard errors make a difference sure: 3 (false alarms cost more than unknowns), more with few data."""
    return 3 + 6 / freedom


def line_of(points: list[tuple[float, float]], tolerance: float) -> Line:
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
        return Line(None, None, False, noise, groups, sure=_sure(freedom))
    slope, intercept = fitted
    noise, freedom = _noise(points, grouped, [y - intercept - slope * x for x, y in points], 2)
    sure, count = _sure(freedom), len(points)
    slope_error = noise / (math.sqrt(count) * statistics.pstdev(x for x, _ in points))
    straight = all(
        abs(y - intercept - slope * x) <= tolerance / 2 * x + sure * MEDIAN_ERROR * noise / math.sqrt(n) + 1
        for x, y, n in groups
    )
    # the framing taken off each bill is off by the slope's error at the typical prediction, plus the median's own
    framing_error = math.hypot(
        slope_error * statistics.median(x for x, _ in points), MEDIAN_ERROR * noise / math.sqrt(count)
    )
    trusted = slope_error <= tolerance / 2 and straight
    return Line(slope, intercept, trusted, noise, groups, framing_error * count, sure)


def framing_can_agree(line: Line, tolerance: float, ceiling: bool) -> bool:
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
