"""The producers of a Kafka run (results and dead letters): a failed delivery fails the next
``flush()``, so the engine never commits the offsets of messages whose results were lost.

``open_producer`` gives a librdkafka producer (the ``confluent-kafka`` package). Its ``produce()``
is one call into C that queues the message; batching, compression, retries and acknowledgements
happen on librdkafka's own threads, outside the GIL. kafka-python's producer spends about 10 µs of
Python on every message, which held a run that writes every result to Kafka at a quarter of the
rate it can read. The confluent-kafka wheel's librdkafka has no Kerberos, so a config with
``sasl_mechanism: GSSAPI`` gets a kafka-python producer instead (it needs the ``gssapi`` package,
as the consumer does).

Both take a ``ProducerSettings`` (``client_settings``) and word their failures with the
vocabulary of ``errors``: connection trouble is retried by the client until a message's delivery
timeout, refused credentials or permissions and a client broken for good fail the next flush at
once.
"""
from __future__ import annotations

import logging
import threading
from typing import Iterable, Mapping

from pipeline.kafka.client_settings import (
    ProducerSettings,
    in_config_terms,
    kafka_python_producer,
    librdkafka_producer,
    uses_kerberos,
)
from pipeline.kafka.clients import import_confluent_kafka, import_kafka
from pipeline.kafka.errors import QUEUE_FULL_WAIT_S, Failure, KafkaDeliveryError, KafkaFailure, classify, explain
from pipeline.kafka.options import KafkaConfig

log = logging.getLogger(__name__)

#: librdkafka's log lines go here (through the same repeat filter as kafka-python's).
LIBRDKAFKA_LOGGER = "kafka.librdkafka"


class DeliveryTracker:
    """Remembers the first delivery failure and counts them; thread-safe enough for callbacks that
    run on whichever thread serves the producer (a count may be off by one, the failure is not).

    ``remedies`` replaces the general advice for some kinds of failure (``errors.explain``)."""

    def __init__(self, kafka: KafkaConfig, purpose: str, remedies: Mapping[Failure, str] | None = None):
        self.kafka = kafka
        self.purpose = purpose
        self.remedies = remedies
        self.failure: KafkaFailure | None = None
        self.failed = 0
        self.sent = 0
        self.last_client_error: KafkaFailure | None = None   # connection trouble the client retries

    def fail(self, failure: KafkaFailure) -> None:
        """A message was not delivered."""
        self.failed += 1
        self.refuse(failure)

    def refuse(self, failure: KafkaFailure) -> None:
        """Nothing more will be delivered (refused credentials, a fatal client error)."""
        if self.failure is None:
            self.failure = failure

    def error(self) -> KafkaDeliveryError:
        doing = f"{self.failed:,} {self.purpose} not delivered" if self.failed else f"cannot write {self.purpose}"
        failure, cause = self.failure, self.last_client_error
        if cause is not None and failure.kind in (Failure.TIMED_OUT, Failure.OTHER):
            # a delivery that timed out says nothing of why; the client's last complaint usually does
            return KafkaDeliveryError(explain(cause, self.kafka.servers, f"{doing}: {failure}; last client error",
                                              self.remedies))
        return KafkaDeliveryError(explain(failure, self.kafka.servers, doing, self.remedies))

    def check(self) -> None:
        if self.failure is not None:
            raise self.error()


class LibrdkafkaProducer:
    """A confluent-kafka producer; ``flush()`` waits until the broker acknowledged everything sent
    (or raises ``KafkaDeliveryError`` if anything ever failed)."""

    def __init__(self, kafka: KafkaConfig, purpose: str, settings: ProducerSettings = ProducerSettings(),
                 remedies: Mapping[Failure, str] | None = None):
        confluent_kafka = import_confluent_kafka()
        self.tracker = DeliveryTracker(kafka, purpose, remedies)
        options = {**librdkafka_producer(kafka, settings), "on_delivery": self._on_delivery,
                   "error_cb": self._on_client_error, "logger": logging.getLogger(LIBRDKAFKA_LOGGER)}
        try:
            self._producer = confluent_kafka.Producer(options)
        except confluent_kafka.KafkaException as err:
            self.tracker.refuse(in_config_terms(classify(err)))
            raise self.tracker.error() from err

    @property
    def sent(self) -> int:
        return self.tracker.sent

    def _on_delivery(self, err, msg) -> None:
        if err is not None:
            self.tracker.fail(classify(err))

    def _on_client_error(self, err) -> None:
        # Connection trouble (_TRANSPORT, _ALL_BROKERS_DOWN, a TLS handshake) is retried by
        # librdkafka until a message's delivery timeout, and named in the error then; refused
        # credentials or permissions and fatal errors (the idempotent producer's state lost) end
        # the run at once: waiting out the delivery timeout would not mend them.
        failure = classify(err)
        # Only kinds known to be final end the run here (errors.Failure.final); an unknown client
        # complaint is retried by librdkafka like connection trouble, and named if a delivery fails.
        if failure.kind.final:
            self.tracker.refuse(failure)
        else:
            self.tracker.last_client_error = failure
            logging.getLogger(LIBRDKAFKA_LOGGER).warning("Kafka producer for %s: %s", self.tracker.purpose, failure)

    def send(self, topic: str, value: bytes | str, key: bytes | str | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> None:
        self._produce(topic, value, key, headers)
        self.tracker.sent += 1
        self._producer.poll(0)

    def send_all(self, topic: str, values: Iterable[bytes | str], key: bytes | str | None = None) -> None:
        """Queue every value (one message each) with the same key; the hot path of a Kafka output."""
        produce = self._producer.produce
        count = 0
        for value in values:
            try:
                produce(topic, value, key)
            except BufferError:  # the local queue is full: wait for the broker to take some
                self._produce(topic, value, key)
            count += 1
        self.tracker.sent += count
        self._producer.poll(0)  # serve failure reports and log lines

    def _produce(self, topic, value, key, headers=None) -> None:
        while True:
            try:
                self._producer.produce(topic, value, key, headers=headers)
                return
            except BufferError:
                self._producer.poll(QUEUE_FULL_WAIT_S)

    def flush(self) -> None:
        """Wait until everything sent is acknowledged; raise if anything ever failed.

        Waits in short steps so that a signal handler (Ctrl+C) runs meanwhile."""
        while self._producer.flush(0.5) > 0:
            self.tracker.check()
        self.tracker.check()

    def close(self) -> None:
        """Give queued messages up to 5 s to be delivered, then drop the producer."""
        if self._producer is not None:
            left = self._producer.flush(5)
            if left:
                log.warning("Kafka producer for %s closed with %d message(s) undelivered",
                            self.tracker.purpose, left)
            self._producer = None


class KafkaPythonProducer:
    """A kafka-python producer, for what librdkafka's wheel cannot do (Kerberos); same contract as
    ``LibrdkafkaProducer``. Created on first use, since kafka-python connects in its constructor."""

    def __init__(self, kafka: KafkaConfig, purpose: str, settings: ProducerSettings = ProducerSettings(),
                 remedies: Mapping[Failure, str] | None = None):
        self.kafka = kafka
        self.tracker = DeliveryTracker(kafka, purpose, remedies)
        self.options = kafka_python_producer(kafka, settings)
        self._producer = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def sent(self) -> int:
        return self.tracker.sent

    def _ensure(self):
        with self._lock:
            if self._producer is None and not self._closed:
                self.tracker.check()
                kafka = import_kafka()
                try:
                    self._producer = kafka.KafkaProducer(**self.options)
                except Exception as err:
                    self.tracker.refuse(classify(err))
                    raise self.tracker.error() from err
            if self._producer is None:
                raise KafkaDeliveryError(f"Kafka producer for {self.tracker.purpose} is closed")
            return self._producer

    def _on_error(self, err: BaseException) -> None:
        self.tracker.fail(classify(err))

    def send(self, topic: str, value: bytes | str, key: bytes | str | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> None:
        producer = self._ensure()
        future = producer.send(topic, value=_as_bytes(value), key=_as_bytes(key), headers=headers)
        future.add_errback(self._on_error)
        self.tracker.sent += 1

    def send_all(self, topic: str, values: Iterable[bytes | str], key: bytes | str | None = None) -> None:
        for value in values:
            self.send(topic, value, key)

    def flush(self) -> None:
        if self._producer is not None:
            self._producer.flush()
        self.tracker.check()

    def close(self) -> None:
        self._closed = True
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


Producer = LibrdkafkaProducer | KafkaPythonProducer


def open_producer(kafka: KafkaConfig, purpose: str, settings: ProducerSettings = ProducerSettings(),
                  remedies: Mapping[Failure, str] | None = None) -> Producer:
    """The producer for ``kafka``'s servers and security: librdkafka, or kafka-python for GSSAPI.

    ``purpose`` says what it writes ("results for anomalies_7", "dead letters"), for messages;
    ``remedies`` is the advice its errors give for some kinds of failure."""
    if uses_kerberos(kafka):
        return KafkaPythonProducer(kafka, purpose, settings, remedies)
    return LibrdkafkaProducer(kafka, purpose, settings, remedies)
