"""Dead letters: input records that could not be used, kept with where they were and why.

``DeadLetterFile`` appends one JSON object per line (``run``, ``location``, ``position``,
``reason``, ``raw``) to one file per config. The program never deletes or truncates it: every
run appends, and ``run`` (the run id, also printed in the summary) tells the runs apart, so dead
letters of a Kafka run whose offsets were committed are still there after any number of
restarts. The file is created on the first rejection; removing old dead letters is the user's
decision (``grep -v '"run": "<id>"'`` or log rotation).
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import orjson

from pipeline.records import RejectedRecord


def new_run_id() -> str:
    """An id for one run: its start time (UTC, to the second) and process id,
    ``20261205T081835Z-4242``."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{os.getpid()}"


def dead_letter_path(log_dir: Path, run_name: str) -> Path:
    """Where a run's dead letters go when they go to a file."""
    return Path(log_dir) / f"{run_name}.dead_letter.jsonl"


#: Dead letters waiting for the next flush beyond this many bytes are written at once (writing a
#: dead letter early is always safe: it commits no input position).
MAX_PENDING_BYTES = 16 << 20


def dead_letter_line(record: dict) -> bytes:
    try:
        return orjson.dumps(record)
    except orjson.JSONEncodeError:   # text orjson refuses (a lone surrogate): the json module escapes it
        return json.dumps(record).encode()


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
    """Rejected records as JSON Lines appended to ``path``, each tagged with ``run_id``."""

    def __init__(self, path: Path, run_id: str | None = None):
        super().__init__()
        self.path = Path(path)
        self.run_id = run_id or new_run_id()
        self._file = None
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def write(self, records: Sequence[RejectedRecord]) -> None:
        super().write(records)
        if not records:
            return
        run = self.run_id
        # appended one by one into one buffer: orjson gives each result 4 KiB of capacity, so
        # holding a poll's lines as separate objects (even briefly, as bytes.join does) would take
        # 4 KiB a rejected row
        chunk = bytearray()
        for r in records:
            chunk += dead_letter_line({"run": run, "location": r.location, "position": r.position,
                                       "reason": r.reason, "raw": r.raw})
            chunk += b"\n"
        self._pending.append(bytes(chunk[:-1]))
        self._pending_bytes += len(self._pending[-1])
        if self._pending_bytes > MAX_PENDING_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")
            if self._file.tell() > 0:
                self._end_torn_line()
        self._file.write(b"\n".join(self._pending) + b"\n")
        self._file.flush()
        self._pending.clear()
        self._pending_bytes = 0

    def _end_torn_line(self) -> None:
        """A run killed mid-write may have left half a line: end it, so this run's first record
        stays a line of its own (the half line is kept, as it is)."""
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                self._file.write(b"\n")

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    def describe(self) -> str:
        return f"{self.path} (run {self.run_id})"
