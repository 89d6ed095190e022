"""EMA: limits on an exponential moving average of the first feature."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import Band, WarningStages, check_limits
from pipeline.detectors.base import Detector
from pipeline.detectors.ema_filter import EMAFilter
from pipeline.records import DetectorOutput, SampleBatch


class EMA(Detector):
    """Error when the exponential moving average leaves ``[LL, UL]``.

    ``EMA_0 = x_0`` and ``EMA_t = a x_t + (1 - a) EMA_{t-1}`` with ``a = 2 / (N + 1)``
    (``ema_filter.EMAFilter``); the EMA (not the raw value) is classified with the band rule of
    ``band.py``. Judged from the first sample. State: the last EMA value only (the original kept
    every EMA forever).

    Parameters
    ----------
    UL, LL : float
        Limits for the EMA, in measurement units; ``LL < UL``.
    N : int
        Span of the average, in samples (>= 1).
    warning_stages : list of float
        Warning stages in band units.

    ``score`` is the band score of the EMA. Plot lines: ``EMA``, ``UL``, ``LL``.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = EMA(UL=4, LL=2, N=5, warning_stages=[0.7, 0.9])
    >>> x = np.array([3, 4, 4, 4, 4, 5, 5, 5], dtype=float)
    >>> d.status_codes[d.update(SampleBatch(x, x, x[:, None], np.arange(8))).status_idx].tolist()
    [1, 1, 1, 0, 0, -1, -1, -1]
    """

    name = "EMA"
    line_names = ("EMA", "UL", "LL")

    def __init__(
        self,
        UL: Annotated[float, Field(description="upper limit of the EMA, in measurement units")],
        LL: Annotated[float, Field(description="lower limit of the EMA, in measurement units")],
        N: Annotated[int, Field(ge=1, description="span of the average, in samples")],
        warning_stages: WarningStages = [],  # noqa: B006
    ):
        check_limits(UL, LL)
        self.UL = UL
        self.LL = LL
        self.N = N
        self.warning_stages = list(warning_stages)
        self._band = Band(warning_stages, noun="EMA")
        self.status_texts, self.status_codes = self._band.vocabulary
        self._ema = EMAFilter(N)

    def update(self, samples: SampleBatch) -> DetectorOutput:
        ema = self._ema(samples.values[:, 0].astype(np.float64))
        n = self._band.normalised(ema, self.UL, self.LL)
        count = len(samples)
        return DetectorOutput(
            status_idx=self._band.classify(n),
            score=self._band.score(n),
            lines={"EMA": ema, "UL": np.full(count, float(self.UL)),
                   "LL": np.full(count, float(self.LL))},
        )
