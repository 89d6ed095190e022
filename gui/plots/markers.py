"""Which samples get an anomaly marker, and which are kept when there are too many to draw."""
from __future__ import annotations

import numpy as np

from pipeline.records import Status

#: The statuses that get a marker, in the order they are kept when thinning.
MARKER_CODES = (Status.ERROR, Status.WARNING, Status.UNDEFINED)
#: Most markers drawn at once; beyond it the visible ones are thinned, errors first kept.
MAX_MARKERS = 4000


def thin_markers(codes: np.ndarray, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` markers: errors, then warnings, then undefined, each evenly
    thinned when it does not fit."""
    chosen = []
    room = limit
    for code in MARKER_CODES:
        idx = np.flatnonzero(codes == code)
        if len(idx) > room:
            idx = idx[np.linspace(0, len(idx) - 1, room).astype(np.int64)] if room > 0 else idx[:0]
        chosen.append(idx)
        room -= len(idx)
    return np.sort(np.concatenate(chosen))
