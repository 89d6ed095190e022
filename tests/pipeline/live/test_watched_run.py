"""A run watched by a viewer, without Qt: frames, states, pause and resume, stop, failure, and the
source-state watcher of Kafka runs."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from pipeline.config import load_config
from pipeline.live.live_source import LiveSource
from pipeline.live.pacing import PacedSource
from pipeline.live.run_state import RunState
from pipeline.live.watched_run import SourceStateWatcher, WatchedRun, control_source
from pipeline.run import RunSetup
from pipeline.run_modes import RunMode
from tests.conftest import write_config

ROWS = 2000
WAIT_S = 10.0


@pytest.fixture
def small_config(tmp_path):
    """A BorderCheck over 2,000 samples a second apart, every 50th one far out (an error)."""
    t = np.arange(ROWS, dtype=float)
    v = np.where(np.arange(ROWS) % 50 == 7, 9.0, np.sin(t / 20))
    data = tmp_path / "small.csv"
    data.write_text("timestamp,ftr_vector\n" + "".join(f"{a},{b}\n" for a, b in zip(t, v)))
    return load_config(write_config(tmp_path / "small.json", {
        "file_name": str(data), "anomaly_detection_alg": ["BorderCheck()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 2, "LL": -2, "output": ["FileOutput()"],
                                    "output_conf": [{"file_name": "small.csv", "mode": "w", "send_ok": True}]}]}))


class Watch:
    """A ``WatchedRun`` on a thread of its own, with everything it reported."""

    def __init__(self, config, log_dir, **kwargs):
        self.frames = []
        self.states: list[RunState] = []
        self.failures: list[str] = []
        self.events: list[str] = []  # failures and states in order
        self.changed = threading.Condition()
        self.run = WatchedRun(RunSetup(config, log_dir), self._frame, self._state, self._failed, **kwargs)
        self.thread = threading.Thread(target=self.run.run, daemon=True)
        self.thread.start()

    def _frame(self, frame) -> None:
        with self.changed:
            self.frames.append(frame)
            self.changed.notify_all()

    def _state(self, state) -> None:
        with self.changed:
            self.states.append(state)
            self.events.append(state.value)
            self.changed.notify_all()

    def _failed(self, message) -> None:
        self.failures.append(message)
        self.events.append(f"failed: {message}")

    @property
    def samples(self) -> int:
        return self.frames[-1].samples if self.frames else 0

    def wait_for(self, condition) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, timeout=WAIT_S), "timed out"

    def join(self, timeout: float = WAIT_S) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the run did not end"


def test_a_file_run_to_its_end_reports_reading_then_finished_and_every_result_in_frames(
        small_config, tmp_path):
    watch = Watch(small_config, tmp_path / "log", batch_size=300)
    watch.join()
    assert watch.states == [RunState.READING, RunState.FINISHED]
    assert watch.run.outcome == RunState.FINISHED and watch.run.error is None
    assert watch.frames[-1].final and not any(f.final for f in watch.frames[:-1])
    assert watch.samples == sum(len(f.chunks[0]) for f in watch.frames) == ROWS
    errors = sum(int((f.chunks[0].status_code == -1).sum()) for f in watch.frames)
    assert errors == ROWS // 50
    assert [s.label for f in watch.frames for s in f.new_streams] == [""]  # a file run: one stream
    assert isinstance(watch.run.paced, PacedSource) and watch.run.live is None


def test_pause_is_reported_once_every_result_before_it_was_handed_on_and_resume_goes_on(
        small_config, tmp_path):
    watch = Watch(small_config, tmp_path / "log", speed=100.0, batch_size=50)
    watch.wait_for(lambda: watch.samples > 0)
    watch.run.pause()
    watch.wait_for(lambda: RunState.PAUSED in watch.states)
    assert watch.samples == watch.run.engine.stats.samples  # nothing processed is held back
    held = watch.samples
    assert held < ROWS
    watch.run.resume()
    watch.wait_for(lambda: watch.samples > held)
    assert watch.states[-1] == RunState.READING
    watch.run.set_speed(None)  # as fast as possible from here
    watch.join()
    assert watch.states[-1] == RunState.FINISHED and watch.samples == ROWS


def test_stop_ends_a_slow_replay_promptly_and_the_outputs_hold_what_was_processed(small_config, tmp_path):
    watch = Watch(small_config, tmp_path / "log", speed=1.0)
    watch.wait_for(lambda: watch.samples > 0)
    watch.run.stop()
    watch.join(timeout=2.0)  # "promptly": a poll never blocks longer than 100 ms
    assert watch.states[-1] == RunState.STOPPED
    written = (tmp_path / "log" / "small.csv").read_text().splitlines()
    assert len(written) - 1 == watch.samples == watch.run.engine.stats.samples < ROWS


def test_a_failing_detector_ends_the_run_with_the_failure_reported_before_the_outcome(
        small_config, tmp_path, border_check_fails_on_third_batch):
    watch = Watch(small_config, tmp_path / "log", batch_size=100)
    watch.join()
    assert watch.events[-2:] == ["failed: injected detector failure", "error"]
    assert watch.run.outcome == RunState.ERROR and watch.run.error == "injected detector failure"
    assert watch.samples == 200  # the batches before the failure reached the viewer


def test_a_file_is_paced_and_a_run_reading_kafka_is_held_while_paused():
    assert isinstance(control_source(object(), RunMode.FILE, 10.0), PacedSource)
    assert isinstance(control_source(object(), RunMode.KAFKA, 10.0), LiveSource)
    assert isinstance(control_source(object(), RunMode.FILE_THEN_KAFKA), LiveSource)


class Broker:
    """``state()`` answers from a script of (seconds since the start, state) readings; an entry
    "fail" raises. Each reading moves a fake clock to its time."""

    def __init__(self, script):
        self.script = list(script)
        self.now = 0.0
        self.done = threading.Event()

    def clock(self) -> float:
        return self.now

    def state(self) -> str:
        if not self.script:
            self.done.set()
            return "reading"
        self.now, state = self.script.pop(0)
        if state == "fail":
            raise ConnectionError("state query failed")
        return state


def test_the_state_watcher_says_connecting_during_the_grace_then_disconnected_and_reading():
    broker = Broker([(1.0, "disconnected"), (2.0, "fail"), (4.0, "disconnected"), (5.0, "reading"),
                     (6.0, "disconnected"), (7.0, "reading")])
    seen = []
    watcher = SourceStateWatcher(broker.state, lambda: seen.append(watcher.connection), poll_s=0.001,
                                 grace_s=3.0, clock=broker.clock)
    assert watcher.connection == RunState.CONNECTING
    watcher.start()
    assert broker.done.wait(WAIT_S)
    watcher.stop()
    # a failed query reports nothing; once connected, a lost broker is "disconnected" at once
    assert seen[:5] == [RunState.CONNECTING, RunState.DISCONNECTED, RunState.READING,
                        RunState.DISCONNECTED, RunState.READING]


def test_run_states_say_what_a_run_may_do():
    assert [s for s in RunState if s.is_outcome] == [RunState.FINISHED, RunState.STOPPED, RunState.ERROR]
    assert RunState.PAUSING.is_paused and not RunState.PAUSING.can_pause
    assert RunState.DISCONNECTED.can_pause and RunState.DISCONNECTED.is_report_of_a_going_run
    assert not RunState.STOPPING.is_report_of_a_going_run
    assert f"{RunState.STOPPING}" == "stopping…" and RunState("paused") is RunState.PAUSED
