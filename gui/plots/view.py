"""What a view is: the contract between a ``DetectorPanel`` and the widgets it shows.

Two sides, both declared here as protocols so neither needs the other's module:

- ``View``: what the panel calls on every view (``render``, ``refresh``, ``clear_data``).
- ``PanelData``: what a view reads from its panel (the ring buffers and what they hold).

(Not to be confused with ``pipeline.views.View``, the config-side parameter holder that names a
view; ``gui.plots.view_table`` maps those names onto the widgets that honour this protocol.)
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from pipeline.ring_buffer import RingBuffer

#: Samples a windowed view (scrolling plot, status points) shows when the config does not say.
DEFAULT_WINDOW = 500


@runtime_checkable
class View(Protocol):
    """A live view of one panel's buffers: a Qt widget placed in the panel's row.

    A view is made as ``widget(panel, **params)``: ``panel`` is the ``PanelData`` it draws from,
    ``params`` the config keys its entry in ``VIEW_WIDGETS`` names (absent or None keys are not
    passed, so the constructor's defaults apply). It keeps no samples of its own: everything it
    draws is read from the panel's buffers when it is asked to draw.

    The panel calls the methods below on the GUI thread, never while a buffer is being written.
    """

    def render(self, data_changed: bool) -> None:
        """Draw for the window's render tick (about 60 Hz), right before Qt paints.

        ``data_changed``: the panel's buffers got samples since this view last rendered (or were
        cleared). False means only the visible range may have moved; a view whose picture does
        not depend on the range returns at once then. Must cost what is on screen, not what the
        buffers hold.
        """

    def refresh(self) -> None:
        """Redraw what is too slow for every frame (the slow timer, about 4 Hz); views with
        nothing slow do nothing."""

    def clear_data(self) -> None:
        """Forget everything drawn: the panel's buffers were emptied for a new run. The view
        stays usable and draws again on the next ``render``/``refresh``."""


class PanelData(Protocol):
    """What a view reads from its panel. The rows of ``ring`` and ``markers`` are laid out as
    ``gui.plots.buffer_rows`` says."""

    #: The newest samples: x (epoch seconds), value, status code, then one row per line.
    ring: RingBuffer
    #: The newest non-OK samples: x, value, status code.
    markers: RingBuffer
    #: False once a timestamp went back in time: x is then unsorted and cannot be bisected.
    monotonic: bool
    #: The detector's lines, in the order of their ring rows.
    line_names: tuple[str, ...]
    #: The lines not in the values' units, drawn against a right axis.
    own_scale_lines: tuple[str, ...]
    #: Keep a right axis's width free even without such lines (see ``DetectorPanel``).
    reserve_right_axis: bool
