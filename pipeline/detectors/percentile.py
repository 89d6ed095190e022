"""Percentile: limits at percentiles of the recent history of the first feature."""
from __future__ import annotations

import math
from typing import Annotated, Sequence

import numpy as np
from pydantic import Field
from scipy.ndimage import rank_filter

from pipeline.detectors.band import UNDEFINED_IDX, Band, WarningStages
from pipeline.detectors.base import MAX_WINDOW, Detector, ParameterError
from pipeline.records import DetectorOutput, SampleBatch
from pipeline.sample_tail import SampleTail

#: Following a rank from window to window (``kernels/rolling_order.py``) scans the window each
#: time the rank's value changes: for the q-quantile of white noise, on 2 q (1 - q) of the samples.
#: Where that comes to more values a sample than this (central ranks of windows of thousands),
#: scipy's rank filter, O(log window) a sample, is the faster one.
MAX_FOLLOW_SCAN = 1500


def trailing_percentiles(x: np.ndarray, window: int, percentiles: Sequence[float]) -> list[np.ndarray]:
    """Percentiles of every full window of ``x``, equal to ``np.percentile`` on each window.

    Element ``j`` of each result is the percentile of ``x[j:j + window]``. The order statistics
    (``trailing_order_statistics``) are interpolated exactly as numpy's default ("linear") method
    does: the same virtual index, the same two-sided lerp.
    """
    plan = []  # (rank below, gamma) per percentile; gamma 0: the order statistic itself
    for q in percentiles:
        virtual = (window - 1) * (q / 100)
        if virtual >= window - 1:
            plan.append((window - 1, 0.0))
        else:
            below = math.floor(virtual)
            plan.append((below, virtual - below))
    ranks = sorted({rank for below, gamma in plan for rank in ((below, below + 1) if gamma else (below,))})
    order_stat = trailing_order_statistics(np.ascontiguousarray(x, dtype=np.float64), window, ranks)

    results = []
    for below, gamma in plan:
        a = order_stat[below]
        if gamma == 0:
            results.append(a)
            continue
        results.append(numpy_lerp(a, order_stat[below + 1], gamma))
    return results


def numpy_lerp(a: np.ndarray, b: np.ndarray, gamma) -> np.ndarray:
    """``np.percentile``'s "linear" interpolation between neighbouring order statistics ``a`` and
    ``b`` at fraction ``gamma`` (a number or an array): the two-sided lerp numpy uses, from ``b``
    when ``gamma >= 0.5``, so results equal numpy's to the bit."""
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def trailing_order_statistics(x: np.ndarray, window: int, ranks: list[int]) -> dict[int, np.ndarray]:
    """For each rank r, the r-th smallest value (from 0) of every full window of ``x`` (float64):
    followed from window to window where that is cheap (see ``MAX_FOLLOW_SCAN``), else by scipy."""
    from pipeline.kernels.rolling_order import order_statistics  # numba loads on first use

    followed = [r for r in ranks if 2 * r * (window - r) / window <= MAX_FOLLOW_SCAN]  # 2 q (1 - q) window
    stats = dict(zip(followed, order_statistics(x, window, np.array(followed, dtype=np.int64)))) if followed else {}
    count = len(x) - window + 1
    for r in ranks:
        if r not in stats:
            stats[r] = rank_filter(x, rank=r, size=window, mode="nearest")[window // 2:window // 2 + count]
    return stats


class Percentile(Detector):
    """Error when a value falls outside a percentile range of the ``buff_size`` values before it.

    The original's Percentile never ran (it read a ``buff_size`` it never set); this is what its
    keys describe. For each sample, the ``percentile_range = [low, high]`` percentiles (numpy's
    linear interpolation) of the previous ``buff_size`` values (the current one excluded) are the
    limits ``LL`` and ``UL`` of the band rule of ``band.py``: above ``UL`` is
    ``"Error: measurement above upper limit"``, below ``LL`` the lower error, warnings by stage.
    The first ``buff_size`` samples are undefined. A constant history makes ``LL == UL``: the same
    value is OK and any other an error. State: the last ``buff_size`` values.

    Parameters
    ----------
    percentile_range : list of two floats
        ``[low, high]`` percentiles in percent, ``0 <= low < high <= 100``.
    buff_size : int
        History length in samples (>= 2).
    warning_stages : list of float
        Warning stages in band units (1 = on a percentile limit).

    ``score`` is the band score of the value (0.5 on a limit, 0 while undefined). Plot lines:
    ``UL`` and ``LL``. The original's ``shift`` key was never used and is ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = Percentile(percentile_range=[10, 90], buff_size=5)
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 3.0, 9.0, 0.0])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(8)))
    >>> d.status_codes[out.status_idx].tolist()
    [2, 2, 2, 2, 2, 1, -1, -1]
    """

    name = "Percentile"
    line_names = ("UL", "LL")

    def __init__(
        self,
        percentile_range: Annotated[list[float], Field(description=(
            "[low, high] percentiles of the history that bound the band, in percent"))] = [5, 95],  # noqa: B006
        buff_size: Annotated[int, Field(ge=2, le=MAX_WINDOW, description="history length, in samples")] = 100,
        warning_stages: WarningStages = [],  # noqa: B006
    ):
        if not (len(percentile_range) == 2 and 0 <= percentile_range[0] < percentile_range[1] <= 100):
            raise ParameterError("percentile_range", percentile_range,
                                 "[low, high] with 0 <= low < high <= 100")
        self.percentile_range = list(percentile_range)
        self.buff_size = buff_size
        self.warning_stages = list(warning_stages)
        self._band = Band(warning_stages, noun="measurement")
        self.status_texts, self.status_codes = self._band.vocabulary
        self._seen = 0
        self._tail = SampleTail(buff_size)

    def update(self, samples: SampleBatch) -> DetectorOutput:
        B = self.buff_size
        x = samples.values[:, 0].astype(np.float64)
        count = len(x)
        full = self._tail.extend(x)
        h = len(full) - count
        low, high = np.full(count, np.nan), np.full(count, np.nan)
        first = max(0, B - self._seen)
        if first < count:
            # the history of sample i is full[h + i - B:h + i]
            low[first:], high[first:] = trailing_percentiles(full[h + first - B:-1], B, self.percentile_range)
        self._seen += count

        defined = ~np.isnan(low)
        status = np.full(count, UNDEFINED_IDX, dtype=np.int16)
        score = np.zeros(count)
        n = self._band.normalised(x[defined], high[defined], low[defined])
        status[defined] = self._band.classify(n)
        score[defined] = self._band.score(n)
        return DetectorOutput(status, score, {"UL": high, "LL": low})
