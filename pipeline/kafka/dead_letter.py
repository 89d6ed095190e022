"""Dead letters of a Kafka run: each rejected message goes to a dead-letter topic, unchanged.

``KafkaDeadLetter`` writes the message's value and key as they arrived to ``<topic>.dlq`` (the
``dead_letter_topic`` template), with headers that say where it came from and why it was
rejected, so the topic can be read by people (``kcat -f '%h %s'``) and replayed by programs:

``dlq.reason``, ``dlq.topic``, ``dlq.partition``, ``dlq.offset``, ``dlq.location``.

Records that did not come from Kafka (the file rows of a ``-fk`` run) go to a JSON Lines file, as
in file runs, tagged with the run's id like every file dead letter. ``flush()`` waits for the
broker's acknowledgement, so the engine commits a rejected message's offset only once its dead
letter is stored.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from pipeline.dead_letter import DeadLetterFile, DeadLetterSink
from pipeline.kafka.errors import Failure
from pipeline.kafka.options import KafkaConfig
from pipeline.kafka.producer import Producer, open_producer
from pipeline.records import RejectedRecord

#: What to do when the dead-letter topic cannot be written (instead of the general advice).
REMEDIES = {
    Failure.TOPIC_MISSING: 'create it, correct dead_letter_topic, or set "dead_letter": "file" to keep '
                           'dead letters in a file',
    Failure.AUTHORIZATION: 'the cluster\'s ACLs must let this user write the dead-letter topic, or set '
                           '"dead_letter": "file" to keep dead letters in a file',
}


class KafkaDeadLetter(DeadLetterSink):
    """Kafka messages to ``kafka.dead_letter_topic_for(topic)``; other records to ``fallback``, a
    ``DeadLetterFile`` at ``fallback_path`` whose lines carry ``run_id``."""

    def __init__(self, kafka: KafkaConfig, fallback_path: Path, run_id: str | None = None):
        super().__init__()
        self.kafka = kafka
        self.fallback = DeadLetterFile(fallback_path, run_id)
        self._producer: Producer | None = None
        self.topics: set[str] = set()

    def open(self) -> None:
        self.fallback.open()
        self._producer = open_producer(self.kafka, "dead letters", remedies=REMEDIES)

    def write(self, records: Sequence[RejectedRecord]) -> None:
        super().write(records)
        others = []
        for record in records:
            topic = getattr(record, "topic", None)
            if not topic:
                others.append(record)
                continue
            target = self.kafka.dead_letter_topic_for(topic)
            self.topics.add(target)
            value = record.value if record.value is not None else record.raw.encode()
            headers = [("dlq.reason", record.reason.encode()), ("dlq.topic", topic.encode()),
                       ("dlq.partition", str(record.partition).encode()),
                       ("dlq.offset", str(record.offset).encode()),
                       ("dlq.location", record.location.encode())]
            self._producer.send(target, value, record.key, headers)
        if others:
            self.fallback.write(others)

    def flush(self) -> None:
        self.fallback.flush()
        if self._producer is not None:
            self._producer.flush()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.fallback.close()
            if self._producer is not None:
                self._producer.close()
                self._producer = None

    def describe(self) -> str:
        topics = ", ".join(sorted(self.topics)) or self.kafka.dead_letter_topic_for("<topic>")
        if self.fallback.count:
            return f"Kafka topic(s) {topics}; file rows in {self.fallback.path}"
        return f"Kafka topic(s) {topics}"
