"""Whole runs fed bad input, as an unattended service meets it: a flood of bad rows keeps memory
bounded and still stops on SIGTERM with every dead letter written; dead letters of earlier runs
are never deleted; a second Ctrl+C ends at once with 130 (not a signal death)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_cli, write_config

#: What a bad-row flood may take, for the whole process (the product's imports alone are ~140 MB).
MAX_RSS_MB = 400


def bad_rows_file(path, rows: int):
    """``rows`` rows whose value is not a number (every one a dead letter)."""
    block = "".join(f"{i},x{i}\n" for i in range(100_000))
    with path.open("w") as f:
        f.write("timestamp,value\n")
        for _ in range(rows // 100_000):
            f.write(block)
    return path


def ema_config(tmp_path, data) -> object:
    return write_config(tmp_path / "flood.json", {
        "file_name": str(data), "anomaly_detection_alg": ["EMA()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0, "N": 3, "warning_stages": [],
                                    "output": ["FileOutput()"], "output_conf": [{"file_name": "out.csv"}]}]})


class Run:
    """``main.py -c CONFIG -f`` in the background, its stderr in a file; its peak memory is read
    from ``/proc/<pid>/status`` (VmHWM) while it runs, since the rusage of a child also counts the
    parent's memory at the fork."""

    def __init__(self, config, tmp_path):
        self.stderr_path = tmp_path / "stderr.txt"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), "-c", str(config), "-f", "--log-dir", str(tmp_path / "log"),
                 "-q", "--summary-json", str(tmp_path / "summary.json")],
                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.peak_mb = 0.0

    def _sample_memory(self) -> None:
        try:
            status = open(f"/proc/{self.proc.pid}/status").read()
        except OSError:
            return
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)

    def running(self) -> bool:
        self._sample_memory()
        return os.waitpid(self.proc.pid, os.WNOHANG) == (0, 0)

    def end(self, timeout: float = 900) -> tuple[int, str, float]:
        """(exit status, stderr, peak resident memory in MB) once the run has ended."""
        deadline = time.monotonic() + timeout
        while True:
            self._sample_memory()
            pid, status = os.waitpid(self.proc.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return self.proc.returncode, self.stderr_path.read_text(), self.peak_mb
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.02)


def wait_for_dead_letters(path, run: Run, at_least: int) -> None:
    deadline = time.monotonic() + 120
    while not (path.exists() and path.stat().st_size > at_least * 40):
        assert run.running() and time.monotonic() < deadline, run.end(1)
        time.sleep(0.05)


def test_a_flood_of_bad_rows_keeps_memory_bounded_and_sigterm_writes_every_dead_letter(tmp_path):
    rows = 2_000_000
    data = bad_rows_file(tmp_path / "bad.csv", rows)
    run = Run(ema_config(tmp_path, data), tmp_path)
    dead = tmp_path / "log" / "flood.dead_letter.jsonl"
    wait_for_dead_letters(dead, run, rows // 4)
    run.proc.send_signal(signal.SIGTERM)
    code, stderr, peak_mb = run.end(60)
    assert code == 143, stderr
    assert "Traceback" not in stderr and peak_mb < MAX_RSS_MB
    summary = json.loads((tmp_path / "summary.json").read_text())
    letters = dead.read_text().splitlines()
    # every rejection counted was written before the exit, none twice
    assert summary["rejected"] == len(letters) and 0 < summary["rejected"] < rows
    assert [json.loads(line)["position"] for line in letters] == list(range(2, 2 + len(letters)))


@pytest.mark.slow
def test_ten_million_bad_rows_stay_under_400_mb(tmp_path):
    data = bad_rows_file(tmp_path / "bad.csv", 10_000_000)
    code, stderr, peak_mb = Run(ema_config(tmp_path, data), tmp_path).end()
    assert code == 0 and "10,000,000 rejected input records" in stderr
    assert peak_mb < MAX_RSS_MB


def test_dead_letters_of_earlier_runs_are_kept_and_each_line_names_its_run(tmp_path):
    data = tmp_path / "in.csv"
    config = ema_config(tmp_path, data)
    runs = []
    for bad in ("x", "y"):
        data.write_text(f"timestamp,value\n1,0.5\n2,{bad}\n")
        result = run_cli("-c", config, "-f", "--log-dir", tmp_path / "log")
        assert result.returncode == 0, result.stderr
        runs.append(result.stderr)
    letters = [json.loads(line) for line in (tmp_path / "log" / "flood.dead_letter.jsonl").read_text().splitlines()]
    assert [r["raw"] for r in letters] == ["2,x", "2,y"]
    assert letters[0]["run"] != letters[1]["run"]
    assert f"(run {letters[0]['run']})" in runs[0] and f"(run {letters[1]['run']})" in runs[1]


def test_a_second_ctrl_c_while_stopping_exits_130_at_once(tmp_path):
    data = bad_rows_file(tmp_path / "bad.csv", 1_000_000)
    run = Run(ema_config(tmp_path, data), tmp_path)
    wait_for_dead_letters(tmp_path / "log" / "flood.dead_letter.jsonl", run, 1000)
    run.proc.send_signal(signal.SIGINT)
    run.proc.send_signal(signal.SIGINT)
    code, stderr, _ = run.end(60)
    assert code == 130, stderr   # not -2 (killed by the signal) and no KeyboardInterrupt
    assert "Traceback" not in stderr


def test_an_output_naming_the_input_file_is_refused_before_the_input_is_touched(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("timestamp,value\n1,0.5\n2,0.7\n")
    config = write_config(tmp_path / "c.json", {
        "file_name": str(data), "anomaly_detection_alg": ["EMA()", "EMA()"],
        "anomaly_detection_conf": [
            {"input_vector_size": 1, "UL": 1, "LL": 0, "N": 3, "output": ["FileOutput()"],
             "output_conf": [{"file_name": str(data)}]},
            {"input_vector_size": 1, "UL": 1, "LL": 0, "N": 3, "output": ["FileOutput()", "FileOutput()"],
             "output_conf": [{"file_name": "same.json"}, {"file_name": "./same.json"}]}]})
    result = run_cli("-c", config, "-f", "--log-dir", tmp_path / "log")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "anomaly_detection_conf[0].output_conf[0].file_name" in result.stderr
    assert "(and 1 more problem)" in result.stderr
    assert data.read_text() == "timestamp,value\n1,0.5\n2,0.7\n"
    assert not (tmp_path / "log").exists()


def test_an_input_refused_as_a_whole_leaves_the_last_runs_results_untouched(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("timestamp,value\n1,0.5\n2,0.7\n")
    config = ema_config(tmp_path, data)
    assert run_cli("-c", config, "-f", "--log-dir", tmp_path / "log").returncode == 0
    before = (tmp_path / "log" / "out.csv").read_text()
    data.write_text("time,value\n1,0.5\n")   # no timestamp column: refused before any row
    result = run_cli("-c", config, "-f", "--log-dir", tmp_path / "log")
    assert result.returncode == 2 and "no 'timestamp' column" in result.stderr
    assert (tmp_path / "log" / "out.csv").read_text() == before


def test_an_input_of_an_unknown_type_is_refused_in_one_line(tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("timestamp,value\n1,0.5\n")
    result = run_cli("-c", ema_config(tmp_path, data), "-f", "--log-dir", tmp_path / "log")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "unknown file type '.txt'" in result.stderr
