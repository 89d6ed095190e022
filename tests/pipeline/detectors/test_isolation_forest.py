"""IsolationForest against the original's reference vectors and unit tests.

Why agreement rates and not identity: the original drew its forests from numpy's global random
generator (``numpy.random.seed(0)`` before configure) and its results depend on the
scikit-learn version. We draw every fit from one generator seeded by ``random_state``; with the
default 0 and scikit-learn 1.9 (the version the vectors were made with) that generator yields
the same draws, so the plain run agrees on every sample today, but another scikit-learn may
legitimately change individual samples. The thresholds below hold across seeds.
"""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors import DETECTORS
from pipeline.detectors.base import ParameterError
from pipeline.detectors.isolation_forest import IsolationForest
from pipeline.detectors.model_store import memory_context
from tests.conftest import batch_of
from tests.pipeline.detectors.model_replay import reference, reference_codes, replay, samples, sine_training


def test_names_of_the_original_resolve_to_isolation_forest():
    for name in ("IsolationForest()", "Isolation forest", "IsolationForest"):
        assert DETECTORS.resolve(name) is IsolationForest
    assert IsolationForest.name == "Isolation forest"


@pytest.mark.parametrize("seed,n,minimum", [(0, 2000, 0.99), (1, 1000, 0.85)])
def test_fork_config_agrees_with_the_original(sine_spikes, seed, n, minimum):
    ref = reference("IsolationForest__fork_seed0__sine_spikes")
    ts, x = sine_spikes
    results, detector = replay({**ref["config"], "random_state": seed}, "IsolationForest",
                               samples(x[:n], ts[:n]), sine_training())
    agreement = (results.status_code == reference_codes(ref)[:n]).mean()
    assert agreement >= minimum, agreement
    assert detector.retrains == n // 50      # after every 50 samples, as the original


def test_shifts_and_averages_config_works_where_the_original_crashed(sine_spikes):
    head = reference("IsolationForest__shifts_head_seed0__sine_spikes")
    assert head["error"]["type"] == "TypeError"
    patched = reference("IsolationForest__shifts_patched_seed0__sine_spikes")
    ts, x = sine_spikes
    results, _ = replay(patched["config"], "IsolationForest", samples(x, ts), sine_training())
    codes, expected = results.status_code, reference_codes(patched)
    assert codes[:4].tolist() == expected[:4].tolist() == [2] * 4      # feature warm-up
    # The patched original retrained on raw samples, rebuilding features over its buffer, and
    # counted the warm-up samples toward retrain_interval; here the buffer holds the built
    # vectors and the warm-up never reaches the detector, so retrains fall 4 samples later and
    # fit slightly different sets: a statistical match.
    assert (codes == expected).mean() >= 0.9


def unit_test_run(values):
    """The original's IsolForestTestFunctionality setup (spec 11)."""
    train = np.ones(100)
    train[-1] = 0.0
    train_ts = 1459926000 + 3600 * np.arange(100)
    conf = {"input_vector_size": 1, "train_data": "IsolForestTestData.csv",
            "train_conf": {"max_features": 7, "max_samples": 5, "model_name": "IsolForestTestModel"},
            "retrain_interval": 10, "samples_for_retrain": 100, "shifts": [[1, 2, 3, 4]], "averages": [[1, 2]]}
    ts = train_ts[-1] + 3600 * np.arange(1, len(values) + 1)
    return replay(conf, "IsolationForest", samples(values, ts), samples(train, train_ts))


def test_original_unit_test_values_like_the_training_set_are_ok():
    results, detector = unit_test_run([1.0] * 15)
    assert results.status_code.tolist() == [2, 2, 2, 2] + [1] * 11
    assert detector.retrains == 1


def test_original_unit_test_values_unlike_the_training_set_are_errors():
    results, detector = unit_test_run([0, 1, 0, 1, 0, 1, 0, 1, 0, 0])
    codes = results.status_code
    assert codes[:4].tolist() == [2] * 4
    # Vectors with the value 0 are errors for every seed. The original expected all six to be
    # errors; the two vectors [1, 1, 0.5, 0, 1, 0, 1] are errors for about two thirds of the
    # seeds with max_features 7 (scikit-learn run directly gives the same as this detector).
    assert codes[[4, 6, 8, 9]].tolist() == [-1] * 4
    # Warm-up samples never reach the detector, so 10 samples are 6 for its retrain count (the
    # original counted 10 and retrained once).
    assert detector.retrains == 0


def test_contamination_sets_the_share_of_training_outliers():
    # the original accepted contamination and ignored it
    normal = np.random.default_rng(0).normal(0, 1, (1000, 1))
    shares = []
    for contamination in ("auto", 0.2):
        d = IsolationForest(train_conf={"contamination": contamination}, train_data="t.csv")
        d.start(memory_context(normal))
        shares.append((d.status_codes[d.update(batch_of(normal[:, 0])).status_idx] == -1).mean())
    assert shares[1] == pytest.approx(0.2, abs=0.01) and abs(shares[0] - 0.2) > 0.03


@pytest.mark.parametrize("conf,key", [
    ({"max_samples": 0}, "train_conf.max_samples"), ({"max_samples": 1.5}, "train_conf.max_samples"),
    ({"max_features": 2.0}, "train_conf.max_features"), ({"contamination": 0.7}, "train_conf.contamination"),
])
def test_impossible_forest_settings_are_config_errors(conf, key):
    with pytest.raises(ParameterError) as err:
        IsolationForest(train_conf=conf, train_data="t.csv")
    assert err.value.key == key


def test_batch_cuts_and_seeds_same_results():
    x = np.random.default_rng(5).normal(0, 1, 1500)
    x[::97] += 5

    def run(cuts, seed=0):
        d = IsolationForest(train_conf={"max_samples": 128}, retrain_interval=300, samples_for_retrain=400,
                            random_state=seed)
        idx, score, start = [], [], 0
        for size in cuts:
            out = d.update(batch_of(x[start:start + size], start=start))
            idx += out.status_idx.tolist()
            score += out.score.tolist()
            start += size
        return idx, score

    whole = run([1500])
    assert run([1] * 301 + [499, 700]) == whole
    assert run(np.random.default_rng(1).integers(1, 200, 30).tolist() + [1500]) == whole
    assert run([1500], seed=1) != whole
