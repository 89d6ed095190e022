"""Numbers as inputs write them, converted without ever failing: NaN for what is not a number,
+-inf for what a double cannot hold (``1e400``, an integer of 400 digits)."""
from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd


def to_float(value) -> float:
    """A number or number text as a float: NaN when it is not one (``"abc"``, ``None``, a
    boolean), +-inf when it is too large for a double (``1e400``, a 400-digit integer)."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float, Decimal, np.number)):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        try:
            return float(Decimal(text.strip()))   # Decimal: no limit on the digits it accepts
        except (InvalidOperation, ValueError, OverflowError):
            return math.nan
    return math.nan


def to_floats(values) -> np.ndarray:
    """Numbers or number texts -> float64, NaN where not a number and +-inf where too large.

    pandas converts the usual case in C; only a column it refuses (an integer beyond a double's
    range raises OverflowError there) is converted value by value. Booleans are not numbers."""
    series = pd.Series(values, dtype=object)
    try:
        x = np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
    except (OverflowError, ValueError, TypeError):
        return np.array([to_float(v) for v in values], dtype=np.float64)
    # pandas counts True as 1; a boolean is no number of ours (a text "true" is NaN already)
    booleans = series.map(type).to_numpy() == bool  # noqa: E721 - elementwise, not a type check
    x[booleans] = np.nan
    return x
