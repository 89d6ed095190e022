#!/usr/bin/env python3
"""Samples/s of our streaming RRCF (pipeline/detectors/rrcf.py) next to the ``rrcf`` package.

Both run the original's streaming loop on the same noisy sine with spikes, at the same
``num_trees`` and ``tree_size``: forget the oldest point once a tree is full, insert the new one,
average its codisp over the trees. Rates are given while the trees fill (the first ``tree_size``
samples) and once they are full (every sample also forgets one), plus the ratio; the mean codisp
of both shows they compute the same quantity. Everything runs in one process, one after the
other. ``rrcf`` is a benchmark/test dependency only (requirements-test.txt).
Ours advances a batch of samples per call, as the detector does.

    python benchmarks/rrcf_speed.py [--samples N] [--configs 50x512,10x256]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.detectors.rrcf import RandomCutForest  # noqa: E402


def stream(n: int) -> np.ndarray:
    rng = np.random.default_rng(20240601)
    x = np.sin(2 * np.pi * np.arange(n) / 200) + 0.1 * rng.standard_normal(n)
    spikes = rng.choice(np.arange(100, n), max(1, n // 100), replace=False)
    x[spikes] += rng.uniform(2.5, 4.0, len(spikes)) * rng.choice([-1, 1], len(spikes))
    return np.round(x, 6)


def run_package(x: np.ndarray, trees: int, size: int) -> tuple[np.ndarray, float, float]:
    import rrcf
    np.random.seed(0)
    forest = [rrcf.RCTree() for _ in range(trees)]
    scores = np.empty(len(x))
    began = time.perf_counter()
    filled = None
    for i, value in enumerate(x):
        point = np.array([value])
        total = 0.0
        for tree in forest:
            if len(tree.leaves) >= size:
                tree.forget_point(i - size)
            tree.insert_point(point, index=i)
            total += tree.codisp(i) / trees
        scores[i] = total
        if i == size - 1:
            filled = time.perf_counter()
    return scores, filled - began, time.perf_counter() - filled


def run_ours(x: np.ndarray, trees: int, size: int) -> tuple[np.ndarray, float, float]:
    """As the detector runs it: the rows of a batch in one call (here the filling part, then the
    rest), after a throwaway call that compiles the kernel."""
    RandomCutForest(trees, size, np.random.default_rng(1)).update_many(x[:3, None])
    forest = RandomCutForest(trees, size, np.random.default_rng(0))
    points = x[:, None]
    began = time.perf_counter()
    filling = forest.update_many(points[:size])
    filled = time.perf_counter()
    full = forest.update_many(points[size:])
    return np.concatenate([filling, full]), filled - began, time.perf_counter() - filled


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1500, help="stream length (default %(default)s)")
    parser.add_argument("--configs", default="50x512,10x256",
                        help="num_trees x tree_size pairs, comma separated (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        import rrcf  # noqa: F401
    except ImportError:
        print("the rrcf package is needed: pip install -r requirements-test.txt", file=sys.stderr)
        return 1
    print(f"{'trees x size':>12} {'phase':>7} {'rrcf /s':>9} {'ours /s':>9} {'ratio':>6} {'mean codisp rrcf/ours':>22}")
    for config in args.configs.split(","):
        trees, size = (int(v) for v in config.split("x"))
        n = max(args.samples, size + 200)
        x = stream(n)
        theirs, t_fill, t_full = run_package(x, trees, size)
        mine, o_fill, o_full = run_ours(x, trees, size)
        steady = slice(size, n)
        for phase, their_s, our_s, count in (("fill", t_fill, o_fill, size), ("full", t_full, o_full, n - size)):
            print(f"{config:>12} {phase:>7} {count / their_s:9.0f} {count / our_s:9.0f} {their_s / our_s:6.1f} "
                  f"{theirs[steady].mean():10.2f} /{mine[steady].mean():6.2f}" if phase == "full" else
                  f"{config:>12} {phase:>7} {count / their_s:9.0f} {count / our_s:9.0f} {their_s / our_s:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
