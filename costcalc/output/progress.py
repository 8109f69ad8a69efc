"""A progress line for long runs: count, elapsed time, rate and, when the whole is known, an ETA.

The whole is known either as a fraction done (bytes of a batch file read) or as a count of items in all
(`n/total`: a table's row count, or a store's listing once it has ended); until then, the rate only.

On a terminal only (the caller decides, from `isatty`): redrawn at most five
times a second on stderr, erased at the end, and cleared before any other line
the run writes to stderr (`echo`), so the two never mix.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """A one-line counter on stderr; silent when disabled."""

    def __init__(self, enabled: bool, stream: TextIO | None = None, unit: str = "files"):
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream  # the one in force now (a test may swap it)
        self.unit = unit
        self.start = self.last = time.monotonic()
        self.files = 0
        self.fraction: float | None = None
        self.total: int | None = None
        self.shown = False

    def add(self, count: int, fraction: float | None = None, total: int | None = None) -> None:
        """Count `count` more done; `fraction` of the whole done so far, or `total`, how many there are in all,
        when known (for the ETA); redraw when due."""
        self.files += count
        if total is not None:
            self.total = total
        if self.total:
            fraction = min(self.files / self.total, 1.0)
        if fraction is not None:
            self.fraction = fraction
        if self.enabled:
            now = time.monotonic()
            if now - self.last >= 0.2:
                self.last = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.start
        rate = self.files / max(elapsed, 1e-9)
        whole = "" if self.total is None else f"/{self.total:,}"
        line = f"\r{self.files:,}{whole} {self.unit} · {elapsed:.1f}s · {rate:,.0f} {self.unit}/s"
        if self.fraction is not None and 0 < self.fraction < 1:
            line += f" · {self.fraction:.0%} · ETA {elapsed * (1 - self.fraction) / self.fraction:.0f}s"
        self.stream.write(line + "\033[K")
        self.stream.flush()
        self.shown = True

    def echo(self, text: str) -> None:
        """Write a line to the stream, clearing the progress line first (it is redrawn when next due)."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        """Erase the line."""
        if self.enabled and self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
