"""Small result batches and chunks for tests of what consumes results (frames, the table)."""
from __future__ import annotations

import numpy as np

from pipeline.live.frames import DetectorChunk
from pipeline.records import ResultBatch, SampleBatch

TEXTS = ("OK", "Undefined", "Error: above", "Error: below", "Warning0: above", "Warning0: below")
CODES = np.array([1, 2, -1, -1, 0, 0], dtype=np.int8)


def results(detector: int, start: int, status_idx) -> ResultBatch:
    """Detector ``detector``'s results for samples ``start, start + 1, ...`` (time = index), one per
    entry of ``status_idx`` (indexes into ``TEXTS``)."""
    idx = np.asarray(status_idx, dtype=np.int16)
    t = np.arange(start, start + len(idx), dtype=np.float64)
    samples = SampleBatch(t, t, t[:, None] / 10, np.arange(start, start + len(idx)))
    return ResultBatch(detector, "test", samples, idx, idx / 10.0, TEXTS, CODES,
                       lines={"UL": np.full(len(idx), 5.0)})


def chunk(detector: int, start: int, status_idx) -> DetectorChunk:
    """The same results as a window receives them."""
    r = results(detector, start, status_idx)
    return DetectorChunk(detector, r.samples.time_s, r.samples.values[:, 0], r.status_code,
                         r.status_idx, r.score, dict(r.lines), TEXTS)


class FakeClock:
    """A monotonic clock a test sets by hand (``clock.now = 1.5``)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now
