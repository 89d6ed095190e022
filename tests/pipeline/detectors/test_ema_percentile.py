"""EMA_Percentile: the original's statuses except where its inverted band (p < 50) explains it.

The original bounded the band by the (100 - p)th and the pth percentiles, which swap for p < 50:
the fork's tuned config (p = 5) made almost every sample an error. We always use
``[min(p, 100 - p), max(p, 100 - p)]``. ``ema_percentile_loop(original_band=True)`` reproduces
the original's vectors exactly; with p >= 50 nothing differs, with p < 50 exactly the samples the
two bands judge differently.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.detectors.ema_percentile import EMA_Percentile
from tests.conftest import batch_of
from tests.reference_loops_stats import (
    ema_percentile_loop,
    load_refvector,
    mismatches,
    parameters,
    percentile_linear,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)


@pytest.mark.parametrize("stem,mismatching", [("EMA_Percentile__p95__sine_spikes", 0),
                                              ("EMA_Percentile__fork__sine_spikes", 381)])
def test_every_mismatch_with_the_original_is_the_inverted_band(stem, mismatching, sine_spikes):
    ts, x = sine_spikes
    record, expected, _ = load_refvector(stem)
    params = parameters(record)
    original = ema_percentile_loop(x.tolist(), **params, original_band=True)[0]
    assert original == expected

    result = replay(record, ts, x)
    ours = [result.status_texts[i] for i in result.status_idx]
    assert ours == ema_percentile_loop(x.tolist(), **params)[0]
    # p and 100 - p are the same band now
    mirrored = {**params, "percentile": 100 - params["percentile"]}
    assert ours == ema_percentile_loop(x.tolist(), **mirrored, original_band=params["percentile"] < 50)[0]
    differing = mismatches(ours, expected)
    assert len(differing) == mismatching
    assert all(expected[i].startswith("Error") for i in differing)  # the inverted band's false errors
    assert result.algorithm == "EMA_percentile"


def test_percentiles_are_numpys():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 20, 200):
        values = rng.normal(0, 1, n).tolist()
        for q in (0, 5, 12.5, 50, 95, 99.9, 100):
            assert percentile_linear(values, q) == np.percentile(values, q)


def test_a_constant_stream_is_ok_and_a_change_from_it_an_error():
    d = EMA_Percentile(percentile=95, window=10, start_on=5, period=3)
    out = d.update(batch_of([4.0] * 12 + [5.0]))
    assert d.status_codes[out.status_idx].tolist() == [2] * 4 + [1] * 8 + [-1]
    assert out.score[4:12].tolist() == [0.0] * 8 and out.score[12] > 0.5


def test_start_on_beyond_the_window_is_a_config_error_not_undefined_for_ever():
    conf = {"input_vector_size": 1, "percentile": 95, "window": 20, "start_on": 30, "period": 5}
    with pytest.raises(ConfigError, match=r"anomaly_detection_conf\[0\]\.start_on: expected at most window \(20\)"):
        parse_config({"anomaly_detection_alg": ["EMA_percentile()"], "anomaly_detection_conf": [conf]},
                     Path("x.json"))


@pytest.mark.parametrize("params", [
    dict(percentile=5, window=20, start_on=20, period=30),
    dict(percentile=95, window=200, start_on=50, period=5),
    dict(percentile=80, window=7, start_on=1, period=1),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(params, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 3000)
    texts, scores = ema_percentile_loop(x.tolist(), **params)
    assert run_in_batches(EMA_Percentile(**params), x, [len(x)])[:2] == (texts, scores)
    assert run_in_batches(EMA_Percentile(**params), x, random_cuts(rng, len(x)))[:2] == (texts, scores)


@pytest.mark.parametrize("percentile,window,start_on", [(97.3, 60, 5), (99, 201, 50), (50, 8, 1)])
def test_limits_are_numpys_percentiles_of_the_recent_emas_from_the_first_verdict_on(percentile, window, start_on):
    x = np.round(np.random.default_rng(6).normal(0, 1, 1500), 1)  # a 0.1 grid: many ties
    x[700:800] = 1.0
    out = EMA_Percentile(percentile=percentile, window=window, start_on=start_on, period=1).update(batch_of(x))
    ema = out.lines["EMA"]
    bands = [np.percentile(ema[max(0, t - window + 1):t + 1], [100 - percentile, percentile])
             for t in range(start_on - 1, len(x))]
    assert np.array_equal(np.column_stack([out.lines["LL"], out.lines["UL"]])[start_on - 1:], bands)
