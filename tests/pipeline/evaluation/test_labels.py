"""Windows files: reading, matching a name to the input, turning windows into labelled samples."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.evaluation.labels import LabelsError, WindowLabels, window_seconds, window_spans

WINDOWS = {"realKnownCause/nyc_taxi.csv": [["2014-11-01 19:00:00.000000", "2014-11-02 11:30:00.000000"]],
           "other/nyc_taxi.csv": [], "ads-1.csv": [[1.0, 2.5]]}


def windows_file(tmp_path, content=WINDOWS):
    path = tmp_path / "windows.json"
    path.write_text(json.dumps(content))
    return WindowLabels.read(path)


def test_the_name_whose_folders_end_the_input_path_is_the_inputs(tmp_path):
    labels = windows_file(tmp_path)
    assert labels.name_for(tmp_path / "NAB/data/realKnownCause/nyc_taxi.csv") == "realKnownCause/nyc_taxi.csv"
    assert labels.name_for(tmp_path / "some/where/ads-1.csv") == "ads-1.csv"
    windows = labels.for_input(tmp_path / "data/realKnownCause/nyc_taxi.csv")
    assert windows.tolist() == [[1414868400.0, 1414927800.0]]  # ISO text without a zone is UTC


def test_an_input_with_no_or_two_matching_names_is_refused_with_the_names(tmp_path):
    labels = windows_file(tmp_path)
    with pytest.raises(LabelsError, match="no entry for the input .*unknown.csv"):
        labels.name_for(tmp_path / "unknown.csv")
    with pytest.raises(LabelsError, match="all match the input"):
        windows_file(tmp_path, {"a/x.csv": [], "b/x.csv": []}).name_for(tmp_path / "x.csv")


def test_a_broken_windows_file_names_the_file_and_the_problem(tmp_path):
    path = tmp_path / "windows.json"
    path.write_text("{not json")
    with pytest.raises(LabelsError, match="windows.json: not JSON"):
        WindowLabels.read(path)
    with pytest.raises(LabelsError, match="'yesterday' is not a timestamp"):
        window_seconds([["yesterday", "2014-11-02"]], "x")
    with pytest.raises(LabelsError, match="ends before it starts"):
        window_seconds([[5, 1]], "x")


def test_millisecond_windows_are_read_by_the_inputs_rule():
    assert window_seconds([[1.7e12, 1.7e12 + 5000]], "x").tolist() == [[1.7e9, 1.7e9 + 5]]


def test_window_spans_cover_the_samples_inside_each_window():
    time_s = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert window_spans(time_s, np.array([[0.5, 2.0], [10.0, 11.0]])).tolist() == [[1, 2]]
    assert window_spans(time_s, np.empty((0, 2))).shape == (0, 2)
