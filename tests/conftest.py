"""Shared fixtures: the reference input, helpers to run detectors and the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.records import SampleBatch

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REFVECTORS = SHARED / "refvectors"


def batch_of(values, timestamps=None, start=0) -> SampleBatch:
    """A SampleBatch of scalar values (timestamps default to the sample index)."""
    x = np.asarray(values, dtype=np.float64)
    ts = np.arange(start, start + len(x), dtype=np.float64) if timestamps is None else np.asarray(timestamps, float)
    return SampleBatch(ts, ts, x[:, None], np.arange(start, start + len(x)))


@pytest.fixture(scope="session")
def sine_spikes():
    """The refvectors' synthetic input: (timestamps, values)."""
    data = json.loads((REFVECTORS / "inputs" / "sine_spikes.json").read_text())
    return np.array(data["timestamp"]), np.array(data["value"])


def run_cli(*args, timeout=120, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``main.py`` in a fresh interpreter, as a user would."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd or ROOT, env=env, **kwargs)


def write_config(path: Path, config: dict) -> Path:
    path.write_text(json.dumps(config, indent=1))
    return path


def pytest_collection_modifyitems(items):
    """Mark tests by what they need, so a fast core runs with ``-m "not gui and not kafka"``:
    ``gui`` for the window's tests (Qt), ``kafka`` for every test that starts the tansu broker."""
    gui, kafka = pytest.mark.gui, pytest.mark.kafka
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT).parts
        if parts[:2] == ("tests", "gui"):
            item.add_marker(gui)
        if parts[:2] == ("tests", "kafka") or "broker" in getattr(item, "fixturenames", ()):
            item.add_marker(kafka)


#: Rows of the bundled data a model config replays in tests: enough for several retrains and some
#: anomalies, a fifth of the whole file (each retrain costs the same whatever the file's length).
MODEL_CONFIG_ROWS = 6000


def retrains(config_path: Path) -> bool:
    """Whether a config has a detector that retrains while it runs (its test cost grows with rows)."""
    return "retrain_interval" in config_path.read_text()


def replay_slice(config_path: Path, folder: Path, rows: int = MODEL_CONFIG_ROWS) -> Path:
    """A copy of ``config_path`` in ``folder`` whose ``file_name`` is the first ``rows`` rows of its
    own data file (a CSV), other relative paths made absolute. For tests of configs that retrain a
    model every few thousand samples: a slice shows the same behaviour for a fraction of the time."""
    config = json.loads(config_path.read_text())
    data = ROOT / config["file_name"]
    with data.open() as source, (folder / data.name).open("w") as sliced:
        for _, line in zip(range(rows + 1), source):  # the header and `rows` rows
            sliced.write(line)
    config["file_name"] = str(folder / data.name)
    for conf in config["anomaly_detection_conf"]:
        for key in ("train_data", "retrain_file"):
            if isinstance(conf.get(key), str) and (ROOT / conf[key]).exists():
                conf[key] = str(ROOT / conf[key])
    return write_config(folder / config_path.name, config)


INJECTED_FAILURE = "injected detector failure"


@pytest.fixture
def border_check_fails_on_third_batch(monkeypatch):
    """Every BorderCheck raises ``ValueError(INJECTED_FAILURE)`` on the third batch it is given
    (counted over all instances), after two normal ones: a run that fails part way through."""
    from pipeline.detectors.border_check import BorderCheck

    calls = {"n": 0}
    original = BorderCheck.update

    def failing_update(self, samples):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValueError(INJECTED_FAILURE)
        return original(self, samples)

    monkeypatch.setattr(BorderCheck, "update", failing_update)
