"""The run worker: the engine on its own QThread, handing copied results to the window.

``RunWorker`` is a QObject without a parent that the window moves to a QThread (``started ->
run``, ``finished -> quit``, ``deleteLater``). ``run`` opens the run, blocks in ``Engine.run`` and
closes the run; its thread has no event loop while the engine runs, so control is by thread-safe
flags, never by queued slots: ``stop`` sets the engine's stop flag; ``pause``/``resume`` act on
the source wrapper between the source and the engine. A file run (``RunSetup.mode == "file"``)
goes through ``PacedSource``, which also sets the replay speed; a Kafka run (``"kafka"``, or
``"filekafka"``: the file as warm-up, then the topics) goes through ``LiveSource``, which holds the
live stream while paused and keeps the consumer in its group (see ``gui/live_source.py``). Pausing
keeps the engine flushing outputs and lets every result processed before the pause reach the
window.

The source state (reading, paused; for Kafka also connecting and disconnected) is reported by
``state_changed``. A Kafka source's ``state()`` is polled by a small watcher thread of the worker,
four times a second: never on the GUI thread, and not on the engine thread either, which may wait
in an output's flush while the broker is away.

``FrameCollector`` is the engine listener. It copies each result batch on the engine thread and
hands the copies on as one ``Frame`` at most ``max_rate_hz`` times a second, plus a final frame at
the end; nothing is dropped, however fast the engine runs. It is also ticked after every poll, so
results do not wait for the next batch when the stream goes quiet. Each result batch belongs to a
stream: a (detector, topic, message key), numbered in order of first sight (``StreamInfo``); every
copied sample carries its stream's number, and a frame announces the streams first seen since the
previous one, so the window can give each its own plot.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot

from pipeline.consumers.base import Poll, Source
from gui.live_source import LiveSource
from pipeline.engine import Engine
from pipeline.pacing import PacedSource
from pipeline.records import RejectedRecord, ResultBatch, SampleBatch
from pipeline.run import RunSetup

log = logging.getLogger(__name__)

#: Source states shown in the status bar (the worker reports these).
READING, PAUSED, FINISHED, STOPPED, ERROR = "reading", "paused", "finished", "stopped", "error"
CONNECTING, DISCONNECTED = "connecting", "disconnected"

MAX_RATE_HZ = 30.0
BATCH_SIZE = 16384
#: How often a live source's state is checked (seconds).
STATE_POLL_S = 0.25
#: A broker not reached this long after the start is reported "disconnected", not "connecting".
CONNECT_GRACE_S = 3.0
LIVE_MODES = ("kafka", "filekafka")


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


class TickingSource(Source):
    """Passes polls through and calls ``after_poll`` after each one (on the engine thread).
    ``flush_before_revoke`` reaches the wrapped source when it has one (Kafka)."""

    def __init__(self, source: Source, after_poll: Callable[[], None]):
        self.source = source
        self.after_poll = after_poll

    @property
    def finished(self) -> bool:
        return self.source.finished

    def open(self) -> None:
        self.source.open()

    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        got = self.source.poll(max_items, timeout_s)
        self.after_poll()
        return got

    def commit(self) -> None:
        self.source.commit()

    def progress(self) -> tuple[float, float | None]:
        return self.source.progress()

    def state(self) -> str:
        return self.source.state()

    @property
    def flush_before_revoke(self):
        return self.source.flush_before_revoke  # AttributeError: the source has no such hook

    @flush_before_revoke.setter
    def flush_before_revoke(self, hook) -> None:
        self.source.flush_before_revoke = hook

    def close(self) -> None:
        self.source.close()


def describe_error(err: BaseException) -> str:
    text = str(err)
    return text if text else type(err).__name__


class RunWorker(QObject):
    """Runs one ``RunSetup`` through the engine; lives on its own QThread (see the module doc).

    Signals
    -------
    frame_ready(Frame)
        At most ``max_rate_hz`` per second, then one final frame.
    state_changed(str)
        ``reading`` and ``paused`` (Kafka runs also ``connecting`` and ``disconnected``) while the
        run goes, then ``finished``, ``stopped`` or ``error``.
    failed(str)
        The run ended on an error (emitted before ``finished``).
    finished(str)
        The outcome, last of all; outputs are flushed and closed (offsets committed) by then.
    """

    frame_ready = pyqtSignal(object)
    state_changed = pyqtSignal(str)
    failed = pyqtSignal(str)
    finished = pyqtSignal(str)

    def __init__(self, setup: RunSetup, speed: float | None = None, batch_size: int = BATCH_SIZE,
                 max_rate_hz: float = MAX_RATE_HZ, source: Source | None = None):
        """``source`` replaces the run's file source (benchmarks feed synthetic streams); ``speed``
        applies to file runs only (a live stream comes as fast as it comes)."""
        super().__init__()  # no parent: it is moved to its own thread
        self.setup = setup
        self.live_run = setup.mode in LIVE_MODES
        inner = source if source is not None else setup.source
        self.paced: PacedSource | None = None
        self.live: LiveSource | None = None
        if self.live_run:
            self.live = self.control = LiveSource(inner)
        else:
            self.paced = self.control = PacedSource(inner, speed)
        self.collector = FrameCollector(self.frame_ready.emit, len(setup.runs), max_rate_hz,
                                        progress=self.control.progress,
                                        topics=[run.topic for run in setup.runs])
        self.engine = Engine(TickingSource(self.control, self._after_poll), setup.runs,
                             setup.dead_letter, listeners=[self.collector], batch_size=batch_size)
        self.outcome: str | None = None
        self.error: str | None = None
        self._announced_pause = False
        # What the status bar should say: PAUSED once announced, else the connection's state.
        self._connection = CONNECTING if self.live_run else READING
        self._reported: str | None = None
        self._state_lock = threading.Lock()
        self._ended = threading.Event()

    # -- control: any thread; these only set flags ------------------------------------------------
    def stop(self) -> None:
        self.engine.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def set_speed(self, speed: float | None) -> None:
        if self.paced is not None:
            self.paced.set_speed(speed)

    # -- state reports ----------------------------------------------------------------------------
    def _publish(self) -> None:
        """Report the current state if it changed (engine thread or the state watcher)."""
        with self._state_lock:
            if self._ended.is_set():
                return
            state = PAUSED if self._announced_pause else self._connection
            if state != self._reported:
                self._reported = state
                self.state_changed.emit(state)

    def _watch_source_state(self) -> None:
        """The state watcher's loop (live runs): "connecting" until the broker first answers (or
        for ``CONNECT_GRACE_S``), then "reading" or "disconnected" as ``Source.state()`` says."""
        began = time.monotonic()
        connected_once = False
        while not self._ended.wait(STATE_POLL_S):
            try:
                state = self.live.state()
            except Exception:  # noqa: BLE001 - a state query must never end the run
                log.debug("source state query failed", exc_info=True)
                continue
            if state == DISCONNECTED:
                grace = not connected_once and time.monotonic() - began < CONNECT_GRACE_S
                self._connection = CONNECTING if grace else DISCONNECTED
            else:
                connected_once = True
                self._connection = READING
            self._publish()

    # -- the worker thread ----------------------------------------------------------------------
    def _after_poll(self) -> None:
        self.collector.tick()
        paused = self.control.paused
        if paused and not self._announced_pause and not self.collector.pending:
            self._announced_pause = True
            self._publish()
        elif not paused and self._announced_pause:
            self._announced_pause = False
            self._publish()

    @pyqtSlot()
    def run(self) -> None:
        """Open, run to the end or to ``stop()``, flush, commit and close; never raises."""
        error = None
        watcher = None
        try:
            self.setup.open()
            self._publish()
            if self.live_run:
                watcher = threading.Thread(target=self._watch_source_state, name="source-state",
                                           daemon=True)
                watcher.start()
            self.engine.run()
        except Exception as err:  # noqa: BLE001 - any failure ends the run and is shown, not raised
            error = describe_error(err)   # one line; the traceback of a bug only at debug level
            log.error("the run failed: %s", error)
        with self._state_lock:
            self._ended.set()  # no "reading"/"disconnected" report after this
        if watcher is not None:
            watcher.join()
        try:
            self.setup.close()
        except Exception as err:  # noqa: BLE001 - the outputs could not be closed; report it
            log.error("closing the run failed: %s", describe_error(err))
            error = error or f"closing outputs: {describe_error(err)}"
        self.collector.finish()
        if error:
            self.error = error
            self.outcome = ERROR
            self.failed.emit(error)
        else:
            self.outcome = STOPPED if self.engine.stats.stopped_early else FINISHED
        self.state_changed.emit(self.outcome)
        self.finished.emit(self.outcome)
