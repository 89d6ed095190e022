"""The frame collector: copies of every result, handed on at a bounded rate (no Qt needed)."""
from __future__ import annotations

import numpy as np

from pipeline.live.frames import FrameCollector
from pipeline.records import SampleBatch
from tests.result_batches import FakeClock, results


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
