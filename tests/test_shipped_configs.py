"""Every config shipped in configuration/ runs headless to the end on the bundled data."""
from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.paths import CONFIG_DIR
from pipeline.run import RunSetup

CONFIGS = sorted(CONFIG_DIR.rglob("*.json"))


def test_there_are_example_configs():
    assert {"default.json", "border_check.json", "ema.json", "welford.json"} <= {p.name for p in CONFIGS}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_shipped_config_runs_to_the_end(path, tmp_path, capsys):
    config = load_config(path)
    with RunSetup(config, tmp_path, models_dir=tmp_path / "models") as setup:
        stats = setup.engine().run()
    assert stats.samples > 0 and stats.rejected == 0 and not stats.stopped_early
    assert all(run.anomalies() > 0 for run in setup.runs), "an example should show some anomalies"
