"""Ground truth given as anomaly windows (``--labels FILE``), and the events of a label column.

A windows file has NAB's ``combined_windows.json`` layout: ``{"<name>": [[start, end], ...]}``,
with ISO 8601 texts (taken as UTC, like the input's) or epoch numbers (seconds, or milliseconds
by the input's rule). A name is matched to the input file by its path: the name whose folders
and file name are the last parts of the input's path wins, the longest such name first
(``realKnownCause/nyc_taxi.csv`` matches ``/data/NAB/data/realKnownCause/nyc_taxi.csv``: the
file's path relative to the corpus folder); when no name ends the path, the one name with the
input's base name is taken (a corpus file copied elsewhere). No match, or two equally good ones,
is an error.
"""
from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from pipeline.time_units import seconds_from_numbers


class LabelsError(ValueError):
    """A windows file that cannot be read or has no windows for the input (a usage error)."""


def window_seconds(pairs, where: str) -> np.ndarray:
    """float64[k, 2] epoch seconds of ``[[start, end], ...]``, sorted by start."""
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise LabelsError(f"{where}: expected a list of [start, end] pairs, got {json.dumps(pairs)[:80]}")
    flat = [v for pair in pairs for v in pair]
    numbers = pd.to_numeric(pd.Series(flat, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    seconds = seconds_from_numbers(numbers)
    texts = np.isnan(numbers)
    if texts.any():
        parsed = pd.to_datetime(pd.Series(flat, dtype=object)[texts].astype(str).str.strip(), utc=True,
                                format="ISO8601", errors="coerce")
        seconds[texts] = np.where(parsed.isna(), np.nan,
                                  parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6)
    if np.isnan(seconds).any():
        bad = flat[int(np.flatnonzero(np.isnan(seconds))[0])]
        raise LabelsError(f"{where}: {bad!r} is not a timestamp (ISO 8601 text or epoch seconds/milliseconds)")
    windows = seconds.reshape(-1, 2)
    if (windows[:, 1] < windows[:, 0]).any():
        raise LabelsError(f"{where}: a window ends before it starts")
    return windows[np.argsort(windows[:, 0], kind="stable")]


class WindowLabels:
    """The windows of every series in a windows file."""

    def __init__(self, path: Path, windows: dict[str, list]):
        self.path = Path(path)
        self.windows = windows

    @classmethod
    def read(cls, path: Path) -> "WindowLabels":
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError) as err:
            raise LabelsError(f"--labels {path}: cannot read it: {err}") from None
        except json.JSONDecodeError as err:
            raise LabelsError(f"--labels {path}: not JSON ({err}); expected {{\"<name>\": [[start, end], ...]}}"
                              ) from None
        if not isinstance(raw, dict):
            raise LabelsError(f"--labels {path}: expected an object {{\"<name>\": [[start, end], ...]}}")
        return cls(path, raw)

    def name_for(self, input_path: Path) -> str:
        """The name in the file that is the input's: see the module docstring."""
        parts = Path(input_path).resolve().parts
        by_path: dict[int, list[str]] = {}
        by_base = []
        for name in self.windows:
            name_parts = PurePosixPath(name.replace("\\", "/")).parts
            if len(name_parts) <= len(parts) and tuple(parts[-len(name_parts):]) == name_parts:
                by_path.setdefault(len(name_parts), []).append(name)
            if name_parts and name_parts[-1] == parts[-1]:
                by_base.append(name)
        matches = by_path[max(by_path)] if by_path else by_base
        if not matches:
            examples = ", ".join(list(self.windows)[:3])
            raise LabelsError(f"--labels {self.path}: no entry for the input {input_path} (a name is its path "
                              f"relative to the corpus folder or its file name, such as {examples})")
        if len(matches) > 1:
            raise LabelsError(f"--labels {self.path}: {', '.join(matches)} all match the input {input_path}; "
                              "keep the input in its corpus folder so that its folders tell them apart")
        return matches[0]

    def for_input(self, input_path: Path) -> np.ndarray:
        """float64[k, 2] windows (epoch seconds) of the input file."""
        name = self.name_for(input_path)
        return window_seconds(self.windows[name], f"--labels {self.path}: {name}")


def window_spans(time_s: np.ndarray, windows_s: np.ndarray) -> np.ndarray:
    """int64[k, 2] inclusive row spans of the samples inside each window: the runs of consecutive
    samples in one window (a window holding no sample has none; input out of time order may
    split one).

    >>> window_spans(np.arange(10.0), np.array([[2.0, 4.0], [4.5, 4.9], [8.0, 20.0]])).tolist()
    [[2, 4], [8, 9]]
    """
    if not len(windows_s) or not len(time_s):
        return np.empty((0, 2), dtype=np.int64)
    which = np.searchsorted(windows_s[:, 0], time_s, side="right") - 1
    inside = (which >= 0) & (time_s <= windows_s[np.maximum(which, 0), 1])
    which = np.where(inside, which, -1)
    starts = np.flatnonzero(inside & (np.diff(which, prepend=-2) != 0))
    ends = np.flatnonzero(inside & (np.diff(which, append=-2) != 0))
    return np.stack([starts, ends], axis=1).astype(np.int64)


def spans_of_labels(labels: np.ndarray) -> np.ndarray:
    """int64[k, 2] inclusive spans of the runs of consecutive labelled samples.

    >>> spans_of_labels(np.array([0, 1, 1, 0, 1, 0], dtype=bool)).tolist()
    [[1, 2], [4, 4]]
    """
    edges = np.diff(np.concatenate(([0], labels.astype(np.int8), [0])))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1], axis=1).astype(np.int64)


def mask_of_spans(spans: np.ndarray, n: int) -> np.ndarray:
    """bool[n], True inside the spans."""
    steps = np.zeros(n + 1, dtype=np.int64)
    np.add.at(steps, spans[:, 0], 1)
    np.add.at(steps, spans[:, 1] + 1, -1)
    return np.cumsum(steps[:n]) > 0
