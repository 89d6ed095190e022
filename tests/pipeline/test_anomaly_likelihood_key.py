"""``anomaly_likelihood``: any detector's score turned into Numenta's anomaly likelihood, from its
config; the status stays the detector's."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.run import RunSetup
from pipeline.score_likelihood import AnomalyLikelihood
from tests.conftest import ROOT

ADS = str(ROOT / "resources" / "data" / "ads-1.csv")


def config(likelihood, batch=None):
    conf = {"input_vector_size": 1, "N": 30, "X": 4, "warning_stages": []}
    if likelihood is not None:
        conf["anomaly_likelihood"] = likelihood
    return parse_config({"file_name": ADS, "anomaly_detection_alg": ["Welford()"],
                         "anomaly_detection_conf": [conf]}, Path("lk.json"))


def results(cfg, tmp_path, batch_size):
    from pipeline.engine import Listener

    seen = []

    class Keep(Listener):
        def on_results(self, samples, batch_results):
            seen.append((batch_results[0].status_idx.copy(), batch_results[0].score.copy()))

    with RunSetup(cfg, tmp_path) as setup:
        setup.engine(listeners=[Keep()], batch_size=batch_size).run()
    return np.concatenate([s for s, _ in seen]), np.concatenate([c for _, c in seen])


def test_the_score_becomes_the_likelihood_of_the_raw_score_and_the_status_stays(tmp_path):
    raw_status, raw_score = results(config(None), tmp_path / "a", 65536)
    status, score = results(config({"long_window": 2000, "short_window": 1}), tmp_path / "b", 65536)
    assert np.array_equal(status, raw_status)
    expected = AnomalyLikelihood(long_window=2000, short_window=1)(raw_score)
    assert np.array_equal(score, expected) and not np.array_equal(score, raw_score)


def test_batch_cuts_do_not_change_the_likelihood(tmp_path):
    _, whole = results(config(True), tmp_path / "a", 65536)
    _, cut = results(config(True), tmp_path / "b", 997)
    assert np.array_equal(whole, cut)


@pytest.mark.parametrize("spec, problem", [
    ({"long_window": 1}, "anomaly_detection_conf[0].anomaly_likelihood.long_window: expected a number >= 2, got 1"),
    ({"window": 5}, "anomaly_detection_conf[0].anomaly_likelihood.window: unknown key (value 5)"),
    ("yes", "anomaly_detection_conf[0].anomaly_likelihood: expected an object, got \"yes\""),
])
def test_a_wrong_likelihood_setting_names_the_key(spec, problem):
    with pytest.raises(ConfigError) as err:
        config(spec)
    assert err.value.problems == [problem]
