"""Normalization: a suggested replacement for samples judged as errors (spec 4.7).

A normalizer keeps a memory of recent sample vectors. On an error sample with a full memory it
suggests an average of the memory and stores that average in place of the sample (so one spike
does not pull later suggestions); any other sample is stored as it is. The suggestion becomes the
result's ``suggested_value`` unless the detector proposed its own (Hampel).

``LastNAverage(N)``: the mean of the last ``N`` stored vectors.
``PeriodicLastNAverage(N, period)``: the mean of ``N`` stored vectors ``period`` samples apart,
the newest included (memory ``(N - 1) period + 1``).

Only error samples cost Python work; memory is per stream key.

Examples
--------
>>> import numpy as np
>>> norm = LastNAverage(N=2)
>>> x = np.array([[1.0], [3.0], [100.0], [5.0]])
>>> norm.suggest(x, np.array([False, False, True, False]))[2].tolist()
[2.0]
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.parameters import Configurable
from pipeline.registry import Registry
from pipeline.sample_tail import SampleTail


class Normalizer(Configurable):
    """Base: ``suggest(values, is_error) -> float64[n, d]`` (NaN rows where nothing is suggested).

    ``lags``: the stored vectors a suggestion averages, counted back from the one before the
    current sample (0), oldest first.
    """

    def __init__(self, lags: tuple[int, ...]):
        self.lags = lags
        self._memory = SampleTail(self.span)  # the stored vectors
        self._stored = 0

    @property
    def span(self) -> int:
        return max(self.lags) + 1

    def suggest(self, values: np.ndarray, is_error: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        n, d = values.shape
        stored = self._memory.prepend(values)  # what the memory holds, replacements applied
        h = len(stored) - n
        suggested = np.full((n, d), np.nan)
        for i in np.flatnonzero(is_error).tolist():
            if self._stored + i < self.span:  # fewer than `span` vectors stored before this one
                continue
            row = h + i
            total = np.zeros(d)
            for lag in self.lags:  # oldest first, a fixed order: batch cuts cannot change a result
                total = total + stored[row - 1 - lag]
            suggested[i] = total / len(self.lags)
            stored[row] = suggested[i]
        self._memory.keep(stored)
        self._stored += n
        return suggested


class LastNAverage(Normalizer):
    """Suggest the mean of the last ``N`` stored vectors."""

    def __init__(self, N: Annotated[int, Field(ge=1, description="vectors averaged")]):
        super().__init__(lags=tuple(range(N - 1, -1, -1)))
        self.N = N


class PeriodicLastNAverage(Normalizer):
    """Suggest the mean of ``N`` stored vectors ``period`` samples apart."""

    def __init__(self, N: Annotated[int, Field(ge=1, description="vectors averaged")],
                 period: Annotated[int, Field(ge=1, description="samples between them")]):
        super().__init__(lags=tuple(k * period for k in range(N - 1, -1, -1)))
        self.N = N
        self.period = period


NORMALIZERS: Registry[Normalizer] = Registry(
    "normalization", {"LastNAverage": LastNAverage, "PeriodicLastNAverage": PeriodicLastNAverage})
