"""Dead letters: input records that could not be used, kept with where they were and why.

``DeadLetterFile`` writes one JSON object per line (``location``, ``position``, ``reason``,
``raw``). The file is created on the first rejection of a run; a file left by an earlier run is
removed when the run starts, so the file always describes the latest run.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from pipeline.records import RejectedRecord


def dead_letter_path(log_dir: Path, run_name: str) -> Path:
    """Where a run's dead letters go when they go to a file."""
    return Path(log_dir) / f"{run_name}.dead_letter.jsonl"


class DeadLetterSink:
    """Where rejected records go. The base class only keeps count (for tests and embedding)."""

    def __init__(self):
        self.count = 0

    def open(self) -> None:
        pass

    def write(self, records: Sequence[RejectedRecord]) -> None:
        self.count += len(records)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.flush()

    def describe(self) -> str:
        return "nowhere (counted only)"


class DeadLetterFile(DeadLetterSink):
    """Rejected records as JSON Lines in ``path``."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self._file = None
        self._pending: list[str] = []

    def open(self) -> None:
        self.path.unlink(missing_ok=True)

    def write(self, records: Sequence[RejectedRecord]) -> None:
        super().write(records)
        self._pending.extend(
            json.dumps({"location": r.location, "position": r.position, "reason": r.reason, "raw": r.raw})
            for r in records)

    def flush(self) -> None:
        if not self._pending:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write("\n".join(self._pending) + "\n")
        self._file.flush()
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    def describe(self) -> str:
        return str(self.path)
