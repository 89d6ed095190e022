"""The engine listener that keeps what an evaluation needs, per detector and labelled stream.

Per (detector, series) it keeps four columns (time, label, status code, score: 18 bytes a
sample; 8 more with ``keep_values``) in numpy arrays that grow in chunks, never a Python object
per sample. A file run is one series; a benchmark names each of its series (``series``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from pipeline.records import ResultBatch, SampleBatch

CHUNK = 1 << 16


class Column:
    """A growing numpy array: capacity doubles (at least by ``CHUNK``), ``view()`` is the data."""

    def __init__(self, dtype):
        self.data = np.empty(0, dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.empty(max(end, 2 * len(self.data), CHUNK), dtype=self.data.dtype)
            grown[:self.size] = self.data[:self.size]
            self.data = grown
        self.data[self.size:end] = values
        self.size = end

    def view(self) -> np.ndarray:
        return self.data[:self.size]


@dataclass
class Series:
    """One detector's results on one series, in the order it reported them (not yet aligned)."""

    detector_index: int
    name: str
    time_s: Column = field(default_factory=lambda: Column(np.float64))
    labels: Column = field(default_factory=lambda: Column(np.bool_))
    codes: Column = field(default_factory=lambda: Column(np.int8))
    scores: Column = field(default_factory=lambda: Column(np.float64))
    values: Column | None = None
    labelled: bool = False

    def add(self, results: ResultBatch, keep_values: bool) -> None:
        samples = results.samples
        self.time_s.extend(samples.time_s)
        if samples.labels is not None:
            self.labelled = True
            self.labels.extend(samples.labels)
        else:
            self.labels.extend(np.zeros(len(samples), dtype=bool))
        self.codes.extend(results.status_code)
        self.scores.extend(results.score)
        if keep_values:
            if self.values is None:
                self.values = Column(np.float64)
            self.values.extend(samples.values[:, 0] if samples.values.shape[1] else np.zeros(len(samples)))


class EvaluationCollector:
    """Engine listener: appends every detector's results to its ``Series``.

    ``series`` names the series now running (a benchmark sets it before each file); by default a
    stream is named by its Kafka topic and key, and a file run has the one series ``""``.

    A series is kept from its first labelled sample on, or from the start with ``unlabelled``
    True (the ground truth comes from elsewhere: windows); so an unlabelled run, such as an
    endless Kafka stream, keeps nothing."""

    def __init__(self, keep_values: bool = False, unlabelled: bool = False):
        self.keep_values = keep_values
        self.unlabelled = unlabelled
        self.series_name: str | None = None
        self.series: dict[tuple[int, str], Series] = {}

    def on_results(self, samples: SampleBatch, results: Sequence[ResultBatch]) -> None:
        for result in results:
            if not len(result):
                continue
            stream = result.samples
            name = self.series_name if self.series_name is not None else \
                "/".join(part for part in (stream.stream, stream.key) if part)
            key = (result.detector_index, name)
            entry = self.series.get(key)
            if entry is None:
                if stream.labels is None and not self.unlabelled:
                    continue
                entry = self.series[key] = Series(result.detector_index, name)
            entry.add(result, self.keep_values)

    @property
    def labelled(self) -> bool:
        return any(s.labelled for s in self.series.values())

    def of_detector(self, index: int) -> list[Series]:
        return [s for (i, _), s in self.series.items() if i == index]
