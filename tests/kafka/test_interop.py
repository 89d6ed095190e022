"""An independent Kafka client, librdkafka (the confluent-kafka wheel), writes the input we read and
reads the results we write, keys and dead-letter headers included."""
from __future__ import annotations

import json
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from tests.kafka.conftest import kafka_config


def librdkafka_read(bootstrap: str, topic: str, partitions: int, expected: int, timeout: float = 20) -> list:
    """Messages of ``topic`` read by librdkafka (assigned partitions, no group join)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "interop-reader",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        messages = []
        deadline = time.monotonic() + timeout
        while len(messages) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                messages.append(message)
        return messages
    finally:
        consumer.close()


def test_librdkafka_writes_our_input_and_reads_our_results(tmp_path, broker, start_run):
    n = 300
    broker.create_topic("rd.in", partitions=2)
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    sent = []
    for i in range(n):
        key = f"dev{i % 3}"
        value = {"timestamp": 1_600_000_000_000 + i * 1000, "ftr_vector": [float(i % 10)]}
        producer.produce("rd.in", json.dumps(value).encode(), key=key.encode())
        sent.append((key, value))
    producer.produce("rd.in", b"\xff not utf-8, not JSON", key=b"dev0")
    assert producer.flush(10) == 0
    # the output topics exist before anyone writes them, so a librdkafka reader can be assigned
    broker.create_topic("rd.out", partitions=1)
    broker.create_topic("rd.in.dlq", partitions=1)
    config = kafka_config(tmp_path / "interop.json", broker, ["rd.in"], [(
        "BorderCheck()", {"input_vector_size": 1, "UL": 8, "LL": 1, "warning_stages": [],
                          "output": ["KafkaOutput()"], "output_conf": [{"topic": "rd.out"}]})])

    run = start_run(config)
    results = librdkafka_read(broker.bootstrap, "rd.out", 1, n)
    assert len(results) == n, run.stderr()
    run.wait_for_log("rejected rd.in/partition")
    assert run.stop() == 143

    by_key: dict[str, list[dict]] = {}
    for message in results:
        by_key.setdefault(message.key().decode(), []).append(json.loads(message.value()))
    for key in ("dev0", "dev1", "dev2"):
        inputs = [v for k, v in sent if k == key]
        records = by_key[key]
        assert [r["timestamp"] for r in records] == [float(v["timestamp"]) for v in inputs]
        assert [r["value"] for r in records] == [v["ftr_vector"] for v in inputs]
        expected = [1 if 1 <= v["ftr_vector"][0] <= 8 else -1 for v in inputs]
        assert [r["status_code"] for r in records] == expected
        assert {r["algorithm"] for r in records} == {"border_check"}

    letters = librdkafka_read(broker.bootstrap, "rd.in.dlq", 1, 1)
    assert letters[0].value() == b"\xff not utf-8, not JSON" and letters[0].key() == b"dev0"
    assert dict(letters[0].headers())["dlq.reason"].startswith(b"not valid JSON")
