"""A fixed-size ring of numeric columns: the window's plot buffers and a model detector's
retrain buffer.

A mirrored ring (the default, for plots) writes every sample twice, at slot ``i`` and
``i + capacity`` of an array twice as long (Friture's ``ringbuffer.py`` trick), so the last
``count`` samples, oldest first, are the slice that ends at the write position in the second half:
plots hand that view to ``setData`` without a copy, every frame. A plain ring
(``mirrored=False``, for a retrain buffer read once per retrain) stores each sample once and
hands out copies (``rows``). Memory stays flat however long the stream runs.
"""
from __future__ import annotations

import numpy as np


class RingBuffer:
    """The newest ``capacity`` rows of ``columns`` float64 columns.

    Parameters
    ----------
    capacity : int
        Samples kept; older ones are overwritten.
    columns : int
        Number of columns written together (x, value, lines...).

    Examples
    --------
    >>> ring = RingBuffer(capacity=3, columns=2)
    >>> ring.extend(np.array([[1.0, 2.0], [10.0, 20.0]]))
    >>> ring.extend(np.array([[3.0, 4.0], [30.0, 40.0]]))
    >>> ring.view().tolist()
    [[2.0, 3.0, 4.0], [20.0, 30.0, 40.0]]
    >>> ring.total
    4
    """

    def __init__(self, capacity: int, columns: int, mirrored: bool = True):
        if capacity < 1:
            raise ValueError(f"capacity: expected >= 1, got {capacity}")
        self.capacity = capacity
        self.columns = columns
        self.mirrored = mirrored
        # a plain ring is allocated, not filled: its pages are committed as samples arrive
        self._data = np.full((columns, 2 * capacity), np.nan) if mirrored else np.empty((columns, capacity))
        self._pos = 0  # next slot to write, in [0, capacity)
        self.count = 0  # valid samples, <= capacity
        self.total = 0  # samples ever written

    def extend(self, block: np.ndarray) -> None:
        """Append ``block`` of shape (columns, n), oldest sample first."""
        n = block.shape[1]
        if n == 0:
            return
        self.total += n
        cap = self.capacity
        if n > cap:
            block = block[:, -cap:]
            n = cap
        pos = self._pos
        first = min(n, cap - pos)
        for offset in ((0, cap) if self.mirrored else (0,)):
            self._data[:, offset + pos:offset + pos + first] = block[:, :first]
            self._data[:, offset:offset + n - first] = block[:, first:]
        self._pos = (pos + n) % cap
        self.count = min(cap, self.count + n)

    def view(self) -> np.ndarray:
        """The valid samples, oldest first, shape (columns, count); a view, valid until the next
        ``extend`` (mirrored rings only)."""
        if not self.mirrored:
            raise TypeError("a plain ring has no contiguous view; use rows()")
        end = self._pos + self.capacity
        return self._data[:, end - self.count:end]

    def rows(self) -> np.ndarray:
        """The valid samples, oldest first, shape (columns, count); a copy."""
        if self.mirrored:
            return self.view().copy()
        start = self._pos - self.count  # negative: the oldest samples are at the end of the array
        if start >= 0:
            return self._data[:, start:self._pos].copy()
        return np.concatenate([self._data[:, start:], self._data[:, :self._pos]], axis=1)

    def clear(self) -> None:
        self._pos = 0
        self.count = 0
        self.total = 0
