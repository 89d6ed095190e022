"""Welford: limits at mean +- X standard deviations of the history of the first feature."""
from __future__ import annotations

import math
from typing import Annotated, Optional

import numpy as np
from pydantic import Field

from pipeline.detectors.band import UNDEFINED_IDX, Band, WarningStages
from pipeline.detectors.base import MAX_WINDOW, Detector
from pipeline.records import DetectorOutput, SampleBatch
from pipeline.sample_tail import SampleTail

#: Window sums are recomputed exactly (``math.fsum``) at every multiple of this many samples, so
#: rounding errors of the rolling update never accumulate. Positions are absolute sample indices,
#: which keeps the result independent of how the stream is cut into batches.
RESYNC_EVERY = 16384

TINY = float(np.nextafter(0.0, 1.0))


class Welford(Detector):
    """Self-calibrating limits ``mean +- X std`` from the samples before the current one.

    With ``N`` (windowed mode) the mean and the *sample* standard deviation (n - 1) of the previous
    ``N`` values set the limits; the first ``N`` samples are undefined. Without ``N``
    (cumulative mode) the mean and the *population* standard deviation of every previous sample
    set them; the first two samples are undefined. A spread of exactly zero is replaced by the
    smallest positive double, so after a constant history the same value is OK and any other value
    an error. The value is then classified with the band rule of ``band.py``.

    Windowed sums are rolling sums of values shifted by a reference, recomputed exactly every
    ``RESYNC_EVERY`` samples and where a flat stretch begins (a window of N equal values: shift =
    that value, sums = 0, so its mean is the value and its variance exactly 0, with no rounding
    residue); cumulative sums are shifted by the first value. Memory: ``N + 1``
    values, or nothing in cumulative mode.

    Parameters
    ----------
    X : float
        Half-width of the band in standard deviations (> 0).
    N : int or None
        Window length in samples (>= 2), or None for the cumulative mode.
    warning_stages : list of float
        Warning stages in band units (1 = on a limit).

    ``score`` is the band score of the value. Plot lines: ``mean``, ``UL``, ``LL``.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = Welford(X=2, N=4, warning_stages=[0.7, 0.9])
    >>> x = np.array([1, 2, 3, 4, -0.1, 5.73])
    >>> d.status_codes[d.update(SampleBatch(x, x, x[:, None], np.arange(6))).status_idx].tolist()
    [2, 2, 2, 2, -1, -1]
    """

    name = "Welford"
    line_names = ("mean", "UL", "LL")

    def __init__(
        self,
        X: Annotated[float, Field(gt=0, description="band half-width, in standard deviations")],
        N: Annotated[Optional[int], Field(ge=2, le=MAX_WINDOW, description=(
            "window length in samples; omit for the cumulative mode"))] = None,
        warning_stages: WarningStages = [],  # noqa: B006
    ):
        self.X = X
        self.N = N
        self.warning_stages = list(warning_stages)
        self._band = Band(warning_stages, noun="measurement")
        self.status_texts, self.status_codes = self._band.vocabulary
        self._seen = 0
        self._tail = SampleTail(N + 1 if N is not None else 0)  # windowed: the last N + 1 values
        self._shift = 0.0
        self._sum = 0.0      # sum of (x - shift) over the window / the whole history
        self._sum_sq = 0.0   # sum of (x - shift) ** 2 likewise

    # -- windowed mode -------------------------------------------------------------------------
    def _window_stats(self, x: np.ndarray):
        """Mean and sample variance of the N values before each sample of ``x`` (NaN if < N)."""
        N, m, seen = self.N, len(x), self._seen
        full = self._tail.extend(x)
        h = len(full) - m
        mean = np.full(m, np.nan)
        var = np.full(m, np.nan)
        first = max(0, N - seen)  # first batch index with a full window
        constant = self._constant_windows(full, h, first)
        # a flat stretch starts where a constant window follows one that was not
        flat_starts = np.flatnonzero(constant[1:] & ~constant[:-1])
        j = first
        while j < m:
            g = seen + j
            resync = g == N or g % RESYNC_EVERY == 0 or constant[j + 1] and not constant[j]
            if resync:
                window = full[h + j - N:h + j]
                if constant[j + 1]:
                    # exact: fsum(window) / N need not give back the value itself
                    self._shift, self._sum, self._sum_sq = float(window[-1]), 0.0, 0.0
                else:
                    self._shift = math.fsum(window) / N
                    centred = window - self._shift
                    self._sum, self._sum_sq = math.fsum(centred), math.fsum(centred * centred)
                start_sum, start_sq, first_inc = self._sum, self._sum_sq, j + 1
            else:
                start_sum, start_sq, first_inc = self._sum, self._sum_sq, j
            # the segment runs to the next resync point (exclusive) or the end of the batch
            next_resync = (g // RESYNC_EVERY + 1) * RESYNC_EVERY
            end = min(m, j + (next_resync - g))
            later = flat_starts[np.searchsorted(flat_starts, j, side="right"):]
            if len(later):
                end = min(end, int(later[0]))
            c = self._shift
            new = full[h + first_inc - 1:h + end - 1] - c
            old = full[h + first_inc - 1 - N:h + end - 1 - N] - c
            sums = np.cumsum(np.concatenate([[start_sum], new - old]))
            sums_sq = np.cumsum(np.concatenate([[start_sq], new * new - old * old]))
            if not resync:
                sums, sums_sq = sums[1:], sums_sq[1:]
            mean[j:end] = c + sums / N
            var[j:end] = (sums_sq - sums * sums / N) / (N - 1)
            self._sum, self._sum_sq = float(sums[-1]), float(sums_sq[-1])
            j = end
        return mean, var

    def _constant_windows(self, full: np.ndarray, h: int, first: int) -> np.ndarray:
        """``out[j + 1]``: the window of batch sample j holds N equal values (``out[0]``: the one
        before it). False where a window is not full.

        Inside a flat stretch the rolling sums add exact zeros, so resyncing at its start (shift =
        the value, sums = 0) gives the exact mean and a variance of exactly 0 all along it.
        """
        N, m = self.N, len(full) - h
        # run[i]: how many equal values end at full[i]
        index = np.arange(len(full))
        changed = np.ones(len(full), dtype=bool)
        changed[1:] = full[1:] != full[:-1]
        run = index - np.maximum.accumulate(np.where(changed, index, 0)) + 1
        out = np.zeros(m + 1, dtype=bool)
        # the window of batch sample j (j >= first) ends at full[h + j - 1]
        lo = max(first, 0)
        if lo < m:
            out[lo + 1:] = run[h + lo - 1:h + m - 1] >= N
        if first == 0 and h >= N + 1:
            out[0] = run[h - 2] >= N
        return out

    # -- cumulative mode -----------------------------------------------------------------------
    def _cumulative_stats(self, x: np.ndarray):
        """Mean and population variance of every value before each sample of ``x``."""
        m, seen = len(x), self._seen
        if seen == 0:
            self._shift = float(x[0])
        d = x - self._shift
        sums = np.cumsum(np.concatenate([[self._sum], d]))
        sums_sq = np.cumsum(np.concatenate([[self._sum_sq], d * d]))
        count = np.arange(seen, seen + m, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self._shift + sums[:-1] / count
            var = (sums_sq[:-1] - sums[:-1] * sums[:-1] / count) / count
        undefined = np.arange(seen, seen + m) < 2
        mean[undefined] = np.nan
        var[undefined] = np.nan
        self._sum, self._sum_sq = float(sums[-1]), float(sums_sq[-1])
        return mean, var

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = samples.values[:, 0].astype(np.float64)
        if len(x) == 0:
            empty = np.empty(0)
            return DetectorOutput(np.empty(0, dtype=np.int16), empty,
                                  {name: empty for name in self.line_names})
        if self.N is None:
            mean, var = self._cumulative_stats(x)
        else:
            mean, var = self._window_stats(x)
        self._seen += len(x)
        np.maximum(var, 0.0, out=var)
        std = np.sqrt(var, out=var)
        std[std == 0] = TINY
        half_width = self.X * std
        upper = mean + half_width
        lower = mean - half_width
        with np.errstate(over="ignore"):  # a value off a constant window: +-inf, an error
            n = self._band.normalised(x, upper, lower)
        undefined = np.isnan(mean)
        status = self._band.classify(n)
        status[undefined] = UNDEFINED_IDX
        score = self._band.score(n)
        score[undefined] = 0.0
        return DetectorOutput(status, score, {"mean": mean, "UL": upper, "LL": lower})
