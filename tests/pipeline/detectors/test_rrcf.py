"""RRCF: the compiled forest keeps the rrcf package's tree invariants, agrees with the original's
reference vector, and never puts a score into status_code.

Compared by agreement rate because the random cuts come from another generator than the
original's (numpy's global one inside the rrcf package): the trees differ, so borderline codisp
values fall on either side of the threshold.
"""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from pipeline.detectors import DETECTORS
from pipeline.detectors.rrcf import RRCF, RandomCutForest
from pipeline.records import SampleBatch
from tests.conftest import REFVECTORS, batch_of
from tests.pipeline.detectors.model_replay import reference, reference_codes, replay, samples


def test_fork_config_agrees_with_the_original_and_finds_every_spike(sine_spikes):
    ref = reference("RRCF_trees__fork_seed0__sine_spikes")
    ts, x = sine_spikes
    results, _ = replay(ref["config"], "RRCF", samples(x, ts))
    codes = results.status_code
    assert (codes == reference_codes(ref)).mean() >= 0.99
    assert set(codes.tolist()) <= {-1, 1}           # the original put the codisp itself there
    labels = np.array(json.loads((REFVECTORS / "inputs" / "sine_spikes.json").read_text())["label"], dtype=bool)
    assert (codes[labels] == -1).all()
    assert results.status_texts[results.status_idx[146]] == "Error: Anomaly detected"


def test_score_maps_codisp_to_half_at_the_threshold():
    d = RRCF(num_trees=10, tree_size=32, threshold=5)
    x = np.sin(np.arange(200) / 5)
    x[150] = 6
    out = d.update(batch_of(x))
    codisp = out.lines["codisp"]
    assert np.array_equal(out.score, codisp / (codisp + 5))
    assert ((out.score >= 0) & (out.score < 1)).all()
    assert np.array_equal(d.status_codes[out.status_idx] == -1, codisp > 5)
    assert out.score[150] == out.score.max() and codisp[0] == 0.0


def check_trees(forest: RandomCutForest, window: list[np.ndarray]) -> None:
    """Every tree holds exactly the window's points with their counts; counts and boxes of every
    branch are exact; cuts separate the children; links are consistent."""
    expected = Counter(tuple(p) for p in window)
    S = forest.tree_size
    for t in range(forest.num_trees):
        leaves: Counter = Counter()

        def visit(node, parent, t=t, leaves=leaves):
            assert forest.parent[node] == parent
            if node - forest.offset[t] < S:
                assert np.array_equal(forest.lo[node], forest.hi[node])
                leaves[tuple(forest.lo[node])] += int(forest.count[node])
                return forest.count[node], forest.lo[node], forest.hi[node]
            n1, lo1, hi1 = visit(forest.left[node], node, t, leaves)
            n2, lo2, hi2 = visit(forest.right[node], node, t, leaves)
            q, cut = forest.cut_dim[node], forest.cut[node]
            assert hi1[q] <= cut < lo2[q]
            assert forest.count[node] == n1 + n2
            assert np.array_equal(forest.lo[node], np.minimum(lo1, lo2))
            assert np.array_equal(forest.hi[node], np.maximum(hi1, hi2))
            return n1 + n2, forest.lo[node], forest.hi[node]

        visit(forest.root[t], forest.none)
        assert leaves == expected


def reference_codisp(forest: RandomCutForest, point: np.ndarray) -> float:
    """rrcf's codisp of the leaf holding ``point``, walked object-style, averaged over trees."""
    total = 0.0
    for t in range(forest.num_trees):
        node = forest.offset[t] + forest.leaf_slot(point)
        best = 0.0
        while forest.parent[node] != forest.none:
            parent = forest.parent[node]
            sibling = forest.right[parent] if forest.left[parent] == node else forest.left[parent]
            best = max(best, forest.count[sibling] / forest.count[node])
            node = parent
        total += best
    return total / forest.num_trees


@pytest.mark.parametrize("dim", [1, 3])
def test_forest_keeps_rrcf_invariants_through_forgets_duplicates_and_spikes(dim):
    rng = np.random.default_rng(dim)
    stream = np.round(rng.normal(0, 1, (700, dim)), 1)      # rounding makes many duplicates
    stream[rng.choice(700, 15, replace=False)] += 8
    forest = RandomCutForest(num_trees=6, tree_size=40, rng=np.random.default_rng(0))
    for i, point in enumerate(stream):
        codisp = forest.update(point)
        assert codisp == pytest.approx(reference_codisp(forest, point), rel=1e-12)
        if i % 97 == 0 or i == len(stream) - 1:
            check_trees(forest, list(stream[max(0, i - 39):i + 1]))


def test_codisp_matches_the_rrcf_package_statistically():
    rrcf = pytest.importorskip("rrcf")
    rng = np.random.default_rng(0)
    n, T, S = 500, 10, 64
    x = np.round(np.sin(np.arange(n) / 10) + rng.normal(0, 0.1, n), 2)
    x[[300, 450]] += 3

    def package(seed):
        np.random.seed(seed)
        trees, out = [rrcf.RCTree() for _ in range(T)], []
        for i in range(n):
            total = 0.0
            for tree in trees:
                if len(tree.leaves) >= S:
                    tree.forget_point(i - S)
                tree.insert_point(np.array([x[i]]), index=i)
                total += tree.codisp(i) / T
            out.append(total)
        return np.array(out)

    def ours(seed):
        forest = RandomCutForest(T, S, np.random.default_rng(seed))
        return np.array([forest.update(x[i:i + 1]) for i in range(n)])

    theirs = np.mean([package(s) for s in range(3)], axis=0)[100:]
    mine = np.mean([ours(s) for s in range(3)], axis=0)[100:]
    assert mine.mean() == pytest.approx(theirs.mean(), rel=0.1)
    assert np.corrcoef(mine, theirs)[0, 1] > 0.9
    assert np.argsort(mine)[-2:].tolist() == np.argsort(theirs)[-2:].tolist() == [200, 350]


def test_non_finite_rows_are_undefined_and_left_out_of_the_trees():
    x = np.random.default_rng(1).normal(0, 1, 300)
    polluted = x.copy()
    polluted[[10, 200]] = np.nan
    clean = RRCF(num_trees=5, tree_size=50, threshold=20).update(batch_of(np.delete(x, [10, 200])))
    dirty_detector = RRCF(num_trees=5, tree_size=50, threshold=20)
    dirty = dirty_detector.update(batch_of(polluted))
    assert dirty_detector.status_codes[dirty.status_idx[[10, 200]]].tolist() == [2, 2]
    assert np.delete(dirty.lines["codisp"], [10, 200]).tolist() == clean.lines["codisp"].tolist()


def test_batch_cuts_and_seeds():
    x = np.random.default_rng(2).normal(0, 1, 800)

    def run(cuts, seed=0):
        d = RRCF(num_trees=8, tree_size=100, threshold=10, random_state=seed)
        out, start = [], 0
        for size in cuts:
            o = d.update(batch_of(x[start:start + size], start=start))
            out += list(zip(o.status_idx.tolist(), o.score.tolist()))
            start += size
        return out

    whole = run([800])
    assert run([1] * 150 + [650]) == whole == run([333, 467])
    assert run([800], seed=1) != whole
    assert DETECTORS.resolve("RRCF_trees()") is RRCF and DETECTORS.resolve("RRCF") is RRCF


def test_random_draws_are_one_stream_however_often_they_are_refilled(monkeypatch):
    x = np.random.default_rng(3).normal(0, 1, (600, 2))
    plenty = RandomCutForest(8, 50, np.random.default_rng(0)).update_many(x)
    monkeypatch.setattr(RandomCutForest, "UNIFORM_BLOCK", 1)   # a refill every few points
    often = RandomCutForest(8, 50, np.random.default_rng(0))
    assert np.array_equal(np.concatenate([often.update_many(x[:1]), often.update_many(x[1:])]), plenty)


def test_values_near_the_largest_float_are_undefined_instead_of_breaking_the_trees():
    # two such values span more than the largest float: their cut would be inf - inf = NaN
    x = np.array([[1.0, -5.0], [1e308, -1e308], [2.0, -6.0], [1.0, -5.0], [3.0, -4.0]])
    d = RRCF(num_trees=1, tree_size=8, threshold=5)
    out = d.update(SampleBatch(np.arange(5.0), np.arange(5.0), x, np.arange(5)))
    assert d.status_codes[out.status_idx].tolist() == [1, 2, 1, 1, 1]
    check_trees(d._forest, [x[0], x[2], x[3], x[4]])
