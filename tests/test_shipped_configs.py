"""Every config shipped in configuration/ runs headless to the end on the bundled data (configs
that retrain a model replay a slice of it: ``tests.conftest.replay_slice``)."""
from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.paths import CONFIG_DIR
from pipeline.run import RunSetup
from tests.conftest import replay_slice, retrains

CONFIGS = sorted(CONFIG_DIR.rglob("*.json"))


def test_there_are_example_configs():
    assert {"default.json", "border_check.json", "ema.json", "welford.json"} <= {p.name for p in CONFIGS}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_shipped_config_runs_to_the_end(path, tmp_path, capsys):
    config = load_config(replay_slice(path, tmp_path) if retrains(path) else path)
    with RunSetup(config, tmp_path, models_dir=tmp_path / "models") as setup:
        stats = setup.engine().run()
    assert stats.samples > 0 and stats.rejected == 0 and not stats.stopped_early
    assert all(run.anomalies() > 0 for run in setup.runs), "an example should show some anomalies"


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in CONFIGS if retrains(p)], ids=lambda p: p.name)
def test_shipped_model_config_runs_the_whole_file(path, tmp_path):
    config = load_config(path)
    with RunSetup(config, tmp_path, models_dir=tmp_path / "models") as setup:
        stats = setup.engine().run()
    assert stats.samples == 31_416 and stats.rejected == 0
    assert all(run.anomalies() > 0 for run in setup.runs)
