"""Configs whose outputs would destroy data are refused before the run opens anything."""
from __future__ import annotations

import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.outputs.paths import escapes_log_dir, output_path_problems


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data" / "input.csv"
    path.parent.mkdir()
    path.write_text("timestamp,value\n0,1.0\n")
    return path


def config(tmp_path, data, *outputs_per_detector):
    """A config with one BorderCheck per entry, each writing to the FileOutputs named."""
    confs = [{"input_vector_size": 1, "UL": 1, "LL": 0,
              "output": ["FileOutput()"] * len(names), "output_conf": [{"file_name": n} for n in names]}
             for names in outputs_per_detector]
    return parse_config({"file_name": str(data), "anomaly_detection_alg": ["BorderCheck()"] * len(confs),
                         "anomaly_detection_conf": confs}, tmp_path / "myrun.json")


def test_separate_files_are_fine_and_nothing_is_created(tmp_path, data):
    log_dir = tmp_path / "log"
    assert output_path_problems(config(tmp_path, data, ["a.csv", "b.json"], ["sub/a.csv", "/tmp/x/a.csv"]),
                                log_dir) == []
    assert not log_dir.exists()


def test_two_detectors_writing_one_file_is_a_problem_naming_both_key_paths(tmp_path, data):
    log_dir = tmp_path / "log"
    problems = output_path_problems(config(tmp_path, data, ["x.csv"], ["x.csv"]), log_dir)
    assert problems == [f'anomaly_detection_conf[1].output_conf[0].file_name: "x.csv" ({log_dir / "x.csv"}) is '
                        "also written by anomaly_detection_conf[0].output_conf[0]; give each output its own file"]


@pytest.mark.parametrize("second", ["./x.csv", "sub/../x.csv", "LOG/x.csv", "link.csv", "linkdir/x.csv"])
def test_one_file_under_two_spellings_is_a_problem(tmp_path, data, second):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    (log_dir / "link.csv").symlink_to(log_dir / "x.csv")  # to a file that does not exist yet
    (tmp_path / "other").symlink_to(log_dir)
    (log_dir / "linkdir").symlink_to(tmp_path / "other")
    second = second.replace("LOG", str(log_dir))
    problems = output_path_problems(config(tmp_path, data, ["x.csv", second]), log_dir)
    assert len(problems) == 1
    assert problems[0].startswith("anomaly_detection_conf[0].output_conf[1].file_name:")
    assert problems[0].endswith("is also written by anomaly_detection_conf[0].output_conf[0]; "
                                "give each output its own file")


def test_a_hard_link_to_an_existing_output_is_one_file(tmp_path, data):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    (log_dir / "x.csv").write_text("")
    (log_dir / "y.csv").hardlink_to(log_dir / "x.csv")
    assert len(output_path_problems(config(tmp_path, data, ["x.csv"], ["y.csv"]), log_dir)) == 1


def test_an_output_writing_over_the_input_file_is_a_problem(tmp_path, data):
    problems = output_path_problems(config(tmp_path, data, ["ok.csv", str(data)]), tmp_path / "log")
    assert len(problems) == 1
    shown = problems[0].split(": ", 1)[1]  # the path as the user wrote it (long ones are cut: "...")
    assert problems[0].startswith("anomaly_detection_conf[0].output_conf[1].file_name: ")
    assert f'"{data}"'.startswith(shown.split(" is also")[0].removesuffix("..."))
    assert "is also the input file (file_name); writing it would destroy the data the run reads" in problems[0]
    # a relative name that lands on the input, when the log folder is the data folder
    assert len(output_path_problems(config(tmp_path, data, ["input.csv"]), data.parent)) == 1


def test_an_output_writing_over_the_dead_letters_is_a_problem(tmp_path, data):
    problems = output_path_problems(config(tmp_path, data, ["myrun.dead_letter.jsonl"]), tmp_path / "log")
    assert len(problems) == 1
    assert "is also the run's dead-letter file" in problems[0]


def test_every_problem_is_reported_at_once(tmp_path, data):
    problems = output_path_problems(config(tmp_path, data, ["a.csv", "a.csv"], ["a.csv", str(data)]),
                                    tmp_path / "log")
    assert [p.split(":")[0] for p in problems] == [
        "anomaly_detection_conf[0].output_conf[1].file_name",
        "anomaly_detection_conf[1].output_conf[0].file_name",
        "anomaly_detection_conf[1].output_conf[1].file_name"]


def test_a_relative_name_leaving_the_log_folder_is_a_config_error_naming_the_key(tmp_path, data):
    with pytest.raises(ConfigError) as refused:
        config(tmp_path, data, ["ok.csv", "../elsewhere.csv"])
    assert refused.value.problems == [
        'anomaly_detection_conf[0].output_conf[1].file_name: expected a name inside the log folder '
        '(no ".." leaving it; an absolute path writes elsewhere), got "../elsewhere.csv"']


@pytest.mark.parametrize("name, escapes", [
    ("../x.csv", True), ("a/../../x.csv", True), ("..", True), ("a/../x.csv", False), ("..x.csv", False),
    ("./x.csv", False), ("/abs/../x.csv", False), ("x/..", False)])
def test_which_relative_names_leave_the_log_folder(name, escapes):
    assert escapes_log_dir(name) is escapes
