"""What a run reads: the config's file, its Kafka topics, or the file and then the topics."""
from __future__ import annotations

from enum import Enum


class RunMode(str, Enum):
    """A run's source, as chosen on the command line (``-f``, no flag, ``-fk``) or in the window.

    The values are the texts used in logs, summaries and the window's settings.
    """

    FILE = "file"
    KAFKA = "kafka"
    FILE_THEN_KAFKA = "filekafka"

    @classmethod
    def _missing_(cls, value: object) -> "RunMode":
        raise ValueError(f"run mode must be one of {', '.join(repr(m.value) for m in cls)}, got {value!r}")

    @classmethod
    def from_flags(cls, file: bool, filekafka: bool) -> "RunMode":
        return cls.FILE if file else cls.FILE_THEN_KAFKA if filekafka else cls.KAFKA

    @property
    def reads_file(self) -> bool:
        return self is not RunMode.KAFKA

    @property
    def reads_kafka(self) -> bool:
        """A live run: it never finishes on its own, and pausing must keep the consumer's group."""
        return self is not RunMode.FILE

    @property
    def label(self) -> str:
        """The window's name for the mode."""
        return {"file": "File", "kafka": "Kafka", "filekafka": "File, then Kafka"}[self.value]

    def __str__(self) -> str:
        return self.value
