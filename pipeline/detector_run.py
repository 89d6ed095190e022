"""One configured detector inside a run: time filters -> features -> detector -> normalization
-> outputs, with state per stream key and counters.

Per (stream, key) a ``StreamState`` holds the detector instance, the feature memory and the
normalizer memory, so each Kafka topic and message key is judged on its own history. The first
key uses the configured detector instance; others get fresh ones rebuilt from its parameters
(the detector contract) and started with the same context. Memory grows with the number of keys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from pipeline.detectors.base import Detector, DetectorContext
from pipeline.features import FeatureBuilder, FeatureSpec
from pipeline.normalization import Normalizer
from pipeline.outputs.base import Output
from pipeline.records import UNDEFINED_TEXT, ResultBatch, SampleBatch, Status, StatusTally
from pipeline.score_likelihood import AnomalyLikelihood
from pipeline.timefilter import TimeOfDayFilter


@dataclass
class StreamState:
    detector: Detector
    features: FeatureBuilder | None = None
    normalizer: Normalizer | None = None
    likelihood: AnomalyLikelihood | None = None


@dataclass
class DetectorRun:
    """See the module docstring. ``topic`` binds the detector to one Kafka topic (None: every
    stream, as in file runs); ``normalizer`` and ``likelihood`` (the anomaly likelihood that replaces
    the score, config key ``anomaly_likelihood``) are prototypes copied per stream key."""

    index: int
    detector: Detector
    outputs: list[Output] = field(default_factory=list)
    time_filters: tuple[TimeOfDayFilter, ...] = ()
    label: str = ""
    topic: str | None = None
    context: DetectorContext | None = None
    features: FeatureSpec | None = None
    normalizer: Normalizer | None = None
    likelihood: AnomalyLikelihood | None = None
    tally: StatusTally = field(default_factory=StatusTally)
    filtered: int = 0
    states: dict[tuple[str, str], StreamState] = field(default_factory=dict)

    def __post_init__(self):
        if not self.label:
            self.label = f"{self.index}: {type(self.detector).__name__}"
        if self.features is not None and self.features.is_identity:
            self.features = None
        texts, codes = self.detector.status_texts, self.detector.status_codes
        undefined = np.flatnonzero(codes == Status.UNDEFINED)
        if len(undefined):
            self.status_texts, self.status_codes = texts, codes
            self._undefined_idx = int(undefined[0])
        else:  # a detector that is never undefined itself still is during feature warm-up
            self.status_texts = (*texts, UNDEFINED_TEXT)
            self.status_codes = np.append(codes, np.int8(Status.UNDEFINED)).astype(np.int8)
            self._undefined_idx = len(texts)

    def accepts(self, stream: str) -> bool:
        return self.topic is None or stream in ("", self.topic)

    def state_for(self, samples: SampleBatch) -> StreamState:
        """The state of this batch's (stream, key); a file feeds the bound topic's keyless state."""
        state_key = (samples.stream or (self.topic or ""), samples.key)
        state = self.states.get(state_key)
        if state is None:
            if self.states:
                detector = type(self.detector)(**self.detector.params())
                if self.context is not None:
                    key_text = "/".join(part for part in state_key if part) or "default"
                    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", key_text)
                    detector.start(replace(self.context, name=f"{self.context.name}.{safe}", stream_key=key_text))
            else:
                detector = self.detector
            normalizer = None
            if self.normalizer is not None:
                normalizer = type(self.normalizer)(**self.normalizer.params())
            features = FeatureBuilder(self.features) if self.features is not None else None
            likelihood = None
            if self.likelihood is not None:  # a prototype: each stream key learns its own score level
                likelihood = type(self.likelihood)(**self.likelihood.params())
            state = self.states[state_key] = StreamState(detector, features, normalizer, likelihood)
        return state

    def process(self, samples: SampleBatch) -> ResultBatch:
        """Judge ``samples`` and write the results to every output."""
        results = self.judge(samples)
        self.write(results)
        return results

    def judge(self, samples: SampleBatch) -> ResultBatch:
        """Run the detector over ``samples`` and count the statuses; no output sees them yet."""
        if self.time_filters:
            keep = np.ones(len(samples), dtype=bool)
            for f in self.time_filters:
                keep &= f.keep(samples.time_s)
            self.filtered += int(len(samples) - keep.sum())
            samples = samples.take(keep)
        state = self.state_for(samples)
        if state.features is None:
            out = state.detector.update(samples)
            status_idx, score, lines, suggested = out.status_idx, out.score, dict(out.lines), out.suggested_value
        else:
            built, defined = state.features.transform(samples)
            out = state.detector.update(built)
            n = len(samples)
            status_idx = np.full(n, self._undefined_idx, dtype=np.int16)
            status_idx[defined] = out.status_idx
            score = np.zeros(n)
            score[defined] = out.score
            lines = {}
            for name, line in out.lines.items():
                lines[name] = np.full(n, np.nan)
                lines[name][defined] = line
            suggested = None
            if out.suggested_value is not None:
                # the detector suggests a constructed vector; the record's value is the raw one
                suggested = np.full(samples.values.shape, np.nan)
                cols = list(self.features.use_cols) if self.features.use_cols is not None \
                    else list(range(samples.values.shape[1]))
                for raw_col in range(samples.values.shape[1]):
                    if raw_col in cols:
                        suggested[defined, raw_col] = out.suggested_value[:, cols.index(raw_col)]
        if state.likelihood is not None:  # the status stays the detector's; the score becomes calibrated
            score = state.likelihood(np.asarray(score, dtype=np.float64))
        if state.normalizer is not None:
            normalized = state.normalizer.suggest(samples.values, self.status_codes[status_idx] == Status.ERROR)
            suggested = normalized if suggested is None else np.where(np.isnan(suggested), normalized, suggested)
        results = ResultBatch(
            detector_index=self.index, algorithm=state.detector.name, samples=samples,
            status_idx=status_idx, score=score, status_texts=self.status_texts,
            status_codes=self.status_codes, lines=lines, suggested_value=suggested)
        self.tally.add(status_idx, self.status_codes)
        return results

    def write(self, results: ResultBatch) -> None:
        """Hand the results to every output; one that fails does not keep the others from getting
        them (the first error is raised once all were tried)."""
        first_error = None
        for output in self.outputs:
            try:
                output.write(results)
            except Exception as err:
                first_error = first_error or err
        if first_error is not None:
            raise first_error

    @property
    def status_counts(self) -> dict[int, int]:
        """Samples per status code so far (``tally.counts``)."""
        return self.tally.counts

    def anomalies(self) -> int:
        return self.tally.anomalies
