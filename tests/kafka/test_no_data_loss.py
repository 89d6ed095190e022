"""No message is lost: kill -9 mid-stream and restart, broker restart mid-run, broker absent at
the start. Duplicates after a crash are at most the messages after the last commit."""
from __future__ import annotations

import json
import threading
import time

from pipeline.kafka.options import parse_kafka
from pipeline.kafka.source import KafkaSource
from tests.kafka.broker import TEST_SESSION, Broker, free_port, wait_until
from tests.kafka.conftest import BORDER, indexed, kafka_config, seen


class SteadyProducer(threading.Thread):
    """Produces ``total`` indexed messages in chunks, ``rate`` per second, recording where each
    landed (index -> (partition, offset))."""

    def __init__(self, broker: Broker, topic: str, total: int, rate: float, chunk: int = 100):
        super().__init__(daemon=True)
        self.broker, self.topic, self.total, self.rate, self.chunk = broker, topic, total, rate, chunk
        self.placed: dict[int, tuple[int, int]] = {}
        self.error: BaseException | None = None

    def run(self):
        try:
            for start in range(0, self.total, self.chunk):
                began = time.monotonic()
                places = self.broker.produce(self.topic, indexed(start, self.chunk))
                self.placed.update(zip(range(start, start + self.chunk), places))
                time.sleep(max(0.0, self.chunk / self.rate - (time.monotonic() - began)))
        except BaseException as err:  # reported by the test
            self.error = err


def test_kill_9_mid_stream_then_restart_loses_nothing_and_repeats_only_what_was_not_committed(
        tmp_path, broker, start_run):
    total = 6000
    broker.create_topic("crash", partitions=2)
    config = kafka_config(tmp_path / "crash.json", broker, ["crash"], [BORDER])
    producer = SteadyProducer(broker, "crash", total, rate=1500)

    first = start_run(config, "first")
    first.wait_for_log("Kafka: assigned partitions crash[0, 1]")
    producer.start()
    first.wait_for_results("out.jsonl", 1500)
    wait_until(lambda: broker.committed("g-crash", "crash"), 10, "a first commit")
    first.kill9()
    assert len(producer.placed) < total, "the stream should still be flowing at the kill"
    committed = broker.committed("g-crash", "crash")

    second = start_run(config, "second")
    producer.join(30)
    assert producer.error is None and len(producer.placed) == total
    after_commit = {i for i, (p, off) in producer.placed.items() if off >= committed.get(p, 0)}
    second.wait_for_results("out.jsonl", len(after_commit))
    assert second.stop() == 143

    before_kill, after_restart = seen(first.results("out.jsonl")), seen(second.results("out.jsonl"))
    assert set(before_kill) | set(after_restart) == set(range(total))  # nothing lost
    # the restart begins exactly at the last commit ...
    assert sorted(after_restart) == sorted(after_commit)
    # ... and everything before it had its result written before it was committed
    assert set(range(total)) - after_commit <= set(before_kill)
    duplicates = set(before_kill) & set(after_restart)
    assert duplicates <= after_commit
    assert len(before_kill) == len(set(before_kill)) and len(after_restart) == len(set(after_restart))


def test_run_survives_a_broker_restart_and_processes_what_comes_after(tmp_path, brokers, start_run):
    broker = brokers().start()
    broker.create_topic("flaky", partitions=2)
    broker.create_topic("flaky.out", partitions=1)
    output = {"topic": "flaky.out", "enable_idempotence": False}  # see tests/kafka/broker.py
    detector = (BORDER[0], {**BORDER[1], "output": ["FileOutput()", "KafkaOutput()"],
                            "output_conf": [{"file_name": "out.jsonl"}, output]})
    config = kafka_config(tmp_path / "flaky.json", broker, ["flaky"], [detector])
    run = start_run(config)
    broker.produce("flaky", indexed(0, 50), partition=0)
    run.wait_for_results("out.jsonl", 50)
    broker.read("flaky.out", expected=50)  # nothing in flight when the broker goes

    broker.restart()
    run.wait_for_log("Kafka: lost the connection")
    # the broker forgot its topics (see tests/kafka/broker.py); data after the restart goes to a
    # partition that had none
    assert len(broker.ensure_topic("flaky", partitions=2)) >= 2
    broker.ensure_topic("flaky.out", partitions=1)
    broker.produce("flaky", indexed(50, 50), partition=1)
    results = run.wait_for_results("out.jsonl", 100, timeout=60)
    run.wait_for_log("Kafka: connected again")
    assert run.stop() == 143
    assert set(seen(results)) == set(range(100))
    after = broker.read("flaky.out", expected=50)
    assert sorted(int(json.loads(r.value)["value"][0]) for r in after) == list(range(50, 100))


def test_broker_absent_at_start_is_reported_retried_and_the_run_resumes(tmp_path, brokers, start_run):
    broker = brokers(free_port())
    config = kafka_config(tmp_path / "late.json", broker, ["late"], [BORDER])
    run = start_run(config)
    run.wait_for_log(f"Kafka {broker.bootstrap}: cannot connect: no broker reachable (")
    assert "check bootstrap_servers, and that a broker listens there; retrying with backoff" in run.stderr()
    broker.start()
    broker.create_topic("late", partitions=1)
    broker.produce("late", indexed(0, 20))
    run.wait_for_results("out.jsonl", 20, timeout=60)
    assert run.stop() == 143
    assert run.summary()["samples"] == 20


def test_source_state_is_disconnected_until_a_broker_answers(brokers):
    broker = brokers(free_port())
    problems: list[str] = []
    kafka = parse_kafka({"bootstrap_servers": broker.bootstrap, "topics": ["s"], **TEST_SESSION}, problems)
    assert problems == []
    source = KafkaSource(kafka, {"s": 1}, "g-state")
    source.open()
    try:
        began = time.monotonic()
        assert len(source.poll(100, 0.1)) == 0 and time.monotonic() - began < 1.0
        assert source.state() == "disconnected"
        broker.start()
        wait_until(lambda: source.state() == "reading", 30, 'state "reading"', interval=0.2)
    finally:
        source.close()
