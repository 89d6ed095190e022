#!/usr/bin/env python3
"""One detector over the whole NAB corpus in one process, scored by the shared NAB scorer.

A fresh detector per series, the series fed in engine-sized batches, the detector's ``score`` as
NAB's ``anomaly_score``; optionally passed through ``pipeline.score_likelihood.AnomalyLikelihood``
(a fresh one per series). The result files go to a temporary folder (or ``--out``) in NAB's
layout, and ``nab_score.py --threshold-sweep`` scores them (standard, reward_low_FP_rate,
reward_low_FN_rate). Prints the scorer's table and the wall time of the detector runs. An
exploration tool: nothing here is tuned per series.

    python benchmarks/nab_explore.py EMA_Percentile '{"percentile": 99.5, "window": 500, "start_on": 100, "period": 2}'
    python benchmarks/nab_explore.py RRCF '{"num_trees": 30, "tree_size": 512, "threshold": 38}' --likelihood '{}'
    python benchmarks/nab_explore.py Welford '{"X": 3.5, "N": 150}' --save-raw /tmp/welford.npz
    python benchmarks/nab_explore.py --load-raw /tmp/welford.npz --likelihood '{"short_window": 10}'
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.detectors import DETECTORS  # noqa: E402
from pipeline.records import SampleBatch  # noqa: E402
from pipeline.score_likelihood import AnomalyLikelihood  # noqa: E402

DEFAULT_NAB = ROOT.parent / "shared" / "nab"
ENGINE_BATCH = 65536  # pipeline.engine.Engine's default batch_size


def series_files(nab: Path) -> list[str]:
    """The corpus's data files, relative to ``data/`` (``<category>/<file>.csv``), in order."""
    windows = json.loads((nab / "labels" / "combined_windows.json").read_text())
    return sorted(windows)


def read_series(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(timestamp texts, epoch seconds, values) of one NAB data file."""
    with path.open() as fh:
        rows = list(csv.reader(fh))[1:]
    stamps = [r[0] for r in rows]
    seconds = np.array(stamps, dtype="datetime64[s]").astype(np.float64)
    return stamps, seconds, np.array([float(r[1]) for r in rows])


def run_series(task) -> tuple[str, np.ndarray, float]:
    """Raw scores of a fresh detector over one series, and the seconds it took."""
    nab, rel, name, params, batch_size = task
    _, seconds, values = read_series(nab / "data" / rel)
    detector = DETECTORS.resolve(name)(**params)
    start = time.perf_counter()
    scores = []
    for lo in range(0, len(values), batch_size):
        hi = min(lo + batch_size, len(values))
        batch = SampleBatch(seconds[lo:hi], seconds[lo:hi], values[lo:hi, None], np.arange(lo + 1, hi + 1))
        scores.append(detector.update(batch).score)
    return rel, np.concatenate(scores).astype(np.float64), time.perf_counter() - start


def write_results(nab: Path, out: Path, scores: dict[str, np.ndarray], prefix: str) -> None:
    """NAB-format result files: ``out/<category>/<prefix><file>.csv`` with timestamp, anomaly_score."""
    for rel, score in scores.items():
        category, file = rel.split("/")
        stamps, _, values = read_series(nab / "data" / rel)
        (out / category).mkdir(parents=True, exist_ok=True)
        with (out / category / f"{prefix}{file}").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["timestamp", "value", "anomaly_score"])
            w.writerows(zip(stamps, values.tolist(), np.round(score, 12).tolist()))


def score_results(nab: Path, out: Path, prefix: str) -> dict:
    """Run the shared scorer with the threshold sweep; returns its JSON document."""
    report = out / "nab_scores.json"
    subprocess.run([sys.executable, str(nab / "nab_score.py"), "--results", str(out), "--nab-root", str(nab),
                    "--prefix", prefix, "--threshold-sweep", "--json", str(report)], check=True)
    return json.loads(report.read_text())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("detector", nargs="?", help="registered detector name")
    ap.add_argument("params", nargs="?", default="{}", help="detector parameters as JSON")
    ap.add_argument("--likelihood", metavar="JSON", help="pass scores through AnomalyLikelihood(**JSON)")
    ap.add_argument("--batch-size", type=int, default=ENGINE_BATCH)
    ap.add_argument("--jobs", type=int, default=1, help="series run in parallel processes")
    ap.add_argument("--nab", type=Path, default=DEFAULT_NAB, help="NAB corpus folder")
    ap.add_argument("--out", type=Path, help="result folder (default: a temporary one)")
    ap.add_argument("--save-raw", type=Path, help="save the raw scores (.npz) for --load-raw")
    ap.add_argument("--load-raw", type=Path, help="score saved raw scores instead of running a detector")
    args = ap.parse_args(argv)

    files = series_files(args.nab)
    if args.load_raw:
        saved = np.load(args.load_raw)
        raw = {rel: saved[rel] for rel in files}
        print(f"raw scores from {args.load_raw}")
    else:
        if not args.detector:
            ap.error("name a detector or give --load-raw")
        params = json.loads(args.params)
        tasks = [(args.nab, rel, args.detector, params, args.batch_size) for rel in files]
        wall = time.perf_counter()
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                done = list(pool.map(run_series, tasks))
        else:
            done = [run_series(t) for t in tasks]
        wall = time.perf_counter() - wall
        raw = {rel: score for rel, score, _ in done}
        inside = sum(s for _, _, s in done)
        n = sum(len(s) for s in raw.values())
        print(f"{args.detector} {json.dumps(params)}: {len(files)} series, {n} samples, wall {wall:.1f} s "
              f"({args.jobs} process(es)), in update() {inside:.1f} s = {inside / n * 1e6:.2f} us/sample")
        if args.save_raw:
            np.savez_compressed(args.save_raw, **raw)
    scores = raw
    if args.likelihood is not None:
        lk = json.loads(args.likelihood)
        start = time.perf_counter()
        scores = {rel: AnomalyLikelihood(**lk)(s) for rel, s in raw.items()}
        print(f"AnomalyLikelihood {json.dumps(lk)}: {time.perf_counter() - start:.2f} s")
    for rel, s in scores.items():
        if len(s) and not (np.all(np.isfinite(s)) and s.min() >= 0 and s.max() <= 1):
            raise SystemExit(f"{rel}: scores outside [0, 1] or not finite")
    prefix = "explore_"
    with tempfile.TemporaryDirectory(prefix="nab_explore_") as tmp:
        out = args.out or Path(tmp)
        write_results(args.nab, out, scores, prefix)
        doc = score_results(args.nab, out, prefix)
    print("summary " + " / ".join(f"{p}: {r['score']:.2f}" for p, r in doc["profiles"].items()))


if __name__ == "__main__":
    main()
