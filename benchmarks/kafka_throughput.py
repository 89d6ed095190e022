#!/usr/bin/env python3
"""End-to-end Kafka rate (consume + detect + produce results) next to bare consume loops of both
client libraries on the same topic, in the same run, against a local tansu broker
(tests/kafka/broker.py).

200,000 messages ``{"timestamp": ..., "ftr_vector": [x]}`` (a sine with 1 % spikes) go to a
4-partition topic. Then, each with its own consumer group and reading the whole topic:

* bare kafka-python (the run's consumer): ``KafkaConsumer.poll(max_records=65536)`` counting
  records, nothing else;
* bare librdkafka (confluent-kafka, the run's producer library): ``Consumer.consume(65536)``
  counting messages, nothing else (``fetch.queue.backoff.ms`` 10, see ``bare_librdkafka``). It
  keeps the choice of consumer library measured (docs/KAFKA.md, "Why two client libraries");
* end to end, anomalies only: the headless run's engine (``RunSetup`` as ``main.py -c`` builds it)
  with BorderCheck and a KafkaOutput with ``send_ok: false`` (only warnings and errors written),
  offsets committed after each flush;
* end to end, every record: the same with ``send_ok: true`` (one output message per input).

Each rate is messages / seconds from the first record received to the last result delivered
(group joins are left out). The bare loops also report the CPU time the whole process spent per
message (the client library's own threads included), as do the end-to-end runs: on a machine where
the broker shares the cores, the rate may be the broker's, while the CPU time is the client's alone,
and the end-to-end CPU time less the bare consumer's is what detecting and writing cost. Each bare loop runs
twice (before and after the end-to-end runs) and the faster run counts. Target: end to end >= 0.7 x
bare kafka-python.

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


def bare_kafka_python(broker: Broker, n: int, group: str) -> tuple[float, float]:
    """Seconds a plain kafka-python consume loop takes for n messages (from the first record), and
    the process's CPU seconds meanwhile."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(TOPIC, bootstrap_servers=broker.bootstrap, group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False, **TEST_SESSION)
    count, first, cpu = 0, None, 0.0
    while count < n:
        records = consumer.poll(timeout_ms=100, max_records=65536)
        if records and first is None:
            first, cpu = time.perf_counter(), time.process_time()
        count += sum(len(batch) for batch in records.values())
    elapsed, cpu = time.perf_counter() - first, time.process_time() - cpu
    consumer.close()
    return elapsed, cpu


def bare_librdkafka(broker: Broker, n: int, group: str) -> tuple[float, float]:
    """Seconds a plain confluent-kafka consume loop takes for n messages (from the first message),
    with the group settings of the kafka-python loop, and the process's CPU seconds meanwhile."""
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": TEST_SESSION["session_timeout_ms"],
                         "heartbeat.interval.ms": TEST_SESSION["heartbeat_interval_ms"],
                         # by default a partition whose fetched messages pass queued.min.messages
                         # (100,000) is not fetched again for 1 s: a consumer catching up on a
                         # backlog, as here, then reads about 190,000 msg/s, waiting most of the time
                         "fetch.queue.backoff.ms": 10})
    consumer.subscribe([TOPIC])
    count, first, cpu = 0, None, 0.0
    while count < n:
        messages = consumer.consume(num_messages=65536, timeout=0.1)
        if messages and first is None:
            first, cpu = time.perf_counter(), time.process_time()
        count += len(messages)
        if messages and messages[-1].error() is not None:  # errors come last in a batch, if at all
            raise RuntimeError(f"librdkafka consumer: {messages[-1].error()}")
    elapsed, cpu = time.perf_counter() - first, time.process_time() - cpu
    consumer.close()
    return elapsed, cpu


class StopAt:
    """Engine listener: notes the first batch and stops the engine after n samples."""

    def __init__(self, n: int):
        self.n, self.seen, self.first, self.first_cpu, self.engine = n, 0, None, 0.0, None

    def on_results(self, samples, results) -> None:
        if self.first is None:
            self.first, self.first_cpu = time.perf_counter(), time.process_time()
        self.seen += len(samples)
        if self.seen >= self.n:
            self.engine.stop()


def end_to_end(broker: Broker, n: int, send_ok: bool, log_dir: Path, run: int = 0) -> tuple[float, float, int]:
    """Seconds for n messages through the engine with a KafkaOutput, the process's CPU seconds
    meanwhile, and results written."""
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
        elapsed, cpu = time.perf_counter() - stop.first, time.process_time() - stop.first_cpu
        written = setup.runs[0].outputs[0]._producer.sent
    return elapsed, cpu, written


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
        # the bare loops run before and after the end-to-end runs; the faster run of each counts
        kafka_python = [bare_kafka_python(broker, n, "bench-bare-1")]
        librdkafka = [bare_librdkafka(broker, n, "bench-librdkafka-1")]
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for send_ok, label in ((False, "anomalies only"), (True, "every record  ")):
                results.append((label, *end_to_end(broker, n, send_ok, Path(tmp))))
        kafka_python.append(bare_kafka_python(broker, n, "bench-bare-2"))
        librdkafka.append(bare_librdkafka(broker, n, "bench-librdkafka-2"))
        bare_s, bare_cpu = min(kafka_python)
        librdkafka_s, librdkafka_cpu = min(librdkafka)
        print(f"bare kafka-python consume loop   {n / bare_s:>9,.0f} msg/s  "
              f"({bare_cpu / n * 1e6:.2f} µs CPU a message)")
        print(f"bare librdkafka consume loop     {n / librdkafka_s:>9,.0f} msg/s  = {bare_s / librdkafka_s:.2f} x "
              f"bare kafka-python ({librdkafka_cpu / n * 1e6:.2f} µs CPU a message)")
        for label, e2e_s, e2e_cpu, written in results:
            print(f"end to end, {label}      {n / e2e_s:>9,.0f} msg/s  = {bare_s / e2e_s:.2f} x bare kafka-python "
                  f"({e2e_cpu / n * 1e6:.2f} µs CPU a message; {written:,} results produced)")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
