"""Every output writes a record's ``timestamp`` by one rule: the input's number, unchanged and in
its own unit (epoch seconds stay seconds, milliseconds stay milliseconds), and ISO 8601 text as
epoch seconds (UTC), the number the reader made of it. Shown from input file to each output."""
from __future__ import annotations

import csv
import json

import pytest

from pipeline.consumers import FileConsumer
from pipeline.detector_run import DetectorRun
from pipeline.detectors.border_check import BorderCheck
from pipeline.outputs import RunContext
from pipeline.outputs import kafka as kafka_output
from pipeline.outputs.file import FileOutput
from pipeline.outputs.kafka import KafkaOutput
from pipeline.outputs.terminal import TerminalOutput

#: (as the input gives it, what every output writes)
TIMESTAMPS = [
    ("1700000000123", 1700000000123.0),                  # milliseconds stay milliseconds
    ("1700000000.5", 1700000000.5),                      # seconds stay seconds
    ("2023-11-14T22:13:20Z", 1700000000.0),              # ISO 8601: epoch seconds, UTC
    ("2023-11-14T23:13:20.250+01:00", 1700000000.25),    # with a zone and a fraction
    ("0.01", 0.01),                                      # the ads-*.csv sets' tiny seconds
]


@pytest.fixture
def results(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("timestamp,value\n" + "".join(f"{given},{i}\n" for i, (given, _) in enumerate(TIMESTAMPS)))
    with FileConsumer(path, 1) as source:
        samples = source.poll(100).samples
    assert len(samples) == len(TIMESTAMPS)
    return DetectorRun(0, BorderCheck(UL=10, LL=-10, warning_stages=[])).judge(samples)


EXPECTED = [written for _, written in TIMESTAMPS]


def write(tmp_path, name, results):
    out = FileOutput(file_name=name)
    out.open(RunContext(log_dir=tmp_path))
    out.write(results)
    out.close()
    return tmp_path / name


def test_csv_output_writes_the_input_number_in_its_unit_and_iso_text_as_epoch_seconds(tmp_path, results):
    rows = list(csv.DictReader(write(tmp_path, "out.csv", results).open()))
    assert [float(r["timestamp"]) for r in rows] == EXPECTED
    assert rows[0]["timestamp"] == "1700000000123.0"


def test_json_output_writes_the_same_numbers(tmp_path, results):
    data = json.loads(write(tmp_path, "out.json", results).read_text())["data"]
    assert [r["timestamp"] for r in data] == EXPECTED


def test_json_lines_output_writes_the_same_numbers(tmp_path, results):
    lines = write(tmp_path, "out.jsonl", results).read_text().splitlines()
    assert [json.loads(line)["timestamp"] for line in lines] == EXPECTED


def test_text_and_terminal_outputs_write_the_same_numbers(tmp_path, results, capsys):
    lines = write(tmp_path, "out.txt", results).read_text().splitlines()
    assert [float(line.split(": ", 1)[0]) for line in lines] == EXPECTED
    out = TerminalOutput()
    out.open(RunContext(log_dir=tmp_path))
    out.write(results)
    out.flush()
    assert capsys.readouterr().out.splitlines() == lines


class RecordingProducer:
    def __init__(self):
        self.sent = []

    def send_all(self, topic, records, key):
        self.sent += [(topic, key, record) for record in records]

    def flush(self):
        pass

    def close(self):
        pass


def test_kafka_output_writes_the_same_numbers(tmp_path, results, monkeypatch):
    producer = RecordingProducer()
    monkeypatch.setattr(kafka_output, "open_producer", lambda *args, **kwargs: producer)
    out = KafkaOutput(node_id=7)
    out.open(RunContext(log_dir=tmp_path))
    out.write(results)
    out.close()
    assert [json.loads(record)["timestamp"] for _, _, record in producer.sent] == EXPECTED
    assert {topic for topic, _, _ in producer.sent} == {"anomalies_7"}
