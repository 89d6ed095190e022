"""Timestamps as inputs give them: epoch seconds, epoch milliseconds or ISO 8601 text.

A number of magnitude below 1e10 is seconds, otherwise milliseconds (``pipeline/time_units.py``,
the rule detectors use too). ISO 8601 text without a zone is taken as UTC.

Supported instants are those of the years 1677 to 2262 (``pandas.Timestamp.min`` to ``.max``,
the range every time axis and time-of-day filter downstream handles). A timestamp outside it is
not an error of the run but of that record, which is rejected with ``OUT_OF_RANGE`` as its
reason; so is a number too large for a double.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.consumers.numbers import to_floats
from pipeline.time_units import seconds_from_numbers  # the readers take it from here with the rest

#: The supported instants, epoch seconds (inclusive).
MIN_SECONDS = pd.Timestamp.min.value / 1e9
MAX_SECONDS = pd.Timestamp.max.value / 1e9

OUT_OF_RANGE = "outside the supported time range (years 1677 to 2262)"


def in_range(seconds: np.ndarray) -> np.ndarray:
    """True where epoch seconds are a supported instant (False for NaN)."""
    with np.errstate(invalid="ignore"):
        return (seconds >= MIN_SECONDS) & (seconds <= MAX_SECONDS)


def iso_seconds(texts: pd.Series) -> np.ndarray:
    """Epoch seconds of ISO 8601 texts, NaN where unparsable. Any year 1 to 9999 parses (at
    microsecond resolution), so that an instant out of the supported range can be named as such."""
    parsed = pd.to_datetime(texts.str.strip(), utc=True, format="ISO8601", errors="coerce")
    micros = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    return np.where(np.isnat(micros), np.nan, micros.astype(np.int64) / 1e6)


def parse_timestamp_texts(texts) -> tuple[np.ndarray, np.ndarray]:
    """Numbers or ISO 8601 texts -> (timestamp as given, epoch seconds); NaN where unparsable.

    For ISO text the "as given" value is epoch seconds too (never read as milliseconds)."""
    series = pd.Series(texts, dtype=object)
    as_given = to_floats(series)
    seconds = seconds_from_numbers(as_given)
    text_rows = np.isnan(as_given) & series.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if text_rows.any():
        iso = iso_seconds(series[text_rows])
        as_given[text_rows] = iso
        seconds[text_rows] = iso
    return as_given, seconds
