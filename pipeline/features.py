"""Feature construction: turn raw sample vectors into the vectors a detector judges.

The constructed vector is, in this order (spec 4.2, the original's intended multi-feature
semantics, which its code lost in 2022):

``[raw features] + [averages] + [periodic averages] + [shifts] + [time features] +
[time-average shifts]``, then ``use_cols`` picks columns of that vector (once).

- ``averages[f] = [a, ...]``: mean of the last ``a`` values of feature ``f`` (current included).
- ``periodic_averages[f] = [[p, [n, ...]], ...]``: mean of feature ``f`` at lags ``0, p, ...,
  (n - 1) p``.
- ``shifts[f] = [k, ...]``: feature ``f`` ``k`` samples ago.
- ``time_features``: any of ``month, day, weekday, hour, minute`` (UTC; always in that order;
  Monday = 0).
- ``time_average_shifts = [num, period_s]`` with ``max_memory``: once at least ``period_s``
  seconds have passed since the last production, the memory (newest first) is cut into buckets of
  ``period_s`` seconds; the sample that closes a bucket is dropped; ``num`` bucket means per
  feature, oldest first, are produced. Samples between productions have no vector.

A sample has a vector only once the memory holds ``memory_size`` samples (warm-up), and, with
time-average shifts, only when averages are produced; the others are undefined for the detector.
Memory is per stream key; the result does not depend on how the stream is cut into batches.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline.records import SampleBatch
from pipeline.sample_tail import SampleTail

TIME_FEATURES = ("month", "day", "weekday", "hour", "minute")


@dataclass(frozen=True)
class FeatureSpec:
    """Validated feature-construction settings of one detector (see the module docstring)."""

    input_vector_size: int
    averages: tuple[tuple[int, ...], ...] = ()
    periodic_averages: tuple[tuple[tuple[int, tuple[int, ...]], ...], ...] = ()
    shifts: tuple[tuple[int, ...], ...] = ()
    time_features: tuple[str, ...] = ()
    time_average_shifts: tuple[int, float] | None = None
    max_memory: int = 0
    use_cols: tuple[int, ...] | None = None

    @property
    def is_identity(self) -> bool:
        """True when the constructed vector is the raw vector (nothing to build, no warm-up)."""
        return (not any(self.averages) and not any(self.periodic_averages) and not any(self.shifts)
                and not self.time_features and self.time_average_shifts is None and self.max_memory <= 1
                and self.use_cols is None)

    @property
    def memory_size(self) -> int:
        max_shift = max((max(s) + 1 for s in self.shifts if s), default=0)
        max_average = max((max(a) for a in self.averages if a), default=0)
        max_periodic = max((1 + p * (max(ns) - 1) for per in self.periodic_averages for p, ns in per if ns),
                           default=0)
        return max(max_shift, max_average, max_periodic, self.max_memory, 1)

    @property
    def full_width(self) -> int:
        """Length of the constructed vector before ``use_cols``."""
        d = self.input_vector_size
        width = d + sum(len(a) for a in self.averages)
        width += sum(len(ns) for per in self.periodic_averages for _, ns in per)
        width += sum(len(s) for s in self.shifts) + len(self.time_features)
        if self.time_average_shifts is not None:
            width += self.time_average_shifts[0] * d
        return width

    @property
    def width(self) -> int:
        return len(self.use_cols) if self.use_cols is not None else self.full_width

    def describe(self) -> str:
        """A stable text of the layout (for model metadata): equal texts build equal vectors."""
        return json.dumps(asdict(self), sort_keys=True)


def time_feature_columns(time_s: np.ndarray, names) -> list[np.ndarray]:
    """Month (1-12), day of month, weekday (Monday 0), hour, minute of epoch seconds (UTC)."""
    seconds = np.floor(time_s).astype("datetime64[s]")
    days = seconds.astype("datetime64[D]")
    months = seconds.astype("datetime64[M]")
    columns = {
        "month": months.astype(np.int64) % 12 + 1,
        "day": (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
        "weekday": (days.astype(np.int64) + 3) % 7,  # 1970-01-01 was a Thursday
        "hour": (seconds.astype(np.int64) // 3600) % 24,
        "minute": (seconds.astype(np.int64) // 60) % 60,
    }
    return [columns[name].astype(np.float64) for name in TIME_FEATURES if name in names]


@dataclass
class FeatureBuilder:
    """Builds constructed vectors for one stream key, carrying the memory between batches."""

    spec: FeatureSpec
    _values: SampleTail = field(init=False)   # the last memory_size - 1 raw vectors
    _times: SampleTail = field(init=False)    # and their times
    _seen: int = field(default=0, init=False)
    _last_production: float = field(default=-np.inf, init=False)

    def __post_init__(self):
        self._values = SampleTail(self.spec.memory_size - 1)
        self._times = SampleTail(self.spec.memory_size - 1)

    def transform(self, samples: SampleBatch) -> tuple[SampleBatch, np.ndarray]:
        """(samples with constructed vectors, mask of the input samples that have one)."""
        spec, n = self.spec, len(samples)
        values = self._values.extend(samples.values.astype(np.float64))
        times = self._times.extend(samples.time_s)
        h = len(values) - n
        rows = np.arange(h, h + n)                       # positions of this batch in `values`
        defined = self._seen + np.arange(n) + 1 >= spec.memory_size

        columns = [samples.values[:, f].astype(np.float64) for f in range(spec.input_vector_size)]
        for f, windows in enumerate(spec.averages):
            for a in windows:
                columns.append(self._lag_mean(values[:, f], rows, [k for k in range(a)]))
        for f, periods in enumerate(spec.periodic_averages):
            for p, ns in periods:
                for count in ns:
                    columns.append(self._lag_mean(values[:, f], rows, [k * p for k in range(count)]))
        for f, lags in enumerate(spec.shifts):
            for k in lags:
                columns.append(self._lagged(values[:, f], rows, k))
        columns += time_feature_columns(samples.time_s, spec.time_features)
        if spec.time_average_shifts is not None:
            averages, produced = self._time_averages(values, times, rows, defined)
            columns += list(averages.T)
            defined &= produced

        self._seen += n

        built = np.column_stack(columns) if columns else np.empty((n, 0))
        if spec.use_cols is not None:
            built = built[:, list(spec.use_cols)]
        out = samples.take(defined)
        out = SampleBatch(out.timestamp, out.time_s, built[defined], out.position, out.labels, out.key, out.stream)
        return out, defined

    @staticmethod
    def _lagged(x: np.ndarray, rows: np.ndarray, lag: int) -> np.ndarray:
        idx = rows - lag
        out = np.full(len(rows), np.nan)
        ok = idx >= 0
        out[ok] = x[idx[ok]]
        return out

    @classmethod
    def _lag_mean(cls, x: np.ndarray, rows: np.ndarray, lags: list[int]) -> np.ndarray:
        # summed lag by lag, in a fixed order, so a value never depends on where a batch starts
        total = np.zeros(len(rows))
        for lag in lags:
            total = total + cls._lagged(x, rows, lag)
        return total / len(lags)

    def _time_averages(self, values, times, rows, defined):
        """Bucket means (oldest first, per feature) where produced; NaN elsewhere."""
        num, period = self.spec.time_average_shifts
        d = values.shape[1]
        memory = self.spec.memory_size
        out = np.full((len(rows), num * d), np.nan)
        produced = np.zeros(len(rows), dtype=bool)
        batch_times = times[rows]
        ordered = bool(np.all(np.diff(batch_times) >= 0))  # jumping ahead needs sorted times
        j = 0
        while j < len(rows):
            if not defined[j]:
                j += 1
                continue
            now = times[rows[j]]
            if now - self._last_production < period:
                # jump to the first later sample at least `period` after the last production
                j = max(j + 1, int(np.searchsorted(batch_times, self._last_production + period))) if ordered \
                    else j + 1
                continue
            start = max(0, rows[j] - memory + 1)
            means = self._buckets(values[start:rows[j] + 1], times[start:rows[j] + 1], now, num, period)
            if means is not None:
                out[j] = means
                produced[j] = True
                self._last_production = now
            j += 1
        return out, produced

    @staticmethod
    def _buckets(values, times, now, num, period):
        """The original's walk over the memory, newest first, or None if it produces nothing.

        Bucket ``k`` takes samples while their time is after ``now - (k + 1) period``; the first
        sample that is not closes it and is dropped. A bucket is therefore a run of consecutive
        samples, found with one vector comparison per bucket instead of a step per sample."""
        if not times[0] < now - num * period:
            return None
        newest_first_times, newest_first_values = times[::-1], values[::-1]
        means = []
        start = 0
        for k in range(num):
            if start >= len(times):
                return None
            outside = ~(newest_first_times[start:] > now - (k + 1) * period)  # NaN times close too
            end = start + int(np.argmax(outside))
            if not outside[end - start] or end == start:
                return None     # never closed, or closed empty (the original's NaN mean)
            # a contiguous copy in walk order: the same array, so the same mean, as the original's
            means.append(np.mean(np.ascontiguousarray(newest_first_values[start:end]), axis=0))
            start = end + 1
        means = np.array(means[::-1])
        if np.isnan(means).any():
            return None
        return means.T.reshape(-1)
