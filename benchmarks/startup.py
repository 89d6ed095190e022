#!/usr/bin/env python3
"""Start-up cost: wall time of fresh processes, median of several.

Prints, for each command, the median wall time of ``--repeat`` fresh processes and the number of
modules it loaded (from ``-X importtime``, run once more):
  * ``python main.py -h``                       (target: under 0.3 s)
  * ``python main.py -c default.json -f``       the README's first command (target: under 1.0 s)
  * ``python -c pass``                          the interpreter alone, as the baseline
and each one's ratio to the interpreter alone, so a noisy machine shows as a noisy baseline.
Outputs of the default run go to a scratch folder (``--log-dir``), never to ``log/``.

    python benchmarks/startup.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_times(argv: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def modules_loaded(argv: list[str]) -> int:
    """Modules imported by the command, counted from ``-X importtime`` (one line per module)."""
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=ROOT, check=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return sum(1 for line in result.stderr.splitlines() if line.startswith("import time:")) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per command (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "main.py -h": [sys.executable, "main.py", "-h"],
            "main.py -c default.json -f": [sys.executable, "main.py", "-c", "default.json", "-f", "-q",
                                           "--no-progress", "--log-dir", scratch],
        }
        baseline = None
        print(f"{'command':32} {'median s':>9} {'min s':>7} {'x python':>9} {'modules':>8}")
        for label, argv in commands.items():
            times = wall_times(argv, args.repeat)
            median = statistics.median(times)
            baseline = baseline or median
            print(f"{label:32} {median:9.3f} {min(times):7.3f} {median / baseline:9.1f} {modules_loaded(argv):8d}",
                  flush=True)


if __name__ == "__main__":
    main()
