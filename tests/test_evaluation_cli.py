"""Evaluation on labelled data from the command line: the summary, --summary-json, --eval-out and
--labels, as a user runs them."""
from __future__ import annotations

import json

import numpy as np

from tests.conftest import ROOT, run_cli, write_config


def welford_config(tmp_path, data) -> str:
    return write_config(tmp_path / "welford.json", {
        "file_name": str(data), "anomaly_detection_alg": ["Welford()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "N": 30, "X": 4, "warning_stages": [],
                                    "output": [], "output_conf": []}]})


def test_the_default_run_on_labelled_data_reports_welfords_f1_of_the_original(tmp_path):
    summary, evaluation = tmp_path / "summary.json", tmp_path / "evaluation.json"
    result = run_cli("-c", "default.json", "-f", "--log-dir", tmp_path, "--summary-json", summary,
                     "--eval-out", evaluation)
    assert result.returncode == 0, result.stderr
    assert "Evaluation against the input's label column (a detection is a warning or error)" in result.stderr
    written = json.loads(evaluation.read_text())
    assert json.loads(summary.read_text())["evaluation"] == written
    welford = written["detectors"][0]
    assert welford["detector"] == "0: Welford" and welford["labelled_samples"] == 277
    assert round(welford["sample"]["f1"], 3) == 0.814  # the original's published figure on ads-1
    assert welford["nab"] is None
    assert "0: Welford  0.914  0.733  0.814" in result.stderr


def test_an_unlabelled_run_prints_and_writes_no_evaluation(tmp_path):
    data = tmp_path / "plain.csv"
    data.write_text("timestamp,value\n" + "".join(f"{i},{np.sin(i / 5):.4f}\n" for i in range(200)))
    summary = tmp_path / "summary.json"
    result = run_cli("-c", welford_config(tmp_path, data), "-f", "--log-dir", tmp_path, "--summary-json", summary)
    assert result.returncode == 0, result.stderr
    assert "Evaluation" not in result.stderr and "evaluation" not in json.loads(summary.read_text())


def test_windows_given_with_labels_are_matched_by_file_name_and_nab_scored(tmp_path):
    values = np.zeros(400)
    values[300] = 50.0
    data = tmp_path / "corpus" / "spiky.csv"
    data.parent.mkdir()
    data.write_text("timestamp,value\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)))
    windows = tmp_path / "windows.json"
    windows.write_text(json.dumps({"corpus/spiky.csv": [[290, 320]], "other.csv": [[1, 2]]}))
    evaluation = tmp_path / "evaluation.json"
    result = run_cli("-c", welford_config(tmp_path, data), "-f", "--log-dir", tmp_path, "--labels", windows,
                     "--eval-out", evaluation)
    assert result.returncode == 0, result.stderr
    (welford,) = json.loads(evaluation.read_text())["detectors"]
    assert welford["event"] == {"events": 1, "found": 1, "missed": 0, "false_alarm_events": 0, "precision": 1.0,
                                "recall": 1.0, "f1": 1.0}
    assert welford["mean_delay_samples"] == 10.0 and welford["labelled_samples"] == 31
    assert 0 < welford["nab"]["standard"]["score"] <= 100
    assert "NAB: standard profile, threshold swept" in result.stderr


def test_labels_without_an_entry_for_the_input_are_a_usage_error(tmp_path):
    windows = tmp_path / "windows.json"
    windows.write_text(json.dumps({"nyc_taxi.csv": []}))
    result = run_cli("-c", "default.json", "-f", "--log-dir", tmp_path, "--labels", windows)
    assert result.returncode == 2
    assert "no entry for the input" in result.stderr and "ads-1.csv" in result.stderr
    assert not (tmp_path / "default_welford.csv").exists()


def test_labels_need_a_file_run(tmp_path):
    result = run_cli("-c", "default.json", "--labels", ROOT / "pyproject.toml")
    assert result.returncode == 2 and "--labels needs a file run" in result.stderr
