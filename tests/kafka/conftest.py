"""Fixtures of the Kafka tests: a fresh tansu broker per test and headless runs of ``main.py``.

Every broker and every run a test starts is ended when the test ends, whatever happened.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.kafka.broker import TEST_SESSION, Broker, _die_with_parent, terminate, wait_until


@pytest.fixture
def broker(tmp_path):
    """A running broker of this test alone."""
    b = Broker(log_path=tmp_path / "tansu.log").start()
    yield b
    b.stop()


@pytest.fixture
def brokers(tmp_path):
    """Makes brokers that are not started yet (for tests that start, stop or restart them)."""
    made: list[Broker] = []

    def make(port: int | None = None) -> Broker:
        b = Broker(port, log_path=tmp_path / f"tansu{len(made)}.log")
        made.append(b)
        return b

    yield make
    for b in made:
        b.stop()


class Run:
    """``python main.py -c CONFIG [flags]`` in the background; stdout and stderr go to files."""

    def __init__(self, config: Path, folder: Path, flags: tuple[str, ...] = (), log_dir: Path | None = None):
        self.folder = folder
        self.log_dir = log_dir or folder / "log"
        self.summary_path = folder / "summary.json"
        self.stderr_path = folder / "stderr.txt"
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.stderr_path, "wb") as err, open(folder / "stdout.txt", "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), "-c", str(config), *flags, "--log-dir",
                 str(self.log_dir), "--summary-json", str(self.summary_path), "--no-progress"],
                stdout=out, stderr=err, cwd=ROOT, env=env, preexec_fn=_die_with_parent)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30, count: int = 1) -> None:
        def seen():
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended with {self.process.returncode}:\n{self.stderr()}")
            return self.stderr().count(text) >= count
        wait_until(seen, timeout, f"{text!r} in the run's log")

    def results(self, file_name: str) -> list[dict]:
        """Records of a JSON Lines output (a line cut short by kill -9 is left out)."""
        path = self.log_dir / file_name
        if not path.exists():
            return []
        records = []
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        return records

    def wait_for_results(self, file_name: str, count: int, timeout: float = 60) -> list[dict]:
        def enough():
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended with {self.process.returncode}:\n{self.stderr()}")
            return len(self.results(file_name)) >= count
        wait_until(enough, timeout, f"{count} results in {file_name}")
        return self.results(file_name)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        return terminate(self.process, sig)

    def kill9(self) -> None:
        terminate(self.process, signal.SIGKILL)

    def summary(self) -> dict:
        return json.loads(self.summary_path.read_text())


@pytest.fixture
def start_run(tmp_path):
    """Starts headless runs; any still running at the end of the test is killed."""
    started: list[Run] = []

    def start(config: Path, name: str = "run", flags: tuple[str, ...] = (), log_dir: Path | None = None) -> Run:
        run = Run(config, tmp_path / name, flags, log_dir)
        started.append(run)
        return run

    yield start
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(10)


#: A detector that passes everything to ``out.jsonl`` (for counting results).
BORDER = ("BorderCheck()", {"input_vector_size": 1, "UL": 1e9, "LL": -1, "warning_stages": [],
                            "output": ["FileOutput()"], "output_conf": [{"file_name": "out.jsonl"}]})


def indexed(start: int, count: int) -> list[dict]:
    """Messages whose value is their index, so every result names the message it came from."""
    return [{"timestamp": 1_600_000_000 + i, "ftr_vector": [float(i)]} for i in range(start, start + count)]


def seen(records: list[dict]) -> list[int]:
    return [int(r["value"][0]) for r in records]


def kafka_config(path: Path, broker: Broker, topics: list[str], detectors: list[tuple[str, dict]],
                 **keys) -> Path:
    """Writes a config reading ``topics`` from ``broker`` (test session timeouts, earliest)."""
    config = {
        "anomaly_detection_alg": [name for name, _ in detectors],
        "anomaly_detection_conf": [conf for _, conf in detectors],
        "bootstrap_servers": broker.bootstrap, "topics": topics, "auto_offset_reset": "earliest",
        "group_id": f"g-{path.stem}", **TEST_SESSION, **keys,
    }
    path.write_text(json.dumps(config, indent=1))
    return path


def pytest_collection_modifyitems(items):
    # kafka-python 3.0 loads its protocol schemas with an importlib.resources call that Python
    # 3.11 deprecates; the warning says nothing about our code
    here = Path(__file__).parent
    mark = pytest.mark.filterwarnings("ignore:.*is deprecated. Use files\\(\\) instead:DeprecationWarning")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(mark)
