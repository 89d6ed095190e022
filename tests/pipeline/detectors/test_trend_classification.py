"""TrendClassification (the original's Trend_Classification on scikit-learn's MLPClassifier). It
has no reference vector (the original needed TensorFlow and crashed on constant windows), so it is
checked against a per-sample loop of the original's steps and on signals with a known trend."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors import DETECTORS
from pipeline.detectors.trend_classification import FLAT, TrendClassification, normalise, synthetic_windows
from tests.conftest import batch_of

PARAMS = dict(num_samples=400, N=12, averaging=3, prediction_conv=4, train_noise=0.05,
              warning_stages=[0.3, 0.6], amp_scale=1.0)


def per_sample_loop(d: TrendClassification, values):
    """The original's message_insert, one sample at a time (its fixes applied: the window is
    normalised by its range and not overwritten; a constant window is flat; no stage matched is
    OK), with the stage rule of band.py. Returns the level v per sample (NaN while undefined)."""
    memory, window, predictions, levels = [], [], [], []
    for x in values:
        memory = (memory + [x])[-d.averaging:]
        window = (window + [np.mean(memory)])[-d.N:]
        level = np.nan
        if len(window) == d.N:
            w = np.array(window)
            predictions = (predictions + [int(d._classify(w[None])[0])])[-d.prediction_conv:]
            if len(predictions) == d.prediction_conv:
                level = 1 + (np.mean(predictions) - 1) * (w.max() - w.min()) / d.amp_scale
        levels.append(level)
    return levels


def test_flat_then_rising_then_falling_signal():
    d = TrendClassification(**PARAMS)
    x = np.concatenate([np.full(40, 1.0), np.linspace(1, 5, 30), np.linspace(5, 1, 30)])
    out = d.update(batch_of(x))
    codes = d.status_codes[out.status_idx]
    undefined = PARAMS["N"] + PARAMS["prediction_conv"] - 2
    assert (codes[:undefined] == 2).all() and (codes[undefined:40] == 1).all()   # constant windows: flat, no crash
    texts = [d.status_texts[i] for i in out.status_idx]
    assert "Error: measurement above upper limit" in texts[40:70]
    assert "Error: measurement below lower limit" in texts[70:]
    assert "Warning1: trend close to upper limit." in texts
    assert out.lines["trend"][45] > 1.0 and out.lines["trend"][90] < 1.0


def test_equals_the_per_sample_loop_for_any_batching():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(0, 0.3, 600))
    x[200:240] = 4.0
    reference = TrendClassification(**PARAMS)
    reference.start(None)
    expected = per_sample_loop(reference, x)
    for cuts in ([600], [1] * 600, rng.integers(1, 50, 60).tolist()):
        d = TrendClassification(**PARAMS)
        levels, start = [], 0
        for size in cuts:
            if start >= len(x):
                break
            levels += d.update(batch_of(x[start:start + size], start=start)).lines["trend"].tolist()
            start += size
        assert levels == pytest.approx(expected, rel=1e-12, nan_ok=True)


def test_classifier_learns_the_synthetic_trends():
    d = TrendClassification(**PARAMS)
    d.start(None)
    windows, labels = synthetic_windows(300, PARAMS["N"], PARAMS["train_noise"], np.random.RandomState(99))
    predicted = d._classify(windows * 7 + 3)        # scale and offset do not matter
    assert (predicted == labels).mean() > 0.95
    assert d._classify(np.full((2, PARAMS["N"]), 3.0)).tolist() == [FLAT, FLAT]
    w = normalise(np.array([[1.0, 2.0, 4.0]]))
    assert w.mean() == pytest.approx(0) and np.ptp(w) == pytest.approx(1)


def test_without_warning_stages_an_in_band_trend_is_ok():
    # the original left the status Undefined when the stage list was empty
    d = TrendClassification(**{**PARAMS, "warning_stages": []})
    out = d.update(batch_of(np.linspace(0, 1, 60)))
    assert set(d.status_codes[out.status_idx][20:].tolist()) <= {1, -1}
    assert 1 in d.status_codes[out.status_idx].tolist()


def test_same_seed_same_output_and_names():
    x = np.sin(np.arange(300) / 7) * 3
    a = TrendClassification(**PARAMS).update(batch_of(x))
    b = TrendClassification(**PARAMS).update(batch_of(x))
    c = TrendClassification(**{**PARAMS, "random_state": 5}).update(batch_of(x))
    assert a.score.tolist() == b.score.tolist() and a.status_idx.tolist() == b.status_idx.tolist()
    assert a.score.tolist() != c.score.tolist()
    assert DETECTORS.resolve("Trend_Classification()") is TrendClassification
    assert TrendClassification.name == "Trend_Classification"
