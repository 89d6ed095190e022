"""A rate over the last second: samples read per second, frames drawn per second."""
from __future__ import annotations

import time
from collections import deque


class RateMeter:
    """Events per second over the last ``window_s`` seconds, from running totals.

    Examples
    --------
    >>> meter = RateMeter(window_s=1.0)
    >>> for second, total in [(0.0, 0), (0.5, 40), (1.0, 100)]:
    ...     meter.add(total, now=second)
    >>> meter.rate()
    100.0
    """

    def __init__(self, window_s: float = 1.0):
        self.window_s = window_s
        self._points: deque[tuple[float, float]] = deque()

    def add(self, total: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._points.append((now, total))
        while len(self._points) > 2 and now - self._points[1][0] >= self.window_s:
            self._points.popleft()

    def rate(self) -> float:
        if len(self._points) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._points[0], self._points[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def clear(self) -> None:
        self._points.clear()
