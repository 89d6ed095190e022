#!/usr/bin/env python3
"""Every shipped config on both labelled corpora: the README's table of detectors.

For each config in configuration/ it runs ``python main.py --benchmark nab --corpus NAB -c CONFIG``
and ``--benchmark ads --corpus ADS``, each in a fresh process (one parameter set per detector, the
config's; nothing tuned per series; NAB's threshold swept over the whole corpus per profile), and
prints one markdown row per detector: the three NAB profiles, windows found, the mean F1 over the
nine ADS sets (a detection is a warning or an error) and the wall time of each benchmark process.

    python benchmarks/corpora.py [--nab ../shared/nab] [--ads ../shared/ads] [--configs a.json b.json]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def benchmark(kind: str, corpus: Path, config: str, out: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "main.py", "--benchmark", kind, "--corpus", str(corpus), "-c", config,
                    "--eval-out", str(out), "--no-progress", "-q"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads((out / "evaluation.json").read_text()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nab", type=Path, default=ROOT.parent / "shared" / "nab")
    parser.add_argument("--ads", type=Path, default=ROOT.parent / "shared" / "ads")
    parser.add_argument("--configs", nargs="*", help="config names (default: every one in configuration/)")
    args = parser.parse_args()
    configs = args.configs or sorted(p.name for p in (ROOT / "configuration").glob("*.json"))
    print("| config | detector | NAB standard | low FP | low FN | windows found | ADS mean F1 | NAB s | ADS s |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for config in configs:
            nab, nab_s = benchmark("nab", args.nab, config, Path(scratch) / f"{config}.nab")
            ads, ads_s = benchmark("ads", args.ads, config, Path(scratch) / f"{config}.ads")
            for on_nab, on_ads in zip(nab["detectors"], ads["detectors"]):
                profiles = on_nab["nab"]
                standard = profiles["standard"]
                low_fp, low_fn = profiles["reward_low_FP_rate"]["score"], profiles["reward_low_FN_rate"]["score"]
                print(f"| {config} | {on_nab['detector'].split(': ', 1)[1]} | {standard['score']:.2f} "
                      f"| {low_fp:.2f} | {low_fn:.2f} "
                      f"| {standard['windows_found']}/{standard['windows']} | {on_ads['mean_f1']:.3f} "
                      f"| {nab_s:.1f} | {ads_s:.1f} |", flush=True)


if __name__ == "__main__":
    main()
