"""Kafka in, results out, against a real broker: the same statuses as a file run of the same data,
one result per message and detector, bad messages in the dead-letter topic, and -fk warm-up."""
from __future__ import annotations

import json
import math
import signal

from tests.conftest import run_cli
from tests.kafka.conftest import kafka_config

DETECTORS = [
    ("BorderCheck()", {"input_vector_size": 1, "UL": 1.5, "LL": -1.5, "warning_stages": [0.7],
                       "output": ["FileOutput()", "KafkaOutput()"],
                       "output_conf": [{"file_name": "bc.jsonl"}, {"node_id": "e2e"}]}),
    ("EMA()", {"input_vector_size": 1, "N": 5, "UL": 1.5, "LL": -1.5, "warning_stages": [0.8],
               "output": ["FileOutput()"], "output_conf": [{"file_name": "ema.jsonl"}]}),
    # a time-of-day filter on one detector must not starve the others reading the same topic
    ("BorderCheck()", {"input_vector_size": 1, "UL": 1.5, "LL": -1.5, "warning_stages": [],
                       "filtering": "[[12, 0, 0], [6, 0, 0]]",
                       "output": ["FileOutput()"], "output_conf": [{"file_name": "filtered.jsonl"}]}),
]
OUTPUTS = ("bc.jsonl", "ema.jsonl", "filtered.jsonl")


def series(n: int, start_s: float, step_s: float, ms: bool, phase: float) -> list[dict]:
    """A sine with spikes; timestamps in seconds or milliseconds."""
    out = []
    for i in range(n):
        value = math.sin(i / 15 + phase) + (3.0 if i % 97 == 13 else 0.0) - (2.5 if i % 131 == 7 else 0.0)
        t = start_s + i * step_s
        out.append({"timestamp": t * 1000 if ms else t, "ftr_vector": [round(value, 6)]})
    return out


def file_only(conf: dict) -> dict:
    """A detector conf with its file outputs only."""
    pairs = [(o, c) for o, c in zip(conf["output"], conf["output_conf"]) if o == "FileOutput()"]
    return {**conf, "output": [o for o, _ in pairs], "output_conf": [c for _, c in pairs]}


def file_reference(tmp_path, name: str, messages: list[dict]) -> dict[str, list[dict]]:
    """The records a file run (-f) of ``messages`` writes, per output."""
    data = tmp_path / f"{name}.jsonl"
    data.write_text("".join(json.dumps(m) + "\n" for m in messages))
    config = tmp_path / f"file_{name}.json"
    config.write_text(json.dumps({"file_name": str(data), "anomaly_detection_alg": [d for d, _ in DETECTORS],
                                  "anomaly_detection_conf": [file_only(c) for _, c in DETECTORS]}))
    log_dir = tmp_path / f"file_{name}_log"
    result = run_cli("-c", config, "-f", "--log-dir", log_dir, "-q")
    assert result.returncode == 0, result.stderr
    return {out: [json.loads(line) for line in (log_dir / out).read_text().splitlines()] for out in OUTPUTS}


def test_kafka_run_gives_one_result_per_message_and_detector_equal_to_a_file_run(tmp_path, broker, start_run):
    n = 1200
    by_key = {"a": series(n, 1_600_000_000, 60, ms=False, phase=0.0),
              "b": series(n, 1_600_000_030, 60, ms=True, phase=1.0)}
    broker.create_topic("sensors", partitions=3)
    # interleaved as sensors would send them; each key keeps its own order on its partition
    broker.produce("sensors", [m for pair in zip(by_key["a"], by_key["b"]) for m in pair], keys=["a", "b"] * n)
    config = kafka_config(tmp_path / "e2e.json", broker, ["sensors"], DETECTORS)

    run = start_run(config)
    run.wait_for_results("bc.jsonl", 2 * n)
    run.wait_for_results("ema.jsonl", 2 * n)
    assert run.stop(signal.SIGTERM) == 143
    summary = run.summary()
    assert summary["outcome"] == "interrupted"
    assert summary["samples"] == 2 * n and summary["rejected"] == 0

    def key_of(record):  # key b has millisecond timestamps
        return "b" if record["timestamp"] > 1e11 else "a"

    for key, messages in by_key.items():
        expected = file_reference(tmp_path, key, messages)
        for out in OUTPUTS:
            got = [r for r in run.results(out) if key_of(r) == key]
            assert got == expected[out], f"{out}, key {key}"
        assert 0 < len(expected["filtered.jsonl"]) < n  # the filter did filter
        assert any(r["status_code"] == -1 for r in expected["bc.jsonl"])

    # the Kafka output: the file output's records, keyed by the input key, to the config's broker
    records = broker.read("anomalies_e2e", expected=2 * n)
    assert len(records) == 2 * n
    for key in by_key:
        values = [json.loads(r.value) for r in records if r.key == key.encode()]
        assert values == [r for r in run.results("bc.jsonl") if key_of(r) == key]


def test_malformed_messages_go_to_the_dead_letter_topic_and_the_run_continues(tmp_path, broker, start_run):
    broker.create_topic("raw", partitions=1)
    good = [{"timestamp": 1_600_000_000 + i, "ftr_vector": [0.5]} for i in range(10)]
    bad = ["not json {", {"timestamp": 1}, {"ftr_vector": [1.0]}, {"timestamp": 2, "ftr_vector": [1.0, 2.0]},
           {"timestamp": 3, "ftr_vector": ["x"]}]
    placed = broker.produce("raw", good[:5] + bad + good[5:])
    config = kafka_config(tmp_path / "dlq.json", broker, ["raw"], [DETECTORS[0]])

    run = start_run(config)
    run.wait_for_results("bc.jsonl", 10)
    broker.produce("raw", [{"timestamp": 1_600_000_100, "ftr_vector": [0.1]}])
    run.wait_for_results("bc.jsonl", 11)
    run.wait_for_log("rejected raw/partition 0 offset 9")
    assert run.stop() == 143
    assert run.summary()["rejected"] == 5 and run.summary()["samples"] == 11

    # keyless dead letters may land on any partition of the dead-letter topic
    letters = sorted(broker.read("raw.dlq", expected=5), key=lambda r: int(dict(r.headers)["dlq.offset"]))
    assert [r.value for r in letters] == [b"not json {"] + [json.dumps(b).encode() for b in bad[1:]]
    headers = [dict(r.headers) for r in letters]
    assert [int(h["dlq.offset"]) for h in headers] == [offset for _, offset in placed[5:10]]
    assert {h["dlq.topic"] for h in headers} == {b"raw"}
    reasons = [h["dlq.reason"].decode() for h in headers]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1:] == ["missing ftr_vector", "missing timestamp",
                           "ftr_vector has 2 values, expected 1 (input_vector_size)",
                           'ftr_vector[0] is not a number: "x"']
    assert "rejected raw/partition 0 offset 5: not valid JSON" in run.stderr()


def test_filekafka_warms_up_on_the_file_and_carries_the_state_into_the_topic(tmp_path, broker, start_run):
    messages = series(800, 1_600_000_000, 1, ms=False, phase=0.3)
    warm, live = messages[:500], messages[500:]
    warm_file = tmp_path / "warm.jsonl"
    warm_file.write_text("".join(json.dumps(m) + "\n" for m in warm))
    broker.create_topic("live", partitions=1)
    broker.produce("live", live)
    ema = ("EMA()", {"input_vector_size": 1, "N": 20, "UL": 1.2, "LL": -1.2, "warning_stages": [0.9],
                     "output": ["FileOutput()"], "output_conf": [{"file_name": "ema.jsonl"}]})
    config = kafka_config(tmp_path / "fk.json", broker, ["live"], [ema], file_name=str(warm_file))

    run = start_run(config, flags=("-fk",))
    got = run.wait_for_results("ema.jsonl", 800)
    assert run.stop() == 143

    data = tmp_path / "all.jsonl"
    data.write_text("".join(json.dumps(m) + "\n" for m in messages))
    reference = tmp_path / "ref.json"
    reference.write_text(json.dumps({"file_name": str(data), "anomaly_detection_alg": ["EMA()"],
                                     "anomaly_detection_conf": [ema[1]]}))
    result = run_cli("-c", reference, "-f", "--log-dir", tmp_path / "ref", "-q")
    assert result.returncode == 0, result.stderr
    expected = [json.loads(line) for line in (tmp_path / "ref" / "ema.jsonl").read_text().splitlines()]
    assert got == expected
