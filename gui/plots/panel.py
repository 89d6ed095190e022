"""One panel per detector and stream: a header (name, parameters, legend) over the detector's
views side by side. A file run has one stream per detector; a Kafka run one per topic and message
key, each with its own detector state, so each gets its own panel (``DetectorPanel.stream``,
shown in its header).

A ``DetectorPanel`` keeps the detector's recent samples in ring buffers (x = time, value, status,
the detector's lines; and the anomaly markers), so memory stays flat on an endless stream. Frames
are queued as they arrive and applied on the window's render tick, right before ``setData``, so a
buffer never changes under a curve that is about to be painted.
"""
from __future__ import annotations

import html
import logging
from typing import Mapping, Sequence

import numpy as np
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from gui import theme
from gui.plots.buffer_rows import MARKER_ROWS, marker_block, ring_rows, sample_block
from gui.plots.graph import GraphView
from gui.plots.legend import legend_html
from gui.plots.status_points import StatusPointsView
from gui.plots.view import DEFAULT_WINDOW, View
from gui.plots.view_table import view_widget
from pipeline.live.frames import DetectorChunk, StreamInfo
from pipeline.records import Status
from pipeline.ring_buffer import RingBuffer

log = logging.getLogger(__name__)

#: Samples per detector kept for scrolling back in time (at least twice the longest plot window).
HISTORY = 100_000
#: Anomaly and undefined markers kept per detector.
MARKER_HISTORY = 20_000
MAX_PARAMS_TEXT = 110


class DetectorPanel(QFrame):
    """A detector's header (name, parameters, legend) and its views side by side.

    Parameters
    ----------
    index : int
        The detector's index in the config.
    label : str
        ``"0: Welford"``.
    params : mapping
        The detector's parameters, shown in the header.
    line_names : sequence of str
        The detector's plot lines (``Detector.line_names``).
    views : sequence of (name, params)
        The config's visualizations (names of ``pipeline.views.VIEWS``); none means the
        scrolling plot.
    history : int
        Samples kept for scrolling back.
    own_scale_lines : sequence of str
        The lines drawn against the right axis (``Detector.own_scale_lines``).
    reserve_right_axis : bool
        Keep the right axis's width free even without such lines. Linked plots line their time
        axes up by pixel, so when any panel of a window has a right axis, every panel needs one
        of the same width to show the same time range.
    """

    def __init__(self, index: int, label: str, params: Mapping, line_names: Sequence[str],
                 views: Sequence[tuple[str, Mapping]] = (), history: int = HISTORY, *,
                 own_scale_lines: Sequence[str] = (), reserve_right_axis: bool = False):
        super().__init__()
        self.index = index
        self.label = label
        self.line_names = tuple(line_names)
        self.own_scale_lines = tuple(name for name in self.line_names if name in own_scale_lines)
        self.reserve_right_axis = reserve_right_axis
        views = list(views) or [("GraphVisualization", {})]
        windows = [p.get("num_of_points") or DEFAULT_WINDOW for _, p in views]
        self.history = max(history, 2 * max(windows))
        self.ring = RingBuffer(self.history, ring_rows(self.line_names))
        self.markers = RingBuffer(min(MARKER_HISTORY, self.history), MARKER_ROWS)
        self.samples = 0
        self.counts = {int(s): 0 for s in Status}
        self.monotonic = True  # timestamps never went back so far
        self.unrendered = False  # samples arrived while the panel was scrolled out of view
        self.stream: StreamInfo | None = None  # the stream shown here; None until the first samples
        self._last_time = -np.inf
        self._queue: list[DetectorChunk] = []

        self.setFrameShape(QFrame.StyledPanel)
        self.setMinimumHeight(230)
        shown = format_params(params)
        if len(shown) > MAX_PARAMS_TEXT:
            shown = shown[:MAX_PARAMS_TEXT - 1] + "…"
        self._params_html = f"<span style='color:#555'>{html.escape(shown)}</span>"
        self.title = QLabel()
        self.set_stream_text("")
        self.title.setTextFormat(Qt.RichText)
        self.title.setToolTip(format_params(params))
        # Long parameters (a model's training settings) must not widen the window.
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.title.setMinimumWidth(120)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addWidget(self.title, 1)
        header.addSpacing(16)
        header.addWidget(self.legend)
        row = QHBoxLayout()
        row.setContentsMargins(2, 0, 2, 2)
        self.views: list[View] = []
        for name, view_params in views:
            entry = view_widget(name)
            view = entry.make(self, view_params)
            view.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
            self.views.append(view)
            row.addWidget(view, entry.stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addLayout(row, 1)
        has_graph = any(isinstance(v, GraphView) for v in self.views)
        has_points = any(isinstance(v, StatusPointsView) for v in self.views)
        self.legend.setText(legend_html(self.line_names if has_graph else (),
                                        markers=has_graph or has_points, ok_points=has_points,
                                        own_scale_lines=self.own_scale_lines))

    @property
    def graphs(self) -> list[GraphView]:
        return [v for v in self.views if isinstance(v, GraphView)]

    def set_stream_text(self, text: str, waiting: bool = False) -> None:
        """Name the panel's stream in its header (``waiting``: no samples yet, said in grey)."""
        stream = ""
        if text:
            colour = "#777" if waiting else theme.STREAM_COLOR
            stream = f"&nbsp;&nbsp;<b style='color:{colour}'>{html.escape(text)}</b>"
        self.title.setText(f"<b>{self.label}</b>{stream}&nbsp;&nbsp;{self._params_html}")

    def bind(self, stream: StreamInfo) -> None:
        """Show ``stream`` here from now on."""
        self.stream = stream
        self.set_stream_text(stream.label)

    @property
    def anomalies(self) -> int:
        return self.counts[Status.WARNING] + self.counts[Status.ERROR]

    def queue(self, chunk: DetectorChunk) -> None:
        """Count the chunk now; its samples reach the buffers on the next ``apply_queued``."""
        if len(chunk) == 0:
            return
        self._queue.append(chunk)
        self.samples += len(chunk)
        t = chunk.time_s
        if self.monotonic and (t[0] < self._last_time or (np.diff(t) < 0).any()):
            self.monotonic = False
            log.warning("%s: timestamps go back in time; the plot draws its whole buffer", self.label)
        self._last_time = max(self._last_time, float(t[-1]))
        counts = np.bincount(chunk.status_code.astype(np.int64) + 1, minlength=len(Status))
        for status in Status:
            self.counts[int(status)] += int(counts[int(status) + 1])

    def apply_queued(self) -> bool:
        """Move queued chunks into the buffers; True if there were any."""
        if not self._queue:
            return False
        chunks, self._queue = self._queue, []
        for chunk in chunks:
            self.ring.extend(sample_block(chunk, self.line_names))
            self.markers.extend(marker_block(chunk))
        return True

    def render(self, data_changed: bool) -> None:
        """The render tick: every view draws (see ``View.render``)."""
        for view in self.views:
            view.render(data_changed)

    def refresh(self) -> None:
        """The slow timer: histograms (see ``View.refresh``)."""
        for view in self.views:
            view.refresh()

    def clear(self) -> None:
        """Empty the buffers and counters for a new run; the panel shows no stream until
        ``bind``."""
        self.stream = None
        self._queue.clear()
        self.ring.clear()
        self.markers.clear()
        self.samples = 0
        self.counts = {int(s): 0 for s in Status}
        self.monotonic = True
        self._last_time = -np.inf
        for view in self.views:
            view.clear_data()


def format_params(params: Mapping) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
