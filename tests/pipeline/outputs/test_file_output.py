"""FileOutput writes every format readable at every flush, appends and truncates as asked."""
from __future__ import annotations

import csv
import errno
import json
import os
import shutil

import numpy as np
import pytest

from pipeline.detectors.base import ParameterError
from pipeline.detectors.border_check import BorderCheck
from pipeline.engine import DetectorRun
from pipeline.outputs import RunContext
from pipeline.outputs.file import FileOutput
from pipeline.outputs.terminal import TerminalOutput
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


# -- a file a crash or a full disk cut off -------------------------------------------------------

def three_record_document(path):
    write(path, [results([0.0, 3.0]), results([-1.5], start=2)])
    return path.read_bytes()


def record_ends(text: bytes) -> list[int]:
    """Where each record of a document FileOutput wrote ends (just after its "}")."""
    ends, offset = [], 0
    for line in text.split(b"\n"):
        if line.startswith(b"{\"timestamp"):
            ends.append(offset + len(line.rstrip(b",")))
        offset += len(line) + 1
    return ends


def test_json_cut_off_anywhere_is_repaired_on_append_keeping_every_complete_record(tmp_path, caplog):
    path = tmp_path / "out.json"
    whole = three_record_document(path)
    ends = record_ends(whole)
    assert len(ends) == 3
    for cut in range(len(whole)):
        path.write_bytes(whole[:cut])
        caplog.clear()
        write(path, [results([9.0], start=100)], mode="a")
        records = json.loads(path.read_text())["data"]
        kept = sum(end <= cut for end in ends)
        assert [r["timestamp"] for r in records] == [0.0, 1.0, 2.0][:kept] + [100.0], cut
        if 0 < cut and not whole[:cut].endswith(b"]}"):  # the last newline is not needed
            head = len(b'{"data": [')
            dropped = cut - ends[kept - 1] if kept else cut if cut < head else cut - head
            assert f"dropped its last {dropped} byte" in caplog.text, (cut, caplog.text)


def test_json_cut_off_is_closed_again_on_open_even_if_nothing_follows(tmp_path):
    path = tmp_path / "out.json"
    whole = three_record_document(path)
    path.write_bytes(whole[:-10])
    out = FileOutput(file_name=str(path), mode="a")
    out.open(RunContext(log_dir=tmp_path))
    assert [r["timestamp"] for r in json.loads(path.read_text())["data"]] == [0.0, 1.0]
    out.close()


def test_a_whole_json_document_is_appended_to_without_a_warning(tmp_path, caplog):
    path = tmp_path / "out.json"
    three_record_document(path)
    write(path, [results([9.0], start=100)], mode="a")
    assert len(json.loads(path.read_text())["data"]) == 4
    assert "dropped" not in caplog.text


def test_a_document_the_original_project_wrote_is_appended_to(tmp_path):
    path = tmp_path / "out.json"
    path.write_text(json.dumps({"data": [{"timestamp": 1.0}, {"timestamp": 2.0}]}))
    write(path, [results([9.0], start=100)], mode="a")
    assert [r["timestamp"] for r in json.loads(path.read_text())["data"]] == [1.0, 2.0, 100.0]


@pytest.mark.parametrize("content", [
    '{"something": 1}',
    '{"other": [1, 2]}',
    "[1, 2, 3]",
    "timestamp,value\n1,2\n",
    '{"data": [{"timestamp": 1.0}, {"timestamp": 2.0}, {"timest',  # one line: no record to cut back to
])
def test_appending_to_a_json_file_that_is_not_our_document_is_refused_and_leaves_it_untouched(tmp_path, content):
    path = tmp_path / "foreign.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="cannot append") as refused:
        FileOutput(file_name=str(path), mode="a").open(RunContext(log_dir=tmp_path))
    assert str(path) in str(refused.value)
    assert path.read_text() == content


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.txt"])
def test_a_line_file_cut_off_mid_line_loses_only_that_line_on_append(tmp_path, name, caplog):
    path = tmp_path / name
    write(path, [results([0.0, 3.0])])
    whole = path.read_bytes()
    lines = whole.splitlines(keepends=True)
    for cut in range(1, len(whole)):
        path.write_bytes(whole[:cut])
        write(path, [results([9.0], start=100)], mode="a")
        kept = [line for line in lines if whole.index(line) + len(line) <= cut]
        if name == "out.csv" and not kept:
            kept = [lines[0]]  # the cut header is written again
        new = write(tmp_path / f"new{path.suffix}", [results([9.0], start=100)]).path.read_bytes()
        assert path.read_bytes() == b"".join(kept) + new.splitlines(keepends=True)[-1], cut
    assert "dropped its last" in caplog.text


# -- a file deleted or renamed during the run ----------------------------------------------------

def read_records(path, suffix=None):
    """The timestamps of the records in a file of format ``suffix`` (default: the path's)."""
    text = path.read_text()
    suffix = suffix or path.suffix
    if suffix == ".json":
        return [r["timestamp"] for r in json.loads(text)["data"]]
    if suffix == ".csv":
        return [float(r["timestamp"]) for r in csv.DictReader(text.splitlines())]
    if suffix == ".jsonl":
        return [json.loads(line)["timestamp"] for line in text.splitlines()]
    return [float(line.split(":")[0]) for line in text.splitlines()]


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.jsonl", "out.txt"])
@pytest.mark.parametrize("how", ["deleted", "renamed", "rotated_with_a_new_empty_file"])
def test_an_output_deleted_or_renamed_mid_run_is_created_again_and_nothing_is_lost(tmp_path, name, how, caplog):
    path = tmp_path / name
    out = FileOutput(file_name=name)
    out.open(RunContext(log_dir=tmp_path))
    out.write(results([0.0, 3.0]))
    out.flush()
    if how == "deleted":
        old = tmp_path / f"kept{path.suffix}"
        os.link(path, old)  # what a reader still holding the deleted file sees
        path.unlink()
    else:
        old = path.rename(tmp_path / f"{name}.1")
        if how == "rotated_with_a_new_empty_file":
            path.touch()
    out.write(results([-1.5], start=2))
    out.flush()
    out.write(results([0.5], start=3))
    out.close()
    assert read_records(old, path.suffix) == [0.0, 1.0]
    assert read_records(path) == [2.0, 3.0]
    assert caplog.text.count("deleted or moved away") == 1
    if name == "out.csv":
        assert path.read_text().splitlines()[0] == ",".join(FIELDS)


def test_each_rotation_is_followed(tmp_path, caplog):
    path = tmp_path / "out.csv"
    out = FileOutput(file_name=str(path))
    out.open(RunContext(log_dir=tmp_path))
    for k in range(3):
        out.write(results([float(k)], start=k))
        out.flush()
        path.rename(tmp_path / f"out.csv.{k}")
    out.write(results([9.0], start=9))
    out.close()
    assert [read_records(tmp_path / f"out.csv.{k}", ".csv") for k in range(3)] == [[0.0], [1.0], [2.0]]
    assert read_records(path) == [9.0]
    assert caplog.text.count("deleted or moved away") == 3


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.jsonl", "out.txt"])
def test_an_output_truncated_in_place_mid_run_is_started_again_without_a_hole(tmp_path, name, caplog):
    """logrotate's copytruncate: the file is copied, then emptied in place (same inode)."""
    path = tmp_path / name
    out = FileOutput(file_name=name)
    out.open(RunContext(log_dir=tmp_path))
    out.write(results([0.0, 3.0]))
    out.flush()
    inode = path.stat().st_ino
    for k in range(2):  # each rotation is followed
        shutil.copy(path, tmp_path / f"{name}.{k + 1}")
        with open(path, "r+") as f:
            f.truncate(0)
        assert path.stat().st_ino == inode
        out.write(results([-1.5, 0.5], start=2 + 2 * k))
        out.flush()
        if name == "out.json":
            json.loads(path.read_text())  # a whole document after every flush
    out.write(results([1.0], start=6))
    out.close()
    data = path.read_bytes()
    assert b"\0" not in data
    assert read_records(tmp_path / f"{name}.1", path.suffix) == [0.0, 1.0]
    assert read_records(tmp_path / f"{name}.2", path.suffix) == [2.0, 3.0]
    assert read_records(path) == [4.0, 5.0, 6.0]
    assert caplog.text.count("was truncated during the run") == 2
    if name == "out.csv":
        assert data.decode().splitlines()[0] == ",".join(FIELDS)
        assert data.decode().count("timestamp,") == 1
    if name == "out.json":
        assert data.startswith(b'{"data": [')


def test_an_output_not_truncated_is_not_started_again(tmp_path, caplog):
    path = tmp_path / "out.json"
    write(path, [results([0.0]), results([1.0], start=1), results([2.0], start=2)])
    assert read_records(path) == [0.0, 1.0, 2.0]
    assert "truncated" not in caplog.text


def test_an_output_whose_folder_was_removed_mid_run_is_created_again(tmp_path):
    out = FileOutput(file_name="sub/out.jsonl")
    out.open(RunContext(log_dir=tmp_path))
    out.write(results([0.0]))
    out.flush()
    shutil.rmtree(tmp_path / "sub")
    out.write(results([1.0], start=1))
    out.close()
    assert read_records(tmp_path / "sub" / "out.jsonl") == [1.0]


# -- a full disk ---------------------------------------------------------------------------------

def test_a_full_disk_fails_the_flush_with_an_error_naming_the_file(tmp_path):
    path = tmp_path / "out.jsonl"
    path.symlink_to("/dev/full")  # a real device whose every write fails with ENOSPC
    out = FileOutput(file_name=str(path))
    out.open(RunContext(log_dir=tmp_path))
    out.write(results([0.0, 3.0]))
    with pytest.raises(OSError) as failed:
        out.flush()
    assert failed.value.errno == errno.ENOSPC
    assert str(path) in str(failed.value) and "2 records" in str(failed.value)
    with pytest.raises(OSError):
        out.close()  # the records are still pending: closing tries once more, and says so


def test_a_csv_on_a_full_disk_fails_when_the_run_opens_it(tmp_path):
    path = tmp_path / "out.csv"
    path.symlink_to("/dev/full")
    with pytest.raises(OSError, match="cannot write the header") as failed:
        FileOutput(file_name=str(path)).open(RunContext(log_dir=tmp_path))
    assert failed.value.errno == errno.ENOSPC


class FillsUp:
    """A file on a disk with ``room`` bytes free: a write beyond them fails with ENOSPC after
    writing what fits, and truncating frees space again (the device /dev/full above fails every
    write, so it cannot show a partly written flush)."""

    def __init__(self, file, room):
        self.file, self.room = file, room

    def truncate(self, size=None):
        before = os.fstat(self.file.fileno()).st_size
        after = self.file.truncate(size)
        self.room += max(0, before - after)
        return after

    def write(self, data):
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = self.file.write(bytes(data[:self.room]))
        self.room -= written
        return written

    def __getattr__(self, name):
        return getattr(self.file, name)


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.jsonl", "out.txt"])
def test_a_flush_failing_on_a_full_disk_leaves_the_file_valid_and_a_later_flush_writes_every_record(
        tmp_path, name):
    path = tmp_path / name
    out = FileOutput(file_name=name)
    out.open(RunContext(log_dir=tmp_path))
    out.write(results([0.0, 3.0]))
    out.flush()
    before = path.read_bytes()
    out.write(results([-1.5, 0.5], start=2))
    real = out._file
    out._file = FillsUp(real, room=30)
    with pytest.raises(OSError, match="No space left"):
        out.flush()
    assert path.read_bytes() == before  # the half-written records are gone, the file is whole
    out._file = real  # space was freed
    out.write(results([0.1], start=4))
    out.close()
    assert read_records(path) == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_json_output_must_be_a_regular_file(tmp_path):
    path = tmp_path / "out.json"
    path.symlink_to("/dev/full")
    with pytest.raises(ValueError, match="regular file"):
        FileOutput(file_name=str(path)).open(RunContext(log_dir=tmp_path))


# -- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../out.csv", "sub/../../out.csv", ".."+"/log2/out.json"])
def test_a_relative_name_leaving_the_log_folder_is_refused(name):
    with pytest.raises(ParameterError, match="inside the log folder"):
        FileOutput(file_name=name)


@pytest.mark.parametrize("name", ["sub/../out.csv", "./out.csv", "..out.csv", "/tmp/elsewhere/out.csv"])
def test_names_inside_the_log_folder_and_absolute_names_are_accepted(name):
    FileOutput(file_name=name)
