"""The one table of view widgets, keyed by the names of the config's registry
(``pipeline.views.VIEWS``): a name the config accepts is a widget the window can show.
``tests/gui/test_gui_plots.py`` checks that the two registries name the same views.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from gui.plots.graph import GraphView
from gui.plots.histogram import HistogramView
from gui.plots.status_points import StatusPointsView
from gui.plots.view import PanelData, View
from pipeline.views import VIEWS


@dataclass(frozen=True)
class ViewWidget:
    """How a config's view is shown."""

    #: The widget class, made as ``widget(panel, **params)`` (see ``View``).
    widget: type[View]
    #: Its share of the panel's width.
    stretch: int
    #: The config keys (of the ``pipeline.views`` spec) the widget takes.
    params: tuple[str, ...]

    def make(self, panel: PanelData, config_params: Mapping) -> View:
        """The widget for ``panel``, given the config's parameters; keys it does not take, and
        keys left unset (None), are not passed."""
        kwargs = {k: v for k, v in config_params.items() if k in self.params and v is not None}
        return self.widget(panel, **kwargs)


VIEW_WIDGETS: Mapping[str, ViewWidget] = {
    "GraphVisualization": ViewWidget(GraphView, stretch=5, params=("num_of_points",)),
    "HistogramVisualization": ViewWidget(HistogramView, stretch=2, params=("num_of_bins", "range")),
    "StatusPointsVisualization": ViewWidget(StatusPointsView, stretch=3, params=("num_of_points",)),
}


def view_widget(name: str) -> ViewWidget:
    """The entry of the config's view ``name``, in any spelling the config accepts."""
    return VIEW_WIDGETS[VIEWS.canonical_name(name)]
