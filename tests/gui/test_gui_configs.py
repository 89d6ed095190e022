"""Opening configs: the file dialog, recent configs, invalid configs, a Kafka run asked of a config
without topics."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PyQt5.QtWidgets import QMessageBox

from gui.app import open_window
from gui.main_window import MainWindow
from pipeline.live.run_state import RunState
from pipeline.paths import CONFIG_DIR
from tests.conftest import replay_slice, retrains

DEFAULT = CONFIG_DIR / "default.json"


def test_open_config_dialog_starts_in_configuration_and_loads_the_chosen_file(qtbot, make_window):
    window = make_window()
    assert not window.commands.start.isEnabled()
    dialog = window.open_config_dialog()
    assert Path(dialog.directory().absolutePath()) == CONFIG_DIR
    assert any("*.json" in f for f in dialog.nameFilters())
    assert dialog.isVisible()
    with qtbot.waitSignal(window.config_loaded, timeout=5000):
        dialog.selectFile(str(DEFAULT))
        dialog.accept()
    assert window.config.source == DEFAULT
    assert [p.label for p in window.panels] == [f"{d.index}: {d.algorithm}" for d in window.config.detectors]
    assert window.commands.start.isEnabled()
    assert window.state == "ready"


def test_recent_configs_are_remembered_across_windows(make_window, settings, tmp_path):
    first = make_window()
    assert first.load_config("default.json")
    second = make_window()
    assert second.recent.paths() == [str(DEFAULT)]
    actions = [a for a in second.commands.recent_menu.actions() if a.isEnabled()]
    assert len(actions) == 1 and "default.json" in actions[0].text()
    actions[0].trigger()
    assert second.config is not None and second.config.source == DEFAULT


def test_invalid_config_shows_the_problem_and_the_window_stays_usable(make_window, tmp_path):
    window = make_window()
    assert window.load_config("default.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"anomaly_detection_alg": ["BorderCheck()"],
                               "anomaly_detection_conf": [{"input_vector_size": 1, "UL": "4a", "LL": 2}]}))
    assert not window.load_config(bad)
    box = window.message_box
    assert box is not None and box.isVisible()
    assert box.icon() == QMessageBox.Critical
    assert "anomaly_detection_conf[0].UL" in box.text()
    assert window.config.source == DEFAULT  # the previous config stays loaded
    assert window.commands.open.isEnabled() and window.commands.start.isEnabled()
    box.close()


def test_config_with_invalid_json_is_reported_not_raised(make_window, tmp_path):
    window = make_window()
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    assert not window.load_config(broken)
    assert "invalid JSON" in window.message_box.text()
    assert window.config is None


def test_kafka_mode_on_a_config_without_topics_explains_and_offers_the_file(qtbot, tmp_path, settings):
    window, code = open_window("default.json", file_mode=False, log_dir=tmp_path / "log")
    qtbot.addWidget(window)
    assert code is None
    assert not window.running and window.commands.start.isEnabled()
    text = window.message_box.text()
    assert "python main.py -c default" in text and "--gui -c default -f" in text
    window.message_box.close()


def test_a_fresh_window_invites_to_open_a_config(make_window):
    window = make_window()
    assert isinstance(window, MainWindow)
    assert window.panel_area.placeholder.isVisible()
    assert "Open config" in window.panel_area.placeholder.text()
    assert window.state == "no config"


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIG_DIR.glob("*.json")))
def test_every_shipped_config_runs_in_the_window(name, make_window, run_to_end, tmp_path):
    """(Configs that retrain a model replay a slice of their file: ``tests.conftest.replay_slice``.)"""
    window = make_window(models_dir=tmp_path / "models")
    path = CONFIG_DIR / name
    assert window.load_config(str(replay_slice(path, tmp_path)) if retrains(path) else name)
    assert run_to_end(window, timeout=120_000) == RunState.FINISHED, window.last_error
    assert len(window.panels) == len(window.config.detectors)
    assert all(panel.samples > 0 for panel in window.panels)
    assert window.model.total == sum(panel.anomalies for panel in window.panels)


def test_a_kafka_only_config_says_at_once_what_its_panels_wait_for(make_window, tmp_path):
    """(Before the window was split up, this text appeared only after Start or a change of source.)"""
    config = {"bootstrap_servers": ["127.0.0.1:1"], "topics": ["sensors"], "anomaly_detection_alg": ["BorderCheck()"],
              "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 2.5, "LL": -2.5}]}
    (tmp_path / "kafka_only.json").write_text(json.dumps(config))
    window = make_window()
    assert window.load_config(str(tmp_path / "kafka_only.json"))
    assert window.mode == "kafka"
    assert "topic sensors (one panel per message key)" in window.panels[0].title.text()
