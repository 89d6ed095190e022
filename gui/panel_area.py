"""The plots: one ``DetectorPanel`` per detector and stream, scrolled, sharing one time axis; the
render tick that draws them; following the newest data and centring on a moment.

Each detector has a first panel from the moment a config is loaded. The first stream of a
detector that sends data takes that panel; each further stream (a Kafka message key) gets a panel
of its own below the detector's others, in the natural order of their names, until
``max_panels`` are shown. Streams beyond that are not plotted, and a note above the plots names
them (the status bar and the table still count them).

Frames are queued into the panels as they arrive; the render tick (up to 60 Hz, only when
something changed) moves queued samples into the ring buffers and redraws. While following, the
area decides one x range for every plot (the widest of the plots' follow ranges) and fits each
plot's y range to it; centring on a moment keeps the width and moves the range there. The plots
then apply the ranges. Panels scrolled out of view are not drawn until they come back.
"""
from __future__ import annotations

import html
import re

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from gui.anomaly_table import format_time
from gui.plots import HISTORY, DetectorPanel, GraphView
from pipeline.config import RunConfig
from pipeline.detectors import DETECTORS
from pipeline.live.frames import DetectorChunk, StreamInfo
from pipeline.live.rate_meter import RateMeter

RENDER_INTERVAL_MS = 16
#: Plot panels at most (one per detector and stream); further streams are counted, not plotted.
MAX_PANELS = 12
#: Unplotted streams named in the note above the plots.
MAX_NAMES_SHOWN = 8


def natural_key(text: str) -> tuple:
    """Sorts "m2" before "m10"."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text) if part)


class PanelArea(QWidget):
    """The scrolled panels, one per detector and stream, with the note on unplotted streams above
    them; owns the render tick, following and centring (see the module doc).

    Signals
    -------
    rendered()
        After every render tick that drew something.
    following_changed(bool)
        "Follow" was turned on or off (a pan or zoom by hand turns it off).
    message(str)
        A short note for the status bar.
    """

    rendered = pyqtSignal()
    following_changed = pyqtSignal(bool)
    message = pyqtSignal(str)

    def __init__(self, history: int = HISTORY, max_panels: int = MAX_PANELS, parent: QWidget | None = None):
        super().__init__(parent)
        self.history = history
        self.max_panels = max_panels
        self.config: RunConfig | None = None
        self.detector_labels: list[str] = []
        self.panels: list[DetectorPanel] = []  # in layout order
        self._first_panels: list[DetectorPanel] = []  # detector i's first panel
        self._stream_panels: dict[int, DetectorPanel] = {}  # stream id -> its panel
        self.streams: list[StreamInfo] = []
        self.unplotted_streams = 0
        self.following = True
        self.frames_rendered = 0
        self.render_rate = RateMeter()
        self._range_dirty = False

        self.panel_widget = QWidget()
        self.panel_layout = QVBoxLayout(self.panel_widget)
        self.panel_layout.setContentsMargins(4, 4, 4, 4)
        self.panel_layout.setSpacing(6)
        self.placeholder = QLabel(
            "<h3>No config loaded</h3><p>Open a config with <b>Open config…</b> (Ctrl+O) or from "
            "<b>File › Recent configs</b>, then press <b>Start</b> (F5).</p>")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.panel_layout.addWidget(self.placeholder)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.scroll.setWidget(self.panel_widget)
        # Panels scrolled out of view are not drawn; showing them again needs a render.
        self.scroll.verticalScrollBar().valueChanged.connect(self.mark_range_dirty)
        # Above the scrolled panels, so it stays in view (and, word-wrapped inside the scroll
        # area, it would make the panels take their size hints instead of their minimum heights).
        self.overflow_note = QLabel()
        self.overflow_note.setTextFormat(Qt.RichText)
        self.overflow_note.setWordWrap(True)
        self.overflow_note.setStyleSheet("background:#fff4e5; border:1px solid #f0a000; padding:4px;")
        self.overflow_note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.overflow_note)
        layout.addWidget(self.scroll, 1)

        self.render_timer = QTimer(self)
        self.render_timer.setTimerType(Qt.PreciseTimer)
        self.render_timer.timeout.connect(self.render_now)
        self.render_timer.start(RENDER_INTERVAL_MS)

    @property
    def graphs(self) -> list[GraphView]:
        return [g for panel in self.panels for g in panel.graphs]

    # -- panels ----------------------------------------------------------------------------------
    def show_config(self, config: RunConfig) -> None:
        """One empty panel per detector of ``config``, replacing whatever was shown."""
        for panel in self.panels:
            self.panel_layout.removeWidget(panel)
            panel.deleteLater()
        self.config = config
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

    def _make_panel(self, detector_index: int) -> DetectorPanel:
        """A panel for the config's detector ``detector_index``, its plots wired to the shared
        time axis and to "Follow"."""
        detectors = self.config.detectors
        dc = detectors[detector_index]
        detector = DETECTORS.resolve(dc.algorithm)
        panel = DetectorPanel(dc.index, self.detector_labels[detector_index], dict(dc.detector.params),
                              detector.line_names, [(v.name, dict(v.params)) for v in dc.visualizations],
                              history=self.history, own_scale_lines=detector.own_scale_lines,
                              reserve_right_axis=any(DETECTORS.resolve(d.algorithm).own_scale_lines
                                                     for d in detectors))
        graphs = self.graphs
        for graph in panel.graphs:
            graph.view_box.sigRangeChangedManually.connect(lambda *_: self.set_following(False))
            graph.view_box.sigXRangeChanged.connect(self.mark_range_dirty)
            if graphs and graph is not graphs[0]:
                graph.setXLink(graphs[0])
            elif not graphs and graph is not panel.graphs[0]:
                graph.setXLink(panel.graphs[0])
        return panel

    def clear(self) -> None:
        """A new run: one empty panel per detector again, no streams, following."""
        for panel in self.panels:
            if panel not in self._first_panels:
                self.panel_layout.removeWidget(panel)
                panel.deleteLater()
        self.panels = list(self._first_panels)
        self._stream_panels = {}
        for panel in self.panels:
            panel.clear()
        self.streams = []
        self.unplotted_streams = 0
        self._update_overflow_note()
        self.set_following(True)

    def show_waiting(self, texts: list[str]) -> None:
        """Before any data, the detectors' first panels name what they wait for (``texts[i]``:
        a Kafka run's topic, or nothing)."""
        if any(panel.stream is not None for panel in self.panels):
            return
        for panel, text in zip(self._first_panels, texts):
            panel.set_stream_text(text, waiting=True)

    def add_stream(self, info: StreamInfo) -> None:
        """A stream's first samples arrived: give it the detector's first panel if that is still
        free, else a new panel below the detector's others, unless ``max_panels`` are shown."""
        self.streams.append(info)
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

    def queue(self, chunk: DetectorChunk) -> None:
        """Hand a detector's new samples to the panels of their streams (drawn on the next tick);
        a stream without a panel is only counted elsewhere."""
        for stream_id, part in chunk.by_stream():
            if stream_id is None:
                panel = self._first_panels[chunk.detector_index]
            else:
                panel = self._stream_panels.get(stream_id)
            if panel is not None:
                panel.queue(part)

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

    # -- drawing ---------------------------------------------------------------------------------
    def mark_range_dirty(self, *_args) -> None:
        self._range_dirty = True

    def set_following(self, follow: bool = True) -> None:
        self.following = bool(follow)
        if self.following:
            for graph in self.graphs:
                graph.cursor.hide()
            self._range_dirty = True
        self.following_changed.emit(self.following)

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
        self.render_rate.add(self.frames_rendered)
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
            self.message.emit(f"{format_time(time_s)} is older than what the plots keep (the last "
                              f"{min(p.history for p in self.panels):,} samples)")
        self._range_dirty = True
        self.render_now()

    def x_range(self) -> tuple[float, float] | None:
        """The time range the plots show (None without plots)."""
        graphs = self.graphs
        return tuple(graphs[0].view_box.viewRange()[0]) if graphs else None

    def refresh(self) -> None:
        """The slow tick: histograms."""
        for panel in self.panels:
            panel.refresh()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._range_dirty = True  # panels may have come into view

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._range_dirty = True
