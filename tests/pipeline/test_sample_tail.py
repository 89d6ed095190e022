"""SampleTail: the samples before a batch, whatever the cuts of the stream."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.sample_tail import SampleTail
from tests.reference_loops_stats import random_cuts


@pytest.mark.parametrize("size", [0, 1, 3, 50])
@pytest.mark.parametrize("rows", [False, True])
def test_each_batch_comes_with_the_last_size_samples_before_it_for_any_cuts(size, rows):
    rng = np.random.default_rng(size)
    stream = rng.normal(size=(400, 3)) if rows else rng.normal(size=400)
    tail, start = SampleTail(size), 0
    for n in random_cuts(rng, len(stream), 40):
        joined = tail.extend(stream[start:start + n])
        before = stream[max(0, start - size):start]
        assert np.array_equal(joined, np.concatenate([before, stream[start:start + n]]))
        start += n
        assert np.array_equal(tail.samples, stream[max(0, start - size):start])


def test_an_empty_tail_takes_the_row_shape_of_the_first_batch_even_an_empty_one():
    tail = SampleTail(2)
    assert tail.extend(np.empty((0, 4))).shape == (0, 4)
    assert tail.extend(np.ones((3, 4))).shape == (3, 4)
    assert tail.samples.shape == (2, 4) and len(tail) == 2


def test_kept_samples_are_float64_as_the_empty_start_makes_them():
    tail = SampleTail(2)
    joined = tail.extend(np.array([1, 2, 3]))
    assert joined.dtype == np.float64 and tail.samples.dtype == np.float64


def test_changes_to_the_joined_samples_are_kept_with_prepend_and_keep():
    tail = SampleTail(2)
    joined = tail.prepend(np.array([1.0, 2.0, 3.0]))
    assert len(tail) == 0
    joined[-1] = 9.0
    tail.keep(joined)
    assert tail.samples.tolist() == [2.0, 9.0]
    joined[-1] = 7.0                       # the kept samples are a copy
    assert tail.samples.tolist() == [2.0, 9.0]
