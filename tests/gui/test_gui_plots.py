"""What the plots show: views per config, markers by status, following, centring, export."""
from __future__ import annotations

import csv
import inspect
import json

import numpy as np
import pytest
from PyQt5.QtCore import QPoint, QPointF, Qt
from PyQt5.QtGui import QImage, QWheelEvent
from PyQt5.QtWidgets import QApplication

from gui import theme
from gui.anomaly_table import EXPORT_HEADER, TIME
from gui.plots import (
    AXIS_WIDTH,
    CODE,
    VALUE,
    VIEW_WIDGETS,
    DetectorPanel,
    GraphView,
    HistogramView,
    StatusPointsView,
    View,
    X,
)
from pipeline.live.frames import DetectorChunk
from pipeline.live.run_state import RunState
from pipeline.records import Status
from pipeline.views import VIEWS

BORDER = "tests/gui/configs/border_views.json"


@pytest.fixture
def finished_window(make_window, run_to_end):
    def make(config, **kwargs):
        window = make_window(**kwargs)
        assert window.load_config(config)
        assert run_to_end(window) == RunState.FINISHED
        return window
    return make


def test_each_visualization_entry_becomes_a_view_and_none_means_the_scrolling_plot(finished_window):
    window = finished_window(BORDER)
    views = window.panels[0].views
    assert [type(v) for v in views] == [GraphView, HistogramView, StatusPointsView]
    graph, histogram, points = views
    assert graph.num_of_points == 300
    assert histogram.num_of_bins == 30 and histogram.value_range == (-4.0, 4.0)
    assert points.num_of_points == 200
    window._refresh_status()
    edges, counts = histogram.bars.getData()
    assert len(counts) == 30 and counts.sum() + histogram.outside == window.panels[0].ring.count
    assert histogram.outside > 0
    assert f"{histogram.outside} outside [-4.0, 4.0]" in histogram.plotItem.titleLabel.text
    assert len(points.points.data) == 200

    default = finished_window("default.json")
    assert [type(v) for v in default.panels[1].views] == [GraphView]  # EMA has no visualization


def test_every_view_a_config_may_name_has_a_widget_and_every_widget_a_config_name():
    assert sorted(VIEW_WIDGETS) == VIEWS.names()
    for name, entry in VIEW_WIDGETS.items():
        config_keys = inspect.signature(VIEWS.resolve(name)).parameters
        widget_keys = inspect.signature(entry.widget).parameters
        for key in entry.params:  # a key renamed on one side would silently fall back to a default
            assert key in config_keys and key in widget_keys, (name, key)


def chunk(time_s, status_code, lines) -> DetectorChunk:
    n = len(time_s)
    return DetectorChunk(0, np.asarray(time_s, float), np.sin(time_s), np.asarray(status_code, float),
                         np.zeros(n, int), np.zeros(n), lines, ("",))


def test_a_panel_draws_and_clears_every_view_through_the_view_protocol(qtbot):
    names = VIEWS.names()
    panel = DetectorPanel(0, "0: BorderCheck", {"UL": 1.0}, ["UL", "LL"],
                          [(f" {name}() ", {"num_of_points": 50, "num_of_bins": 10}) for name in names])
    qtbot.addWidget(panel)
    assert [type(v) for v in panel.views] == [VIEW_WIDGETS[name].widget for name in names]
    assert all(isinstance(view, View) for view in panel.views)
    t = np.arange(100.0)
    panel.queue(chunk(t, np.where(t % 10 == 0, Status.ERROR, Status.OK), {"UL": np.ones(100)}))
    assert panel.apply_queued() and not panel.apply_queued()
    assert panel.ring.count == 100 and panel.markers.count == 10 and panel.anomalies == 10
    panel.graphs[0].setXRange(0, 99, padding=0)
    panel.render(True)
    panel.refresh()
    graph, histogram, points = (next(v for v in panel.views if type(v) is VIEW_WIDGETS[name].widget)
                                for name in ("GraphVisualization", "HistogramVisualization",
                                             "StatusPointsVisualization"))
    assert len(graph.value_curve.xData) == 100 and graph.markers_drawn == 10
    assert graph.level_lines["UL"].isVisible() and graph.level_lines["UL"].value() == 1.0
    assert np.isnan(graph.line_curves["LL"].yData).all()  # a line the chunks do not have
    assert histogram.bars.getData()[1].sum() == 100
    assert len(points.points.data) == 50
    panel.clear()
    assert panel.ring.count == 0 and panel.samples == 0
    assert graph.value_curve.xData is None and len(graph.markers.data) == 0
    assert len(points.points.data) == 0 and histogram.bars.getData()[1].sum() == 0


def test_detector_lines_are_drawn_with_limits_dashed(finished_window):
    window = finished_window("default.json")
    welford, ema = (p.graphs[0] for p in window.panels)
    assert set(welford.line_curves) == {"mean", "UL", "LL"}
    assert set(ema.line_curves) == {"EMA", "UL", "LL"}
    for graph in (welford, ema):
        assert graph.line_curves["UL"].opts["pen"].style() == Qt.DashLine
        assert graph.line_curves["LL"].opts["pen"].style() == Qt.DashLine
        x, y = graph.value_curve.xData, graph.value_curve.yData
        (left, right), _ = graph.view_box.viewRange()
        assert len(x) == len(y) and np.all(np.diff(x) > 0)
        assert x[0] <= left and x[-1] >= right - 0.011  # the curve covers the visible range
    # EMA's fixed limits are level lines; Welford's moving band is a curve
    assert ema.level_lines["UL"].isVisible() and ema.line_curves["UL"].yData is None
    assert ema.level_lines["UL"].value() == window.config.detectors[1].detector.params["UL"]
    assert ema.level_lines["LL"].pen.style() == Qt.DashLine
    assert not welford.level_lines["UL"].isVisible() and len(welford.line_curves["UL"].yData) > 0
    legend = window.panels[0].legend.text()
    for entry in ("value", "mean", "UL / LL", "error", "warning", "undefined"):
        assert entry in legend


def test_lines_in_other_units_get_a_right_axis_fitted_to_them_and_the_values_keep_theirs(
        qtbot, finished_window):
    window = finished_window("rrcf.json")
    panel = window.panels[0]
    graph = panel.graphs[0]
    axis = graph.getPlotItem().getAxis("right")
    assert axis.isVisible() and axis.labelText == "codisp"
    codisp = graph.line_curves["codisp"]
    assert codisp.getViewBox() is graph.right_box
    assert graph.value_curve.getViewBox() is graph.view_box
    assert graph.markers.getViewBox() is graph.view_box  # anomaly markers sit on the values
    assert "codisp (right axis)" in panel.legend.text()
    ring = panel.ring.view()
    window.centre_on(float(ring[X, np.argmax(ring[CODE + 1])]))  # the highest codisp
    (left, right), y_range = graph.view_box.viewRange()
    x_range, own_y_range = graph.right_box.viewRange()
    assert x_range == pytest.approx([left, right])
    in_view = (ring[X] >= left) & (ring[X] <= right)
    values, lines = ring[VALUE, in_view], ring[CODE + 1, in_view]
    assert lines.max() > 10 * np.ptp(values)  # on one axis the values would be a flat line

    def padded(y):  # what fit_y shows: the data's span and 6 % on either side
        return pytest.approx([y.min() - 0.06 * np.ptp(y), y.max() + 0.06 * np.ptp(y)])
    assert y_range == padded(values)
    assert own_y_range == padded(lines)
    assert graph.right_box.sceneBoundingRect().width() == pytest.approx(
        graph.view_box.sceneBoundingRect().width(), abs=1)
    centre = graph.viewport().rect().center()  # the wheel zooms time on both and stops following
    window.set_following(True)
    event = QWheelEvent(QPointF(centre), QPointF(graph.viewport().mapToGlobal(centre)), QPoint(0, 0),
                        QPoint(0, 120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(graph.viewport(), event)
    assert not window.following
    assert graph.view_box.viewRange()[0][1] - graph.view_box.viewRange()[0][0] < right - left
    assert graph.right_box.viewRange()[0] == pytest.approx(graph.view_box.viewRange()[0])


def test_only_the_lines_in_other_units_move_to_the_right_axis(finished_window):
    window = finished_window("macd.json")
    panel = window.panels[0]
    graph = panel.graphs[0]
    assert graph.getPlotItem().getAxis("right").labelText == "MACD / UL / LL"
    on_right = {name for name, curve in graph.line_curves.items() if curve.getViewBox() is graph.right_box}
    assert on_right == {"MACD", "UL", "LL"}
    assert graph.line_curves["EMA1"].getViewBox() is graph.view_box
    assert graph.level_lines["UL"].getViewBox() is graph.right_box  # fixed limits: level lines
    assert graph.level_lines["UL"].isVisible() and graph.level_lines["UL"].value() == 1.0
    legend = panel.legend.text()
    assert "MACD (right axis)" in legend and "UL / LL (right axis)" in legend
    assert "EMA1 (right" not in legend and "EMA1" in legend


def test_panels_without_such_lines_show_no_right_axis_and_keep_the_time_axes_lined_up(
        qtbot, make_window, run_to_end, tmp_path):
    config = tmp_path / "mixed.json"
    config.write_text(json.dumps({
        "file_name": "resources/data/ads-1.csv", "anomaly_detection_alg": ["Welford()", "RRCF()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "N": 30, "X": 4},
                                   {"input_vector_size": 1, "num_trees": 10, "tree_size": 64,
                                    "threshold": 30}]}))
    window = make_window()
    assert window.load_config(config)
    assert run_to_end(window) == RunState.FINISHED
    welford, rrcf = window.graphs
    assert welford.right_box is None and not welford.getPlotItem().getAxis("right").isVisible()
    assert "right axis" not in window.panels[0].legend.text()
    assert rrcf.getPlotItem().getAxis("right").isVisible()
    # linked plots line up by pixel: the same plot width shows the same time range
    assert welford.view_box.width() == rrcf.view_box.width()
    assert welford.view_box.viewRange()[0] == pytest.approx(rrcf.view_box.viewRange()[0])
    assert welford.getPlotItem().width() - welford.view_box.width() > 2 * AXIS_WIDTH

    default = make_window()
    assert default.load_config("default.json")
    for graph in default.graphs:  # no panel has a right axis: no room is kept for one
        assert graph.right_box is None and not graph.getPlotItem().getAxis("right").isVisible()
        qtbot.waitUntil(lambda g=graph: 0 < g.getPlotItem().width() - g.view_box.width() < 2 * AXIS_WIDTH)


def test_plots_use_clip_to_view_and_peak_downsampling(finished_window):
    window = finished_window("default.json")
    for graph in window.graphs:
        for curve in [graph.value_curve, *graph.line_curves.values()]:
            assert curve.opts["clipToView"] is True
            assert curve.opts["autoDownsample"] is True
            assert curve.opts["downsampleMethod"] == "peak"
    codisp = finished_window("rrcf.json").graphs[0].line_curves["codisp"]  # on the right axis
    assert codisp.opts["clipToView"] is True and codisp.opts["autoDownsample"] is True
    assert codisp.opts["downsampleMethod"] == "peak" and codisp.opts["autoDownsampleFactor"] == 1.0


def test_markers_show_every_visible_anomaly_in_its_status_colour(finished_window):
    window = finished_window(BORDER)
    graph = window.panels[0].graphs[0]
    ring = window.panels[0].ring.view()
    window.centre_on(float(window.model.row_time(window.model.rowCount() // 2)))
    (left, right), _ = graph.view_box.viewRange()
    in_view = (ring[X] >= left) & (ring[X] <= right)
    expected = {int(c): int(n) for c, n in zip(*np.unique(ring[CODE, in_view], return_counts=True))}
    points = graph.markers.points()
    colours = [p.brush().color().name() for p in points]
    anomalies_in_view = expected.get(Status.WARNING, 0) + expected.get(Status.ERROR, 0)
    assert len(points) == graph.markers_drawn == anomalies_in_view
    assert colours.count(theme.STATUS_COLORS[Status.WARNING]) == expected.get(Status.WARNING, 0) > 0
    assert colours.count(theme.STATUS_COLORS[Status.ERROR]) == expected.get(Status.ERROR, 0) > 0
    assert all(left <= p.pos().x() <= right for p in points)  # only the visible window


def test_undefined_samples_get_grey_markers_and_ok_samples_none(finished_window):
    window = finished_window("default.json")
    welford = window.panels[0]
    graph = welford.graphs[0]
    first = welford.ring.view()[X][0]
    window.centre_on(float(first) + 0.1)
    colours = {p.brush().color().name() for p in graph.markers.points()}
    assert theme.STATUS_COLORS[Status.UNDEFINED] in colours
    assert welford.markers.total == (welford.counts[Status.UNDEFINED] + welford.counts[Status.WARNING]
                                     + welford.counts[Status.ERROR])


def test_following_shows_the_newest_num_of_points_samples(finished_window):
    window = finished_window(BORDER)
    graph = window.panels[0].graphs[0]
    x = window.panels[0].ring.view()[X]
    (left, right), _ = graph.view_box.viewRange()
    assert window.following
    assert right == pytest.approx(x[-1]) and left == pytest.approx(x[-300])


def test_clicking_a_row_centres_the_plots_there_and_follow_brings_them_back(qtbot, finished_window):
    window = finished_window("default.json")
    row = 5
    index = window.model.index(row, TIME)
    rect = window.table.visualRect(index)
    if not rect.isValid():
        window.table.scrollTo(index)
        rect = window.table.visualRect(index)
    qtbot.mouseClick(window.table.viewport(), Qt.LeftButton, pos=rect.center())
    t = window.model.row_time(row)
    assert not window.following and not window.follow_action.isChecked()
    for graph in window.graphs:
        (left, right), _ = graph.view_box.viewRange()
        assert (left + right) / 2 == pytest.approx(t, abs=1e-6)
        assert graph.cursor.isVisible() and graph.cursor.value() == pytest.approx(t)
    window.follow_action.trigger()
    window.render_now()
    assert window.following
    (left, right), _ = window.graphs[0].view_box.viewRange()
    assert right == pytest.approx(window.panels[0].ring.view()[X][-1])


def test_zooming_by_hand_stops_following(qtbot, finished_window):
    window = finished_window("default.json")
    graph = window.graphs[0]
    centre = graph.viewport().rect().center()
    event = QWheelEvent(QPointF(centre), QPointF(graph.viewport().mapToGlobal(centre)), QPoint(0, 0),
                        QPoint(0, 120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(graph.viewport(), event)
    assert not window.following


def test_buffers_stay_bounded_on_a_long_stream(finished_window):
    window = finished_window(BORDER, history=1000)
    panel = window.panels[0]
    assert panel.ring.count == 1000 and panel.ring.total == window.samples == 31_416
    assert panel.ring.view()[X].tolist() == pytest.approx((np.arange(30_416, 31_416) * 0.01 + 0.01).tolist())
    x = panel.graphs[0].value_curve.xData
    assert len(x) <= 1000  # the curve holds the samples around the view, never more than kept
    assert panel.markers.count <= 1000
    assert panel.samples == 31_416  # the counters still count everything


def test_export_writes_the_table_as_csv_and_each_plot_as_png(finished_window, tmp_path):
    window = finished_window(BORDER)
    rows = window.export_anomalies_csv(tmp_path / "anomalies.csv")
    assert rows == window.model.rowCount() > 0
    with open(tmp_path / "anomalies.csv", newline="") as f:
        table = list(csv.reader(f))
    assert tuple(table[0]) == EXPORT_HEADER
    assert len(table) == rows + 1
    assert float(table[1][1]) == window.model.row_time(0)
    assert table[1][4] == window.model.status_text(0)
    written = window.export_plots_png(tmp_path / "png")
    assert [p.name for p in written] == [
        "border_views_0_BorderCheck_graph.png", "border_views_0_BorderCheck_histogram.png",
        "border_views_0_BorderCheck_statuspoints.png"]
    for path in written:
        image = QImage(str(path))
        assert not image.isNull() and image.width() > 50 and image.height() > 50


def test_status_points_are_coloured_by_status(finished_window):
    window = finished_window(BORDER)
    points = window.panels[0].views[2]
    codes = window.panels[0].ring.view()[CODE, -200:].astype(int)
    colours = [p.brush().color().name() for p in points.points.points()]
    assert colours == [theme.STATUS_COLORS[Status(c)] for c in codes]
    values = window.panels[0].ring.view()[VALUE, -200:]
    assert [p.pos().y() for p in points.points.points()] == pytest.approx(values.tolist())


def test_timestamps_that_go_back_are_drawn_whole_instead_of_wrongly_clipped(
        make_window, run_to_end, tmp_path):
    rows = "\n".join(f"{t},{v}" for t, v in [(5, 0.1), (6, 0.2), (3, 9.0), (4, 0.1), (7, 0.3)])
    (tmp_path / "data.csv").write_text("timestamp,value\n" + rows + "\n")
    config = tmp_path / "unordered.json"
    config.write_text(json.dumps({
        "file_name": str(tmp_path / "data.csv"), "anomaly_detection_alg": ["BorderCheck()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": -1}]}))
    window = make_window()
    assert window.load_config(config)
    assert run_to_end(window) == RunState.FINISHED
    panel = window.panels[0]
    assert not panel.monotonic
    graph = panel.graphs[0]
    assert graph.value_curve.xData.tolist() == [5, 6, 3, 4, 7]
    assert graph.value_curve.opts["clipToView"] is False
    assert window.model.total == 1


def test_panels_scrolled_out_of_view_are_drawn_when_scrolled_into_view(qtbot, make_window, run_to_end,
                                                                      tmp_path):
    conf = {"input_vector_size": 1, "UL": 2.5, "LL": -2.5}
    config = tmp_path / "six.json"
    config.write_text(json.dumps({"file_name": "resources/data/ads-1.csv",
                                  "anomaly_detection_alg": ["BorderCheck()"] * 6,
                                  "anomaly_detection_conf": [conf] * 6}))
    window = make_window()
    window.resize(1000, 600)
    assert window.load_config(config)
    assert run_to_end(window) == RunState.FINISHED
    last = window.panels[-1]
    assert last.visibleRegion().isEmpty()
    assert last.graphs[0].value_curve.yData is None  # not drawn while out of view
    bar = window.panel_scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: last.graphs[0].value_curve.yData is not None, timeout=5000)
    assert not last.visibleRegion().isEmpty()
    assert last.graphs[0].value_curve.xData[-1] == pytest.approx(last.ring.view()[X][-1])
