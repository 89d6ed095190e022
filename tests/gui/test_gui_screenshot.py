"""``--gui -c CONFIG -f --screenshot FILE``: run to the end, save the window, exit 0."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PyQt5.QtCore import QTimer
from PyQt5.QtGui import QImage

from gui.app import SCREENSHOT_SIZE, run_gui

ROOT = Path(__file__).resolve().parents[2]


def test_run_gui_screenshot_runs_the_file_saves_the_window_and_returns_0(qapp, tmp_path):
    shot = tmp_path / "shots" / "window.png"
    watchdog = QTimer()  # fail, not hang, if the run never ends
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(lambda: qapp.exit(99))
    watchdog.start(60_000)
    try:
        code = run_gui("default.json", file_mode=True, log_dir=tmp_path / "log", screenshot=shot)
    finally:
        watchdog.stop()
    assert code == 0
    image = QImage(str(shot))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    assert (tmp_path / "log" / "default_welford.csv").exists()  # outputs went to --log-dir


def test_run_gui_screenshot_with_an_invalid_config_returns_2(qapp, tmp_path, capsys):
    code = run_gui(str(ROOT / "tests/gui/configs/invalid.json"), file_mode=True,
                   log_dir=tmp_path / "log", screenshot=tmp_path / "never.png")
    assert code == 2
    assert "anomaly_detection_conf[0].UL" in capsys.readouterr().err
    assert not (tmp_path / "never.png").exists()


def test_main_py_screenshot_command_line(tmp_path):
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "main.py", "--gui", "-c", "tests/gui/configs/border_views.json", "-f",
         "--screenshot", str(shot), "--log-dir", str(tmp_path / "log"), "--speed", "100"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not QImage(str(shot)).isNull()
