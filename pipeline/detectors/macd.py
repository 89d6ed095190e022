"""MACD: limits on the difference of a fast and a slow exponential moving average."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import ERROR_ABOVE_IDX, ERROR_BELOW_IDX, FIRST_WARNING_IDX, OK_IDX, Band, check_limits
from pipeline.detectors.base import Detector
from pipeline.detectors.ema_filter import EMAFilter
from pipeline.records import DetectorOutput, SampleBatch


class MACD(Detector):
    """Error when ``MACD = EMA(period1) - EMA(period2)`` leaves ``[LL, UL]``.

    Both averages start at the first value and follow ``e_t = a x_t + (1 - a) e_{t-1}`` with
    ``a = 2 / (period + 1)`` (``ema_filter.EMAFilter``); there is no signal line. The MACD's band
    position ``n`` (LL -> -1, UL -> +1, see ``band.py``) gives an error when ``|n| > 1``. Warnings
    follow the original's own walk, which differs from the band rule: the stages are taken in the
    order given (not sorted) and a stage that ``n`` does not pass resets the status to OK, so a
    warning needs ``|n|`` beyond every stage and always names the last stage
    (``"Warning<k-1>: MACD close to upper limit."`` for k stages). No stages: OK inside the limits
    (the original crashed). Judged from the first sample; state: the two averages.

    Parameters
    ----------
    period1 : float
        Span of the fast average, in samples (> 0).
    period2 : float
        Span of the slow average, in samples (> 0).
    UL, LL : float
        Limits of the MACD, in measurement units; ``LL < UL``.
    warning_stages : list of float
        Warning stages in band units, in the order they are walked.

    ``score`` is the band score of the MACD (0.5 on a limit). Plot lines: ``MACD``, ``EMA1``,
    ``EMA2``, ``UL``, ``LL``.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = MACD(period1=10, period2=30, UL=1, LL=-1, warning_stages=[0.5])
    >>> x = np.concatenate([np.ones(30), -0.4 * np.arange(10)])
    >>> d.status_codes[d.update(SampleBatch(x, x, x[:, None], np.arange(40))).status_idx][30:].tolist()
    [1, 1, 1, 0, 0, 0, -1, -1, -1, -1]
    """

    name = "MACD"
    line_names = ("MACD", "EMA1", "EMA2", "UL", "LL")
    # The MACD and its limits are a difference of averages, around 0; the averages are values.
    own_scale_lines = ("MACD", "UL", "LL")

    def __init__(
        self,
        period1: Annotated[float, Field(gt=0, description="span of the fast average, in samples")],
        period2: Annotated[float, Field(gt=0, description="span of the slow average, in samples")],
        UL: Annotated[float, Field(description="upper limit of the MACD, in measurement units")],
        LL: Annotated[float, Field(description="lower limit of the MACD, in measurement units")],
        warning_stages: Annotated[list[float], Field(description=(
            "warning stages in band units, walked in this order; a warning needs all of them"))] = [],  # noqa: B006
    ):
        check_limits(UL, LL)
        self.period1 = period1
        self.period2 = period2
        self.UL = UL
        self.LL = LL
        self.warning_stages = list(warning_stages)
        self._band = Band(warning_stages, noun="MACD")  # texts depend on the number of stages only
        self.status_texts, self.status_codes = self._band.vocabulary
        self._fast = EMAFilter(period1)
        self._slow = EMAFilter(period2)

    def _classify(self, n: np.ndarray) -> np.ndarray:
        idx = np.full(n.shape, OK_IDX, dtype=np.int16)
        stages = self.warning_stages
        if stages:
            passes_all = np.ones(n.shape, dtype=bool)
            for stage in stages:
                passes_all &= (n > stage) | (n < -stage)
            last = FIRST_WARNING_IDX + 2 * (len(stages) - 1)
            idx[passes_all] = np.where(n[passes_all] > stages[-1], last, last + 1)
        idx[n > 1] = ERROR_ABOVE_IDX
        idx[n < -1] = ERROR_BELOW_IDX
        return idx

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = samples.values[:, 0].astype(np.float64)
        ema1, ema2 = self._fast(x), self._slow(x)
        macd = ema1 - ema2
        n = self._band.normalised(macd, self.UL, self.LL)
        count = len(x)
        return DetectorOutput(
            status_idx=self._classify(n), score=self._band.score(n),
            lines={"MACD": macd, "EMA1": ema1, "EMA2": ema2,
                   "UL": np.full(count, float(self.UL)), "LL": np.full(count, float(self.LL))})
