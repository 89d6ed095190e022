"""The NAB score (Numenta Anomaly Benchmark, v1.1), written from its published description.

Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms: the Numenta Anomaly Benchmark"
(arXiv:1510.03336, 2015) and Ahmad et al., Neurocomputing 262 (2017). No NAB code is used.

The rules
---------
- Ground truth is a list of anomaly windows per series, each a span of rows ``[left, right]``.
- The first ``min(floor(0.15 n), 750)`` rows of a series (its probation) are not scored; a window
  counts only when some of its rows come after the probation.
- A row is a detection when its anomaly score is at least the threshold.
- Every row has a worth, with the scaled sigmoid ``sigma(y) = 2 / (1 + exp(5 y)) - 1`` (and -1
  for ``y > 3``):

  - inside a window of width W: ``A_TP * sigma(y) / sigma(-1)`` with ``y = -(right - i + 1) / W``,
    the full reward at the window's left edge and almost nothing at its right edge; only the
    earliest detection of a window counts, and a window without one costs ``A_FN``;
  - outside, after a window ended: ``A_FP * sigma((i - right) / (W - 1))``, close to zero just
    after the window and ``-A_FP`` farther on; before the first window: ``-A_FP``.

- The raw score of a corpus is the sum over its series. NAB chooses one threshold per profile for
  the whole corpus (the sweep: every distinct score, and "detect nothing"; on a tie the higher
  threshold), and normalises: ``100 (S - S_null) / (S_perfect - S_null)``, where ``S_perfect =
  A_TP * windows`` and ``S_null`` is the better of detecting everything and detecting nothing.

Profiles (NAB's ``config/profiles.json``) weigh true positives, false positives and misses.

Examples
--------
>>> series = SeriesTruth(100, [(40, 49)])
>>> scores = np.zeros(100)
>>> scores[40] = 0.9                      # a detection at the window's left edge
>>> result = score_corpus([series], [scores])["standard"]
>>> round(result.score, 2), result.threshold, result.windows_found
(100.0, 0.9, 1)
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

PROBATION_SHARE = 0.15
PROBATION_MAX_ROWS = 750
#: The threshold that detects nothing (scores are in [0, 1]).
NOTHING = 1.1


@dataclass(frozen=True)
class Profile:
    """The weights of one NAB application profile."""

    tp: float
    fp: float
    fn: float


PROFILES: dict[str, Profile] = {
    "standard": Profile(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": Profile(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": Profile(tp=1.0, fp=0.11, fn=2.0),
}


def read_profiles(path: Path) -> dict[str, Profile]:
    """Profiles from a NAB ``config/profiles.json`` (``{name: {"CostMatrix": {"tpWeight": ...}}}``)."""
    raw = json.loads(Path(path).read_text())
    profiles = {}
    for name, entry in raw.items():
        weights = entry.get("CostMatrix", entry)
        profiles[name] = Profile(float(weights["tpWeight"]), float(weights["fpWeight"]), float(weights["fnWeight"]))
    return profiles


def scaled_sigmoid(y):
    """NAB's ``2 / (1 + exp(5 y)) - 1``, saturated to -1 beyond ``y = 3``.

    >>> [round(float(v), 4) for v in scaled_sigmoid(np.array([-1.0, 0.0, 3.5]))]
    [0.9866, 0.0, -1.0]
    """
    y = np.asarray(y, dtype=np.float64)
    return np.where(y > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(y, 3.0))) - 1.0)


def probation_length(rows: int) -> int:
    """How many leading rows of a series are never scored."""
    return int(min(math.floor(PROBATION_SHARE * rows), PROBATION_MAX_ROWS))


class SeriesTruth:
    """The anomaly windows of one series as row spans, and what a detection is worth on each row.

    ``windows``: inclusive ``(left, right)`` row indices, sorted and not overlapping.
    ``reward`` is the worth of a detection inside a window divided by ``A_TP``, ``penalty`` the
    worth outside divided by ``A_FP`` (a number in [-1, 0]); ``window_of`` is the window of each
    row (-1 outside); ``scored`` is False on the probation.
    """

    def __init__(self, rows: int, windows: Sequence[tuple[int, int]]):
        self.rows = rows
        self.windows = [(int(left), int(right)) for left, right in sorted(windows)]
        for (_, right), (left, _) in zip(self.windows, self.windows[1:]):
            if left <= right:
                raise ValueError(f"anomaly windows overlap at row {left}")
        self.probation = probation_length(rows)
        index = np.arange(rows)
        self.scored = index >= self.probation
        self.window_of = np.full(rows, -1, dtype=np.int64)
        self.reward = np.zeros(rows)
        self.penalty = np.full(rows, -1.0)
        full_reward = float(scaled_sigmoid(-1.0))
        ends = [left for left, _ in self.windows[1:]] + [rows]
        for k, ((left, right), next_left) in enumerate(zip(self.windows, ends)):
            width = right - left + 1
            inside = index[left:right + 1]
            self.window_of[left:right + 1] = k
            self.reward[left:right + 1] = scaled_sigmoid(-(right - inside + 1) / width) / full_reward
            self.penalty[left:right + 1] = 0.0
            after = index[right + 1:next_left]
            # a one-row window has no width to scale by: what follows it is plainly false
            self.penalty[right + 1:next_left] = scaled_sigmoid((after - right) / (width - 1)) if width > 1 else -1.0
        #: the windows that count: those reaching past the probation
        self.counted = [k for k, (_, right) in enumerate(self.windows) if right >= self.probation]

    def worth(self, profile: Profile) -> np.ndarray:
        """What a detection on each row adds (inside a window: what it is worth if it is the first)."""
        return np.where(self.window_of >= 0, profile.tp * self.reward, profile.fp * self.penalty)


@dataclass(frozen=True)
class NabResult:
    """One profile's score of a corpus (or of one series) at one threshold."""

    score: float | None          # normalised: 0 the null detector, 100 the perfect one (None: no windows)
    raw: float
    threshold: float
    windows: int                 # every window, as the perfect score counts them
    windows_found: int
    windows_missed: int
    false_alarm_rows: int        # scored rows detected outside every window
    null_raw: float
    perfect_raw: float

    def as_dict(self) -> dict:
        return {key: (round(v, 6) if isinstance(v, float) else v) for key, v in asdict(self).items()}


def raw_score(truth: SeriesTruth, detected: np.ndarray, profile: Profile) -> tuple[float, int, int, int]:
    """(raw score, windows found, windows missed, false-alarm rows) of one series' detections."""
    detected = detected & truth.scored
    outside = detected & (truth.window_of < 0)
    raw = float(profile.fp * truth.penalty[outside].sum())
    found = 0
    for k in truth.counted:
        left, right = truth.windows[k]
        hits = np.flatnonzero(detected[left:right + 1])
        if len(hits):
            raw += profile.tp * float(truth.reward[left + hits[0]])
            found += 1
        else:
            raw -= profile.fn
    return raw, found, len(truth.counted) - found, int(outside.sum())


def sweep(truths: Sequence[SeriesTruth], scores: Sequence[np.ndarray], profile: Profile
          ) -> tuple[np.ndarray, np.ndarray]:
    """The corpus raw score at every candidate threshold, highest threshold first.

    Rows are taken in decreasing score; detecting a row outside the windows adds its worth, and
    inside a window raises the window's value to the best worth detected in it so far (the
    earliest detection is the one worth most). The score after the last row of each distinct
    value is the score at that value as the threshold."""
    score_parts, worth_parts, window_parts = [], [], []
    counted = 0
    for truth, s in zip(truths, scores):
        keep = truth.scored
        worth = truth.worth(profile)
        score_parts.append(np.nan_to_num(np.asarray(s, dtype=np.float64), nan=0.0)[keep])
        worth_parts.append(worth[keep])
        # number every window of the corpus once: windows of later series come after earlier ones
        window_parts.append(np.where(truth.window_of >= 0, truth.window_of + counted, -1)[keep])
        counted += len(truth.windows)
    s = np.concatenate(score_parts) if score_parts else np.empty(0)
    order = np.argsort(-s, kind="stable")
    s = s[order]
    worth = np.concatenate(worth_parts)[order] if worth_parts else np.empty(0)
    window = np.concatenate(window_parts)[order] if window_parts else np.empty(0, dtype=np.int64)

    gain = np.where(window < 0, worth, 0.0)
    inside = np.flatnonzero(window >= 0)
    grouped = inside[np.argsort(window[inside], kind="stable")]
    bounds = np.flatnonzero(np.diff(window[grouped])) + 1
    for rows in np.split(grouped, bounds) if len(grouped) else []:
        best = np.maximum.accumulate(np.maximum(worth[rows], -profile.fn))
        gain[rows] = np.diff(best, prepend=-profile.fn)
    nothing = -profile.fn * sum(len(t.counted) for t in truths)
    running = nothing + np.cumsum(gain)
    last_of_value = np.flatnonzero(np.append(s[1:] != s[:-1], True)) if len(s) else np.empty(0, dtype=np.int64)
    top = max(NOTHING, float(s[0]) + 1.0) if len(s) and s[0] >= NOTHING else NOTHING
    return np.append(top, s[last_of_value]), np.append(nothing, running[last_of_value])


def null_raw(truths: Sequence[SeriesTruth], profile: Profile) -> float:
    """The best raw score of a constant detector: everything detected, or nothing."""
    nothing = -profile.fn * sum(len(t.counted) for t in truths)
    everything = sum(raw_score(t, np.ones(t.rows, dtype=bool), profile)[0] for t in truths)
    return max(nothing, everything)


def score_corpus(truths: Sequence[SeriesTruth], scores: Sequence[np.ndarray],
                 profiles: Mapping[str, Profile] = PROFILES,
                 thresholds: Mapping[str, float] | None = None) -> dict[str, NabResult]:
    """Each profile's score of the corpus; the threshold is NAB's sweep unless ``thresholds`` gives
    one per profile."""
    results = {}
    windows = sum(len(t.windows) for t in truths)
    for name, profile in profiles.items():
        if thresholds is None:
            candidates, raws = sweep(truths, scores, profile)
            threshold = float(candidates[int(np.argmax(raws))])  # the first best: the highest threshold
        else:
            threshold = float(thresholds[name])
        raw, found, missed, false_rows = 0.0, 0, 0, 0
        for truth, s in zip(truths, scores):
            detected = np.nan_to_num(np.asarray(s, dtype=np.float64), nan=0.0) >= threshold
            r, f, m, fa = raw_score(truth, detected, profile)
            raw, found, missed, false_rows = raw + r, found + f, missed + m, false_rows + fa
        null, perfect = null_raw(truths, profile), profile.tp * windows
        score = 100.0 * (raw - null) / (perfect - null) if perfect != null else None
        results[name] = NabResult(score, raw, threshold, windows, found, missed, false_rows, null, perfect)
    return results
