"""Band classification: the warning/error decision shared by the limit-based detectors.

A quantity ``q`` is placed in a band ``[LL, UL]`` by ``n = 2 (q - (UL + LL) / 2) / (UL - LL)``
(LL maps to -1, UL to +1). ``|n| > 1`` is an error. Otherwise the sorted warning stages are
walked in order: stage ``i`` matches when ``n > s_i`` (close to the upper limit) or ``n < -s_i``
(close to the lower limit); the walk stops at the first stage that does not match, and the last
matching stage gives the warning. No match is OK. This is the original project's rule, including
its quirk that a stage <= 0 matches almost every sample.

The anomaly score is ``|n| / (1 + |n|)``: 0 at the band's centre, 0.5 on a limit, approaching 1
far outside; it ranks every sample without saturating.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.parameters import ParameterError
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, Status

#: The ``warning_stages`` parameter of band detectors (default: no warnings).
WarningStages = Annotated[list[float], Field(description="warning stages in band units (1 = on a limit)")]


def check_limits(UL: float, LL: float) -> None:
    """Refuse a band whose lower limit is not below its upper limit (a config error on ``LL``)."""
    if not LL < UL:
        raise ParameterError("LL", LL, f"a number below UL ({UL})")


OK_IDX = 0
UNDEFINED_IDX = 1
ERROR_ABOVE_IDX = 2
ERROR_BELOW_IDX = 3
FIRST_WARNING_IDX = 4


def stage_warnings(stages) -> list[str]:
    """What is odd about a list of warning stages that still runs (the original's tuned configs
    have such stages, so they load): a stage at or below 0 makes nearly every sample a warning,
    one at or above 1 can never be reached (an error comes first)."""
    notes = []
    for i, stage in enumerate(stages):
        if isinstance(stage, (int, float)) and not isinstance(stage, bool):
            if stage <= 0:
                notes.append(f"[{i}] = {stage} is at or below 0: nearly every sample will be a warning")
            elif stage >= 1:
                notes.append(f"[{i}] = {stage} is at or above 1 (a limit): it can never be reached")
    return notes


class Band:
    """The status vocabulary and the vectorised classification for one detector.

    Parameters
    ----------
    warning_stages : list of float
        Stages in band units (1 = on a limit); sorted here, as the original did.
    noun : str
        The word in the status texts ("measurement", "EMA", ...).
    """

    def __init__(self, warning_stages, noun: str):
        self.stages = np.array(sorted(float(s) for s in warning_stages), dtype=np.float64)
        texts = [OK_TEXT, UNDEFINED_TEXT,
                 f"Error: {noun} above upper limit", f"Error: {noun} below lower limit"]
        codes = [Status.OK, Status.UNDEFINED, Status.ERROR, Status.ERROR]
        for i in range(len(self.stages)):
            texts += [f"Warning{i}: {noun} close to upper limit.",
                      f"Warning{i}: {noun} close to lower limit."]
            codes += [Status.WARNING, Status.WARNING]
        self.status_texts: tuple[str, ...] = tuple(texts)
        self.status_codes = np.array(codes, dtype=np.int8)

    @property
    def vocabulary(self) -> tuple[tuple[str, ...], np.ndarray]:
        """``(status_texts, status_codes)``, what a detector using this band exposes."""
        return self.status_texts, self.status_codes

    def normalised(self, q: np.ndarray, upper, lower) -> np.ndarray:
        """Position of ``q`` in the band (LL -> -1, UL -> +1); limits may be arrays.

        A band of zero width (UL == LL) puts the centre at 0 and everything else at +-inf.
        """
        q = np.asarray(q, dtype=np.float64)
        centre = upper + lower
        centre = centre / 2
        width = upper - lower
        # 2 * (q - centre) / width, evaluated in that order, in place
        n = q - centre
        n *= 2
        with np.errstate(divide="ignore", invalid="ignore"):
            n /= width
        degenerate = np.asarray(width == 0)
        if degenerate.any():
            degenerate = np.broadcast_to(degenerate, n.shape)
            centre = np.broadcast_to(centre, n.shape)
            n = np.where(degenerate, np.where(q == centre, 0.0, np.copysign(np.inf, q - centre)), n)
        return n

    def classify(self, n: np.ndarray) -> np.ndarray:
        """Status index (into ``status_texts``) of every normalised position ``n``."""
        if len(self.stages) and self.stages[0] >= 0:
            # Non-negative sorted stages: stage i matches iff |n| > s_i, so the matches form a
            # prefix; its length m picks warning m - 1, the sign of n its direction.
            a = np.abs(n)
            m = (a > self.stages[0]).astype(np.int16)
            for stage in self.stages[1:]:
                m += a > stage
            idx = m * 2
            idx += FIRST_WARNING_IDX - 2
            idx += n < 0
            idx *= m > 0
        else:
            idx = np.full(n.shape, OK_IDX, dtype=np.int16)
            alive = np.ones(n.shape, dtype=bool)
            for i, stage in enumerate(self.stages):
                above = n > stage
                below = ~above & (n < -stage)
                alive &= above | below
                idx[alive & above] = FIRST_WARNING_IDX + 2 * i
                idx[alive & below] = FIRST_WARNING_IDX + 2 * i + 1
        idx[n > 1] = ERROR_ABOVE_IDX
        idx[n < -1] = ERROR_BELOW_IDX
        return idx

    @staticmethod
    def score(n: np.ndarray) -> np.ndarray:
        """Anomaly score in [0, 1] from the normalised position (NaN -> 0)."""
        a = np.abs(n)
        with np.errstate(invalid="ignore"):
            s = a / (1.0 + a)
        s[a == np.inf] = 1.0
        s[np.isnan(s)] = 0.0
        return s
