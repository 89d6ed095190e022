"""The original project's own unit-test expectations for BorderCheck, EMA and Welford (spec 11),
plus the cases where it crashed and we must not."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors.border_check import BorderCheck
from pipeline.detectors.ema import EMA
from pipeline.detectors.welford import Welford
from tests import reference_loops
from tests.conftest import batch_of


def codes(detector, values):
    return detector.status_codes[detector.update(batch_of(values)).status_idx].tolist()


def texts(detector, values):
    return [detector.status_texts[i] for i in detector.update(batch_of(values)).status_idx]


def test_border_check_ok_errors_and_lower_warning():
    d = BorderCheck(UL=4, LL=2, warning_stages=[0.7, 0.9])
    assert codes(d, [3, 5, 1, 2.1]) == [1, -1, -1, 0]
    assert texts(d, [2.1]) == ["Warning0: measurement close to lower limit."]


def test_border_check_probe_values_of_the_original():
    d = BorderCheck(UL=4, LL=2, warning_stages=[0.9, 0.7])  # unsorted on purpose: sorted like upstream
    assert texts(d, [4, 3.8, 3.95, 1.99, 4.01]) == [
        "Warning1: measurement close to upper limit.", "Warning0: measurement close to upper limit.",
        "Warning1: measurement close to upper limit.", "Error: measurement below lower limit",
        "Error: measurement above upper limit"]


def test_ema_constant_is_ok_and_rise_warns_then_errors():
    assert codes(EMA(UL=4, LL=2, N=5, warning_stages=[0.7, 0.9]), [3, 3, 3]) == [1, 1, 1]
    assert codes(EMA(UL=4, LL=2, N=5, warning_stages=[0.7, 0.9]),
                 [3, 4, 4, 4, 4, 5, 5, 5]) == [1, 1, 1, 0, 0, -1, -1, -1]


@pytest.mark.parametrize("values,expected", [
    ([1, 2, 3, 4, 1, 2], [2, 2, 2, 2, 1, 1]),
    ([1, 2, 3, 4, -0.1, 5.73], [2, 2, 2, 2, -1, -1]),
])
def test_welford_window(values, expected):
    assert codes(Welford(X=2, N=4, warning_stages=[0.7, 0.9]), values) == expected


@pytest.mark.parametrize("values,expected", [
    ([1, 2, 2.4, 2.6, 1, 3.1], [2, 2, 1, 1, 1, 1]),
    ([1, 2, 3, -1, 5, -2.5], [2, 2, -1, -1, -1, -1]),
])
def test_welford_cumulative(values, expected):
    assert codes(Welford(X=2, warning_stages=[]), values) == expected


def test_welford_after_a_constant_history_same_value_is_ok_any_other_is_an_error():
    assert codes(Welford(X=3, N=5), [5.0] * 6 + [5.000001]) == [2] * 5 + [1, -1]
    assert codes(Welford(X=3, N=5), [5.0] * 5 + [4.999999]) == [2] * 5 + [-1]
    assert codes(Welford(X=3), [5.0] * 3 + [5.0, 5.5]) == [2, 2, 1, 1, -1]


def test_scores_rank_spikes_above_normal_samples():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 3000)
    spikes = rng.choice(np.arange(100, 3000), 30, replace=False)
    x[spikes] += 8
    for d in (Welford(X=3, N=50), BorderCheck(UL=3, LL=-3), Welford(X=3)):
        score = d.update(batch_of(x)).score
        assert ((score >= 0) & (score <= 1)).all()
        normal = np.setdiff1d(np.arange(100, 3000), spikes)
        assert score[spikes].min() > np.median(score[normal])


def test_welford_value_equal_to_a_flat_window_is_ok_and_leaks_no_warning(recwarn):
    # the rolling sums left a mean of -5.6e-17 and a std clamped to 0 on the flat stretch, so
    # every zero from the fourth on was "Error: measurement above upper limit" with score 1.0
    values = [0.1, 0.7, 0.3, 0.9] + [0.0] * 12 + [1.0, 0.0]
    with np.errstate(all="raise"):
        d = Welford(X=3, N=3)
        out = d.update(batch_of(values))
    status = d.status_codes[out.status_idx].tolist()
    assert status[7:16] == [1] * 9 and status[16] == -1
    assert out.score[7:16].tolist() == [0.0] * 9
    assert out.lines["mean"][7:17].tolist() == [0.0] * 10
    texts, _ = reference_loops.welford_loop(values, X=3, N=3)
    assert [d.status_texts[i] for i in out.status_idx] == texts
    assert not recwarn.list
