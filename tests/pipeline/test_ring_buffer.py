"""The ring buffer a viewer draws from: the newest rows, oldest first, in bounded memory."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.ring_buffer import RingBuffer


@pytest.mark.parametrize("sizes", [[1, 2, 3], [5, 5], [7], [2, 9, 1, 3]])
def test_ring_buffer_view_is_the_newest_samples_oldest_first(sizes):
    ring = RingBuffer(capacity=6, columns=2)
    fed = []
    for n in sizes:
        block = np.arange(len(fed), len(fed) + n, dtype=float)
        fed.extend(block)
        ring.extend(np.vstack([block, -block]))
    assert ring.view()[0].tolist() == fed[-6:]
    assert ring.view()[1].tolist() == [-v for v in fed[-6:]]
    assert ring.total == len(fed)


def test_ring_buffer_memory_does_not_grow():
    ring = RingBuffer(capacity=1000, columns=3)
    before = ring._data.nbytes
    for i in range(500):
        ring.extend(np.full((3, 777), float(i)))
    assert ring._data.nbytes == before and ring.count == 1000
    assert ring.view().base is not None  # a view, not a copy


@pytest.mark.parametrize("capacity", [1, 2, 5])
def test_a_plain_ring_keeps_the_same_rows_once_each(capacity):
    plain, mirrored = RingBuffer(capacity, 2, mirrored=False), RingBuffer(capacity, 2)
    assert plain.rows().shape == (2, 0) and plain._data.shape == (2, capacity)
    rng = np.random.default_rng(capacity)
    written = 0
    for n in rng.integers(0, 2 * capacity + 2, 40):
        block = np.vstack([np.arange(written, written + n, dtype=float), rng.normal(size=n)])
        written += n
        plain.extend(block)
        mirrored.extend(block)
        assert np.array_equal(plain.rows(), mirrored.view()) and plain.rows().flags.c_contiguous
    with pytest.raises(TypeError, match="rows"):
        plain.view()
