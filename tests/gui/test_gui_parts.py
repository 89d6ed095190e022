"""The window's parts on their own: the anomaly table model."""
from __future__ import annotations

from PyQt5.QtCore import Qt

from gui.anomaly_table import STATUS, AnomalyTableModel
from tests.result_batches import chunk


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
