"""One suite over every registered detector: the contract every detector keeps.

Each detector is exercised with its example parameters in tests/detector_examples.py (a test
fails when a registered detector has none, so a new detector cannot skip the suite): its parameters survive a
JSON round trip; the lines it plots on their own scale are among its plot lines; it scores from
the first sample; the same parameters (and seed) give the same output; memory stays flat on a
long stream; results do not depend on batch cuts; a stream with injected spikes ranks them above
normal samples. Invalid messages never reach a detector: the consumer rejects them (counted and
dead-lettered), and the detector's results for the valid messages around them are unchanged.
"""
from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from pipeline.consumers.messages import messages_to_batch
from pipeline.detectors import DETECTORS, DetectorContext
from tests.conftest import batch_of
from tests.detector_examples import EXAMPLES, OPTIONAL_PACKAGES

NAMES = sorted(DETECTORS.names())
CONTEXT: DetectorContext


def training_vectors(path):
    """What every example's ``train_data`` reads: 2000 clean samples of the test signal."""
    rng = np.random.default_rng(99)
    return (np.sin(np.arange(2000) * 2 * np.pi / 200) + rng.normal(0, 0.2, 2000))[:, None]


@pytest.fixture(scope="module", autouse=True)
def models_dir(tmp_path_factory):
    global CONTEXT
    CONTEXT = DetectorContext(name="conformance", models_dir=tmp_path_factory.mktemp("models"),
                              resolve_path=Path, training_vectors=training_vectors)
    yield CONTEXT.models_dir


def build(name):
    """A started detector with the example parameters (model files go to a temporary folder)."""
    if name in OPTIONAL_PACKAGES:
        pytest.importorskip(OPTIONAL_PACKAGES[name])
    detector = DETECTORS.resolve(name)(**EXAMPLES[name][0])
    detector.start(CONTEXT)
    return detector


def spiked_stream(n=4000, seed=0):
    """A noisy sine with 40 spikes of 6 sigma; returns (values, spike mask)."""
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(n) * 2 * np.pi / 200) + rng.normal(0, 0.2, n)
    spikes = np.zeros(n, dtype=bool)
    spikes[rng.choice(np.arange(300, n), 40, replace=False)] = True
    x[spikes] += rng.choice([-1, 1], spikes.sum()) * 3.5
    return x, spikes


def outcome(detector, x, cuts):
    statuses, scores, start = [], [], 0
    for size in cuts:
        out = detector.update(batch_of(x[start:start + size], start=start))
        statuses += out.status_idx.tolist()
        scores += out.score.tolist()
        start += size
    return statuses, scores


def test_every_registered_detector_has_an_example():
    assert set(NAMES) <= set(EXAMPLES), f"add EXAMPLES for {sorted(set(NAMES) - set(EXAMPLES))}"


@pytest.mark.parametrize("name", NAMES)
def test_lines_on_their_own_scale_are_plot_lines_of_the_detector(name):
    cls = DETECTORS.resolve(name)
    assert set(cls.own_scale_lines) <= set(cls.line_names)
    assert len(set(cls.own_scale_lines)) == len(cls.own_scale_lines)


@pytest.mark.parametrize("name", NAMES)
def test_parameters_round_trip_through_json(name):
    detector = build(name)
    params = json.loads(json.dumps(detector.params()))
    assert type(detector)(**params).params() == detector.params()


@pytest.mark.parametrize("name", NAMES)
def test_scores_from_the_first_sample_with_valid_codes_and_scores(name):
    x, _ = spiked_stream(500)
    detector = build(name)
    out = detector.update(batch_of(x[:1]))
    assert len(out.status_idx) == 1
    out = detector.update(batch_of(x[1:], start=1))
    codes = detector.status_codes[out.status_idx]
    assert set(codes.tolist()) <= {-1, 0, 1, 2}
    assert ((out.score >= 0) & (out.score <= 1)).all()
    assert len(detector.status_texts) == len(detector.status_codes)


@pytest.mark.parametrize("name", NAMES)
def test_same_parameters_same_output(name):
    x, _ = spiked_stream(2000)
    assert outcome(build(name), x, [2000]) == outcome(build(name), x, [2000])


@pytest.mark.parametrize("name", NAMES)
def test_batch_cuts_do_not_change_results(name):
    x, _ = spiked_stream(3000)
    rng = np.random.default_rng(1)
    cuts = []
    while sum(cuts) < len(x):
        cuts.append(int(min(len(x) - sum(cuts), rng.integers(1, 400))))
    assert outcome(build(name), x, cuts) == outcome(build(name), x, [len(x)])


@pytest.mark.parametrize("name", NAMES)
def test_spikes_score_above_normal_samples(name):
    x, spikes = spiked_stream()
    detector = build(name)
    _, scores = outcome(detector, x, [len(x)])
    # a detector with a delay (Hampel) judges, at sample t, the sample t - delay
    delay = getattr(detector, "delay", 0)
    scores = np.asarray(scores[delay:] + [0.0] * delay)
    judged = np.arange(len(x)) >= 300
    u = mannwhitneyu(scores[spikes & judged], scores[~spikes & judged]).statistic
    auc = u / ((spikes & judged).sum() * (~spikes & judged).sum())
    assert auc > max(0.5, EXAMPLES[name][1]), f"ROC AUC {auc:.3f}"


@pytest.mark.parametrize("name", NAMES)
def test_memory_stays_flat_on_a_long_stream(name):
    total = EXAMPLES[name][2]
    batch = 20_000 if total >= 200_000 else 1_000
    x = np.random.default_rng(2).normal(0, 1, batch)
    detector = build(name)
    tracemalloc.start()
    try:
        for i in range(total // batch):
            detector.update(batch_of(x, start=i * batch))
            if i == (total // batch) // 10:
                early, _ = tracemalloc.get_traced_memory()
        late, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert late < early * 1.5 + 2_000_000, f"{early} -> {late} bytes"


@pytest.mark.parametrize("name", NAMES)
def test_invalid_messages_are_rejected_before_the_detector_and_change_nothing(name):
    x, _ = spiked_stream(400)
    messages = [{"timestamp": float(i), "ftr_vector": [float(v)]} for i, v in enumerate(x)]
    polluted = list(messages)
    for i in (50, 120, 300):
        polluted.insert(i, {"timestamp": 1.0, "ftr_vector": ["x"]})
    polluted.insert(200, {"ftr_vector": [1.0]})
    batch, rejected = messages_to_batch(polluted, range(len(polluted)), [str(i) for i in range(len(polluted))], 1)
    assert len(rejected) == 4 and len(batch) == len(x)
    clean = build(name).update(batch_of(x))
    dirty = build(name).update(batch)
    assert dirty.status_idx.tolist() == clean.status_idx.tolist()
