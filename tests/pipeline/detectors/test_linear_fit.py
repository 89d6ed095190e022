"""LinearFit: the original's statuses except where its fit-quality veto explains the difference.

The original withheld a verdict when ``SSE / x_current > confidence_norm`` (so negative values
never vetoed and zero divided by zero); we veto when the mean squared residual ``SSE / N`` exceeds
it. ``linear_fit_loop(original_veto=True)`` reproduces the original's vectors exactly; at every
mismatch one side is the veto's Undefined and the other the slope's band status.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.detectors.linear_fit import LinearFit
from tests.conftest import batch_of
from tests.reference_loops_stats import (
    linear_fit_loop,
    load_refvector,
    mismatches,
    parameters,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)


@pytest.mark.parametrize("stem,mismatching", [("LinearFit__fork__sine_spikes", 334),
                                              ("LinearFit__tuned__sine_spikes", 0)])
def test_every_mismatch_with_the_original_is_the_veto(stem, mismatching, sine_spikes):
    ts, x = sine_spikes
    record, expected, _ = load_refvector(stem)
    params = parameters(record)
    assert linear_fit_loop(x.tolist(), **params, original_veto=True)[0] == expected

    result = replay(record, ts, x)
    ours = [result.status_texts[i] for i in result.status_idx]
    assert ours == linear_fit_loop(x.tolist(), **params)[0]
    without_veto = linear_fit_loop(x.tolist(), **{**params, "confidence_norm": math.inf})[0]
    differing = mismatches(ours, expected)
    assert len(differing) == mismatching
    for i in differing:
        assert {ours[i], expected[i]} == {"Undefined", without_veto[i]}
    # the original's veto never applied to a negative value; ours does not look at the value
    judged = np.arange(len(x)) >= params["N"]
    assert not any(expected[i] == "Undefined" for i in np.flatnonzero(judged & (x < 0)))
    if mismatching:
        assert any(ours[i] == "Undefined" and x[i] < 0 for i in differing)


def test_a_zero_or_negative_value_neither_crashes_nor_escapes_the_veto():
    d = LinearFit(UL=1, LL=-1, N=3, confidence_norm=0.1)
    out = d.update(batch_of([-1.0, -1.0, -1.0, -1.0, -5.0, 0.0, 0.0, 0.0]))
    texts = [d.status_texts[i] for i in out.status_idx]
    assert texts[3] == "OK"
    assert texts[4] == texts[5] == "Undefined"  # a poor fit, whatever the sign of the value
    assert texts[7] == "OK"


def test_a_constant_window_is_a_perfect_flat_fit():
    d = LinearFit(UL=0.5, LL=-0.5, N=4, confidence_norm=0.0, warning_stages=[0.5])
    out = d.update(batch_of([3.0] * 8))
    assert d.status_codes[out.status_idx].tolist() == [2] * 4 + [1] * 4
    assert out.lines["slope"][4:].tolist() == [0.0] * 4


def test_the_slope_of_a_line_is_exact_and_a_steep_rise_is_an_error():
    d = LinearFit(UL=0.5, LL=-0.5, N=5, confidence_norm=1.0)
    out = d.update(batch_of(0.7 * np.arange(10.0)))
    np.testing.assert_allclose(out.lines["slope"][5:], 0.7, rtol=1e-12)
    np.testing.assert_allclose(out.lines["fit"][5:], 0.7 * np.arange(5, 10), rtol=1e-12)
    assert set(d.status_codes[out.status_idx][5:].tolist()) == {-1}


@pytest.mark.parametrize("params", [
    dict(UL=1.0, LL=-1.0, N=10, confidence_norm=0.2, warning_stages=[0.6, 0.8]),
    dict(UL=0.8, LL=-1.0, N=2, confidence_norm=0.2, warning_stages=[0.0, 0.0]),
    dict(UL=0.05, LL=-0.05, N=40, confidence_norm=1.0, warning_stages=[0.5]),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(params, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 5000)
    texts, scores = linear_fit_loop(x.tolist(), **params)
    assert run_in_batches(LinearFit(**params), x, [len(x)])[:2] == (texts, scores)
    assert run_in_batches(LinearFit(**params), x, random_cuts(rng, len(x)))[:2] == (texts, scores)
