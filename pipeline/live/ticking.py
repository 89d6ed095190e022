"""A source wrapper that calls back after every poll (on the engine thread), so a viewer's frames
do not wait for the next batch when the stream goes quiet."""
from __future__ import annotations

from typing import Callable

from pipeline.consumers.base import Poll, Source


class TickingSource(Source):
    """Passes polls through and calls ``after_poll`` after each one (on the engine thread).
    ``flush_before_revoke`` reaches the wrapped source when it has one (Kafka)."""

    def __init__(self, source: Source, after_poll: Callable[[], None]):
        self.source = source
        self.after_poll = after_poll

    @property
    def finished(self) -> bool:
        return self.source.finished

    def open(self) -> None:
        self.source.open()

    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        got = self.source.poll(max_items, timeout_s)
        self.after_poll()
        return got

    def commit(self) -> None:
        self.source.commit()

    def progress(self) -> tuple[float, float | None]:
        return self.source.progress()

    def state(self) -> str:
        return self.source.state()

    @property
    def flush_before_revoke(self):
        return self.source.flush_before_revoke  # AttributeError: the source has no such hook

    @flush_before_revoke.setter
    def flush_before_revoke(self, hook) -> None:
        self.source.flush_before_revoke = hook

    def close(self) -> None:
        self.source.close()
