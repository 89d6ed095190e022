"""The shared EMA filter and first-order recursion equal their per-sample forms bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors.ema_filter import EMAFilter, first_order
from tests.reference_loops_stats import random_cuts


def ema_loop(xs, span):
    alpha, ema, out = 2 / (span + 1), None, []
    for x in xs:
        ema = x if ema is None else alpha * x + (1 - alpha) * ema
        out.append(ema)
    return out


@pytest.mark.parametrize("span", [1, 2, 5, 7.5, 200])
def test_ema_equals_the_per_sample_loop_for_any_batch_cuts(span):
    rng = np.random.default_rng(int(span * 2))
    x = rng.normal(0, 3, 2000)
    ema, start, got = EMAFilter(span), 0, []
    for n in [0, 1, 0] + random_cuts(rng, len(x) - 1, 300):
        got += ema(x[start:start + n]).tolist()
        start += n
    assert got == ema_loop(x.tolist(), span)
    assert ema.last == got[-1]


def test_the_first_value_starts_the_average():
    assert EMAFilter(span=10)(np.array([5.0])).tolist() == [5.0]


def test_first_order_equals_its_recursion_from_the_given_previous_output():
    rng = np.random.default_rng(0)
    x, gain, feedback, previous = rng.normal(size=500), 0.3, 0.65, -2.5
    expected, y = [], previous
    for v in x.tolist():
        y = gain * v + feedback * y
        expected.append(y)
    assert first_order(x, gain, feedback, previous).tolist() == expected
