"""EMA_Percentile: the exponential moving average against percentiles of its own recent values."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import Band
from pipeline.detectors.base import MAX_WINDOW, Detector, ParameterError
from pipeline.detectors.ema_filter import EMAFilter
from pipeline.detectors.percentile import numpy_lerp, trailing_percentiles
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status
from pipeline.sample_tail import SampleTail

OK_IDX, UNDEFINED_IDX, ABOVE_IDX, BELOW_IDX = 0, 1, 2, 3


def growing_percentiles(x: np.ndarray, lengths: np.ndarray, percentiles) -> list[np.ndarray]:
    """``np.percentile(x[:L], percentiles)`` for every L in ``lengths`` (increasing), in one pass.

    The order statistics of the growing prefix come from ``kernels/rolling_order.py`` and are
    interpolated with numpy's "linear" method exactly (same virtual index, same two-sided lerp).
    """
    from pipeline.kernels.rolling_order import prefix_order_statistics  # numba loads on first use

    plan = []  # (virtual index, rank below, rank above) per percentile
    for q in percentiles:
        virtual = (lengths - 1) * (q / 100)
        below = np.floor(virtual).astype(np.int64)
        plan.append((virtual, below, np.minimum(below + 1, lengths - 1)))
    ranks = np.array([rank for _, below, above in plan for rank in (below, above)])
    stats = prefix_order_statistics(np.ascontiguousarray(x, dtype=np.float64), lengths.astype(np.int64), ranks)
    results = []
    for (virtual, below, _), a, b in zip(plan, stats[0::2], stats[1::2]):
        results.append(numpy_lerp(a, b, virtual - below))
    return results


class EMA_Percentile(Detector):
    """Error when the EMA leaves the percentile band of the last ``window`` EMAs.

    ``EMA_0 = x_0``, ``EMA_t = a x_t + (1 - a) EMA_{t-1}`` with ``a = 2 / (period + 1)``
    (``ema_filter.EMAFilter``). The last ``window`` EMAs are kept (the current one included); once
    at least ``start_on`` are stored, their ``min(p, 100 - p)`` and ``max(p, 100 - p)``
    percentiles (numpy's linear interpolation) bound the band:
    ``"Error: EMA in upper percentile"`` above it, ``"Error: EMA in lower percentile"`` below, OK
    inside; Undefined before. The original used ``[100 - p, p]``, which is inverted for
    ``p < 50`` and made almost every sample an error. State: the last EMA and the last
    ``window - 1`` EMAs.

    Parameters
    ----------
    percentile : float
        ``p``, in percent (0 to 100); 95 and 5 give the same band [5 %, 95 %].
    window : int
        EMAs kept for the percentiles, in samples (>= 1).
    start_on : int
        EMAs needed before the first verdict (1 <= start_on <= window).
    period : float
        Span of the EMA, in samples (> 0).

    ``score`` is the band score of the EMA within ``[low, high]`` (0.5 on a percentile, 0 while
    undefined). Plot lines: ``EMA``, ``UL`` (upper percentile), ``LL`` (lower percentile).

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = EMA_Percentile(percentile=90, window=6, start_on=4, period=1)
    >>> x = np.array([1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 9.0, 2.0])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(9)))
    >>> [d.status_texts[i] for i in out.status_idx]  # doctest: +NORMALIZE_WHITESPACE
    ['Undefined', 'Undefined', 'Undefined', 'OK', 'OK', 'OK', 'OK', 'Error: EMA in upper percentile',
     'OK']
    """

    name = "EMA_percentile"
    line_names = ("EMA", "UL", "LL")
    status_texts = (OK_TEXT, UNDEFINED_TEXT, "Error: EMA in upper percentile", "Error: EMA in lower percentile")
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR, Status.ERROR], dtype=np.int8)

    def __init__(
        self,
        percentile: Annotated[float, Field(ge=0, le=100, description=(
            "percentile p in percent; the band is [min(p, 100 - p), max(p, 100 - p)]"))],
        window: Annotated[int, Field(ge=1, le=MAX_WINDOW, description="EMAs kept for the percentiles, in samples")],
        start_on: Annotated[int, Field(ge=1, le=MAX_WINDOW, description="EMAs needed before the first verdict")],
        period: Annotated[float, Field(gt=0, description="span of the EMA, in samples")],
    ):
        if start_on > window:
            raise ParameterError("start_on", start_on, f"at most window ({window}); no verdict would ever come")
        self.percentile = percentile
        self.window = window
        self.start_on = start_on
        self.period = period
        self._quantiles = [min(percentile, 100 - percentile), max(percentile, 100 - percentile)]
        self._band = Band([], noun="EMA")
        self._ema = EMAFilter(period)
        self._seen = 0
        self._tail = SampleTail(window - 1)  # EMAs

    def _bands(self, full: np.ndarray, h: int, count: int):
        """Lower and upper percentile of the EMA window ending at each sample (NaN if too few)."""
        window, seen = self.window, self._seen
        low, high = np.full(count, np.nan), np.full(count, np.nan)
        partial = min(count, max(0, window - 1 - seen))  # windows still growing from the start
        first = max(0, self.start_on - 1 - seen)
        if first < partial:
            low[first:partial], high[first:partial] = growing_percentiles(
                full[:h + partial], np.arange(h + first + 1, h + partial + 1), self._quantiles)
        if partial < count:
            low[partial:], high[partial:] = trailing_percentiles(full[h + partial - window + 1:], window,
                                                                 self._quantiles)
        return low, high

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = samples.values[:, 0].astype(np.float64)
        count = len(x)
        ema = self._ema(x)
        full = self._tail.extend(ema)
        low, high = self._bands(full, len(full) - count, count)
        self._seen += count

        # whole-array arithmetic (NaN limits compare False) and then the undefined samples, rather
        # than gathering the defined ones: after warm-up every sample is defined
        undefined = np.isnan(low)
        status = np.full(count, OK_IDX, dtype=np.int16)
        status[ema > high] = ABOVE_IDX
        status[ema < low] = BELOW_IDX
        status[undefined] = UNDEFINED_IDX
        with np.errstate(invalid="ignore"):
            score = self._band.score(self._band.normalised(ema, high, low))
        score[undefined] = 0.0
        return DetectorOutput(status, score, {"EMA": ema, "UL": high, "LL": low})
