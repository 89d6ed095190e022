"""KNNConformal: causal, independent of batch cuts, and one alarm per anomaly."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors.knn_conformal import KNNConformal
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


def scores(detector, x, cuts):
    parts, start = [], 0
    for size in cuts:
        out = detector.update(batch_of(x[start:start + size], start=start))
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
