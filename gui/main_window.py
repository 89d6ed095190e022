"""The main window: open a config, run it, watch the detectors, export what was found.

Layout: toolbar (Open, Start, Pause/Resume, Stop, replay speed, Follow); one ``DetectorPanel``
per detector, their scrolling plots sharing the time axis; the anomaly table below; the status
bar with per-detector counters, the input rate, the source state and the drawing rate.

A run is a ``RunWorker`` on a QThread (see ``gui/worker.py``). Frames from it are counted and
queued at once; two timers draw (Friture's pattern): the render tick (up to 60 Hz, only when
something changed) applies queued samples to the ring buffers and calls ``setData``; the slow tick
(4 Hz) refreshes text: counters, rate, histograms. While "Follow" is on, the plots show the newest
``num_of_points`` samples; any pan or zoom by hand turns it off, and clicking a table row centres
the plots on that anomaly.

Dialogs are non-modal (``open()``), so the window never blocks and tests can answer them.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QModelIndex, QSettings, Qt, QThread, QTimer, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (QAbstractItemView, QAction, QActionGroup, QComboBox, QFileDialog,
                             QHeaderView, QLabel, QMainWindow, QMessageBox, QScrollArea, QSizePolicy,
                             QSplitter, QStyle, QTableView, QVBoxLayout, QWidget)

from gui.anomaly_table import (DETECTOR, MAX_ROWS, SCORE, STATUS, TIME, VALUE, AnomalyTableModel,
                               format_time)
from gui.plots import HISTORY, DetectorPanel, GraphView, configure_pyqtgraph
from gui.worker import BATCH_SIZE, ERROR, FINISHED, PAUSED, READING, STOPPED, Frame, RunWorker
from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.consumers import SourceError
from pipeline.detectors import DETECTORS
from pipeline.paths import CONFIG_DIR, DEFAULT_LOG_DIR, DEFAULT_MODELS_DIR
from pipeline.records import Status
from pipeline.run import RunSetup

log = logging.getLogger(__name__)

ORGANIZATION = "StreamAnomalyMonitor"
APPLICATION = "Stream Anomaly Monitor"
RECENT_KEY = "recent_configs"
MAX_RECENT = 8
MAX_PROBLEMS_SHOWN = 12
RENDER_INTERVAL_MS = 16
SLOW_INTERVAL_MS = 250

#: ``--speed`` values and the replay speed they mean (None = as fast as possible).
SPEEDS = {"max": None, "1": 1.0, "10": 10.0, "100": 100.0}
SPEED_LABELS = {"max": "As fast as possible", "1": "Real time ×1", "10": "Real time ×10",
                "100": "Real time ×100"}

# Source states besides the worker's (reading, paused, finished, stopped, error).
NO_CONFIG, READY, STARTING, PAUSING, STOPPING = "no config", "ready", "starting", "pausing…", "stopping…"
STATE_COLORS = {READING: "#2e7d32", PAUSED: "#b26a00", PAUSING: "#b26a00", FINISHED: "#1f4e8c",
                STOPPED: "#555555", STOPPING: "#555555", ERROR: "#b71c1c", STARTING: "#2e7d32"}

KAFKA_IN_WINDOW = ("This config was opened for a Kafka run (no -f), but the window replays files "
                   "only so far. Run Kafka headless with `python main.py -c {name}` (or -fk); here, "
                   "Start replays the config's file, like `python main.py --gui -c {name} -f`.")


class RateMeter:
    """Events per second over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 1.0):
        self.window_s = window_s
        self._points: deque[tuple[float, float]] = deque()

    def add(self, total: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._points.append((now, total))
        while len(self._points) > 2 and now - self._points[1][0] >= self.window_s:
            self._points.popleft()

    def rate(self) -> float:
        if len(self._points) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._points[0], self._points[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def clear(self) -> None:
        self._points.clear()


class MainWindow(QMainWindow):
    """The monitor window (see the module doc).

    Parameters
    ----------
    log_dir : Path
        Where runs write relative output files and dead letters.
    models_dir : Path
        Where model-based detectors keep trained models (``--models-dir``).
    settings : QSettings, optional
        Where recent configs are remembered (tests pass a temporary file).
    speed : str
        Initial replay speed, a key of ``SPEEDS``.
    """

    config_loaded = pyqtSignal(object)
    run_started = pyqtSignal()
    run_finished = pyqtSignal(str)
    rendered = pyqtSignal()

    def __init__(self, log_dir: Path = DEFAULT_LOG_DIR, settings: QSettings | None = None,
                 speed: str = "max", batch_size: int = BATCH_SIZE, history: int = HISTORY,
                 max_table_rows: int = MAX_ROWS, models_dir: Path = DEFAULT_MODELS_DIR):
        super().__init__()
        configure_pyqtgraph()
        self.log_dir = Path(log_dir)
        self.models_dir = Path(models_dir)
        self.settings = settings if settings is not None else QSettings(ORGANIZATION, "monitor")
        self.batch_size = batch_size
        self.history = history
        self.max_table_rows = max_table_rows
        self.config: RunConfig | None = None
        self.panels: list[DetectorPanel] = []
        self.model = AnomalyTableModel([], max_rows=max_table_rows, parent=self)
        self.state = NO_CONFIG
        self.outcome: str | None = None
        self.last_error: str | None = None
        self.message_box: QMessageBox | None = None
        self.following = True
        self.samples = 0
        self.rejected = 0
        self.progress: tuple[float, float | None] = (0.0, None)
        self.frames_received = 0
        self.frames_rendered = 0
        self._thread: QThread | None = None
        self._worker: RunWorker | None = None
        self._close_requested = False
        self._pause_requested = False
        self._range_dirty = False
        self._dialog: QFileDialog | None = None
        self._input_rate = RateMeter()
        self._run_started_at = self._run_ended_at = None
        self._render_rate = RateMeter()

        self.setWindowTitle(APPLICATION)
        self.resize(1400, 900)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_central()
        self._build_status_bar()
        self.set_speed(speed)
        self._set_state(NO_CONFIG)
        self._refresh_status()

        self.render_timer = QTimer(self)
        self.render_timer.setTimerType(Qt.PreciseTimer)
        self.render_timer.timeout.connect(self.render_now)
        self.render_timer.start(RENDER_INTERVAL_MS)
        self.slow_timer = QTimer(self)
        self.slow_timer.timeout.connect(self._refresh_status)
        self.slow_timer.start(SLOW_INTERVAL_MS)

    # -- building --------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcuts=(), icon=None, tip: str = "", checkable=False) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        keys = ", ".join(QKeySequence(s).toString(QKeySequence.NativeText) for s in shortcuts)
        action.setToolTip(f"{tip or text} ({keys})" if keys else (tip or text))
        action.setStatusTip(tip or text)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("Open config…", self.open_config_dialog, [QKeySequence.Open],
                                        QStyle.SP_DialogOpenButton, "Open a JSON config")
        self.start_action = self._action("Start", lambda: self.start(), ["F5", "Ctrl+R"], QStyle.SP_MediaPlay,
                                         "Start a run of the loaded config")
        self.pause_action = self._action("Pause", self.toggle_pause, ["Space", "F6"],
                                         QStyle.SP_MediaPause, "Pause or resume the run")
        self.stop_action = self._action("Stop", self.stop, ["Shift+F5"], QStyle.SP_MediaStop,
                                        "Stop the run (outputs are flushed)")
        self.follow_action = self._action("Follow", self.set_following, ["End"],
                                          QStyle.SP_MediaSeekForward,
                                          "Keep the newest data in view", checkable=True)
        self.follow_action.setChecked(True)
        self.export_csv_action = self._action("Export anomalies as CSV…", self.export_csv_dialog,
                                              ["Ctrl+E"], tip="Save the anomaly table as CSV")
        self.export_png_action = self._action("Export plots as PNG…", self.export_png_dialog,
                                              ["Ctrl+Shift+E"], tip="Save every plot as a PNG file")
        self.quit_action = self._action("Quit", self.close, [QKeySequence.Quit])
        self.speed_group = QActionGroup(self)
        self.speed_actions = {}
        for key, label in SPEED_LABELS.items():
            action = QAction(label, self, checkable=True)
            action.triggered.connect(lambda _checked, k=key: self.set_speed(k))
            self.speed_group.addAction(action)
            self.speed_actions[key] = action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Recent configs")
        file_menu.addSeparator()
        export_menu = file_menu.addMenu("Export")
        export_menu.addAction(self.export_csv_action)
        export_menu.addAction(self.export_png_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = self.menuBar().addMenu("&Run")
        for action in (self.start_action, self.pause_action, self.stop_action):
            run_menu.addAction(action)
        speed_menu = run_menu.addMenu("Replay speed")
        for action in self.speed_actions.values():
            speed_menu.addAction(action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.follow_action)
        self._rebuild_recent_menu()

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Run")
        bar.setObjectName("run_toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        bar.addAction(self.open_action)
        bar.addSeparator()
        for action in (self.start_action, self.pause_action, self.stop_action):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Replay speed: "))
        self.speed_combo = QComboBox()
        for key, label in SPEED_LABELS.items():
            self.speed_combo.addItem(label, key)
        self.speed_combo.setToolTip("File runs: as fast as possible, or in real time scaled by "
                                    "the data's timestamps")
        self.speed_combo.activated.connect(lambda i: self.set_speed(self.speed_combo.itemData(i)))
        bar.addWidget(self.speed_combo)
        bar.addSeparator()
        bar.addAction(self.follow_action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        bar.addWidget(spacer)
        self.run_label = QLabel()
        self.run_label.setTextFormat(Qt.RichText)
        self.run_label.setContentsMargins(0, 0, 8, 0)
        bar.addWidget(self.run_label)

    def _build_central(self) -> None:
        self.panel_area = QWidget()
        self.panel_layout = QVBoxLayout(self.panel_area)
        self.panel_layout.setContentsMargins(4, 4, 4, 4)
        self.panel_layout.setSpacing(6)
        self.placeholder = QLabel(
            "<h3>No config loaded</h3><p>Open a config with <b>Open config…</b> (Ctrl+O) or from "
            "<b>File › Recent configs</b>, then press <b>Start</b> (F5).</p>")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.panel_layout.addWidget(self.placeholder)
        self.panel_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(self.panel_area)
        # Panels scrolled out of view are not drawn; showing them again needs a render.
        scroll.verticalScrollBar().valueChanged.connect(self._mark_range_dirty)

        self.table_title = QLabel()
        self.table_title.setTextFormat(Qt.RichText)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(STATUS, QHeaderView.Stretch)
        self.table.setToolTip("Click a row to centre the plots on that moment")
        self.table.clicked.connect(self._on_row_activated)
        self.table.activated.connect(self._on_row_activated)
        metrics = self.table.fontMetrics()
        for column, sample in ((TIME, "0000-00-00 00:00:00.000"), (DETECTOR, "00: BorderCheck"),
                               (VALUE, "-0.000000e+00"), (SCORE, "Score")):
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(4, 2, 4, 0)
        table_layout.setSpacing(2)
        table_layout.addWidget(self.table_title)
        table_layout.addWidget(self.table)

        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(table_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([3000, 1000])
        self.splitter.setChildrenCollapsible(False)
        self.splitter.splitterMoved.connect(self._mark_range_dirty)
        self.setCentralWidget(self.splitter)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.counter_label = QLabel()
        self.counter_label.setTextFormat(Qt.RichText)
        self.rate_label = QLabel()
        self.progress_label = QLabel()
        self.state_label = QLabel()
        self.state_label.setTextFormat(Qt.RichText)
        self.fps_label = QLabel()
        self.fps_label.setToolTip("Plot frames drawn per second")
        for label in (self.counter_label, self.rate_label, self.progress_label, self.state_label,
                      self.fps_label):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)

    # -- configs ---------------------------------------------------------------------------------
    def open_config_dialog(self) -> QFileDialog:
        """Show the (non-modal) file dialog in ``configuration/``; choosing a file loads it."""
        if self._dialog is None:
            self._dialog = QFileDialog(self, "Open config", str(CONFIG_DIR), "Configs (*.json)")
            self._dialog.setFileMode(QFileDialog.ExistingFile)
            self._dialog.setAcceptMode(QFileDialog.AcceptOpen)
            self._dialog.setOption(QFileDialog.DontUseNativeDialog, True)
            self._dialog.fileSelected.connect(self.load_config)
        self._dialog.setDirectory(str(CONFIG_DIR))
        self._dialog.open()
        return self._dialog

    def load_config(self, name: str | Path) -> bool:
        """Load and show a config; on a problem, show it and keep the window as it was."""
        if self.running:
            self.show_message(QMessageBox.Warning, "Run in progress",
                              "Stop the run before opening another config.")
            return False
        try:
            config = load_config(name)
        except ConfigError as err:
            self.last_error = err.one_line()
            cut = len(err.problems) > MAX_PROBLEMS_SHOWN
            shown = err.problems[:MAX_PROBLEMS_SHOWN]
            if cut:
                shown.append(f"… and {len(err.problems) - MAX_PROBLEMS_SHOWN} more (Show Details)")
            self.show_message(QMessageBox.Critical, "Invalid config",
                              f"The config {Path(str(name)).name} cannot be used:\n\n" + "\n".join(shown),
                              details="\n".join(err.problems) if cut else None)
            return False
        self.config = config
        self.outcome = None
        self._remember(config.source)
        self._build_panels(config)
        file_text = config.file_name.name if config.file_name else "no file"
        self.setWindowTitle(f"{config.name} — {file_text} — {APPLICATION}")
        self.run_label.setText(f"<b>{config.source.name}</b> &nbsp;·&nbsp; {file_text}")
        self.run_label.setToolTip(f"{config.source}\n{config.file_name or ''}")
        self._set_state(READY)
        if config.file_name is None:
            self.show_message(QMessageBox.Information, "No file to replay",
                              f"{config.name} has no file_name, and the window replays files only "
                              f"so far; run its Kafka topics headless: python main.py -c {config.name}")
        self.statusBar().showMessage(f"Loaded {config.source}", 5000)
        self.config_loaded.emit(config)
        return True

    def explain_kafka_is_headless(self) -> None:
        name = self.config.name if self.config else "CONFIG"
        self.show_message(QMessageBox.Information, "Kafka runs are headless for now",
                          KAFKA_IN_WINDOW.format(name=name))

    def _build_panels(self, config: RunConfig) -> None:
        for panel in self.panels:
            self.panel_layout.removeWidget(panel)
            panel.deleteLater()
        self.panels = []
        self.placeholder.hide()
        labels = []
        for dc in config.detectors:
            label = f"{dc.index}: {dc.algorithm}"
            labels.append(label)
            panel = DetectorPanel(dc.index, label, dict(dc.detector.params),
                                  DETECTORS.resolve(dc.algorithm).line_names,
                                  [(v.name, dict(v.params)) for v in dc.visualizations],
                                  history=self.history)
            self.panel_layout.addWidget(panel, 1)
            self.panels.append(panel)
        graphs = self.graphs
        for graph in graphs:
            graph.view_box.sigRangeChangedManually.connect(lambda *_: self.set_following(False))
            graph.view_box.sigXRangeChanged.connect(self._mark_range_dirty)
            if graph is not graphs[0]:
                graph.setXLink(graphs[0])
        old = self.model
        self.model = AnomalyTableModel(labels, max_rows=self.max_table_rows, parent=self)
        self.table.setModel(self.model)
        old.deleteLater()
        self._reset_run_view()

    @property
    def graphs(self) -> list[GraphView]:
        return [g for panel in self.panels for g in panel.graphs]

    def _remember(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.recent_configs() if p != str(path)]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        self.settings.sync()
        self._rebuild_recent_menu()

    def recent_configs(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone entry as a string
            value = [value]
        return list(value or [])

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_configs()
        for i, path in enumerate(recent, start=1):
            action = self.recent_menu.addAction(f"&{i} {Path(path).name}   ({Path(path).parent})")
            action.triggered.connect(lambda _checked, p=path: self.load_config(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        self.recent_menu.setEnabled(not self.running)

    # -- running ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def worker(self) -> RunWorker | None:
        return self._worker

    def start(self, source=None) -> bool:
        """Start a run of the loaded config; ``source`` replaces its file (benchmarks)."""
        if self.running or self.config is None:
            return False
        try:
            setup = RunSetup(self.config, self.log_dir, mode="file", models_dir=self.models_dir)
        except (ConfigError, SourceError, OSError, ValueError) as err:
            self.last_error = str(err)
            self.show_message(QMessageBox.Critical, "Cannot start", str(err))
            return False
        self._reset_run_view()
        worker = RunWorker(setup, speed=SPEEDS[self.speed], batch_size=self.batch_size, source=source)
        thread = QThread()  # no parent: it must outlive nothing but its own run
        thread.setObjectName(f"run {self.config.name}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        worker.finished.connect(worker.deleteLater)
        thread.finished.connect(thread.deleteLater)
        worker.frame_ready.connect(self._on_frame)
        worker.state_changed.connect(self._on_worker_state)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_worker_finished)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        self._pause_requested = False
        self.outcome = None
        self.last_error = None
        self._set_state(STARTING)
        self._run_started_at, self._run_ended_at = time.monotonic(), None
        thread.start()
        self.run_started.emit()
        return True

    def toggle_pause(self) -> None:
        if self.state in (PAUSED, PAUSING):
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        if self._worker is not None and self.state in (READING, STARTING):
            self._pause_requested = True
            self._worker.pause()
            self._set_state(PAUSING)

    def resume(self) -> None:
        if self._worker is not None and self.state in (PAUSED, PAUSING):
            self._pause_requested = False
            self._worker.resume()
            self._set_state(READING)

    def stop(self) -> None:
        if self._worker is not None and self.state != STOPPING:
            self._worker.stop()
            self._set_state(STOPPING)

    @property
    def speed(self) -> str:
        return self.speed_combo.currentData()

    def set_speed(self, key: str) -> None:
        self.speed_combo.setCurrentIndex(self.speed_combo.findData(key))
        self.speed_actions[key].setChecked(True)
        if self._worker is not None:
            self._worker.set_speed(SPEEDS[key])

    def _reset_run_view(self) -> None:
        for panel in self.panels:
            panel.clear()
        self.model.clear()
        self.samples = self.rejected = 0
        self.progress = (0.0, None)
        self.frames_received = 0
        self._input_rate.clear()
        self.set_following(True)

    def _on_frame(self, frame: Frame) -> None:
        bar = self.table.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum()
        for chunk in frame.chunks:
            self.panels[chunk.detector_index].queue(chunk)
        added = self.model.append(frame.chunks)
        self.samples, self.rejected, self.progress = frame.samples, frame.rejected, frame.progress
        self.frames_received += 1
        if added and at_bottom:
            self.table.scrollToBottom()

    def _on_worker_state(self, state: str) -> None:
        # The worker reports what it did; a later request by the operator wins over a report
        # that crossed it (pause, then resume before the pause was reported).
        crossed = self._pause_requested != (state == PAUSED)
        if state in (READING, PAUSED) and (self.state == STOPPING or crossed):
            return
        self._set_state(state)

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        self.show_message(
            QMessageBox.Critical, "Run failed",
            f"The run stopped on an error:\n\n{message}\n\nEverything processed before the error "
            f"was written to the configured outputs (relative paths are under {self.log_dir}).")

    def _on_worker_finished(self, outcome: str) -> None:
        self.outcome = outcome

    def _on_thread_finished(self) -> None:
        self._thread = self._worker = None
        self._run_ended_at = time.monotonic()
        self.render_now()
        self._refresh_status()
        self._update_actions()
        outcome = self.outcome or ERROR
        self.statusBar().showMessage(f"Run {outcome}", 10000)  # the counts are on the right
        self.run_finished.emit(outcome)
        if self._close_requested:
            self.close()

    def _set_state(self, state: str) -> None:
        self.state = state
        colour = STATE_COLORS.get(state, "#555555")
        self.state_label.setText(f"Source: <b style='color:{colour}'>{state}</b>")
        self.pause_action.setText("Resume" if state in (PAUSED, PAUSING) else "Pause")
        self.pause_action.setIcon(self.style().standardIcon(
            QStyle.SP_MediaPlay if state in (PAUSED, PAUSING) else QStyle.SP_MediaPause))
        self._update_actions()

    def _update_actions(self) -> None:
        running = self.running
        can_run = self.config is not None and self.config.file_name is not None
        self.start_action.setEnabled(can_run and not running)
        self.pause_action.setEnabled(running and self.state not in (STOPPING, STARTING))
        self.stop_action.setEnabled(running and self.state != STOPPING)
        self.open_action.setEnabled(not running)
        self.recent_menu.setEnabled(not running)
        self.export_csv_action.setEnabled(self.config is not None)
        self.export_png_action.setEnabled(bool(self.panels))

    # -- drawing ---------------------------------------------------------------------------------
    def _mark_range_dirty(self, *_args) -> None:
        self._range_dirty = True

    def set_following(self, follow: bool = True) -> None:
        self.following = bool(follow)
        self.follow_action.setChecked(self.following)
        if self.following:
            for graph in self.graphs:
                graph.cursor.hide()
            self._range_dirty = True

    def render_now(self) -> None:
        """Apply queued samples and redraw what changed (the render tick)."""
        changed = [panel.apply_queued() for panel in self.panels]
        if not any(changed) and not self._range_dirty:
            return
        self._range_dirty = False
        shown = [not panel.visibleRegion().isEmpty() for panel in self.panels]
        for panel, data_changed, visible in zip(self.panels, changed, shown):
            if data_changed and (self.following or not visible):
                # Following: the range moves before the new data is set, and pyqtgraph would
                # downsample the old data for it. Hidden (scrolled away): hold no views into
                # buffers that keep changing; the panel is drawn when it is shown again.
                for graph in panel.graphs:
                    graph.release_data()
            panel.unrendered |= data_changed and not visible
        if self.following:
            self._follow(shown)
        for panel, data_changed, visible in zip(self.panels, changed, shown):
            if visible:
                panel.render(data_changed or panel.unrendered)
                panel.unrendered = False
        for graph in self.graphs:
            # Apply the new ranges now: left to paint time, they make pyqtgraph paint twice.
            graph.view_box.updateMatrix()
        self._range_dirty = False  # our own range changes are drawn already
        self.frames_rendered += 1
        self._render_rate.add(self.frames_rendered)
        self.rendered.emit()

    def _follow(self, shown: list[bool]) -> None:
        ranges = [r for r in (g.follow_range() for g in self.graphs) if r is not None]
        if not ranges:
            return
        left, right = min(r[0] for r in ranges), max(r[1] for r in ranges)
        self.graphs[0].view_box.setXRange(left, right, padding=0)
        for panel, visible in zip(self.panels, shown):
            for graph in panel.graphs if visible else ():
                graph.fit_y(left, right)

    def centre_on(self, time_s: float) -> None:
        """Stop following and centre every scrolling plot on ``time_s``, marked by a cursor."""
        graphs = self.graphs
        if not graphs:
            return
        self.set_following(False)
        (left, right), _ = graphs[0].view_box.viewRange()
        half = (right - left) / 2 or 1.0
        graphs[0].view_box.setXRange(time_s - half, time_s + half, padding=0)
        for graph in graphs:
            graph.fit_y(time_s - half, time_s + half)
            graph.show_cursor(time_s)
        oldest = min((p.ring.view()[0][0] for p in self.panels if p.ring.count), default=None)
        if oldest is not None and time_s < oldest:
            self.statusBar().showMessage(
                f"{format_time(time_s)} is older than what the plots keep (the last "
                f"{min(p.history for p in self.panels):,} samples)", 8000)
        self._range_dirty = True
        self.render_now()

    def _on_row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.centre_on(self.model.row_time(index.row()))

    def select_anomaly(self, row: int) -> None:
        """Select a table row and centre the plots on it, as a click does."""
        index = self.model.index(row, TIME)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index, QAbstractItemView.PositionAtCenter)
        self._on_row_activated(index)

    def busiest_anomaly_row(self) -> int | None:
        """The table row whose neighbourhood (the plots' current width) shows the most kinds of
        anomaly, then the most anomalies, then the newest (the screenshot shows it)."""
        if self.model.rowCount() == 0 or not self.graphs:
            return None
        (left, right), _ = self.graphs[0].view_box.viewRange()
        half = (right - left) / 2
        t = self.model.column("time_s")
        code = self.model.column("code")
        kinds = np.zeros(len(t), dtype=np.int64)
        total = np.zeros(len(t), dtype=np.int64)
        for status in (Status.WARNING, Status.ERROR):
            ts = np.sort(t[code == status])
            near = np.searchsorted(ts, t + half, side="right") - np.searchsorted(ts, t - half)
            kinds += near > 0
            total += near
        rank = kinds * (total.max() + 1) + total
        return int(np.flatnonzero(rank == rank.max())[-1])

    def _refresh_status(self) -> None:
        for panel in self.panels:
            panel.refresh()
        self._input_rate.add(self.samples)
        parts = [f"<b>{p.label}</b> {p.samples:,} · "
                 f"<span style='color:#8a5a00'>{p.counts[0]:,} warn</span> · "
                 f"<span style='color:#b71c1c'>{p.counts[-1]:,} err</span>" for p in self.panels]
        self.counter_label.setText(" &nbsp;|&nbsp; ".join(parts))
        if self.running:
            self.rate_label.setText(f"Input: {self._input_rate.rate():,.0f} samples/s")
        elif self._run_ended_at is not None:
            wall = max(self._run_ended_at - self._run_started_at, 1e-9)
            self.rate_label.setText(f"Input: {self.samples:,} samples in {wall:.{1 if wall >= 10 else 2}f} s "
                                    f"({self.samples / wall:,.0f}/s)")
        else:
            self.rate_label.setText("Input: –")
        done, total = self.progress
        self.progress_label.setText(f"File: {100 * done / total:.0f} %" if total else "")
        self.progress_label.setVisible(bool(total))
        self.fps_label.setText(f"{self._render_rate.rate():.0f} fps" if self.running else "")
        if self.model.capped:
            title = (f"<b>Anomalies</b> — showing the last {self.model.rowCount():,} of "
                     f"{self.model.total:,}")
        else:
            title = f"<b>Anomalies</b> — {self.model.total:,}"
        self.table_title.setText(title + " &nbsp;<span style='color:#777'>(click a row to centre "
                                         "the plots on it)</span>")
        if not self.running and self._render_rate.rate():
            self._render_rate.clear()

    # -- exporting -------------------------------------------------------------------------------
    def export_anomalies_csv(self, path: Path) -> int:
        """Write the anomaly table to ``path``; returns the number of rows."""
        return self.model.export_csv(Path(path))

    def export_plots_png(self, directory: Path) -> list[Path]:
        """Save every plot as ``<config>_<detector>_<view>.png`` in ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.render_now()
        written = []
        name = self.config.name if self.config else "plots"
        for panel in self.panels:
            algorithm = panel.label.split(": ", 1)[-1]
            for i, view in enumerate(panel.views):
                kind = type(view).__name__.replace("View", "").lower()
                suffix = f"_{i}" if sum(type(v) is type(view) for v in panel.views) > 1 else ""
                path = directory / f"{name}_{panel.index}_{algorithm}_{kind}{suffix}.png"
                if not view.grab().save(str(path)):
                    raise OSError(f"{path}: cannot write the PNG")
                written.append(path)
        return written

    def export_csv_dialog(self) -> None:
        default = self.log_dir / f"{self.config.name if self.config else 'anomalies'}_anomalies.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export anomalies", str(default), "CSV (*.csv)")
        if path:
            try:
                rows = self.export_anomalies_csv(Path(path))
            except OSError as err:
                self.show_message(QMessageBox.Critical, "Export failed", str(err))
                return
            note = " (the rows the table holds)" if self.model.capped else ""
            self.statusBar().showMessage(f"Wrote {rows:,} anomalies to {path}{note}", 8000)

    def export_png_dialog(self) -> None:
        directory = QFileDialog.getExistingDirectory(self, "Export plots to folder", str(self.log_dir))
        if directory:
            try:
                written = self.export_plots_png(Path(directory))
            except OSError as err:
                self.show_message(QMessageBox.Critical, "Export failed", str(err))
                return
            self.statusBar().showMessage(f"Wrote {len(written)} PNG files to {directory}", 8000)

    # -- messages and closing --------------------------------------------------------------------
    def show_message(self, icon, title: str, text: str, details: str | None = None) -> QMessageBox:
        """A non-modal message box; the window stays usable."""
        if self.message_box is not None:
            self.message_box.close()
            self.message_box.deleteLater()
        box = QMessageBox(icon, title, text, QMessageBox.Ok, self)
        if details and details != text:
            box.setDetailedText(details)
        box.setWindowModality(Qt.NonModal)
        box.open()
        self.message_box = box
        return box

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._range_dirty = True  # panels may have come into view

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._range_dirty = True

    def closeEvent(self, event) -> None:
        """During a run: stop it, and close once its thread has ended (outputs flushed)."""
        if self.running:
            self._close_requested = True
            self.stop()
            self.statusBar().showMessage("Stopping the run and flushing outputs before closing…")
            event.ignore()
            return
        self.render_timer.stop()
        self.slow_timer.stop()
        event.accept()
