#!/usr/bin/env python3
"""A flood of bad rows: peak memory, how fast they are dead-lettered, and how soon SIGTERM acts.

For CSV and JSON Lines files of N rows that are all bad (a value that is not a number), it runs
``main.py -c ... -f`` to the end and prints the rejected rows per second, as a ratio to the rate of
a file of N good rows in the same session, and the peak resident memory of the run; then runs it
again, sends SIGTERM after a few seconds and prints how long the process took to exit (target:
under 1 s, with every dead letter written).

    python benchmarks/bad_rows.py [--rows N] [--sigterm-after S]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_rows(path: Path, rows: int, fmt: str, bad: bool) -> None:
    value = (lambda i: f"x{i}") if bad else (lambda i: f"{i % 7}")
    with path.open("w") as f:
        if fmt == "csv":
            f.write("timestamp,value\n")
            block = lambda start: "".join(f"{i},{value(i)}\n" for i in range(start, start + 100_000))  # noqa: E731
        else:
            text = (lambda i: json.dumps(value(i))) if bad else value
            block = lambda start: "".join(f'{{"timestamp": {i}, "ftr_vector": [{text(i)}]}}\n'  # noqa: E731
                                          for i in range(start, start + 100_000))
        for start in range(0, rows, 100_000):
            f.write(block(start))


def run(config: Path, log_dir: Path, sigterm_after: float | None = None) -> dict:
    with open(log_dir.parent / "stderr.txt", "wb") as err:
        began = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "-c", str(config), "-f", "-q",
                                 "--log-dir", str(log_dir), "--summary-json", str(log_dir.parent / "s.json")],
                                stdout=subprocess.DEVNULL, stderr=err)
        signalled, peak_kb = None, 0
        while True:
            # VmHWM, not wait4's ru_maxrss: that one also counts this process's memory at the fork
            try:
                status_text = open(f"/proc/{proc.pid}/status").read()
                peak_kb = max(peak_kb, int(status_text.split("VmHWM:")[1].split()[0]))
            except (OSError, IndexError):
                pass
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            if sigterm_after is not None and signalled is None and time.monotonic() - began > sigterm_after:
                proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
            time.sleep(0.01)
        ended = time.monotonic()
    summary = json.loads((log_dir.parent / "s.json").read_text())
    return {"code": os.waitstatus_to_exitcode(status), "peak_mb": peak_kb / 1024,
            "wall_s": summary["wall_s"], "rows": summary["samples"] + summary["rejected"],
            "exit_s": None if signalled is None else ended - signalled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--sigterm-after", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"{args.rows:,} rows per file")
        print(f"{'format':7} {'good rows/s':>12} {'bad rows/s':>12} {'bad/good':>9} {'peak MB':>8} "
              f"{'SIGTERM exit s':>15}")
        for fmt in ("csv", "jsonl"):
            results = {}
            for bad in (False, True):
                data = tmp / f"{fmt}_{bad}.{fmt}"
                write_rows(data, args.rows, fmt, bad)
                config = tmp / f"{fmt}_{bad}.json"
                config.write_text(json.dumps({
                    "file_name": str(data), "anomaly_detection_alg": ["EMA()"],
                    "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 10, "LL": -1, "N": 3,
                                                "warning_stages": []}]}))
                results[bad] = run(config, tmp / f"log_{fmt}_{bad}")
                if bad:
                    results["term"] = run(config, tmp / f"log_{fmt}_term", args.sigterm_after)
                data.unlink()
            good_rate = results[False]["rows"] / results[False]["wall_s"]
            bad_rate = results[True]["rows"] / results[True]["wall_s"]
            print(f"{fmt:7} {good_rate:12,.0f} {bad_rate:12,.0f} {bad_rate / good_rate:9.3f} "
                  f"{results[True]['peak_mb']:8.0f} {results['term']['exit_s']:15.2f}")


if __name__ == "__main__":
    main()
