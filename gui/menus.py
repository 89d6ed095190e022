"""The window's commands: actions with their shortcuts and tips, the menus, the toolbar with the
Source and Replay speed boxes, and the recent configs.

``WindowActions`` builds them on a ``QMainWindow`` and does nothing by itself: the window connects
each action to what it does, hears the operator's choices of source, speed and recent config as
signals, and tells the actions what they may offer (``show_modes``, ``show_speed``,
``enable``). ``RecentConfigs`` keeps the recently opened configs in ``QSettings``.
"""
from __future__ import annotations

import html
from pathlib import Path

from PyQt5.QtCore import QObject, QSettings, Qt, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QActionGroup, QComboBox, QLabel, QMainWindow, QSizePolicy, QStyle, QWidget

from pipeline.config import RunConfig
from pipeline.live.source_choice import available_modes, mode_tip
from pipeline.run_modes import RunMode

#: ``--speed`` values and the replay speed they mean (None = as fast as possible).
SPEEDS = {"max": None, "1": 1.0, "10": 10.0, "100": 100.0}
SPEED_LABELS = {"max": "As fast as possible", "1": "Real time ×1", "10": "Real time ×10",
                "100": "Real time ×100"}
RECENT_KEY = "recent_configs"
MAX_RECENT = 8


class RecentConfigs:
    """The configs opened last, newest first, at most ``MAX_RECENT``."""

    def __init__(self, settings: QSettings):
        self.settings = settings

    def paths(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone entry as a string
            value = [value]
        return list(value or [])

    def remember(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.paths() if p != str(path)]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        self.settings.sync()


class WindowActions(QObject):
    """The actions, menus and toolbar of ``window`` (see the module doc).

    Signals
    -------
    mode_chosen(RunMode), speed_chosen(str), recent_chosen(str)
        The operator picked a source, a replay speed (a key of ``SPEEDS``) or a recent config.
    """

    mode_chosen = pyqtSignal(object)
    speed_chosen = pyqtSignal(str)
    recent_chosen = pyqtSignal(str)

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.open = self._action("Open config…", [QKeySequence.Open], QStyle.SP_DialogOpenButton,
                                 "Open a JSON config")
        self.start = self._action("Start", ["F5", "Ctrl+R"], QStyle.SP_MediaPlay,
                                  "Start a run of the loaded config")
        self.pause = self._action("Pause", ["Space", "F6"], QStyle.SP_MediaPause, "Pause or resume the run")
        self.stop = self._action("Stop", ["Shift+F5"], QStyle.SP_MediaStop, "Stop the run (outputs are flushed)")
        self.follow = self._action("Follow", ["End"], QStyle.SP_MediaSeekForward,
                                   "Keep the newest data in view", checkable=True)
        self.follow.setChecked(True)
        self.export_csv = self._action("Export anomalies as CSV…", ["Ctrl+E"],
                                       tip="Save the anomaly table as CSV")
        self.export_png = self._action("Export plots as PNG…", ["Ctrl+Shift+E"],
                                       tip="Save every plot as a PNG file")
        self.quit = self._action("Quit", [QKeySequence.Quit])
        self.speed_group = QActionGroup(self)
        self.speed_actions = {}
        for key, label in SPEED_LABELS.items():
            action = QAction(label, self, checkable=True)
            action.triggered.connect(lambda _checked, k=key: self.speed_chosen.emit(k))
            self.speed_group.addAction(action)
            self.speed_actions[key] = action
        self.mode_group = QActionGroup(self)
        self.mode_actions = {}
        for mode in RunMode:
            action = QAction(mode.label, self, checkable=True)
            action.triggered.connect(lambda _checked, m=mode: self.mode_chosen.emit(m))
            self.mode_group.addAction(action)
            self.mode_actions[mode] = action
        self._build_menus()
        self._build_toolbar()

    def _action(self, text: str, shortcuts=(), icon=None, tip: str = "", checkable=False) -> QAction:
        action = QAction(text, self.window)
        if icon is not None:
            action.setIcon(self.window.style().standardIcon(icon))
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        keys = ", ".join(QKeySequence(s).toString(QKeySequence.NativeText) for s in shortcuts)
        action.setToolTip(f"{tip or text} ({keys})" if keys else (tip or text))
        action.setStatusTip(tip or text)
        action.setCheckable(checkable)
        return action

    def _build_menus(self) -> None:
        menu_bar = self.window.menuBar()
        file_menu = menu_bar.addMenu("&File")
        file_menu.addAction(self.open)
        self.recent_menu = file_menu.addMenu("Recent configs")
        file_menu.addSeparator()
        export_menu = file_menu.addMenu("Export")
        export_menu.addAction(self.export_csv)
        export_menu.addAction(self.export_png)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        run_menu = menu_bar.addMenu("&Run")
        for action in (self.start, self.pause, self.stop):
            run_menu.addAction(action)
        self.mode_menu = run_menu.addMenu("Source")
        for action in self.mode_actions.values():
            self.mode_menu.addAction(action)
        self.speed_menu = run_menu.addMenu("Replay speed")
        for action in self.speed_actions.values():
            self.speed_menu.addAction(action)
        view_menu = menu_bar.addMenu("&View")
        view_menu.addAction(self.follow)

    def _build_toolbar(self) -> None:
        bar = self.window.addToolBar("Run")
        bar.setObjectName("run_toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        bar.addAction(self.open)
        bar.addSeparator()
        for action in (self.start, self.pause, self.stop):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Source: "))
        self.mode_combo = QComboBox()
        for mode in RunMode:
            self.mode_combo.addItem(mode.label, mode.value)
        self.mode_combo.activated.connect(
            lambda i: self.mode_chosen.emit(RunMode(self.mode_combo.itemData(i))))
        bar.addWidget(self.mode_combo)
        self.speed_title = QLabel(" Replay speed: ")
        bar.addWidget(self.speed_title)
        self.speed_combo = QComboBox()
        for key, label in SPEED_LABELS.items():
            self.speed_combo.addItem(label, key)
        self.speed_combo.activated.connect(lambda i: self.speed_chosen.emit(self.speed_combo.itemData(i)))
        bar.addWidget(self.speed_combo)
        bar.addSeparator()
        bar.addAction(self.follow)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        bar.addWidget(spacer)
        self.run_label = QLabel()
        self.run_label.setTextFormat(Qt.RichText)
        self.run_label.setContentsMargins(0, 0, 8, 0)
        bar.addWidget(self.run_label)

    # -- what the actions show -------------------------------------------------------------------
    @property
    def speed(self) -> str:
        return self.speed_combo.currentData()

    def show_speed(self, key: str) -> None:
        self.speed_combo.setCurrentIndex(self.speed_combo.findData(key))
        self.speed_actions[key].setChecked(True)

    def show_modes(self, config: RunConfig | None, mode: RunMode) -> None:
        """The Source box and menu offer what ``config`` has, ``mode`` chosen; the replay speed
        follows the mode."""
        available = available_modes(config)
        items = self.mode_combo.model()
        for i in range(self.mode_combo.count()):
            key = RunMode(self.mode_combo.itemData(i))
            tip = mode_tip(config, key)
            items.item(i).setEnabled(key in available)
            items.item(i).setToolTip(tip)
            self.mode_actions[key].setEnabled(key in available)
            self.mode_actions[key].setToolTip(tip)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode.value))
        self.mode_actions[mode].setChecked(True)
        self.mode_combo.setToolTip("What Start reads: the config's file (like -f), its Kafka topics "
                                   "(like no flag), or the file as warm-up and then the topics (-fk)")
        live = mode.reads_kafka
        self.speed_combo.setToolTip(
            "Kafka data is live: it is shown as it arrives (a file read first as warm-up is read "
            "as fast as possible)" if live else
            "File runs: as fast as possible, or in real time scaled by the data's timestamps")
        self.speed_title.setToolTip(self.speed_combo.toolTip())
        self.speed_title.setText(" Replay speed (file runs): " if live else " Replay speed: ")

    def show_run(self, config_path: Path | None, reads: str) -> None:
        """The run label: the config's file name and what Start reads (empty without a config)."""
        if config_path is None:
            self.run_label.setText("")
            return
        self.run_label.setText(f"<b>{html.escape(config_path.name)}</b> &nbsp;·&nbsp; {html.escape(reads)}")
        self.run_label.setToolTip(f"{config_path}\n{reads}")

    def show_paused(self, paused: bool) -> None:
        """The pause button offers Resume while paused."""
        self.pause.setText("Resume" if paused else "Pause")
        self.pause.setIcon(self.window.style().standardIcon(
            QStyle.SP_MediaPlay if paused else QStyle.SP_MediaPause))

    def enable(self, *, running: bool, can_start: bool, can_pause: bool, can_stop: bool,
               mode_choice: bool, live: bool, has_config: bool, has_plots: bool) -> None:
        self.start.setEnabled(can_start)
        self.mode_combo.setEnabled(mode_choice)
        self.mode_menu.setEnabled(mode_choice)
        for widget in (self.speed_combo, self.speed_title, self.speed_menu):
            widget.setEnabled(not live)
        self.pause.setEnabled(can_pause)
        self.stop.setEnabled(can_stop)
        self.open.setEnabled(not running)
        self.recent_menu.setEnabled(not running)
        self.export_csv.setEnabled(has_config)
        self.export_png.setEnabled(has_plots)

    def show_recent(self, paths: list[str], running: bool) -> None:
        self.recent_menu.clear()
        for i, path in enumerate(paths, start=1):
            action = self.recent_menu.addAction(f"&{i} {Path(path).name}   ({Path(path).parent})")
            action.triggered.connect(lambda _checked, p=path: self.recent_chosen.emit(p))
        if not paths:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        self.recent_menu.setEnabled(not running)
