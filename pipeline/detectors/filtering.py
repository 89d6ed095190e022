"""Filtering: a Butterworth low-pass filter of the first feature, with limits on the filtered
signal (mode 0) or on the deviation of the value from it (mode 1)."""
from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from scipy.signal import butter, lfilter, lfilter_zi

from pipeline.detectors.band import (
    ERROR_ABOVE_IDX,
    ERROR_BELOW_IDX,
    FIRST_WARNING_IDX,
    Band,
    WarningStages,
    check_limits,
)
from pipeline.detectors.base import Detector
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status


class Filtering(Detector):
    """Limits on a low-pass filtered signal (mode 0) or on the value's deviation from it (mode 1).

    The filter is ``scipy.signal.butter(filter_order, cutoff_frequency)`` run sample by sample
    (``lfilter`` with the carried state), starting in the steady state of the first value, so
    the first outputs equal the first value instead of being pulled towards 1.0 as in the original.

    Mode 0 classifies the filtered value ``y`` with the band rule of ``band.py`` ("Filtered
    signal" texts). Mode 1 classifies the deviation ``d = (x - y) / (UL - LL)`` in band units:
    ``|d| > 1`` is ``"Error: Large deviation"`` (the original missed large negative deviations),
    otherwise the sorted stages give ``"Warning<i>: Significant deviation."`` for either sign.
    Judged from the first sample; state: the filter's ``filter_order`` delay values.

    Parameters
    ----------
    mode : {0, 1}
        0: limits on the filtered signal; 1: limits on the deviation from it.
    filter_order : int
        Order of the Butterworth filter (>= 1).
    cutoff_frequency : float
        Cut-off frequency as a fraction of the Nyquist frequency (half the sampling rate),
        0 < cutoff_frequency < 1.
    UL, LL : float
        Mode 0: limits of the filtered signal, in measurement units. Mode 1: only their
        difference is used, as the deviation that counts as one band unit.
    warning_stages : list of float
        Warning stages in band units (1 = on a limit).

    ``score`` is the band score of the classified quantity (``|q| / (1 + |q|)`` with q the band
    position of ``y`` or ``d``: 0.5 on a limit). Plot lines: ``filtered`` (``y``) in both modes;
    mode 0 adds ``UL`` and ``LL``, mode 1 the ``deviation`` ``x - y``.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = Filtering(mode=1, filter_order=3, cutoff_frequency=0.4, UL=1, LL=0,
    ...               warning_stages=[0.7, 0.9])
    >>> x = np.array([1.0, 1.0, 1.0, 2.5, 2.5, 1.0, -0.5])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(7)))
    >>> [d.status_texts[i] for i in out.status_idx]  # the drop to 1.0 deviates by -1.2
    ['OK', 'OK', 'OK', 'Error: Large deviation', 'Warning0: Significant deviation.', \
'Error: Large deviation', 'Error: Large deviation']
    """

    name = "Filtering"
    line_names = ("filtered", "deviation", "UL", "LL")
    # The deviation x - y (mode 1 only) is a difference of values, around 0 instead of at the
    # values' level. UL and LL are plotted in mode 0 only, where they limit the filtered signal
    # (value units); so the choice holds for both modes.
    own_scale_lines = ("deviation",)

    def __init__(
        self,
        mode: Annotated[Literal[0, 1], Field(description=(
            "0: limits on the filtered signal; 1: limits on the deviation of the value from it"))],
        filter_order: Annotated[int, Field(ge=1, le=20, description="order of the Butterworth filter")],
        cutoff_frequency: Annotated[float, Field(gt=0, lt=1, description=(
            "cut-off frequency as a fraction of the Nyquist frequency (half the sampling rate)"))],
        UL: Annotated[float, Field(description=(
            "upper limit of the filtered signal (mode 0); mode 1 uses UL - LL as one band unit"))],
        LL: Annotated[float, Field(description=(
            "lower limit of the filtered signal (mode 0); mode 1 uses UL - LL as one band unit"))],
        warning_stages: WarningStages = [],  # noqa: B006
    ):
        check_limits(UL, LL)
        self.mode = mode
        self.filter_order = filter_order
        self.cutoff_frequency = cutoff_frequency
        self.UL = UL
        self.LL = LL
        self.warning_stages = list(warning_stages)
        self._b, self._a = butter(filter_order, cutoff_frequency)
        self._zi = lfilter_zi(self._b, self._a)
        self._z: np.ndarray | None = None
        if mode == 0:
            self._band = Band(warning_stages, noun="Filtered signal")
            self.status_texts, self.status_codes = self._band.vocabulary
            return
        self._band = Band(warning_stages, noun="deviation")
        # Mode 1 has one error text and one warning text per stage, whatever the sign; the band's
        # indices are mapped onto that vocabulary.
        stages = len(self._band.stages)
        self.status_texts = (OK_TEXT, UNDEFINED_TEXT, "Error: Large deviation",
                             *(f"Warning{i}: Significant deviation." for i in range(stages)))
        self.status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR] + [Status.WARNING] * stages,
                                     dtype=np.int8)
        band_to_ours = np.arange(len(self._band.status_texts), dtype=np.int16)
        band_to_ours[ERROR_ABOVE_IDX] = band_to_ours[ERROR_BELOW_IDX] = 2
        band_to_ours[FIRST_WARNING_IDX:] = 3 + (np.arange(2 * stages) // 2)
        self._band_to_ours = band_to_ours

    def _filter(self, x: np.ndarray) -> np.ndarray:
        """Filtered ``x`` continuing from the carried state; updates the state."""
        if len(x) == 0:
            return x.copy()
        if self._z is None:
            self._z = self._zi * x[0]
        y, self._z = lfilter(self._b, self._a, x, zi=self._z)
        return y

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = samples.values[:, 0].astype(np.float64)
        y = self._filter(x)
        count = len(x)
        if self.mode == 0:
            n = self._band.normalised(y, self.UL, self.LL)
            return DetectorOutput(
                status_idx=self._band.classify(n), score=self._band.score(n),
                lines={"filtered": y, "UL": np.full(count, float(self.UL)),
                       "LL": np.full(count, float(self.LL))})
        deviation = x - y
        d = deviation / (self.UL - self.LL)
        return DetectorOutput(
            status_idx=self._band_to_ours[self._band.classify(d)], score=self._band.score(d),
            lines={"filtered": y, "deviation": deviation})
