"""Cumulative: a decaying sum of the relative changes of a running mean (a trend detector)."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import Band, WarningStages
from pipeline.detectors.base import MAX_WINDOW, Detector
from pipeline.detectors.ema_filter import first_order
from pipeline.records import DetectorOutput, SampleBatch
from pipeline.sample_tail import SampleTail


class Cumulative(Detector):
    """Error when the decaying sum of relative changes of the running mean passes +-1.

    ``r_t`` is the mean of the last ``averaging`` values (fewer at the start). Its relative change
    is ``delta_t = (r_t - r_{t-1}) / |r_t|`` with ``r_{-1} = 0`` (so the first change is +-1), and
    ``C_t = (C_{t-1} + delta_t) (1 - decay)`` (``ema_filter.first_order``). ``C`` is classified
    with the band rule of ``band.py`` with limits -1 and +1 ("measurement" texts, as in the
    original). When ``r_t`` is 0 the change is measured against ``|r_{t-1}|`` instead, and is 0
    when both are 0; the original divided by zero, after which ``C`` stayed NaN and every later
    sample was OK. Judged from the first sample. State: the last ``averaging - 1`` values, ``r``
    and ``C``.

    Parameters
    ----------
    decay : float
        Fraction of ``C`` forgotten per sample, 0 <= decay <= 1.
    averaging : int
        Length of the running mean, in samples (>= 1).
    warning_stages : list of float
        Warning stages in band units (1 = on a limit).

    ``score`` is the band score of ``C`` (``|C| / (1 + |C|)``: 0.5 on a limit). Plot lines:
    ``running_mean`` (``r``) and ``cumulative`` (``C``, dimensionless).

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = Cumulative(decay=0.3, averaging=2, warning_stages=[0.5])
    >>> x = np.array([10.0] * 6 + [20.0, 40.0, 40.0, 40.0])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(10)))
    >>> out.lines["cumulative"].round(2).tolist()  # starts at 0.7: the first change is +100 %
    [0.7, 0.49, 0.34, 0.24, 0.17, 0.12, 0.32, 0.57, 0.57, 0.4]
    >>> d.status_codes[out.status_idx].tolist()
    [0, 1, 1, 1, 1, 1, 1, 0, 0, 1]
    """

    name = "Cumulative"
    line_names = ("running_mean", "cumulative")
    own_scale_lines = ("cumulative",)  # dimensionless; the running mean is in value units

    def __init__(
        self,
        decay: Annotated[float, Field(ge=0, le=1, description="fraction of the sum forgotten per sample")],
        averaging: Annotated[int, Field(ge=1, le=MAX_WINDOW, description="length of the running mean, in samples")],
        warning_stages: WarningStages = [],  # noqa: B006
    ):
        self.decay = decay
        self.averaging = averaging
        self.warning_stages = list(warning_stages)
        self._band = Band(warning_stages, noun="measurement")
        self.status_texts, self.status_codes = self._band.vocabulary
        self._seen = 0
        self._tail = SampleTail(averaging - 1)
        self._mean = 0.0
        self._sum = 0.0

    def _running_mean(self, x: np.ndarray) -> np.ndarray:
        """Mean of the last ``averaging`` values at each sample, summed oldest first."""
        A, seen, count = self.averaging, self._seen, len(x)
        full = self._tail.extend(x)
        h = len(full) - count
        total = np.empty(count)
        partial = min(count, max(0, A - 1 - seen))  # samples whose window reaches the stream start
        if partial:
            total[:partial] = np.cumsum(full[:h + partial])[h:]
        rows = count - partial
        if rows:
            start = h + partial - A + 1
            acc = full[start:start + rows].copy()
            for k in range(1, A):
                acc += full[start + k:start + k + rows]
            total[partial:] = acc
        length = np.minimum(np.arange(seen + 1, seen + count + 1), A)
        return total / length

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = samples.values[:, 0].astype(np.float64)
        if len(x) == 0:
            empty = np.empty(0)
            return DetectorOutput(np.empty(0, dtype=np.int16), empty,
                                  {name: empty for name in self.line_names})
        r = self._running_mean(x)
        previous = np.concatenate([[self._mean], r[:-1]])
        change = r - previous
        scale = np.where(r != 0, np.abs(r), np.abs(previous))
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.where(scale != 0, change / scale, 0.0)
        keep = 1 - self.decay
        c = first_order(delta, keep, keep, self._sum)
        self._seen += len(x)
        self._mean, self._sum = float(r[-1]), float(c[-1])
        return DetectorOutput(self._band.classify(c), self._band.score(c),
                              {"running_mean": r, "cumulative": c})
