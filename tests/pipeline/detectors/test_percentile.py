"""Percentile: the original's never ran (its reference vector is a crash record); ours does what
its keys describe: limits at percentiles of the recent history."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.config import ConfigError, parse_config
from pipeline.detectors.percentile import Percentile
from tests.conftest import REFVECTORS, batch_of
from tests.reference_loops_stats import (
    load_refvector,
    percentile_loop,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)


def test_the_crashing_configuration_of_the_original_runs(sine_spikes):
    ts, x = sine_spikes
    record, _, _ = load_refvector("Percentile__attempt__sine_spikes")
    assert record["error"]["type"] == "AttributeError" and record["n_processed"] == 0
    result = replay(record, ts, x)  # "shift" is ignored with a warning, as the original ignored it
    codes = result.status_code
    assert len(codes) == len(x)
    assert codes[:100].tolist() == [2] * 100
    labels = json.loads((REFVECTORS / "inputs" / "sine_spikes.json").read_text())["label"]
    spikes = np.flatnonzero(labels)
    assert (codes[spikes[spikes >= 100]] == -1).all()  # every injected spike after the warm-up


def test_about_a_tenth_of_white_noise_lies_outside_its_5_to_95_percent_band():
    x = np.random.default_rng(4).normal(0, 1, 20_000)
    codes = Percentile().update(batch_of(x)).status_idx
    share = np.mean(Percentile().status_codes[codes[100:]] == -1)
    assert 0.08 < share < 0.13


def test_values_outside_the_percentiles_of_the_history_are_errors():
    d = Percentile(percentile_range=[10, 90], buff_size=5, warning_stages=[0.8])
    out = d.update(batch_of([1.0, 2.0, 3.0, 4.0, 5.0, 3.0, 4.5, 9.0, 0.0]))
    assert [d.status_texts[i] for i in out.status_idx][5:] == [
        "OK", "Warning0: measurement close to upper limit.", "Error: measurement above upper limit",
        "Error: measurement below lower limit"]
    assert out.lines["LL"][5] == pytest.approx(1.4) and out.lines["UL"][5] == pytest.approx(4.6)


def test_a_constant_history_does_not_crash():
    d = Percentile(buff_size=3)
    out = d.update(batch_of([2.0] * 5 + [2.1]))
    assert d.status_codes[out.status_idx].tolist() == [2, 2, 2, 1, 1, -1]


@pytest.mark.parametrize("conf,message", [
    ({"percentile_range": [95, 5]}, r"percentile_range: expected \[low, high\] with 0 <= low < high <= 100"),
    ({"percentile_range": [5]}, r"percentile_range: expected \[low, high\] with 0 <= low < high <= 100"),
    ({"buff_size": 1}, r"buff_size: expected a number >= 2"),
])
def test_bad_parameters_are_config_errors(conf, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"anomaly_detection_alg": ["Percentile()"],
                      "anomaly_detection_conf": [{"input_vector_size": 1, **conf}]}, Path("x.json"))


@pytest.mark.parametrize("params", [
    dict(percentile_range=[5, 95], buff_size=100, warning_stages=[]),
    dict(percentile_range=[0, 100], buff_size=2, warning_stages=[0.5]),
    dict(percentile_range=[25, 75], buff_size=37, warning_stages=[-0.1, 0.9]),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(params, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 3000)
    texts, scores = percentile_loop(x.tolist(), **params)
    assert run_in_batches(Percentile(**params), x, [len(x)])[:2] == (texts, scores)
    assert run_in_batches(Percentile(**params), x, random_cuts(rng, len(x)))[:2] == (texts, scores)


@pytest.mark.parametrize("params", [dict(percentile_range=[1, 99], buff_size=201),
                                    dict(percentile_range=[12.5, 60.3], buff_size=37),
                                    dict(percentile_range=[0, 100], buff_size=2),
                                    dict(percentile_range=[2, 50], buff_size=3100)])  # the median by scipy
def test_limits_are_numpys_percentiles_of_the_history_even_with_ties(params):
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(0, 1, 4000), 1)  # a 0.1 grid: many ties
    x[1000:1300] = 2.0
    out = Percentile(**params).update(batch_of(x))
    B = params["buff_size"]
    low, high = np.percentile(sliding_window_view(x[:-1], B), params["percentile_range"], axis=1)
    assert np.array_equal(out.lines["LL"][B:], low) and np.array_equal(out.lines["UL"][B:], high)


def test_even_the_sign_of_a_zero_limit_does_not_depend_on_batch_cuts():
    x = np.random.default_rng(0).choice([-0.0, 0.0, 1.0, -1.0], 3000)
    params = dict(percentile_range=[25, 50], buff_size=40)
    whole = Percentile(**params).update(batch_of(x))
    d = Percentile(**params)
    parts = [d.update(batch_of(x[i:i + 7], start=i)) for i in range(0, len(x), 7)]
    for name, line in whole.lines.items():
        assert np.concatenate([p.lines[name] for p in parts]).tobytes() == line.tobytes()
