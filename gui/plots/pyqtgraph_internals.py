"""Every use of pyqtgraph beyond its documented API, in one place (written against pyqtgraph 0.14).

An upgrade of pyqtgraph may rename or change any of these without notice;
``tests/gui/test_pyqtgraph_internals.py`` checks each one and names it when it fails. Each is
listed with why the plots need it:

1. ``pyqtgraph.graphicsItems.DateAxisItem.TickSpec``, ``ZoomLevel``, ``MS_SPACING``,
   ``MINUTE_SPACING``, ``makeMSStepper``, ``makeSStepper`` (module-level helpers of the date
   axis): build a finer zoom level whose labels are whole times of day with milliseconds
   ("00:05:09.500"); pyqtgraph's own shows only "09.500", which names no minute.
2. ``DateAxisItem.zoomLevels[1]`` (the axis's table of levels, keyed by the largest tick spacing
   in seconds each serves; key 1 is the sub-second level): where that level goes.
3. ``PlotDataItem.opts["autoDownsampleFactor"]``: automatic peak downsampling keeps about five
   samples per pixel by default; one min/max pair per pixel looks the same for a fifth of the
   work. No setter exists for it.
4. ``PlotItem.layout`` column 2 (the grid column of the right axis): keeps the right axis's width
   free in a panel that has no right axis, so linked plots line their time axes up by pixel.
5. ``ViewBox.linkedViewChanged(view, axis)`` (undocumented, used by pyqtgraph's
   ``MultiplePlotAxes`` example): makes the right axis's view box take over the main one's x
   range after it was given the main one's geometry.
6. ``ViewBox.updateMatrix()`` (undocumented): applies a range change at once; left to paint time,
   a range change makes pyqtgraph paint the plot twice.
"""
from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (
    MINUTE_SPACING,
    MS_SPACING,
    TickSpec,
    ZoomLevel,
    makeMSStepper,
    makeSStepper,
)

#: The key of ``DateAxisItem.zoomLevels`` that holds the level for ticks under a second apart.
SUB_SECOND_LEVEL = 1
#: The column of ``PlotItem.layout`` that holds the right axis.
RIGHT_AXIS_COLUMN = 2

#: Below one second per tick, show the whole time of day with milliseconds, not just "09.250".
MS_ZOOM_LEVEL = ZoomLevel([
    TickSpec(MINUTE_SPACING, makeSStepper(MINUTE_SPACING), "%H:%M:%S"),
    TickSpec(MS_SPACING, makeMSStepper(MS_SPACING), "%H:%M:%S.%f", autoSkip=[1, 5, 10, 25]),
], "99:99:99.999")


def label_sub_second_ticks_with_time_of_day(axis: pg.DateAxisItem) -> None:
    """Make ``axis`` label ticks under a second apart "HH:MM:SS.mmm" (internals 1 and 2)."""
    axis.zoomLevels[SUB_SECOND_LEVEL] = MS_ZOOM_LEVEL


def set_auto_downsample_factor(curve: pg.PlotDataItem, samples_per_pixel: float) -> None:
    """Keep about ``samples_per_pixel`` samples per pixel when ``curve`` downsamples
    automatically (internal 3)."""
    curve.opts["autoDownsampleFactor"] = samples_per_pixel


def reserve_right_axis_width(item: pg.PlotItem, width: int) -> None:
    """Keep ``width`` pixels free where ``item``'s right axis goes, shown or not (internal 4)."""
    item.layout.setColumnFixedWidth(RIGHT_AXIS_COLUMN, width)


def overlay_view_box(box: pg.ViewBox, main: pg.ViewBox) -> None:
    """Put ``box`` where ``main`` is and give it ``main``'s x range (internal 5)."""
    box.setGeometry(main.sceneBoundingRect())
    box.linkedViewChanged(main, pg.ViewBox.XAxis)


def apply_range_now(box: pg.ViewBox) -> None:
    """Apply ``box``'s pending range change now instead of at paint time (internal 6)."""
    box.updateMatrix()
