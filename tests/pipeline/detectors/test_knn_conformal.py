"""KNNConformal: causal, independent of batch cuts, and one alarm per anomaly."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors.knn_conformal import KNNConformal
from pipeline.records import SampleBatch
from tests.conftest import batch_of

PARAMS = dict(length=8, history=300, calibration=150, quiet=40, warm_up=60)


def stream(seed, n=3000):
    """A noisy daily-like rhythm with a spike, a level shift and a flat stretch."""
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(n) * 2 * np.pi / 96) + rng.normal(0, 0.1, n)
    x[n // 3] += 4
    x[n // 2:n // 2 + 50] = 0.25
    x[2 * n // 3:] += 1.5
    return x


def vectors_of(x, start=0):
    """A SampleBatch of ``x``: scalar values, or one row of values per sample."""
    if x.ndim == 1:
        return batch_of(x, start=start)
    ts = np.arange(start, start + len(x), dtype=np.float64)
    return SampleBatch(ts, ts, x, np.arange(start, start + len(x)))


def scores(detector, x, cuts):
    parts, start = [], 0
    for size in cuts:
        out = detector.update(vectors_of(x[start:start + size], start=start))
        parts.append((out.status_idx, out.score, out.lines["distance"]))
        start += size
    return [np.concatenate(p) for p in zip(*parts)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_batch_cuts_give_exactly_the_sample_by_sample_result(seed):
    rng = np.random.default_rng(seed)
    x = stream(seed)
    cuts = []
    while sum(cuts) < len(x):
        cuts.append(int(min(len(x) - sum(cuts), rng.integers(1, 500))))
    whole = scores(KNNConformal(**PARAMS), x, [len(x)])
    cut = scores(KNNConformal(**PARAMS), x, cuts)
    singles = scores(KNNConformal(**PARAMS), x[:700], [1] * 700)
    for a, b, c in zip(whole, cut, singles):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a[:700], c)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_altering_the_stream_after_a_random_point_leaves_earlier_scores_unchanged(seed):
    rng = np.random.default_rng(seed)
    x = stream(seed)
    point = int(rng.integers(100, len(x) - 1))
    altered = x.copy()
    altered[point:] = rng.normal(5, 3, len(x) - point)
    a = scores(KNNConformal(**PARAMS), x, [len(x)])
    b = scores(KNNConformal(**PARAMS), altered[:point + 1], [point + 1])
    c = scores(KNNConformal(**PARAMS), altered, [len(x)])
    for u, v, w in zip(a, b, c):
        np.testing.assert_array_equal(u[:point], v[:point])
        np.testing.assert_array_equal(u[:point], w[:point])


def test_spike_and_level_shift_get_the_top_scores_and_warm_up_is_undefined():
    x = stream(7)
    detector = KNNConformal(**PARAMS)
    status, score, _ = scores(detector, x, [len(x)])
    assert set(status[:60].tolist()) == {1} and not score[:60].any()
    top = set(np.argsort(score)[-5:].tolist())
    assert 1000 in top
    assert any(2000 <= t < 2020 for t in top)


def test_a_peak_is_not_repeated_within_the_quiet_period():
    x = stream(8)
    score = scores(KNNConformal(**PARAMS), x, [len(x)])[1]
    peak = int(np.argmax(score))
    assert score[peak + 1:peak + 40].max() <= 0.5 * score[peak]


def test_a_history_too_short_to_hold_k_earlier_stretches_is_refused_in_the_config():
    """(It would never fire, silently.)"""
    from pathlib import Path

    from pipeline.config import ConfigError, parse_config

    raw = {"anomaly_detection_alg": ["KNNConformal()"],
           "anomaly_detection_conf": [{"input_vector_size": 1, "history": 25, "gap": 20, "k": 7}]}
    with pytest.raises(ConfigError, match=r"anomaly_detection_conf\[0\].history: expected at least gap \+ k - 1 = 26"):
        parse_config(raw, Path("knn.json"))


def with_bad_values(seed):
    """``stream(seed)`` with NaN and inf (both signs) at random places, some in a row."""
    rng = np.random.default_rng(seed)
    x = stream(seed)
    places = rng.choice(np.arange(200, len(x)), 12, replace=False)
    x[places] = rng.choice([np.nan, np.inf, -np.inf], len(places))
    x[1500:1503] = np.nan
    return x


def random_cuts(rng, n):
    cuts = []
    while sum(cuts) < n:
        cuts.append(int(min(n - sum(cuts), rng.integers(1, 500))))
    return cuts


@pytest.mark.parametrize("seed", [0, 1])
def test_nan_and_inf_values_are_undefined_and_the_rest_stays_finite_and_independent_of_batch_cuts(seed):
    rng = np.random.default_rng(seed)
    x = with_bad_values(seed)
    status, score, distance = scores(KNNConformal(**PARAMS), x, [len(x)])
    bad = ~np.isfinite(x)
    assert np.isfinite(score).all() and not np.isinf(distance).any()
    assert (status[bad] == 1).all() and not score[bad].any()
    for a, b in zip((status, score, distance), scores(KNNConformal(**PARAMS), x, random_cuts(rng, len(x)))):
        np.testing.assert_array_equal(a, b)
    singles = scores(KNNConformal(**PARAMS), x[:900], [1] * 900)
    for a, c in zip((status, score, distance), singles):
        np.testing.assert_array_equal(a[:900], c)


def test_a_bad_value_neither_switches_off_the_range_rule_nor_enters_the_range():
    x = stream(9)
    x[800], x[801] = np.nan, np.inf
    detector = KNNConformal(**PARAMS)
    scores(detector, x[:1000], [1000])
    assert np.isfinite(detector._high).all() and np.isfinite(detector._low).all()
    clean = KNNConformal(**PARAMS)
    scores(clean, stream(9)[:1000], [1000])
    assert detector._high == clean._high and detector._low == clean._low
    status = detector.update(batch_of(np.array([clean._high[0] + 5.0]), start=1000)).status_idx
    assert status.tolist() == [2]


def test_a_stream_without_bad_values_is_scored_as_before_the_bad_value_rules():
    """Distances compared with a plain numpy loop of the definition on finite data."""
    x = stream(10, n=500)
    length, history, k = 8, 120, 2
    detector = KNNConformal(length=length, history=history, k=k, calibration=50, quiet=10, warm_up=20)
    distance = scores(detector, x, [len(x)])[2]
    for j in range(2 * length + k, len(x), 37):
        ends = range(max(length - 1, j - history), j - length + 1)
        d = sorted(((x[j - length + 1:j + 1] - x[s - length + 1:s + 1]) ** 2).sum() for s in ends)[:k]
        assert distance[j] == pytest.approx(np.sqrt(sum(d) / (k * length)), rel=1e-12)


def test_every_value_of_a_wider_vector_is_compared_not_only_the_first():
    rng = np.random.default_rng(11)
    n = 1200
    first = np.sin(np.arange(n) * 2 * np.pi / 50) + rng.normal(0, 0.05, n)
    second = np.cos(np.arange(n) * 2 * np.pi / 50) + rng.normal(0, 0.05, n)
    second[1000:1010] = 0.0  # a broken rhythm in the second feature only, within its range
    params = dict(length=10, history=300, calibration=200, quiet=40, warm_up=100, spatial_tolerance=None)
    one = KNNConformal(**params).update(batch_of(first, start=0)).score
    both_values = np.column_stack([first, second])
    whole = KNNConformal(**params).update(vectors_of(both_values))
    assert whole.score[1000:1020].max() >= 0.75 > one[1000:1020].max()
    rng = np.random.default_rng(12)
    cut = scores(KNNConformal(**params), both_values, random_cuts(rng, n))
    np.testing.assert_array_equal(cut[1], whole.score)
    single_feature = KNNConformal(**params).update(vectors_of(first[:, None])).score
    np.testing.assert_array_equal(single_feature, one)
