"""Clustering (distance to DBSCAN core samples): deterministic, so it must equal the original's
reference vector on every sample, and its unit tests (spec 11)."""
from __future__ import annotations

import numpy as np

from pipeline.detectors import DETECTORS
from pipeline.detectors.clustering import Clustering
from pipeline.detectors.model_store import memory_context
from tests.pipeline.detectors.model_replay import reference, replay, samples, sine_training


def test_fork_config_equals_the_original_sample_for_sample(sine_spikes):
    ref = reference("Clustering__fork__sine_spikes")
    ts, x = sine_spikes
    results, detector = replay(ref["config"], "Clustering", samples(x, ts), sine_training())
    assert results.status_code.tolist() == ref["status_code"]
    assert [results.status_texts[i] for i in results.status_idx] == [ref["status_vocab"][i] for i in ref["status_idx"]]
    assert detector.retrains == 10       # every 200 samples on the last 100, as the original


# 14 training points (the spec does not list the original's): a dense patch around (0.75, 0.75)
# whose points are all core samples, and four scattered points that are not.
TRAINING = np.array([[0, 0], [0.5, 0], [0, 0.5], [0.5, 0.5], [1, 0.5], [0.5, 1], [1, 1], [1.5, 1], [1, 1.5],
                     [1.5, 1.5], [6, 6], [-4, 3], [8, -2], [3, 8]], dtype=float)
CONF = {"input_vector_size": 2, "train_data": "points.csv", "eps": 0.98, "min_samples": 3, "treshold": 1.5,
        "retrain_interval": 10, "samples_for_retrain": 10}


def unit_test_run(points):
    return replay(CONF, "Clustering", samples(points), samples(TRAINING))


def test_original_unit_test_points_near_core_samples_are_ok():
    results, _ = unit_test_run([[1.0, 0.9], [0.4, 0.0], [2.554, 2.44]])
    assert results.status_code.tolist() == [1, 1, 1]


def test_original_unit_test_points_away_from_core_samples_are_errors():
    results, _ = unit_test_run([[3.054, 2.96], [10, 11], [-5, -1]])
    assert results.status_code.tolist() == [-1, -1, -1]
    assert results.status_texts[results.status_idx[0]] == "Error: outlier detected"


def test_original_unit_test_after_a_retrain_the_new_cluster_is_normal_and_the_old_is_not():
    new_cluster = [(10, 20.5), (10.5, 20), (9.8, 21)]
    later = [(10.2, 20.4), (9.9, 20.6), (10.1, 20.3), (10.4, 20.8), (9.7, 20.2), (10, 20.9), (10.3, 20.5),
             (9.9, 20.1)]
    results, detector = unit_test_run(new_cluster + [(1, 1)] + later + [(1, 1)])
    assert results.status_code.tolist() == [-1, -1, -1, 1, -1, -1, -1, -1, -1, -1, 1, 1, -1]
    assert detector.retrains == 1


def test_no_core_samples_makes_every_sample_an_outlier_with_score_one():
    d = Clustering(eps=0.1, min_samples=5, treshold=1.0, train_data="t.csv")
    d.start(memory_context([[0.0], [1.0], [2.0]]))
    out = d.update(samples([[0.0], [1.5]]))
    assert d.status_codes[out.status_idx].tolist() == [-1, -1] and out.score.tolist() == [1.0, 1.0]


def test_score_is_half_at_the_distance_limit_and_the_distance_is_a_plot_line():
    d = Clustering(eps=1, min_samples=1, treshold=2.0, train_data="t.csv")
    d.start(memory_context([[0.0, 0.0]]))
    out = d.update(samples([[0.0, 0.0], [1.2, 1.6], [0.0, 6.0]]))
    assert out.lines["distance"].tolist() == [0.0, 2.0, 6.0]
    assert out.score.tolist() == [0.0, 0.5, 0.75]
    assert d.status_codes[out.status_idx].tolist() == [1, -1, -1]     # normal only below treshold
    assert DETECTORS.resolve("Clustering()") is Clustering


def test_batch_cuts_do_not_change_results():
    x = np.random.default_rng(8).normal(0, 1, (900, 2))
    x[::53] += 4

    def run(cuts):
        d = Clustering(eps=0.5, min_samples=4, treshold=0.3, retrain_interval=120, samples_for_retrain=150)
        out, start = [], 0
        for size in cuts:
            o = d.update(samples(x[start:start + size], np.arange(start, start + size)))
            out += list(zip(o.status_idx.tolist(), o.score.tolist()))
            start += size
        return out

    assert run([1] * 200 + [700]) == run([900]) == run([300, 1, 599])
