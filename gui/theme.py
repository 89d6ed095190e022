"""Colours and pens shared by the plots, the table and the status bar.

Status colours follow the issue: warnings amber, errors red, undefined grey; OK samples get no
marker on the scrolling plot and a quiet blue in the status-points view.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor

from pipeline.records import Status

STATUS_COLORS = {
    Status.ERROR: "#d62728",
    Status.WARNING: "#f0a000",
    Status.UNDEFINED: "#9e9e9e",
    Status.OK: "#7fa7d6",
}
#: Darker variants for text on white (the table's status column).
STATUS_TEXT_COLORS = {
    Status.ERROR: "#b71c1c",
    Status.WARNING: "#8a5a00",
    Status.UNDEFINED: "#616161",
    Status.OK: "#1f4e8c",
}
STATUS_NAMES = {Status.ERROR: "error", Status.WARNING: "warning", Status.UNDEFINED: "undefined",
                Status.OK: "OK"}
#: Marker shapes, so the statuses differ by more than colour.
STATUS_SYMBOLS = {Status.ERROR: "o", Status.WARNING: "t1", Status.UNDEFINED: "s", Status.OK: "o"}
STATUS_SIZES = {Status.ERROR: 9, Status.WARNING: 10, Status.UNDEFINED: 6, Status.OK: 5}

VALUE_COLOR = "#1f4e8c"
CENTRE_COLOR = "#2ca02c"   # EMA, Welford's mean: the detector's own estimate
LIMIT_COLOR = "#6b4c9a"    # UL / LL
OTHER_LINE_COLORS = ("#8c564b", "#17becf", "#e377c2", "#bcbd22")
CURSOR_COLOR = "#444444"
STREAM_COLOR = "#00695c"   # a Kafka stream's name (topic · key) in panel headers and the table
BACKGROUND = "w"
FOREGROUND = "#222222"

LIMIT_LINES = frozenset({"UL", "LL"})


def qcolor(status: int, text: bool = False) -> QColor:
    return QColor((STATUS_TEXT_COLORS if text else STATUS_COLORS)[Status(status)])


def line_color(name: str, index: int) -> str:
    if name in LIMIT_LINES:
        return LIMIT_COLOR
    return CENTRE_COLOR if index == 0 else OTHER_LINE_COLORS[index % len(OTHER_LINE_COLORS)]


def line_pen(name: str, index: int):
    """The pen of a detector line: limits dashed, the detector's estimate solid."""
    style = Qt.DashLine if name in LIMIT_LINES else Qt.SolidLine
    return pg.mkPen(line_color(name, index), width=1, style=style)


def status_lookup(values: dict) -> np.ndarray:
    """An object array indexed by ``status_code + 1`` (codes -1..2), for per-point brushes."""
    lut = np.empty(4, dtype=object)
    for status, value in values.items():
        lut[int(status) + 1] = value
    return lut


BRUSHES = status_lookup({s: pg.mkBrush(c) for s, c in STATUS_COLORS.items()})
SYMBOLS = status_lookup(STATUS_SYMBOLS)
SIZES = status_lookup(STATUS_SIZES)


def configure_pyqtgraph() -> None:
    """Light theme (readable in screenshots and print) and fast drawing."""
    pg.setConfigOptions(background=BACKGROUND, foreground=FOREGROUND, antialias=False)
