"""The source contract shared by every consumer.

``open()`` acquires files or clients; ``poll(max_items, timeout_s)`` returns a ``Poll`` with up to
``max_items`` samples and the records rejected while reading them (empty when nothing arrived
within the timeout, which stays short so that a stop request is noticed); ``finished`` turns
true when a finite source is exhausted; ``commit()`` marks everything returned so far as done
(the engine calls it only after outputs have flushed); ``close()`` is idempotent. Sources are
context managers. ``progress()`` is (done, total) in the source's own unit for progress bars.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from pipeline.records import RejectedRecord, SampleBatch


class SourceError(RuntimeError):
    """The input as a whole cannot be read (missing file, no header, broken document...)."""


@dataclass
class Poll:
    """What one poll returned: samples of one stream key, possibly more batches of other keys
    (a Kafka poll spans partitions and message keys), and the records rejected on the way."""

    samples: SampleBatch
    rejected: list[RejectedRecord] = field(default_factory=list)
    others: list[SampleBatch] = field(default_factory=list)

    @property
    def batches(self) -> list[SampleBatch]:
        return [self.samples, *self.others]

    def __len__(self) -> int:
        return sum(len(b) for b in self.batches)


class Source(ABC):
    finished: bool = False

    def open(self) -> None:
        """Acquire files or clients."""

    @abstractmethod
    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        """Up to ``max_items`` samples (and the records rejected on the way)."""

    def commit(self) -> None:
        """Everything polled so far has been processed and flushed."""

    def progress(self) -> tuple[float, float | None]:
        return 0.0, None

    def state(self) -> str:
        """``"reading"``, ``"finished"`` or, for network sources, ``"disconnected"``."""
        return "finished" if self.finished else "reading"

    def close(self) -> None:
        """Release resources; safe to call more than once."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
