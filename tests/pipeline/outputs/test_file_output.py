"""FileOutput writes every format readable at every flush, appends and truncates as asked."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from pipeline.detectors import BorderCheck
from pipeline.engine import DetectorRun
from pipeline.outputs import FileOutput, RunContext, TerminalOutput
from tests.conftest import batch_of

FIELDS = ["timestamp", "status", "status_code", "value", "suggested_value", "algorithm", "score"]


def results(values, start=0):
    return DetectorRun(0, BorderCheck(UL=2, LL=-2, warning_stages=[0.5])).process(batch_of(values, start=start))


def write(path, batches, mode="w", send_ok=True, tmp=None):
    out = FileOutput(file_name=str(path), mode=mode, send_ok=send_ok)
    out.open(RunContext(log_dir=tmp or path.parent))
    for b in batches:
        out.write(b)
        out.flush()
    out.close()
    return out


def test_csv_has_the_header_and_one_row_per_record(tmp_path):
    path = tmp_path / "out.csv"
    write(path, [results([0.0, 3.0]), results([-1.5], start=2)])
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == FIELDS
    assert [(r["timestamp"], r["status"], r["status_code"], r["value"], r["algorithm"]) for r in rows] == [
        ("0.0", "OK", "1", "[0.0]", "border_check"),
        ("1.0", "Error: measurement above upper limit", "-1", "[3.0]", "border_check"),
        ("2.0", "Warning0: measurement close to lower limit.", "0", "[-1.5]", "border_check")]
    assert float(rows[1]["score"]) == pytest.approx(0.6)


def test_json_is_a_valid_document_after_every_flush(tmp_path):
    path = tmp_path / "out.json"
    out = FileOutput(file_name=str(path))
    out.open(RunContext(log_dir=tmp_path))
    assert json.loads(path.read_text()) == {"data": []}
    for k in range(3):
        out.write(results([0.0, 5.0], start=2 * k))
        out.flush()
        records = json.loads(path.read_text())["data"]
        assert len(records) == 2 * (k + 1)
    out.close()
    first = json.loads(path.read_text())["data"][1]
    assert first == {"timestamp": 1.0, "status": "Error: measurement above upper limit", "status_code": -1,
                     "value": [5.0], "algorithm": "border_check", "score": pytest.approx(2.5 / 3.5, rel=1e-5)}


def test_json_append_mode_continues_the_existing_document(tmp_path):
    path = tmp_path / "out.json"
    write(path, [results([0.0])])
    write(path, [results([5.0], start=1)], mode="a")
    assert [r["timestamp"] for r in json.loads(path.read_text())["data"]] == [0.0, 1.0]


def test_append_creates_a_missing_file_and_csv_header_is_written_once(tmp_path):
    path = tmp_path / "new.csv"
    write(path, [results([0.0])], mode="a")
    write(path, [results([1.0], start=1)], mode="a")
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(FIELDS) and len(lines) == 3


def test_write_mode_truncates(tmp_path):
    path = tmp_path / "out.jsonl"
    write(path, [results([0.0, 1.0])])
    write(path, [results([2.0], start=5)])
    assert [json.loads(line)["timestamp"] for line in path.read_text().splitlines()] == [5.0]


def test_send_ok_false_keeps_only_warnings_errors_and_undefined(tmp_path):
    path = tmp_path / "out.jsonl"
    write(path, [results([0.0, 3.0, 0.1, -1.5])], send_ok=False)
    assert [json.loads(line)["status_code"] for line in path.read_text().splitlines()] == [-1, 0]


def test_txt_is_the_terminal_line(tmp_path, capsys):
    path = tmp_path / "out.txt"
    write(path, [results([3.0])])
    terminal = TerminalOutput()
    terminal.open(RunContext(log_dir=tmp_path))
    terminal.write(results([3.0]))
    terminal.flush()
    line = "0.0: Error: measurement above upper limit (value: [3.0]), Algorithm: border_check, Score: 0.6"
    assert path.read_text() == line + "\n"
    assert capsys.readouterr().out == line + "\n"


def test_relative_names_go_under_the_log_folder(tmp_path):
    out = FileOutput(file_name="sub/out.csv")
    out.open(RunContext(log_dir=tmp_path / "log"))
    out.close()
    assert (tmp_path / "log" / "sub" / "out.csv").is_file()


def test_appending_to_a_foreign_json_file_is_refused(tmp_path):
    path = tmp_path / "foreign.json"
    path.write_text('{"something": 1}')
    with pytest.raises(ValueError, match="cannot append"):
        FileOutput(file_name=str(path), mode="a").open(RunContext(log_dir=tmp_path))


def test_multi_feature_values_are_json_lists(tmp_path):
    path = tmp_path / "out.csv"
    b = batch_of([0.0])
    b = type(b)(b.timestamp, b.time_s, np.array([[0.5, 2.0]]), b.position)
    write(path, [DetectorRun(0, BorderCheck(UL=1, LL=0)).process(b)])
    assert next(csv.DictReader(path.open()))["value"] == "[0.5, 2.0]"


def test_json_records_write_missing_values_as_null_and_keep_every_digit(tmp_path):
    path = tmp_path / "out.jsonl"
    b = batch_of([0.0, 0.0])
    b = type(b)(b.timestamp, b.time_s, np.array([[0.1, np.nan], [1e-7, 123456789.125]]), b.position)
    write(path, [DetectorRun(0, BorderCheck(UL=1, LL=0)).process(b)])
    values = [json.loads(line)["value"] for line in path.read_text().splitlines()]
    assert values == [[0.1, None], [1e-7, 123456789.125]]
