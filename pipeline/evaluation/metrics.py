"""Counting detections against ground truth: samples, events, false alarms and delays.

A detection is a sample whose status is a warning or an error (what the summary calls an
anomaly). An event is an anomaly window, or, for a label column, a run of consecutive labelled
samples. Counts of several streams add up (``Counts.__add__``), and the ratios are taken last.

Examples
--------
>>> detected = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
>>> labels = np.array([0, 1, 1, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
>>> counts = count_detections(detected, labels, spans_of_labels(labels))
>>> figures = counts.figures()
>>> figures["sample"]["f1"], figures["event"]["recall"], figures["false_alarms"], figures["mean_delay_samples"]
(0.571429, 0.5, 1, 1.0)
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pipeline.evaluation.labels import mask_of_spans, spans_of_labels  # noqa: F401 (spans_of_labels: doctest)


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 6) if b else None


def f1(precision: float | None, recall: float | None) -> float | None:
    """The harmonic mean; 0 when there was something to find and nothing was found (a detector
    that never fires has no precision but an F1 of 0); None when there was nothing to find."""
    if recall is None:
        return None
    if precision is None or precision + recall == 0:
        return 0.0
    return round(2 * precision * recall / (precision + recall), 6)


@dataclass
class Counts:
    """What one detector did on labelled samples; see the module docstring."""

    samples: int = 0
    labelled: int = 0
    true_detections: int = 0      # detected labelled samples
    false_detections: int = 0     # detected samples outside every event (false alarms)
    missed_samples: int = 0       # labelled samples not detected
    events: int = 0
    events_found: int = 0
    false_alarm_events: int = 0   # runs of consecutive false detections
    delay_sum: int = 0            # samples from an event's start to its first detection, over found events

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def figures(self) -> dict:
        """Precision, recall and F1 at sample and event level, false alarms and mean delay."""
        precision = ratio(self.true_detections, self.true_detections + self.false_detections)
        recall = ratio(self.true_detections, self.labelled)
        event_precision = ratio(self.events_found, self.events_found + self.false_alarm_events)
        event_recall = ratio(self.events_found, self.events)
        return {
            "samples": self.samples,
            "labelled_samples": self.labelled,
            "sample": {"tp": self.true_detections, "fp": self.false_detections, "fn": self.missed_samples,
                       "precision": precision, "recall": recall, "f1": f1(precision, recall)},
            "event": {"events": self.events, "found": self.events_found, "missed": self.events - self.events_found,
                      "false_alarm_events": self.false_alarm_events, "precision": event_precision,
                      "recall": event_recall, "f1": f1(event_precision, event_recall)},
            "false_alarms": self.false_detections,
            "false_alarms_per_1000": ratio(1000 * self.false_detections, self.samples),
            "mean_delay_samples": ratio(self.delay_sum, self.events_found),
        }


def count_detections(detected: np.ndarray, labels: np.ndarray, spans: np.ndarray) -> Counts:
    """Counts of one stream: ``detected`` and ``labels`` bool[n], ``spans`` int64[k, 2] inclusive
    event spans (for a label column, the runs of ``labels``; for windows, the windows' rows)."""
    n = len(detected)
    inside = mask_of_spans(spans, n) | labels
    false = detected & ~inside
    hits = np.flatnonzero(detected)
    first = np.searchsorted(hits, spans[:, 0])
    first_hit = np.where(first < len(hits), hits[np.minimum(first, len(hits) - 1)], n) if len(hits) else \
        np.full(len(spans), n)
    found = first_hit <= spans[:, 1]
    false_starts = false & ~np.concatenate(([False], false[:-1]))
    return Counts(
        samples=n, labelled=int(labels.sum()),
        true_detections=int((detected & labels).sum()), false_detections=int(false.sum()),
        missed_samples=int((labels & ~detected).sum()),
        events=len(spans), events_found=int(found.sum()), false_alarm_events=int(false_starts.sum()),
        delay_sum=int((first_hit[found] - spans[found, 0]).sum()))
