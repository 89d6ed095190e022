"""What a viewer counts of a run from its frames: per-detector tallies over all streams (plotted
or not), the samples and rejected records so far, the source's progress and the frames received.

The window's status bar draws from a ``RunTotals``; tests check it without a display.
"""
from __future__ import annotations

from pipeline.live.frames import Frame, StreamInfo
from pipeline.records import StatusTally


class Tally(StatusTally):
    """Samples and statuses of one detector over all its streams, and how many streams it has."""

    def __init__(self):
        super().__init__()
        self.streams = 0


class RunTotals:
    """The totals of one run of ``detectors`` detectors, fed frame by frame.

    Examples
    --------
    >>> from pipeline.live.frames import Frame
    >>> totals = RunTotals(detectors=2)
    >>> totals.add(Frame((), samples=10, rejected=1, progress=(5.0, 20.0)))
    >>> totals.samples, totals.rejected, totals.progress, totals.frames
    (10, 1, (5.0, 20.0), 1)
    """

    def __init__(self, detectors: int = 0):
        self.reset(detectors)

    def reset(self, detectors: int) -> None:
        """A new run: nothing counted yet."""
        self.tallies = [Tally() for _ in range(detectors)]
        self.samples = 0
        self.rejected = 0
        self.progress: tuple[float, float | None] = (0.0, None)
        self.frames = 0

    def add_stream(self, info: StreamInfo) -> None:
        self.tallies[info.detector_index].streams += 1

    def add(self, frame: Frame) -> None:
        """Count a frame's chunks and take its run totals (the streams it announces first)."""
        for info in frame.new_streams:
            self.add_stream(info)
        for chunk in frame.chunks:
            if len(chunk):
                self.tallies[chunk.detector_index].add_codes(chunk.status_code)
        self.samples, self.rejected, self.progress = frame.samples, frame.rejected, frame.progress
        self.frames += 1
