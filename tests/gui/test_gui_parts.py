"""The window's parts on their own: the anomaly table model."""
from __future__ import annotations

import numpy as np
from PyQt5.QtCore import Qt

from gui.anomaly_table import STATUS, AnomalyTableModel
from pipeline.live.frames import DetectorChunk
from pipeline.records import ResultBatch, SampleBatch

TEXTS = ("OK", "Undefined", "Error: above", "Error: below", "Warning0: above", "Warning0: below")
CODES = np.array([1, 2, -1, -1, 0, 0], dtype=np.int8)


def results(detector: int, start: int, status_idx) -> ResultBatch:
    idx = np.asarray(status_idx, dtype=np.int16)
    t = np.arange(start, start + len(idx), dtype=np.float64)
    samples = SampleBatch(t, t, t[:, None] / 10, np.arange(start, start + len(idx)))
    return ResultBatch(detector, "test", samples, idx, idx / 10.0, TEXTS, CODES,
                       lines={"UL": np.full(len(idx), 5.0)})


def chunk(detector: int, start: int, status_idx) -> DetectorChunk:
    r = results(detector, start, status_idx)
    return DetectorChunk(detector, r.samples.time_s, r.samples.values[:, 0], r.status_code,
                         r.status_idx, r.score, dict(r.lines), TEXTS)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_table_model_keeps_anomalies_only_in_time_order_across_detectors():
    model = AnomalyTableModel(["0: A", "1: B"])
    added = model.append([chunk(0, 0, [0, 2, 0, 4]), chunk(1, 0, [5, 0, 3, 1])])
    assert added == model.rowCount() == 4
    assert [model.row_time(r) for r in range(4)] == [0.0, 1.0, 2.0, 3.0]
    assert [model.row_detector(r) for r in range(4)] == [1, 0, 1, 0]
    assert model.data(model.index(1, STATUS)) == "Error: above"
    assert model.data(model.index(0, STATUS)) == "Warning0: below"
    assert model.data(model.index(1, STATUS), Qt.ForegroundRole).name() == "#b71c1c"
    assert model.data(model.index(0, 1)) == "1: B"


def test_table_model_caps_rows_keeping_the_newest_and_counting_all():
    model = AnomalyTableModel(["0: A"], max_rows=10)
    removed = []
    model.rowsRemoved.connect(lambda parent, first, last: removed.append(last - first + 1))
    for i in range(7):
        model.append([chunk(0, 4 * i, [2, 4, 0, 3])])
    assert model.total == 21 and model.rowCount() == 10 and model.capped
    assert model.row_time(9) == 27.0 and sum(removed) == 11
    model.append([chunk(0, 100, [2] * 25)])
    assert model.rowCount() == 10 and model.row_time(0) == 115.0 and model.total == 46
