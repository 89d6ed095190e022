"""Visualizations a config may ask for, as plain parameter holders (no Qt here).

The original project's ``visualization`` / ``visualization_conf`` entries name one of these; the
window (``gui/``) maps each onto a live view. Headless runs accept and ignore them. Keys the
original used but that mean nothing for a live plot (``num_of_lines``, ``linestyles``,
``demo_pause``) are accepted for compatibility.
"""
from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field

from pipeline.parameters import Configurable
from pipeline.registry import Registry


class View(Configurable):
    """Base of the view specs; ``params()`` returns the constructor arguments."""


class GraphVisualization(View):
    """The scrolling plot of value, detector lines and anomaly markers."""

    def __init__(
        self,
        num_of_points: Annotated[int, Field(ge=2, description="samples in the visible window")] = 500,
        num_of_lines: Annotated[Optional[int], Field(ge=1, description="(original key, unused)")] = None,
        linestyles: Annotated[Optional[list[str]], Field(description="(original key, unused)")] = None,
        demo_pause: Annotated[Optional[float], Field(description="(original key, unused)")] = None,
    ):
        self.num_of_points = num_of_points
        self.num_of_lines = num_of_lines
        self.linestyles = linestyles
        self.demo_pause = demo_pause


class HistogramVisualization(View):
    """A live histogram of the value."""

    def __init__(
        self,
        num_of_bins: Annotated[int, Field(ge=1, description="number of bins")] = 50,
        range: Annotated[Optional[list[float]], Field(  # noqa: A002 - the original key
            min_length=2, max_length=2, description="[low, high] of the bins; automatic if absent")] = None,
        demo_pause: Annotated[Optional[float], Field(description="(original key, unused)")] = None,
    ):
        self.num_of_bins = num_of_bins
        self.range = range
        self.demo_pause = demo_pause


class StatusPointsVisualization(View):
    """The recent samples as points coloured by status."""

    def __init__(
        self,
        num_of_points: Annotated[int, Field(ge=2, description="samples in the visible window")] = 500,
        num_of_lines: Annotated[Optional[int], Field(ge=1, description="(original key, unused)")] = None,
        linestyles: Annotated[Optional[list[str]], Field(description="(original key, unused)")] = None,
        demo_pause: Annotated[Optional[float], Field(description="(original key, unused)")] = None,
    ):
        self.num_of_points = num_of_points
        self.num_of_lines = num_of_lines
        self.linestyles = linestyles
        self.demo_pause = demo_pause


VIEWS: Registry[View] = Registry("visualization", {
    "GraphVisualization": GraphVisualization,
    "HistogramVisualization": HistogramVisualization,
    "StatusPointsVisualization": StatusPointsVisualization,
})
