"""The producers of a Kafka run (results and dead letters): a failed delivery fails the next
``flush()``, so the engine never commits the offsets of messages whose results were lost.

``open_producer`` gives a librdkafka producer (the ``confluent-kafka`` package). Its ``produce()``
is one call into C that queues the message; batching, compression, retries and acknowledgements
happen on librdkafka's own threads, outside the GIL. kafka-python's producer spends about 10 µs of
Python on every message, which held a run that writes every result to Kafka at a quarter of the
rate it can read. The confluent-kafka wheel's librdkafka has no Kerberos, so a config with
``sasl_mechanism: GSSAPI`` gets a kafka-python producer instead (it needs the ``gssapi`` package,
as the consumer does).

Both producers take the same settings, under the names of the KafkaOutput parameters:
``acks`` ("all", 1, 0), ``enable_idempotence``, ``linger_ms``, ``compression_type`` (None, "gzip",
"snappy", "lz4", "zstd") and ``delivery_timeout_ms`` (after which an undelivered message counts as
failed).
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Iterable

from pipeline.kafka.clients import KafkaDeliveryError, calm_kafka_logging, import_kafka
from pipeline.kafka.options import KafkaConfig

log = logging.getLogger(__name__)

#: kafka-python names of the security options -> librdkafka's.
LIBRDKAFKA_SECURITY_NAMES = {
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "sasl_kerberos_service_name": "sasl.kerberos.service.name",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
    "ssl_password": "ssl.key.password",
}

#: librdkafka's log lines go here (through the same repeat filter as kafka-python's).
LIBRDKAFKA_LOGGER = "kafka.librdkafka"


class DeliveryTracker:
    """Remembers the first delivery failure and counts them; thread-safe enough for callbacks that
    run on whichever thread serves the producer (a count may be off by one, the failure is not)."""

    def __init__(self, kafka: KafkaConfig, purpose: str):
        self.kafka = kafka
        self.purpose = purpose
        self.failure: str | None = None
        self.failed = 0
        self.sent = 0
        self.last_client_error: str | None = None   # connection trouble the client retries

    def fail(self, reason: str) -> None:
        """A message was not delivered."""
        self.failed += 1
        self.refuse(reason)

    def refuse(self, reason: str) -> None:
        """Nothing more will be delivered (refused credentials, a fatal client error)."""
        if self.failure is None:
            self.failure = reason

    def error(self) -> KafkaDeliveryError:
        servers = ",".join(self.kafka.bootstrap_servers)
        count = f"{self.failed:,} {self.purpose} not delivered" if self.failed else f"cannot write {self.purpose}"
        # a delivery that timed out says nothing of why; the client's last complaint usually does
        cause = f" (last client error: {self.last_client_error})" if self.last_client_error else ""
        return KafkaDeliveryError(f"Kafka {servers}: {count}: {self.failure}{cause}")

    def check(self) -> None:
        if self.failure is not None:
            raise self.error()


class LibrdkafkaProducer:
    """A confluent-kafka producer; ``flush()`` waits until the broker acknowledged everything sent
    (or raises ``KafkaDeliveryError`` if anything ever failed)."""

    #: How long a full local queue waits for room before trying again (s).
    QUEUE_FULL_WAIT_S = 0.1

    def __init__(self, kafka: KafkaConfig, purpose: str, *, acks: str | int = "all",
                 enable_idempotence: bool = True, linger_ms: int = 5, compression_type: str | None = None,
                 delivery_timeout_ms: int = 120000):
        try:
            import confluent_kafka
        except ImportError as err:
            raise OSError("writing to Kafka needs the confluent-kafka package "
                          "(pip install -r requirements.txt)") from err
        calm_kafka_logging()
        self.tracker = DeliveryTracker(kafka, purpose)
        # refused credentials do not get better by retrying until the delivery timeout
        self._final_errors = {confluent_kafka.KafkaError._AUTHENTICATION,
                              confluent_kafka.KafkaError.SASL_AUTHENTICATION_FAILED}
        options = {
            "bootstrap.servers": ",".join(kafka.bootstrap_servers),
            "client.id": kafka.client_id,
            "acks": str(acks),
            "enable.idempotence": enable_idempotence,
            "linger.ms": linger_ms,
            "compression.type": compression_type or "none",
            "delivery.timeout.ms": delivery_timeout_ms,
            # successes need no callback; only failures come back, to fail the next flush
            "delivery.report.only.error": True,
            "on_delivery": self._on_delivery,
            "error_cb": self._on_client_error,
            "logger": logging.getLogger(LIBRDKAFKA_LOGGER),
            **librdkafka_security(kafka),
        }
        try:
            self._producer = confluent_kafka.Producer(options)
        except confluent_kafka.KafkaException as err:
            self.tracker.refuse(err.args[0].str() if err.args else str(err))
            raise self.tracker.error() from err

    @property
    def sent(self) -> int:
        return self.tracker.sent

    def _on_delivery(self, err, msg) -> None:
        if err is not None:
            self.tracker.fail(f"{err.name()}: {err.str()}")

    def _on_client_error(self, err) -> None:
        # Connection trouble (_TRANSPORT, _ALL_BROKERS_DOWN, a TLS handshake) is retried by
        # librdkafka until a message's delivery timeout, and named in the error then; refused
        # credentials and fatal errors (the idempotent producer's state lost) end the run at once.
        reason = f"{err.name()}: {err.str()}"
        if err.fatal() or err.code() in self._final_errors:
            self.tracker.refuse(reason)
        else:
            self.tracker.last_client_error = reason
            logging.getLogger(LIBRDKAFKA_LOGGER).warning("Kafka producer for %s: %s", self.tracker.purpose, reason)

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
                self._producer.poll(self.QUEUE_FULL_WAIT_S)

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

    def __init__(self, kafka: KafkaConfig, purpose: str, *, acks: str | int = "all",
                 enable_idempotence: bool = True, linger_ms: int = 5, compression_type: str | None = None,
                 delivery_timeout_ms: int = 120000):
        self.kafka = kafka
        self.tracker = DeliveryTracker(kafka, purpose)
        self.options = dict(acks=acks, enable_idempotence=enable_idempotence, linger_ms=linger_ms,
                            compression_type=compression_type, delivery_timeout_ms=delivery_timeout_ms,
                            # kafka-python refuses a delivery timeout under linger + request timeout
                            request_timeout_ms=min(30000, max(1, delivery_timeout_ms - linger_ms - 1)),
                            batch_size=256 * 1024)
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
                    self._producer = kafka.KafkaProducer(
                        **self.kafka.client_options(), bootstrap_timeout_ms=self.options["delivery_timeout_ms"],
                        **self.options)
                except Exception as err:
                    self.tracker.refuse(str(err))
                    raise self.tracker.error() from err
            if self._producer is None:
                raise KafkaDeliveryError(f"Kafka producer for {self.tracker.purpose} is closed")
            return self._producer

    def _on_error(self, err: BaseException) -> None:
        self.tracker.fail(str(err))

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


def librdkafka_security(kafka: KafkaConfig) -> dict[str, Any]:
    """The config's security options under librdkafka's names."""
    options = {LIBRDKAFKA_SECURITY_NAMES[k]: v for k, v in kafka.security.items() if k in LIBRDKAFKA_SECURITY_NAMES}
    if "ssl_check_hostname" in kafka.security:
        options["ssl.endpoint.identification.algorithm"] = "https" if kafka.security["ssl_check_hostname"] else "none"
    return options


Producer = LibrdkafkaProducer | KafkaPythonProducer


def open_producer(kafka: KafkaConfig, purpose: str, **settings: Any) -> Producer:
    """The producer for ``kafka``'s servers and security: librdkafka, or kafka-python for GSSAPI.

    ``purpose`` says what it writes ("results for anomalies_7", "dead letters"), for messages."""
    if kafka.security.get("sasl_mechanism") == "GSSAPI":
        return KafkaPythonProducer(kafka, purpose, **settings)
    return LibrdkafkaProducer(kafka, purpose, **settings)
