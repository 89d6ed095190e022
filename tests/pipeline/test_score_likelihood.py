"""AnomalyLikelihood: a tail probability of the recent raw scores, causal and batch-invariant."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.score_likelihood import AnomalyLikelihood


def in_batches(likelihood, scores, cuts):
    parts, start = [], 0
    for size in cuts:
        parts.append(likelihood(scores[start:start + size]))
        start += size
    return np.concatenate(parts)


def reference(scores, long_window, short_window, learning, min_std):
    """A plain per-sample loop of the definition."""
    averages, out = [], []
    for t in range(len(scores)):
        average = np.mean(scores[max(0, t - short_window + 1):t + 1])
        history = averages[-long_window:]
        if len(history) < min(learning, long_window):
            out.append(0.5)
        else:
            std = max(np.std(history), min_std)
            out.append(1 - 0.5 * math.erfc((average - np.mean(history)) / std / math.sqrt(2)))
        averages.append(average)
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_any_batch_cuts_give_the_same_likelihoods_as_the_reference_loop(seed):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 0.3, 3000)
    scores[rng.choice(3000, 30)] = 1.0
    params = dict(long_window=500, short_window=7, learning=50, min_std=0.01)
    whole = AnomalyLikelihood(**params)(scores)
    cuts = []
    while sum(cuts) < len(scores):
        cuts.append(int(min(len(scores) - sum(cuts), rng.integers(1, 400))))
    assert np.array_equal(in_batches(AnomalyLikelihood(**params), scores, cuts), whole)
    np.testing.assert_allclose(whole, reference(scores, **params), atol=1e-9)


def test_changing_later_scores_leaves_earlier_likelihoods_alone():
    rng = np.random.default_rng(5)
    scores = rng.uniform(0, 1, 2000)
    altered = scores.copy()
    altered[1234:] = rng.uniform(0, 1, 2000 - 1234)
    a = AnomalyLikelihood(long_window=300, learning=20)(scores)
    b = AnomalyLikelihood(long_window=300, learning=20)(altered)
    assert np.array_equal(a[:1234], b[:1234])


def test_a_burst_of_high_scores_after_quiet_ones_is_likely_anomalous_and_log_scale_stays_in_unit_range():
    rng = np.random.default_rng(3)
    scores = np.concatenate([rng.uniform(0, 0.1, 1000), np.ones(10)])
    plain = AnomalyLikelihood(long_window=800, short_window=5, learning=100)(scores)
    logged = AnomalyLikelihood(long_window=800, short_window=5, learning=100, log_scale=True)(scores)
    assert plain[:100].tolist() == [0.5] * 100
    assert plain[-1] > 0.9999 and np.median(plain[100:1000]) < 0.9
    assert ((logged >= 0) & (logged <= 1)).all() and logged[-1] > 0.4


def test_invalid_windows_are_refused_with_their_values():
    with pytest.raises(ValueError, match="short_window 0"):
        AnomalyLikelihood(short_window=0)


@pytest.mark.parametrize("seed", [2, 3])
def test_nan_and_inf_scores_get_one_half_and_leave_the_following_likelihoods_as_if_they_were_absent(seed):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 0.3, 3000)
    scores[rng.choice(3000, 30)] = 1.0
    bad = rng.choice(np.arange(100, 3000), 40, replace=False)
    scores[bad] = rng.choice([np.nan, np.inf, -np.inf], len(bad))
    scores[2000:2005] = np.nan
    params = dict(long_window=500, short_window=7, learning=50, min_std=0.01)
    whole = AnomalyLikelihood(**params)(scores)
    finite = np.isfinite(scores)
    assert np.isfinite(whole).all() and (whole[~finite] == 0.5).all()
    np.testing.assert_allclose(whole[finite], reference(scores[finite], **params), atol=1e-9)
    cuts = []
    while sum(cuts) < len(scores):
        cuts.append(int(min(len(scores) - sum(cuts), rng.integers(1, 400))))
    assert np.array_equal(in_batches(AnomalyLikelihood(**params), scores, cuts), whole)
    logged = AnomalyLikelihood(**params, log_scale=True)(scores)
    assert np.isfinite(logged).all()
