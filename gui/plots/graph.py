"""The scrolling plot of one detector: value and detector lines over time, anomaly markers on top.

Clip-to-view and peak downsampling; limits dashed (a line that is constant in view, like
BorderCheck's limits, is one level line); all anomaly markers in one scatter item holding only
the visible window (warnings amber, errors red, undefined grey). ``num_of_points`` sets the
followed window. Curves get only the samples around the visible range, so a frame costs what is
on screen, not the history. Lines that are not in the values' units (``Detector.own_scale_lines``,
e.g. RRCF's codisp) are drawn against a second y axis on the right, each axis fitted to its own
lines.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt

from gui import theme
from gui.plots.buffer_rows import CODE, VALUE, X, line_row
from gui.plots.markers import MAX_MARKERS, thin_markers
from gui.plots.pyqtgraph_internals import (
    apply_range_now,
    overlay_view_box,
    reserve_right_axis_width,
    set_auto_downsample_factor,
)
from gui.plots.time_axis import TimeAxis
from gui.plots.view import DEFAULT_WINDOW, PanelData

#: Samples per pixel kept by the automatic peak downsampling (as min/max pairs).
DOWNSAMPLE_FACTOR = 1.0
#: Width of the y axes, the same in every panel so that linked plots show the same time range.
AXIS_WIDTH = 64


class GraphView(pg.PlotWidget):
    """The scrolling plot of one detector (see the module doc).

    The panel's ``own_scale_lines`` live in ``right_box``, a second view box over the plot's own
    (pyqtgraph's MultiplePlotAxes recipe): it shares the x range, has its own y range and is shown
    by the right axis. Without such lines ``right_box`` is None and the right axis hidden; with
    ``reserve_right_axis`` its width is kept free all the same (see ``DetectorPanel``).
    """

    def __init__(self, panel: PanelData, num_of_points: int = DEFAULT_WINDOW):
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
            reserve_right_axis_width(item, AXIS_WIDTH)
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
        self._value_rows = tuple(line_row(i) for i, name in enumerate(panel.line_names)
                                 if name not in own_scale)
        self._own_scale_rows = tuple(line_row(i) for i, name in enumerate(panel.line_names)
                                     if name in own_scale)
        for curve in self.curves:
            # Peak downsampling to one min/max pair per pixel (pyqtgraph keeps ~5 per pixel by
            # default, five times the work for no visible difference).
            set_auto_downsample_factor(curve, DOWNSAMPLE_FACTOR)
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
        overlay_view_box(self.right_box, self.view_box)

    @property
    def curves(self) -> list[pg.PlotDataItem]:
        return [self.value_curve, *self.line_curves.values()]

    @property
    def view_box(self) -> pg.ViewBox:
        return self.getPlotItem().getViewBox()

    def apply_ranges(self) -> None:
        """Apply range changes now: left to paint time, they make pyqtgraph paint twice."""
        apply_range_now(self.view_box)
        if self.right_box is not None:
            apply_range_now(self.right_box)

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
                self._set_line(name, part[X], part[line_row(i)])
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
                curve.setData(data[X], data[line_row(i)], connect="finite")
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
