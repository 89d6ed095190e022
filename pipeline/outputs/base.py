"""The output contract: ``open(context)``, ``write(results)``, ``flush()``, ``close()``.

Constructors take the output's config parameters and do no I/O; ``open`` acquires files or
clients. ``write`` receives one detector's ``ResultBatch`` at a time and may buffer; ``flush`` makes
everything written so far durable and readable (the engine flushes before it commits input
positions). ``close`` flushes and releases, and may be called more than once.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.parameters import Configurable
from pipeline.records import ResultBatch, Status


@dataclass(frozen=True)
class RunContext:
    """What an output may need from the run: ``log_dir`` holds relative output files and dead
    letters; ``kafka`` is the config's Kafka settings (``pipeline.kafka.options.KafkaConfig``),
    so that a Kafka output writes to the config's own brokers."""

    log_dir: Path
    run_name: str = "run"
    kafka: Any = None


class Output(Configurable, ABC):
    """Base class of every output. ``send_ok: false`` drops OK records before ``write_selected``."""

    send_ok: bool = True

    def open(self, context: RunContext) -> None:
        """Acquire files or clients. Called once before the first write."""

    def write(self, results: ResultBatch) -> None:
        if not self.send_ok:
            results = results.take(results.status_code != Status.OK)
        if len(results):
            self.write_selected(results)

    @abstractmethod
    def write_selected(self, results: ResultBatch) -> None:
        """Write every result of the batch (already filtered by ``send_ok``)."""

    def flush(self) -> None:
        """Make everything written so far durable and readable."""

    def close(self) -> None:
        self.flush()
