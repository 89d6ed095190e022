"""The end-of-run summary: samples, per-detector status counts, rejected rows, time and rate, and
for labelled input the evaluation of each detector."""
from __future__ import annotations

from typing import Sequence

from pipeline.engine import DetectorRun, RunStats
from pipeline.evaluation import DETECTION


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
    lines += aligned_rows(rows)
    if summary["dead_letter"]:
        lines.append(f"  rejected records: {summary['dead_letter']}")
    if summary.get("evaluation"):
        lines += evaluation_text(summary["evaluation"])
    return "\n".join(lines)


def aligned_rows(rows: list[tuple[str, ...]]) -> list[str]:
    """Table rows as indented lines: the first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows]


def evaluation_document(detectors: list[dict], labels: str) -> dict:
    """The evaluation part of the summary (and the whole of ``--eval-out``)."""
    return {"labels": labels, "detection": DETECTION, "detectors": detectors}


def number(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def evaluation_text(evaluation: dict) -> list[str]:
    """The evaluation as aligned lines: sample and event precision/recall/F1, false alarms, delay,
    the NAB score (standard profile) when the labels are windows."""
    nab = any(d["nab"] for d in evaluation["detectors"])
    lines = [f"Evaluation against {evaluation['labels']} (a detection is a {evaluation['detection']}):",
             "  P/R/F1 by sample, then by event; FA/1k: false alarms per 1,000 samples; delay: mean samples from "
             "an event's start to its first detection" + ("; NAB: standard profile, threshold swept" if nab else "")]
    rows = [("detector", "P", "R", "F1", "events", "found", "event P", "event R", "event F1", "FA/1k", "delay")
            + (("NAB",) if nab else ())]
    for d in evaluation["detectors"]:
        s, e = d["sample"], d["event"]
        row = (d["detector"], number(s["precision"]), number(s["recall"]), number(s["f1"]), f"{e['events']:,}",
               f"{e['found']:,}", number(e["precision"]), number(e["recall"]), number(e["f1"]),
               number(d["false_alarms_per_1000"], 2), number(d["mean_delay_samples"], 1))
        if nab:
            standard = (d["nab"] or {}).get("standard") or {}
            row += (number(standard.get("score"), 2),)
        rows.append(row)
    return lines + aligned_rows(rows)
