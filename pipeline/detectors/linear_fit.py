"""LinearFit: limits on the slope of a least-squares line through the last N values."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import UNDEFINED_IDX, Band, WarningStages, check_limits
from pipeline.detectors.base import MAX_WINDOW, Detector
from pipeline.records import DetectorOutput, SampleBatch
from pipeline.sample_tail import SampleTail


class LinearFit(Detector):
    """Error when the local trend (the slope of a fitted line) leaves ``[LL, UL]``.

    From sample ``N`` on, a least-squares line is fitted through the last ``N`` values (the
    current one included) at positions ``0 .. N-1``; its slope, in measurement units per sample,
    is classified with the band rule of ``band.py`` ("slope" texts). The first ``N`` samples are
    undefined, as in the original. A poor fit withholds the verdict: when the mean squared
    residual ``SSE / N`` exceeds ``confidence_norm`` the status is Undefined. (The original
    divided the residual sum by the current raw value instead, so negative values never vetoed
    and a zero value divided by zero.)

    Sums run over the window in order, vectorised across samples, so each result depends on its
    own window only. State: the last ``N - 1`` values.

    Parameters
    ----------
    UL, LL : float
        Limits of the slope, in measurement units per sample; ``LL < UL``.
    N : int
        Window length in samples (>= 2).
    confidence_norm : float
        Largest mean squared residual of a trusted fit, in squared measurement units.
    warning_stages : list of float
        Warning stages in band units (1 = on a limit).

    ``score`` is the band score of the slope (0.5 on a limit), also when the fit is vetoed; 0
    before sample N. Plot lines: ``fit`` (the line's value at the current sample) and ``slope``.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = LinearFit(UL=0.4, LL=-0.4, N=3, confidence_norm=0.1, warning_stages=[0.5])
    >>> x = np.array([1.0, 1.0, 1.0, 1.0, 1.4, 1.8, 2.4, 2.4, 0.0])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(9)))
    >>> out.lines["slope"][3:].round(2).tolist()
    [0.0, 0.2, 0.4, 0.5, 0.3, -1.2]
    >>> [d.status_texts[i] for i in out.status_idx][3:]  # the last window fits a line poorly
    ['OK', 'OK', 'Warning0: slope close to upper limit.', 'Error: slope above upper limit', \
'Warning0: slope close to upper limit.', 'Undefined']
    """

    name = "LinearFit"
    line_names = ("fit", "slope")
    own_scale_lines = ("slope",)  # units per sample; the fit is in value units

    def __init__(
        self,
        UL: Annotated[float, Field(description="upper limit of the slope, in measurement units per sample")],
        LL: Annotated[float, Field(description="lower limit of the slope, in measurement units per sample")],
        N: Annotated[int, Field(ge=2, le=MAX_WINDOW, description="window length, in samples")],
        confidence_norm: Annotated[float, Field(ge=0, description=(
            "largest mean squared residual of a trusted fit, in squared measurement units"))],
        warning_stages: WarningStages = [],  # noqa: B006
    ):
        check_limits(UL, LL)
        self.UL = UL
        self.LL = LL
        self.N = N
        self.confidence_norm = confidence_norm
        self.warning_stages = list(warning_stages)
        self._band = Band(warning_stages, noun="slope")
        self.status_texts, self.status_codes = self._band.vocabulary
        self._centre = (N - 1) / 2
        # slope = sum_k weight_k w_k, the least-squares slope through positions 0 .. N-1
        self._weights = [(k - self._centre) / (N * (N * N - 1) / 12) for k in range(N)]
        self._seen = 0
        self._tail = SampleTail(N - 1)

    def update(self, samples: SampleBatch) -> DetectorOutput:
        N = self.N
        x = samples.values[:, 0].astype(np.float64)
        count = len(x)
        full = self._tail.extend(x)
        h = len(full) - count
        status = np.full(count, UNDEFINED_IDX, dtype=np.int16)
        score = np.zeros(count)
        fit, slope_line = np.full(count, np.nan), np.full(count, np.nan)
        first = max(0, N - self._seen)
        if first < count:
            start, rows = h + first - N + 1, count - first
            columns = [full[start + k:start + k + rows] for k in range(N)]
            slope, total = np.zeros(rows), np.zeros(rows)
            for weight, column in zip(self._weights, columns):
                slope = slope + weight * column
                total = total + column
            intercept = total / N - slope * self._centre
            sse = np.zeros(rows)
            for k, column in enumerate(columns):
                residual = column - (intercept + slope * k)
                sse = sse + residual * residual
            n = self._band.normalised(slope, self.UL, self.LL)
            judged = self._band.classify(n)
            judged[sse / N > self.confidence_norm] = UNDEFINED_IDX
            status[first:] = judged
            score[first:] = self._band.score(n)
            fit[first:] = intercept + slope * (N - 1)
            slope_line[first:] = slope
        self._seen += count
        return DetectorOutput(status, score, {"fit": fit, "slope": slope_line})
