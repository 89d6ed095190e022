"""The rows of a panel's ring buffers, and how a detector chunk becomes columns of them.

``ring``: x (epoch seconds), value, status code, then one row per detector line (NaN where a chunk
has no such line). ``markers``: x, value, status code of the samples that are not OK.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from pipeline.live.frames import DetectorChunk
from pipeline.records import Status

X, VALUE, CODE = 0, 1, 2
MARKER_ROWS = 3


def line_row(i: int) -> int:
    """The ring row of the detector's ``i``-th line."""
    return CODE + 1 + i


def ring_rows(line_names: Sequence[str]) -> int:
    return line_row(len(line_names))


def sample_block(chunk: DetectorChunk, line_names: Sequence[str]) -> np.ndarray:
    """The chunk's samples as ring columns."""
    block = np.empty((ring_rows(line_names), len(chunk)))
    block[X] = chunk.time_s
    block[VALUE] = chunk.value
    block[CODE] = chunk.status_code
    for i, name in enumerate(line_names):
        block[line_row(i)] = chunk.lines.get(name, np.nan)
    return block


def marker_block(chunk: DetectorChunk) -> np.ndarray:
    """The chunk's samples that get a marker (all but OK) as marker-ring columns."""
    marked = chunk.status_code != Status.OK
    return np.vstack([chunk.time_s[marked], chunk.value[marked], chunk.status_code[marked]])
