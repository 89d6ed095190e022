"""File input: every supported layout is read, and every kind of bad row is counted, located by
line (or element) and kept aside while the good rows around it are still used."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.consumers import FileConsumer, SourceError


def read_all(path, width=1, batch=7):
    """Every sample and rejection of a file, polling in small batches."""
    with FileConsumer(path, width) as source:
        parts, rejected = [], []
        while not source.finished:
            poll = source.poll(batch)
            assert len(poll.samples) <= batch
            parts.append(poll.samples)
            rejected += poll.rejected
    values = np.concatenate([p.values for p in parts])
    return {"values": values, "timestamp": np.concatenate([p.timestamp for p in parts]),
            "time_s": np.concatenate([p.time_s for p in parts]),
            "position": np.concatenate([p.position for p in parts]).tolist(),
            "labels": [p.labels for p in parts], "rejected": rejected}


def test_csv_with_label_columns_keeps_them_as_labels_not_features(tmp_path):
    path = tmp_path / "ads.csv"
    path.write_text("timestamp,ftr_vector,label,labelInfo\n0.01,0.5,False,0\n0.02,4.5,True,4\n")
    got = read_all(path)
    assert got["values"].tolist() == [[0.5], [4.5]]
    assert np.concatenate(got["labels"]).tolist() == [False, True]
    assert got["position"] == [2, 3]


def test_csv_features_are_every_other_column_in_header_order(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text("b,timestamp,a\n1,10,2\n3,11,4\n")
    assert read_all(path, width=2)["values"].tolist() == [[1, 2], [3, 4]]


def test_csv_vector_text_column_of_training_files(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text('timestamp,ftr_vector\n1,"[0.1, 2]"\n2,"[3, 4.5]"\n3,"[1]"\n')
    got = read_all(path, width=2)
    assert got["values"].tolist() == [[0.1, 2], [3, 4.5]]
    assert [(r.position, r.reason) for r in got["rejected"]] == [
        (4, "ftr_vector: has 1 values, expected 2 (input_vector_size)")]


def test_bundled_one_element_vector_training_file(tmp_path):
    from pipeline.paths import PROJECT_ROOT
    got = read_all(PROJECT_ROOT / "resources/data/ads-1_train.csv", batch=1000)
    assert got["values"].shape == (200, 1) and not got["rejected"]


BAD_CSV = """timestamp,a,b,label
1,2,3,True
2,x,4,False

3,5
4,6,7,8,9
5,,1,False
6,1,inf,False
bad,1,1,False
,1,1,False
7,1,NaN,False
8,1,1,False"""


def test_every_bad_csv_row_is_rejected_with_its_line_and_good_rows_survive(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    got = read_all(path, width=2)
    assert got["values"].tolist() == [[2, 3], [1, 1]]
    assert got["position"] == [2, 12]
    assert [(r.location, r.reason) for r in got["rejected"]] == [
        ("bad.csv line 3", "a: not a number: 'x'"),
        ("bad.csv line 4", "empty line"),
        ("bad.csv line 5", "expected 4 fields, got 2"),
        ("bad.csv line 6", "expected 4 fields, got 5"),
        ("bad.csv line 7", "a: missing value"),
        ("bad.csv line 8", "b: not finite: 'inf'"),
        ("bad.csv line 9", "timestamp: not a number or ISO 8601 time: 'bad'"),
        ("bad.csv line 10", "timestamp: missing"),
        ("bad.csv line 11", "b: not a number: 'NaN'"),
    ]
    assert got["rejected"][0].raw == "2,x,4,False"


def test_line_numbers_stay_right_across_chunks(tmp_path, monkeypatch):
    import pipeline.consumers.csv_file as csv_file
    monkeypatch.setattr(csv_file, "CHUNK_BYTES", 64)
    rows = [f"{i},{i}" if i % 37 else f"{i},oops" for i in range(1, 400)]
    path = tmp_path / "long.csv"
    path.write_text("timestamp,v\n" + "\n".join(rows) + "\n")
    got = read_all(path, batch=50)
    assert [r.position for r in got["rejected"]] == [i + 1 for i in range(1, 400) if i % 37 == 0]
    assert got["values"][:, 0].tolist() == [i for i in range(1, 400) if i % 37]
    assert got["position"] == [i + 1 for i in range(1, 400) if i % 37]


def test_timestamps_in_seconds_milliseconds_and_iso_text(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text("timestamp,v\n1700000000,1\n1700000060000,2\n2023-11-14T22:15:20Z,3\n2023-11-14 22:16:20,4\n")
    got = read_all(path)
    assert got["time_s"].tolist() == [1700000000, 1700000060, 1700000120, 1700000180]
    assert got["timestamp"][:2].tolist() == [1700000000, 1700000060000]


def test_csv_without_timestamp_column_is_refused_at_start(tmp_path):
    path = tmp_path / "nots.csv"
    path.write_text("time,v\n1,2\n")
    with pytest.raises(SourceError, match="no 'timestamp' column"):
        read_all(path)


def test_csv_with_more_feature_columns_than_input_vector_size_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("timestamp,a,b\n1,2,3\n")
    with pytest.raises(SourceError, match=r"2 feature columns \(a, b\) but input_vector_size is 1"):
        read_all(path)


MESSAGES = [
    {"timestamp": 1, "ftr_vector": [1.0]},
    [1, 2],
    {"timestamp": 2},
    {"ftr_vector": [1]},
    {"timestamp": 3, "ftr_vector": 5},
    {"timestamp": 4, "ftr_vector": [1, 2]},
    {"timestamp": 5, "ftr_vector": ["1"]},
    {"timestamp": 6, "ftr_vector": [None]},
    {"timestamp": "yesterday", "ftr_vector": [1]},
    {"timestamp": "2023-11-14T22:13:20", "ftr_vector": [7]},
    {"timestamp": 7, "ftr_vector": [True]},
]
REASONS = [
    "not a JSON object", "missing ftr_vector", "missing timestamp", "ftr_vector is not a list: 5",
    "ftr_vector has 2 values, expected 1 (input_vector_size)", 'ftr_vector[0] is not a number: "1"',
    "ftr_vector[0] is not a number: null", 'unparsable timestamp: "yesterday"']


@pytest.mark.parametrize("layout", ["data", "array"])
def test_json_document_elements_are_validated_one_by_one(tmp_path, layout):
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"data": MESSAGES} if layout == "data" else MESSAGES))
    got = read_all(path)
    assert got["values"][:, 0].tolist() == [1.0, 7.0, 1.0]
    assert got["time_s"].tolist() == [1, 1700000000, 7]
    assert [r.reason for r in got["rejected"]] == REASONS
    assert got["rejected"][0].location == ("in.json data[1]" if layout == "data" else "in.json[1]")


def test_json_lines_bad_lines_are_rejected_by_line_number(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(m) for m in MESSAGES] + ["{not json", ""]
    path.write_text("\n".join(lines) + "\n")
    got = read_all(path)
    assert got["values"][:, 0].tolist() == [1.0, 7.0, 1.0]
    assert [r.reason for r in got["rejected"]][:8] == REASONS
    assert [r.position for r in got["rejected"]] == [2, 3, 4, 5, 6, 7, 8, 9, 12, 13]
    assert got["rejected"][-2].reason.startswith("invalid JSON")
    assert got["rejected"][-1].reason == "empty line"


def test_truncated_json_document_keeps_what_came_before_and_rejects_the_cut_element(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{"data": [{"timestamp": 1, "ftr_vector": [1]}, {"timestamp": 2, "ftr_vec')
    got = read_all(path)
    assert got["values"].tolist() == [[1.0]]
    assert [(r.location, r.raw) for r in got["rejected"]] == [("cut.json data[1]", '{"timestamp": 2, "ftr_vec')]
    assert "the document ends inside this element" in got["rejected"][0].reason


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(SourceError, match="unknown file type '.xlsx'"):
        FileConsumer(tmp_path / "data.xlsx", 1)


def test_one_vector_of_another_length_among_good_ones_is_rejected_not_fatal(tmp_path):
    path = tmp_path / "ragged.jsonl"
    lines = [json.dumps({"timestamp": i, "ftr_vector": [float(i)]}) for i in range(100)]
    lines[50] = json.dumps({"timestamp": 50, "ftr_vector": [1.0, 2.0]})
    path.write_text("\n".join(lines) + "\n")
    got = read_all(path, batch=1000)
    assert len(got["values"]) == 99
    assert [(r.position, r.reason) for r in got["rejected"]] == [
        (51, "ftr_vector has 2 values, expected 1 (input_vector_size)")]


def test_a_ragged_row_does_not_change_how_the_other_rows_of_its_chunk_are_judged(tmp_path):
    straight = "\n".join(line for line in BAD_CSV.split("\n") if line.count(",") in (0, 3))
    (tmp_path / "bad.csv").write_text(straight)
    without = read_all(tmp_path / "bad.csv", width=2)
    (tmp_path / "bad.csv").write_text(BAD_CSV)
    with_ragged = read_all(tmp_path / "bad.csv", width=2)
    reasons = {r.raw: r.reason for r in with_ragged["rejected"] if "fields" not in r.reason}
    assert reasons == {r.raw: r.reason for r in without["rejected"]}
    assert with_ragged["values"].tolist() == without["values"].tolist()


def test_an_unclosed_quote_loses_no_row_of_its_chunk(tmp_path):
    (tmp_path / "q.csv").write_text('timestamp,value\n1,2\n3,"4\n4,5\n')
    got = read_all(tmp_path / "q.csv")
    assert got["values"].ravel().tolist() == [2, 4, 5] and got["position"] == [2, 3, 4]


def test_a_first_row_with_an_extra_field_is_rejected_and_shifts_no_column(tmp_path):
    (tmp_path / "x.csv").write_text("timestamp,value\n1,2,3\n2,3\n3,4\n")
    got = read_all(tmp_path / "x.csv")
    assert got["values"].ravel().tolist() == [3, 4] and got["timestamp"].tolist() == [2, 3]
    assert [(r.location, r.reason) for r in got["rejected"]] == [("x.csv line 2", "expected 2 fields, got 3")]
