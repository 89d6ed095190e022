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

from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot

from pipeline.engine import Engine
from pipeline.consumers.base import Source
from pipeline.live.frames import MAX_RATE_HZ, FrameCollector
from pipeline.live.live_source import LiveSource
from pipeline.live.pacing import PacedSource
from pipeline.live.ticking import TickingSource
from pipeline.run import RunSetup

log = logging.getLogger(__name__)

#: Source states shown in the status bar (the worker reports these).
READING, PAUSED, FINISHED, STOPPED, ERROR = "reading", "paused", "finished", "stopped", "error"
CONNECTING, DISCONNECTED = "connecting", "disconnected"

BATCH_SIZE = 16384
#: How often a live source's state is checked (seconds).
STATE_POLL_S = 0.25
#: A broker not reached this long after the start is reported "disconnected", not "connecting".
CONNECT_GRACE_S = 3.0
LIVE_MODES = ("kafka", "filekafka")


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
