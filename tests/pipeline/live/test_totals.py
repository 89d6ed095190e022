"""What a viewer counts of a run from its frames (no Qt needed)."""
from __future__ import annotations

import numpy as np

from pipeline.live.frames import DetectorChunk, Frame, StreamInfo
from pipeline.live.rate_meter import RateMeter
from pipeline.live.totals import RunTotals
from pipeline.records import Status


def chunk(detector: int, codes) -> DetectorChunk:
    codes = np.asarray(codes, dtype=np.int8)
    t = np.arange(len(codes), dtype=float)
    return DetectorChunk(detector, t, t, codes, np.zeros(len(codes), np.int16), t, {}, ())


def test_totals_count_every_status_per_detector_over_all_its_streams():
    totals = RunTotals(detectors=2)
    streams = (StreamInfo(0, 0, "s", "a"), StreamInfo(1, 0, "s", "b"), StreamInfo(2, 1, "s", "a"))
    totals.add(Frame((chunk(0, [1, 1, -1, 0]), chunk(1, [])), samples=4, rejected=0, new_streams=streams))
    totals.add(Frame((chunk(0, [0, 2]), chunk(1, [-1])), samples=6, rejected=2, progress=(3.0, 4.0)))
    first, second = totals.tallies
    assert first.samples == 6 and first.streams == 2
    assert first.counts == {Status.ERROR: 1, Status.WARNING: 2, Status.OK: 2, Status.UNDEFINED: 1}
    assert second.samples == 1 and second.streams == 1 and second.counts[Status.ERROR] == 1
    assert (totals.samples, totals.rejected, totals.progress, totals.frames) == (6, 2, (3.0, 4.0), 2)
    totals.reset(detectors=1)
    assert len(totals.tallies) == 1 and totals.samples == 0 and totals.frames == 0


def test_the_rate_is_over_the_last_second_only():
    meter = RateMeter(window_s=1.0)
    for second, total in [(0.0, 0), (1.0, 1000), (2.0, 1010), (3.0, 1020)]:
        meter.add(total, now=second)
    assert meter.rate() == 10.0
    meter.clear()
    assert meter.rate() == 0.0
