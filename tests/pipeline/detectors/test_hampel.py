"""Hampel: the original's statuses and suggested values except where its off-by-one explains the
difference.

The original tested the window element after the centre (``x[t-W+1]``) and gave its first
verdict one sample after the window was full. ``hampel_loop(original_off_by_one=True)``
reproduces the original's vectors exactly (statuses and suggested values); our detector equals the
same loop with only the off-by-one corrected, so every mismatch is the off-by-one's.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.detectors.hampel import Hampel
from pipeline.records import SampleBatch
from tests.conftest import REFVECTORS, batch_of
from tests.reference_loops_stats import (
    hampel_loop,
    load_refvector,
    mismatches,
    parameters,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)


def same(a, b):
    """Equal lists of optional floats (None and NaN both mean none)."""
    def norm(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else v
    return [norm(v) for v in a] == [norm(v) for v in b]


@pytest.mark.parametrize("stem,mismatching", [("Hampel__classic__sine_spikes", 91),
                                              ("Hampel__fork__sine_spikes", 53)])
def test_every_mismatch_with_the_original_is_the_off_by_one(stem, mismatching, sine_spikes):
    ts, x = sine_spikes
    record, expected, _ = load_refvector(stem)
    params = parameters(record)
    emitted = np.array(record["emitted"], dtype=bool)
    original = hampel_loop(x.tolist(), **params, original_off_by_one=True)
    assert original[0] == expected
    # the original wrote records (with suggested values) once its delayed point existed
    written = [v for v, e in zip(record["suggested_value"], emitted) if e]
    assert same([v for v, e in zip(original[2], emitted) if e], written)

    result = replay(record, ts, x)
    ours = [result.status_texts[i] for i in result.status_idx]
    fixed = hampel_loop(x.tolist(), **params)
    assert ours == fixed[0]
    assert same(result.suggested_value[:, 0].tolist(), fixed[2])
    assert mismatches(ours, expected) == mismatches(fixed[0], original[0])
    assert len(mismatches(ours, expected)) == mismatching
    # the injected spikes are found as before, reported W samples after them instead of W - 1
    W = params["W"]
    for s in np.flatnonzero(spike_labels()):
        assert ours[s + W] == expected[s + W - 1] == "Anomaly detected"


def spike_labels():
    return np.array(json.loads((REFVECTORS / "inputs" / "sine_spikes.json").read_text())["label"])


def test_the_centre_of_the_window_is_tested_and_the_verdict_comes_W_samples_later():
    d = Hampel(W=2, K=1.4826, n_sigmas=3.0)
    x = [1.0, 1.1, 0.9, 1.0, 9.0, 1.1, 1.0, 0.9, 1.05]
    out = d.update(batch_of(x))
    assert d.delay == 2
    assert d.status_codes[out.status_idx].tolist() == [2, 2, 2, 2, 1, 1, -1, 1, 1]
    assert out.suggested_value[:, 0].tolist()[2:] == [1.0, 1.1, 0.9, 1.0, 1.0, 1.1, 1.0]
    assert np.isnan(out.suggested_value[:2]).all()
    assert out.score[6] > 0.5 > out.score[5]


def test_a_constant_window_does_not_crash_and_any_deviation_in_it_is_an_anomaly():
    d = Hampel(W=3)
    out = d.update(batch_of([2.0] * 10 + [2.5] + [2.0] * 5))
    codes = d.status_codes[out.status_idx].tolist()
    assert codes[6:] == [1] * 7 + [-1] + [1] * 2
    assert out.score[12] == 0.0
    # the score's scale falls back to the stream's mean step: 2 steps of 0.5 in 13, times sqrt(pi)/2
    r = 0.5 / (3 * 1.0 / 13 * math.sqrt(math.pi) / 2)
    assert out.score[13] == pytest.approx(r / (1 + r))


def test_zero_mad_windows_still_rank_samples_by_their_departure():
    # stepped data: most windows have a MAD of 0, where every departure used to score exactly 1.0
    steps = np.repeat([0.0, 1.0, 0.5, 1.5, 1.0], 20)
    scores = []
    for size in (0.05, 0.5, 2.0, 10.0):
        x = np.concatenate([steps, np.zeros(20)])
        x[110] = size
        d = Hampel(W=5)
        out = d.update(batch_of(x))
        assert d.status_codes[out.status_idx][110 + d.delay] == -1  # the status rule is the original's
        score = out.score[d.delay:]  # the score of sample t comes with sample t + W
        assert set(np.delete(score, 110)[10:].tolist()) == {0.0}  # samples equal to their median
        scores.append(score[110])
    assert scores == sorted(scores) and len(set(scores)) == 4 and max(scores) < 1.0


def test_suggested_values_keep_the_other_features_of_the_delayed_sample():
    d = Hampel(W=1, n_sigmas=2)
    values = np.array([[1.0, 10], [1.1, 11], [7.0, 12], [1.0, 13], [1.1, 14]])
    out = d.update(SampleBatch(values[:, 0], values[:, 0], values, np.arange(5)))
    assert out.suggested_value[3].tolist() == [1.1, 12.0]  # the 7.0 at sample 2, replaced by its median
    assert out.suggested_value[1].tolist() == [1.0, 10.0]


@pytest.mark.parametrize("params", [dict(W=1, K=1.4826, n_sigmas=3.0), dict(W=5, K=1.4826, n_sigmas=3.0),
                                    dict(W=12, K=2, n_sigmas=2.0)])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(params, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 4000)
    texts, scores, suggested = hampel_loop(x.tolist(), **params)
    for sizes in ([len(x)], random_cuts(rng, len(x))):
        got = run_in_batches(Hampel(**params), x, sizes)
        assert got[:2] == (texts, scores)
        assert same(got[2], suggested)


def ties_and_infinities(rng, n):
    """Values on a 0.1 grid (many ties, both signs of zero), a constant stretch and some infinities."""
    x = np.round(rng.normal(0, 1, n), 1)
    x[n // 4:n // 4 + 200] = 3.0
    x[rng.choice(n, n // 50, replace=False)] = rng.choice([np.inf, -np.inf], n // 50)
    return x


@pytest.mark.parametrize("W", [1, 4, 31, 32, 40])  # sorted by a network up to W = 31, while sliding above
def test_median_and_limits_are_numpys_median_and_mad_even_with_ties_and_infinities(W):
    x = ties_and_infinities(np.random.default_rng(W), 3000)
    out = Hampel(W=W, K=1.5, n_sigmas=2.0).update(batch_of(x))
    windows = sliding_window_view(x, 2 * W + 1)
    with np.errstate(invalid="ignore"):  # inf - inf: a window with an infinite median has a NaN MAD
        median = np.median(windows, axis=1)
        limit = 2.0 * (1.5 * np.median(np.abs(windows - median[:, None]), axis=1))
        assert np.array_equal(out.lines["median"][2 * W:], median)
        assert np.array_equal(out.lines["UL"][2 * W:], median + limit, equal_nan=True)


@pytest.mark.parametrize("W", [3, 40])
def test_even_the_sign_of_a_zero_median_does_not_depend_on_batch_cuts(W):
    x = np.random.default_rng(0).choice([-0.0, 0.0, 0.0, 1.0], 2000)
    whole = Hampel(W=W).update(batch_of(x))
    d = Hampel(W=W)
    parts = [d.update(batch_of(x[i:i + 7], start=i)) for i in range(0, len(x), 7)]
    for name, line in whole.lines.items():
        assert np.concatenate([p.lines[name] for p in parts]).tobytes() == line.tobytes()
