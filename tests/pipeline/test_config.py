"""Configs of the original project load; every kind of mistake is refused before the run starts
with a message naming the key path, the bad value and what was expected."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config, parse_config, resolve_config_path
from pipeline.detectors import DETECTORS
from pipeline.paths import CONFIG_DIR

BC = {"input_vector_size": 1, "UL": 4, "LL": 2, "warning_stages": [0.7, 0.9]}


def parse(raw):
    return parse_config(raw, Path("test.json"))


def problems(raw) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse(raw)
    return err.value.problems


def one(raw) -> str:
    found = problems(raw)
    assert len(found) == 1, found
    return found[0]


# -- what must load -------------------------------------------------------------------------------

def test_single_algorithm_form_with_dict_conf_loads():
    cfg = parse({"anomaly_detection_alg": "BorderCheck()", "anomaly_detection_conf": BC})
    assert cfg.detectors[0].algorithm == "BorderCheck"
    assert dict(cfg.detectors[0].detector.params) == {"UL": 4.0, "LL": 2.0, "warning_stages": [0.7, 0.9]}


@pytest.mark.parametrize("name,canonical", [
    ("BorderCheck()", "BorderCheck"), ("BorderCheck", "BorderCheck"), ("border_check", "BorderCheck"),
    (" EMA() ", "EMA"), ("Welford()", "Welford")])
def test_names_with_or_without_parentheses_and_original_aliases(name, canonical):
    conf = {"input_vector_size": 1, "UL": 4, "LL": 2, "N": 5, "X": 2, "warning_stages": []}
    cfg = parse({"anomaly_detection_alg": [name], "anomaly_detection_conf": [conf]})
    assert cfg.detectors[0].algorithm == canonical


def test_list_form_with_outputs_visualizations_and_kafka_keys_loads():
    cfg = parse({
        "anomaly_detection_alg": ["Welford()", "EMA()"],
        "anomaly_detection_conf": [
            {"input_vector_size": 1, "X": 4, "N": 30, "warning_stages": [0.6, -1.0], "UL": 0.8, "LL": -1.2,
             "filtering": "None", "output": ["TerminalOutput()", "FileOutput()"],
             "output_conf": [{}, {"file_name": "x.json", "mode": "a"}],
             "visualization": "GraphVisualization()", "visualization_conf": {"num_of_points": 50}},
            {"input_vector_size": 1, "UL": 1, "LL": 0, "N": 3, "warning_stages": [0.5],
             "output": "TerminalOutput()", "output_conf": {"send_ok": False}}],
        "bootstrap_servers": ["localhost:9092"], "auto_offset_reset": "latest",
        "enable_auto_commit": "True", "group_id": "g", "topics": ["a", "b"],
        "value_deserializer": "lambda x: loads(x.decode('utf-8'))",
    })
    welford, ema = cfg.detectors
    assert [o.name for o in welford.outputs] == ["TerminalOutput", "FileOutput"]
    assert welford.outputs[1].params["mode"] == "a"
    assert welford.visualizations[0].params["num_of_points"] == 50
    assert ema.outputs[0].params["send_ok"] is False
    assert cfg.kafka.enable_auto_commit is True and cfg.kafka.topics == ("a", "b")


def test_keys_the_original_used_elsewhere_are_ignored_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        cfg = parse({"anomaly_detection_alg": ["Welford()"],
                     "anomaly_detection_conf": [{"input_vector_size": 1, "X": 2, "UL": 1, "LL": 0}]})
    assert "UL" not in cfg.detectors[0].detector.params
    assert "anomaly_detection_conf[0].UL is not used by Welford; ignored" in caplog.text


@pytest.mark.parametrize("text", ["lambda x: loads(x.decode('utf-8'))", 'lambda m: json.loads(m.decode("utf-8"))',
                                  "lambda x:loads(x.decode('UTF-8'))"])
def test_usual_json_deserializer_texts_are_recognised(text):
    parse({"anomaly_detection_alg": ["EMA()"], "anomaly_detection_conf": [BC | {"N": 2}], "topics": ["t"],
           "value_deserializer": text})


def test_every_shipped_config_loads():
    for path in sorted(CONFIG_DIR.rglob("*.json")):
        load_config(path)


def test_config_names_resolve_against_the_project_not_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path("default.json") == CONFIG_DIR / "default.json"
    assert resolve_config_path("default") == CONFIG_DIR / "default.json"
    own = tmp_path / "mine.json"
    own.write_text("{}")
    assert resolve_config_path(str(own)) == own


# -- what must be refused, and how it is explained -------------------------------------------------

def test_wrong_type_names_path_value_and_expectation():
    assert one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC | {"UL": "4a"}]}) == \
        'anomaly_detection_conf[0].UL: expected a number, got "4a"'


def test_nan_and_infinity_in_a_config_are_refused_at_their_key(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text('{"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": '
                    '[{"input_vector_size": 1, "UL": NaN, "LL": -Infinity}]}')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.problems == ["anomaly_detection_conf[0].UL: expected a finite number, got NaN",
                                  "anomaly_detection_conf[0].LL: expected a finite number, got -Infinity"]


def test_wrong_element_type_inside_a_list():
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"warning_stages": [0.7, "x"]}]}) == \
        'anomaly_detection_conf[0].warning_stages[1]: expected a number, got "x"'


def test_missing_required_parameter():
    conf = {k: v for k, v in BC.items() if k != "LL"}
    assert one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [conf]}) == \
        "anomaly_detection_conf[0].LL: required key is missing"


def test_unknown_algorithm_lists_the_known_ones():
    msg = one({"anomaly_detection_alg": ["Foo()"], "anomaly_detection_conf": [BC]})
    assert msg == f"anomaly_detection_alg[0]: unknown detector 'Foo()'; known: {', '.join(DETECTORS.names())}"
    assert "BorderCheck, " in msg


def test_unknown_output_lists_the_known_ones():
    msg = one({"anomaly_detection_alg": ["BorderCheck()"],
               "anomaly_detection_conf": [BC | {"output": ["PrinterOutput()"], "output_conf": [{}]}]})
    assert msg.startswith("anomaly_detection_conf[0].output[0]: unknown output 'PrinterOutput()'; known: FileOutput")


def test_typo_in_a_detector_key_is_an_error():
    assert one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC | {"ULL": 3}]}) == \
        "anomaly_detection_conf[0].ULL: unknown key (value 3)"


def test_unknown_top_level_key():
    msg = one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC], "fil_name": "x"})
    assert msg.startswith("fil_name: unknown key; known: anomaly_detection_alg")


def test_algorithm_and_conf_lists_must_pair_up():
    assert one({"anomaly_detection_alg": ["BorderCheck()", "EMA()"], "anomaly_detection_conf": [BC]}) == \
        "anomaly_detection_conf: expected 2 entries (one per anomaly_detection_alg), got 1"


def test_missing_algorithm_list():
    assert one({"anomaly_detection_conf": [BC]}) == "anomaly_detection_alg: required key is missing"


def test_welford_window_of_one_is_a_config_error_not_a_crash():
    assert one({"anomaly_detection_alg": ["Welford()"],
                "anomaly_detection_conf": [{"input_vector_size": 1, "X": 2, "N": 1}]}) == \
        "anomaly_detection_conf[0].N: expected a number >= 2, got 1"


def test_inverted_limits():
    assert one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC | {"LL": 5}]}) == \
        "anomaly_detection_conf[0].LL: expected a number below UL (4.0), got 5.0"


def test_input_vector_size_must_be_a_positive_whole_number():
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"input_vector_size": 0}]}) == \
        "anomaly_detection_conf[0].input_vector_size: expected a whole number from 1 to 1,000, got 0"


@pytest.mark.parametrize("size", [10 ** 30, 1e30, 1001])
def test_an_input_vector_size_no_batch_could_hold_is_refused_with_its_key(size):
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"input_vector_size": size}]}).startswith(
        "anomaly_detection_conf[0].input_vector_size: expected a whole number from 1 to 1,000, got ")


@pytest.mark.parametrize("spec, why", [
    ("[[NaN, 0, 0], [1, 0, 0]]", "every number must be finite"),
    ("[[1, 0, 0], [Infinity, 0, 0]]", "every number must be finite"),
    ("[[1, 0, 0], [0, -30, 0]]", "the tolerance must be more than 0 s"),
    ("[[1, 0, 0], [0, 0, 0]]", "the tolerance must be more than 0 s"),
])
def test_a_time_filter_that_would_drop_every_sample_is_refused(spec, why):
    problem = one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC | {"filtering": spec}]})
    assert problem.startswith("anomaly_detection_conf[0].filtering: expected") and why in problem


def test_window_sizes_no_memory_could_hold_are_refused_before_the_run(tmp_path):
    rrcf = {"input_vector_size": 1, "num_trees": 1_000_000, "tree_size": 1_000_000_000, "threshold": 3}
    assert one({"anomaly_detection_alg": ["RRCF()"], "anomaly_detection_conf": [rrcf]}) == \
        "anomaly_detection_conf[0].tree_size: expected a number <= 10,000,000, got 1000000000"
    rrcf |= {"num_trees": 1000, "tree_size": 100_000}
    assert "num_trees x tree_size at most 10,000,000" in one(
        {"anomaly_detection_alg": ["RRCF()"], "anomaly_detection_conf": [rrcf]})
    assert one({"anomaly_detection_alg": ["Welford()"],
                "anomaly_detection_conf": [{"input_vector_size": 1, "X": 3, "N": 10 ** 12, "warning_stages": []}]}) == \
        "anomaly_detection_conf[0].N: expected a number <= 10,000,000, got 1000000000000"


def test_warning_stages_outside_0_to_1_load_with_a_warning_that_says_what_they_do(caplog):
    parse_config({"anomaly_detection_alg": ["BorderCheck()"],
                  "anomaly_detection_conf": [BC | {"warning_stages": [1.5, -0.2, 0.5]}]}, Path("c.json"))
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "anomaly_detection_conf[0].warning_stages[0] = 1.5 is at or above 1 (a limit): it can never be reached",
        "anomaly_detection_conf[0].warning_stages[1] = -0.2 is at or below 0: nearly every sample will be a warning"]


def test_a_config_nested_beyond_reason_is_refused_in_one_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply to be a config"):
        load_config(path)


def test_output_conf_must_pair_with_output():
    msg = one({"anomaly_detection_alg": ["BorderCheck()"],
               "anomaly_detection_conf": [BC | {"output": ["TerminalOutput()", "FileOutput()"], "output_conf": [{}]}]})
    assert msg == "anomaly_detection_conf[0].output_conf: expected 2 entries (one per output), got 1"


@pytest.mark.parametrize("conf,expected", [
    ({"file_name": "out.xlsx"}, 'anomaly_detection_conf[0].output_conf[0].file_name: expected a name ending in '
                                '.csv, .json, .jsonl, .txt, got "out.xlsx"'),
    ({"file_name": "out.csv", "mode": "x"}, "anomaly_detection_conf[0].output_conf[0].mode: expected one of "
                                            "'w' or 'a', got \"x\""),
    ({}, "anomaly_detection_conf[0].output_conf[0].file_name: required key is missing"),
])
def test_file_output_parameters(conf, expected):
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"output": ["FileOutput()"], "output_conf": [conf]}]}) == expected


def test_bad_time_filter_text():
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"filtering": "[[12, 0], 5]"}]}) == \
        'anomaly_detection_conf[0].filtering: expected "None" or "[[H, M, S], [H, M, S]]" (time of day, ' \
        'tolerance; not of the form [[H, M, S], [H, M, S]]), got "[[12, 0], 5]"'


def test_consumer_level_filter_list_must_pair_up():
    assert one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC],
                "filtering": ["None", "None"]}) == \
        "filtering: expected 1 entries (one per anomaly_detection_alg), got 2"


def test_code_in_a_deserializer_is_refused_never_run(tmp_path):
    marker = tmp_path / "pwned"
    msg = one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC], "topics": ["t"],
               "value_deserializer": f"lambda x: open('{marker}', 'w')"})
    assert msg.startswith("value_deserializer: expected the JSON deserializer text")
    assert not marker.exists()


def test_enable_auto_commit_must_be_a_boolean_or_its_text():
    assert one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC], "topics": ["t"],
                "enable_auto_commit": "yes"}) == \
        'enable_auto_commit: expected true, false, "True" or "False", got "yes"'


def test_feature_construction_keys_are_validated_per_feature():
    found = problems({"anomaly_detection_alg": ["BorderCheck()"],
                      "anomaly_detection_conf": [BC | {"shifts": [[1], [2]], "averages": [[0]], "use_cols": [5],
                                                       "time_features": ["second"]}]})
    assert found == [
        "anomaly_detection_conf[0].averages[0][0]: expected a number >= 1, got 0",
        "anomaly_detection_conf[0].time_features[0]: expected one of 'month', 'day', 'weekday', 'hour' or "
        "'minute', got \"second\""]
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"shifts": [[1], [2]]}]}) == \
        "anomaly_detection_conf[0].shifts: expected at most 1 lists (one per feature, input_vector_size 1), got 2"
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"shifts": [[1, 2]], "use_cols": [0, 3]}]}) == \
        "anomaly_detection_conf[0].use_cols[1]: expected an index below 3 (the constructed vector's length), got 3"


def test_feature_and_normalization_keys_load():
    cfg = parse({"anomaly_detection_alg": ["BorderCheck()"],
                 "anomaly_detection_conf": [BC | {"shifts": [[1, 2]], "averages": [[3]], "time_features": ["hour"],
                                                  "use_cols": [0, 3], "normalization": "LastNAverage()",
                                                  "normalization_conf": {"N": 4}}]})
    det = cfg.detectors[0]
    assert det.features.memory_size == 3 and det.features.full_width == 5 and det.features.width == 2
    assert det.normalization.name == "LastNAverage" and det.normalization.params == {"N": 4}


def test_unknown_normalization_lists_the_known_ones():
    assert one({"anomaly_detection_alg": ["BorderCheck()"],
                "anomaly_detection_conf": [BC | {"normalization": "Zscore()"}]}) == \
        "anomaly_detection_conf[0].normalization: unknown normalization 'Zscore()'; known: LastNAverage, " \
        "PeriodicLastNAverage"


def test_missing_data_file_is_named():
    msg = one({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC],
               "file_name": "data/nowhere.csv"})
    assert msg.startswith("file_name: file 'data/nowhere.csv' not found")


def test_all_problems_are_reported_together():
    found = problems({"anomaly_detection_alg": ["BorderCheck()", "Welford()"],
                      "anomaly_detection_conf": [BC | {"UL": "x"}, {"input_vector_size": 1, "X": -1}]})
    assert found == ['anomaly_detection_conf[0].UL: expected a number, got "x"',
                     "anomaly_detection_conf[1].X: expected a number > 0, got -1"]


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"anomaly_detection_alg": ["EMA()"],\n "anomaly_detection_conf": [}\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: invalid JSON at line 2 column")


def test_missing_config_names_the_places_tried():
    with pytest.raises(ConfigError) as err:
        load_config("no_such_config.json")
    assert "config 'no_such_config.json' not found; tried" in str(err.value)
    assert str(CONFIG_DIR / "no_such_config.json") in str(err.value)


def test_top_level_must_be_an_object():
    with pytest.raises(ConfigError, match="expected a JSON object at the top level"):
        parse(json.loads("[1, 2]"))
