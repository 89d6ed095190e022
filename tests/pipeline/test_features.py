"""Feature construction gives the original's documented vectors, with memory per stream and no
dependence on batch cuts."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detector_run import DetectorRun
from pipeline.detectors.border_check import BorderCheck
from pipeline.features import FeatureBuilder, FeatureSpec
from pipeline.records import SampleBatch

UNIT_TEST_SPEC = FeatureSpec(
    input_vector_size=2, averages=((2, 3), (2,)), periodic_averages=(((2, (3,)), (3, (2,))), ()),
    shifts=((1, 2, 3, 4), ()), time_features=("month", "day", "weekday", "hour", "minute"))


def unit_test_input():
    """Spec 4.2: vectors [x, x + 101], timestamps a day, an hour and a minute apart."""
    x = np.arange(10.0)
    ts = 1459926000 + np.arange(10) * (86400 + 3600 + 60.0)
    return SampleBatch(ts, ts, np.column_stack([x, x + 101]), np.arange(10))


def test_the_originals_unit_test_vector():
    built, defined = FeatureBuilder(UNIT_TEST_SPEC).transform(unit_test_input())
    assert defined.tolist() == [False] * 4 + [True] * 6
    assert built.values[0].tolist() == [4, 105, 3.5, 3, 104.5, 2, 2.5, 3, 2, 1, 0, 4, 10, 6, 11, 4]
    # the slices the original's test lists for vectors 5..10
    assert built.values[:, 7:11].tolist() == [[x - 1, x - 2, x - 3, x - 4] for x in range(4, 10)]
    assert built.values[:, 2:5].tolist() == [[x - 0.5, x - 1, x + 100.5] for x in range(4, 10)]
    assert built.values[:, 5:7].tolist() == [[x - 2, x - 1.5] for x in range(4, 10)]
    assert built.values[:, 11:].tolist() == [[4, 10, 6, 11, 4], [4, 11, 0, 12, 5], [4, 12, 1, 13, 6],
                                             [4, 13, 2, 14, 7], [4, 14, 3, 15, 8], [4, 15, 4, 16, 9]]


@pytest.mark.parametrize("cuts", [[1] * 10, [3, 1, 6], [4, 6], [9, 1]])
def test_batch_cuts_do_not_change_the_vectors(cuts):
    samples = unit_test_input()
    whole = FeatureBuilder(UNIT_TEST_SPEC).transform(samples)[0].values
    builder, parts, start = FeatureBuilder(UNIT_TEST_SPEC), [], 0
    for size in cuts:
        parts.append(builder.transform(samples.take(slice(start, start + size)))[0].values)
        start += size
    assert np.array_equal(np.concatenate(parts), whole)


def test_use_cols_is_applied_once_to_the_constructed_vector():
    spec = FeatureSpec(2, shifts=((1,), ()), use_cols=(2, 0))
    built, _ = FeatureBuilder(spec).transform(unit_test_input())
    assert built.values[:3].tolist() == [[0, 1], [1, 2], [2, 3]]


def test_time_average_shifts_produce_once_per_period_and_drop_the_boundary_sample():
    ts = np.arange(0, 1200, 60.0)  # a sample a minute for 20 minutes
    x = np.arange(len(ts), dtype=float)
    spec = FeatureSpec(1, time_average_shifts=(1, 300), max_memory=10, use_cols=(1,))
    built, defined = FeatureBuilder(spec).transform(SampleBatch(ts, ts, x[:, None], np.arange(len(ts))))
    # first full memory at sample 9 (t = 540 s); then every 5 minutes
    assert np.flatnonzero(defined).tolist() == [9, 14, 19]
    # bucket (now - 300, now]: samples 5..9 at t = 300..540 -> 300 is not > 240, so 5..9 minus none
    assert built.values[:, 0].tolist() == [np.mean([5, 6, 7, 8, 9]), np.mean([10, 11, 12, 13, 14]),
                                           np.mean([15, 16, 17, 18, 19])]


def test_warm_up_samples_are_undefined_results_of_the_detector():
    run = DetectorRun(0, BorderCheck(UL=100, LL=-100), features=FeatureSpec(1, shifts=((3,),)))
    x = np.arange(6.0)
    result = run.process(SampleBatch(x, x, x[:, None], np.arange(6)))
    assert result.status_code.tolist() == [2, 2, 2, 1, 1, 1]
    assert run.status_counts[2] == 3


def test_time_averages_do_not_depend_on_batch_cuts_even_with_a_late_sample():
    ts = np.arange(0, 3000, 10.0)
    ts[100] = ts[99] - 5  # one sample arrives out of order
    x = np.sin(np.arange(len(ts)) / 7)
    samples = SampleBatch(ts, ts, x[:, None], np.arange(len(ts)))
    spec = FeatureSpec(1, time_average_shifts=(2, 60), max_memory=20)
    whole = FeatureBuilder(spec).transform(samples)[1]
    builder, parts = FeatureBuilder(spec), []
    for start in range(0, len(ts), 7):
        parts.append(builder.transform(samples.take(slice(start, start + 7)))[1])
    assert np.array_equal(np.concatenate(parts), whole)


def original_bucket_walk(values, times, now, num, period):
    """The original's walk, sample by sample (newest first): the reference for ``_buckets``."""
    if not times[0] < now - num * period:
        return None
    closed, bucket, k = [], [], 0
    for value, ts in zip(values[::-1], times[::-1]):
        if ts > now - (k + 1) * period:
            bucket.append(value)
        else:
            closed.append(np.mean(bucket, axis=0) if bucket else np.full(values.shape[1], np.nan))
            bucket, k = [], k + 1
    if len(closed) < num:
        return None
    means = np.array(closed[:num][::-1])
    return None if np.isnan(means).any() else means.T.reshape(-1)


@pytest.mark.parametrize("seed", range(6))
def test_time_average_buckets_equal_the_original_walk_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        m, d = int(rng.integers(1, 60)), int(rng.integers(1, 3))
        times = np.sort(rng.uniform(0, 600, m)) if seed % 2 else rng.uniform(0, 600, m)  # late samples too
        if seed == 5:
            times[rng.integers(0, m)] = np.nan
        values = rng.normal(0, 1, (m, d))
        num, period = int(rng.integers(1, 5)), float(rng.uniform(5, 120))
        now = float(np.nanmax(times)) if not np.isnan(times).all() else 0.0
        expected = original_bucket_walk(values, times, now, num, period)
        got = FeatureBuilder._buckets(values, times, now, num, period)
        assert (got is None) == (expected is None)
        if got is not None:
            assert got.tobytes() == expected.tobytes()
