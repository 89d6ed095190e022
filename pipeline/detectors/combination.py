"""Combination: several detectors judge every sample and a status determiner merges their verdicts.

Members are any registered detectors, built from their own configurations exactly as top-level
detectors are (same validation, same aliases). Determiners form a small registry of their own:
``AND``, ``OR``, ``PercentScore`` and ``PercentScore_Alicante``.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from pipeline.components import UPSTREAM_ALGORITHM_KEYS, validate_component
from pipeline.config_values import show
from pipeline.detectors import DETECTORS
from pipeline.detectors.base import Detector, DetectorContext, ParameterError
from pipeline.records import DetectorOutput, SampleBatch, Status
from pipeline.registry import Registry
from pipeline.sample_tail import SampleTail
from pipeline.time_units import seconds_from_numbers
from pipeline.timefilter import TimeFilterSyntaxError, parse_time_filter

#: The determiners' vocabulary (the original's texts); index = ``_INDEX_OF_CODE[code + 1]``.
STATUS_TEXTS = ("OK", "Warning", "Error", "Undefined")
STATUS_CODES = np.array([Status.OK, Status.WARNING, Status.ERROR, Status.UNDEFINED], dtype=np.int8)
_INDEX_OF_CODE = np.array([2, 1, 0, 3], dtype=np.int16)

#: Keys of a member configuration that belong to the engine (outputs, plots, the vector size):
#: a member's verdict only feeds the determiner, so they are accepted and not used.
MEMBER_ENGINE_KEYS = ("input_vector_size", "output", "output_conf", "visualization", "visualization_conf")

#: Feature construction and normalization apply to the Combination as a whole, not per member.
MEMBER_FEATURE_KEYS = ("averages", "periodic_averages", "shifts", "time_features", "time_average_shifts",
                       "max_memory", "use_cols", "normalization", "normalization_conf")


# -- determiners ----------------------------------------------------------------------------------

class AND:
    """Error only if every defined member says error: the highest code among members that are not
    undefined (OK beats warning beats error); Undefined when all are. ``score``: the lowest score
    of the defined members (0 when none is defined).

    Determiners take ``determine(codes, scores, upper, seconds)``: member codes and scores
    [members, n], and, only if the class asks for them with ``uses_texts``/``uses_time``, whether
    each member's text names the upper limit [members, n] and the time in seconds [n].
    """

    uses_texts = False
    uses_time = False

    def __init__(self):
        pass

    def determine(self, codes, scores, upper, seconds):
        defined = codes != Status.UNDEFINED
        best = np.where(defined, codes, -2).max(axis=0)
        code = np.where(best == -2, Status.UNDEFINED, best)
        lowest = np.where(defined, scores, np.inf).min(axis=0)
        return _INDEX_OF_CODE[code + 1], np.where(np.isinf(lowest), 0.0, lowest)


class OR:
    """Error if any member says error: the lowest code of all members, so Undefined only when every
    member is undefined. ``score``: the highest member score."""

    uses_texts = False
    uses_time = False

    def __init__(self):
        pass

    def determine(self, codes, scores, upper, seconds):
        return _INDEX_OF_CODE[codes.min(axis=0) + 1], scores.max(axis=0)


class PercentScore:
    """Share of the maximum severity over the last ``interval`` seconds, as a status.

    Each sample earns points from its members (warning 1, error 2, anything else 0). The percent
    score is the points of the samples whose timestamps lie within ``interval`` seconds of the
    latest one (epoch seconds or milliseconds, told apart as for the input: ``time_units.py``),
    divided by ``2 * members`` and by ``max(interval / data_interval, samples in the window)``; 1
    means every member in error for the whole interval. It is the ``score``, the number the
    original returned as status code. The status: Undefined when every member is undefined, else
    error from ``error_threshold``, warning from ``warning_threshold``, OK below.
    """

    uses_texts = False  # PercentScore_Alicante counts only statuses whose text says "upper"
    uses_time = True

    def __init__(
        self,
        interval: Annotated[float, Field(gt=0, description="length of the window, in seconds")],
        data_interval: Annotated[float, Field(gt=0, description=(
            "expected time between samples, in seconds; interval / data_interval samples fill the window"))],
        warning_threshold: Annotated[float, Field(ge=0, le=1, description=(
            "percent score (0 to 1) from which the status is a warning"))] = 0.25,
        error_threshold: Annotated[float, Field(ge=0, le=1, description=(
            "percent score (0 to 1) from which the status is an error"))] = 0.5,
    ):
        if not warning_threshold <= error_threshold:
            raise ParameterError("warning_threshold", warning_threshold,
                                 f"at most error_threshold ({error_threshold})")
        self.interval = interval
        self.data_interval = data_interval
        self.warning_threshold = warning_threshold
        self.error_threshold = error_threshold
        self._expected = int(interval / data_interval)
        self._points = np.empty(0, dtype=np.int64)  # samples still in the window, oldest first
        self._seconds = np.empty(0)
        self._latest = -np.inf

    def _window_sums(self, points: np.ndarray, seconds: np.ndarray):
        """Points and sample count in the window ending at each sample; carries the window."""
        kept = len(self._points)
        all_points = np.concatenate([self._points, points])
        all_seconds = np.concatenate([self._seconds, seconds])
        latest = np.maximum.accumulate(np.concatenate([[self._latest], seconds]))[1:]
        ends = np.arange(kept + 1, kept + len(points) + 1)
        if np.all(np.diff(all_seconds) >= 0):
            starts = np.searchsorted(all_seconds, latest - self.interval, side="right")
            cumulative = np.concatenate([[0], np.cumsum(all_points)])
            sums, counts = cumulative[ends] - cumulative[starts], ends - starts
        else:
            # out-of-order timestamps: a sample leaves the window once the latest timestamp has
            # passed it by the interval, wherever it sits in the stream
            sums = np.empty(len(points), dtype=np.int64)
            counts = np.empty(len(points), dtype=np.int64)
            for i, end in enumerate(ends.tolist()):
                alive = all_seconds[:end] > latest[i] - self.interval
                sums[i], counts[i] = all_points[:end][alive].sum(), alive.sum()
        if len(points):
            self._latest = float(latest[-1])
            alive = all_seconds > self._latest - self.interval
            self._points, self._seconds = all_points[alive], all_seconds[alive]
        return sums, counts

    def determine(self, codes, scores, upper, seconds):
        members = len(codes)
        counted = np.where(upper, codes, Status.OK) if self.uses_texts else codes
        points = ((counted == Status.WARNING) + 2 * (counted == Status.ERROR)).sum(axis=0).astype(np.int64)
        sums, counts = self._window_sums(points, seconds)
        percent = sums / (2 * members) / np.maximum(self._expected, counts)
        code = np.where(percent >= self.error_threshold, Status.ERROR,
                        np.where(percent >= self.warning_threshold, Status.WARNING, Status.OK))
        code = np.where((codes == Status.UNDEFINED).all(axis=0), Status.UNDEFINED, code)
        return _INDEX_OF_CODE[code + 1], percent


class PercentScore_Alicante(PercentScore):
    """``PercentScore`` counting only members whose status text contains ``"upper"`` (rises)."""

    uses_texts = True


DETERMINERS: Registry = Registry("status determiner", {
    "AND": AND, "OR": OR, "PercentScore": PercentScore, "PercentScore_Alicante": PercentScore_Alicante})


# -- configuration errors -------------------------------------------------------------------------

class _Verbatim:
    """A value already shown the way the user wrote it (the validators render values as JSON)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


class MemberConfigError(ParameterError):
    """Problems in a member's or the determiner's configuration.

    ``key`` is the path of the first problem relative to the Combination's configuration
    (``anomaly_algorithms_configurations[1].N``); ``problems`` lists every problem that way.
    """

    def __init__(self, problems: list[str]):
        path, _, message = problems[0].partition(": ")
        expected, got = message, "nothing"
        if message.startswith("expected ") and ", got " in message:
            expected, _, got = message[len("expected "):].rpartition(", got ")
        elif message == "required key is missing":
            expected = "this required key"
        elif message.startswith("unknown key (value "):
            expected, got = "no such key", message[len("unknown key (value "):-1]
        elif "; known: " in message:
            unknown, _, known = message.partition("; known: ")
            for kind in ("detector", "status determiner"):
                unknown = unknown.removeprefix(f"unknown {kind} ")
            expected, got = f"one of {known}", unknown
        super().__init__(path, _Verbatim(got), expected)
        self.problems = problems


# -- the detector ---------------------------------------------------------------------------------

class Combination(Detector):
    """Several detectors judge each sample; a status determiner merges their statuses.

    Every sample goes to every member (members keep their own state and warm-up). Members are
    given as in the original: ``anomaly_algorithms`` names them (any registered detector, original
    spellings accepted) and ``anomaly_algorithms_configurations`` holds one configuration each,
    validated like a top-level one. A member's ``filtering`` (time of day) makes it undefined
    outside its window. Member outputs and plots are not used: the merged result goes to the
    Combination's outputs.

    Members are merged by the sample they judge. A member with a ``delay`` (Hampel judges
    ``x[t - W]`` at ``t``) is waited for: the Combination's ``delay`` is the largest member delay
    ``D``, its result at ``t`` merges every member's verdict on sample ``t - D`` (a member with a
    smaller delay gave it earlier and is held back), and its first ``D`` results are Undefined
    (no member verdict lands there). A delayed member with a time filter judges the sample
    ``delay`` kept samples back; its verdict counts if it comes by the time the Combination
    reports that sample, else that member is Undefined there. PercentScore's time window uses the
    judged samples' timestamps. The determiners (``status_determiner``, configured by
    ``status_determiner_conf``):

    - ``AND``: error only if every defined member says error (the highest code among members not
      undefined); Undefined when all are. Texts ``"OK"``, ``"Warning"``, ``"Error"``,
      ``"Undefined"``.
    - ``OR``: the most severe member code (error if any member says error); Undefined only when
      all are.
    - ``PercentScore`` (``interval`` and ``data_interval`` in seconds, optional
      ``warning_threshold`` 0.25 and ``error_threshold`` 0.5): the share of the maximum severity
      (warning 1 point, error 2 per member) over the last ``interval`` seconds; 1 = every member
      in error for the whole interval. The original returned this number as the status code; it
      is the ``score`` here, and the status is an error from ``error_threshold``, a warning from
      ``warning_threshold``, OK below, Undefined when every member is undefined.
    - ``PercentScore_Alicante``: the same, counting only member statuses whose text contains
      ``"upper"``.

    Parameters
    ----------
    anomaly_algorithms : list of str
        Member detector names, e.g. ``["BorderCheck()", "Welford()"]``.
    anomaly_algorithms_configurations : list of dict
        One configuration per member (its parameters; engine keys such as ``output`` are ignored).
    status_determiner : str
        ``"AND"``, ``"OR"``, ``"PercentScore"`` or ``"PercentScore_Alicante"`` (``()`` optional).
    status_determiner_conf : dict
        The determiner's parameters (``{}`` for AND and OR).

    ``score``: AND, the lowest score of the defined members; OR, the highest member score;
    PercentScore, the percent score. No plot lines of its own.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = Combination(
    ...     anomaly_algorithms=["BorderCheck()", "BorderCheck()"],
    ...     anomaly_algorithms_configurations=[{"UL": 0.5, "LL": 0, "warning_stages": [0.9]},
    ...                                        {"UL": 1, "LL": 0, "warning_stages": [0.9]}],
    ...     status_determiner="AND()", status_determiner_conf={})
    >>> x = np.array([0.2, 1.0, 1.5])
    >>> [d.status_texts[i] for i in d.update(SampleBatch(x, x, x[:, None], np.arange(3))).status_idx]
    ['OK', 'Warning', 'Error']
    """

    name = "Combination"
    status_texts = STATUS_TEXTS
    status_codes = STATUS_CODES

    def __init__(
        self,
        anomaly_algorithms: Annotated[list[str], Field(min_length=1, description=(
            "member detector names, e.g. [\"BorderCheck()\", \"Welford()\"]"))],
        anomaly_algorithms_configurations: Annotated[list[dict[str, Any]], Field(description=(
            "one configuration per member, in the same order"))],
        status_determiner: Annotated[str, Field(description=(
            "how member statuses merge: AND, OR, PercentScore or PercentScore_Alicante"))],
        status_determiner_conf: Annotated[dict[str, Any], Field(description=(
            "the determiner's parameters ({} for AND and OR)"))] = {},  # noqa: B006
    ):
        if len(anomaly_algorithms_configurations) != len(anomaly_algorithms):
            raise ParameterError("anomaly_algorithms_configurations", anomaly_algorithms_configurations,
                                 f"{len(anomaly_algorithms)} entries, one per anomaly_algorithms entry")
        self.anomaly_algorithms = list(anomaly_algorithms)
        self.anomaly_algorithms_configurations = copy.deepcopy(list(anomaly_algorithms_configurations))
        self.status_determiner = status_determiner
        self.status_determiner_conf = copy.deepcopy(dict(status_determiner_conf))

        self._members: list[Detector] = []
        self._filters = []
        problems: list[str] = []
        for i, (name, conf) in enumerate(zip(anomaly_algorithms, anomaly_algorithms_configurations)):
            path = f"anomaly_algorithms_configurations[{i}]"
            for key in MEMBER_FEATURE_KEYS:
                if conf.get(key) not in (None, [], {}, 0, [0, 0], "None"):
                    problems.append(f"{path}.{key}: expected no feature construction in a member (give it "
                                    f"to the Combination), got {show(conf[key])}")
            params = {k: v for k, v in conf.items()
                      if k not in MEMBER_ENGINE_KEYS and k not in MEMBER_FEATURE_KEYS and k != "filtering"}
            component, errors = validate_component(DETECTORS, name, params, f"anomaly_algorithms[{i}]", path,
                                                   ignorable=UPSTREAM_ALGORITHM_KEYS)
            problems += errors
            try:
                self._filters.append(parse_time_filter(conf.get("filtering")))
            except TimeFilterSyntaxError:
                problems.append(f'{path}.filtering: expected "None" or "[[H, M, S], [H, M, S]]", '
                                f'got {show(conf["filtering"])}')
            if component is not None:
                self._members.append(component.build(DETECTORS))
        determiner, errors = validate_component(DETERMINERS, status_determiner, status_determiner_conf,
                                                "status_determiner", "status_determiner_conf")
        problems += errors
        if problems:
            raise MemberConfigError(problems)
        self._determiner = determiner.build(DETERMINERS)
        self._upper = [np.array(["upper" in text for text in m.status_texts]) for m in self._members]
        # a member with a delay judges sample t - delay at t: the Combination reports with the
        # largest delay and merges each member's verdict on the same sample
        self.delay = max(member.delay for member in self._members)
        self._seen = 0
        self._fed = [SampleTail(member.delay) for member in self._members]
        count = len(self._members)
        self._held_codes = np.full((count, self.delay), Status.UNDEFINED, dtype=np.int8)
        self._held_scores = np.zeros((count, self.delay))
        self._held_upper = np.zeros((count, self.delay), dtype=bool)
        self._seconds_tail = SampleTail(self.delay)

    @property
    def members(self) -> tuple[Detector, ...]:
        return tuple(self._members)

    def start(self, context: DetectorContext) -> None:
        for i, member in enumerate(self._members):
            member.start(dataclasses.replace(context, name=f"{context.name}_member{i}"))

    def update(self, samples: SampleBatch) -> DetectorOutput:
        count, members, lag = len(samples), len(self._members), self.delay
        determiner = self._determiner
        start = self._seen  # absolute index of the batch's first sample
        # verdicts by the sample they judge: column c is about sample start - lag + c; the first
        # `lag` columns were carried from earlier batches
        codes = np.concatenate([self._held_codes, np.full((members, count), Status.UNDEFINED, np.int8)], 1)
        scores = np.concatenate([self._held_scores, np.zeros((members, count))], 1)
        upper = np.concatenate([self._held_upper, np.zeros((members, count), dtype=bool)], 1)
        for i, (member, time_filter) in enumerate(zip(self._members, self._filters)):
            fed = np.arange(start, start + count)
            if time_filter is not None:
                keep = time_filter.keep(samples.time_s)
                fed = fed[keep]
            out = member.update(samples if time_filter is None else samples.take(keep))
            # the member's k-th result judges its (k - delay)-th sample, found among those fed
            joined = self._fed[i].extend(fed).astype(np.int64)
            k = np.arange(len(fed)) + (len(joined) - len(fed)) - member.delay
            judged = k >= 0
            column = joined[k[judged]] - (start - lag)
            in_time = column >= 0  # a verdict that comes after the Combination reported is lost
            column, idx = column[in_time], out.status_idx[judged][in_time]
            codes[i, column] = member.status_codes[idx]
            scores[i, column] = out.score[judged][in_time]
            if determiner.uses_texts:
                upper[i, column] = self._upper[i][idx]
        self._held_codes, self._held_scores, self._held_upper = (
            codes[:, count:], scores[:, count:], upper[:, count:])
        codes, scores, upper = codes[:, :count], scores[:, :count], upper[:, :count]
        seconds = self._judged_seconds(samples) if determiner.uses_time else None
        self._seen += count
        status, score = determiner.determine(codes, scores, upper if determiner.uses_texts else None, seconds)
        return DetectorOutput(status.astype(np.int16, copy=False), score)

    def _judged_seconds(self, samples: SampleBatch) -> np.ndarray:
        """The time of the sample each result judges (``delay`` samples back); the results before
        the first judged sample take the first sample's time."""
        joined = self._seconds_tail.extend(seconds_from_numbers(samples.timestamp))
        missing = self.delay + len(samples) - len(joined)
        if missing > 0 and len(joined):
            joined = np.concatenate([np.full(missing, joined[0]), joined])
        return joined[:len(samples)]
