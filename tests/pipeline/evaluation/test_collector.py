"""The collector keeps columns per detector and series; the evaluation aligns them by delay."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipeline.evaluation import DetectorInfo, EvaluationCollector, evaluate_run
from pipeline.evaluation.collector import Column
from pipeline.records import ResultBatch, Status
from tests.conftest import batch_of

CODES = np.array([Status.OK, Status.ERROR, Status.UNDEFINED, Status.WARNING], dtype=np.int8)


def results(samples, status_idx, score=None, index=0):
    return ResultBatch(detector_index=index, algorithm="x", samples=samples, status_idx=np.asarray(status_idx),
                       score=np.zeros(len(samples)) if score is None else np.asarray(score, float),
                       status_texts=("OK", "E", "U", "W"), status_codes=CODES)


def test_columns_grow_in_chunks_and_keep_everything():
    column = Column(np.float64)
    for start in range(0, 200_000, 70_000):
        column.extend(np.arange(start, min(start + 70_000, 200_000), dtype=np.float64))
    assert column.size == 200_000 and np.array_equal(column.view(), np.arange(200_000.0))


def test_a_delayed_detectors_verdict_is_counted_for_the_sample_it_judges():
    labels = np.zeros(10, dtype=bool)
    labels[3] = True
    samples = replace(batch_of(np.zeros(10)), labels=labels)
    late = np.zeros(10, dtype=int)
    late[5] = 1          # reported at 5, judging sample 3 with a delay of 2
    collector = EvaluationCollector()
    collector.on_results(samples, [results(samples, late, index=0), results(samples, late, index=1)])
    on_time, delayed = evaluate_run(collector, [DetectorInfo(0, "0: x", 0), DetectorInfo(1, "1: x", 2)])
    assert on_time["sample"]["tp"] == 0 and on_time["false_alarms"] == 1
    assert delayed["sample"]["tp"] == 1 and delayed["false_alarms"] == 0 and delayed["sample"]["f1"] == 1.0


def test_warnings_and_errors_are_detections_undefined_is_not():
    labels = np.array([1, 1, 1, 0], dtype=bool)
    samples = replace(batch_of(np.zeros(4)), labels=labels)
    collector = EvaluationCollector()
    collector.on_results(samples, [results(samples, [1, 3, 2, 0])])
    (evaluation,) = evaluate_run(collector, [DetectorInfo(0, "0: x")])
    assert evaluation["sample"]["tp"] == 2 and evaluation["sample"]["fn"] == 1


def test_an_unlabelled_stream_is_not_kept_at_all():
    samples = batch_of(np.zeros(100))
    collector = EvaluationCollector()
    for _ in range(3):
        collector.on_results(samples, [results(samples, np.zeros(100, dtype=int))])
    assert collector.series == {} and evaluate_run(collector, [DetectorInfo(0, "0: x")]) is None


def test_an_unlabelled_run_has_no_evaluation_unless_windows_are_given():
    samples = batch_of(np.zeros(100))
    collector = EvaluationCollector(unlabelled=True)
    score = np.zeros(100)
    score[50] = 1.0
    collector.on_results(samples, [results(samples, np.zeros(100, dtype=int), score)])
    assert evaluate_run(collector, [DetectorInfo(0, "0: x")]) is None
    (evaluation,) = evaluate_run(collector, [DetectorInfo(0, "0: x")], windows={"": np.array([[50.0, 59.0]])})
    assert evaluation["event"]["events"] == 1 and evaluation["event"]["found"] == 0
    assert evaluation["nab"]["standard"]["score"] == 100.0  # the score stream finds it at the window's start
