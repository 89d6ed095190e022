"""Timestamps as inputs give them: epoch seconds, epoch milliseconds or ISO 8601 text.

A number below 1e10 is seconds, otherwise milliseconds (the original's rule, spec 1.4): 1e10 s
is the year 2286, while 1e10 ms is 1970-04-26. ISO 8601 text without a zone is taken as UTC.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MS_THRESHOLD = 1e10


def seconds_from_numbers(ts: np.ndarray) -> np.ndarray:
    """Epoch seconds from epoch seconds or milliseconds (NaN stays NaN)."""
    ts = np.asarray(ts, dtype=np.float64)
    return np.where(np.abs(ts) < MS_THRESHOLD, ts, ts / 1000.0)


def parse_timestamp_texts(texts) -> tuple[np.ndarray, np.ndarray]:
    """Numbers or ISO 8601 texts -> (timestamp as given, epoch seconds); NaN where unparsable.

    For ISO text the "as given" value is epoch seconds too.
    """
    series = pd.Series(texts, dtype=object)
    as_given = np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
    text_rows = np.isnan(as_given) & series.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if text_rows.any():
        parsed = pd.to_datetime(series[text_rows].str.strip(), utc=True, format="ISO8601", errors="coerce")
        seconds = (parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        as_given[text_rows] = seconds.to_numpy(dtype=np.float64, na_value=np.nan)
    return as_given, seconds_from_numbers(as_given)
