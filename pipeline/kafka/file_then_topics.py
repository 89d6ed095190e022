"""FileKafkaSource (``-fk``): the config's file first, as warm-up history, then its Kafka topics.

File samples carry no stream (``stream == ""``), which the engine feeds to every detector's state
for its own topic without a message key; the Kafka messages without a key then continue that
same state, so the detectors start the live stream warmed up. The Kafka consumer connects while
the file is read, so the switch costs no extra wait.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.consumers.base import Poll, Source
from pipeline.consumers.file import FileConsumer


class FileKafkaSource(Source):
    """``FileConsumer(path, width)`` to its end, then ``kafka`` (a ``KafkaSource``)."""

    def __init__(self, path: Path, width: int, kafka: Source):
        self.file = FileConsumer(path, width)
        self.kafka = kafka
        self.finished = False

    @property
    def flush_before_revoke(self):
        return getattr(self.kafka, "flush_before_revoke", None)

    @flush_before_revoke.setter
    def flush_before_revoke(self, hook) -> None:
        self.kafka.flush_before_revoke = hook

    def open(self) -> None:
        self.file.open()
        self.kafka.open()

    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        if not self.file.finished:
            poll = self.file.poll(max_items, timeout_s)
            if len(poll) or poll.rejected or not self.file.finished:
                return poll
        return self.kafka.poll(max_items, timeout_s)

    def commit(self) -> None:
        self.kafka.commit()

    def state(self) -> str:
        return "reading" if not self.file.finished else self.kafka.state()

    def progress(self) -> tuple[float, float | None]:
        return self.file.progress()  # bytes of the file; the live part has no end to measure

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            self.kafka.close()
