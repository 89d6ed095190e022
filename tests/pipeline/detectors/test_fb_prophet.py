"""fb_Prophet (optional: runs when the prophet package is installed, requirements-prophet.txt).

The original could not run at all (wrong import, DataFrame.append, a required "optional" history
file that it overwrote on every fit), so there is no reference vector; these tests check what its
keys describe."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from pipeline.detectors import DETECTORS
from pipeline.detectors.base import DetectorContext, ParameterError
from pipeline.detectors.fb_prophet import FbProphet
from pipeline.detectors.model_store import ModelError
from tests.pipeline.detectors.model_replay import samples

T0 = 1_700_000_000


def minutes(n, start=0):
    return T0 + 60.0 * np.arange(start, start + n)


def detector(**kw):
    params = dict(uncertainty_interval=0.99, forecast_horizons=[200, "min"], min_samples=60, max_samples=400,
                  retrain_interval=100)
    params.update(kw)
    return FbProphet(**params)


def signal(n, start=0):
    """A slow rise with noise: something a short Prophet forecast can follow."""
    return 0.01 * np.arange(start, start + n) + 0.1 * np.random.default_rng(abs(start)).normal(0, 1, n)


def test_without_prophet_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "prophet", None)
    ctx = DetectorContext(name="p", models_dir=None, resolve_path=lambda p: None, training_vectors=None)
    with pytest.raises(ModelError, match="pip install -r requirements-prophet.txt"):
        detector().start(ctx)


def test_impossible_parameters_are_config_errors():
    with pytest.raises(ParameterError, match="forecast_horizons\\[0\\]"):
        detector(forecast_horizons=["min", 10])
    with pytest.raises(ParameterError, match="max_samples"):
        detector(min_samples=100, max_samples=50)
    assert DETECTORS.resolve("fb_Prophet()") is FbProphet and FbProphet.name == "Prophet"


def run(d, x, t, cuts):
    out, start = [], 0
    for size in cuts:
        o = d.update(samples(x[start:start + size], t[start:start + size]))
        out.append(o)
        start += size
    return out


def test_warm_up_then_judged_against_the_forecast_interval():
    pytest.importorskip("prophet")
    x, t = signal(300), minutes(300)
    x[[150, 250]] += [4.0, -4.0]
    d = detector()
    out = d.update(samples(x, t))
    codes = d.status_codes[out.status_idx]
    assert (codes[:60] == 2).all() and codes[60] == 1 and d.fits == 3        # at 60, after 160 and 260
    texts = [d.status_texts[i] for i in out.status_idx]
    assert texts[150] == "Error: Value over the upper limit" and texts[250] == "Error: Value below the lower limit"
    assert (codes[61:] == -1).mean() < 0.06
    assert np.array_equal(out.suggested_value[60:, 0], out.lines["yhat"][60:])
    assert np.isnan(out.suggested_value[:60]).all()
    lo, hi = out.lines["yhat_lower"][200], out.lines["yhat_upper"][200]
    assert lo < out.lines["yhat"][200] < hi and out.score[150] > 0.5 > out.score[200]


def test_reproducible_and_independent_of_batch_cuts():
    pytest.importorskip("prophet")
    x, t = signal(260), minutes(260)
    whole = run(detector(), x, t, [260])[0]
    cut = run(detector(), x, t, [30, 31, 99, 100])
    assert np.concatenate([o.status_idx for o in cut]).tolist() == whole.status_idx.tolist()
    assert np.concatenate([o.score for o in cut]).tolist() == whole.score.tolist()


def test_history_file_seeds_the_history_and_is_never_written(tmp_path):
    pytest.importorskip("prophet")
    import pandas as pd
    history = tmp_path / "history.csv"
    frame = pd.DataFrame({"ds": pd.to_datetime(minutes(120, -120), unit="s"), "y": signal(120, -120)})
    frame.to_csv(history, index=False)
    before = history.read_bytes()
    d = detector(history_file="history.csv")
    d.start(DetectorContext(name="p", models_dir=tmp_path, resolve_path=lambda p: tmp_path / p, training_vectors=None))
    out = d.update(samples(signal(50), minutes(50)))
    assert d.fits == 1 and (d.status_codes[out.status_idx] != 2).all()    # judged from the first sample
    assert history.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]
