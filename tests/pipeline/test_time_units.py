"""One rule tells epoch seconds from milliseconds, for the input readers and the detectors."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.consumers.timestamps import parse_timestamp_texts
from pipeline.time_units import MS_THRESHOLD, seconds_from_numbers


@pytest.mark.parametrize("given,seconds", [
    (0.0, 0.0), (1.7e9, 1.7e9), (9_999_999_999.0, 9_999_999_999.0),     # seconds up to 2286
    (MS_THRESHOLD, 1e7), (1.7e12, 1.7e9),                                 # milliseconds from 1970-04-26
    (-1.5e8, -1.5e8), (-1.5e11, -1.5e8),                                  # before 1970 alike, by magnitude
])
def test_magnitude_below_1e10_is_seconds_otherwise_milliseconds(given, seconds):
    assert seconds_from_numbers(np.array([given])).tolist() == [seconds]


def test_not_a_number_stays_not_a_number():
    assert np.isnan(seconds_from_numbers(np.array([np.nan]))).all()


def test_the_input_readers_use_the_same_rule():
    given = np.array([1.7e9, 1.7e12, -1.5e11, -1.5e8])
    _, seconds = parse_timestamp_texts([repr(v) for v in given.tolist()])
    assert seconds.tolist() == seconds_from_numbers(given).tolist()
