"""The NAB score: its rules on small cases, and agreement with the independent scorer in
../shared/nab (which reproduces NAB's official numbers) on result files of one of our detectors."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pipeline.detectors.welford import Welford
from pipeline.evaluation.labels import WindowLabels, window_spans
from pipeline.evaluation.nab import PROFILES, SeriesTruth, probation_length, scaled_sigmoid, score_corpus, sweep
from tests.conftest import SHARED, batch_of

NAB = SHARED / "nab"
needs_nab = pytest.mark.skipif(not (NAB / "nab_score.py").exists(), reason="no NAB copy in ../shared/nab")
SERIES = ["artificialNoAnomaly/art_noisy.csv", "artificialWithAnomaly/art_daily_jumpsup.csv",
          "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv", "realKnownCause/nyc_taxi.csv",
          "realTweets/Twitter_volume_AAPL.csv"]


def test_a_detection_is_worth_most_at_a_windows_start_and_false_alarms_cost_more_farther_away():
    truth = SeriesTruth(1000, [(400, 499)])
    assert truth.probation == 150 and probation_length(100_000) == 750
    assert truth.reward[400] == pytest.approx(1.0) and truth.reward[499] < 0.05
    assert -0.05 < truth.penalty[500] < 0 and truth.penalty[999] == pytest.approx(-1.0, abs=0.01)
    assert (truth.penalty[:400] == -1).all() and float(scaled_sigmoid(0.0)) == 0.0


def test_perfect_null_and_late_detections_score_as_nab_defines():
    truths = [SeriesTruth(1000, [(400, 499)]), SeriesTruth(1000, [])]
    perfect = [np.zeros(1000), np.zeros(1000)]
    perfect[0][400] = 1.0
    assert score_corpus(truths, perfect)["standard"].score == pytest.approx(100.0)
    assert score_corpus(truths, [np.zeros(1000)] * 2)["standard"].score == pytest.approx(0.0)
    early, late = np.zeros(1000), np.zeros(1000)
    early[420], late[490] = 1.0, 1.0
    early_score = score_corpus(truths, [early, perfect[1]])["standard"].score
    assert 0 < score_corpus(truths, [late, perfect[1]])["standard"].score < early_score < 100


def test_a_detection_in_probation_does_not_count():
    truths = [SeriesTruth(1000, [(100, 200)])]
    scores = np.zeros(1000)
    scores[120] = 1.0
    result = score_corpus(truths, [scores])["standard"]
    assert result.windows_found == 0 and result.threshold == 1.1


def test_the_sweep_equals_scoring_at_each_threshold():
    rng = np.random.default_rng(3)
    truths = [SeriesTruth(800, [(300, 340), (600, 650)]), SeriesTruth(500, [(450, 480)])]
    scores = [np.round(rng.random(800), 2), np.round(rng.random(500), 2)]
    thresholds, raws = sweep(truths, scores, PROFILES["standard"])
    for threshold, raw in list(zip(thresholds, raws))[::7]:
        direct = score_corpus(truths, scores, {"standard": PROFILES["standard"]}, {"standard": threshold})
        assert direct["standard"].raw == pytest.approx(raw)


def write_welford_results(folder, names):
    """Welford (N 150, X 3.5) over NAB series; result files as NAB writes them; our truths and scores."""
    windows = WindowLabels.read(NAB / "labels" / "combined_windows.json")
    truths, scores = [], []
    for name in names:
        data = pd.read_csv(NAB / "data" / name)
        time_s = pd.to_datetime(data["timestamp"]).to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
        score = Welford(X=3.5, N=150).update(batch_of(data["value"].to_numpy(float), time_s)).score
        out = folder / name
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"timestamp": data["timestamp"], "value": data["value"], "anomaly_score": score}).to_csv(
            out, index=False)
        truths.append(SeriesTruth(len(data), window_spans(time_s, windows.for_input(NAB / "data" / name)).tolist()))
        scores.append(pd.read_csv(out)["anomaly_score"].to_numpy())
    return truths, scores


def reference_scores(results, tmp_path, partial: bool) -> dict:
    report = tmp_path / "reference.json"
    command = [sys.executable, str(NAB / "nab_score.py"), "--results", str(results), "--nab-root", str(NAB),
               "--threshold-sweep", "--json", str(report)] + (["--partial"] if partial else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(report.read_text())["profiles"]


def assert_agree(ours, reference):
    for profile in PROFILES:
        assert ours[profile].score == pytest.approx(reference[profile]["score"], abs=0.01), profile
        assert ours[profile].threshold == pytest.approx(reference[profile]["threshold"])
        assert ours[profile].windows_found == reference[profile]["windows_detected"]


@needs_nab
def test_our_nab_scores_agree_with_the_reference_scorer_on_several_series(tmp_path):
    truths, scores = write_welford_results(tmp_path / "welford", SERIES)
    assert_agree(score_corpus(truths, scores), reference_scores(tmp_path / "welford", tmp_path, partial=True))


@needs_nab
@pytest.mark.slow
def test_our_nab_scores_agree_with_the_reference_scorer_on_the_whole_corpus(tmp_path):
    names = list(json.loads((NAB / "labels" / "combined_windows.json").read_text()))
    truths, scores = write_welford_results(tmp_path / "welford", names)
    assert_agree(score_corpus(truths, scores), reference_scores(tmp_path / "welford", tmp_path, partial=False))
