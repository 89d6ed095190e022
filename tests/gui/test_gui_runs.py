"""File runs in the window: same anomalies as headless, pause/resume, stop, close, errors."""
from __future__ import annotations

import csv

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QMessageBox

from pipeline.live.run_state import RunState
from pipeline.records import Status

BORDER = "tests/gui/configs/border_views.json"


@pytest.mark.parametrize("config", ["default.json", BORDER])
def test_window_shows_the_same_anomalies_and_counts_as_a_headless_run(
        config, make_window, run_to_end, headless, table_rows):
    reference = headless(config)
    window = make_window()
    assert window.load_config(config)
    assert run_to_end(window) == RunState.FINISHED
    assert window.state == RunState.FINISHED
    assert window.samples == reference.samples
    assert table_rows(window) == reference.anomalies
    for panel in window.panels:
        assert panel.samples == reference.samples
        assert panel.counts == reference.counts[panel.index]
    assert len(reference.anomalies) > 0, "the comparison needs anomalies to mean something"


def test_table_caps_its_rows_but_counters_count_every_anomaly(make_window, run_to_end, headless):
    reference = headless(BORDER)
    window = make_window(max_table_rows=100)
    assert window.load_config(BORDER)
    assert run_to_end(window) == RunState.FINISHED
    window._refresh_status()
    assert window.model.rowCount() == 100
    assert window.model.total == len(reference.anomalies)
    assert f"showing the last 100 of {len(reference.anomalies):,}" in window.anomalies.title.text()
    panel = window.panels[0]
    assert panel.anomalies == len(reference.anomalies)
    assert f"{panel.counts[Status.ERROR]:,} err" in window.status.counter_label.text()
    newest = max(t for _, t, _, _ in reference.anomalies)
    assert window.model.row_time(99) == newest


def test_pause_holds_the_replay_and_resume_continues(qtbot, make_window):
    window = make_window(speed="10")
    assert window.load_config("default.json")
    assert window.start()
    qtbot.waitUntil(lambda: window.samples > 0, timeout=10_000)
    with qtbot.waitSignal(window.runs.state_changed, timeout=5000,
                          check_params_cb=lambda state: state == RunState.PAUSED):
        window.commands.pause.trigger()
    assert window.state == RunState.PAUSED
    assert window.commands.pause.text() == "Resume"
    # Everything the engine processed before the pause is in the window.
    qtbot.waitUntil(lambda: window.samples == window.runs.worker.watched.engine.stats.samples, timeout=5000)
    held = window.samples
    assert window.runs.worker.watched.paced.paused
    window.commands.pause.trigger()
    assert window.state == RunState.READING
    qtbot.waitUntil(lambda: window.samples > held, timeout=10_000)
    with qtbot.waitSignal(window.run_finished, timeout=10_000) as finished:
        window.commands.stop.trigger()
    assert finished.args == [RunState.STOPPED]
    assert window.state == RunState.STOPPED
    assert 0 < window.samples < 31_416


def test_stop_ends_the_run_promptly_and_outputs_hold_what_was_processed(qtbot, make_window, tmp_path):
    window = make_window(speed="1")
    assert window.load_config(BORDER)
    assert window.start()
    qtbot.waitUntil(lambda: window.samples > 20, timeout=10_000)
    with qtbot.waitSignal(window.run_finished, timeout=2000) as finished:  # "promptly"
        window.stop()
    assert finished.args == [RunState.STOPPED]
    with open(tmp_path / "log" / "border_views.csv", newline="") as f:
        written = sum(1 for _ in csv.reader(f)) - 1
    assert written == window.samples  # send_ok: every processed sample was flushed
    assert window.commands.start.isEnabled() and not window.commands.stop.isEnabled()


def test_closing_during_a_run_stops_it_flushes_and_closes(qtbot, make_window, tmp_path):
    window = make_window(speed="1")
    assert window.load_config(BORDER)
    assert window.start()
    qtbot.waitUntil(lambda: window.samples > 20, timeout=10_000)
    assert not window.close()  # the window waits for the run to end...
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)  # ...which is prompt
    assert not window.running
    assert window.runs.outcome == RunState.STOPPED
    with open(tmp_path / "log" / "border_views.csv", newline="") as f:
        assert sum(1 for _ in csv.reader(f)) - 1 == window.samples


def test_engine_error_stops_the_run_shows_it_and_keeps_what_was_written(
        qtbot, make_window, border_check_fails_on_third_batch, tmp_path):
    window = make_window(batch_size=1000)
    assert window.load_config(BORDER)
    with qtbot.waitSignal(window.run_finished, timeout=10_000) as finished:
        assert window.start()
    assert finished.args == [RunState.ERROR]
    assert window.state == RunState.ERROR
    box = window.message_box
    assert box is not None and box.isVisible() and box.icon() == QMessageBox.Critical
    assert "injected detector failure" in box.text()
    assert window.samples == 2000
    with open(tmp_path / "log" / "border_views.csv", newline="") as f:
        assert sum(1 for _ in csv.reader(f)) - 1 == 2000
    assert window.commands.start.isEnabled() and window.commands.open.isEnabled()
    box.close()


def test_a_data_file_gone_since_loading_fails_the_run_with_a_message(qtbot, make_window, tmp_path):
    window = make_window()
    data = tmp_path / "data.csv"
    data.write_text("timestamp,value\n1,0.5\n")
    config_path = tmp_path / "c.json"
    config_path.write_text('{"file_name": "%s", "anomaly_detection_alg": ["BorderCheck()"],'
                           ' "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0}]}'
                           % data)
    assert window.load_config(config_path)
    data.unlink()
    with qtbot.waitSignal(window.run_finished, timeout=10_000) as finished:
        assert window.start()
    assert finished.args == [RunState.ERROR]
    assert "no such file" in window.message_box.text()
    window.message_box.close()


def test_frames_reach_the_window_at_most_about_30_times_a_second(qtbot, make_window):
    window = make_window(speed="100")
    assert window.load_config("default.json")
    with qtbot.waitSignal(window.run_finished, timeout=30_000):
        assert window.start()
    wall = window.runs.wall_s
    assert wall > 1.0  # x100 over 314 s of data
    assert window.frames_received <= 30 * wall + 3
    assert window.frames_received >= 10  # and it did stream, not one lump at the end
    assert window.samples == 31_416


def test_replay_speed_can_change_during_a_run(qtbot, make_window):
    window = make_window(speed="1")
    assert window.load_config("default.json")
    assert window.start()
    qtbot.waitUntil(lambda: window.samples > 0, timeout=10_000)
    with qtbot.waitSignal(window.run_finished, timeout=30_000) as finished:
        window.set_speed("max")
    assert finished.args == [RunState.FINISHED]
    assert window.samples == 31_416


def test_keyboard_starts_pauses_resumes_and_stops_a_run(qtbot, make_window):
    window = make_window(speed="10")
    assert window.load_config("default.json")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(window.run_started, timeout=5000):
        qtbot.keyClick(window, Qt.Key_F5)
    qtbot.waitUntil(lambda: window.state == RunState.READING, timeout=10_000)
    qtbot.keyClick(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.state == RunState.PAUSED, timeout=5000)
    qtbot.keyClick(window, Qt.Key_F6)
    assert window.state == RunState.READING
    with qtbot.waitSignal(window.run_finished, timeout=10_000) as finished:
        qtbot.keyClick(window, Qt.Key_F5, Qt.ShiftModifier)
    assert finished.args == [RunState.STOPPED]


def test_a_pause_report_crossing_a_resume_does_not_leave_the_window_paused(qtbot, make_window):
    window = make_window(speed="10")
    assert window.load_config("default.json")
    assert window.start()
    qtbot.waitUntil(lambda: window.state == RunState.READING, timeout=10_000)
    window.runs.pause()
    window.runs.resume()
    # the worker's report of the pause arrives after the resume
    window.runs.worker.state_changed.emit(RunState.PAUSED)
    assert window.state == RunState.READING
    held = window.samples
    qtbot.waitUntil(lambda: window.samples > held, timeout=10_000)
    window.runs.pause()
    # and a stale "reading" cannot undo a newer pause
    window.runs.worker.state_changed.emit(RunState.READING)
    assert window.state != RunState.READING
    qtbot.waitUntil(lambda: window.state == RunState.PAUSED, timeout=5000)
