"""Combination: the original's AND/OR statuses sample for sample, PercentScore as a score with a
status, members built from their own configurations (any registered detector), and clear errors.

The original's PercentScore returned its percentage as a float status code. We keep the number
as ``score`` (equal to the original's code within 1e-12: it sums integers where the original
summed fractions) and derive a status from it, so every PercentScore sample differs in code and
text from the original, exactly as the documented rule of the fix says.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.consumers.timestamps import parse_timestamp_texts
from pipeline.detectors import DETECTORS, DetectorContext
from pipeline.detectors.combination import Combination
from pipeline.records import SampleBatch
from tests import reference_loops
from tests.conftest import batch_of
from tests.detector_examples import EXAMPLES, OPTIONAL_PACKAGES
from tests.reference_loops_stats import (
    combination_loop,
    hampel_loop,
    load_refvector,
    random_cuts,
    random_stream,
    replay,
    run_in_batches,
)

MEMBERS = ["BorderCheck()", "EMA()", "Welford()"]
MEMBER_CONFS = [{"input_vector_size": 1, "warning_stages": [0.7, 0.9], "UL": 2.0, "LL": -2.0},
                {"input_vector_size": 1, "N": 5, "LL": -2.0, "UL": 2.0, "warning_stages": [0.7, 0.9]},
                {"input_vector_size": 1, "warning_stages": [0.7, 0.9], "X": 3, "N": 50, "filtering": "None"}]

#: Parameters for hosting the statistical detectors (the model-based ones use tests/detector_examples.py).
HOSTED = {
    "Filtering": {"mode": 1, "filter_order": 3, "cutoff_frequency": 0.1, "UL": 1.0, "LL": -1.0},
    "Hampel": {"W": 5, "K": 1.4826, "n_sigmas": 3.0},
    "LinearFit": {"UL": 1.0, "LL": -1.0, "N": 3, "confidence_norm": 10.0},
    "MACD": {"period1": 1, "period2": 20, "UL": 1.5, "LL": -1.5, "warning_stages": [0.8]},
    "Cumulative": {"decay": 0.9, "averaging": 5},
    "EMA_Percentile": {"percentile": 99, "window": 200, "start_on": 50, "period": 1},
    "Percentile": {"percentile_range": [1, 99], "buff_size": 200},
    "Combination": {"anomaly_algorithms": ["BorderCheck"], "anomaly_algorithms_configurations": [{"UL": 3, "LL": -3}],
                    "status_determiner": "OR", "status_determiner_conf": {}},
}


def code_of(text: str) -> int:
    return 1 if text == "OK" else 2 if text == "Undefined" else -1 if text.startswith("Error") else 0


def member_loops(x):
    """(texts, codes, scores) of the three members, from the per-sample loops of tests/reference_loops.py."""
    results = [reference_loops.border_check_loop(x, UL=2.0, LL=-2.0, warning_stages=[0.7, 0.9]),
               reference_loops.ema_loop(x, UL=2.0, LL=-2.0, N=5, warning_stages=[0.7, 0.9]),
               reference_loops.welford_loop(x, X=3, N=50, warning_stages=[0.7, 0.9])]
    return [(texts, [code_of(t) for t in texts], scores) for texts, scores in results]


def combination(determiner, conf=None, members=MEMBERS, confs=MEMBER_CONFS):
    return Combination(anomaly_algorithms=members, anomaly_algorithms_configurations=confs,
                       status_determiner=determiner, status_determiner_conf=conf or {})


@pytest.mark.parametrize("stem", ["Combination__AND__sine_spikes", "Combination__OR__sine_spikes"])
def test_and_or_statuses_match_the_original_sample_for_sample(stem, sine_spikes):
    ts, x = sine_spikes
    record, expected, expected_codes = load_refvector(stem)
    result = replay(record, ts, x)
    assert [result.status_texts[i] for i in result.status_idx] == expected
    assert result.status_code.tolist() == expected_codes


def test_percent_score_is_the_original_number_as_score_and_its_status_follows_the_rule(sine_spikes):
    ts, x = sine_spikes
    record, _, original_codes = load_refvector("Combination__PercentScore__sine_spikes")
    result = replay(record, ts, x)
    np.testing.assert_allclose(result.score, original_codes, rtol=0, atol=1e-12)
    percent = np.asarray(original_codes)
    rule = np.where(percent >= 0.5, -1, np.where(percent >= 0.25, 0, 1))  # the default thresholds
    assert result.status_code.tolist() == rule.tolist()
    assert set(result.status_code.tolist()) <= {-1, 0, 1, 2}
    # with thresholds that suit this stream the status marks the spiky stretches
    tuned = dict(record["config"], status_determiner_conf={"interval": 3600, "data_interval": 60,
                                                           "warning_threshold": 0.04, "error_threshold": 0.06})
    codes = replay({**record, "config": tuned}, ts, x).status_code
    np.testing.assert_array_equal(codes, np.where(percent >= 0.06, -1, np.where(percent >= 0.04, 0, 1)))


@pytest.mark.parametrize("determiner,values,expected", [
    ("AND", [0.2, 1, 1.5], [1, 0, -1]),
    ("OR", [0.2, 0.5, 1.5], [1, 0, -1]),
])
def test_original_unit_cases(determiner, values, expected):
    d = combination(determiner, members=["BorderCheck()", "BorderCheck()"],
                    confs=[{"input_vector_size": 1, "UL": 0.5, "LL": 0, "warning_stages": [0.9]},
                           {"input_vector_size": 1, "UL": 1, "LL": 0, "warning_stages": [0.9]}])
    assert d.status_codes[d.update(batch_of(values)).status_idx].tolist() == expected
    assert [type(m).__name__ for m in d.members] == ["BorderCheck", "BorderCheck"]


@pytest.mark.parametrize("determiner,conf", [
    ("AND()", {}), ("OR", {}),
    ("PercentScore()", {"interval": 3600, "data_interval": 60}),
    ("PercentScore_Alicante", {"interval": 1800, "data_interval": 60, "warning_threshold": 0.02,
                               "error_threshold": 0.05}),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_batching_equals_the_per_sample_loop(determiner, conf, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 3000)
    ts = 1.7e12 + 60_000 * np.arange(len(x))  # milliseconds, one a minute
    texts, scores = combination_loop(member_loops(x.tolist()), ts.tolist(), determiner, conf)
    assert run_in_batches(combination(determiner, conf), x, [len(x)], ts)[:2] == (texts, scores)
    assert run_in_batches(combination(determiner, conf), x, random_cuts(rng, len(x)), ts)[:2] == (texts, scores)


def test_percent_score_window_with_timestamps_out_of_order_equals_the_loop():
    rng = np.random.default_rng(5)
    x = random_stream(rng, 1500)
    ts = 60.0 * np.arange(len(x)) + rng.choice([0.0, -600.0, 900.0], len(x), p=[0.8, 0.1, 0.1])
    conf = {"interval": 1800, "data_interval": 60}
    texts, scores = combination_loop(member_loops(x.tolist()), ts.tolist(), "PercentScore", conf)
    got = run_in_batches(combination("PercentScore", conf), x, random_cuts(rng, len(x), 200), ts)
    assert got[:2] == (texts, scores)


def test_percent_score_reads_milliseconds_before_1970_as_the_input_reader_does():
    # -1.5e11 is milliseconds (1965) to the input readers; the determiner once read any negative
    # number as seconds, so every sample 60 s apart sat alone in a 60 000 s wide "minute"
    seconds = -1.5e8 + 60.0 * np.arange(600)
    as_given, read = parse_timestamp_texts([repr(v) for v in (seconds * 1000).tolist()])
    assert read.tolist() == seconds.tolist()
    x = random_stream(np.random.default_rng(3), len(seconds))
    conf = {"interval": 3600, "data_interval": 60}
    in_ms = run_in_batches(combination("PercentScore", conf), x, random_cuts(np.random.default_rng(4), len(x)),
                           as_given)
    in_s = run_in_batches(combination("PercentScore", conf), x, [len(x)], seconds)
    assert in_ms[:2] == in_s[:2]
    assert max(in_ms[1]) > 1 / 60  # the window holds the last hour, not one sample


def test_alicante_counts_only_rises():
    d = combination("PercentScore_Alicante", {"interval": 1, "data_interval": 1},
                    members=["BorderCheck"], confs=[{"UL": 1, "LL": -1}])
    out = d.update(batch_of([0.0, 5.0, -5.0]))
    assert out.score.tolist() == [0.0, 1.0, 0.0]


def test_a_member_outside_its_time_filter_is_undefined():
    confs = [{"UL": 1, "LL": -1, "filtering": "[[12, 0, 0], [1, 0, 0]]"}, {"UL": 1, "LL": -1}]
    d = combination("AND", members=["BorderCheck", "BorderCheck"], confs=confs)
    ts = np.array([12 * 3600.0, 3 * 3600.0, 3 * 3600.0 + 1])
    x = np.array([5.0, 5.0, 0.0])
    out = d.update(SampleBatch(ts, ts, x[:, None], np.arange(3)))
    # at 03:00 only the second member judges: its error alone decides under AND
    assert d.status_codes[out.status_idx].tolist() == [-1, -1, 1]
    all_filtered = combination("OR", members=["BorderCheck"], confs=confs[:1])
    out = all_filtered.update(SampleBatch(ts, ts, x[:, None], np.arange(3)))
    assert all_filtered.status_codes[out.status_idx].tolist() == [-1, 2, 2]


@pytest.mark.parametrize("name", DETECTORS.names())
def test_any_registered_detector_can_be_a_member(name, tmp_path):
    if name in OPTIONAL_PACKAGES:
        pytest.importorskip(OPTIONAL_PACKAGES[name])
    params = HOSTED.get(name) or (EXAMPLES[name][0] if name in EXAMPLES else None)
    if params is None:
        pytest.skip(f"no example parameters for {name} in tests/detector_examples.py")
    rng = np.random.default_rng(0)
    train = np.sin(np.arange(2000) * 2 * np.pi / 200)[:, None] + rng.normal(0, 0.2, (2000, 1))
    context = DetectorContext(name="combination", models_dir=tmp_path, resolve_path=Path,
                              training_vectors=lambda path: train)
    d = combination("OR", members=[name, "BorderCheck()"], confs=[dict(params), {"UL": 3, "LL": -3}])
    d.start(context)
    x = random_stream(rng, 600)
    out = d.update(batch_of(x[:300]))
    out2 = d.update(batch_of(x[300:], start=300))
    codes = np.concatenate([d.status_codes[out.status_idx], d.status_codes[out2.status_idx]])
    assert set(codes.tolist()) <= {-1, 0, 1, 2} and len(codes) == 600
    assert type(d)(**d.params()).params() == d.params()


def test_member_configuration_errors_name_the_nested_key():
    conf = {"input_vector_size": 1, "anomaly_algorithms": ["BorderCheck()", "Welford()"],
            "anomaly_algorithms_configurations": [{"UL": 1, "LL": -1}, {"X": "three"}],
            "status_determiner": "AND()", "status_determiner_conf": {}}
    with pytest.raises(ConfigError) as err:
        parse_config({"anomaly_detection_alg": ["Combination()"], "anomaly_detection_conf": [conf]}, Path("x.json"))
    assert str(err.value) == ('anomaly_detection_conf[0].anomaly_algorithms_configurations[1].X: '
                              'expected a number, got "three"')


@pytest.mark.parametrize("change,message", [
    ({"anomaly_algorithms": ["Borderline()"]},
     "anomaly_detection_conf[0].anomaly_algorithms[0]: unknown detector 'Borderline()'; known: BorderCheck, "),
    ({"anomaly_algorithms_configurations": [{"UL": 1}]},
     "anomaly_detection_conf[0].anomaly_algorithms_configurations[0].LL: required key is missing"),
    ({"anomaly_algorithms_configurations": [{"UL": 1, "LL": 0, "Q": 2}]},
     "anomaly_detection_conf[0].anomaly_algorithms_configurations[0].Q: unknown key (value 2)"),
    ({"anomaly_algorithms_configurations": [{"UL": 1, "LL": 0}, {"UL": 1, "LL": 0}]},
     "anomaly_detection_conf[0].anomaly_algorithms_configurations: expected 1 entries, one per anomaly_algorithms"),
    ({"status_determiner": "XOR()"},
     "anomaly_detection_conf[0].status_determiner: unknown status determiner 'XOR()'; "
     "known: AND, OR, PercentScore, PercentScore_Alicante"),
    ({"status_determiner": "PercentScore", "status_determiner_conf": {"interval": 60}},
     "anomaly_detection_conf[0].status_determiner_conf.data_interval: required key is missing"),
    ({"anomaly_algorithms_configurations": [{"UL": 1, "LL": 0, "filtering": "noon"}]},
     "anomaly_detection_conf[0].anomaly_algorithms_configurations[0].filtering: expected \"None\" or"),
])
def test_bad_combinations_are_config_errors(change, message):
    conf = {"input_vector_size": 1, "anomaly_algorithms": ["BorderCheck()"],
            "anomaly_algorithms_configurations": [{"UL": 1, "LL": 0}], "status_determiner": "OR()",
            "status_determiner_conf": {}, **change}
    with pytest.raises(ConfigError) as err:
        parse_config({"anomaly_detection_alg": ["Combination()"], "anomaly_detection_conf": [conf]}, Path("x.json"))
    assert str(err.value).startswith(message)


BORDER_AND_HAMPEL = (["BorderCheck()", "Hampel()"],
                     [{"UL": 3.0, "LL": -3.0, "warning_stages": []}, {"W": 2, "K": 1.4826, "n_sigmas": 3.0}])


def spike_at_ten():
    x = 0.1 * np.sin(np.arange(30))
    x[10] = 10.0
    return x


def test_and_of_a_delayed_member_is_one_error_on_the_spike():
    # BorderCheck flags the spike at 10, Hampel (W 2) at 12: merged by the sample they judge
    d = combination("AND", None, *BORDER_AND_HAMPEL)
    assert d.delay == 2
    texts, scores, _ = run_in_batches(d, spike_at_ten(), [30])
    assert [t for t, text in enumerate(texts) if text == "Error"] == [12]  # reported at 12, about 10
    assert texts[:2] == ["Undefined"] * 2  # no member has judged a sample before t = 2
    assert scores[12] == max(scores)


def test_or_of_a_delayed_member_flags_no_normal_sample():
    d = combination("OR", None, *BORDER_AND_HAMPEL)
    texts, _, _ = run_in_batches(d, spike_at_ten(), [30])
    assert [t for t, text in enumerate(texts) if text == "Error"] == [12]
    assert texts[:2] == ["Undefined"] * 2 and set(texts[2:12] + texts[13:]) == {"OK"}


@pytest.mark.parametrize("determiner,conf", [("AND", None), ("OR", None),
                                             ("PercentScore", {"interval": 600, "data_interval": 60})])
def test_a_delayed_member_is_aligned_by_sample_for_any_batching(determiner, conf):
    rng = np.random.default_rng(3)
    x = random_stream(rng, 3000)
    ts = 1.7e12 + 60_000 * np.arange(len(x))
    border = reference_loops.border_check_loop(x.tolist(), UL=3.0, LL=-3.0, warning_stages=[])
    hampel = hampel_loop(x.tolist(), W=2)
    members = [(t, [-1 if v == "Anomaly detected" else code_of(v) for v in t], s)
               for t, s in (border, hampel[:2])]
    expected = combination_loop(members, ts.tolist(), determiner, conf, delays=[0, 2])
    assert run_in_batches(combination(determiner, conf, *BORDER_AND_HAMPEL), x, [len(x)], ts)[:2] == expected
    cuts = random_cuts(rng, len(x))
    assert run_in_batches(combination(determiner, conf, *BORDER_AND_HAMPEL), x, cuts, ts)[:2] == expected


def test_a_delayed_member_with_a_time_filter_counts_where_its_verdict_comes_in_time():
    # Hampel (W 2) sees only the samples from 01:00 to 03:00 of each day (one a minute): its
    # verdict on a kept sample comes two kept samples later, in time for the Combination (delay
    # 2) inside the stretch; for the stretch's last two samples it comes only the next day
    confs = [{"UL": 3.0, "LL": -3.0, "warning_stages": []},
             {"W": 2, "K": 1.4826, "n_sigmas": 3.0, "filtering": "[[2, 0, 0], [1, 0, 0]]"}]
    ts = 60.0 * np.arange(3 * 1440)
    x = np.random.default_rng(4).normal(0, 0.1, len(ts))
    x[[130, 1440 + 100]] = 10.0  # spikes inside the first and the second day's stretch
    results = [run_in_batches(combination("AND", None, ["BorderCheck", "Hampel"], confs), x, sizes, ts)[0]
               for sizes in ([len(x)], random_cuts(np.random.default_rng(5), len(x)))]
    assert results[0] == results[1]
    assert [t for t, text in enumerate(results[0]) if text == "Error"] == [132, 1440 + 102]
