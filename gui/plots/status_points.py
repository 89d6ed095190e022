"""The recent samples as points coloured by status."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gui import theme
from gui.plots.buffer_rows import CODE, VALUE, X
from gui.plots.time_axis import TimeAxis
from gui.plots.view import DEFAULT_WINDOW, PanelData


class StatusPointsView(pg.PlotWidget):
    """The last ``num_of_points`` samples as points coloured by status."""

    def __init__(self, panel: PanelData, num_of_points: int = DEFAULT_WINDOW):
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
