"""Hampel: the window's centre against the median and the MAD of a sliding window."""
from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import Band
from pipeline.detectors.base import MAX_WINDOW, Detector
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status
from pipeline.sample_tail import SampleTail

OK_IDX, UNDEFINED_IDX, ANOMALY_IDX = 0, 1, 2

#: A standard deviation from the mean absolute difference of consecutive values (Gaussian noise):
#: E|x[i] - x[i-1]| = 2 sigma / sqrt(pi).
STEP_TO_STD = math.sqrt(math.pi) / 2


class Hampel(Detector):
    """The Hampel identifier: an outlier is far from the median in units of the MAD.

    After sample ``t`` the window holds the last ``2W + 1`` values ``x[t-2W] .. x[t]``. Its centre
    ``x[t-W]`` is tested: with ``m`` the window's median and ``S0 = K median(|window - m|)``, it is
    an anomaly (code -1, text ``"Anomaly detected"``, as in the original) when
    ``|x[t-W] - m| > n_sigmas S0``, and OK otherwise. A window with ``S0 = 0`` (mostly constant)
    makes any deviation an anomaly. The first verdict comes at ``t = 2W``, the first full window;
    before that the status is Undefined.

    The verdict needs W samples after the tested one, so the result returned with sample ``t`` is
    about sample ``t - W`` (``delay = W``), as in the original, which paired the current record
    with the delayed verdict. Unlike the original we test the centre of the window, not the value
    after it (its off-by-one), and give the first verdict one sample earlier.

    Parameters
    ----------
    W : int
        Half-width of the window, in samples (>= 1); the window holds ``2W + 1`` values.
    K : float
        Scale from the MAD to a standard deviation (1.4826 for Gaussian data).
    n_sigmas : float
        Threshold in scaled MADs.

    ``score`` is ``r / (1 + r)`` with ``r = |x[t-W] - m| / (n_sigmas S0)`` (0.5 on the threshold;
    0 while undefined), about the delayed sample like the status. Where ``S0 = 0`` the score's
    scale is the stream's typical step instead, ``sqrt(pi)/2`` times the mean ``|x[i] - x[i-1]|``
    from the first sample to ``x[t]`` (a standard deviation for Gaussian noise; the status keeps
    the rule above), so flat and stepped data still rank departures by size: a sample equal to
    the median scores 0, a larger departure more. Only a stream that never moved before gives a
    departure the score 1. ``suggested_value`` is the delayed sample with its first feature replaced by ``m``
    when it is an anomaly, else the delayed sample unchanged (from ``t = W`` on). Plot lines:
    ``median`` and the limits ``UL``/``LL`` = ``m +- n_sigmas S0``. State: the last ``2W``
    samples, the last value and the running sum of steps.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = Hampel(W=2, K=1.4826, n_sigmas=3.0)
    >>> x = np.array([1.0, 1.1, 0.9, 1.0, 9.0, 1.1, 1.0, 0.9])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(8)))
    >>> [d.status_texts[i] for i in out.status_idx]
    ['Undefined', 'Undefined', 'Undefined', 'Undefined', 'OK', 'OK', 'Anomaly detected', 'OK']
    >>> out.suggested_value[6, 0]  # sample 6 answers for sample 4, the 9.0: its window's median
    np.float64(1.0)
    """

    name = "Hampel"
    line_names = ("median", "UL", "LL")
    status_texts = (OK_TEXT, UNDEFINED_TEXT, "Anomaly detected")
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR], dtype=np.int8)

    def __init__(
        self,
        W: Annotated[int, Field(ge=1, le=MAX_WINDOW, description=(
            "half-width of the window, in samples; the window holds 2W + 1 values"))],
        K: Annotated[float, Field(gt=0, description=(
            "scale from the MAD to a standard deviation (1.4826 for Gaussian data)"))] = 1.4826,
        n_sigmas: Annotated[float, Field(ge=0, description="threshold, in scaled MADs")] = 3.0,
    ):
        self.W = W
        self.K = K
        self.n_sigmas = n_sigmas
        self.delay = W
        self._seen = 0
        self._tail = SampleTail(2 * W)  # all features
        self._last = 0.0  # the last first-feature value
        self._step_sum = 0.0  # sum of |x[i] - x[i-1]| over the stream so far

    def update(self, samples: SampleBatch) -> DetectorOutput:
        from pipeline.kernels.rolling_order import median_and_mad  # numba loads on first use

        W = self.W
        values = samples.values.astype(np.float64)
        count = len(values)
        rows = self._tail.extend(values)
        h, seen = len(rows) - count, self._seen
        full = rows[:, 0]

        status = np.full(count, UNDEFINED_IDX, dtype=np.int16)
        score = np.zeros(count)
        median, upper, lower = np.full(count, np.nan), np.full(count, np.nan), np.full(count, np.nan)
        suggested = np.full(values.shape, np.nan)
        delayed = max(0, W - seen)  # first sample of the batch with a delayed sample
        if delayed < count:
            suggested[delayed:] = rows[h + delayed - W:h + count - W]

        totals = self._step_totals(full[h:]) if count else None
        first = max(0, 2 * W - seen)  # first sample of the batch with a full window
        if first < count:
            m, mad = median_and_mad(np.ascontiguousarray(full), W)  # full starts 2W before `first`
            s0 = self.K * mad
            tested = full[h + first - W:h + count - W]
            deviation = np.abs(tested - m)
            limit = self.n_sigmas * s0
            anomaly = deviation > limit
            status[first:] = np.where(anomaly, ANOMALY_IDX, OK_IDX)
            score[first:] = Band.score(self._score_ratio(totals, first, s0, deviation))
            suggested[first:, 0] = np.where(anomaly, m, tested)
            median[first:], upper[first:], lower[first:] = m, m + limit, m - limit

        self._seen += count
        return DetectorOutput(status, score, {"median": median, "UL": upper, "LL": lower},
                              suggested_value=suggested)

    def _step_totals(self, x: np.ndarray) -> np.ndarray:
        """Sum of ``|x[i] - x[i-1]|`` from the stream's start to each sample of ``x``; carried."""
        previous = self._last if self._seen else x[0]
        with np.errstate(invalid="ignore"):
            steps = np.abs(np.diff(x, prepend=previous))
        steps[~np.isfinite(steps)] = 0.0  # sources reject infinities; a step to one tells nothing
        totals = np.cumsum(np.concatenate([[self._step_sum], steps]))[1:]
        self._step_sum, self._last = float(totals[-1]), float(x[-1])
        return totals

    def _score_ratio(self, totals, first, s0, deviation):
        """``r = deviation / (n_sigmas scale)``. The scale is ``S0``; where ``S0`` is 0 (flat or
        stepped data), the stream's own typical step instead: ``sqrt(pi) / 2`` times the mean
        absolute difference of consecutive values from the first sample to the window's end (a
        standard deviation for Gaussian noise). A window cannot give that scale itself: with
        one departure from equal values its every spread is proportional to the departure, so
        all departures would score alike.
        """
        scale = s0.copy()
        flat = np.flatnonzero(s0 == 0)
        if len(flat):
            position = self._seen + first + flat  # absolute index of each window's last sample
            scale[flat] = totals[first + flat] / position * STEP_TO_STD
        limit = self.n_sigmas * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            r = deviation / limit
        zero = limit == 0
        r[zero] = np.where(deviation[zero] > 0, np.inf, 0.0)
        return r
