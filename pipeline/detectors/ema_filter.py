"""The exponential moving average (EMA) that EMA, MACD and EMA_Percentile share, and the
first-order recursion under it, which Cumulative's decaying sum uses too.

Both run as one ``scipy.signal.lfilter`` call per batch with the carried output as the filter's
state; ``lfilter`` forms ``y_t`` from the same two products and their sum as the per-sample form,
so a batch result equals the sample-by-sample result bit for bit, however the stream is cut.
(``lfilter``'s C loop is reached through ``scipy_internals.linear_filter``, which spares a run
the import of ``scipy.signal``.)
"""
from __future__ import annotations

import numpy as np

from pipeline.detectors.scipy_internals import linear_filter


def first_order(x: np.ndarray, gain: float, feedback: float, previous: float) -> np.ndarray:
    """``y_t = gain x_t + feedback y_{t-1}`` over ``x`` (float64), with ``y_{-1} = previous``.

    ``y`` is in the units of ``x`` (times ``gain / (1 - feedback)`` in a steady state).

    Examples
    --------
    >>> first_order(np.array([1.0, 1.0, 0.0]), gain=0.5, feedback=0.5, previous=0.0).tolist()
    [0.5, 0.75, 0.375]
    """
    y, _ = linear_filter(np.array([gain]), np.array([1.0, -feedback]), x, np.array([feedback * previous]))
    return y


class EMAFilter:
    """Exponential moving average of a stream, carried across batches.

    ``EMA_0 = x_0`` (the first value of the stream starts the average) and
    ``EMA_t = a x_t + (1 - a) EMA_{t-1}`` with ``a = 2 / (span + 1)``. The EMA is in the units of
    the values. State: the last EMA (``last``; None before the first value).

    Parameters
    ----------
    span : float
        Span of the average, in samples (> 0); 1 makes the EMA the value itself.

    Examples
    --------
    >>> ema = EMAFilter(span=3)                        # a = 0.5
    >>> ema(np.array([2.0, 4.0])).tolist(), ema(np.array([0.0])).tolist()
    ([2.0, 3.0], [1.5])
    """

    def __init__(self, span: float):
        self.alpha = 2 / (span + 1)
        self.last: float | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The EMA at each value of ``x`` (float64), continuing from the carried state."""
        if len(x) == 0:
            return x.copy()
        alpha, head = self.alpha, x[:0]
        if self.last is None:
            head, x, self.last = x[:1], x[1:], float(x[0])
        ema = np.concatenate([head, first_order(x, alpha, 1 - alpha, self.last)])
        self.last = float(ema[-1])
        return ema
