"""Anomaly likelihood: raw anomaly scores turned into a calibrated tail probability.

After Numenta's anomaly likelihood (Ahmad et al., Neurocomputing 262, 2017): a detector's raw
score is noisy and its level differs from stream to stream, so a fixed threshold on it fits no
stream well. The likelihood asks instead how unusual the *recent* scores are for *this* stream:
the mean of the last ``short_window`` raw scores is compared with the distribution (mean and
variance, taken as Gaussian) of those short means over the last ``long_window`` samples before
it. The likelihood is ``1 - Q(z)`` with ``z`` the standardised short mean and ``Q`` the Gaussian
upper tail; with ``log_scale`` it is spread as NAB's HTM detector does,
``log(1 - L) / log(1e-10)``, so that 0.99, 0.9999 and 0.999999 are evenly spaced.

Causal (sample t uses scores up to t), and the state is carried between calls exactly, so the
result does not depend on how the stream is cut into calls. A NaN or infinite raw score (a
detector with nothing to say) is not learnt: its likelihood is 0.5, the value of "unknown" (not
the previous likelihood, which would repeat an alarm), and the windows count finite scores only.
"""
from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.parameters import Configurable

#: NAB's HTM detector: log(1.0000000001 - L) / log(1 - 0.9999999999)
_LOG_EPS = 1e-10


class AnomalyLikelihood(Configurable):
    """Anomaly likelihood of a stream of raw scores, one call per batch.

    Parameters
    ----------
    long_window : int
        Short means whose mean and variance describe the normal level, in samples (>= 2).
    short_window : int
        Raw scores averaged into the value compared with them, in samples (>= 1).
    learning : int
        Short means needed before the first likelihood; 0.5 until then (>= 2).
    min_std : float
        Floor of the standard deviation of the short means (raw-score units), so that a stream
        whose raw score never moved does not call the first small change certain.
    log_scale : bool
        Return ``log(1 - L) / log(1e-10)`` (in [0, 1]) instead of ``L``.

    A non-finite raw score gets 0.5 and changes nothing; the windows count finite scores.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = np.concatenate([rng.uniform(0, 0.2, 500), [0.9, 0.9]])
    >>> likelihood = AnomalyLikelihood(long_window=400, short_window=2, learning=100)
    >>> out = np.concatenate([likelihood(raw[:300]), likelihood(raw[300:])])
    >>> float(out[0]), bool(out[200] < 0.9), bool(out[-1] > 0.99)
    (0.5, True, True)
    """

    def __init__(
        self,
        long_window: Annotated[int, Field(ge=2, le=10_000_000, description=(
            "short means describing the normal level, in samples"))] = 8640,
        short_window: Annotated[int, Field(ge=1, le=10_000_000, description="raw scores averaged, in samples")] = 10,
        learning: Annotated[int, Field(ge=2, le=10_000_000, description=(
            "short means needed before the first likelihood (0.5 until then)"))] = 300,
        min_std: Annotated[float, Field(ge=0, description="floor of the short means' standard deviation")
                           ] = math.sqrt(0.0003),
        log_scale: Annotated[bool, Field(description="log(1 - L) / log(1e-10) instead of L")] = False,
    ):
        if long_window < 2 or short_window < 1 or learning < 2 or min_std < 0:
            raise ValueError(f"AnomalyLikelihood: long_window {long_window} (>= 2), short_window "
                             f"{short_window} (>= 1), learning {learning} (>= 2), min_std {min_std} (>= 0)")
        self.long_window = long_window
        self.short_window = short_window
        self.learning = learning
        self._learning = min(learning, long_window)
        self.min_std = min_std
        self.log_scale = log_scale
        self._short = np.zeros(short_window)
        self._long = np.zeros(long_window)
        self._ints = np.zeros(4, dtype=np.int64)
        self._floats = np.zeros(3)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """The likelihood of each raw score (float64, same length), learning the finite ones in order."""
        from pipeline.kernels.likelihood import likelihood_steps  # numba loads on first use

        scores = np.ascontiguousarray(scores, dtype=np.float64)
        out = np.empty(len(scores))
        if len(scores):
            likelihood_steps(scores, self._short, self._long, self._ints, self._floats, self._learning,
                             self.min_std ** 2, out)
        if self.log_scale:
            out = np.clip(np.log(1.0 + _LOG_EPS - out) / math.log(_LOG_EPS), 0.0, 1.0)
        return out
