"""A histogram of the values held in the panel's buffer, refreshed on the slow timer."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg

from gui import theme
from gui.plots.buffer_rows import VALUE
from gui.plots.view import PanelData


class HistogramView(pg.PlotWidget):
    """The values in the panel's buffer in ``num_of_bins`` bins over ``range`` (or the data's
    range); the title counts the values outside ``range``."""

    def __init__(self, panel: PanelData, num_of_bins: int = 50,
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
