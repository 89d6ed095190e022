#!/usr/bin/env python3
"""Headless throughput of BorderCheck, EMA and Welford on a 1,000,000-sample CSV.

For each detector it prints
  * run: samples/s of a whole headless run (CSV parse + detection + CSV output of the anomalies
    with send_ok false), through the same RunSetup/Engine the CLI uses;
  * detect: samples/s of the detector alone on the parsed values, in engine-sized batches;
  * loop: samples/s of a plain per-sample Python loop of the same detector (tests/reference_loops)
    on the same values, and the ratio detect/loop.
Everything runs in this process, one after the other, so the ratios are robust to a noisy machine.

    python benchmarks/throughput.py [--samples N] [--repeat R]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import parse_config  # noqa: E402
from pipeline.records import SampleBatch  # noqa: E402
from pipeline.run import RunSetup  # noqa: E402
from tests import reference_loops  # noqa: E402

DETECTORS = {
    "BorderCheck": ({"UL": 3.0, "LL": -3.0, "warning_stages": [0.9]}, reference_loops.border_check_loop),
    "EMA": ({"UL": 2.0, "LL": -2.0, "N": 5, "warning_stages": [0.9]}, reference_loops.ema_loop),
    "Welford": ({"X": 4.0, "N": 30, "warning_stages": []}, reference_loops.welford_loop),
}


def make_csv(path: Path, n: int) -> np.ndarray:
    rng = np.random.default_rng(42)
    x = np.sin(np.arange(n) * 2 * np.pi / 500) + rng.normal(0, 0.2, n)
    x[rng.choice(n, n // 1000, replace=False)] += rng.choice([-5, 5], n // 1000)
    with path.open("w") as f:
        f.write("timestamp,value\n")
        np.savetxt(f, np.column_stack([1_700_000_000 + np.arange(n) * 60, x]), fmt=["%d", "%.6f"], delimiter=",")
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1)


def headless_run(name: str, params: dict, data: Path, log_dir: Path) -> tuple[float, int]:
    conf = {"input_vector_size": 1, **params, "output": ["FileOutput()"],
            "output_conf": [{"file_name": f"{name}.csv", "send_ok": False}]}
    config = parse_config({"file_name": str(data), "anomaly_detection_alg": [name],
                           "anomaly_detection_conf": [conf]}, log_dir / "bench.json")
    start = time.perf_counter()
    with RunSetup(config, log_dir) as setup:
        stats = setup.engine().run()
    return time.perf_counter() - start, stats.samples


def detect_only(name: str, params: dict, x: np.ndarray, batch: int = 65536) -> float:
    from pipeline.detectors import DETECTORS as REGISTRY
    detector = REGISTRY.resolve(name)(**params)
    ts = np.arange(len(x), dtype=float)
    batches = [SampleBatch(ts[i:i + batch], ts[i:i + batch], x[i:i + batch, None], np.arange(i, min(i + batch, len(x))))
               for i in range(0, len(x), batch)]
    start = time.perf_counter()
    for b in batches:
        detector.update(b)
    return time.perf_counter() - start


def best_of(repeat, fn, *args):
    return min(fn(*args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R for the fast paths")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "bench.csv"
        x = make_csv(data, args.samples)
        print(f"{args.samples:,} samples, CSV {data.stat().st_size / 1e6:.1f} MB")
        print(f"{'detector':<12} {'run/s':>12} {'detect/s':>12} {'loop/s':>10} {'detect/loop':>12}")
        for name, (params, loop) in DETECTORS.items():
            run_s = min(headless_run(name, params, data, tmp)[0] for _ in range(args.repeat))
            detect_s = best_of(args.repeat, detect_only, name, params, x)
            values = x.tolist()
            start = time.perf_counter()
            loop(values, **params)
            loop_s = time.perf_counter() - start
            n = args.samples
            print(f"{name:<12} {n / run_s:>12,.0f} {n / detect_s:>12,.0f} {n / loop_s:>10,.0f} "
                  f"{loop_s / detect_s:>11,.1f}x")


if __name__ == "__main__":
    main()
