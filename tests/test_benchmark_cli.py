"""``--benchmark``: one config over a whole labelled corpus, scored, with NAB-format result files
that the independent NAB scorer (../shared/nab, which reproduces NAB's official numbers) reads."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED, run_cli, write_config

NAB, ADS = SHARED / "nab", SHARED / "ads"
SERIES = ["artificialWithAnomaly/art_daily_jumpsup.csv", "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
          "realKnownCause/nyc_taxi.csv"]


@pytest.fixture
def small_nab(tmp_path):
    """A NAB copy of three series: data, their windows, the profiles and the scoreboard."""
    if not (NAB / "nab_score.py").exists():
        pytest.skip("no NAB copy in ../shared/nab")
    root = tmp_path / "nab"
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    for name in SERIES:
        (root / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NAB / "data" / name, root / "data" / name)
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps({name: windows[name] for name in SERIES}))
    shutil.copytree(NAB / "config", root / "config")
    shutil.copytree(NAB / "results", root / "results")
    return root


def welford(tmp_path, data_file="nowhere.csv"):
    return write_config(tmp_path / "welford.json", {
        "file_name": data_file, "anomaly_detection_alg": ["Welford()"],
        "anomaly_detection_conf": [{"input_vector_size": 1, "N": 150, "X": 3.5, "warning_stages": [],
                                    "output": ["FileOutput()"], "output_conf": [{"file_name": "never.csv"}]}]})


def test_nab_benchmark_scores_every_series_beside_the_scoreboard_and_nabs_scorer_agrees(tmp_path, small_nab):
    out = tmp_path / "out"
    result = run_cli("--benchmark", "nab", "--corpus", small_nab, "-c", welford(tmp_path, str(small_nab / "data" /
                     SERIES[0])), "--log-dir", tmp_path / "log", "--eval-out", out, "--progress")
    assert result.returncode == 0, result.stderr
    assert "NAB benchmark of welford (finished): 3 series" in result.stderr
    assert "ARTime" in result.stderr and "> welford 0: Welford" in result.stderr and "3/3 series" in result.stderr
    assert not (tmp_path / "log" / "never.csv").exists()  # the config's outputs are not written
    report = json.loads((out / "evaluation.json").read_text())
    ours = report["detectors"][0]["nab"]
    results = out / "welford-0-welford"
    assert sorted(p.relative_to(results).as_posix() for p in results.rglob("*.csv")) == sorted(
        f"{name.split('/')[0]}/welford-0-welford_{name.split('/')[1]}" for name in SERIES)
    reference = tmp_path / "reference.json"
    scored = subprocess.run([sys.executable, str(NAB / "nab_score.py"), "--results", str(results), "--nab-root",
                             str(small_nab), "--threshold-sweep", "--strict-timestamps", "--json", str(reference)],
                            capture_output=True, text=True, timeout=300)
    assert scored.returncode == 0, scored.stderr
    for profile, figures in json.loads(reference.read_text())["profiles"].items():
        assert ours[profile]["score"] == pytest.approx(figures["score"], abs=0.01)
        assert ours[profile]["windows_found"] == figures["windows_detected"]


def test_ads_benchmark_prints_each_sets_f1_and_their_mean(tmp_path):
    corpus = tmp_path / "ads"
    corpus.mkdir()
    for name in ("ads-1.csv", "ads-2.csv", "ads-1_train.csv"):
        shutil.copy(ADS / name, corpus / name)
    summary = tmp_path / "summary.json"
    result = run_cli("--benchmark", "ads", "--corpus", corpus, "-c", "default.json", "--log-dir", tmp_path,
                     "--summary-json", summary)
    assert result.returncode == 0, result.stderr
    report = json.loads(summary.read_text())
    welford = report["detectors"][0]
    assert list(welford["per_set"]) == ["ads-1.csv", "ads-2.csv"] and welford["per_set"]["ads-1.csv"]["f1"] == 0.813627
    assert report["samples"] == 2 * 31416
    assert "ads-1  ads-2   mean" in result.stderr and "Welford 0.814" in result.stderr
    assert not (tmp_path / "default_welford.csv").exists()


def test_a_folder_that_is_not_the_corpus_kind_is_a_usage_error(tmp_path):
    result = run_cli("--benchmark", "nab", "--corpus", tmp_path, "-c", "default.json")
    assert result.returncode == 2 and "no labels/combined_windows.json, so not a NAB copy" in result.stderr
    result = run_cli("--benchmark", "ads", "-c", "default.json")
    assert result.returncode == 2 and "--benchmark needs --corpus DIR" in result.stderr


@pytest.mark.slow
def test_the_whole_nab_corpus_in_one_process_scores_as_nabs_scorer_does(tmp_path):
    if not (NAB / "nab_score.py").exists():
        pytest.skip("no NAB copy in ../shared/nab")
    out = tmp_path / "out"
    result = run_cli("--benchmark", "nab", "--corpus", NAB, "-c", "default.json", "--log-dir", tmp_path,
                     "--eval-out", out, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "58 series, 365,558 samples" in result.stderr
    report = json.loads((out / "evaluation.json").read_text())
    for evaluation, folder in zip(report["detectors"], ("default-0-welford", "default-1-ema")):
        reference = tmp_path / f"{folder}.json"
        scored = subprocess.run([sys.executable, str(NAB / "nab_score.py"), "--results", str(out / folder),
                                 "--nab-root", str(NAB), "--threshold-sweep", "--strict-timestamps", "--json",
                                 str(reference)], capture_output=True, text=True, timeout=300)
        assert scored.returncode == 0, scored.stderr
        for profile, figures in json.loads(reference.read_text())["profiles"].items():
            assert evaluation["nab"][profile]["score"] == pytest.approx(figures["score"], abs=0.01)


def test_a_benchmark_never_changes_the_users_model_and_each_series_starts_from_it(tmp_path):
    """A config that loads a model and retrains it: every series must start from the user's model
    (not from the one the previous series retrained), and the user's model must stay as it was."""
    import hashlib

    ads = tmp_path / "ads"
    ads.mkdir()
    for name in ("ads-1.csv", "ads-2.csv"):
        shutil.copy(ADS / name, ads / name)
    models = tmp_path / "models"
    forest = {"input_vector_size": 1, "train_conf": {"max_samples": 64, "contamination": 0.01,
                                                      "model_name": "forest"}, "random_state": 0}
    trained = write_config(tmp_path / "train.json", {
        "file_name": str(ads / "ads-1.csv"), "anomaly_detection_alg": ["IsolationForest()"],
        "anomaly_detection_conf": [forest | {"train_data": "resources/data/ads-1_train.csv"}]})
    assert run_cli("-c", trained, "-f", "--models-dir", models, "--log-dir", tmp_path / "log").returncode == 0

    def state():
        return {p.relative_to(models).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
                for p in sorted(models.rglob("*")) if p.is_file()}

    before = state()
    assert before, "the training run saved no model"
    retraining = write_config(tmp_path / "retrain.json", {
        "file_name": str(ads / "ads-1.csv"), "anomaly_detection_alg": ["IsolationForest()"],
        "anomaly_detection_conf": [forest | {"load_model_from": "forest", "retrain_interval": 1000,
                                             "samples_for_retrain": 2000}]})
    result = run_cli("--benchmark", "ads", "--corpus", ads, "-c", retraining, "--models-dir", models,
                     "--log-dir", tmp_path / "log", "-v")
    assert result.returncode == 0, result.stderr
    assert state() == before
    loaded = [line for line in result.stderr.splitlines() if "loaded model" in line]
    assert len(loaded) == 2 and len({line.split("saved")[-1] for line in loaded}) == 1, loaded


def test_a_series_with_rejected_rows_gets_no_misaligned_result_file_and_an_empty_series_a_note(tmp_path, small_nab):
    damaged = small_nab / "data" / SERIES[1]
    lines = damaged.read_text().splitlines(keepends=True)
    damaged.write_text("".join(lines[:500] + ["2014-02-20 00:00:00,not a number\n"] + lines[500:]))
    empty = small_nab / "data" / "artificialNoAnomaly" / "empty.csv"
    empty.parent.mkdir(parents=True)
    empty.write_text("timestamp,value\n")
    windows = json.loads((small_nab / "labels" / "combined_windows.json").read_text())
    (small_nab / "labels" / "combined_windows.json").write_text(json.dumps(
        windows | {"artificialNoAnomaly/empty.csv": []}))
    out = tmp_path / "out"
    result = run_cli("--benchmark", "nab", "--corpus", small_nab, "-c", welford(tmp_path, str(small_nab / "data" /
                     SERIES[0])), "--log-dir", tmp_path / "log", "--eval-out", out)
    assert result.returncode == 0, result.stderr
    assert (f"note: {SERIES[1]}: 1 row rejected (see the dead letters), so its NAB result file is not "
            "written") in result.stderr
    assert "note: artificialNoAnomaly/empty.csv: no samples (an empty series); it is not in the scores" in result.stderr
    written = sorted(p.name for p in (out / "welford-0-welford").rglob("*.csv"))
    assert written == sorted(f"welford-0-welford_{Path(n).name}" for n in (SERIES[0], SERIES[2]))


def test_the_models_a_config_loads_are_found_in_combination_members_too():
    from pipeline.benchmark import loaded_model_names

    params = [{"load_model_from": "forest"},
              {"anomaly_algorithms_configurations": [{"load_model_from": "pca"}, {"load_model_from": "x/model"}]}]
    assert loaded_model_names(params) == {"forest", "pca"}
