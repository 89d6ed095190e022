"""The anomaly table: every warning and error of the run, in time order, as a Qt model.

Rows live in numpy columns (time, detector, stream, value, status, score), so appending a frame
costs a few array operations and the view asks only for the rows on screen. The stream (Kafka
topic and message key) is a number into ``stream_labels``, which the window extends as streams
appear; file runs have no stream labels, and the window hides that column. The table holds at most
``max_rows`` rows; beyond that the oldest leave the table (``total`` still counts every anomaly,
and the window says "showing the last N of M").

``AnomalyPane`` shows the model: a title with the count, and the table, which keeps to its newest
row while scrolled to the bottom. A click on a row asks the plots to centre on its time
(``row_activated``). ``busiest_row`` picks the row the screenshot centres on.
"""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np
from PyQt5.QtCore import QAbstractTableModel, QModelIndex, Qt, pyqtSignal
from PyQt5.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from gui.theme import qcolor
from pipeline.live.frames import DetectorChunk, Frame
from pipeline.records import Status

MAX_ROWS = 100_000
COLUMNS = ("Time (UTC)", "Detector", "Stream", "Value", "Status", "Score")
TIME, DETECTOR, STREAM, VALUE, STATUS, SCORE = range(len(COLUMNS))
EXPORT_HEADER = ("time_utc", "time_s", "detector", "value", "status", "status_code", "score", "stream")

_FIELDS = (("time_s", np.float64), ("detector", np.int16), ("stream", np.int32), ("value", np.float64),
           ("code", np.int8), ("status_idx", np.int16), ("score", np.float64))


def format_time(time_s: float) -> str:
    """Epoch seconds as UTC date and time to the millisecond."""
    try:
        return datetime.fromtimestamp(time_s, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    except (OverflowError, OSError, ValueError):
        return f"{time_s:.3f}"


class AnomalyTableModel(QAbstractTableModel):
    """Warnings and errors of every detector; each frame's rows are merged in time order.

    Parameters
    ----------
    detector_labels : sequence of str
        Shown in the Detector column, indexed by detector index.
    max_rows : int
        Rows kept; older rows leave the table.
    """

    def __init__(self, detector_labels: Sequence[str], max_rows: int = MAX_ROWS, parent=None):
        super().__init__(parent)
        self.detector_labels = list(detector_labels)
        self.stream_labels: list[str] = []  # by stream id; the window appends
        self.status_texts: dict[int, tuple[str, ...]] = {}
        self.max_rows = max_rows
        self.total = 0
        self._cols = {name: np.empty(1024, dtype=dtype) for name, dtype in _FIELDS}
        self._start = 0
        self._end = 0

    # -- filling -------------------------------------------------------------------------------
    def append(self, chunks: Sequence[DetectorChunk]) -> int:
        """Add the warnings and errors of one frame's chunks, in time order; returns how many."""
        parts = []
        for chunk in chunks:
            code = chunk.status_code
            keep = np.flatnonzero((code == Status.WARNING) | (code == Status.ERROR))
            if len(keep):
                self.status_texts[chunk.detector_index] = chunk.status_texts
                stream = chunk.stream[keep] if chunk.stream is not None else np.full(len(keep), -1, np.int32)
                parts.append({"time_s": chunk.time_s[keep],
                              "detector": np.full(len(keep), chunk.detector_index, np.int16),
                              "stream": stream,
                              "value": chunk.value[keep], "code": code[keep],
                              "status_idx": chunk.status_idx[keep], "score": chunk.score[keep]})
        if not parts:
            return 0
        new = {name: np.concatenate([p[name] for p in parts]) for name, _ in _FIELDS}
        order = np.argsort(new["time_s"], kind="stable")
        n = len(order)
        self.total += n
        if n > self.max_rows:
            order = order[-self.max_rows:]
            n = len(order)
        overflow = self.rowCount() + n - self.max_rows
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            self._start += overflow
            self.endRemoveRows()
        self._reserve(n)
        rows = self.rowCount()
        self.beginInsertRows(QModelIndex(), rows, rows + n - 1)
        for name, values in new.items():
            self._cols[name][self._end:self._end + n] = values[order]
        self._end += n
        self.endInsertRows()
        return len(new["time_s"])

    def _reserve(self, n: int) -> None:
        """Room for ``n`` more rows at the end: compact first, grow only when that is not enough."""
        size = len(self._cols["time_s"])
        if self._end + n <= size:
            return
        rows = self._end - self._start
        new_size = max(size, 2 * (rows + n))
        for name, column in self._cols.items():
            target = column if new_size == size else np.empty(new_size, dtype=column.dtype)
            target[:rows] = column[self._start:self._end]
            self._cols[name] = target
        self._start, self._end = 0, rows

    def clear(self) -> None:
        self.beginResetModel()
        self._start = self._end = 0
        self.total = 0
        self.endResetModel()

    # -- reading -------------------------------------------------------------------------------
    @property
    def capped(self) -> bool:
        return self.total > self.rowCount()

    def column(self, name: str) -> np.ndarray:
        """One column of the rows held, oldest first (a view)."""
        return self._cols[name][self._start:self._end]

    def row_time(self, row: int) -> float:
        return float(self._cols["time_s"][self._start + row])

    def row_detector(self, row: int) -> int:
        return int(self._cols["detector"][self._start + row])

    def status_text(self, row: int) -> str:
        i = self._start + row
        texts = self.status_texts.get(int(self._cols["detector"][i]), ())
        idx = int(self._cols["status_idx"][i])
        return texts[idx] if idx < len(texts) else str(int(self._cols["code"][i]))

    def stream_label(self, row: int) -> str:
        stream = int(self._cols["stream"][self._start + row])
        return self.stream_labels[stream] if 0 <= stream < len(self.stream_labels) else ""

    def detector_label(self, detector: int) -> str:
        if 0 <= detector < len(self.detector_labels):
            return self.detector_labels[detector]
        return str(detector)

    def export_csv(self, path: Path) -> int:
        """Write the rows held to ``path`` as CSV; returns the number of rows."""
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(EXPORT_HEADER)
            for row in range(self.rowCount()):
                i = self._start + row
                t = float(self._cols["time_s"][i])
                writer.writerow((format_time(t), repr(t), self.detector_label(self.row_detector(row)),
                                 repr(float(self._cols["value"][i])), self.status_text(row),
                                 int(self._cols["code"][i]), repr(float(self._cols["score"][i])),
                                 self.stream_label(row)))
        return self.rowCount()

    # -- the Qt model ----------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._end - self._start

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        i = self._start + row
        if role == Qt.DisplayRole:
            if col == TIME:
                return format_time(float(self._cols["time_s"][i]))
            if col == DETECTOR:
                return self.detector_label(int(self._cols["detector"][i]))
            if col == STREAM:
                return self.stream_label(row)
            if col == VALUE:
                return f"{float(self._cols['value'][i]):.6g}"
            if col == STATUS:
                return self.status_text(row)
            if col == SCORE:
                return f"{float(self._cols['score'][i]):.3f}"
        elif role == Qt.ForegroundRole and col == STATUS:
            return qcolor(int(self._cols["code"][i]), text=True)
        elif role == Qt.DecorationRole and col == STATUS:
            return qcolor(int(self._cols["code"][i]))
        elif role == Qt.TextAlignmentRole and col in (VALUE, SCORE):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        elif role == Qt.ToolTipRole and col == TIME:
            return f"{float(self._cols['time_s'][i])!r} s since the epoch"
        return None


def busiest_row(model: AnomalyTableModel, half_width: float) -> int | None:
    """The row whose neighbourhood (``half_width`` seconds either side) holds the most kinds of
    anomaly, then the most anomalies, then the newest; None for an empty table."""
    if model.rowCount() == 0:
        return None
    t = model.column("time_s")
    code = model.column("code")
    kinds = np.zeros(len(t), dtype=np.int64)
    total = np.zeros(len(t), dtype=np.int64)
    for status in (Status.WARNING, Status.ERROR):
        ts = np.sort(t[code == status])
        near = np.searchsorted(ts, t + half_width, side="right") - np.searchsorted(ts, t - half_width)
        kinds += near > 0
        total += near
    rank = kinds * (total.max() + 1) + total
    return int(np.flatnonzero(rank == rank.max())[-1])


class AnomalyPane(QWidget):
    """The anomaly table under its title (see the module doc).

    Signals
    -------
    row_activated(float)
        A row was clicked or activated; the argument is its time (epoch seconds).
    """

    row_activated = pyqtSignal(float)

    def __init__(self, max_rows: int = MAX_ROWS, parent: QWidget | None = None):
        super().__init__(parent)
        self.max_rows = max_rows
        self.model = AnomalyTableModel([], max_rows=max_rows, parent=self)
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.table = table = QTableView()
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectRows)
        table.setSelectionMode(QAbstractItemView.SingleSelection)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        table.horizontalHeader().setSectionResizeMode(STATUS, QHeaderView.Stretch)
        table.setToolTip("Click a row to centre the plots on that moment")
        table.clicked.connect(self._on_row_activated)
        table.activated.connect(self._on_row_activated)
        metrics = table.fontMetrics()
        for column, sample in ((TIME, "0000-00-00 00:00:00.000"), (DETECTOR, "00: BorderCheck"),
                               (STREAM, "sensors · machine-07"), (VALUE, "-0.000000e+00"),
                               (SCORE, "Score")):
            table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(table)

    def show_detectors(self, labels: Sequence[str]) -> None:
        """An empty table for a config's detectors."""
        old = self.model
        self.model = AnomalyTableModel(labels, max_rows=self.max_rows, parent=self)
        self.table.setModel(self.model)
        old.deleteLater()

    def clear(self) -> None:
        """A new run: no rows, no streams (file runs have none, so the column is hidden)."""
        self.model.clear()
        self.model.stream_labels.clear()
        self.table.setColumnHidden(STREAM, True)

    def add_frame(self, frame: Frame) -> None:
        """Add a frame's streams and anomalies; a table scrolled to its end stays there."""
        bar = self.table.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum()
        for info in frame.new_streams:
            self.model.stream_labels.append(info.label)
            if info.label:
                self.table.setColumnHidden(STREAM, False)
        if self.model.append(frame.chunks) and at_bottom:
            self.table.scrollToBottom()

    def refresh_title(self) -> None:
        model = self.model
        if model.capped:
            title = f"<b>Anomalies</b> — showing the last {model.rowCount():,} of {model.total:,}"
        else:
            title = f"<b>Anomalies</b> — {model.total:,}"
        self.title.setText(title + " &nbsp;<span style='color:#777'>(click a row to centre "
                                   "the plots on it)</span>")

    def select_row(self, row: int) -> None:
        """Select a row and centre the plots on it, as a click does."""
        index = self.model.index(row, TIME)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index, QAbstractItemView.PositionAtCenter)
        self._on_row_activated(index)

    def _on_row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.row_activated.emit(self.model.row_time(index.row()))
