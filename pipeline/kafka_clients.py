"""The kafka-python clients of a run: options from the config, a producer whose failed deliveries
fail the next flush, and calmer kafka-python logging.

kafka-python is imported only when a Kafka run starts, so file runs never load it.
"""
from __future__ import annotations

import gc
import logging
import re
import threading
import time
from contextlib import contextmanager
from typing import Any

from pipeline.kafka_config import KafkaConfig

log = logging.getLogger(__name__)

#: kafka-python loggers that repeat the same line many times a second while a broker is away.
CHATTY_LOGGERS = ("kafka.cluster", "kafka.net.manager", "kafka.net.connection", "kafka.net.transport",
                  "kafka.conn", "kafka.client", "kafka.coordinator", "kafka.coordinator.consumer",
                  "kafka.coordinator.heartbeat", "kafka.consumer.fetcher", "kafka.producer.sender",
                  "kafka.producer.kafka", "kafka.producer.record_accumulator")


@contextmanager
def cyclic_gc_paused():
    """Pause Python's cyclic garbage collector for a block that allocates many small objects.

    Decoding a poll of 65,536 messages allocates some 200,000 dicts and lists, and producing as
    many results as many futures; every 700 allocations the collector scans the young objects,
    and now and then everything alive, which made decoding three times slower. Reference counting
    frees these objects; anything cyclic is only collected a little later, after the block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class KafkaDeliveryError(OSError):
    """Results or dead letters could not be written to Kafka (the run stops without committing
    the messages they came from, so a later run reads them again)."""


class RepeatFilter(logging.Filter):
    """Lets a log line through once per ``window_s`` for each shape (the text without numbers)."""

    def __init__(self, window_s: float = 60.0):
        super().__init__()
        self.window_s = window_s
        self._last: dict[tuple[str, int, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            shape = re.sub(r"[0-9a-f]{8,}|\d+", "#", record.getMessage())
        except Exception:  # a broken log call is not ours to judge
            return True
        key = (record.name, record.levelno, shape)
        now = time.monotonic()
        if now - self._last.get(key, -self.window_s) < self.window_s:
            return False
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = now
        return True


_repeat_filter = RepeatFilter()


def calm_kafka_logging() -> None:
    """kafka-python's INFO lines describe its inner workings, and while a broker is away it logs
    every reconnect attempt (several a second). Our sources report connections, assignments and
    outages in their own words, so kafka-python is set to WARNING (unless the logging setup chose
    a level for it) and a repeated line is shown at most once a minute. Safe to call again."""
    root = logging.getLogger("kafka")
    if root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if _repeat_filter not in logger.filters:
            logger.addFilter(_repeat_filter)


def import_kafka():
    """The kafka-python package, or a clear error naming the requirement."""
    try:
        import kafka
    except ImportError as err:
        raise OSError("reading or writing Kafka needs the kafka-python package "
                      "(pip install -r requirements.txt)") from err
    calm_kafka_logging()
    return kafka


def is_retriable(err: BaseException) -> bool:
    """Connection trouble and timeouts are retried; anything else (bad credentials, missing
    authorisation, bad options) is reported and ends the run."""
    return bool(getattr(err, "retriable", False)) or isinstance(err, (ConnectionError, TimeoutError))


class Producer:
    """A kafka-python producer created on first use; a delivery that failed makes every later
    ``flush()`` raise ``KafkaDeliveryError``, so that the engine never commits past it.

    Parameters
    ----------
    kafka : KafkaConfig
        Servers and security options.
    purpose : str
        What the producer writes, for messages ("results", "dead letters").
    options : dict
        Further kafka-python producer options (``acks``, ``linger_ms``...).
    """

    def __init__(self, kafka: KafkaConfig, purpose: str, **options: Any):
        self.kafka = kafka
        self.purpose = purpose
        self.options = options
        self._producer = None
        self._lock = threading.Lock()
        self._closed = False
        self._failure: BaseException | None = None
        self._failed = 0
        self.sent = 0

    def warm_up(self, topic: str | None = None) -> None:
        """Connect in the background (and learn ``topic``'s partitions), so that the first result
        does not wait for it; a failure here is not final, the first send tries again."""
        def connect():
            try:
                producer = self._ensure(final=False)
                if producer is not None and topic is not None:
                    producer.partitions_for(topic)
            except Exception as err:  # the first send reports what is still wrong
                log.debug("Kafka producer warm-up for %s: %s", self.purpose, err)
        threading.Thread(target=connect, name=f"kafka-warm-up {self.purpose}", daemon=True).start()

    def _ensure(self, final: bool = True):
        with self._lock:
            if self._producer is None and not self._closed:
                if self._failure is not None:
                    raise self._error()
                kafka = import_kafka()
                delivery_ms = self.options.get("delivery_timeout_ms", 120000)
                try:
                    self._producer = kafka.KafkaProducer(
                        **self.kafka.client_options(), bootstrap_timeout_ms=delivery_ms, **self.options)
                except Exception as err:
                    if not final:
                        return None
                    self._failure = err
                    raise self._error() from err
                if self._closed:  # closed while connecting
                    self._producer.close(timeout=1)
                    self._producer = None
            if self._producer is None:
                raise KafkaDeliveryError(f"Kafka producer for {self.purpose} is closed")
            return self._producer

    def _on_error(self, err: BaseException) -> None:
        self._failed += 1
        if self._failure is None:
            self._failure = err

    def _error(self) -> KafkaDeliveryError:
        servers = ",".join(self.kafka.bootstrap_servers)
        count = f"{self._failed:,} {self.purpose} not delivered" if self._failed else f"cannot write {self.purpose}"
        return KafkaDeliveryError(f"Kafka {servers}: {count}: {self._failure}")

    def send(self, topic: str, value: bytes, key: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> None:
        producer = self._ensure()
        future = producer.send(topic, value=value, key=key, headers=headers)
        future.add_errback(self._on_error)
        self.sent += 1

    def flush(self) -> None:
        """Wait until everything sent is acknowledged; raise if anything ever failed."""
        if self._producer is not None:
            self._producer.flush()
        if self._failure is not None:
            raise self._error()

    def close(self) -> None:
        self._closed = True
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)
