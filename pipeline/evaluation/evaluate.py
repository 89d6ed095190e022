"""The evaluation of each detector of a run (or of a benchmark) from what the collector kept.

Results are first aligned by the detector's ``delay`` (the result reported at sample t judges
sample ``t - delay``; the last ``delay`` samples are never judged, so they count as not
detected with score 0). Then, per series, the ground truth is the windows given for it, or else
its label column; series without either are left out. Counts add up over series; the NAB score
is one corpus-wide sweep over every series with windows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from pipeline.evaluation.collector import EvaluationCollector, Series
from pipeline.evaluation.labels import mask_of_spans, spans_of_labels, window_spans
from pipeline.evaluation.metrics import Counts, count_detections
from pipeline.evaluation.nab import PROFILES, Profile, SeriesTruth, score_corpus
from pipeline.records import Status

#: What a detection is, in words for the summary.
DETECTION = "warning or error"


@dataclass(frozen=True)
class DetectorInfo:
    """Who a collector's detector index is: its label in the summary and its delay."""

    index: int
    label: str
    delay: int = 0


@dataclass
class Judged:
    """One series as judged by one detector, aligned: ``detected`` and ``score`` per sample."""

    name: str
    time_s: np.ndarray
    detected: np.ndarray
    score: np.ndarray
    labels: np.ndarray
    spans: np.ndarray
    windows: bool
    values: np.ndarray | None = None


def aligned(series: Series, delay: int) -> tuple[np.ndarray, np.ndarray]:
    """(detected, score) of each sample, the result ``delay`` samples later being its verdict."""
    codes, scores = series.codes.view(), series.scores.view()
    n = len(codes)
    delay = min(max(int(delay), 0), n)
    code = np.full(n, Status.UNDEFINED, dtype=np.int8)
    code[:n - delay] = codes[delay:]
    score = np.zeros(n)
    score[:n - delay] = scores[delay:]
    return (code == Status.WARNING) | (code == Status.ERROR), np.nan_to_num(score, nan=0.0)


def judge(series: Series, delay: int, windows_s: np.ndarray | None) -> Judged | None:
    """The aligned series with its ground truth, or None when it has none."""
    if windows_s is None and not series.labelled:
        return None
    detected, score = aligned(series, delay)
    time_s = series.time_s.view()
    if windows_s is not None:
        spans = window_spans(time_s, windows_s)
        labels = mask_of_spans(spans, len(time_s))
    else:
        labels = series.labels.view()
        spans = spans_of_labels(labels)
    values = series.values.view() if series.values is not None else None
    return Judged(series.name, time_s, detected, score, labels, spans, windows_s is not None, values)


def evaluate_detector(info: DetectorInfo, judged: Sequence[Judged],
                      profiles: Mapping[str, Profile] | None = None) -> dict:
    """The figures of one detector over its judged series (``metrics.Counts.figures``), with
    ``nab``: each profile's score over the series that have windows (None when none has)."""
    counts = sum((count_detections(j.detected, j.labels, j.spans) for j in judged), Counts())
    with_windows = [j for j in judged if j.windows]
    nab = None
    if with_windows:
        truths = [SeriesTruth(len(j.detected), [tuple(span) for span in j.spans]) for j in with_windows]
        results = score_corpus(truths, [j.score for j in with_windows], profiles or {"standard": PROFILES["standard"]})
        nab = {name: result.as_dict() for name, result in results.items()}
    return {"index": info.index, "detector": info.label, "delay": info.delay, "detection": DETECTION,
            "series": len(judged), **counts.figures(), "nab": nab}


def judged_series(collector: EvaluationCollector, info: DetectorInfo,
                  windows: Mapping[str, np.ndarray] | None = None) -> list[Judged]:
    """Every series of one detector that has ground truth, aligned."""
    windows = windows or {}
    found = (judge(s, info.delay, windows.get(s.name)) for s in collector.of_detector(info.index))
    return [j for j in found if j is not None]


def evaluate_run(collector: EvaluationCollector, detectors: Sequence[DetectorInfo],
                 windows: Mapping[str, np.ndarray] | None = None,
                 profiles: Mapping[str, Profile] | None = None) -> list[dict] | None:
    """Each detector's evaluation, or None when nothing was labelled (no windows, no label column)."""
    evaluations = []
    for info in detectors:
        judged = judged_series(collector, info, windows)
        if judged:
            evaluations.append(evaluate_detector(info, judged, profiles))
    return evaluations or None
