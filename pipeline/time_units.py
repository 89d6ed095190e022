"""Whether an epoch number is in seconds or in milliseconds: one rule for inputs and detectors.

A number whose magnitude is below 1e10 is seconds, otherwise milliseconds (the original's rule,
spec 1.4): 1e10 s is the year 2286, while 1e10 ms is 1970-04-26. The magnitude decides, so
instants before 1970 read the same way as those after: -1.5e12 is milliseconds (1922), as
1.5e12 is (2017).
"""
from __future__ import annotations

import numpy as np

#: Epoch numbers of at least this magnitude are milliseconds.
MS_THRESHOLD = 1e10


def seconds_from_numbers(ts: np.ndarray) -> np.ndarray:
    """Epoch seconds (float64) from epoch seconds or milliseconds; NaN stays NaN.

    Examples
    --------
    >>> seconds_from_numbers(np.array([1.7e9, 1.7e12, -1.5e12, np.nan])).tolist()
    [1700000000.0, 1700000000.0, -1500000000.0, nan]
    """
    ts = np.asarray(ts, dtype=np.float64)
    return np.where(np.abs(ts) < MS_THRESHOLD, ts, ts / 1000.0)
