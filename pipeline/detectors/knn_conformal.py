"""KNNConformal: how far the latest stretch of the stream is from its nearest past stretches."""
from __future__ import annotations

from typing import Annotated, Optional

import numpy as np
from pydantic import Field

from pipeline.detectors.base import MAX_WINDOW, Detector, ParameterError
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status
from pipeline.sample_tail import SampleTail

OK_IDX, UNDEFINED_IDX, ERROR_IDX = 0, 1, 2

#: calibration distances needed before the first non-zero novelty
MIN_CALIBRATION = 20


class KNNConformal(Detector):
    """Nearest-neighbour novelty of the last ``length`` samples, ranked against its own past.

    After KNN CAD (Burnaev & Ishimtsev, 2016) and the spatial rule of Numenta's NAB detector:

    1. The *embedding* of sample t is the stretch ``x[t - length + 1 .. t]`` (every value of each
       vector: put features of different scales on one scale with ``normalization``). Its
       distance to the past is the RMS distance to its ``k`` nearest neighbours among the
       embeddings ending ``gap`` to ``history`` samples earlier (so a shape seen yesterday is
       familiar, a level shift, a spike or a broken rhythm is not).
    2. That distance is ranked against the distances of the ``calibration`` samples before it:
       ``novelty = rank_weight * (fraction below) + (1 - rank_weight) * d / (d + max)``, which
       keeps ranking distances beyond everything seen.
    3. A value outside the range of every earlier value (of its feature) by more than
       ``spatial_tolerance`` times that range has novelty 1 (omit the tolerance to switch this off).
    4. NAB counts one detection per anomaly and charges every extra one: a novelty that does
       not exceed every novelty of the ``quiet`` samples before it is multiplied by
       ``quiet_factor``. The result is the ``score``.

    The first ``warm_up`` samples are undefined (score 0). ``score >= threshold`` is an error.
    A sample holding NaN or inf is undefined (score 0) and changes no state: it enters neither
    the range nor the calibration, no stretch holding it is a neighbour, and a stretch holding it
    has no distance (NaN, novelty 0; the range rule still applies to its finite samples).
    Cost: ``history * length * d`` multiply-adds a sample of d values (about 20 us at the
    defaults and d = 1, numba). Memory: ``(history + length) * d + calibration + quiet`` floats.

    Parameters
    ----------
    length : int
        Embedding length, in samples.
    history : int
        How far back neighbours are searched, in samples.
    k : int
        Neighbours averaged.
    gap : int or None
        Neighbours end at least this many samples before t (default ``length``: no overlap).
    calibration : int
        Past distances the current one is ranked against, in samples.
    rank_weight : float
        Weight of the rank in the novelty (0 to 1).
    spatial_tolerance : float or None
        Margin beyond the range seen so far, as a fraction of that range.
    quiet : int
        Samples after a peak of novelty during which lower novelties are damped.
    quiet_factor : float
        Factor applied to those novelties (0 to 1).
    warm_up : int
        Samples reported undefined at the start.
    threshold : float
        Score at or above which a sample is an error.

    Examples
    --------
    >>> from pipeline.records import SampleBatch
    >>> x = np.sin(np.arange(600) * 2 * np.pi / 50)
    >>> x[500] += 3
    >>> d = KNNConformal(length=10, history=300, calibration=200, warm_up=100)
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(600)))
    >>> int(np.argmax(out.score)), [d.status_texts[i] for i in out.status_idx[[0, 500]]]
    (500, ['Undefined', 'Error: novel pattern'])
    """

    name = "KNN_conformal"
    line_names = ("distance",)
    own_scale_lines = ("distance",)
    status_texts = (OK_TEXT, UNDEFINED_TEXT, "Error: novel pattern")
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR], dtype=np.int8)

    def __init__(
        self,
        length: Annotated[int, Field(ge=1, le=10_000, description="embedding length, in samples")] = 20,
        history: Annotated[int, Field(ge=2, le=MAX_WINDOW, description=(
            "how far back neighbours are searched, in samples"))] = 1500,
        k: Annotated[int, Field(ge=1, le=1000, description="neighbours averaged")] = 1,
        gap: Annotated[Optional[int], Field(ge=1, le=MAX_WINDOW, description=(
            "neighbours end at least this many samples back (default: length)"))] = None,
        calibration: Annotated[int, Field(ge=MIN_CALIBRATION, le=MAX_WINDOW, description=(
            "past distances the current one is ranked against, in samples"))] = 1000,
        rank_weight: Annotated[float, Field(ge=0, le=1, description="weight of the rank in the novelty")] = 0.5,
        spatial_tolerance: Annotated[Optional[float], Field(ge=0, description=(
            "margin beyond the range seen so far, as a fraction of it; omit to switch off"))] = 0.03,
        quiet: Annotated[int, Field(ge=0, le=MAX_WINDOW, description=(
            "samples after a novelty peak during which lower novelties are damped"))] = 75,
        quiet_factor: Annotated[float, Field(ge=0, le=1, description="factor on damped novelties")] = 0.5,
        warm_up: Annotated[int, Field(ge=0, le=MAX_WINDOW, description="samples reported undefined")] = 150,
        threshold: Annotated[float, Field(ge=0, le=1, description="score at or above which a sample is an error")
                             ] = 0.75,
    ):
        self.length = length
        self.history = history
        self.k = k
        self.gap = gap
        self.calibration = calibration
        self.rank_weight = rank_weight
        self.spatial_tolerance = spatial_tolerance
        self.quiet = quiet
        self.quiet_factor = quiet_factor
        self.warm_up = warm_up
        self.threshold = threshold
        self._gap = length if gap is None else gap
        candidates = history - self._gap + 1  # earlier stretches a stretch is compared with
        if candidates < k:  # it could never find its neighbours: it would never fire, silently
            raise ParameterError("history", history, f"at least gap + k - 1 = {self._gap + k - 1} (gap {self._gap}, "
                                 f"k {k}), so that {k} earlier stretch{'es' * (k > 1)} can be compared")
        self._values = SampleTail(history + length - 1)
        self._distances = SampleTail(calibration)
        self._novelty = SampleTail(quiet)
        self._seen = 0
        self._low = np.inf  # per feature once the first batch has come
        self._high = -np.inf

    def _spatial(self, x: np.ndarray, finite: np.ndarray, position: np.ndarray) -> np.ndarray:
        """True where a finite value leaves the range of every finite value of its feature before it
        by the tolerance. ``x`` is float64[n, d], ``finite`` its finite cells."""
        known = np.where(finite, x, np.nan)  # fmax/fmin skip NaN: a bad value leaves the range alone
        high = np.fmax.accumulate(np.concatenate([np.broadcast_to(self._high, (1, x.shape[1])), known]))
        low = np.fmin.accumulate(np.concatenate([np.broadcast_to(self._low, (1, x.shape[1])), known]))
        self._high, self._low = high[-1].copy(), low[-1].copy()
        if self.spatial_tolerance is None:
            return np.zeros(len(x), dtype=bool)
        high, low = high[:-1], low[:-1]
        with np.errstate(invalid="ignore"):  # inf - inf before the first value
            margin = self.spatial_tolerance * (high - low)
            outside = finite & ((x > high + margin) | (x < low - margin))
        return outside.any(axis=1) & (position >= 1)

    def update(self, samples: SampleBatch) -> DetectorOutput:
        from pipeline.kernels.knn_conformal import (  # numba loads on first use
            conformal_scores,
            neighbour_distances,
            quiet_after_peaks,
        )

        x = np.asarray(samples.values, dtype=np.float64)
        count = len(x)
        finite = np.isfinite(x)
        position = np.arange(self._seen, self._seen + count)
        values = self._values.extend(x)
        distance = neighbour_distances(values, len(values) - count, self.length, self.history, self.k, self._gap)
        distances = self._distances.extend(distance)
        novelty = conformal_scores(distances, len(distances) - count, self.calibration, self.rank_weight,
                                   MIN_CALIBRATION)
        novelty[self._spatial(x, finite, position)] = 1.0
        undefined = (position < self.warm_up) | ~finite.all(axis=1)
        novelty[undefined] = 0.0
        novelties = self._novelty.extend(novelty)
        score = quiet_after_peaks(novelties, len(novelties) - count, self.quiet, self.quiet_factor)
        self._seen += count
        status = np.where(score >= self.threshold, ERROR_IDX, OK_IDX).astype(np.int16)
        status[undefined] = UNDEFINED_IDX
        return DetectorOutput(status, score, {"distance": distance})
