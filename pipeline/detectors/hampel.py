"""Hampel: the window's centre against the median and the MAD of a sliding window."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import Band
from pipeline.detectors.base import MAX_WINDOW, Detector
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status
from pipeline.sample_tail import SampleTail

OK_IDX, UNDEFINED_IDX, ANOMALY_IDX = 0, 1, 2


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

    ``score`` is ``r / (1 + r)`` with ``r = |x[t-W] - m| / (n_sigmas S0)`` (0.5 on the threshold,
    1 for any deviation when ``S0 = 0``; 0 while undefined), about the delayed sample like the
    status. ``suggested_value`` is the delayed sample with its first feature replaced by ``m``
    when it is an anomaly, else the delayed sample unchanged (from ``t = W`` on). Plot lines:
    ``median`` and the limits ``UL``/``LL`` = ``m +- n_sigmas S0``. State: the last ``2W``
    samples.

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

        first = max(0, 2 * W - seen)  # first sample of the batch with a full window
        if first < count:
            m, mad = median_and_mad(np.ascontiguousarray(full), W)  # full starts 2W before `first`
            s0 = self.K * mad
            tested = full[h + first - W:h + count - W]
            deviation = np.abs(tested - m)
            limit = self.n_sigmas * s0
            anomaly = deviation > limit
            status[first:] = np.where(anomaly, ANOMALY_IDX, OK_IDX)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = deviation / limit
            r[limit == 0] = np.where(deviation[limit == 0] > 0, np.inf, 0.0)
            score[first:] = Band.score(r)
            suggested[first:, 0] = np.where(anomaly, m, tested)
            median[first:], upper[first:], lower[first:] = m, m + limit, m - limit

        self._seen += count
        return DetectorOutput(status, score, {"median": median, "UL": upper, "LL": lower},
                              suggested_value=suggested)
