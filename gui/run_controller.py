"""The run state machine: what Start runs (a config, its source mode, the replay speed), the run on
its worker thread, and the operator's start, pause, resume, stop and speed.

``RunController`` builds a ``RunSetup`` for the loaded config and mode, moves a ``RunWorker`` to a
new QThread (no parent; ``started -> run``, ``finished -> quit``, ``deleteLater``) and starts it.
A request changes the state at once (``PAUSING``, ``STOPPING``, or ``READING`` on resume) and sets
the run's flag; the worker's reports then confirm it. A report that crosses a newer request (the
worker's "paused" arriving after a resume, a stale "reading" after a pause) is dropped, and while
stopping only the outcome counts. ``finished`` comes once the thread has ended, so the outputs are
flushed and closed by then.

No widgets here: the window draws from the signals, and the tests drive a controller alone.
"""
from __future__ import annotations

import time
from pathlib import Path

from PyQt5 import sip
from PyQt5.QtCore import QObject, QThread, pyqtSignal

from gui.worker import RunWorker
from pipeline.config import ConfigError, RunConfig
from pipeline.consumers import SourceError
from pipeline.consumers.base import Source
from pipeline.live.run_state import RunState
from pipeline.live.source_choice import available_modes
from pipeline.live.watched_run import BATCH_SIZE
from pipeline.paths import DEFAULT_LOG_DIR, DEFAULT_MODELS_DIR
from pipeline.run import RunSetup
from pipeline.run_modes import RunMode


class StartError(Exception):
    """The run could not be set up; nothing was started. The message says why."""


class RunController(QObject):
    """Runs the loaded config, one run at a time (see the module doc).

    Parameters
    ----------
    log_dir : Path
        Where runs write relative output files and dead letters.
    models_dir : Path
        Where model-based detectors keep trained models.
    batch_size : int
        Samples per engine batch.
    speed : float or None
        Replay speed of file runs, data seconds per wall second; None = as fast as possible.

    Signals
    -------
    state_changed(RunState)
        Every change of ``state``, requests and reports alike.
    started()
        A run's thread was started.
    frame_ready(Frame)
        The run's frames, in order, on the controller's thread.
    failed(str)
        The run ended on an error (before its outcome).
    finished(RunState)
        The run is over and its thread has ended: ``FINISHED``, ``STOPPED`` or ``ERROR``.
    """

    state_changed = pyqtSignal(object)
    started = pyqtSignal()
    frame_ready = pyqtSignal(object)
    failed = pyqtSignal(str)
    finished = pyqtSignal(object)

    def __init__(self, log_dir: Path = DEFAULT_LOG_DIR, models_dir: Path = DEFAULT_MODELS_DIR,
                 batch_size: int = BATCH_SIZE, speed: float | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.log_dir = Path(log_dir)
        self.models_dir = Path(models_dir)
        self.batch_size = batch_size
        self.speed = speed
        self.config: RunConfig | None = None
        self.mode = RunMode.FILE
        self.state = RunState.NO_CONFIG
        self.outcome: RunState | None = None
        self.error: str | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._thread: QThread | None = None
        self._worker: RunWorker | None = None
        self._pause_requested = False

    # -- what to run ------------------------------------------------------------------------------
    def load(self, config: RunConfig) -> bool:
        """Make ``config`` what Start runs (not during a run). The mode stays when the config
        offers it, else it becomes the config's first."""
        if self.running:
            return False
        self.config = config
        self.outcome = None
        modes = self.available_modes()
        if self.mode not in modes:
            self.mode = modes[0] if modes else RunMode.FILE
        self._set_state(RunState.READY)
        return True

    def available_modes(self) -> list[RunMode]:
        return available_modes(self.config)

    def set_mode(self, mode: RunMode | str) -> bool:
        """Choose what Start reads; False, and nothing changes, during a run or when the config
        does not have that source."""
        try:
            mode = RunMode(mode)
        except ValueError:
            return False
        if self.running or mode not in self.available_modes():
            return False
        self.mode = mode
        return True

    def set_speed(self, speed: float | None) -> None:
        """The replay speed of file runs, now and for later runs."""
        self.speed = speed
        if self._worker is not None:
            self._worker.watched.set_speed(speed)

    # -- the run ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A run's thread is going (from ``start`` until ``finished``)."""
        return self._thread is not None

    @property
    def worker(self) -> RunWorker | None:
        return self._worker

    @property
    def wall_s(self) -> float | None:
        """Wall seconds of the current or last run."""
        if self.started_at is None:
            return None
        return (self.ended_at if self.ended_at is not None else time.monotonic()) - self.started_at

    def start(self, source: Source | None = None) -> bool:
        """Start a run of the config from ``mode``; False when one is going or nothing is loaded.
        ``source`` replaces the run's own (benchmarks). Raises ``StartError`` when the run cannot
        be set up."""
        if self.running or self.config is None:
            return False
        try:
            setup = RunSetup(self.config, self.log_dir, mode=self.mode, models_dir=self.models_dir)
        except (ConfigError, SourceError, OSError, ValueError) as err:
            raise StartError(str(err)) from err
        worker = RunWorker(setup, speed=self.speed, batch_size=self.batch_size, source=source)
        thread = QThread()  # no parent: it must outlive nothing but its own run
        thread.setObjectName(f"run {self.config.name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        worker.finished.connect(worker.deleteLater)
        thread.finished.connect(thread.deleteLater)
        worker.frame_ready.connect(self.frame_ready)
        worker.state_changed.connect(self._on_worker_state)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_worker_finished)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        self._pause_requested = False
        self.outcome = None
        self.error = None
        self._set_state(RunState.STARTING)
        self.started_at, self.ended_at = time.monotonic(), None
        thread.start()
        self.started.emit()
        return True

    def toggle_pause(self) -> None:
        if self.state.is_paused:
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        if self._worker is not None and self.state.can_pause:
            self._pause_requested = True
            self._worker.watched.pause()
            self._set_state(RunState.PAUSING)

    def resume(self) -> None:
        if self._worker is not None and self.state.is_paused:
            self._pause_requested = False
            self._worker.watched.resume()
            self._set_state(RunState.READING)

    def stop(self) -> None:
        """Ask the run to stop; ``finished`` follows once the outputs are flushed. A run that has
        already reported its outcome is not asked (it would stay "stopping..." for good)."""
        if (self._worker is not None and self.state != RunState.STOPPING and not self.state.is_outcome
                and self.outcome is None):
            self._worker.watched.stop()
            self._set_state(RunState.STOPPING)

    # -- the worker's reports ---------------------------------------------------------------------
    def _set_state(self, state: RunState) -> None:
        self.state = state
        self.state_changed.emit(state)

    def _on_worker_state(self, state: RunState) -> None:
        state = RunState(state)
        crossed = self._pause_requested != (state == RunState.PAUSED)
        if state.is_report_of_a_going_run and (self.state == RunState.STOPPING or crossed):
            return
        self._set_state(state)

    def _on_failed(self, message: str) -> None:
        self.error = message
        self.failed.emit(message)

    def _on_worker_finished(self, outcome: RunState) -> None:
        self.outcome = RunState(outcome)

    def _on_thread_finished(self) -> None:
        # QThread.finished is emitted from the ending thread, before it has quite ended. Dropping
        # the last reference to the (Python-owned) QThread now would destroy it, and its
        # destructor waits for the thread while holding the GIL, which the ending thread needs to
        # delete the worker: a deadlock. wait() releases the GIL and returns once it has ended.
        thread = self._thread
        if thread is not None and not sip.isdeleted(thread):
            thread.wait()
        self._thread = self._worker = None
        self.ended_at = time.monotonic()
        self.finished.emit(self.outcome or RunState.ERROR)
