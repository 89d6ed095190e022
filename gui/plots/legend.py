"""A panel's legend: one line of text above its views, so it never covers the data."""
from __future__ import annotations

from typing import Sequence

from gui import theme
from gui.plots.markers import MARKER_CODES
from pipeline.records import Status


def legend_html(line_names: Sequence[str], markers: bool = True, ok_points: bool = False,
                own_scale_lines: Sequence[str] = ()) -> str:
    """The legend of the value, ``line_names`` and (``markers``) the anomaly markers, and
    (``ok_points``) the status points' OK colour; lines drawn against the right axis
    (``own_scale_lines``) say so."""
    def entry(colour: str, glyph: str, name: str) -> str:
        return f"<span style='color:{colour}'>{glyph}</span>&nbsp;{name}"

    def named(names: Sequence[str]) -> str:
        text = " / ".join(names)
        return f"{text} (right axis)" if names[0] in own_scale_lines else text
    entries = [entry(theme.VALUE_COLOR, "━━", "value")]
    entries += [entry(theme.line_color(name, i), "━━", named([name]))
                for i, name in enumerate(line_names) if name not in theme.LIMIT_LINES]
    for on_right in (False, True):
        limits = [name for name in line_names
                  if name in theme.LIMIT_LINES and (name in own_scale_lines) == on_right]
        if limits:
            entries.append(entry(theme.LIMIT_COLOR, "╍╍", named(limits)))
    if markers:
        glyphs = {Status.ERROR: "●", Status.WARNING: "▲", Status.UNDEFINED: "■"}
        entries += [entry(theme.STATUS_COLORS[s], glyphs[s], theme.STATUS_NAMES[s]) for s in MARKER_CODES]
    if ok_points:
        entries.append(entry(theme.STATUS_COLORS[Status.OK], "●", "OK (status points)"))
    return "&nbsp;&nbsp;&nbsp;".join(entries)
