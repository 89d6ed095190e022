"""The data that flows through the engine: sample batches, detector outputs and result batches.

Everything is column-oriented (numpy arrays, one entry per sample) so that the hot path never
touches Python objects per sample. Status texts are not stored per sample either: a detector owns
a small vocabulary of texts and every result carries an index into it (``status_idx``); the
numeric code of each text is fixed by the vocabulary too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Mapping

import numpy as np


class Status(IntEnum):
    """Status codes of the original project (and of every record we write)."""

    ERROR = -1
    WARNING = 0
    OK = 1
    UNDEFINED = 2


UNDEFINED_TEXT = "Undefined"
OK_TEXT = "OK"


class StatusTally:
    """How many samples had each status: OK, warning, error and undefined, in that order.

    ``counts`` maps each ``Status`` code (an int) to its number of samples. ``add`` counts results
    given as indices into a vocabulary's codes (a ``ResultBatch``'s ``status_idx`` and
    ``status_codes``), ``add_codes`` results given as codes; both cost one ``np.bincount``.

    Examples
    --------
    >>> tally = StatusTally()
    >>> tally.add(np.array([0, 2, 2]), status_codes=np.array([Status.OK, Status.UNDEFINED, Status.ERROR]))
    >>> tally.add_codes(np.array([Status.WARNING]))
    >>> tally.named(), tally.samples, tally.anomalies
    ({'ok': 1, 'warning': 1, 'error': 2, 'undefined': 0}, 4, 3)
    """

    ORDER = (Status.OK, Status.WARNING, Status.ERROR, Status.UNDEFINED)
    _CODES = np.array(sorted(Status), dtype=np.int8)  # -1 .. 2: index = code + 1

    def __init__(self):
        self.counts = {int(s): 0 for s in self.ORDER}

    def __getitem__(self, status: Status) -> int:
        return self.counts[int(status)]

    def add(self, status_idx: np.ndarray, status_codes: np.ndarray) -> None:
        """Count samples whose codes are ``status_codes[status_idx]``."""
        for idx, count in enumerate(np.bincount(status_idx, minlength=len(status_codes)).tolist()):
            if count:
                self.counts[int(status_codes[idx])] += count

    def add_codes(self, codes: np.ndarray) -> None:
        """Count samples with these status codes."""
        self.add(np.asarray(codes, dtype=np.int64) + 1, self._CODES)

    @property
    def samples(self) -> int:
        return sum(self.counts.values())

    @property
    def anomalies(self) -> int:
        """Warnings and errors."""
        return self.counts[Status.WARNING] + self.counts[Status.ERROR]

    def named(self) -> dict[str, int]:
        """``{"ok": n, "warning": n, "error": n, "undefined": n}``, as the summary names them."""
        return {status.name.lower(): self.counts[status] for status in self.ORDER}


@dataclass(frozen=True)
class SampleBatch:
    """Up to N consecutive samples of one stream.

    Attributes
    ----------
    timestamp : float64[n]
        The timestamp as the input gave it (seconds or milliseconds since the epoch); written back
        unchanged in output records. ISO 8601 input is converted to epoch seconds.
    time_s : float64[n]
        The same instant in seconds since the epoch (UTC), for time-of-day filters and plots.
    values : float64[n, d]
        The feature vectors.
    position : int64[n]
        Where each sample came from: the 1-based line of a CSV/JSON Lines file, the element index of
        a JSON array, or a Kafka offset. Used in logs and dead letters.
    labels : bool[n] or None
        Ground truth when the input has a ``label`` column.
    stream : str
        Where the samples came from, for routing: a Kafka topic, or "" for a file (every detector
        reads a file).
    key : str
        The message key within the stream ("" for none). Detector state is kept per
        (stream, key), so partitions spread over several instances keep correct state.
    """

    timestamp: np.ndarray
    time_s: np.ndarray
    values: np.ndarray
    position: np.ndarray
    labels: np.ndarray | None = None
    key: str = ""
    stream: str = ""

    def __len__(self) -> int:
        return len(self.timestamp)

    @property
    def width(self) -> int:
        return self.values.shape[1]

    def take(self, selector: np.ndarray) -> "SampleBatch":
        """The samples picked by a boolean mask or an index array, in order."""
        return SampleBatch(
            timestamp=self.timestamp[selector],
            time_s=self.time_s[selector],
            values=self.values[selector],
            position=self.position[selector],
            labels=None if self.labels is None else self.labels[selector],
            key=self.key,
            stream=self.stream,
        )

    @staticmethod
    def empty(width: int, key: str = "", stream: str = "") -> "SampleBatch":
        return SampleBatch(
            timestamp=np.empty(0),
            time_s=np.empty(0),
            values=np.empty((0, width)),
            position=np.empty(0, dtype=np.int64),
            key=key,
            stream=stream,
        )


@dataclass(frozen=True)
class RejectedRecord:
    """An input record that could not be used: where it was, why, and its raw text.

    ``location`` is human-readable (``"data.csv line 27"``, ``"data.json data[26]"``,
    ``"topic/partition 0 offset 12"``); ``position`` is the number inside it.
    """

    location: str
    position: int
    reason: str
    raw: str

    def describe(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(frozen=True)
class DetectorOutput:
    """What a detector returns for n samples (in the order it was given them).

    ``status_idx`` indexes the detector's ``status_texts``; ``score`` is in [0, 1] (0 normal,
    1 most anomalous); ``lines`` are the detector's own plot lines (e.g. ``"EMA"``, ``"UL"``),
    each float64[n], NaN where undefined; ``suggested_value`` is a replacement value the detector
    proposes (Hampel's median), float64[n, d] with NaN rows where it has none.
    """

    status_idx: np.ndarray
    score: np.ndarray
    lines: Mapping[str, np.ndarray] = field(default_factory=dict)
    suggested_value: np.ndarray | None = None  # float64[n, d], NaN rows where none


@dataclass(frozen=True)
class ResultBatch:
    """The results of one detector on one batch: what outputs and listeners receive.

    ``samples`` holds only the samples this detector judged (a time-of-day filter may have left
    some out). ``status_codes`` and ``status_texts`` are the detector's vocabulary.
    """

    detector_index: int
    algorithm: str
    samples: SampleBatch
    status_idx: np.ndarray
    score: np.ndarray
    status_texts: tuple[str, ...]
    status_codes: np.ndarray
    lines: Mapping[str, np.ndarray] = field(default_factory=dict)
    suggested_value: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.status_idx)

    @property
    def status_code(self) -> np.ndarray:
        """int8[n] status code of every sample."""
        return self.status_codes[self.status_idx]

    def anomaly_mask(self) -> np.ndarray:
        """True where the status is a warning or an error."""
        code = self.status_code
        return (code == Status.ERROR) | (code == Status.WARNING)

    def take(self, selector: np.ndarray) -> "ResultBatch":
        return ResultBatch(
            detector_index=self.detector_index,
            algorithm=self.algorithm,
            samples=self.samples.take(selector),
            status_idx=self.status_idx[selector],
            score=self.score[selector],
            status_texts=self.status_texts,
            status_codes=self.status_codes,
            lines={name: line[selector] for name, line in self.lines.items()},
            suggested_value=None if self.suggested_value is None else self.suggested_value[selector],
        )
