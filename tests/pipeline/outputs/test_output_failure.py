"""When one output fails mid-run (a reader closed the pipe, the disk is full), the run ends with
an error naming it, and the summary counts what every working output holds."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, write_config

DATA = ROOT / "resources" / "data" / "ads-1.csv"


def two_detector_config(tmp_path, second_outputs):
    return write_config(tmp_path / "run.json", {
        "file_name": str(DATA),
        "anomaly_detection_alg": ["Welford()", "EMA()"],
        "anomaly_detection_conf": [
            {"input_vector_size": 1, "N": 30, "X": 4, "warning_stages": [],
             "output": ["FileOutput()"], "output_conf": [{"file_name": "welford.csv"}]},
            {"input_vector_size": 1, "N": 3, "UL": 5.0, "LL": -3.0, "warning_stages": [0.8, 0.9],
             "output": [name for name, _ in second_outputs], "output_conf": [conf for _, conf in second_outputs]},
        ]})


def rows(path):
    return len(path.read_text().splitlines()) - 1  # minus the header


def check_counts(tmp_path, summary):
    assert summary["outcome"] == "failed"
    assert rows(tmp_path / "log" / "welford.csv") == summary["samples"]
    assert rows(tmp_path / "log" / "ema.csv") == summary["samples"]
    for detector in summary["detectors"]:
        assert sum(detector[k] for k in ("ok", "warning", "error", "undefined", "filtered")) == summary["samples"]


def test_when_the_terminal_reader_goes_away_the_summary_counts_what_the_files_hold(tmp_path):
    config = two_detector_config(tmp_path, [("FileOutput()", {"file_name": "ema.csv"}), ("TerminalOutput()", {})])
    summary = tmp_path / "summary.json"
    run = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "-c", str(config), "-f", "-q",
                            "--log-dir", str(tmp_path / "log"), "--batch-size", "1000", "--summary-json", str(summary)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    run.stdout.readline()
    run.stdout.close()  # like `| head -1`
    stderr = run.communicate(timeout=120)[1].decode()
    assert run.returncode == 1 and "Broken pipe" in stderr
    check_counts(tmp_path, json.loads(summary.read_text()))


def test_when_the_disk_fills_up_the_error_names_the_file_and_the_summary_counts_what_the_files_hold(tmp_path):
    full = tmp_path / "full.jsonl"
    full.symlink_to("/dev/full")  # a real device: every write fails with ENOSPC
    config = two_detector_config(tmp_path, [("FileOutput()", {"file_name": str(full)}),
                                            ("FileOutput()", {"file_name": "ema.csv"})])
    summary = tmp_path / "summary.json"
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "-c", str(config), "-f", "-q",
                          "--log-dir", str(tmp_path / "log"), "--summary-json", str(summary)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 1
    assert "No space left on device" in run.stderr and str(full) in run.stderr
    result = json.loads(summary.read_text())
    assert result["samples"] == 31416
    check_counts(tmp_path, result)
