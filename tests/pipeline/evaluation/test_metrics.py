"""Sample- and event-level figures, checked against counts worked out by hand."""
from __future__ import annotations

import numpy as np

from pipeline.evaluation.labels import mask_of_spans, spans_of_labels, window_spans
from pipeline.evaluation.metrics import Counts, count_detections


def bools(text: str) -> np.ndarray:
    return np.array([c == "1" for c in text])


def test_sample_and_event_figures_of_a_label_column():
    labels = bools("0110000111000100")
    detected = bools("0010010001000000")
    figures = count_detections(detected, labels, spans_of_labels(labels)).figures()
    assert figures["sample"] == {"tp": 2, "fp": 1, "fn": 4, "precision": 0.666667, "recall": 0.333333, "f1": 0.444444}
    # three events: the first found one sample late, the second two samples late, the third missed
    assert figures["event"]["events"] == 3 and figures["event"]["found"] == 2 and figures["event"]["missed"] == 1
    assert figures["event"]["false_alarm_events"] == 1 and figures["event"]["precision"] == 0.666667
    assert figures["mean_delay_samples"] == 1.5
    assert figures["false_alarms"] == 1 and figures["false_alarms_per_1000"] == 62.5


def test_consecutive_false_detections_are_one_false_alarm_event_but_each_a_false_alarm():
    labels = bools("00000100")
    detected = bools("01110100")
    figures = count_detections(detected, labels, spans_of_labels(labels)).figures()
    assert figures["false_alarms"] == 3 and figures["event"]["false_alarm_events"] == 1
    assert figures["event"]["found"] == 1 and figures["mean_delay_samples"] == 0.0


def test_a_detection_anywhere_in_a_window_finds_it_and_the_delay_counts_from_its_start():
    time_s = np.arange(20.0)
    spans = window_spans(time_s, np.array([[5.0, 9.0], [14.0, 16.0]]))
    labels = mask_of_spans(spans, 20)
    detected = np.zeros(20, dtype=bool)
    detected[[8, 9, 18]] = True
    figures = count_detections(detected, labels, spans).figures()
    assert spans.tolist() == [[5, 9], [14, 16]]
    assert figures["event"]["found"] == 1 and figures["event"]["missed"] == 1
    assert figures["mean_delay_samples"] == 3.0 and figures["false_alarms"] == 1


def test_no_detections_give_zero_recall_no_precision_and_an_f1_of_zero():
    labels = bools("0100")
    figures = count_detections(np.zeros(4, dtype=bool), labels, spans_of_labels(labels)).figures()
    assert figures["sample"]["precision"] is None and figures["sample"]["recall"] == 0.0
    assert figures["sample"]["f1"] == 0.0 and figures["mean_delay_samples"] is None


def test_counts_of_several_series_add_up_before_the_ratios():
    a = count_detections(bools("0110"), bools("0100"), spans_of_labels(bools("0100")))
    b = count_detections(bools("0000"), bools("0001"), spans_of_labels(bools("0001")))
    total = (a + b).figures()
    assert isinstance(a + b, Counts)
    assert total["sample"]["precision"] == 0.5 and total["sample"]["recall"] == 0.5
    assert total["event"]["events"] == 2 and total["samples"] == 8


def test_a_detector_that_never_fires_has_no_precision_but_an_f1_of_zero():
    from pipeline.evaluation.metrics import f1

    assert f1(None, 0.0) == 0.0      # labelled samples, no detection
    assert f1(None, None) is None    # nothing labelled: nothing to score
    assert f1(0.5, 0.5) == 0.5
