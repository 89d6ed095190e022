"""The last samples of a stream, carried from one batch to the next.

A windowed computation (a rolling mean, a lag, a percentile of the recent history) needs, for the
first samples of a batch, the samples before it. Prepending the tail of the previous batches and
keeping the new tail makes each result depend on the stream alone, not on where it was cut.
"""
from __future__ import annotations

import numpy as np


class SampleTail:
    """The last ``size`` samples seen, oldest first: elements of 1-D batches or rows of 2-D ones.

    ``extend(batch)`` returns the kept samples followed by ``batch`` (the batch starts at
    ``len(joined) - len(batch)``) and keeps the last ``size`` of them, copied, for the next batch.
    A caller that changes the joined samples before they are kept (a normalizer storing its
    replacements) calls ``prepend`` and ``keep`` instead. An empty tail takes the row shape of the
    batch it meets; kept samples are float64 unless the batches are of a wider type.

    Parameters
    ----------
    size : int
        Samples kept (>= 0).

    Examples
    --------
    >>> tail = SampleTail(2)
    >>> tail.extend(np.array([1.0, 2.0, 3.0])).tolist(), tail.samples.tolist()
    ([1.0, 2.0, 3.0], [2.0, 3.0])
    >>> tail.extend(np.array([4.0])).tolist()    # the batch starts at index 3 - 1 = 2
    [2.0, 3.0, 4.0]
    """

    def __init__(self, size: int):
        self.size = size
        self.samples = np.empty(0)

    def __len__(self) -> int:
        return len(self.samples)

    def prepend(self, batch: np.ndarray) -> np.ndarray:
        """The kept samples followed by ``batch``; keeps nothing new."""
        kept = self.samples
        if len(kept) == 0 and kept.shape[1:] != batch.shape[1:]:
            kept = np.empty((0,) + batch.shape[1:])
        return np.concatenate([kept, batch])

    def keep(self, samples: np.ndarray) -> None:
        """Keep the last ``size`` of ``samples`` (a copy), replacing what was kept."""
        self.samples = samples[len(samples) - min(len(samples), self.size):].copy()

    def extend(self, batch: np.ndarray) -> np.ndarray:
        """``prepend(batch)``, then keep the last ``size`` samples of the result."""
        joined = self.prepend(batch)
        self.keep(joined)
        return joined
