"""Fixtures for the window tests: offscreen Qt, private settings, no thread left behind, and a
headless reference run to compare the window with."""
from __future__ import annotations

import os
import traceback
import weakref
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5.QtCore import QSettings, QThread  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.records import Status  # noqa: E402
from pipeline.run import RunSetup  # noqa: E402

CONFIGS = Path(__file__).parent / "configs"
RUN_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True, scope="session")
def private_qsettings(tmp_path_factory):
    """QSettings written by code under test (run_gui's window) go to a temporary folder."""
    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(folder))
        QSettings.setPath(fmt, QSettings.SystemScope, str(folder))


@pytest.fixture(autouse=True)
def no_thread_left_running(qtbot, monkeypatch):
    """Fail any test that leaves a QThread running (after napari's ``dangling_qthreads``)."""
    started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    original_start = QThread.start

    def start_and_remember(self, *args):
        started[self] = "".join(traceback.format_stack(limit=6)[:-1])
        original_start(self, *args)

    monkeypatch.setattr(QThread, "start", start_and_remember)
    yield
    running = []
    for thread, where in list(started.items()):
        try:
            if thread.isRunning():
                running.append((thread, where))
        except RuntimeError:  # the C++ object is gone, so the thread has ended
            continue
    for thread, _ in running:
        try:
            qtbot.waitUntil(thread.isFinished, timeout=5000)
        except Exception:  # noqa: BLE001 - report below whatever the cleanup did
            pass
    if running:
        pytest.fail("the test left QThreads running, started at:\n" + "\n".join(w for _, w in running))


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def make_window(qtbot, tmp_path, settings):
    """Build shown MainWindows that log to ``tmp_path/log``. At the end a run left going is
    stopped and waited for, then the window is closed and deleted (not by ``qtbot.addWidget``,
    which would delete it before its run had ended)."""
    from gui.main_window import MainWindow

    windows = []

    def make(**kwargs):
        kwargs.setdefault("log_dir", tmp_path / "log")
        kwargs.setdefault("settings", settings)
        window = MainWindow(**kwargs)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.running:
            window.stop()
            qtbot.waitUntil(lambda w=window: not w.running, timeout=RUN_TIMEOUT_MS)
        window.close()
        window.deleteLater()


@pytest.fixture
def run_to_end(qtbot):
    """``run_to_end(window)`` starts the loaded config, waits until its thread has ended and
    returns the outcome."""
    def run(window, timeout=RUN_TIMEOUT_MS) -> str:
        with qtbot.waitSignal(window.run_finished, timeout=timeout) as finished:
            assert window.start()
        return finished.args[0]
    return run


@dataclass
class Reference:
    """What a headless run of a config found: per-detector counts and every anomaly."""

    counts: dict[int, dict[int, int]] = field(default_factory=dict)
    samples: int = 0
    anomalies: list[tuple[int, float, str, float]] = field(default_factory=list)


class AnomalyCollector:
    def __init__(self):
        self.rows = []

    def on_results(self, samples, results):
        for r in results:
            code = r.status_code
            for i in np.flatnonzero((code == Status.WARNING) | (code == Status.ERROR)):
                self.rows.append((r.detector_index, float(r.samples.time_s[i]),
                                  r.status_texts[r.status_idx[i]], round(float(r.score[i]), 9)))


@pytest.fixture
def headless(tmp_path):
    """``headless(config)`` runs the config with the engine alone, as ``main.py -c CONFIG -f``
    does, and returns a ``Reference``."""
    def run(config_name) -> Reference:
        config = load_config(config_name)
        collector = AnomalyCollector()
        with RunSetup(config, tmp_path / "headless") as setup:
            stats = setup.engine(listeners=[collector]).run()
        return Reference(counts={r.index: dict(r.status_counts) for r in setup.runs},
                         samples=stats.samples, anomalies=sorted(collector.rows))
    return run


@pytest.fixture
def table_rows():
    """``table_rows(window)``: the anomaly table as sorted (detector, time, status, score)."""
    def rows(window) -> list[tuple[int, float, str, float]]:
        model = window.model
        return sorted((model.row_detector(r), model.row_time(r), model.status_text(r),
                       round(float(model.column("score")[r]), 9)) for r in range(model.rowCount()))
    return rows
