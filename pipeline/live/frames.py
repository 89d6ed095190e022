"""Frames: a run's results, copied on the engine thread and handed to a viewer at a bounded rate.

``FrameCollector`` is an engine listener. It copies each result batch on the engine thread and
hands the copies on as one ``Frame`` at most ``max_rate_hz`` times a second, plus a final frame at
the end; nothing is dropped, however fast the engine runs. It is also ticked after every poll, so
results do not wait for the next batch when the stream goes quiet. Each result batch belongs to a
stream: a (detector, topic, message key), numbered in order of first sight (``StreamInfo``); every
copied sample carries its stream's number, and a frame announces the streams first seen since the
previous one, so a viewer can give each its own plot. No Qt here: the window and tests use it alike.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from pipeline.records import RejectedRecord, ResultBatch, SampleBatch

#: Frames per second at most while results keep coming.
MAX_RATE_HZ = 30.0


@dataclass(frozen=True)
class StreamInfo:
    """A stream of a run: one detector's samples of one topic and message key.

    File runs have one stream per detector (topic and key empty). The detector's state is kept per
    stream, so each stream gets its own plot. ``id`` numbers the streams of a run in order of first
    sight.
    """

    id: int
    detector_index: int
    topic: str = ""
    key: str = ""

    @property
    def label(self) -> str:
        """``"sensors · a"`` (topic and key), ``"sensors"`` (no key), or "" (a file run)."""
        return " · ".join(part for part in (self.topic, self.key) if part)


@dataclass(frozen=True)
class DetectorChunk:
    """One detector's results since the previous frame (copies, owned by the receiver).

    ``value`` is the first feature, the one every detector judges. ``stream`` holds each sample's
    ``StreamInfo.id`` (None: the chunk was made without streams, as in some tests).
    """

    detector_index: int
    time_s: np.ndarray
    value: np.ndarray
    status_code: np.ndarray
    status_idx: np.ndarray
    score: np.ndarray
    lines: Mapping[str, np.ndarray]
    status_texts: tuple[str, ...]
    stream: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_s)

    def take(self, selector) -> "DetectorChunk":
        """The samples picked by a boolean mask or an index array, in order."""
        return DetectorChunk(
            self.detector_index, self.time_s[selector], self.value[selector],
            self.status_code[selector], self.status_idx[selector], self.score[selector],
            {name: line[selector] for name, line in self.lines.items()}, self.status_texts,
            None if self.stream is None else self.stream[selector])

    def by_stream(self) -> list[tuple[int | None, "DetectorChunk"]]:
        """``(stream id, its samples)`` in order of first appearance; the whole chunk when it holds
        a single stream (the usual case) or has no stream ids."""
        ids = self.stream
        if ids is None or len(ids) == 0:
            return [(None, self)]
        first = int(ids[0])
        if (ids == first).all():
            return [(first, self)]
        order = np.argsort(ids, kind="stable")  # each stream's samples keep their order
        groups = np.split(order, np.flatnonzero(np.diff(ids[order])) + 1)
        groups.sort(key=lambda group: group[0])
        return [(int(ids[group[0]]), self.take(group)) for group in groups]


@dataclass(frozen=True)
class Frame:
    """What the window receives: every detector's new results (``chunks[i]`` is detector ``i``'s),
    the run's totals so far, and the streams first seen since the previous frame."""

    chunks: tuple[DetectorChunk, ...]
    samples: int
    rejected: int
    progress: tuple[float, float | None] = (0.0, None)
    final: bool = False
    new_streams: tuple[StreamInfo, ...] = ()


def copy_results(results: ResultBatch, stream_id: int | None = None) -> DetectorChunk:
    s = results.samples
    return DetectorChunk(
        detector_index=results.detector_index,
        time_s=np.array(s.time_s, dtype=np.float64),
        value=np.array(s.values[:, 0], dtype=np.float64),
        status_code=np.asarray(results.status_code, dtype=np.int8).copy(),
        status_idx=np.array(results.status_idx, dtype=np.int16),
        score=np.array(results.score, dtype=np.float64),
        lines={name: np.array(line, dtype=np.float64) for name, line in results.lines.items()},
        status_texts=tuple(results.status_texts),
        stream=None if stream_id is None else np.full(len(s), stream_id, dtype=np.int32),
    )


def concat_chunks(detector_index: int, chunks: Sequence[DetectorChunk],
                  line_names: Sequence[str] = ()) -> DetectorChunk:
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        empty = np.empty(0)
        return DetectorChunk(detector_index, empty, empty, np.empty(0, np.int8), np.empty(0, np.int16),
                             empty, {name: empty for name in line_names}, (), np.empty(0, np.int32))
    return DetectorChunk(
        detector_index=detector_index,
        time_s=np.concatenate([c.time_s for c in chunks]),
        value=np.concatenate([c.value for c in chunks]),
        status_code=np.concatenate([c.status_code for c in chunks]),
        status_idx=np.concatenate([c.status_idx for c in chunks]),
        score=np.concatenate([c.score for c in chunks]),
        lines={name: np.concatenate([c.lines[name] for c in chunks]) for name in chunks[0].lines},
        status_texts=chunks[0].status_texts,
        stream=(None if any(c.stream is None for c in chunks)
                else np.concatenate([c.stream for c in chunks])),
    )


class FrameCollector:
    """Engine listener that batches copied results into frames at a bounded rate.

    Parameters
    ----------
    emit : callable
        Receives each ``Frame`` (on the engine's thread).
    detectors : int
        Number of detectors in the run (frames carry one chunk per detector).
    max_rate_hz : float
        Frames per second while results keep coming; the average rate never exceeds it.
    progress : callable
        ``() -> (done, total)`` of the source, included in every frame.
    clock : callable
        Monotonic seconds (tests inject one).
    topics : sequence of str or None
        The topic each detector is bound to (Kafka runs), so that a file's samples (stream "")
        fed to a detector's topic state are the same stream as that topic's keyless messages.
    """

    def __init__(self, emit: Callable[[Frame], None], detectors: int, max_rate_hz: float = MAX_RATE_HZ,
                 progress: Callable[[], tuple[float, float | None]] = lambda: (0.0, None),
                 clock: Callable[[], float] = time.monotonic, topics: Sequence[str | None] = ()):
        self.emit = emit
        self.detectors = detectors
        self.max_rate_hz = max_rate_hz
        self.progress = progress
        self.clock = clock
        self.topics = list(topics) + [None] * (detectors - len(topics))
        self.samples = 0
        self.rejected = 0
        self.frames = 0
        self.streams: dict[tuple[int, str, str], StreamInfo] = {}
        self._new_streams: list[StreamInfo] = []
        self._pending: list[list[DetectorChunk]] = [[] for _ in range(detectors)]
        self._next_emit = float("-inf")
        self._dirty = False

    def stream_of(self, detector_index: int, samples: SampleBatch) -> StreamInfo:
        """The stream of a detector's batch (as ``DetectorRun.state_for`` keys its state)."""
        key = (detector_index, samples.stream or self.topics[detector_index] or "", samples.key)
        info = self.streams.get(key)
        if info is None:
            info = self.streams[key] = StreamInfo(len(self.streams), *key)
            self._new_streams.append(info)
        return info

    def on_results(self, samples: SampleBatch, results: Sequence[ResultBatch]) -> None:
        for r in results:
            stream = self.stream_of(r.detector_index, r.samples)
            self._pending[r.detector_index].append(copy_results(r, stream.id))
        self.samples += len(samples)
        self._dirty = True
        self.tick()

    def on_rejected(self, rejected: Sequence[RejectedRecord]) -> None:
        self.rejected += len(rejected)
        self._dirty = True

    @property
    def pending(self) -> bool:
        return self._dirty

    def tick(self) -> None:
        """Emit what is pending if the rate allows it now."""
        if not self._dirty:
            return
        now = self.clock()
        if now < self._next_emit:
            return
        # Keep to a schedule while frames are less than an interval late, so a steady stream gets
        # the full rate on average; after a quiet spell, start a new schedule from now.
        interval = 1.0 / self.max_rate_hz
        late = now - self._next_emit
        self._next_emit = self._next_emit + interval if late < interval else now + interval
        self._emit(final=False)

    def finish(self) -> None:
        """The final frame: everything still pending, marked final (sent even when empty)."""
        self._emit(final=True)

    def _emit(self, final: bool) -> None:
        chunks = tuple(concat_chunks(i, pending) for i, pending in enumerate(self._pending))
        new_streams, self._new_streams = tuple(self._new_streams), []
        self._pending = [[] for _ in range(self.detectors)]
        self._dirty = False
        self.frames += 1
        self.emit(Frame(chunks, self.samples, self.rejected, self.progress(), final, new_streams))
