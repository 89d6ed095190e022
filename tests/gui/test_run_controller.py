"""The run state machine without a window: start a file run, frames, pause and resume, stop,
failure, finish, and the requests a run refuses."""
from __future__ import annotations

import json

import pytest

from gui.run_controller import RunController, StartError
from pipeline.config import load_config
from pipeline.live.run_state import RunState
from pipeline.run_modes import RunMode

BORDER = "tests/gui/configs/border_views.json"
ROWS = 31_416  # resources/data/ads-1.csv


class Seen:
    """Everything a controller signalled, in order."""

    def __init__(self, controller: RunController):
        self.frames = []
        self.states: list[RunState] = []
        self.failures: list[str] = []
        self.outcomes: list[RunState] = []
        controller.frame_ready.connect(self.frames.append)
        controller.state_changed.connect(self.states.append)
        controller.failed.connect(self.failures.append)
        controller.finished.connect(self.outcomes.append)

    @property
    def samples(self) -> int:
        return self.frames[-1].samples if self.frames else 0


@pytest.fixture
def make_controller(qtbot, tmp_path):
    """Controllers with ``config`` loaded, logging to ``tmp_path/log``; a run left going is
    stopped and waited for at the end."""
    controllers = []

    def make(config=BORDER, **kwargs) -> tuple[RunController, Seen]:
        controller = RunController(tmp_path / "log", models_dir=tmp_path / "models", **kwargs)
        seen = Seen(controller)
        assert controller.load(load_config(config))
        controllers.append(controller)
        return controller, seen

    yield make
    for controller in controllers:
        if controller.running:
            with qtbot.waitSignal(controller.finished, timeout=30_000):
                controller.stop()


def test_a_file_run_sends_its_frames_and_finishes_once_its_thread_has_ended(qtbot, make_controller):
    controller, seen = make_controller()
    assert controller.state == RunState.READY and controller.mode == RunMode.FILE
    with qtbot.waitSignal(controller.started, timeout=5000):
        assert controller.start()
    assert controller.running and controller.worker is not None
    qtbot.waitUntil(lambda: bool(seen.outcomes), timeout=30_000)
    assert seen.outcomes == [RunState.FINISHED]
    assert not controller.running and controller.worker is None
    assert controller.state == controller.outcome == RunState.FINISHED
    assert seen.states == [RunState.READY, RunState.STARTING, RunState.READING, RunState.FINISHED]
    assert seen.frames[-1].final and seen.samples == ROWS
    assert sum(len(frame.chunks[0]) for frame in seen.frames) == ROWS
    assert controller.wall_s > 0 and seen.failures == []


def test_pause_holds_the_run_and_resume_goes_on(qtbot, make_controller):
    controller, seen = make_controller("default.json", speed=10.0)
    assert controller.start()
    qtbot.waitUntil(lambda: seen.samples > 0, timeout=10_000)
    with qtbot.waitSignal(controller.state_changed, timeout=5000,
                          check_params_cb=lambda state: state == RunState.PAUSED):
        controller.toggle_pause()
        assert controller.state == RunState.PAUSING
    # everything the engine processed before the pause has arrived
    qtbot.waitUntil(lambda: seen.samples == controller.worker.watched.engine.stats.samples, timeout=5000)
    held = seen.samples
    controller.toggle_pause()
    assert controller.state == RunState.READING
    qtbot.waitUntil(lambda: seen.samples > held, timeout=10_000)
    controller.set_speed(None)  # the rest as fast as possible
    qtbot.waitUntil(lambda: bool(seen.outcomes), timeout=30_000)
    assert seen.outcomes == [RunState.FINISHED] and seen.samples == ROWS


def test_stop_ends_a_slow_replay_promptly(qtbot, make_controller, tmp_path):
    controller, seen = make_controller(speed=1.0)
    assert controller.start()
    qtbot.waitUntil(lambda: seen.samples > 20, timeout=10_000)
    with qtbot.waitSignal(controller.finished, timeout=2000) as finished:  # "promptly"
        controller.stop()
        assert controller.state == RunState.STOPPING
        controller.pause()  # nothing to pause while stopping
        assert controller.state == RunState.STOPPING
    assert finished.args == [RunState.STOPPED] and controller.state == RunState.STOPPED
    written = (tmp_path / "log" / "border_views.csv").read_text().splitlines()
    assert len(written) - 1 == seen.samples < ROWS


def test_a_failing_run_signals_the_failure_then_finishes_in_error(qtbot, make_controller,
                                                                  border_check_fails_on_third_batch):
    controller, seen = make_controller(batch_size=1000)
    with qtbot.waitSignal(controller.failed, timeout=10_000) as failed:
        assert controller.start()
    assert failed.args == ["injected detector failure"]
    qtbot.waitUntil(lambda: bool(seen.outcomes), timeout=10_000)
    assert seen.outcomes == [RunState.ERROR] and controller.state == RunState.ERROR
    assert controller.error == "injected detector failure" and seen.samples == 2000


def test_a_run_that_cannot_be_set_up_raises_and_starts_nothing(make_controller, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("timestamp,ftr_vector\n1,0.5\n")
    config = tmp_path / "overwrite.json"
    config.write_text(json.dumps({
        "file_name": str(data), "anomaly_detection_alg": ["BorderCheck()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0, "output": ["FileOutput()"],
                                    "output_conf": [{"file_name": str(data)}]}]}))
    controller, seen = make_controller(config)
    with pytest.raises(StartError, match=r"output_conf\[0\].file_name: .* is also the input file"):
        controller.start()
    assert not controller.running and controller.state == RunState.READY and seen.frames == []


def test_during_a_run_another_start_config_or_mode_is_refused(qtbot, make_controller):
    controller, _ = make_controller(speed=1.0)
    assert not controller.set_mode(RunMode.KAFKA)  # the config has no topics
    assert not controller.set_mode("no such mode")
    assert controller.start()
    assert not controller.start()
    assert not controller.load(load_config("default.json"))
    assert not controller.set_mode(RunMode.FILE)
    assert controller.config.name == "border_views"


def test_a_report_crossing_a_newer_request_is_dropped(qtbot, make_controller):
    controller, _ = make_controller("default.json", speed=10.0)
    assert controller.start()
    qtbot.waitUntil(lambda: controller.state == RunState.READING, timeout=10_000)
    controller.pause()
    controller.resume()
    controller.worker.state_changed.emit(RunState.PAUSED)  # the pause's report, after the resume
    assert controller.state == RunState.READING
    controller.pause()
    controller.worker.state_changed.emit(RunState.READING)  # a stale report after a newer pause
    assert controller.state == RunState.PAUSING
    qtbot.waitUntil(lambda: controller.state == RunState.PAUSED, timeout=5000)
    controller.stop()
    controller.worker.state_changed.emit(RunState.READING)  # while stopping only the outcome counts
    assert controller.state == RunState.STOPPING


def test_runs_one_after_another_each_end_with_their_thread_gone(qtbot, make_controller):
    """The controller waits for a run's thread before letting it go: dropping a QThread that is
    still ending deadlocked the GUI thread (about one run in four, found in review)."""
    controller, seen = make_controller()
    for run in range(1, 16):
        with qtbot.waitSignal(controller.finished, timeout=30_000):
            assert controller.start()
        assert seen.outcomes == [RunState.FINISHED] * run and controller.worker is None


def test_stop_after_the_run_has_ended_changes_nothing(qtbot, make_controller):
    controller, seen = make_controller()
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        assert controller.start()
        # connected after the controller's own slot: runs once the outcome is in, before the
        # thread has ended (an operator's Stop between the two)
        controller.worker.finished.connect(lambda _outcome: controller.stop())
    assert controller.state == RunState.FINISHED and seen.states[-1] == RunState.FINISHED


def test_stop_between_the_finished_report_and_the_outcome_changes_nothing(qtbot, make_controller):
    controller, seen = make_controller()

    def stop_on_finished_report(state):
        if state == RunState.FINISHED:
            controller.stop()  # the worker said "finished"; its outcome signal is on its way

    controller.state_changed.connect(stop_on_finished_report)
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        assert controller.start()
    assert controller.state == RunState.FINISHED and RunState.STOPPING not in seen.states
