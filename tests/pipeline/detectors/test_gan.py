"""GAN (the original's dense autoencoder, here scikit-learn's MLPRegressor): the original's unit
tests (spec 11; it has no reference vector because it needed TensorFlow), its error limit, and
the fixes (a loaded model keeps its scaling; the first samples are judged against the training
errors)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors import DETECTORS
from pipeline.detectors.base import DetectorContext
from pipeline.detectors.gan import GAN
from pipeline.detectors.model_store import ModelError, memory_context
from tests.pipeline.detectors.model_replay import replay, samples

ODD = [1, 2, 4, 100, 1, 1, 5, 1, 1, 1]


def unit_test_run(vectors):
    """GANTestFunctionality: vectors of 10, N_shifts 9, N_latent 3, K 1.5, window 1000, retrain 3/90."""
    train = np.ones((100, 10))
    train[-1] = 0.0
    conf = {"input_vector_size": 10, "train_data": "GANTestData.csv",
            "train_conf": {"N_shifts": 9, "N_latent": 3, "K": 1.5, "len_window": 1000, "model_name": "GAN_Test"},
            "retrain_interval": 3, "samples_for_retrain": 90}
    return replay(conf, "GAN", samples(vectors), samples(train))


def test_original_unit_test_vectors_like_the_training_set_are_ok():
    results, detector = unit_test_run(np.ones((3, 10)))
    assert results.status_code.tolist() == [1, 1, 1] and detector.retrains == 1


def test_original_unit_test_odd_vectors_are_errors_even_after_retraining_on_them():
    results, detector = unit_test_run(np.array([[1] * 10] * 3 + [ODD] * 4))
    assert results.status_code.tolist() == [1, 1, 1, -1, -1, -1, -1] and detector.retrains == 2
    assert results.status_texts[results.status_idx[-1]] == "Error: outlier detected (GAN)"


def explicit_limits(errors, history, K, L):
    """The original's rule, sample by sample: the error joins the window (the last L errors),
    then limit = K * average(window, weights = exp(linspace(0, 1, L))[-len(window):])."""
    window, out = list(history), []
    weights = np.exp(np.linspace(0, 1, L))
    for e in errors:
        window = (window + [e])[-L:]
        out.append(K * np.average(window, weights=weights[-len(window):]))
    return np.array(out)


@pytest.mark.parametrize("L,history", [(5, []), (5, [0.3, 0.1]), (40, list(np.linspace(0.1, 0.2, 39))), (1, [])])
def test_limit_is_k_times_the_weighted_window_mean_with_the_current_error(L, history):
    d = GAN(train_conf={"N_shifts": 0, "N_latent": 1, "K": 1.7, "len_window": L}, retrain_interval=10)
    d._errors.keep(np.array(history, dtype=np.float64))   # the last L - 1 of them
    errors = np.random.default_rng(L).exponential(0.2, 60)
    expected = explicit_limits(errors, d._errors.samples.tolist(), 1.7, L)
    assert d._limits(errors) == pytest.approx(expected, rel=1e-12)


def sine_pairs(n, shift=0.0):
    t = np.arange(n) / 10 + shift
    return np.column_stack([np.sin(t), np.sin(t - 0.1)])


def test_the_window_starts_with_training_errors_so_the_first_sample_is_judged_fairly():
    # The original started with an empty window: with K <= 1 the first sample was always an error.
    d = GAN(train_conf={"N_shifts": 1, "N_latent": 1, "K": 1.0, "len_window": 50}, train_data="t.csv")
    d.start(memory_context(sine_pairs(400)))
    out = d.update(samples(sine_pairs(5, shift=0.05)))
    assert out.lines["limit"][0] > 0 and d.status_codes[out.status_idx].tolist() == [1] * 5
    error, limit = out.lines["error"], out.lines["limit"]
    assert out.score == pytest.approx(error / (error + limit), rel=1e-12)     # 0.5 on the limit


def test_a_vector_of_the_wrong_length_is_a_clear_error():
    d = GAN(train_conf={"N_shifts": 2, "N_latent": 1, "K": 2, "len_window": 10}, train_data="t.csv")
    with pytest.raises(ModelError, match="N_shifts is 2, so the feature vector must have 3 elements, but it has 2"):
        d.start(memory_context(sine_pairs(100)))


def test_a_loaded_model_keeps_its_scaling_and_window(tmp_path):
    # the original's loaded GAN had no min/max and crashed on its first sample
    conf = {"N_shifts": 1, "N_latent": 1, "K": 2.0, "len_window": 30, "model_name": "ae"}
    ctx = DetectorContext(name="g", models_dir=tmp_path, resolve_path=lambda p: p,
                          training_vectors=lambda p: 5 + 3 * sine_pairs(300))
    trained = GAN(train_conf=conf, train_data="t.csv")
    trained.start(ctx)
    loaded = GAN(train_conf=conf, load_model_from="ae")
    loaded.start(ctx)
    x = samples(5 + 3 * sine_pairs(50, shift=1.0))
    a, b = trained.update(x), loaded.update(x)
    assert a.lines["error"].tolist() == b.lines["error"].tolist()
    assert a.status_idx.tolist() == b.status_idx.tolist()


def test_batch_cuts_do_not_change_results():
    x = sine_pairs(700)
    x[::61, 0] += 2

    def run(cuts):
        d = GAN(train_conf={"N_shifts": 1, "N_latent": 1, "K": 3.0, "len_window": 80}, retrain_interval=200,
                samples_for_retrain=200)
        out, start = [], 0
        for size in cuts:
            o = d.update(samples(x[start:start + size], np.arange(start, start + size)))
            out += list(zip(o.status_idx.tolist(), o.score.tolist()))
            start += size
        return out

    whole = run([700])
    assert sum(1 for status, _ in whole if status != 1) == 500     # undefined until the first fit
    assert run([1] * 230 + [470]) == whole == run([199, 2, 499])
    assert DETECTORS.resolve("GAN()") is GAN
