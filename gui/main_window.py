"""The main window: open a config, run it, watch the detectors, export what was found.

Layout: toolbar (Open, Start, Pause/Resume, Stop, source, replay speed, Follow); one
``DetectorPanel`` per detector and stream, their scrolling plots sharing the time axis; the
anomaly table below; the status bar with per-detector counters, the input rate, the source state
and the drawing rate.

Sources: a run reads the config's file (``-f``), its Kafka topics (the default of ``main.py -c``),
or the file as warm-up and then the topics (``-fk``); the Source box offers what the config has.
Kafka data is live, so the replay speed applies to file runs only. A Kafka run's source state
shows "disconnected" while no broker answers (the run reconnects by itself and goes on where it
was). Each (topic, message key) has its own detector state, and gets its own panel when its first
message arrives, up to ``max_panels`` panels; streams beyond that are counted and listed in the
table but not plotted, and a note above the plots says so.

A run is a ``RunWorker`` on a QThread (see ``gui/worker.py``). Frames from it are counted and
queued at once; two timers draw (Friture's pattern): the render tick (up to 60 Hz, only when
something changed) applies queued samples to the ring buffers and calls ``setData``; the slow tick
(4 Hz) refreshes text: counters, rate, histograms. While "Follow" is on, the plots show the newest
``num_of_points`` samples; any pan or zoom by hand turns it off, and clicking a table row centres
the plots on that anomaly.

Dialogs are non-modal (``open()``), so the window never blocks and tests can answer them.
"""
from __future__ import annotations

import html
import logging
import re
import time
from collections import deque
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QModelIndex, QSettings, Qt, QThread, QTimer, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (QAbstractItemView, QAction, QActionGroup, QComboBox, QFileDialog,
                             QHeaderView, QLabel, QMainWindow, QMessageBox, QScrollArea, QSizePolicy,
                             QSplitter, QStyle, QTableView, QVBoxLayout, QWidget)

from gui.anomaly_table import (DETECTOR, MAX_ROWS, SCORE, STATUS, STREAM, TIME, VALUE,
                               AnomalyTableModel, format_time)
from gui.plots import HISTORY, DetectorPanel, GraphView, configure_pyqtgraph
from gui.worker import (BATCH_SIZE, CONNECTING, DISCONNECTED, ERROR, FINISHED, LIVE_MODES, PAUSED,
                        READING, STOPPED, RunWorker)
from pipeline.config import ConfigError, RunConfig, load_config
from pipeline.consumers import SourceError
from pipeline.detectors import DETECTORS
from pipeline.kafka_config import detector_topics
from pipeline.live.frames import DetectorChunk, Frame, StreamInfo
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

#: Plot panels at most (one per detector and stream); further streams are counted, not plotted.
MAX_PANELS = 12
#: Unplotted streams named in the note above the plots.
MAX_NAMES_SHOWN = 8

#: Run modes (``RunSetup``'s) and how the Source box names them.
MODES = {"file": "File", "kafka": "Kafka", "filekafka": "File, then Kafka"}

#: ``--speed`` values and the replay speed they mean (None = as fast as possible).
SPEEDS = {"max": None, "1": 1.0, "10": 10.0, "100": 100.0}
SPEED_LABELS = {"max": "As fast as possible", "1": "Real time ×1", "10": "Real time ×10",
                "100": "Real time ×100"}

# Source states besides the worker's (reading, paused, finished, stopped, error).
NO_CONFIG, READY, STARTING, PAUSING, STOPPING = "no config", "ready", "starting", "pausing…", "stopping…"
STATE_COLORS = {READING: "#2e7d32", PAUSED: "#b26a00", PAUSING: "#b26a00", FINISHED: "#1f4e8c",
                STOPPED: "#555555", STOPPING: "#555555", ERROR: "#b71c1c", STARTING: "#2e7d32",
                CONNECTING: "#555555", DISCONNECTED: "#d84315"}
STATE_TIPS = {
    CONNECTING: "Connecting to the Kafka broker and joining the consumer group",
    DISCONNECTED: "No Kafka broker answers. The run reconnects by itself with backoff and goes on "
                  "from where it was; nothing is skipped, and offsets are committed only for "
                  "results that were written",
    PAUSED: "Paused: nothing is read until Resume (a Kafka run keeps its partitions meanwhile)",
}
#: Worker reports that describe a run still going (a newer request by the operator wins over them).
RUNNING_STATES = (READING, PAUSED, CONNECTING, DISCONNECTED)


def natural_key(text: str) -> tuple:
    """Sorts "m2" before "m10"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text) if part)


class Tally:
    """Samples and statuses of one detector over all its streams (plotted or not)."""

    def __init__(self):
        self.samples = 0
        self.counts = {int(s): 0 for s in Status}
        self.streams = 0

    def add(self, chunk: DetectorChunk) -> None:
        self.samples += len(chunk)
        counts = np.bincount(chunk.status_code.astype(np.int64) + 1, minlength=len(Status))
        for status in Status:
            self.counts[int(status)] += int(counts[int(status) + 1])


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
    max_panels : int
        Most plot panels (streams beyond are counted and tabled, not plotted).
    """

    config_loaded = pyqtSignal(object)
    run_started = pyqtSignal()
    run_finished = pyqtSignal(str)
    rendered = pyqtSignal()

    def __init__(self, log_dir: Path = DEFAULT_LOG_DIR, settings: QSettings | None = None,
                 speed: str = "max", batch_size: int = BATCH_SIZE, history: int = HISTORY,
                 max_table_rows: int = MAX_ROWS, models_dir: Path = DEFAULT_MODELS_DIR,
                 max_panels: int = MAX_PANELS):
        super().__init__()
        configure_pyqtgraph()
        self.log_dir = Path(log_dir)
        self.models_dir = Path(models_dir)
        self.settings = settings if settings is not None else QSettings(ORGANIZATION, "monitor")
        self.batch_size = batch_size
        self.history = history
        self.max_table_rows = max_table_rows
        self.max_panels = max_panels
        self.config: RunConfig | None = None
        self.mode = "file"
        self.panels: list[DetectorPanel] = []  # in layout order
        self._first_panels: list[DetectorPanel] = []  # detector i's first panel
        self._stream_panels: dict[int, DetectorPanel] = {}  # stream id -> its panel
        self.streams: list[StreamInfo] = []
        self.unplotted_streams = 0
        self.tallies: list[Tally] = []
        self.detector_labels: list[str] = []
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
        self._refresh_modes()
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
        self.mode_group = QActionGroup(self)
        self.mode_actions = {}
        for key, label in MODES.items():
            action = QAction(label, self, checkable=True)
            action.triggered.connect(lambda _checked, k=key: self.set_mode(k))
            self.mode_group.addAction(action)
            self.mode_actions[key] = action

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
        self.mode_menu = run_menu.addMenu("Source")
        for action in self.mode_actions.values():
            self.mode_menu.addAction(action)
        self.speed_menu = speed_menu = run_menu.addMenu("Replay speed")
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
        bar.addWidget(QLabel(" Source: "))
        self.mode_combo = QComboBox()
        for key, label in MODES.items():
            self.mode_combo.addItem(label, key)
        self.mode_combo.activated.connect(lambda i: self.set_mode(self.mode_combo.itemData(i)))
        bar.addWidget(self.mode_combo)
        self.speed_title = QLabel(" Replay speed: ")
        bar.addWidget(self.speed_title)
        self.speed_combo = QComboBox()
        for key, label in SPEED_LABELS.items():
            self.speed_combo.addItem(label, key)
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
                               (STREAM, "sensors · machine-07"), (VALUE, "-0.000000e+00"),
                               (SCORE, "Score")):
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(4, 2, 4, 0)
        table_layout.setSpacing(2)
        table_layout.addWidget(self.table_title)
        table_layout.addWidget(self.table)

        self.splitter = QSplitter(Qt.Vertical)
        # Above the scrolled panels, so it stays in view (and, word-wrapped inside the scroll
        # area, it would make the panels take their size hints instead of their minimum heights).
        self.overflow_note = QLabel()
        self.overflow_note.setTextFormat(Qt.RichText)
        self.overflow_note.setWordWrap(True)
        self.overflow_note.setStyleSheet("background:#fff4e5; border:1px solid #f0a000; padding:4px;")
        self.overflow_note.hide()
        plots_box = QWidget()
        plots_layout = QVBoxLayout(plots_box)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.setSpacing(0)
        plots_layout.addWidget(self.overflow_note)
        plots_layout.addWidget(scroll, 1)
        self.splitter.addWidget(plots_box)
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
        modes = self.available_modes()
        if self.mode not in modes:  # keep the operator's choice when the new config has it
            self.mode = modes[0] if modes else "file"
        self._refresh_modes()
        self._set_state(READY)
        if not modes:
            self.show_message(QMessageBox.Information, "Nothing to read",
                              f"{config.name} names neither a file_name nor Kafka topics, so "
                              "there is nothing to run. Add one of them to the config.")
        self.statusBar().showMessage(f"Loaded {config.source}", 5000)
        self.config_loaded.emit(config)
        return True

    # -- the source: file, Kafka, or file then Kafka ---------------------------------------------
    def available_modes(self) -> list[str]:
        """The run modes the loaded config allows, in ``MODES`` order."""
        config = self.config
        if config is None:
            return []
        has_file = config.file_name is not None
        has_topics = config.kafka is not None and bool(config.kafka.topics)
        allowed = {"file": has_file, "kafka": has_topics, "filekafka": has_file and has_topics}
        return [mode for mode in MODES if allowed[mode]]

    @property
    def live(self) -> bool:
        """The chosen source is live Kafka data (with or without the file first)."""
        return self.mode in LIVE_MODES

    def set_mode(self, mode: str) -> bool:
        """Choose what Start reads: "file", "kafka" or "filekafka" (as ``-f``, no flag, ``-fk``).
        False, and nothing changes, while a run goes or when the config does not have it."""
        if mode not in MODES or self.running or mode not in self.available_modes():
            self._refresh_modes()
            return False
        self.mode = mode
        self._refresh_modes()
        self._show_waiting()
        return True

    def explain_unavailable_mode(self, mode: str) -> None:
        """Say why the config cannot run ``mode``, and what Start does instead."""
        config = self.config
        name = config.name if config else "CONFIG"
        if mode in LIVE_MODES and (config is None or config.kafka is None or not config.kafka.topics):
            why = (f"{name} has no Kafka topics, so there is nothing to read from Kafka "
                   f"(`python main.py -c {name}` stops for the same reason). Add `topics` and "
                   "`bootstrap_servers` to the config to watch Kafka here.")
        else:
            why = f"{name} has no file_name, so there is no file to replay."
        instead = {"file": f"replay its file, as `python main.py --gui -c {name} -f` does",
                   "kafka": f"read its Kafka topics, as `python main.py --gui -c {name}` does"}
        if self.mode in instead and self.mode in self.available_modes():
            why += f"\n\nPress Start to {instead[self.mode]}."
        self.show_message(QMessageBox.Information, f"No {MODES.get(mode, mode)} source", why)

    def _refresh_modes(self) -> None:
        """Source box, Source menu, replay speed and the run label follow the mode."""
        available = self.available_modes()
        reasons = {"file": "the config has no file_name", "kafka": "the config has no Kafka topics",
                   "filekafka": "needs both a file_name and Kafka topics"}
        items = self.mode_combo.model()
        for i in range(self.mode_combo.count()):
            key = self.mode_combo.itemData(i)
            usable = key in available
            items.item(i).setEnabled(usable)
            self.mode_actions[key].setEnabled(usable)
            tip = self._mode_description(key) if usable else (f"Not available: {reasons[key]}"
                                                              if self.config else "")
            items.item(i).setToolTip(tip)
            self.mode_actions[key].setToolTip(tip)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(self.mode))
        self.mode_actions[self.mode].setChecked(True)
        self.mode_combo.setToolTip("What Start reads: the config's file (like -f), its Kafka topics "
                                   "(like no flag), or the file as warm-up and then the topics (-fk)")
        live = self.live
        self.speed_combo.setToolTip(
            "Kafka data is live: it is shown as it arrives (a file read first as warm-up is read "
            "as fast as possible)" if live else
            "File runs: as fast as possible, or in real time scaled by the data's timestamps")
        self.speed_title.setToolTip(self.speed_combo.toolTip())
        self.speed_title.setText(" Replay speed (file runs): " if live else " Replay speed: ")
        config = self.config
        if config is None:
            self.run_label.setText("")
            self._update_actions()
            return
        source = self._mode_description(self.mode) if self.mode in available else "nothing to read"
        self.setWindowTitle(f"{config.name} — {source} — {APPLICATION}")
        self.run_label.setText(f"<b>{html.escape(config.source.name)}</b> &nbsp;·&nbsp; "
                               f"{html.escape(source)}")
        self.run_label.setToolTip(f"{config.source}\n{source}")
        self._update_actions()

    def _mode_description(self, mode: str) -> str:
        config = self.config
        file_text = config.file_name.name if config and config.file_name else "no file"
        if mode == "file":
            return file_text
        kafka = config.kafka if config else None
        topics = ", ".join(dict.fromkeys(kafka.topics)) if kafka else ""
        servers = ",".join(kafka.bootstrap_servers) if kafka else ""
        text = f"Kafka {topics} @ {servers}"
        return f"{file_text}, then {text}" if mode == "filekafka" else text

    def _show_waiting(self) -> None:
        """Panels without samples yet name what they wait for (a Kafka run's topic)."""
        if self.config is None or self.running or any(p.stream is not None for p in self.panels):
            return
        topics = self._detector_topics() if self.live else [None] * len(self._first_panels)
        for panel, topic in zip(self._first_panels, topics):
            panel.set_stream_text(f"topic {topic} (one panel per message key)" if topic else "",
                                  waiting=True)

    def _detector_topics(self) -> list[str | None]:
        kafka = self.config.kafka if self.config else None
        if kafka is None or not kafka.topics:
            return [None] * len(self._first_panels)
        try:
            return list(detector_topics(kafka, len(self.config.detectors)))
        except ValueError:
            return [None] * len(self._first_panels)

    def _build_panels(self, config: RunConfig) -> None:
        for panel in self.panels:
            self.panel_layout.removeWidget(panel)
            panel.deleteLater()
        self.panels = []
        self._first_panels = []
        self._stream_panels = {}
        self.placeholder.hide()
        self.detector_labels = [f"{dc.index}: {dc.algorithm}" for dc in config.detectors]
        for dc in config.detectors:
            panel = self._make_panel(dc.index)
            self.panel_layout.addWidget(panel, 1)
            self.panels.append(panel)
            self._first_panels.append(panel)
        old = self.model
        self.model = AnomalyTableModel(self.detector_labels, max_rows=self.max_table_rows, parent=self)
        self.table.setModel(self.model)
        old.deleteLater()
        self._reset_run_view()

    def _make_panel(self, detector_index: int) -> DetectorPanel:
        """A panel for the config's detector ``detector_index``, its plots wired to the window's
        shared time axis and to "Follow"."""
        dc = self.config.detectors[detector_index]
        detector = DETECTORS.resolve(dc.algorithm)
        panel = DetectorPanel(dc.index, self.detector_labels[detector_index], dict(dc.detector.params),
                              detector.line_names, [(v.name, dict(v.params)) for v in dc.visualizations],
                              history=self.history, own_scale_lines=detector.own_scale_lines,
                              reserve_right_axis=any(DETECTORS.resolve(d.algorithm).own_scale_lines
                                                     for d in self.config.detectors))
        graphs = self.graphs
        for graph in panel.graphs:
            graph.view_box.sigRangeChangedManually.connect(lambda *_: self.set_following(False))
            graph.view_box.sigXRangeChanged.connect(self._mark_range_dirty)
            if graphs and graph is not graphs[0]:
                graph.setXLink(graphs[0])
            elif not graphs and graph is not panel.graphs[0]:
                graph.setXLink(panel.graphs[0])
        return panel

    def _add_stream(self, info: StreamInfo) -> None:
        """A stream's first samples arrived: give it the detector's first panel if that is still
        free, else a new panel below the detector's others, unless ``max_panels`` are shown."""
        self.streams.append(info)
        self.model.stream_labels.append(info.label)
        if info.label:
            self.table.setColumnHidden(STREAM, False)
        self.tallies[info.detector_index].streams += 1
        first = self._first_panels[info.detector_index]
        if first.stream is None:
            first.bind(info)
            self._stream_panels[info.id] = first
            return
        if len(self.panels) >= self.max_panels:
            self.unplotted_streams += 1
            self._update_overflow_note()
            return
        panel = self._make_panel(info.detector_index)
        panel.bind(info)
        # among the detector's panels, in the natural order of their streams (machine-2, machine-10)
        siblings = [p for p in self.panels if p.index == info.detector_index]
        later = [p for p in siblings if natural_key(p.stream.label) > natural_key(info.label)]
        if later:
            self.panels.insert(self.panels.index(later[0]), panel)
            self.panel_layout.insertWidget(self.panel_layout.indexOf(later[0]), panel, 1)
        else:
            self.panels.insert(self.panels.index(siblings[-1]) + 1, panel)
            self.panel_layout.insertWidget(self.panel_layout.indexOf(siblings[-1]) + 1, panel, 1)
        self._stream_panels[info.id] = panel
        self._range_dirty = True

    def _update_overflow_note(self) -> None:
        hidden = self.unplotted_streams
        self.overflow_note.setVisible(hidden > 0)
        if hidden:
            plotted = set(self._stream_panels)
            names = sorted({s.label or s.key for s in self.streams if s.id not in plotted}, key=natural_key)
            shown = ", ".join(html.escape(n) for n in names[:MAX_NAMES_SHOWN])
            more = f" and {len(names) - MAX_NAMES_SHOWN:,} more" if len(names) > MAX_NAMES_SHOWN else ""
            self.overflow_note.setText(
                f"<b>{len(self.streams):,} streams</b> (topic · message key, per detector); the first "
                f"{len(self._stream_panels):,} are plotted (at most {self.max_panels} panels). "
                f"The other {hidden:,} are counted in the status bar and their anomalies are listed "
                f"in the table. Not plotted: {shown}{more}.")

    def _drop_stream_panels(self) -> None:
        """Back to one panel per detector (a new run finds its own streams)."""
        for panel in self.panels:
            if panel not in self._first_panels:
                self.panel_layout.removeWidget(panel)
                panel.deleteLater()
        self.panels = list(self._first_panels)
        self._stream_panels = {}

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
        """Start a run of the loaded config from the chosen source (``mode``); ``source`` replaces
        its file (benchmarks)."""
        if self.running or self.config is None:
            return False
        try:
            setup = RunSetup(self.config, self.log_dir, mode=self.mode, models_dir=self.models_dir)
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
        if self._worker is not None and self.state in (READING, STARTING, CONNECTING, DISCONNECTED):
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
        """The replay speed of file runs (a Kafka run's data comes as it comes)."""
        self.speed_combo.setCurrentIndex(self.speed_combo.findData(key))
        self.speed_actions[key].setChecked(True)
        if self._worker is not None:
            self._worker.set_speed(SPEEDS[key])

    def _reset_run_view(self) -> None:
        self._drop_stream_panels()
        for panel in self.panels:
            panel.clear()
        self.streams = []
        self.unplotted_streams = 0
        self._update_overflow_note()
        self.tallies = [Tally() for _ in self._first_panels]
        self._show_waiting()
        self.model.clear()
        self.model.stream_labels.clear()
        self.table.setColumnHidden(STREAM, True)
        self.samples = self.rejected = 0
        self.progress = (0.0, None)
        self.frames_received = 0
        self._input_rate.clear()
        self.set_following(True)

    def _on_frame(self, frame: Frame) -> None:
        bar = self.table.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum()
        for info in frame.new_streams:
            self._add_stream(info)
        for chunk in frame.chunks:
            if len(chunk) == 0:
                continue
            self.tallies[chunk.detector_index].add(chunk)
            for stream_id, part in chunk.by_stream():
                if stream_id is None:
                    panel = self._first_panels[chunk.detector_index]
                else:
                    panel = self._stream_panels.get(stream_id)
                if panel is not None:  # None: beyond max_panels, counted in the tally only
                    panel.queue(part)
        added = self.model.append(frame.chunks)
        self.samples, self.rejected, self.progress = frame.samples, frame.rejected, frame.progress
        self.frames_received += 1
        if added and at_bottom:
            self.table.scrollToBottom()

    def _on_worker_state(self, state: str) -> None:
        # The worker reports what it did; a later request by the operator wins over a report
        # that crossed it (pause, then resume before the pause was reported).
        crossed = self._pause_requested != (state == PAUSED)
        if state in RUNNING_STATES and (self.state == STOPPING or crossed):
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
        where = ""
        if state in (CONNECTING, DISCONNECTED) and self.config is not None and self.config.kafka:
            servers = ",".join(self.config.kafka.bootstrap_servers)
            where = f" {'to' if state == CONNECTING else 'from'} {html.escape(servers)}"
        self.state_label.setText(f"Source: <b style='color:{colour}'>{state}</b>{where}")
        self.state_label.setToolTip(STATE_TIPS.get(state, ""))
        self.pause_action.setText("Resume" if state in (PAUSED, PAUSING) else "Pause")
        self.pause_action.setIcon(self.style().standardIcon(
            QStyle.SP_MediaPlay if state in (PAUSED, PAUSING) else QStyle.SP_MediaPause))
        self._update_actions()

    def _update_actions(self) -> None:
        running = self.running
        can_run = self.mode in self.available_modes()
        self.start_action.setEnabled(can_run and not running)
        choice = not running and len(self.available_modes()) > 1
        self.mode_combo.setEnabled(choice)
        self.mode_menu.setEnabled(choice)
        self.speed_combo.setEnabled(not self.live)
        self.speed_title.setEnabled(not self.live)
        self.speed_menu.setEnabled(not self.live)
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
            graph.apply_ranges()
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
        parts = [f"<b>{label}</b> {t.samples:,}{f' in {t.streams:,} streams' if t.streams > 1 else ''} · "
                 f"<span style='color:#8a5a00'>{t.counts[0]:,} warn</span> · "
                 f"<span style='color:#b71c1c'>{t.counts[-1]:,} err</span>"
                 for label, t in zip(self.detector_labels, self.tallies)]
        self.counter_label.setText(" &nbsp;|&nbsp; ".join(parts))
        if self.running:
            self.rate_label.setText(f"Input: {self._input_rate.rate():,.0f} samples/s")
        elif self._run_ended_at is not None:
            wall = max(self._run_ended_at - self._run_started_at, 1e-9)
            self.rate_label.setText(f"Input: {self.samples:,} samples in {wall:.{1 if wall >= 10 else 2}f} s "
                                    f"({self.samples / wall:,.0f}/s)")
        else:
            self.rate_label.setText("Input: –")
        if self.rejected:
            # bad input is never silent: the count, and where the records went (the log says too)
            self.rate_label.setText(self.rate_label.text() + f" · <span style='color:#b71c1c'>{self.rejected:,} "
                                    "rejected</span> (see the dead-letter file in the log folder)")
        done, total = self.progress
        # -fk: the warm-up file's progress until it is read; the live part has no end to measure
        shown = bool(total) and not (self.mode == "filekafka" and done >= total)
        prefix = "Warm-up file" if self.mode == "filekafka" else "File"
        self.progress_label.setText(f"{prefix}: {100 * done / total:.0f} %" if shown else "")
        self.progress_label.setVisible(shown)
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
            stream = panel.stream.label if panel.stream is not None else ""
            if stream:
                algorithm += "_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", stream.replace(" · ", "_"))
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
