"""The window's parts on their own: ring buffer, frame collector, anomaly table model."""
from __future__ import annotations

import numpy as np
import pytest
from PyQt5.QtCore import Qt

from gui.anomaly_table import STATUS, AnomalyTableModel
from gui.ring_buffer import RingBuffer
from gui.worker import DetectorChunk, FrameCollector
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


@pytest.mark.parametrize("sizes", [[1, 2, 3], [5, 5], [7], [2, 9, 1, 3]])
def test_ring_buffer_view_is_the_newest_samples_oldest_first(sizes):
    ring = RingBuffer(capacity=6, columns=2)
    fed = []
    for n in sizes:
        block = np.arange(len(fed), len(fed) + n, dtype=float)
        fed.extend(block)
        ring.extend(np.vstack([block, -block]))
    assert ring.view()[0].tolist() == fed[-6:]
    assert ring.view()[1].tolist() == [-v for v in fed[-6:]]
    assert ring.total == len(fed)


def test_ring_buffer_memory_does_not_grow():
    ring = RingBuffer(capacity=1000, columns=3)
    before = ring._data.nbytes
    for i in range(500):
        ring.extend(np.full((3, 777), float(i)))
    assert ring._data.nbytes == before and ring.count == 1000
    assert ring.view().base is not None  # a view, not a copy


def test_collector_never_drops_and_never_exceeds_the_rate():
    clock = FakeClock()
    frames = []
    collector = FrameCollector(frames.append, detectors=2, max_rate_hz=30, clock=clock)
    for i in range(1000):  # one batch per millisecond for a second
        clock.now = i / 1000
        batch = [results(0, 10 * i, [0] * 10), results(1, 10 * i, [2] * 10)]
        collector.on_results(SampleBatch.empty(1), batch)
    collector.finish()
    assert frames[-1].final and not any(f.final for f in frames[:-1])
    assert len(frames) - 1 <= 31
    assert sum(len(f.chunks[0]) for f in frames) == 10_000
    assert sum(len(f.chunks[1]) for f in frames) == 10_000
    times = np.concatenate([f.chunks[0].time_s for f in frames])
    assert times.tolist() == list(range(10_000))


def test_collector_copies_what_it_keeps():
    frames = []
    collector = FrameCollector(frames.append, detectors=1, clock=FakeClock())
    r = results(0, 0, [0, 2, 4])
    collector.on_results(r.samples, [r])
    r.samples.time_s[:] = -1
    r.status_idx[:] = 0
    assert frames[0].chunks[0].time_s.tolist() == [0, 1, 2]
    assert frames[0].chunks[0].status_code.tolist() == [1, -1, 0]


def test_collector_tick_sends_pending_results_when_the_stream_goes_quiet():
    clock = FakeClock()
    frames = []
    collector = FrameCollector(frames.append, detectors=1, clock=clock)
    collector.on_results(SampleBatch.empty(1), [results(0, 0, [0])])
    clock.now = 0.01
    collector.on_results(SampleBatch.empty(1), [results(0, 1, [0])])
    assert len(frames) == 1 and collector.pending
    collector.tick()
    assert len(frames) == 1
    clock.now = 0.05
    collector.tick()
    assert len(frames) == 2 and not collector.pending


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
