"""The pyqtgraph internals the plots rely on (``gui/plots/pyqtgraph_internals.py``) are still there
and still do what the plots use them for. A failure names the internal; after a pyqtgraph upgrade,
mend that module (its docstring says why each internal is used), not the plots.

(A name removed from ``pyqtgraph.graphicsItems.DateAxisItem`` already stops this file from being
collected, with an ImportError naming it.)
"""
from __future__ import annotations

import inspect

import numpy as np
import pyqtgraph as pg
import pytest
from pyqtgraph.graphicsItems import DateAxisItem as date_axis_module

from gui.plots import pyqtgraph_internals as internals
from gui.plots.time_axis import TimeAxis


def changed(internal: str, use: str) -> str:
    return (f"pyqtgraph {pg.__version__} changed {internal}, which gui/plots/pyqtgraph_internals.py "
            f"uses to {use}; mend that module (see its docstring)")


@pytest.fixture
def plot(qtbot):
    widget = pg.PlotWidget(axisItems={"bottom": TimeAxis()})
    qtbot.addWidget(widget)
    widget.resize(800, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def parameters(function) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


@pytest.mark.parametrize("name, expected", [
    ("TickSpec", ["spacing", "stepper", "format", "autoSkip"]),
    ("ZoomLevel", ["tickSpecs", "exampleText"]),
    ("makeMSStepper", ["stepSize"]),
    ("makeSStepper", ["stepSize"]),
])
def test_date_axis_tick_helpers_keep_their_arguments(name, expected):
    internal = f"pyqtgraph.graphicsItems.DateAxisItem.{name}"
    use = "build the millisecond zoom level of the time axis"
    helper = getattr(date_axis_module, name, None)
    assert helper is not None, changed(internal + " (gone)", use)
    assert parameters(helper) == expected, changed(internal + " (arguments)", use)


def test_date_axis_spacings_keep_their_values():
    use = "space the ticks of the millisecond zoom level"
    assert date_axis_module.MS_SPACING == 0.001, changed("DateAxisItem.MS_SPACING", use)
    assert date_axis_module.MINUTE_SPACING == 60, changed("DateAxisItem.MINUTE_SPACING", use)


def test_date_axis_keeps_its_sub_second_zoom_level_under_key_1():
    levels = pg.DateAxisItem(orientation="bottom", utcOffset=0).zoomLevels
    use = "replace the sub-second zoom level"
    assert internals.SUB_SECOND_LEVEL in levels, changed("DateAxisItem.zoomLevels (no key 1)", use)
    assert isinstance(levels[internals.SUB_SECOND_LEVEL], date_axis_module.ZoomLevel), changed(
        "DateAxisItem.zoomLevels[1] (not a ZoomLevel)", use)
    assert min(levels) == internals.SUB_SECOND_LEVEL, changed(
        "DateAxisItem.zoomLevels (key 1 is no longer the finest level)", use)


def test_sub_second_ticks_read_as_times_of_day_with_milliseconds(plot):
    axis = plot.getPlotItem().getAxis("bottom")
    assert list(axis.zoomLevels) == list(pg.DateAxisItem().zoomLevels), changed(
        "DateAxisItem.zoomLevels (our level was added beside pyqtgraph's instead of replacing it)",
        "replace the sub-second zoom level")
    t0 = 309.0  # 00:05:09 UTC
    spacing, values = axis.tickValues(t0, t0 + 2.0, 700)[-1]
    labels = axis.tickStrings(values, 1, spacing)
    assert labels[:2] == ["00:05:09.500", "00:05:10.000"], changed(
        "DateAxisItem's zoom levels (TickSpec, ZoomLevel, tickStrings)",
        f"label sub-second ticks 'HH:MM:SS.mmm'; got {labels}")


def test_curves_read_their_samples_per_pixel_from_opts(plot):
    item = plot.getPlotItem()
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    x = np.arange(100_000.0)
    curve = item.plot(x, np.sin(x))
    use = "draw one min/max pair per pixel instead of about five"
    assert "autoDownsampleFactor" in curve.opts, changed('PlotDataItem.opts["autoDownsampleFactor"]', use)
    plot.setXRange(0, len(x), padding=0)
    width = item.getViewBox().width()
    default = len(curve.getData()[0])
    internals.set_auto_downsample_factor(curve, 1.0)
    curve.setData(x, np.sin(x))
    drawn = len(curve.getData()[0])
    assert drawn <= 2 * width + 4 < default, changed(
        'PlotDataItem.opts["autoDownsampleFactor"]', f"{use}; drew {drawn} points over {width:.0f} px "
        f"(default factor: {default})")


def test_plot_item_layout_keeps_the_right_axis_in_column_2(plot):
    item = plot.getPlotItem()
    use = "keep the right axis's width free in panels without one"
    layout = getattr(item, "layout", None)
    assert layout is not None, changed("PlotItem.layout (gone)", use)
    assert layout.itemAt(2, internals.RIGHT_AXIS_COLUMN) is item.getAxis("right"), changed(
        "PlotItem.layout (the right axis is not in column 2)", use)
    internals.reserve_right_axis_width(item, 64)
    assert layout.columnMinimumWidth(2) == layout.columnMaximumWidth(2) == 64, changed(
        "PlotItem.layout (setColumnFixedWidth)", use)


def test_view_box_takes_another_ones_place_and_x_range(plot):
    main = plot.getPlotItem().getViewBox()
    box = pg.ViewBox()
    plot.scene().addItem(box)
    main.setXRange(1000.0, 2000.0, padding=0)
    use = "overlay the right axis's view box on the main one"
    assert parameters(pg.ViewBox.linkedViewChanged) == ["view", "axis"], changed(
        "ViewBox.linkedViewChanged (arguments)", use)
    internals.overlay_view_box(box, main)
    assert box.viewRange()[0] == pytest.approx(main.viewRange()[0]), changed(
        "ViewBox.linkedViewChanged (no longer copies the x range)", use)


def test_view_box_applies_a_range_change_when_asked(plot):
    box = plot.getPlotItem().getViewBox()
    use = "apply range changes before paint time, so a frame is painted once"
    assert parameters(pg.ViewBox.updateMatrix) == ["changed"], changed("ViewBox.updateMatrix (arguments)", use)
    internals.apply_range_now(box)
    before = box.childGroup.transform()
    box.setXRange(5.0, 6.0, padding=0)
    internals.apply_range_now(box)
    after = box.childGroup.transform()
    assert after != before, changed("ViewBox.updateMatrix (did not apply the new range)", use)
    assert box.mapViewToScene(pg.Point(5.0, 0)).x() == pytest.approx(box.sceneBoundingRect().left())
