"""Filtering: the original's statuses except where its two fixed bugs explain the difference.

The original started the filter as if the input had been 1.0 forever (unscaled ``lfilter_zi``)
and, in mode 1, tested the mode-0 position of the filtered value instead of the deviation for
large negative deviations. ``filtering_loop`` with ``original_*`` flags reproduces the original's
vectors exactly, which lets each mismatch be traced to one of the two fixes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.detectors.filtering import Filtering
from tests.conftest import batch_of
from tests.reference_loops_stats import (
    filtering_loop,
    load_refvector,
    mismatches,
    parameters,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)

UNIT = dict(filter_order=3, cutoff_frequency=0.4, UL=1, LL=0, warning_stages=[0.7, 0.9])
ORIGINAL = dict(original_initial_state=True, original_negative_check=True)


def codes(texts):
    return [1 if t == "OK" else -1 if t.startswith("Error") else 2 if t == "Undefined" else 0 for t in texts]


def run(detector, values):
    out = detector.update(batch_of(values))
    return detector.status_codes[out.status_idx].tolist(), out


@pytest.mark.parametrize("stem", ["Filtering__fork__sine_spikes", "Filtering__mode0__sine_spikes"])
def test_every_mismatch_with_the_original_is_explained_by_a_fix(stem, sine_spikes):
    ts, x = sine_spikes
    record, expected, _ = load_refvector(stem)
    params = parameters(record)
    assert filtering_loop(x.tolist(), **params, **ORIGINAL)[0] == expected  # the loop models the original

    result = replay(record, ts, x)
    ours = [result.status_texts[i] for i in result.status_idx]
    assert ours == filtering_loop(x.tolist(), **params)[0]
    by_initial_state = set(mismatches(ours, filtering_loop(x.tolist(), **params, original_initial_state=True)[0]))
    by_negative_check = set(mismatches(ours, filtering_loop(x.tolist(), **params, original_negative_check=True)[0]))
    differing = set(mismatches(ours, expected))
    assert differing <= by_initial_state | by_negative_check
    # the start-up transient of the unscaled state is over long before these vectors' spikes
    assert all(i < 100 for i in by_initial_state)
    if params["mode"] == 0:
        assert not differing
        return
    width, centre = params["UL"] - params["LL"], (params["UL"] + params["LL"]) / 2
    d = result.lines["deviation"] / width
    filtered_position = 2 * (result.lines["filtered"] - centre) / width
    for i in by_negative_check:
        if ours[i] == "Error: Large deviation":  # a large drop, which the original only warned about
            assert d[i] < -1 and expected[i].startswith("Warning")
        else:  # a small deviation the original called an error: the filtered value was below LL
            assert expected[i] == "Error: Large deviation" and abs(d[i]) <= 1 and filtered_position[i] < -1
    assert len(differing) == 14 and not by_initial_state


def test_kernel_coefficients_of_the_original_unit_test():
    d = Filtering(mode=1, **UNIT)
    np.testing.assert_almost_equal(d._a, [1, -0.57724052, 0.42178705, -0.05629724], decimal=8)
    np.testing.assert_almost_equal(d._b, [0.09853116, 0.29559348, 0.29559348, 0.09853116], decimal=8)
    np.testing.assert_almost_equal(d._zi, [0.90146884, 0.02863483, 0.1548284], decimal=8)


@pytest.mark.parametrize("mode", [0, 1])
def test_a_constant_input_filters_to_itself_from_the_first_sample(mode):
    status, out = run(Filtering(mode=mode, **UNIT), [1.0] * 10)
    np.testing.assert_allclose(out.lines["filtered"], 1.0, rtol=1e-12)
    if mode == 1:
        np.testing.assert_allclose(out.lines["deviation"], 0.0, atol=1e-12)
        assert status == [1] * 10
    # with any other constant the original started off by its distance from 1.0; we do not
    status, out = run(Filtering(mode=mode, **UNIT), [0.3] * 10)
    np.testing.assert_allclose(out.lines["filtered"], 0.3, rtol=1e-12)


@pytest.mark.parametrize("mode,values,original", [
    (1, [0, 0, 0, 1, 2, 2, 2], [0, 1, 1, -1, -1, 1, 1]),
    (0, [0.5, 0.5, 0.5, 1, 1, 1, 2, 2, 2], [0, 1, 1, 1, 1, 0, -1, -1, -1]),
])
def test_original_unit_cases_differ_only_in_the_start_up_transient(mode, values, original):
    assert codes(filtering_loop(values, mode, **UNIT, **ORIGINAL)[0]) == original
    ours, _ = run(Filtering(mode=mode, **UNIT), values)
    assert ours == codes(filtering_loop(values, mode, **UNIT, original_negative_check=True)[0])
    differing = mismatches(ours, original)
    # only the first samples, where the original's filter was still falling from 1.0
    assert differing == ([0, 3] if mode == 1 else [0])


def test_a_large_drop_is_an_error_in_mode_1_not_just_a_warning():
    d = Filtering(mode=1, filter_order=2, cutoff_frequency=0.1, UL=1, LL=0, warning_stages=[0.5])
    status, out = run(d, [5.0] * 20 + [3.0])
    assert out.lines["deviation"][-1] < -1
    assert status[-1] == -1 and d.status_texts[out.status_idx[-1]] == "Error: Large deviation"
    assert codes(filtering_loop([5.0] * 20 + [3.0], 1, 2, 0.1, 1, 0, [0.5], original_negative_check=True)[0])[-1] == 0


@pytest.mark.parametrize("params", [
    dict(mode=0, filter_order=3, cutoff_frequency=0.1, UL=2.0, LL=-2.0, warning_stages=[0.7, 0.9]),
    dict(mode=1, filter_order=5, cutoff_frequency=0.22, UL=0.25, LL=-1.2, warning_stages=[0.7, 0.9]),
    dict(mode=1, filter_order=1, cutoff_frequency=0.5, UL=3.0, LL=0.0, warning_stages=[-0.2, 0.5]),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(params, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 5000)
    texts, scores = filtering_loop(x.tolist(), **params)
    assert run_in_batches(Filtering(**params), x, [len(x)])[:2] == (texts, scores)
    assert run_in_batches(Filtering(**params), x, random_cuts(rng, len(x)))[:2] == (texts, scores)


def test_config_errors_name_the_key():
    conf = dict(input_vector_size=1, mode=2, filter_order=3, cutoff_frequency=1.5, UL=1, LL=2)
    with pytest.raises(ConfigError) as err:
        parse_config({"anomaly_detection_alg": ["Filtering()"], "anomaly_detection_conf": [conf]}, Path("x.json"))
    text = str(err.value)
    assert "anomaly_detection_conf[0].mode" in text and "anomaly_detection_conf[0].cutoff_frequency" in text
