"""MACD: the original's statuses sample for sample, its unit-test case, and its stage walk.

MACD keeps the original's own warning walk (stages in config order, a failed stage resets to
OK): it is a quirk, not a listed bug, and the reference vectors embody it. Only the crash on an
empty stage list is gone.
"""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors.macd import MACD
from tests.conftest import batch_of
from tests.reference_loops_stats import (
    load_refvector,
    macd_loop,
    parameters,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)


def codes(detector, values):
    return detector.status_codes[detector.update(batch_of(values)).status_idx].tolist()


@pytest.mark.parametrize("stem", ["MACD__fork__sine_spikes", "MACD__unittestlike__sine_spikes"])
def test_statuses_match_the_original_sample_for_sample(stem, sine_spikes):
    ts, x = sine_spikes
    record, expected, expected_codes = load_refvector(stem)
    result = replay(record, ts, x)
    assert [result.status_texts[i] for i in result.status_idx] == expected
    assert result.status_code.tolist() == expected_codes
    assert macd_loop(x.tolist(), **parameters(record))[0] == expected


def test_original_unit_case_constant_then_falling():
    params = dict(period1=10, period2=30, UL=1, LL=-1, warning_stages=[0.5])
    assert codes(MACD(**params), [1.0] * 30) == [1] * 30
    falling = [1.0] * 30 + [-0.4 * i for i in range(10)]
    assert codes(MACD(**params), falling) == [1] * 30 + [1, 1, 1, 0, 0, 0, -1, -1, -1, -1]


def test_a_warning_needs_every_stage_in_config_order():
    d = MACD(period1=1, period2=1e9, UL=1, LL=-1, warning_stages=[0.8, 0.5, 0.2])
    # period2 this long keeps EMA2 at the first value, so MACD = x - x0
    texts = [d.status_texts[i] for i in d.update(batch_of([0.0, 0.9, 0.6, 0.3, -0.9, 1.1])).status_idx]
    assert texts == ["OK", "Warning2: MACD close to upper limit.", "OK", "OK",
                     "Warning2: MACD close to lower limit.", "Error: MACD above upper limit"]


def test_no_warning_stages_is_ok_inside_the_limits_instead_of_a_crash():
    assert codes(MACD(period1=2, period2=5, UL=1, LL=-1), [0.0, 0.5, 0.2, 5.0]) == [1, 1, 1, -1]


@pytest.mark.parametrize("params", [
    dict(period1=6, period2=32, UL=1.0, LL=-0.8, warning_stages=[0.8, 0.5, 0.2]),
    dict(period1=10, period2=30, UL=1.0, LL=-1.0, warning_stages=[0.5]),
    dict(period1=2.5, period2=7, UL=0.4, LL=-0.3, warning_stages=[]),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(params, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 5000)
    texts, scores = macd_loop(x.tolist(), **params)
    assert run_in_batches(MACD(**params), x, [len(x)])[:2] == (texts, scores)
    assert run_in_batches(MACD(**params), x, random_cuts(rng, len(x)))[:2] == (texts, scores)
