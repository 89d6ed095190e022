"""The main window: open a config, run it, watch the detectors, export what was found.

Layout: toolbar (Open, Start, Pause/Resume, Stop, source, replay speed, Follow); one
``DetectorPanel`` per detector and stream, their scrolling plots sharing the time axis; the
anomaly table below; the status bar with per-detector counters, the input rate, the source state
and the drawing rate.

Sources: a run reads the config's file (``-f``), its Kafka topics (the default of ``main.py -c``),
or the file as warm-up and then the topics (``-fk``); the Source box offers what the config has.
Kafka data is live, so the replay speed applies to file runs only. Each (topic, message key) gets
its own panel when its first message arrives, up to ``max_panels`` panels.

The window is a shell that wires one owner per concern: ``WindowActions`` (menus.py: actions,
menus, toolbar), ``RunController`` (the run on its worker thread, its ``RunState``), ``PanelArea``
(the panels, the render tick, follow and centre-on), ``AnomalyPane`` (the table), ``RunStatus``
(the status bar, drawn from ``RunTotals`` on the 4 Hz slow tick) and ``export``. Clicking a table
row centres the plots on that anomaly. Dialogs are non-modal (``open()``), so the window never
blocks and tests can answer them.
"""
from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QSplitter

from gui import export
from gui.anomaly_table import MAX_ROWS, AnomalyPane
from gui.menus import SPEEDS, RecentConfigs, WindowActions
from gui.panel_area import MAX_PANELS, PanelArea
from gui.plots import HISTORY, configure_pyqtgraph
from gui.run_controller import RunController, StartError
from gui.status_bar import RunStatus
from pipeline.config import ConfigError, load_config
from pipeline.live.frames import Frame
from pipeline.live.run_state import RunState
from pipeline.live.source_choice import waiting_texts, what_start_reads, why_unavailable
from pipeline.live.totals import RunTotals
from pipeline.live.watched_run import BATCH_SIZE
from pipeline.paths import CONFIG_DIR, DEFAULT_LOG_DIR, DEFAULT_MODELS_DIR
from pipeline.run_modes import RunMode

ORGANIZATION = "StreamAnomalyMonitor"
APPLICATION = "Stream Anomaly Monitor"
MAX_PROBLEMS_SHOWN = 12
SLOW_INTERVAL_MS = 250


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
        self.recent = RecentConfigs(settings if settings is not None else QSettings(ORGANIZATION, "monitor"))
        self.runs = RunController(self.log_dir, Path(models_dir), batch_size, parent=self)
        self.totals = RunTotals()
        self.last_error: str | None = None
        self.message_box: QMessageBox | None = None
        self._close_requested = False
        self._dialog: QFileDialog | None = None

        self.setWindowTitle(APPLICATION)
        self.resize(1400, 900)
        self.commands = WindowActions(self)
        self.panel_area = PanelArea(history, max_panels)
        self.anomalies = AnomalyPane(max_table_rows)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(self.panel_area)
        self.splitter.addWidget(self.anomalies)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([3000, 1000])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.status = RunStatus(self.statusBar())
        self._wire()
        self.commands.show_recent(self.recent.paths(), running=False)
        self.set_speed(speed)
        self._refresh_modes()
        self._show_state(self.runs.state)
        self._refresh_status()
        self.slow_timer = QTimer(self)
        self.slow_timer.timeout.connect(self._refresh_status)
        self.slow_timer.start(SLOW_INTERVAL_MS)

    def _wire(self) -> None:
        commands, runs, area = self.commands, self.runs, self.panel_area
        commands.open.triggered.connect(self.open_config_dialog)
        commands.start.triggered.connect(lambda: self.start())
        commands.pause.triggered.connect(runs.toggle_pause)
        commands.stop.triggered.connect(self.stop)
        commands.follow.triggered.connect(self.set_following)
        commands.export_csv.triggered.connect(self.export_csv_dialog)
        commands.export_png.triggered.connect(self.export_png_dialog)
        commands.quit.triggered.connect(self.close)
        commands.mode_chosen.connect(self.set_mode)
        commands.speed_chosen.connect(self.set_speed)
        commands.recent_chosen.connect(self.load_config)
        runs.state_changed.connect(self._show_state)
        runs.frame_ready.connect(self._on_frame)
        runs.failed.connect(self._on_failed)
        runs.finished.connect(self._on_run_finished)
        area.rendered.connect(self.rendered)
        area.following_changed.connect(commands.follow.setChecked)
        area.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.anomalies.row_activated.connect(self.centre_on)

    # -- what the parts hold, read by the tests, the benchmarks and app.py --------------------------
    config = property(lambda self: self.runs.config)
    state = property(lambda self: self.runs.state)
    running = property(lambda self: self.runs.running)
    mode = property(lambda self: self.runs.mode)
    samples = property(lambda self: self.totals.samples)
    frames_received = property(lambda self: self.totals.frames)
    frames_rendered = property(lambda self: self.panel_area.frames_rendered)
    panels = property(lambda self: self.panel_area.panels)
    graphs = property(lambda self: self.panel_area.graphs)
    following = property(lambda self: self.panel_area.following)
    panel_scroll = property(lambda self: self.panel_area.scroll)
    follow_action = property(lambda self: self.commands.follow)
    model = property(lambda self: self.anomalies.model)
    table = property(lambda self: self.anomalies.table)

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
        self.recent.remember(config.source)
        self.commands.show_recent(self.recent.paths(), running=False)
        self.panel_area.show_config(config)
        self.anomalies.show_detectors(self.panel_area.detector_labels)
        self.runs.load(config)
        self._reset_run_view()
        self._refresh_modes()
        if not self.available_modes():
            self.show_message(QMessageBox.Information, "Nothing to read",
                              f"{config.name} names neither a file_name nor Kafka topics, so "
                              "there is nothing to run. Add one of them to the config.")
        self.statusBar().showMessage(f"Loaded {config.source}", 5000)
        self.config_loaded.emit(config)
        return True

    # -- the source: file, Kafka, or file then Kafka ---------------------------------------------
    def available_modes(self) -> list[RunMode]:
        """The run modes the loaded config allows, in ``RunMode`` order."""
        return self.runs.available_modes()

    def set_mode(self, mode: RunMode | str) -> bool:
        """Choose what Start reads: "file", "kafka" or "filekafka" (as ``-f``, no flag, ``-fk``).
        False, and nothing changes, while a run goes or when the config does not have it."""
        chosen = self.runs.set_mode(mode)
        self._refresh_modes()
        if chosen and self.config is not None and not self.running:
            self.panel_area.show_waiting(waiting_texts(self.config, self.mode))
        return chosen

    def explain_unavailable_mode(self, mode: RunMode | str) -> None:
        """Say why the config cannot run ``mode``, and what Start does instead."""
        mode = RunMode(mode)
        self.show_message(QMessageBox.Information, f"No {mode.label} source",
                          why_unavailable(self.config, mode, self.mode))

    def _refresh_modes(self) -> None:
        """Source box, Source menu, replay speed, run label and title follow the mode."""
        config = self.config
        self.commands.show_modes(config, self.mode)
        reads = what_start_reads(config, self.mode) if config is not None else ""
        self.commands.show_run(config.source if config is not None else None, reads)
        if config is not None:
            self.setWindowTitle(f"{config.name} — {reads} — {APPLICATION}")
        self._update_actions()

    # -- running ---------------------------------------------------------------------------------
    def start(self, source=None) -> bool:
        """Start a run of the loaded config from the chosen source (``mode``); ``source`` replaces
        its file (benchmarks)."""
        try:
            if not self.runs.start(source):
                return False
        except StartError as err:
            self.last_error = str(err)
            self.show_message(QMessageBox.Critical, "Cannot start", str(err))
            return False
        self._reset_run_view()  # frames are queued to this thread, so none is handled before this
        self.last_error = None
        self.run_started.emit()
        return True

    def stop(self) -> None:
        self.runs.stop()

    def set_speed(self, key: str) -> None:
        """The replay speed of file runs (a Kafka run's data comes as it comes)."""
        self.commands.show_speed(key)
        self.runs.set_speed(SPEEDS[key])

    def _reset_run_view(self) -> None:
        self.panel_area.clear()
        self.panel_area.show_waiting(waiting_texts(self.config, self.mode))
        self.anomalies.clear()
        self.totals.reset(len(self.config.detectors))
        self.status.input_rate.clear()

    def _on_frame(self, frame: Frame) -> None:
        for info in frame.new_streams:
            self.panel_area.add_stream(info)
        for chunk in frame.chunks:
            if len(chunk):
                self.panel_area.queue(chunk)
        self.totals.add(frame)
        self.anomalies.add_frame(frame)

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        self.show_message(
            QMessageBox.Critical, "Run failed",
            f"The run stopped on an error:\n\n{message}\n\nEverything processed before the error "
            f"was written to the configured outputs (relative paths are under {self.log_dir}).")

    def _on_run_finished(self, outcome: RunState) -> None:
        self.render_now()
        self._refresh_status()
        self._update_actions()
        self.statusBar().showMessage(f"Run {outcome.value}", 10000)  # the counts are on the right
        self.run_finished.emit(outcome.value)
        if self._close_requested:
            self.close()

    def _show_state(self, state: RunState) -> None:
        kafka = self.config.kafka if self.config is not None else None
        self.status.show_state(state, ",".join(kafka.bootstrap_servers) if kafka else None)
        self.commands.show_paused(state.is_paused)
        self._update_actions()

    def _update_actions(self) -> None:
        running, state = self.running, self.state
        modes = self.available_modes()
        self.commands.enable(
            running=running, can_start=self.mode in modes and not running,
            can_pause=running and state not in (RunState.STOPPING, RunState.STARTING),
            can_stop=running and state != RunState.STOPPING and not state.is_outcome,
            mode_choice=not running and len(modes) > 1,
            live=self.mode.reads_kafka, has_config=self.config is not None, has_plots=bool(self.panels))

    # -- drawing ---------------------------------------------------------------------------------
    def set_following(self, follow: bool = True) -> None:
        self.panel_area.set_following(follow)

    def render_now(self) -> None:
        self.panel_area.render_now()

    def centre_on(self, time_s: float) -> None:
        """Stop following and centre every scrolling plot on ``time_s``, marked by a cursor."""
        self.panel_area.centre_on(time_s)

    def _refresh_status(self) -> None:
        self.panel_area.refresh()
        running = self.running
        ended_wall_s = self.runs.wall_s if self.runs.ended_at is not None else None
        self.status.refresh(self.panel_area.detector_labels, self.totals, self.mode, running,
                            ended_wall_s, self.panel_area.render_rate.rate())
        self.anomalies.refresh_title()
        if not running and self.panel_area.render_rate.rate():
            self.panel_area.render_rate.clear()

    # -- exporting -------------------------------------------------------------------------------
    def export_anomalies_csv(self, path: Path) -> int:
        """Write the anomaly table to ``path``; returns the number of rows."""
        return self.model.export_csv(Path(path))

    def export_plots_png(self, directory: Path) -> list[Path]:
        """Save every plot as ``<config>_<detector>_<view>.png`` in ``directory``."""
        return export.export_plots_png(self.panel_area, directory, self._name("plots"))

    def export_csv_dialog(self) -> None:
        default = self.log_dir / f"{self._name('anomalies')}_anomalies.csv"
        self._export(export.csv_dialog, self.model, default)

    def export_png_dialog(self) -> None:
        self._export(export.png_dialog, self.panel_area, self.log_dir, self._name("plots"))

    def _export(self, dialog, *args) -> None:
        try:
            done = dialog(self, *args)
        except OSError as err:
            self.show_message(QMessageBox.Critical, "Export failed", str(err))
            return
        if done:
            self.statusBar().showMessage(done, 8000)

    def _name(self, default: str) -> str:
        return self.config.name if self.config is not None else default

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

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.panel_area.mark_range_dirty()  # a window restored from minimised: its panels are back

    def closeEvent(self, event) -> None:
        """During a run: stop it, and close once its thread has ended (outputs flushed)."""
        if self.running:
            self._close_requested = True
            self.stop()
            self.statusBar().showMessage("Stopping the run and flushing outputs before closing…")
            event.ignore()
            return
        self.panel_area.render_timer.stop()
        self.slow_timer.stop()
        event.accept()
