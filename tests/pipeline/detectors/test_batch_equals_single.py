"""However the stream is cut into batches, a detector gives the same result, and that result
equals a plain per-sample Python loop of the same detector (tests/reference_loops.py)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.detectors.border_check import BorderCheck
from pipeline.detectors.ema import EMA
from pipeline.detectors.welford import Welford
from tests import reference_loops
from tests.conftest import batch_of

CASES = [
    (BorderCheck, dict(UL=1.5, LL=-1.0, warning_stages=[0.9, 0.5, -0.2]), reference_loops.border_check_loop),
    (EMA, dict(UL=1.0, LL=-1.0, N=7, warning_stages=[0.7, 0.9]), reference_loops.ema_loop),
    (EMA, dict(UL=0.55, LL=-0.45, N=3, warning_stages=[0.3, -0.2]), reference_loops.ema_loop),
    (Welford, dict(X=2.5, N=20, warning_stages=[0.7, 0.9]), reference_loops.welford_loop),
    (Welford, dict(X=3.0, N=2, warning_stages=[]), reference_loops.welford_loop),
    (Welford, dict(X=2.0, warning_stages=[0.5]), reference_loops.welford_loop),
]


def random_stream(rng, n):
    """Noise with spikes, level shifts and runs of constant values (zero spread)."""
    x = np.cumsum(rng.normal(0, 0.05, n)) + rng.normal(0, 0.3, n)
    x[rng.choice(n, n // 50, replace=False)] += rng.choice([-4, 4], n // 50)
    x[n // 3:n // 3 + 60] = 2.0
    x[n // 2:] += 1000.0
    return x


def run_in_batches(detector, x, sizes):
    statuses, scores, start = [], [], 0
    for size in sizes:
        out = detector.update(batch_of(x[start:start + size], start=start))
        statuses += [detector.status_texts[i] for i in out.status_idx]
        scores += out.score.tolist()
        start += size
    assert start == len(x)
    return statuses, scores


def random_cuts(rng, n):
    sizes = []
    while sum(sizes) < n:
        sizes.append(int(min(n - sum(sizes), rng.integers(1, 3000))))
    return sizes


@pytest.mark.parametrize("cls,params,loop", CASES, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_batching_equals_the_per_sample_loop(cls, params, loop, seed):
    rng = np.random.default_rng(seed)
    x = random_stream(rng, 40_000)  # crosses two exact-resync points of Welford's window sums
    expected_statuses, expected_scores = loop(x.tolist(), **params)

    whole = run_in_batches(cls(**params), x, [len(x)])
    cut = run_in_batches(cls(**params), x, random_cuts(rng, len(x)))
    assert whole[0] == expected_statuses
    assert cut[0] == expected_statuses
    assert whole[1] == expected_scores
    assert cut[1] == expected_scores


@pytest.mark.parametrize("cls,params,loop", CASES[:1] + CASES[3:4], ids=["BorderCheck", "Welford"])
def test_one_sample_at_a_time_equals_one_batch(cls, params, loop):
    x = random_stream(np.random.default_rng(7), 700)
    assert run_in_batches(cls(**params), x, [1] * len(x)) == run_in_batches(cls(**params), x, [len(x)])


def test_empty_batches_change_nothing():
    x = random_stream(np.random.default_rng(5), 300)
    d = Welford(X=2, N=10)
    with_empty = run_in_batches(d, x, [0, 100, 0, 0, 200, 0])
    assert with_empty == run_in_batches(Welford(X=2, N=10), x, [300])


@pytest.mark.parametrize("N", [2, 3, 30])
def test_welford_on_stepped_data_with_flat_stretches_equals_the_loop_for_any_cut(N):
    # flat stretches start and end everywhere, also across batch cuts and the resync at 16384
    rng = np.random.default_rng(N)
    x = np.repeat(rng.integers(0, 4, 20_000) * 0.1, rng.integers(1, 2 * N + 2, 20_000))[:20_000]
    x[16_000:16_500] = 0.0
    expected = reference_loops.welford_loop(x.tolist(), X=3, N=N)
    assert expected[0].count("OK") > 0.5 * len(x)
    sizes = [1] * 50 + random_cuts(rng, len(x) - 50)
    assert run_in_batches(Welford(X=3, N=N), x, sizes) == expected
    assert run_in_batches(Welford(X=3, N=N), x, [len(x)]) == expected
