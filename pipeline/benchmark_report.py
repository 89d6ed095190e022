"""What a benchmark shows and writes: the scores beside the published scoreboard, and NAB-format
result files (``<out>/<detector>/<category>/<detector>_<file>.csv`` with ``timestamp, value,
anomaly_score, label``, the layout NAB's own scorer reads; ``label`` is the ground truth)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.evaluation import DETECTION, DetectorInfo, EvaluationCollector
from pipeline.evaluation.evaluate import judged_series
from pipeline.summary import aligned_rows, number

#: The original project's published F1 on ads-1 (its tuned detectors; errors as detections, by sample).
ADS_PUBLISHED = {"Welford": 0.814, "BorderCheck": 0.634, "LinearFit": 0.582, "RRCF": 0.477}
NAB_PROFILES = (("standard", "standard"), ("reward_low_FP_rate", "low FP"), ("reward_low_FN_rate", "low FN"))


def heading(report: dict, config_name: str) -> str:
    rate = report["samples"] / report["wall_s"] if report["wall_s"] else 0.0
    return (f"{report['benchmark'].upper()} benchmark of {config_name} ({report['outcome']}): "
            f"{report['series']} series, "
            f"{report['samples']:,} samples in {report['wall_s']:.1f} s ({rate:,.0f} samples/s), "
            f"{report['rejected']:,} rejected rows")


def nab_text(report: dict, config_name: str) -> list[str]:
    lines = [heading(report, config_name),
             "  NAB scores (0 null detector, 100 perfect; one threshold per profile swept over the whole corpus); "
             "ours marked >, the rest published (results/final_results.json)"]
    entries = []
    for d in report["detectors"]:
        nab = d["nab"] or {}
        scores = [(nab.get(key) or {}).get("score") for key, _ in NAB_PROFILES]
        standard = nab.get("standard") or {}
        found = f"{standard.get('windows_found', 0)}/{standard.get('windows', 0)}" if standard else "-"
        entries.append((f"> {config_name} {d['detector']}", scores, found, d["event"]["f1"]))
    for name, scores in (report.get("published") or {}).items():
        entries.append((f"  {name}", [scores.get(key) for key, _ in NAB_PROFILES], "", None))
    entries.sort(key=lambda e: -(e[1][0] if e[1][0] is not None else -1e9))
    rows = [("detector", *(label for _, label in NAB_PROFILES), "windows found", "event F1 (status)")]
    rows += [(name, *(number(s, 2) for s in scores), found, number(f1) if name.startswith(">") else "")
             for name, scores, found, f1 in entries]
    return lines + aligned_rows(rows)


def ads_text(report: dict, config_name: str) -> list[str]:
    sets = list(report["detectors"][0]["per_set"]) if report["detectors"] else []
    lines = [heading(report, config_name),
             f"  F1 by sample on each ADS set (a detection is a {DETECTION}) and their mean"]
    rows = [("detector", *(name.removesuffix(".csv") for name in sets), "mean")]
    rows += [(d["detector"], *(number(d["per_set"][name]["f1"]) for name in sets), number(d["mean_f1"]))
             for d in report["detectors"]]
    published = ", ".join(f"{name} {f1:.3f}" for name, f1 in ADS_PUBLISHED.items())
    return lines + aligned_rows(rows) + [f"  published, the original's tuned detectors on ads-1 only: {published}"]


def benchmark_text(report: dict, config_name: str) -> str:
    if not report["detectors"]:
        return heading(report, config_name) + "\n  nothing was evaluated"
    return "\n".join(nab_text(report, config_name) if report["benchmark"] == "nab" else ads_text(report, config_name))


def detector_folder_name(config_name: str, info: DetectorInfo) -> str:
    """A NAB detector name: config, index and algorithm (``default-0-welford``)."""
    algorithm = info.label.split(":", 1)[-1]
    return re.sub(r"[^A-Za-z0-9-]+", "", f"{config_name}-{info.index}-{algorithm.strip()}".replace(" ", "-")).lower()


def nab_timestamps(time_s: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD hh:mm:ss`` texts (UTC), as NAB's data files write them."""
    micros = np.round(time_s * 1e6).astype("datetime64[us]")
    return np.char.replace(np.datetime_as_string(micros, unit="s"), "T", " ")


def write_nab_results(out_dir: Path, config_name: str, collector: EvaluationCollector,
                      detectors: Sequence[DetectorInfo], windows: Mapping[str, np.ndarray],
                      skip: Collection[str] = ()) -> list[Path]:
    """One NAB result file per detector and series (scores aligned by the detector's delay), except
    for the series in ``skip`` (rows were rejected: the file's rows would not line up)."""
    folders = []
    for info in detectors:
        name = detector_folder_name(config_name, info)
        folder = Path(out_dir) / name
        for judged in judged_series(collector, info, windows):
            if judged.name in skip:
                continue
            category, file_name = Path(judged.name).parent, Path(judged.name).name
            path = folder / category / f"{name}_{file_name}"
            path.parent.mkdir(parents=True, exist_ok=True)
            values = judged.values if judged.values is not None else np.full(len(judged.score), np.nan)
            pd.DataFrame({"timestamp": nab_timestamps(judged.time_s), "value": values,
                          "anomaly_score": judged.score, "label": judged.labels.astype(np.int8)}
                         ).to_csv(path, index=False)
        folders.append(folder)
    return folders
