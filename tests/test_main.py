"""The command line, end to end in a subprocess, as an operator or a cron job uses it."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import ROOT, run_cli, write_config


def test_help_explains_every_flag_and_the_no_flag_case():
    result = run_cli("-h")
    assert result.returncode == 0
    for flag in ("-c CONFIG, --config CONFIG", "-f, --file", "--gui", "-fk, --filekafka", "--log-dir",
                 "--summary-json", "With no flags the desktop window opens", "exit status", "--labels FILE",
                 "--eval-out PATH", "--benchmark {nab,ads}", "--corpus DIR"):
        assert flag in result.stdout


def test_default_config_runs_headless_and_summarises(tmp_path):
    summary = tmp_path / "summary.json"
    result = run_cli("-c", "default.json", "-f", "--log-dir", tmp_path, "--summary-json", summary)
    assert result.returncode == 0, result.stderr
    report = json.loads(summary.read_text())
    assert report["outcome"] == "finished" and report["samples"] == 31416 and report["rejected"] == 0
    welford = report["detectors"][0]
    assert welford["detector"] == "0: Welford" and welford["undefined"] == 30
    assert sum(welford[k] for k in ("ok", "warning", "error", "undefined")) == 31416
    assert "Run finished: 31,416 samples" in result.stderr
    rows = list(csv.DictReader((tmp_path / "default_welford.csv").open()))
    assert len(rows) == welford["error"] + welford["warning"] + welford["undefined"]


def test_progress_line_shows_samples_rate_and_anomalies(tmp_path):
    result = run_cli("-c", "default.json", "-f", "--log-dir", tmp_path, "--progress", "--batch-size", "4096")
    assert result.returncode == 0, result.stderr
    assert "31,416 samples" in result.stderr and "/s" in result.stderr and "229 anomalies" in result.stderr


def test_config_paths_work_from_any_folder(tmp_path):
    result = run_cli("-c", "default", "-f", "--log-dir", tmp_path / "log", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_config_error_exits_2_with_one_line_naming_the_key(tmp_path):
    config = write_config(tmp_path / "bad.json", {
        "file_name": str(ROOT / "resources/data/ads-1.csv"), "anomaly_detection_alg": ["BorderCheck()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "UL": "4a", "LL": 0}]})
    result = run_cli("-c", config, "-f", "--log-dir", tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == \
        'error: anomaly_detection_conf[0].UL: expected a number, got "4a"'
    assert not list(tmp_path.glob("*.csv"))


def test_missing_config_is_a_clear_error():
    result = run_cli("-c", "does_not_exist.json", "-f")
    assert result.returncode == 2
    assert "error: config 'does_not_exist.json' not found" in result.stderr


def test_kafka_mode_without_topics_says_which_key_is_missing():
    result = run_cli("-c", "default.json")
    assert result.returncode == 2
    assert "error: topics: required to read Kafka (run without -f), but the config has none" in result.stderr


def test_bad_rows_are_counted_dead_lettered_and_the_run_succeeds(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("timestamp,value\n1,0.5\n2,abc\n3,0.7\n\n5,1e9\n")
    config = write_config(tmp_path / "c.json", {
        "file_name": str(data), "anomaly_detection_alg": ["BorderCheck()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0, "warning_stages": [],
                                    "output": ["FileOutput()"], "output_conf": [{"file_name": "out.jsonl"}]}]})
    result = run_cli("-c", config, "-f", "--log-dir", tmp_path / "log", "--summary-json", tmp_path / "s.json")
    assert result.returncode == 0, result.stderr
    assert "rejected in.csv line 3: value: not a number: 'abc'" in result.stderr
    assert json.loads((tmp_path / "s.json").read_text())["rejected"] == 2
    dead = [json.loads(line) for line in (tmp_path / "log" / "c.dead_letter.jsonl").read_text().splitlines()]
    assert [(d["position"], d["reason"], d["raw"]) for d in dead] == [
        (3, "value: not a number: 'abc'", "2,abc"), (5, "empty line", "")]
    out = [json.loads(line) for line in (tmp_path / "log" / "out.jsonl").read_text().splitlines()]
    assert [(r["timestamp"], r["status_code"]) for r in out] == [(1, 1), (3, 1), (5, -1)]


def test_an_input_that_is_not_its_format_is_refused_with_one_line_before_anything_starts(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("time,value\n1,2\n")
    config = write_config(tmp_path / "c.json", {
        "file_name": str(data), "anomaly_detection_alg": ["EMA()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0, "N": 3}]})
    result = run_cli("-c", config, "-f", "--log-dir", tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "no 'timestamp' column" in result.stderr


@pytest.fixture(scope="module")
def long_input(tmp_path_factory):
    """A CSV long enough that writing every record takes several seconds."""
    path = tmp_path_factory.mktemp("long") / "long.csv"
    n = 1_500_000
    x = np.sin(np.arange(n) / 50) + np.random.default_rng(0).normal(0, 0.2, n)
    with path.open("w") as f:
        f.write("timestamp,value\n")
        np.savetxt(f, np.column_stack([np.arange(n), x]), fmt=["%d", "%.5f"], delimiter=",")
    return path, n


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_flushes_complete_parseable_files(tmp_path, long_input, sig, code):
    data, n = long_input
    outputs = ["all.csv", "all.json", "all.jsonl", "all.txt"]
    config = write_config(tmp_path / "c.json", {
        "file_name": str(data), "anomaly_detection_alg": ["Welford()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "X": 3, "N": 20,
                                    "output": ["FileOutput()"] * 4,
                                    "output_conf": [{"file_name": name} for name in outputs]}]})
    log = tmp_path / "log"
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "-c", str(config), "-f", "--log-dir", str(log),
                             "--batch-size", "20000", "--summary-json", str(tmp_path / "s.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ((log / "all.jsonl").exists() and (log / "all.jsonl").stat().st_size > 0):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["outcome"] == "interrupted" and 0 < summary["samples"] < n

    # every format holds exactly the results of the samples processed, in order, from the first
    processed = summary["samples"]
    expected = list(range(processed))
    assert [int(float(r["timestamp"])) for r in csv.DictReader((log / "all.csv").open())] == expected
    assert [int(r["timestamp"]) for r in json.loads((log / "all.json").read_text())["data"]] == expected
    assert [int(json.loads(line)["timestamp"]) for line in (log / "all.jsonl").open()] == expected
    assert len((log / "all.txt").read_text().splitlines()) == processed
