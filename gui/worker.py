"""The thread side of a run: ``pipeline.live.watched_run.WatchedRun`` behind Qt signals.

``RunWorker`` is a QObject without a parent that ``RunController`` moves to a QThread
(``started -> run``, ``finished -> quit``, ``deleteLater``). ``run`` blocks in the engine, so the
thread has no event loop meanwhile: control is by the run's thread-safe flags (``watched.stop``,
``pause``, ``resume``, ``set_speed``), never by queued slots. The run's reports become signals,
which Qt queues to the receivers' thread.
"""
from __future__ import annotations

from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot

from pipeline.consumers.base import Source
from pipeline.live.frames import MAX_RATE_HZ
from pipeline.live.watched_run import BATCH_SIZE, WatchedRun
from pipeline.run import RunSetup


class RunWorker(QObject):
    """Runs one ``RunSetup`` on the thread it was moved to.

    Signals
    -------
    frame_ready(Frame)
        At most ``max_rate_hz`` per second, then one final frame.
    state_changed(RunState)
        ``READING`` and ``PAUSED`` (Kafka runs also ``CONNECTING`` and ``DISCONNECTED``) while the
        run goes, then ``FINISHED``, ``STOPPED`` or ``ERROR``.
    failed(str)
        The run ended on an error (emitted before the outcome).
    finished(RunState)
        The outcome, last of all; outputs are flushed and closed (offsets committed) by then.
    """

    frame_ready = pyqtSignal(object)
    state_changed = pyqtSignal(object)
    failed = pyqtSignal(str)
    finished = pyqtSignal(object)

    def __init__(self, setup: RunSetup, speed: float | None = None, batch_size: int = BATCH_SIZE,
                 max_rate_hz: float = MAX_RATE_HZ, source: Source | None = None):
        super().__init__()  # no parent: it is moved to its own thread
        self.watched = WatchedRun(setup, self.frame_ready.emit, self.state_changed.emit,
                                  self.failed.emit, speed=speed, batch_size=batch_size,
                                  max_rate_hz=max_rate_hz, source=source)

    @pyqtSlot()
    def run(self) -> None:
        """Open, run to the end or to ``stop()``, flush, commit and close; never raises."""
        self.finished.emit(self.watched.run())
