"""The state of a run a viewer controls: what the window's status bar calls "Source: ...".

A run goes ``READY -> STARTING -> CONNECTING/READING`` and ends ``FINISHED``, ``STOPPED`` or
``ERROR``. The worker reports what the source does (``reports``: connecting, reading, paused,
disconnected, then the outcome); the controller adds what the operator asked for and the worker
has not reported yet (starting, pausing, stopping). ``NO_CONFIG`` is a window with nothing to run.
"""
from __future__ import annotations

from enum import Enum


class RunState(str, Enum):
    """One state of a watched run; the value is the text the status bar shows."""

    NO_CONFIG = "no config"
    READY = "ready"
    STARTING = "starting"
    CONNECTING = "connecting"
    READING = "reading"
    DISCONNECTED = "disconnected"
    PAUSING = "pausing…"
    PAUSED = "paused"
    STOPPING = "stopping…"
    FINISHED = "finished"
    STOPPED = "stopped"
    ERROR = "error"

    @property
    def is_outcome(self) -> bool:
        """How a run ended: finished, stopped or error."""
        return self in (RunState.FINISHED, RunState.STOPPED, RunState.ERROR)

    @property
    def is_report_of_a_going_run(self) -> bool:
        """A worker's report of a run still going; a newer request of the operator wins over it."""
        return self in (RunState.READING, RunState.PAUSED, RunState.CONNECTING, RunState.DISCONNECTED)

    @property
    def is_paused(self) -> bool:
        """Paused, or asked to pause (the button then offers Resume)."""
        return self in (RunState.PAUSED, RunState.PAUSING)

    @property
    def can_pause(self) -> bool:
        return self in (RunState.READING, RunState.STARTING, RunState.CONNECTING, RunState.DISCONNECTED)

    def __str__(self) -> str:
        return self.value
