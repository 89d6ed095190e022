"""What the Kafka clients of a run share: importing the client libraries with a clear error,
calmer client logging, and a pause of the cyclic garbage collector for bulk decoding.

The libraries are imported only when a Kafka run starts, so file runs never load them. Client
settings are made in ``client_settings``, failures are classified and worded in ``errors``.
"""
from __future__ import annotations

import gc
import logging
import re
import time
from contextlib import contextmanager

log = logging.getLogger(__name__)

#: kafka-python loggers that repeat the same line many times a second while a broker is away.
CHATTY_LOGGERS = ("kafka.cluster", "kafka.net.manager", "kafka.net.connection", "kafka.net.transport",
                  "kafka.conn", "kafka.client", "kafka.coordinator", "kafka.coordinator.consumer",
                  "kafka.coordinator.heartbeat", "kafka.consumer.fetcher", "kafka.producer.sender",
                  "kafka.producer.kafka", "kafka.producer.record_accumulator", "kafka.librdkafka")


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


def import_confluent_kafka():
    """The confluent-kafka package (librdkafka), or a clear error naming the requirement."""
    try:
        import confluent_kafka
    except ImportError as err:
        raise OSError("writing to Kafka needs the confluent-kafka package "
                      "(pip install -r requirements.txt)") from err
    calm_kafka_logging()
    return confluent_kafka
