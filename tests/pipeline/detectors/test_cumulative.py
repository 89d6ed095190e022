"""Cumulative: the original's statuses except after a zero running mean, where its NaN stuck.

The original divided the change of the running mean by its absolute value; a zero mean gave NaN
(or infinity), the sum stayed NaN for ever and every later sample was OK. We measure the change
against the previous mean then (0 when both are 0). ``cumulative_loop(original_nan=True)``
reproduces the original's vectors exactly; every mismatch comes at or after the first zero mean.
"""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors.cumulative import Cumulative
from tests.conftest import batch_of
from tests.reference_loops_stats import (
    cumulative_loop,
    load_refvector,
    mismatches,
    parameters,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)


@pytest.mark.parametrize("stem", ["Cumulative__classic__sine_spikes", "Cumulative__fork__sine_spikes"])
def test_statuses_match_the_original_sample_for_sample(stem, sine_spikes):
    ts, x = sine_spikes
    record, expected, expected_codes = load_refvector(stem)
    params = parameters(record, "UL", "LL")
    assert cumulative_loop(x.tolist(), **params, original_nan=True)[0] == expected
    result = replay(record, ts, x)  # UL and LL are ignored with a warning, as the original ignored them
    assert [result.status_texts[i] for i in result.status_idx] == expected
    assert result.status_code.tolist() == expected_codes


def test_the_original_probe_no_longer_sticks_at_ok():
    params = dict(decay=0.1, averaging=1, warning_stages=[0.5])
    assert cumulative_loop([0, 0, 1, -1], **params, original_nan=True)[0] == ["OK"] * 4
    d = Cumulative(**params)
    out = d.update(batch_of([0.0, 0.0, 1.0, -1.0]))
    np.testing.assert_allclose(out.lines["cumulative"], [0.0, 0.0, 0.9, -0.99])
    assert d.status_codes[out.status_idx].tolist() == [1, 1, 0, 0]


def test_every_mismatch_comes_after_a_zero_running_mean():
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(1.0, 0.3, 600), 1)
    x[300:306] = [1.0, -1.0, 0.0, 0.0, 0.0, 0.0]  # running mean over 2 samples is 0 at 301, 303, 304, 305
    params = dict(decay=0.05, averaging=2, warning_stages=[0.5, 0.9])
    ours = run_in_batches(Cumulative(**params), x, [len(x)])[0]
    assert ours == cumulative_loop(x.tolist(), **params)[0]
    original = cumulative_loop(x.tolist(), **params, original_nan=True)[0]
    differing = mismatches(ours, original)
    assert differing and min(differing) >= 301
    # what the original did: 0 - r / 0 = -inf, an error until +inf arrived at 303, then NaN: OK for ever
    assert original[301:303] == ["Error: measurement below lower limit"] * 2
    assert set(original[303:]) == {"OK"}
    assert set(ours[310:]) != {"OK"}


@pytest.mark.parametrize("params", [
    dict(decay=0.005, averaging=300, warning_stages=[0.5, 0.9]),
    dict(decay=0.4, averaging=35, warning_stages=[0.5, -0.7]),
    dict(decay=0.9, averaging=1, warning_stages=[]),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(params, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 4000)
    x[100:110] = 0.0  # zero running means
    texts, scores = cumulative_loop(x.tolist(), **params)
    assert run_in_batches(Cumulative(**params), x, [len(x)])[:2] == (texts, scores)
    assert run_in_batches(Cumulative(**params), x, random_cuts(rng, len(x)))[:2] == (texts, scores)
