"""FileOutput: records to a CSV, JSON, JSON Lines or text file, chosen by the file's extension.

Every format is valid after each ``flush``: CSV and line formats append whole lines, and the JSON
format keeps the file a complete ``{"data": [...]}`` document by overwriting its closing ``]}``
with the new records and a new ``]}`` (one write per flush, never a rewrite of the whole file).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from pipeline.detectors.base import ParameterError
from pipeline.outputs.base import Output, RunContext
from pipeline.outputs.formatting import FIELDS, Columns, json_records, terminal_lines
from pipeline.records import ResultBatch

FORMATS = (".csv", ".json", ".jsonl", ".txt")
JSON_TAIL = b"\n]}\n"


def csv_field(text: str) -> str:
    """Quote a CSV field when it holds a comma, quote or newline (RFC 4180)."""
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class FileOutput(Output):
    """Writes records to ``file_name``; the extension picks the format.

    Parameters
    ----------
    file_name : str
        ``.csv`` (header ``timestamp,status,status_code,value,suggested_value,algorithm,score``),
        ``.json`` (``{"data": [...]}``), ``.jsonl`` (one object per line) or ``.txt`` (the
        terminal line). A relative name is placed under the run's log folder (``log/``).
    mode : "w" or "a"
        ``w`` truncates the file when the run starts; ``a`` appends (creating it if needed).
    send_ok : bool
        Write OK records too (default true).
    """

    def __init__(
        self,
        file_name: Annotated[str, Field(min_length=1, description="output file; .csv .json .jsonl .txt")],
        mode: Annotated[Literal["w", "a"], Field(description="w truncates, a appends")] = "w",
        send_ok: Annotated[bool, Field(description="write OK records too")] = True,
    ):
        self.file_name = file_name
        self.mode = mode
        self.send_ok = send_ok
        self.format = os.path.splitext(file_name)[1].lower()
        if self.format not in FORMATS:
            raise ParameterError("file_name", file_name, f"a name ending in {', '.join(FORMATS)}")
        self.path: Path | None = None
        self._file = None
        self._pending: list[str] = []
        self._json_has_records = False
        self._json_cut = 0

    def open(self, context: RunContext) -> None:
        path = Path(self.file_name)
        self.path = path if path.is_absolute() else context.log_dir / path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        exists = self.path.exists() and self.path.stat().st_size > 0
        truncate = self.mode == "w" or not exists
        self._file = open(self.path, "wb" if truncate else "r+b")
        if self.format == ".json":
            self._open_json(truncate)
        elif self.format == ".csv" and truncate:
            self._file.write((",".join(FIELDS) + "\n").encode())
        self._file.seek(0, os.SEEK_END)
        self._file.flush()

    def _open_json(self, truncate: bool) -> None:
        f = self._file
        if truncate:
            f.write(b'{"data": [' + JSON_TAIL)
            self._json_cut = len(JSON_TAIL)
            return
        # Appending: the file must end with a closing "]}"; each flush overwrites it.
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 4096))
        tail = f.read()
        stripped = tail.rstrip()
        if not stripped.endswith(b"]}"):
            raise ValueError(f"{self.path}: cannot append, it does not end a {{\"data\": [...]}} document")
        head = stripped[:-2].rstrip()
        self._json_cut = len(tail) - len(head)
        self._json_has_records = not head.endswith(b"[")

    def write_selected(self, results: ResultBatch) -> None:
        if self.format == ".csv":
            cols = Columns(results)
            algorithm = csv_field(cols.algorithm)
            self._pending.extend(
                f"{t},{csv_field(s)},{c},{csv_field(v)},{csv_field(sv)},{algorithm},{sc}\n"
                for t, s, c, v, sv, sc in zip(cols.timestamp, cols.status, cols.status_code,
                                              cols.value, cols.suggested_value, cols.score))
        elif self.format == ".txt":
            self._pending.extend(line + "\n" for line in terminal_lines(results))
        else:
            self._pending.extend(json_records(results))

    def flush(self) -> None:
        if self._file is None or not self._pending:
            return
        if self.format == ".json":
            sep = ",\n" if self._json_has_records else "\n"
            text = sep + ",\n".join(self._pending)
            self._json_has_records = True
            # Overwrite the closing bracket in one write, so the document is whole after it.
            self._file.seek(-self._json_cut, os.SEEK_END)
            self._file.write(text.encode() + JSON_TAIL)
            self._file.truncate()
            self._json_cut = len(JSON_TAIL)
        elif self.format == ".jsonl":
            self._file.write(("\n".join(self._pending) + "\n").encode())
        else:
            self._file.write("".join(self._pending).encode())
        self._pending.clear()
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None
