"""The end-of-run summary: samples, per-detector status counts, rejected rows, time and rate."""
from __future__ import annotations

from typing import Sequence

from pipeline.engine import DetectorRun, RunStats


def summary_dict(stats: RunStats, runs: Sequence[DetectorRun], outcome: str,
                 dead_letter: str | None = None, error: str | None = None) -> dict:
    """The summary as plain data (``--summary-json``)."""
    return {
        "outcome": outcome,
        "error": error,
        "samples": stats.samples,
        "rejected": stats.rejected,
        "dead_letter": dead_letter if stats.rejected else None,
        "wall_s": round(stats.wall_s, 6),
        "samples_per_s": round(stats.rate, 1),
        "detectors": [
            {"index": run.index, "detector": run.label, **run.tally.named(), "filtered": run.filtered}
            for run in runs],
    }


def summary_text(summary: dict) -> str:
    """A few aligned lines for humans."""
    lines = [
        f"Run {summary['outcome']}: {summary['samples']:,} samples in {summary['wall_s']:.2f} s "
        f"({summary['samples_per_s']:,.0f} samples/s), {summary['rejected']:,} rejected input records",
    ]
    rows = [("detector", "OK", "warning", "error", "undefined", "filtered")]
    rows += [(d["detector"], *(f"{d[k]:,}" for k in ("ok", "warning", "error", "undefined", "filtered")))
             for d in summary["detectors"]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                                      for i, (cell, w) in enumerate(zip(row, widths))))
    if summary["dead_letter"]:
        lines.append(f"  rejected records: {summary['dead_letter']}")
    return "\n".join(lines)
