"""One run of a ``RunSetup`` for a viewer, without Qt: the engine fed through a source wrapper the
operator acts on, frames of copied results, and reports of the source's state.

``WatchedRun.run`` opens the run, blocks in ``Engine.run`` and closes the run; it never raises.
Whoever calls it (the window's worker thread, a test's thread) controls it from any other thread
by flags only: ``stop`` sets the engine's stop flag; ``pause``/``resume`` act on the wrapper
between the source and the engine (``control_source``). A file run goes through ``PacedSource``,
which also sets the replay speed; a run reading Kafka (``RunMode.reads_kafka``) goes through
``LiveSource``, which holds the live stream while paused and keeps the consumer in its group.
Pausing keeps the engine flushing outputs, and every result processed before the pause reaches
the viewer before "paused" is reported.

Reports go to three callbacks, all called on the engine thread except ``on_state`` from the
state watcher: ``on_frame(Frame)`` (see ``frames.FrameCollector``), ``on_state(RunState)``
(reading and paused; for Kafka also connecting and disconnected; then the outcome) and
``on_failed(message)`` (before the outcome, when the run ended on an error). A Kafka source's
``state()`` is read by ``SourceStateWatcher`` on a thread of its own, four times a second: not on
the engine thread, which may wait in an output's flush while the broker is away, and not on the
viewer's.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from pipeline.consumers.base import Source
from pipeline.engine import Engine
from pipeline.live.frames import MAX_RATE_HZ, Frame, FrameCollector
from pipeline.live.live_source import LiveSource
from pipeline.live.pacing import PacedSource
from pipeline.live.run_state import RunState
from pipeline.live.ticking import TickingSource
from pipeline.run import RunSetup, describe_error
from pipeline.run_modes import RunMode

log = logging.getLogger(__name__)

#: Samples per engine batch: small enough that a frame follows soon after the data.
BATCH_SIZE = 16384
#: How often a live source's state is read (seconds).
STATE_POLL_S = 0.25
#: A broker not reached this long after the start is reported "disconnected", not "connecting".
CONNECT_GRACE_S = 3.0


def control_source(source: Source, mode: RunMode, speed: float | None = None) -> PacedSource | LiveSource:
    """The wrapper the operator pauses: a file is replayed at ``speed`` (None: as fast as
    possible); a live stream can only be held, so ``speed`` does not apply to it."""
    if RunMode(mode).reads_kafka:
        return LiveSource(source)
    return PacedSource(source, speed)


class SourceStateWatcher:
    """Reads ``state()`` every ``poll_s`` seconds on its own thread and keeps ``connection`` up
    to date: CONNECTING until the source first answers (or for ``grace_s``), then READING or
    DISCONNECTED as it says. ``changed()`` is called after every reading."""

    def __init__(self, state: Callable[[], str], changed: Callable[[], None],
                 poll_s: float = STATE_POLL_S, grace_s: float = CONNECT_GRACE_S,
                 clock: Callable[[], float] = time.monotonic):
        self.connection = RunState.CONNECTING
        self._state = state
        self._changed = changed
        self._poll_s = poll_s
        self._grace_s = grace_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="source-state", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the thread and wait for it (at most one ``state()`` call)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        began = self._clock()
        connected_once = False
        while not self._stop.wait(self._poll_s):
            try:
                state = self._state()
            except Exception:  # noqa: BLE001 - a state query must never end the run
                log.debug("source state query failed", exc_info=True)
                continue
            if state == RunState.DISCONNECTED:
                grace = not connected_once and self._clock() - began < self._grace_s
                self.connection = RunState.CONNECTING if grace else RunState.DISCONNECTED
            else:
                connected_once = True
                self.connection = RunState.READING
            self._changed()


class WatchedRun:
    """Runs one ``RunSetup`` through the engine for a viewer (see the module doc).

    Parameters
    ----------
    setup : RunSetup
        The run; opened and closed by ``run``.
    on_frame, on_state, on_failed : callable
        The reports (see the module doc).
    speed : float or None
        Replay speed of a file run, data seconds per wall second; None = as fast as possible.
    batch_size : int
        Samples per engine batch.
    max_rate_hz : float
        Frames per second at most.
    source : Source, optional
        Replaces the run's own source (benchmarks and tests feed synthetic streams).
    """

    def __init__(self, setup: RunSetup, on_frame: Callable[[Frame], None],
                 on_state: Callable[[RunState], None], on_failed: Callable[[str], None] = lambda _: None,
                 speed: float | None = None, batch_size: int = BATCH_SIZE,
                 max_rate_hz: float = MAX_RATE_HZ, source: Source | None = None):
        self.setup = setup
        self.control = control_source(source if source is not None else setup.source, setup.mode, speed)
        self.paced = self.control if isinstance(self.control, PacedSource) else None
        self.live = self.control if isinstance(self.control, LiveSource) else None
        self.collector = FrameCollector(on_frame, len(setup.runs), max_rate_hz,
                                        progress=self.control.progress,
                                        topics=[run.topic for run in setup.runs])
        self.engine = Engine(TickingSource(self.control, self._after_poll), setup.runs,
                             setup.dead_letter, listeners=[self.collector], batch_size=batch_size)
        self.watcher = SourceStateWatcher(self.control.state, self._publish) if self.live else None
        self.outcome: RunState | None = None
        self.error: str | None = None
        self._on_state = on_state
        self._on_failed = on_failed
        self._announced_pause = False
        self._reported: RunState | None = None
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
        """The replay speed of a file run; a live stream comes as fast as it comes."""
        if self.paced is not None:
            self.paced.set_speed(speed)

    # -- state reports ----------------------------------------------------------------------------
    def _publish(self) -> None:
        """Report the current state if it changed (engine thread or the state watcher)."""
        with self._state_lock:
            if self._ended.is_set():
                return
            if self._announced_pause:
                state = RunState.PAUSED
            else:
                state = self.watcher.connection if self.watcher is not None else RunState.READING
            if state != self._reported:
                self._reported = state
                self._on_state(state)

    def _after_poll(self) -> None:
        """On the engine thread after every poll: pass on results, and report a pause once
        everything read before it has been handed on."""
        self.collector.tick()
        paused = self.control.paused
        if paused and not self._announced_pause and not self.collector.pending:
            self._announced_pause = True
            self._publish()
        elif not paused and self._announced_pause:
            self._announced_pause = False
            self._publish()

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> RunState:
        """Open, run to the end or to ``stop()``, flush, commit and close; returns the outcome
        (also reported to ``on_state``) and never raises."""
        error = None
        try:
            self.setup.open()
            self._publish()
            if self.watcher is not None:
                self.watcher.start()
            self.engine.run()
        except Exception as err:  # noqa: BLE001 - any failure ends the run and is shown, not raised
            error = describe_error(err)
            log.error("the run failed: %s", error)
        with self._state_lock:
            self._ended.set()  # no "reading"/"disconnected" report after this
        if self.watcher is not None:
            self.watcher.stop()
        try:
            self.setup.close()
        except Exception as err:  # noqa: BLE001 - the outputs could not be closed; report it
            log.error("closing the run failed: %s", describe_error(err))
            error = error or f"closing outputs: {describe_error(err)}"
        self.collector.finish()
        if error:
            self.error = error
            self.outcome = RunState.ERROR
            self._on_failed(error)
        else:
            self.outcome = RunState.STOPPED if self.engine.stats.stopped_early else RunState.FINISHED
        self._on_state(self.outcome)
        return self.outcome
