"""PCA (principal components + isolation forest) against the original's reference vector and unit tests.

Compared by agreement rate for the reason given in test_isolation_forest.py: the forest's random
draws and the scikit-learn version decide individual borderline samples.
"""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors import DETECTORS
from pipeline.detectors.model_store import ModelError, memory_context
from pipeline.detectors.pca import PCA
from tests.pipeline.detectors.model_replay import reference, reference_codes, replay, samples, sine_training


def test_fork_config_agrees_with_the_original_and_equals_isolation_forest_on_one_feature(sine_spikes):
    ref = reference("PCA__fork_seed0__sine_spikes")
    ts, x = sine_spikes
    results, detector = replay(ref["config"], "PCA", samples(x, ts), sine_training())
    assert (results.status_code == reference_codes(ref)).mean() >= 0.99
    assert detector.retrains == 40
    # with N_components 1 on one feature the projection is monotone: the same forest decisions
    forest = reference("IsolationForest__fork_seed0__sine_spikes")
    same, _ = replay(forest["config"], "IsolationForest", samples(x[:1000], ts[:1000]), sine_training())
    assert results.status_code[:1000].tolist() == same.status_code.tolist()


def unit_test_run(vectors):
    """The original's PCATestFunctionality setup (spec 11): vectors of 10, trained on ten-1 vectors."""
    train = np.ones((100, 10))
    train[-1] = 0.0
    conf = {"input_vector_size": 10, "train_data": "PCATestData.csv",
            "train_conf": {"max_features": 5, "max_samples": 25, "N_components": 5, "model_name": "PCA"},
            "retrain_interval": 10, "samples_for_retrain": 90}
    return replay(conf, "PCA", samples(vectors), samples(train))


def test_original_unit_test_vectors_like_the_training_set_are_ok():
    results, detector = unit_test_run(np.ones((15, 10)))
    assert results.status_code.tolist() == [1] * 15 and detector.retrains == 1


def test_original_unit_test_vectors_unlike_the_training_set_are_errors():
    results, detector = unit_test_run(np.tile([0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0, -0.5, -5], (15, 1)))
    assert results.status_code.tolist() == [-1] * 15 and detector.retrains == 1


def test_more_components_than_features_is_a_clear_error():
    d = PCA(train_conf={"N_components": 3}, train_data="t.csv")
    with pytest.raises(ModelError, match="N_components is 3 but the feature vector has only 2"):
        d.start(memory_context(np.random.default_rng(0).normal(0, 1, (50, 2))))


def test_a_point_off_the_training_line_is_an_outlier_in_two_dimensions():
    t = np.random.default_rng(2).normal(0, 1, 500)
    d = PCA(train_conf={"N_components": 2, "max_samples": 128}, train_data="t.csv")
    d.start(memory_context(np.column_stack([t, t + 0.05 * np.random.default_rng(3).normal(0, 1, 500)])))
    out = d.update(samples([[0.3, 0.31], [-1.0, -1.02], [1.0, -1.0]]))
    assert d.status_codes[out.status_idx].tolist() == [1, 1, -1]
    assert DETECTORS.resolve("PCA()") is PCA


def test_batch_cuts_do_not_change_results():
    rng = np.random.default_rng(6)
    t = rng.normal(0, 1, 1200)
    x = np.column_stack([t, 2 * t + rng.normal(0, 0.1, 1200), rng.normal(0, 1, 1200)])
    x[::101, 1] += 4

    def run(cuts):
        d = PCA(train_conf={"N_components": 2, "max_samples": 64}, retrain_interval=250, samples_for_retrain=300)
        out, start = [], 0
        for size in cuts:
            o = d.update(samples(x[start:start + size], np.arange(start, start + size)))
            out += list(zip(o.status_idx.tolist(), o.score.tolist()))
            start += size
        return out

    assert run([1] * 251 + [949]) == run([1200]) == run([400, 400, 400])


def test_a_flat_training_stretch_fits_without_a_library_warning(recwarn):
    detector = DETECTORS.resolve("PCA")(train_conf={"N_components": 1, "max_samples": 16, "contamination": 0.1},
                                        retrain_interval=50, samples_for_retrain=50)
    detector._fit(np.full((50, 2), 3.0))
    assert [str(w.message) for w in recwarn] == []
