"""MemoryOutput: keeps every result batch in a list (for tests and embedding)."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.outputs.base import Output
from pipeline.records import ResultBatch


class MemoryOutput(Output):
    """Appends each written ``ResultBatch`` to ``batches``; ``flushed`` counts flushed results."""

    def __init__(self, send_ok: Annotated[bool, Field(description="keep OK records too")] = True):
        self.send_ok = send_ok
        self.batches: list[ResultBatch] = []
        self.flushed = 0

    def write_selected(self, results: ResultBatch) -> None:
        self.batches.append(results)

    def flush(self) -> None:
        self.flushed = sum(len(b) for b in self.batches)

    def status_codes(self) -> np.ndarray:
        """Every status code written so far, in order."""
        if not self.batches:
            return np.empty(0, dtype=np.int8)
        return np.concatenate([b.status_code for b in self.batches])
