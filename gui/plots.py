"""One panel per detector and stream: the scrolling plot, and the histogram and status points if
asked for. A file run has one stream per detector; a Kafka run one per topic and message key, each
with its own detector state, so each gets its own panel (``DetectorPanel.stream``, shown in its
header).

A ``DetectorPanel`` keeps the detector's recent samples in ring buffers (x = time, value, status,
the detector's lines; and the anomaly markers), so memory stays flat on an endless stream. Frames
are queued as they arrive and applied on the window's render tick, right before ``setData``, so a
buffer never changes under a curve that is about to be painted.

Views (the config's ``visualization`` entries):

- ``GraphView`` (GraphVisualization): value and detector lines over time, clip-to-view and peak
  downsampling, limits dashed (a line that is constant in view, like BorderCheck's limits, is one
  level line); all anomaly markers in one scatter item holding only the visible window (warnings
  amber, errors red, undefined grey). ``num_of_points`` sets the followed window. Curves get only
  the samples around the visible range, so a frame costs what is on screen, not the history.
  Lines that are not in the values' units (``Detector.own_scale_lines``, e.g. RRCF's codisp) are
  drawn against a second y axis on the right, each axis fitted to its own lines.
- ``HistogramView`` (HistogramVisualization): the values held in the panel's buffer, in
  ``num_of_bins`` bins over ``range`` (or the data's range); refreshed on the slow timer.
- ``StatusPointsView`` (StatusPointsVisualization): the last ``num_of_points`` samples as points
  coloured by status.
"""
from __future__ import annotations

import html
import logging
import warnings
from typing import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (MINUTE_SPACING, MS_SPACING, TickSpec, ZoomLevel,
                                                  makeMSStepper, makeSStepper)
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui import theme
from pipeline.live.ring_buffer import RingBuffer
from pipeline.live.frames import DetectorChunk
from pipeline.records import Status

log = logging.getLogger(__name__)

#: Samples per detector kept for scrolling back in time (at least twice the longest plot window).
HISTORY = 100_000
#: Anomaly and undefined markers kept per detector.
MARKER_HISTORY = 20_000
#: Most markers drawn at once; beyond it the visible ones are thinned, errors first kept.
MAX_MARKERS = 4000
DEFAULT_WINDOW = 500
MAX_PARAMS_TEXT = 110
#: Samples per pixel kept by the automatic peak downsampling (as min/max pairs).
DOWNSAMPLE_FACTOR = 1.0
AXIS_WIDTH = 64

X, VALUE, CODE = 0, 1, 2
MARKER_CODES = (Status.ERROR, Status.WARNING, Status.UNDEFINED)


def configure_pyqtgraph() -> None:
    """Light theme (readable in screenshots and print) and fast drawing."""
    pg.setConfigOptions(background=theme.BACKGROUND, foreground=theme.FOREGROUND, antialias=False)


#: Below one second per tick, show the whole time of day with milliseconds, not just "09.250".
MS_ZOOM_LEVEL = ZoomLevel([
    TickSpec(MINUTE_SPACING, makeSStepper(MINUTE_SPACING), "%H:%M:%S"),
    TickSpec(MS_SPACING, makeMSStepper(MS_SPACING), "%H:%M:%S.%f", autoSkip=[1, 5, 10, 25]),
], "99:99:99.999")


class TimeAxis(pg.DateAxisItem):
    """Epoch seconds as UTC time of day (dates when zoomed out)."""

    def __init__(self):
        super().__init__(orientation="bottom", utcOffset=0)
        self.zoomLevels[1] = MS_ZOOM_LEVEL
        # DateAxisItem already spaces ticks by the width of their text; pyqtgraph's default fill
        # limit (0.8) then hides every label of a level with long labels like "00:05:09.500".
        self.setStyle(textFillLimits=[(0, 0.95), (2, 0.6), (4, 0.4), (6, 0.2)])
        self.setLabel("time (UTC)")


def legend_html(line_names: Sequence[str], markers: bool = True, ok_points: bool = False,
                own_scale_lines: Sequence[str] = ()) -> str:
    """The legend as one line of text above the plots, so it never covers the data; lines drawn
    against the right axis (``own_scale_lines``) say so."""
    def entry(colour: str, glyph: str, name: str) -> str:
        return f"<span style='color:{colour}'>{glyph}</span>&nbsp;{name}"

    def named(names: Sequence[str]) -> str:
        text = " / ".join(names)
        return f"{text} (right axis)" if names[0] in own_scale_lines else text
    entries = [entry(theme.VALUE_COLOR, "━━", "value")]
    entries += [entry(theme.line_color(name, i), "━━", named([name]))
                for i, name in enumerate(line_names) if name not in theme.LIMIT_LINES]
    for on_right in (False, True):
        limits = [name for name in line_names
                  if name in theme.LIMIT_LINES and (name in own_scale_lines) == on_right]
        if limits:
            entries.append(entry(theme.LIMIT_COLOR, "╍╍", named(limits)))
    if markers:
        glyphs = {Status.ERROR: "●", Status.WARNING: "▲", Status.UNDEFINED: "■"}
        entries += [entry(theme.STATUS_COLORS[s], glyphs[s], theme.STATUS_NAMES[s]) for s in MARKER_CODES]
    if ok_points:
        entries.append(entry(theme.STATUS_COLORS[Status.OK], "●", "OK (status points)"))
    return "&nbsp;&nbsp;&nbsp;".join(entries)


def thin_markers(codes: np.ndarray, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` markers: errors, then warnings, then undefined, each evenly
    thinned when it does not fit."""
    chosen = []
    room = limit
    for code in MARKER_CODES:
        idx = np.flatnonzero(codes == code)
        if len(idx) > room:
            idx = idx[np.linspace(0, len(idx) - 1, room).astype(np.int64)] if room > 0 else idx[:0]
        chosen.append(idx)
        room -= len(idx)
    return np.sort(np.concatenate(chosen))


class GraphView(pg.PlotWidget):
    """The scrolling plot of one detector (see the module doc).

    The panel's ``own_scale_lines`` live in ``right_box``, a second view box over the plot's own
    (pyqtgraph's MultiplePlotAxes recipe): it shares the x range, has its own y range and is shown
    by the right axis. Without such lines ``right_box`` is None and the right axis hidden; with
    ``reserve_right_axis`` its width is kept free all the same (see ``DetectorPanel``).
    """

    def __init__(self, panel: "DetectorPanel", num_of_points: int = DEFAULT_WINDOW):
        super().__init__(axisItems={"bottom": TimeAxis()})
        self.panel = panel
        self.num_of_points = num_of_points
        item = self.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("left", "value")
        # The same axis width in every panel, so that linked plots show the same time range.
        item.getAxis("left").setWidth(AXIS_WIDTH)
        item.setMenuEnabled(False)  # its plot options would reset clip/downsampling per curve
        own_scale = panel.own_scale_lines
        self.right_box = self._add_right_box(own_scale) if own_scale else None
        if not own_scale and panel.reserve_right_axis:
            item.layout.setColumnFixedWidth(2, AXIS_WIDTH)  # PlotItem's right-axis column
        # Width-1 pens: wider ones take Qt's slow stroking path on every frame.
        self.value_curve = item.plot(pen=pg.mkPen(theme.VALUE_COLOR, width=1), name="value")
        self.line_curves = {}
        for i, name in enumerate(panel.line_names):
            if name in own_scale:
                # Not added through the PlotItem, so its clip and downsampling options are set here.
                curve = pg.PlotDataItem(pen=theme.line_pen(name, i), name=name, connect="finite")
                curve.setClipToView(True)
                curve.setDownsampling(auto=True, method="peak")
                self.right_box.addItem(curve)
            else:
                curve = item.plot(pen=theme.line_pen(name, i), name=name, connect="finite")
            self.line_curves[name] = curve
        # A line that is constant over the view (fixed limits) is drawn as one level line
        # instead of a curve of thousands of points.
        self.level_lines = {name: pg.InfiniteLine(angle=0, movable=False, pen=theme.line_pen(name, i))
                            for i, name in enumerate(panel.line_names)}
        for name, level in self.level_lines.items():
            level.hide()
            (self.right_box if name in own_scale else item).addItem(level, ignoreBounds=True)
        # The ring rows that each y axis is fitted to.
        self._value_rows = tuple(CODE + 1 + i for i, name in enumerate(panel.line_names)
                                 if name not in own_scale)
        self._own_scale_rows = tuple(CODE + 1 + i for i, name in enumerate(panel.line_names)
                                     if name in own_scale)
        for curve in self.curves:
            # Peak downsampling to one min/max pair per pixel (pyqtgraph keeps ~5 per pixel by
            # default, five times the work for no visible difference); no setter exists for it.
            curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
            # The y range is fitted every frame; this limit would redo the downsampling each time.
            curve.setDynamicRangeLimit(None)
        self.markers = pg.ScatterPlotItem(pen=None)
        self.markers.setZValue(10)
        item.getViewBox().addItem(self.markers)  # not a curve: keeps PlotItem's curve options intact
        self.cursor = pg.InfiniteLine(angle=90, movable=False,
                                      pen=pg.mkPen(theme.CURSOR_COLOR, width=1, style=Qt.DotLine))
        self.cursor.setZValue(20)
        self.cursor.hide()
        item.addItem(self.cursor, ignoreBounds=True)
        self._marker_key = None
        self._loaded = (np.inf, -np.inf)  # x span handed to the curves
        self.markers_drawn = 0

    def _add_right_box(self, names: Sequence[str]) -> pg.ViewBox:
        """The view box of the lines in ``names``, shown by the right axis."""
        item = self.getPlotItem()
        box = pg.ViewBox(enableMenu=False)
        box.setMouseEnabled(x=False, y=False)
        # Below the main view box (z -100): that one keeps receiving the drags and wheel turns
        # that pan, zoom and stop following; the x link carries them over here.
        box.setZValue(-101)
        self.scene().addItem(box)
        box.setXLink(item.getViewBox())
        item.showAxis("right")
        axis = item.getAxis("right")
        axis.linkToView(box)
        axis.setWidth(AXIS_WIDTH)
        axis.setGrid(False)  # one grid, the value axis's
        axis.setLabel(" / ".join(names))
        item.getViewBox().sigResized.connect(self._match_main_view)
        return box

    def _match_main_view(self) -> None:
        """Give the right view box the main one's place (and so its x range) after a resize."""
        main = self.view_box
        self.right_box.setGeometry(main.sceneBoundingRect())
        self.right_box.linkedViewChanged(main, pg.ViewBox.XAxis)

    @property
    def curves(self) -> list[pg.PlotDataItem]:
        return [self.value_curve, *self.line_curves.values()]

    @property
    def view_box(self) -> pg.ViewBox:
        return self.getPlotItem().getViewBox()

    def apply_ranges(self) -> None:
        """Apply range changes now: left to paint time, they make pyqtgraph paint twice."""
        self.view_box.updateMatrix()
        if self.right_box is not None:
            self.right_box.updateMatrix()

    def clear_data(self) -> None:
        for curve in self.curves:
            curve.setData([], [])
            curve.setClipToView(True)
        for level in self.level_lines.values():
            level.hide()
        self.markers.clear()
        self.cursor.hide()
        self._marker_key = None
        self._loaded = (np.inf, -np.inf)

    def follow_range(self) -> tuple[float, float] | None:
        """The x range that shows the newest ``num_of_points`` samples (filling from the left
        until there are that many)."""
        ring = self.panel.ring
        if ring.count == 0:
            return None
        x = ring.view()[X]
        last = float(x[-1])
        n = self.num_of_points
        if ring.count >= n:
            return float(x[-n]), last
        first = float(x[0])
        if ring.count < 2 or last <= first:
            return first - 0.5, first + 0.5
        return first, first + (last - first) * (n - 1) / (ring.count - 1)

    def fit_y(self, left: float, right: float) -> None:
        """Fit the y range to the values and value-unit lines between ``left`` and ``right``, and
        the right axis's y range to its own lines there (kept while they are all NaN)."""
        ring = self.panel.ring
        if ring.count == 0:
            return
        data = ring.view()
        x = data[X]
        if self.panel.monotonic:
            visible = slice(np.searchsorted(x, left), np.searchsorted(x, right, side="right"))
        else:
            visible = (x >= left) & (x <= right)
        values = data[VALUE, visible]
        if len(values) == 0:
            return
        lo, hi = float(values.min()), float(values.max())  # values are always finite
        lines_lo, lines_hi = line_span(data, self._value_rows, visible)
        if np.isfinite(lines_lo) and np.isfinite(lines_hi):
            lo, hi = min(lo, lines_lo), max(hi, lines_hi)
        set_y_range(self.view_box, lo, hi)
        if self.right_box is not None:
            lo, hi = line_span(data, self._own_scale_rows, visible)
            if np.isfinite(lo) and np.isfinite(hi):
                set_y_range(self.right_box, lo, hi)

    def release_data(self) -> None:
        """Drop the curves' data before a range change that ``render`` follows with new data,
        so pyqtgraph clips and downsamples once per frame instead of twice."""
        for curve in self.curves:
            curve.clear()
        self._loaded = (np.inf, -np.inf)

    def render(self, data_changed: bool) -> None:
        """Hand the curves the samples around the visible range (pyqtgraph then clips and
        downsamples those): the cost of a frame follows what is on screen, not the history."""
        data = self.panel.ring.view()
        x = data[X]
        if not self.panel.monotonic:
            self._render_unordered(data, data_changed)
            return
        (left, right), _ = self.view_box.viewRange()
        lo, hi = self._loaded
        need_older = left < lo and (len(x) == 0 or lo > x[0])
        need_newer = right > hi and (len(x) == 0 or hi < x[-1])
        if data_changed or need_older or need_newer:
            i0, i1 = np.searchsorted(x, left), np.searchsorted(x, right, side="right")
            margin = max(2, (i1 - i0) // 2)  # panning a little needs no new slice
            i0, i1 = max(0, i0 - margin), min(len(x), i1 + margin)
            part = data[:, i0:i1]
            self._loaded = (part[X, 0], part[X, -1]) if i1 > i0 else (np.inf, -np.inf)
            self.value_curve.setData(part[X], part[VALUE], connect="all", skipFiniteCheck=True)
            for i, name in enumerate(self.line_curves):
                self._set_line(name, part[X], part[CODE + 1 + i])
        self._render_markers()

    def _set_line(self, name: str, x: np.ndarray, y: np.ndarray) -> None:
        curve, level = self.line_curves[name], self.level_lines[name]
        if len(y) and y[0] == y.min() == y.max():  # False for NaN
            level.setValue(float(y[0]))
            level.show()
            curve.clear()
        else:
            level.hide()
            curve.setData(x, y, connect="finite")

    def _render_unordered(self, data: np.ndarray, data_changed: bool) -> None:
        """Timestamps that go back in time: slicing and pyqtgraph's clipping both assume sorted
        x, so the whole buffer is drawn as it came."""
        if data_changed or self._loaded != (-np.inf, np.inf):
            for curve in self.curves:
                curve.setClipToView(False)
            for level in self.level_lines.values():
                level.hide()
            self._loaded = (-np.inf, np.inf)
            self.value_curve.setData(data[X], data[VALUE], connect="all", skipFiniteCheck=True)
            for i, curve in enumerate(self.line_curves.values()):
                curve.setData(data[X], data[CODE + 1 + i], connect="finite")
        self._render_markers()

    def _render_markers(self) -> None:
        (left, right), _ = self.view_box.viewRange()
        key = (left, right, self.panel.markers.total)
        if key == self._marker_key:
            return
        self._marker_key = key
        m = self.panel.markers.view()
        visible = np.flatnonzero((m[X] >= left) & (m[X] <= right))
        codes = m[CODE, visible].astype(np.int64)
        if len(visible) > MAX_MARKERS:
            keep = thin_markers(codes, MAX_MARKERS)
            visible, codes = visible[keep], codes[keep]
        lut = codes + 1
        self.markers.setData(x=m[X, visible], y=m[VALUE, visible], brush=theme.BRUSHES[lut],
                             symbol=theme.SYMBOLS[lut], size=theme.SIZES[lut])
        self.markers_drawn = len(visible)

    def refresh(self) -> None:
        """Everything is drawn on the render tick."""

    def show_cursor(self, time_s: float) -> None:
        self.cursor.setValue(time_s)
        self.cursor.show()


def line_span(data: np.ndarray, rows: Sequence[int], visible) -> tuple[float, float]:
    """The smallest and largest non-NaN value of ``data``'s ``rows`` at the columns ``visible``;
    (inf, -inf) when there is none. Row by row, so a slice takes no copy."""
    lo, hi = np.inf, -np.inf
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN while warming up
        for row in rows:
            line = data[row, visible]
            lo = np.fmin(lo, np.nanmin(line))  # fmin: a NaN minimum leaves lo as it was
            hi = np.fmax(hi, np.nanmax(line))
    return float(lo), float(hi)


def set_y_range(box: pg.ViewBox, lo: float, hi: float) -> None:
    """Show ``lo .. hi`` with a margin; a flat line gets a band around it."""
    if hi - lo < 1e-12:
        pad = max(abs(lo) * 0.05, 0.5)
        lo, hi = lo - pad, hi + pad
    box.setYRange(lo, hi, padding=0.06)


class HistogramView(pg.PlotWidget):
    """A histogram of the values in the panel's buffer (see the module doc)."""

    def __init__(self, panel: "DetectorPanel", num_of_bins: int = 50,
                 range: Sequence[float] | None = None):  # noqa: A002 - the config's key
        super().__init__()
        self.panel = panel
        self.num_of_bins = num_of_bins
        self.value_range = tuple(range) if range is not None else None
        self.outside = 0
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.setLabel("bottom", "value")
        item.setLabel("left", "samples")
        item.showGrid(y=True, alpha=0.15)
        self.bars = item.plot(stepMode="center", fillLevel=0, pen=pg.mkPen(theme.VALUE_COLOR),
                              brush=pg.mkBrush(theme.VALUE_COLOR + "80"))
        self._drawn_total = -1

    def clear_data(self) -> None:
        self.bars.setData([0, 1], [0])
        self._drawn_total = -1

    def refresh(self) -> None:
        ring = self.panel.ring
        if ring.total == self._drawn_total or ring.count == 0:
            return
        self._drawn_total = ring.total
        values = ring.view()[VALUE]
        counts, edges = np.histogram(values, bins=self.num_of_bins, range=self.value_range)
        self.bars.setData(edges, counts)
        self.outside = int(ring.count - counts.sum())
        outside = f", {self.outside:,} outside {list(self.value_range)}" if self.outside else ""
        self.setTitle(f"last {ring.count:,} values{outside}", size="8pt")

    def render(self, data_changed: bool) -> None:
        """Histograms follow the slow timer (``refresh``)."""


class StatusPointsView(pg.PlotWidget):
    """The last ``num_of_points`` samples as points coloured by status."""

    def __init__(self, panel: "DetectorPanel", num_of_points: int = DEFAULT_WINDOW):
        super().__init__(axisItems={"bottom": TimeAxis()})
        self.panel = panel
        self.num_of_points = num_of_points
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.setLabel("left", "value")
        item.showGrid(x=True, y=True, alpha=0.15)
        self.points = pg.ScatterPlotItem(pen=None, size=5)
        item.addItem(self.points)
        self.setTitle(f"last {num_of_points:,} samples by status", size="8pt")

    def clear_data(self) -> None:
        self.points.clear()

    def render(self, data_changed: bool) -> None:
        if not data_changed:
            return
        data = self.panel.ring.view()[:, -self.num_of_points:]
        lut = data[CODE].astype(np.int64) + 1
        self.points.setData(x=data[X], y=data[VALUE], brush=theme.BRUSHES[lut])

    def refresh(self) -> None:
        """Nothing slow to refresh."""


VIEW_CLASSES = {"GraphVisualization": GraphView, "HistogramVisualization": HistogramView,
                "StatusPointsVisualization": StatusPointsView}
VIEW_STRETCH = {GraphView: 5, HistogramView: 2, StatusPointsView: 3}
VIEW_PARAMS = {GraphView: ("num_of_points",), HistogramView: ("num_of_bins", "range"),
               StatusPointsView: ("num_of_points",)}


class DetectorPanel(QFrame):
    """A detector's header (name, parameters, legend) and its views side by side.

    Parameters
    ----------
    index : int
        The detector's index in the config.
    label : str
        ``"0: Welford"``.
    params : mapping
        The detector's parameters, shown in the header.
    line_names : sequence of str
        The detector's plot lines (``Detector.line_names``).
    views : sequence of (name, params)
        The config's visualizations; none means the scrolling plot.
    history : int
        Samples kept for scrolling back.
    own_scale_lines : sequence of str
        The lines drawn against the right axis (``Detector.own_scale_lines``).
    reserve_right_axis : bool
        Keep the right axis's width free even without such lines. Linked plots line their time
        axes up by pixel, so when any panel of a window has a right axis, every panel needs one
        of the same width to show the same time range.
    """

    def __init__(self, index: int, label: str, params: Mapping, line_names: Sequence[str],
                 views: Sequence[tuple[str, Mapping]] = (), history: int = HISTORY, *,
                 own_scale_lines: Sequence[str] = (), reserve_right_axis: bool = False):
        super().__init__()
        self.index = index
        self.label = label
        self.line_names = tuple(line_names)
        self.own_scale_lines = tuple(name for name in self.line_names if name in own_scale_lines)
        self.reserve_right_axis = reserve_right_axis
        views = list(views) or [("GraphVisualization", {})]
        windows = [p.get("num_of_points") or DEFAULT_WINDOW for _, p in views]
        self.history = max(history, 2 * max(windows))
        self.ring = RingBuffer(self.history, CODE + 1 + len(self.line_names))
        self.markers = RingBuffer(min(MARKER_HISTORY, self.history), 3)
        self.samples = 0
        self.counts = {int(s): 0 for s in Status}
        self.monotonic = True  # timestamps never went back so far
        self.unrendered = False  # samples arrived while the panel was scrolled out of view
        self.stream = None  # the StreamInfo shown here; None until the first samples
        self._last_time = -np.inf
        self._queue: list[DetectorChunk] = []

        self.setFrameShape(QFrame.StyledPanel)
        self.setMinimumHeight(230)
        shown = format_params(params)
        if len(shown) > MAX_PARAMS_TEXT:
            shown = shown[:MAX_PARAMS_TEXT - 1] + "…"
        self._params_html = f"<span style='color:#555'>{html.escape(shown)}</span>"
        self.title = QLabel()
        self.set_stream_text("")
        self.title.setTextFormat(Qt.RichText)
        self.title.setToolTip(format_params(params))
        # Long parameters (a model's training settings) must not widen the window.
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.title.setMinimumWidth(120)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addWidget(self.title, 1)
        header.addSpacing(16)
        header.addWidget(self.legend)
        row = QHBoxLayout()
        row.setContentsMargins(2, 0, 2, 2)
        self.views: list[QWidget] = []
        for name, view_params in views:
            cls = VIEW_CLASSES[name]
            kwargs = {k: v for k, v in view_params.items() if k in VIEW_PARAMS[cls] and v is not None}
            view = cls(self, **kwargs)
            view.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
            self.views.append(view)
            row.addWidget(view, VIEW_STRETCH[cls])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addLayout(row, 1)
        has_graph = any(isinstance(v, GraphView) for v in self.views)
        has_points = any(isinstance(v, StatusPointsView) for v in self.views)
        self.legend.setText(legend_html(self.line_names if has_graph else (),
                                        markers=has_graph or has_points, ok_points=has_points,
                                        own_scale_lines=self.own_scale_lines))

    @property
    def graphs(self) -> list[GraphView]:
        return [v for v in self.views if isinstance(v, GraphView)]

    def set_stream_text(self, text: str, waiting: bool = False) -> None:
        """Name the panel's stream in its header (``waiting``: no samples yet, said in grey)."""
        stream = ""
        if text:
            colour = "#777" if waiting else theme.STREAM_COLOR
            stream = f"&nbsp;&nbsp;<b style='color:{colour}'>{html.escape(text)}</b>"
        self.title.setText(f"<b>{self.label}</b>{stream}&nbsp;&nbsp;{self._params_html}")

    def bind(self, stream) -> None:
        """Show ``stream`` (a ``worker.StreamInfo``) here from now on."""
        self.stream = stream
        self.set_stream_text(stream.label)

    @property
    def anomalies(self) -> int:
        return self.counts[Status.WARNING] + self.counts[Status.ERROR]

    def queue(self, chunk: DetectorChunk) -> None:
        """Count the chunk now; its samples reach the buffers on the next ``apply_queued``."""
        if len(chunk) == 0:
            return
        self._queue.append(chunk)
        self.samples += len(chunk)
        t = chunk.time_s
        if self.monotonic and (t[0] < self._last_time or (np.diff(t) < 0).any()):
            self.monotonic = False
            log.warning("%s: timestamps go back in time; the plot draws its whole buffer", self.label)
        self._last_time = max(self._last_time, float(t[-1]))
        counts = np.bincount(chunk.status_code.astype(np.int64) + 1, minlength=len(Status))
        for status in Status:
            self.counts[int(status)] += int(counts[int(status) + 1])

    def apply_queued(self) -> bool:
        """Move queued chunks into the buffers; True if there were any."""
        if not self._queue:
            return False
        chunks, self._queue = self._queue, []
        for chunk in chunks:
            block = np.empty((self.ring.columns, len(chunk)))
            block[X] = chunk.time_s
            block[VALUE] = chunk.value
            block[CODE] = chunk.status_code
            for i, name in enumerate(self.line_names):
                block[CODE + 1 + i] = chunk.lines.get(name, np.nan)
            self.ring.extend(block)
            marked = chunk.status_code != Status.OK
            if marked.any():
                self.markers.extend(np.vstack([chunk.time_s[marked], chunk.value[marked],
                                               chunk.status_code[marked]]))
        return True

    def render(self, data_changed: bool) -> None:
        for view in self.views:
            view.render(data_changed)

    def refresh(self) -> None:
        """The slow timer: histograms."""
        for view in self.views:
            view.refresh()

    def clear(self) -> None:
        self.stream = None
        self._queue.clear()
        self.ring.clear()
        self.markers.clear()
        self.samples = 0
        self.counts = {int(s): 0 for s in Status}
        self.monotonic = True
        self._last_time = -np.inf
        for view in self.views:
            view.clear_data()


def format_params(params: Mapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
