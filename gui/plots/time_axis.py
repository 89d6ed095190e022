"""The time axis shared by the scrolling plot and the status points."""
from __future__ import annotations

import pyqtgraph as pg

from gui.plots.pyqtgraph_internals import label_sub_second_ticks_with_time_of_day


class TimeAxis(pg.DateAxisItem):
    """Epoch seconds as UTC time of day (dates when zoomed out)."""

    def __init__(self):
        super().__init__(orientation="bottom", utcOffset=0)
        label_sub_second_ticks_with_time_of_day(self)
        # DateAxisItem already spaces ticks by the width of their text; pyqtgraph's default fill
        # limit (0.8) then hides every label of a level with long labels like "00:05:09.500".
        self.setStyle(textFillLimits=[(0, 0.95), (2, 0.6), (4, 0.4), (6, 0.2)])
        self.setLabel("time (UTC)")
