#!/usr/bin/env python3
"""Samples/s of every registered detector on one 100,000-sample stream, next to river.

Each detector runs with its example parameters (tests/detector_examples.py) over the stream in
engine-sized batches, after ``start`` (models train on 2000 clean samples first; training time is
reported separately); KNNConformal runs a second time with the parameters of
configuration/nab_best.json (its cost grows with ``history * length``, which the NAB setting makes
15 times the example's). Every timing is the best of three runs in this process. river's
GaussianScorer and HalfSpaceTrees score-then-learn the same stream one sample at a time, in the
same process. Targets: every statistical detector at least 10x GaussianScorer; every model-based
detector at least HalfSpaceTrees. Without river only samples/s are printed.

    pip install -r benchmarks/requirements.txt
    python benchmarks/detectors.py [--samples N]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import parse_config  # noqa: E402
from pipeline.detectors import DETECTORS, DetectorContext  # noqa: E402
from pipeline.records import SampleBatch  # noqa: E402
from tests.detector_examples import EXAMPLES, OPTIONAL_PACKAGES  # noqa: E402

MODEL_BASED = {"IsolationForest", "PCA", "Clustering", "RRCF", "TrendClassification", "GAN", "fb_Prophet"}

#: detectors timed a second time with the parameters of a shipped config: (label, config file)
FROM_CONFIGS = (("KNNConformal nab_best", "nab_best.json"),)


def config_detector(file_name: str) -> tuple[str, dict]:
    """The first detector of ``configuration/<file_name>``: its name and parameters."""
    path = ROOT / "configuration" / file_name
    detector = parse_config(json.loads(path.read_text()), path).detectors[0].detector
    return detector.name, detector.params


def stream(n: int):
    rng = np.random.default_rng(7)
    x = np.sin(np.arange(n) * 2 * np.pi / 200) + rng.normal(0, 0.2, n)
    x[rng.choice(n, n // 100, replace=False)] += 4
    return x


def run_ours(name: str, x: np.ndarray, context: DetectorContext, batch: int = 65536, repeat: int = 3,
             params: dict | None = None):
    """Best of ``repeat`` runs on fresh detectors (seconds), and the training time of the last;
    ``params`` default to the detector's example parameters."""
    ts = np.arange(len(x), dtype=float)
    best = np.inf
    for _ in range(repeat):
        detector = DETECTORS.resolve(name)(**(EXAMPLES[name][0] if params is None else params))
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
    """Best of ``repeat`` score-then-learn passes of GaussianScorer and HalfSpaceTrees (seconds),
    or None without river."""
    if importlib.util.find_spec("river") is None:
        return None
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
    baselines = run_river(x)
    train = (np.sin(np.arange(2000) * 2 * np.pi / 200) + np.random.default_rng(99).normal(0, 0.2, 2000))[:, None]
    with tempfile.TemporaryDirectory() as tmp:
        context = DetectorContext(name="bench", models_dir=Path(tmp), resolve_path=Path,
                                  training_vectors=lambda path: train)
        if baselines is None:
            print(f"{n:,} samples; river not installed (pip install -r benchmarks/requirements.txt): no ratios")
        else:
            print(f"{n:,} samples; river GaussianScorer {n / baselines[0]:,.0f}/s, "
                  f"HalfSpaceTrees {n / baselines[1]:,.0f}/s")
        print(f"{'detector':<22} {'samples/s':>13} {'vs baseline':>12} {'target':>7} {'train s':>8}")
        runs = [(name, name, None) for name in sorted(DETECTORS.names())]
        runs += [(label, *config_detector(file_name)) for label, file_name in FROM_CONFIGS]
        for label, name, params in runs:
            if params is None and name not in EXAMPLES:
                print(f"{label:<22} (no example parameters)")
                continue
            if name in OPTIONAL_PACKAGES and importlib.util.find_spec(OPTIONAL_PACKAGES[name]) is None:
                print(f"{label:<22} (optional package {OPTIONAL_PACKAGES[name]} not installed)")
                continue
            seconds, trained = run_ours(name, x, context, params=params)
            model = name in MODEL_BASED
            if baselines is None:
                print(f"{label:<22} {n / seconds:>13,.0f} {'-':>12} {'-':>7} {trained:>8.2f}")
                continue
            ratio = baselines[model] / seconds
            target = 1.0 if model else 10.0
            print(f"{label:<22} {n / seconds:>13,.0f} {ratio:>10,.1f}x "
                  f"{'HST' if model else 'Gauss'}{'' if ratio >= target else ' MISSED':>2} {trained:>8.2f}")


if __name__ == "__main__":
    main()
