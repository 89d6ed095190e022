#!/usr/bin/env python3
"""End-to-end Kafka rate (consume + detect + produce results) next to a bare kafka-python consume
loop on the same topic, in the same run, against a local tansu broker (tests/kafka/broker.py).

200,000 messages ``{"timestamp": ..., "ftr_vector": [x]}`` (a sine with 1 % spikes) go to a
4-partition topic. Then, each with its own consumer group and reading the whole topic:

* bare: ``KafkaConsumer.poll(max_records=65536)`` counting records, nothing else;
* end to end, anomalies only: the headless run's engine (``RunSetup`` as ``main.py -c`` builds it)
  with BorderCheck and a KafkaOutput with ``send_ok: false`` (only warnings and errors written),
  offsets committed after each flush;
* end to end, every record: the same with ``send_ok: true`` (one output message per input).

Each rate is messages / seconds from the first record received to the last result delivered
(group joins are left out). Target: end to end >= 0.7 x bare.

    pip install -r requirements-test.txt
    python benchmarks/kafka_throughput.py [--messages N]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import parse_config  # noqa: E402
from pipeline.run import RunSetup  # noqa: E402
from tests.kafka.broker import TEST_SESSION, Broker  # noqa: E402

TOPIC = "bench.in"


def produce(broker: Broker, n: int) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False,
                             linger_ms=20, batch_size=512 * 1024)
    for i in range(n):
        x = math.sin(i / 30) + (4.0 if i % 100 == 37 else 0.0)
        producer.send(TOPIC, json.dumps({"timestamp": 1_600_000_000 + i, "ftr_vector": [round(x, 6)]}).encode())
    producer.flush()
    producer.close()


def bare(broker: Broker, n: int, group: str) -> float:
    """Seconds a plain kafka-python consume loop takes for n messages (from the first record)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(TOPIC, bootstrap_servers=broker.bootstrap, group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False, **TEST_SESSION)
    count, first = 0, None
    while count < n:
        records = consumer.poll(timeout_ms=100, max_records=65536)
        if records and first is None:
            first = time.perf_counter()
        count += sum(len(batch) for batch in records.values())
    elapsed = time.perf_counter() - first
    consumer.close()
    return elapsed


class StopAt:
    """Engine listener: notes the first batch and stops the engine after n samples."""

    def __init__(self, n: int):
        self.n, self.seen, self.first, self.engine = n, 0, None, None

    def on_results(self, samples, results) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        self.seen += len(samples)
        if self.seen >= self.n:
            self.engine.stop()


def end_to_end(broker: Broker, n: int, send_ok: bool, log_dir: Path, run: int = 0) -> tuple[float, int]:
    """Seconds for n messages through the engine with a KafkaOutput, and results written."""
    output = {"topic": f"bench.out.{send_ok}", "send_ok": send_ok}
    raw = {"anomaly_detection_alg": ["BorderCheck()"],
           "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 2.5, "LL": -2.5, "warning_stages": [0.9],
                                       "output": ["KafkaOutput()"], "output_conf": [output]}],
           "bootstrap_servers": broker.bootstrap, "topics": [TOPIC], "group_id": f"bench-e2e-{send_ok}-{run}",
           "auto_offset_reset": "earliest", **TEST_SESSION}
    setup = RunSetup(parse_config(raw, Path(f"bench_{send_ok}.json")), log_dir, mode="kafka")
    stop = StopAt(n)
    with setup:
        engine = setup.engine(listeners=[stop])
        stop.engine = engine
        engine.run()  # ends with the last flush (results acknowledged) and commit
        elapsed = time.perf_counter() - stop.first
        written = setup.runs[0].outputs[0]._producer.sent
    return elapsed, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    n = args.messages
    broker = Broker().start()
    try:
        broker.create_topic(TOPIC, partitions=4)
        began = time.perf_counter()
        produce(broker, n)
        print(f"produced {n:,} messages in {time.perf_counter() - began:.1f} s (tansu {broker.bootstrap})")
        # the bare loop runs before and after the end-to-end runs; the faster one is the yardstick
        bare_s = bare(broker, n, "bench-bare-1")
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for send_ok, label in ((False, "anomalies only"), (True, "every record  ")):
                results.append((label, *end_to_end(broker, n, send_ok, Path(tmp))))
        bare_s = min(bare_s, bare(broker, n, "bench-bare-2"))
        print(f"bare kafka-python consume loop   {n / bare_s:>9,.0f} msg/s")
        for label, e2e_s, written in results:
            print(f"end to end, {label}      {n / e2e_s:>9,.0f} msg/s  = {bare_s / e2e_s:.2f} x bare "
                  f"({written:,} results produced)")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
