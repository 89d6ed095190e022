"""Normalization reproduces the original's unit-test numbers and suggests values for errors of
any detector."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detector_run import DetectorRun
from pipeline.detectors.border_check import BorderCheck
from pipeline.normalization import LastNAverage, PeriodicLastNAverage
from tests.conftest import batch_of


def seeded_errors(count):
    """Spec 4.7: a seed vector [1, 1], then [x, 11 + 2x] all judged as errors."""
    values = np.array([[1, 1]] + [[x, 11 + 2 * x] for x in range(count)], dtype=float)
    return values, np.array([False] + [True] * count)


def test_last_n_average_unit_test_numbers():
    values, errors = seeded_errors(9)
    got = LastNAverage(N=4).suggest(values, errors)[1:]
    assert np.isnan(got[:3]).all()
    assert got[3:].ravel().tolist() == pytest.approx(np.ravel(
        [[1, 10], [1, 12.25], [1.25, 12.5625], [1.3125, 12.453125], [1.1406, 11.8164], [1.17578, 12.27051]]), abs=1e-4)


def test_periodic_last_n_average_unit_test_numbers():
    values, errors = seeded_errors(11)
    got = PeriodicLastNAverage(N=4, period=2).suggest(values, errors)[1:]
    assert np.isnan(got[:6]).all()
    assert got[6:].tolist() == [[2.5, 13], [2.125, 14.5], [2.78125, 16.375], [2.8203125, 15.84375],
                                [3.236328125, 17.0859375]]


def test_suggestions_do_not_depend_on_batch_cuts():
    values, errors = seeded_errors(11)
    norm = PeriodicLastNAverage(N=4, period=2)
    parts = [norm.suggest(values[a:b], errors[a:b]) for a, b in [(0, 3), (3, 4), (4, 12)]]
    whole = PeriodicLastNAverage(N=4, period=2).suggest(values, errors)
    assert np.array_equal(np.concatenate(parts), whole, equal_nan=True)


def test_any_detector_gets_a_suggested_value_on_errors():
    run = DetectorRun(0, BorderCheck(UL=10, LL=0), normalizer=LastNAverage(N=2))
    result = run.process(batch_of([4.0, 6.0, 50.0, 5.0]))
    assert result.status_code.tolist() == [1, 1, -1, 1]
    assert np.isnan(result.suggested_value[[0, 1, 3]]).all()
    assert result.suggested_value[2].tolist() == [5.0]


def test_a_suggestion_of_a_detector_with_features_has_the_width_of_the_raw_value():
    from pipeline.detectors.hampel import Hampel
    from pipeline.features import FeatureSpec
    from pipeline.records import SampleBatch
    x = np.r_[np.zeros(30), 9.0, np.zeros(30)]
    values = np.column_stack([x, x + 1])
    samples = SampleBatch(np.arange(61.0), np.arange(61.0), values, np.arange(61))
    run = DetectorRun(0, Hampel(W=3, K=1.4826, n_sigmas=3.0), normalizer=LastNAverage(N=2),
                      features=FeatureSpec(2, shifts=((1,), ())))
    result = run.process(samples)
    assert result.suggested_value.shape == (61, 2)
