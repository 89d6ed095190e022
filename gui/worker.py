"""The run worker: the engine on its own QThread, handing copied results to the window.

``RunWorker`` is a QObject without a parent that the window moves to a QThread (``started ->
run``, ``finished -> quit``, ``deleteLater``). ``run`` opens the run, blocks in ``Engine.run`` and
closes the run; its thread has no event loop while the engine runs, so control is by thread-safe
flags, never by queued slots: ``stop`` sets the engine's stop flag; ``pause``/``resume`` and
``set_speed`` act on the ``PacedSource`` that sits between the file and the engine (pausing there
stops the replay clock, keeps the engine flushing outputs, and lets every result processed before
the pause reach the window).

``FrameCollector`` is the engine listener. It copies each result batch on the engine thread and
hands the copies on as one ``Frame`` at most ``max_rate_hz`` times a second, plus a final frame at
the end; nothing is dropped, however fast the engine runs. It is also ticked after every poll, so
results do not wait for the next batch when the stream goes quiet.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot

from pipeline.consumers.base import Poll, Source
from pipeline.engine import Engine
from pipeline.pacing import PacedSource
from pipeline.records import RejectedRecord, ResultBatch, SampleBatch
from pipeline.run import RunSetup

log = logging.getLogger(__name__)

#: Source states shown in the status bar (the worker reports the first five).
READING, PAUSED, FINISHED, STOPPED, ERROR = "reading", "paused", "finished", "stopped", "error"

MAX_RATE_HZ = 30.0
BATCH_SIZE = 16384


@dataclass(frozen=True)
class DetectorChunk:
    """One detector's results since the previous frame (copies, owned by the receiver).

    ``value`` is the first feature, the one every detector judges.
    """

    detector_index: int
    time_s: np.ndarray
    value: np.ndarray
    status_code: np.ndarray
    status_idx: np.ndarray
    score: np.ndarray
    lines: Mapping[str, np.ndarray]
    status_texts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.time_s)


@dataclass(frozen=True)
class Frame:
    """What the window receives: every detector's new results and the run's totals so far."""

    chunks: tuple[DetectorChunk, ...]
    samples: int
    rejected: int
    progress: tuple[float, float | None] = (0.0, None)
    final: bool = False


def copy_results(results: ResultBatch) -> DetectorChunk:
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
    )


def concat_chunks(detector_index: int, chunks: Sequence[DetectorChunk],
                  line_names: Sequence[str] = ()) -> DetectorChunk:
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        empty = np.empty(0)
        return DetectorChunk(detector_index, empty, empty, np.empty(0, np.int8), np.empty(0, np.int16),
                             empty, {name: empty for name in line_names}, ())
    return DetectorChunk(
        detector_index=detector_index,
        time_s=np.concatenate([c.time_s for c in chunks]),
        value=np.concatenate([c.value for c in chunks]),
        status_code=np.concatenate([c.status_code for c in chunks]),
        status_idx=np.concatenate([c.status_idx for c in chunks]),
        score=np.concatenate([c.score for c in chunks]),
        lines={name: np.concatenate([c.lines[name] for c in chunks]) for name in chunks[0].lines},
        status_texts=chunks[0].status_texts,
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
    """

    def __init__(self, emit: Callable[[Frame], None], detectors: int, max_rate_hz: float = MAX_RATE_HZ,
                 progress: Callable[[], tuple[float, float | None]] = lambda: (0.0, None),
                 clock: Callable[[], float] = time.monotonic):
        self.emit = emit
        self.detectors = detectors
        self.max_rate_hz = max_rate_hz
        self.progress = progress
        self.clock = clock
        self.samples = 0
        self.rejected = 0
        self.frames = 0
        self._pending: list[list[DetectorChunk]] = [[] for _ in range(detectors)]
        self._next_emit = float("-inf")
        self._dirty = False

    def on_results(self, samples: SampleBatch, results: Sequence[ResultBatch]) -> None:
        for r in results:
            self._pending[r.detector_index].append(copy_results(r))
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
        self._pending = [[] for _ in range(self.detectors)]
        self._dirty = False
        self.frames += 1
        self.emit(Frame(chunks, self.samples, self.rejected, self.progress(), final))


class TickingSource(Source):
    """Passes polls through and calls ``after_poll`` after each one (on the engine thread)."""

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
        ``reading``, ``paused``, then ``finished``, ``stopped`` or ``error``.
    failed(str)
        The run ended on an error (emitted before ``finished``).
    finished(str)
        The outcome, last of all; outputs are flushed and closed by then.
    """

    frame_ready = pyqtSignal(object)
    state_changed = pyqtSignal(str)
    failed = pyqtSignal(str)
    finished = pyqtSignal(str)

    def __init__(self, setup: RunSetup, speed: float | None = None, batch_size: int = BATCH_SIZE,
                 max_rate_hz: float = MAX_RATE_HZ, source: Source | None = None):
        """``source`` replaces the run's file source (benchmarks feed synthetic streams)."""
        super().__init__()  # no parent: it is moved to its own thread
        self.setup = setup
        self.paced = PacedSource(source if source is not None else setup.source, speed)
        self.collector = FrameCollector(self.frame_ready.emit, len(setup.runs), max_rate_hz,
                                        progress=self.paced.progress)
        self.engine = Engine(TickingSource(self.paced, self._after_poll), setup.runs,
                             setup.dead_letter, listeners=[self.collector], batch_size=batch_size)
        self.outcome: str | None = None
        self.error: str | None = None
        self._announced_pause = False

    # -- control: any thread; these only set flags ------------------------------------------------
    def stop(self) -> None:
        self.engine.stop()

    def pause(self) -> None:
        self.paced.pause()

    def resume(self) -> None:
        self.paced.resume()

    def set_speed(self, speed: float | None) -> None:
        self.paced.set_speed(speed)

    # -- the worker thread ----------------------------------------------------------------------
    def _after_poll(self) -> None:
        self.collector.tick()
        if self.paced.paused and not self._announced_pause and not self.collector.pending:
            self._announced_pause = True
            self.state_changed.emit(PAUSED)
        elif not self.paced.paused and self._announced_pause:
            self._announced_pause = False
            self.state_changed.emit(READING)

    @pyqtSlot()
    def run(self) -> None:
        """Open, run to the end or to ``stop()``, flush and close; never raises."""
        error = None
        try:
            self.setup.open()
            self.state_changed.emit(READING)
            self.engine.run()
        except Exception as err:  # noqa: BLE001 - any failure ends the run and is shown, not raised
            log.exception("the run failed")
            error = describe_error(err)
        try:
            self.setup.close()
        except Exception as err:  # noqa: BLE001 - the outputs could not be closed; report it
            log.exception("closing the run failed")
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
