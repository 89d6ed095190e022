"""The status bar's lasting text, right to left in importance: the source state, the drawing rate,
the file's progress, the input rate (or a finished run's totals), and per-detector counters.

``RunStatus`` owns these labels in the window's status bar (whose left side stays free for
passing messages) and draws them from a ``RunTotals`` on the window's slow tick.
"""
from __future__ import annotations

import html

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QStatusBar

from pipeline.live.rate_meter import RateMeter
from pipeline.live.run_state import RunState
from pipeline.live.totals import RunTotals
from pipeline.run_modes import RunMode

STATE_COLORS = {RunState.READING: "#2e7d32", RunState.PAUSED: "#b26a00", RunState.PAUSING: "#b26a00",
                RunState.FINISHED: "#1f4e8c", RunState.STOPPED: "#555555", RunState.STOPPING: "#555555",
                RunState.ERROR: "#b71c1c", RunState.STARTING: "#2e7d32",
                RunState.CONNECTING: "#555555", RunState.DISCONNECTED: "#d84315"}
STATE_TIPS = {
    RunState.CONNECTING: "Connecting to the Kafka broker and joining the consumer group",
    RunState.DISCONNECTED: "No Kafka broker answers. The run reconnects by itself with backoff and "
                           "goes on from where it was; nothing is skipped, and offsets are committed "
                           "only for results that were written",
    RunState.PAUSED: "Paused: nothing is read until Resume (a Kafka run keeps its partitions meanwhile)",
}


class RunStatus:
    """The permanent labels of ``bar`` (see the module doc)."""

    def __init__(self, bar: QStatusBar):
        self.counter_label = QLabel()
        self.counter_label.setTextFormat(Qt.RichText)
        self.rate_label = QLabel()
        self.progress_label = QLabel()
        self.state_label = QLabel()
        self.state_label.setTextFormat(Qt.RichText)
        self.fps_label = QLabel()
        self.fps_label.setToolTip("Plot frames drawn per second")
        for label in (self.counter_label, self.rate_label, self.progress_label, self.state_label,
                      self.fps_label):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
        self.input_rate = RateMeter()

    def show_state(self, state: RunState, servers: str | None = None) -> None:
        """``Source: <state>``, naming the brokers (``servers``) while connecting or disconnected."""
        colour = STATE_COLORS.get(state, "#555555")
        where = ""
        if state in (RunState.CONNECTING, RunState.DISCONNECTED) and servers is not None:
            where = f" {'to' if state == RunState.CONNECTING else 'from'} {html.escape(servers)}"
        self.state_label.setText(f"Source: <b style='color:{colour}'>{state.value}</b>{where}")
        self.state_label.setToolTip(STATE_TIPS.get(state, ""))

    def refresh(self, detector_labels: list[str], totals: RunTotals, mode: RunMode, running: bool,
                ended_wall_s: float | None, fps: float) -> None:
        """Draw the totals. ``ended_wall_s``: the last run's wall time once it has ended (its
        totals are shown instead of a rate)."""
        self.input_rate.add(totals.samples)
        parts = [f"<b>{label}</b> {t.samples:,}{f' in {t.streams:,} streams' if t.streams > 1 else ''} · "
                 f"<span style='color:#8a5a00'>{t.counts[0]:,} warn</span> · "
                 f"<span style='color:#b71c1c'>{t.counts[-1]:,} err</span>"
                 for label, t in zip(detector_labels, totals.tallies)]
        self.counter_label.setText(" &nbsp;|&nbsp; ".join(parts))
        samples = totals.samples
        if running:
            text = f"Input: {self.input_rate.rate():,.0f} samples/s"
        elif ended_wall_s is not None:
            wall = max(ended_wall_s, 1e-9)
            text = f"Input: {samples:,} samples in {wall:.{1 if wall >= 10 else 2}f} s ({samples / wall:,.0f}/s)"
        else:
            text = "Input: –"
        if totals.rejected:
            # bad input is never silent: the count, and where the records went (the log says too)
            text += (f" · <span style='color:#b71c1c'>{totals.rejected:,} rejected</span> (see the "
                     "dead-letter file in the log folder)")
        self.rate_label.setText(text)
        done, total = totals.progress
        # -fk: the warm-up file's progress until it is read; the live part has no end to measure
        warm_up = mode is RunMode.FILE_THEN_KAFKA
        shown = bool(total) and not (warm_up and done >= total)
        self.progress_label.setText(f"{'Warm-up file' if warm_up else 'File'}: {100 * done / total:.0f} %"
                                    if shown else "")
        self.progress_label.setVisible(shown)
        self.fps_label.setText(f"{fps:.0f} fps" if running else "")
