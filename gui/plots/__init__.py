"""The plots of a run: one ``DetectorPanel`` per detector and stream, showing that detector's
views (the config's ``visualization`` entries) side by side.

The contract (``gui.plots.view``): every view is a widget honouring the ``View`` protocol
(``render`` on the render tick, ``refresh`` on the slow timer, ``clear_data`` for a new run) and
draws only from its panel's ring buffers (``PanelData``); the panel owns the buffers, fills them on
the render tick and calls its views through that protocol. Which widget shows which config view
is said once, in ``VIEW_WIDGETS``, keyed by the names of ``pipeline.views.VIEWS``:

- ``GraphView`` (GraphVisualization): the scrolling plot of value, detector lines and anomaly
  markers over time.
- ``HistogramView`` (HistogramVisualization): the values held in the panel's buffer, binned.
- ``StatusPointsView`` (StatusPointsVisualization): the recent samples coloured by status.

Whatever reaches past pyqtgraph's documented API is in ``gui.plots.pyqtgraph_internals``.
"""
from gui.plots.buffer_rows import CODE, VALUE, X
from gui.plots.graph import AXIS_WIDTH, GraphView
from gui.plots.histogram import HistogramView
from gui.plots.panel import HISTORY, DetectorPanel
from gui.plots.status_points import StatusPointsView
from gui.plots.view import PanelData, View
from gui.plots.view_table import VIEW_WIDGETS, ViewWidget
from gui.theme import configure_pyqtgraph

__all__ = ["AXIS_WIDTH", "CODE", "HISTORY", "VALUE", "VIEW_WIDGETS", "X", "DetectorPanel", "GraphView",
           "HistogramView", "PanelData", "StatusPointsView", "View", "ViewWidget", "configure_pyqtgraph"]
