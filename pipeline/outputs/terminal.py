"""TerminalOutput: one line per record on standard output."""
from __future__ import annotations

import sys
from typing import Annotated

from pydantic import Field

from pipeline.outputs.base import Output
from pipeline.outputs.formatting import terminal_lines
from pipeline.records import ResultBatch


class TerminalOutput(Output):
    """Prints ``<timestamp>: <status> (value: [..]), Algorithm: <name>, Score: <s>`` per record.

    ``<timestamp>`` is the input's number in its own unit (seconds or milliseconds), ISO 8601
    input as epoch seconds (``pipeline/outputs/formatting.py``).

    Parameters
    ----------
    send_ok : bool
        Write OK records too (default true).
    """

    def __init__(self, send_ok: Annotated[bool, Field(description="write OK records too")] = True):
        self.send_ok = send_ok
        self._stream = None

    def open(self, context) -> None:
        self._stream = sys.stdout

    def write_selected(self, results: ResultBatch) -> None:
        stream = self._stream or sys.stdout
        stream.write("\n".join(terminal_lines(results)) + "\n")

    def flush(self) -> None:
        (self._stream or sys.stdout).flush()
