#!/usr/bin/env python3
"""Samples/s of every registered detector on one 100,000-sample stream, next to river.

Each detector runs with its example parameters (tests/detector_examples.py) over the stream in
engine-sized batches, after ``start`` (models train on 2000 clean samples first; training time is
reported separately). Every timing is the best of three runs in this process. river's GaussianScorer
and HalfSpaceTrees score-then-learn the same stream
one sample at a time, in the same process. Targets: every statistical detector at least 10x
GaussianScorer; every model-based detector at least HalfSpaceTrees.

    pip install -r benchmarks/requirements.txt
    python benchmarks/detectors.py [--samples N]
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.detectors import DETECTORS, DetectorContext  # noqa: E402
from pipeline.records import SampleBatch  # noqa: E402
from tests.detector_examples import EXAMPLES, OPTIONAL_PACKAGES  # noqa: E402

MODEL_BASED = {"IsolationForest", "PCA", "Clustering", "RRCF", "TrendClassification", "GAN", "fb_Prophet"}


def stream(n: int):
    rng = np.random.default_rng(7)
    x = np.sin(np.arange(n) * 2 * np.pi / 200) + rng.normal(0, 0.2, n)
    x[rng.choice(n, n // 100, replace=False)] += 4
    return x


def run_ours(name: str, x: np.ndarray, context: DetectorContext, batch: int = 65536, repeat: int = 3):
    """Best of ``repeat`` runs on fresh detectors (seconds), and the training time of the last."""
    ts = np.arange(len(x), dtype=float)
    best = np.inf
    for _ in range(repeat):
        detector = DETECTORS.resolve(name)(**EXAMPLES[name][0])
        start = time.perf_counter()
        detector.start(context)
        trained = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, len(x), batch):
            j = min(len(x), i + batch)
            detector.update(SampleBatch(ts[i:j], ts[i:j], x[i:j, None], np.arange(i, j)))
        best = min(best, time.perf_counter() - start)
        if best > 10:
            break  # slow detectors: one run is precise enough
    return best, trained


def run_river(x: np.ndarray, repeat: int = 3):
    """Best of ``repeat`` score-then-learn passes of GaussianScorer and HalfSpaceTrees (seconds)."""
    from river import anomaly
    values = x.tolist()
    gauss_s = hst_s = np.inf
    for _ in range(repeat):
        gauss = anomaly.GaussianScorer()
        start = time.perf_counter()
        for v in values:
            gauss.score_one(None, v)
            gauss.learn_one(None, v)
        gauss_s = min(gauss_s, time.perf_counter() - start)
        hst = anomaly.HalfSpaceTrees(seed=0)
        start = time.perf_counter()
        for v in values:
            sample = {"x": v}
            hst.score_one(sample)
            hst.learn_one(sample)
        hst_s = min(hst_s, time.perf_counter() - start)
    return gauss_s, hst_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    args = parser.parse_args()
    x = stream(args.samples)
    n = len(x)
    gauss_s, hst_s = run_river(x)
    train = (np.sin(np.arange(2000) * 2 * np.pi / 200) + np.random.default_rng(99).normal(0, 0.2, 2000))[:, None]
    with tempfile.TemporaryDirectory() as tmp:
        context = DetectorContext(name="bench", models_dir=Path(tmp), resolve_path=Path,
                                  training_vectors=lambda path: train)
        print(f"{n:,} samples; river GaussianScorer {n / gauss_s:,.0f}/s, HalfSpaceTrees {n / hst_s:,.0f}/s")
        print(f"{'detector':<22} {'samples/s':>13} {'vs baseline':>12} {'target':>7} {'train s':>8}")
        for name in sorted(DETECTORS.names()):
            if name not in EXAMPLES:
                print(f"{name:<22} (no example parameters)")
                continue
            if name in OPTIONAL_PACKAGES and importlib.util.find_spec(OPTIONAL_PACKAGES[name]) is None:
                print(f"{name:<22} (optional package {OPTIONAL_PACKAGES[name]} not installed)")
                continue
            seconds, trained = run_ours(name, x, context)
            model = name in MODEL_BASED
            baseline = hst_s if model else gauss_s
            ratio = baseline / seconds
            target = 1.0 if model else 10.0
            print(f"{name:<22} {n / seconds:>13,.0f} {ratio:>10,.1f}x "
                  f"{'HST' if model else 'Gauss'}{'' if ratio >= target else ' MISSED':>2} {trained:>8.2f}")


if __name__ == "__main__":
    main()
