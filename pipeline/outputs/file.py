"""FileOutput: records to a CSV, JSON, JSON Lines or text file, chosen by the file's extension.

Every format is valid after each ``flush``: CSV and line formats append whole lines, and the JSON
format keeps the file a complete ``{"data": [...]}`` document by overwriting its closing ``]}``
with the new records and a new ``]}`` (one write per flush, never a rewrite of the whole file).
A flush that fails (a full disk) cuts the file back to where it was, so it stays valid and the
records can be written again.

A file cut off by a crash or a full disk during an earlier run is repaired when a run appends to
it: everything after its last complete record is dropped (with a warning saying how much), so a
service restarts on its own. A file deleted or renamed away during a run (log rotation) is noticed
at the next flush and created again; what was written before stays in the old file. A file emptied in
place (logrotate's ``copytruncate``: same inode, now shorter than what was written) is noticed at the
next flush too and started again (a CSV header, a new JSON document), so no hole of NUL bytes opens
before the new records.
"""
from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path
from typing import Annotated, Literal

import orjson
from pydantic import Field

from pipeline.outputs.base import Output, RunContext
from pipeline.outputs.formatting import FIELDS, Columns, json_records, terminal_lines
from pipeline.outputs.paths import escapes_log_dir, output_file
from pipeline.parameters import ParameterError
from pipeline.records import ResultBatch

log = logging.getLogger(__name__)

FORMATS = (".csv", ".json", ".jsonl", ".txt")
JSON_HEAD = b'{"data": ['
JSON_TAIL = b"\n]}\n"
#: how a document starts: ours, or the original project's json.dump({"data": [...]})
JSON_HEAD_PATTERN = re.compile(rb'\s*\{\s*"data"\s*:\s*\[')
#: how far back from the end a repair looks for the last complete record or line; a torn end
#: is one partial record plus at most a partial "]}", so only a record longer than this fails
REPAIR_WINDOW = 1 << 20
#: lines at the end of a JSON file that may be torn: a partial record and a partial "]"
TORN_LINES = 2


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
        terminal line). ``timestamp`` is the input's number in its own unit (seconds or
        milliseconds), ISO 8601 input as epoch seconds (``pipeline/outputs/formatting.py``).
        A relative name is placed under the run's log folder (``log/``) and may
        not leave it with ``..``; an absolute name may be anywhere.
    mode : "w" or "a"
        ``w`` truncates the file when the run starts; ``a`` appends (creating it if needed, and
        cutting off an incomplete last record that a crash or a full disk left).
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
        if escapes_log_dir(file_name):
            raise ParameterError("file_name", file_name, 'a name inside the log folder (no ".." leaving it; '
                                 "an absolute path writes elsewhere)")
        self.path: Path | None = None
        self._file = None
        self._identity: tuple[int, int] | None = None
        self._regular = True
        self._end = 0  # where the next flush writes: the end of the file, or the JSON's closing "]}"
        self._pending: list[str] = []
        self._json_has_records = False

    # -- opening ---------------------------------------------------------------------------------
    def open(self, context: RunContext) -> None:
        self.path = output_file(self.file_name, context.log_dir)
        self._open(truncate=self.mode == "w")

    def _open(self, truncate: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | (os.O_TRUNC if truncate else 0), 0o666)
        self._file = open(fd, "r+b", buffering=0)  # one write per flush: nothing to buffer
        try:
            st = os.fstat(fd)
            self._identity = (st.st_dev, st.st_ino)
            self._regular = stat.S_ISREG(st.st_mode)
            if self.format == ".json" and not self._regular:
                raise ValueError(f"{self.path}: a .json output must be a regular file (each flush rewrites "
                                 "its closing bracket); use .jsonl for a pipe or device")
            self._json_has_records = False
            size = st.st_size if self._regular else 0
            if size and self.format == ".json":
                self._end = self._json_append_point(size)
            elif size:
                self._end = self._line_append_point(size)
            else:
                self._end = 0
            if self._end == 0:  # a new file, or one cut back to nothing
                header = {".json": JSON_HEAD + JSON_TAIL, ".csv": (",".join(FIELDS) + "\n").encode()}.get(self.format)
                if header:
                    self._write_at(0, header, "the header")
                self._end = len(JSON_HEAD) if self.format == ".json" else len(header or b"")
        except BaseException:
            self._file.close()
            self._file = None
            raise

    def _read_tail(self, size: int, length: int) -> tuple[int, bytes]:
        """The last ``length`` bytes of the file and where they start."""
        start = max(0, size - length)
        self._file.seek(start)
        return start, self._file.read(size - start)

    def _json_append_point(self, size: int) -> int:
        """Where records go in the existing document: before its closing ``]}``. A document cut
        off mid-record, after a comma or inside its ``]}`` is cut back to its last complete
        record and closed; a file that is not such a document is left alone and refused."""
        self._file.seek(0)
        head = self._file.read(64)
        if not JSON_HEAD_PATTERN.match(head):
            if size < len(JSON_HEAD) and JSON_HEAD.startswith(head.strip()):
                return self._cut(0, size, "it held no record")  # torn while writing the header
            raise ValueError(f"{self.path}: cannot append: it is not a {{\"data\": [...]}} document "
                             f"(it starts with {head[:20]!r}); name another file or use mode \"w\" to replace it")
        start, tail = self._read_tail(size, REPAIR_WINDOW)
        stripped = tail.rstrip()
        if stripped.endswith(b"]}"):  # closed, as every flush leaves it
            before = stripped[:-2].rstrip()
            self._json_has_records = not before.endswith(b"[")
            return start + len(before)
        lines = tail.split(b"\n")
        offsets = [start]
        for line in lines[:-1]:
            offsets.append(offsets[-1] + len(line) + 1)
        torn = 0
        for line_start, line in zip(reversed(offsets), reversed(lines)):
            if line_start > 0 and line_start == start:
                break  # the window starts mid-line
            text = line.strip()
            if not text:
                continue
            if line_start == 0:
                match = JSON_HEAD_PATTERN.match(line)
                if match and not line[match.end():].strip():
                    self._json_has_records = False
                    return self._cut(match.end(), size, "it held no complete record")
                break
            record = text[:-1] if text.endswith(b",") else text
            try:
                complete = isinstance(orjson.loads(record), dict)
            except orjson.JSONDecodeError:
                complete = False
            if complete:
                self._json_has_records = True
                indent = len(line) - len(line.lstrip())
                return self._cut(line_start + indent + len(record), size, "every complete record before them is kept")
            torn += 1
            if torn > TORN_LINES:
                break
        raise ValueError(f"{self.path}: cannot append: it does not end a {{\"data\": [...]}} document, and its "
                         f"last {min(size, REPAIR_WINDOW):,} bytes hold no complete record to cut back to; "
                         "name another file or use mode \"w\" to replace it")

    def _line_append_point(self, size: int) -> int:
        """The end of the last whole line: a partial line a crash left is cut off, so the next
        record does not run on from it."""
        if self._read_tail(size, 1)[1] == b"\n":
            return size
        start, tail = self._read_tail(size, REPAIR_WINDOW)
        newline = tail.rfind(b"\n")
        if newline < 0 and start > 0:
            raise ValueError(f"{self.path}: cannot append: its last {REPAIR_WINDOW:,} bytes hold no line end; "
                             "it is not a file of records. Name another file or use mode \"w\" to replace it")
        return self._cut(start + newline + 1, size, "every whole line before them is kept")

    def _cut(self, end: int, size: int, where: str) -> int:
        """Drop everything from ``end`` on (and close a JSON document again); returns ``end``."""
        dropped = size - end
        log.warning("%s ends in an incomplete record (a run was killed or the disk was full): dropped its "
                    "last %d byte%s; %s", self.path, dropped, "" if dropped == 1 else "s", where)
        self._file.truncate(end)
        if self.format == ".json":
            self._write_at(end, JSON_HEAD + JSON_TAIL if end == 0 else JSON_TAIL, "the closing bracket")
            return len(JSON_HEAD) if end == 0 else end
        return end

    # -- writing ---------------------------------------------------------------------------------
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
        self._reopen_if_moved()
        if self.format == ".json":
            records = (",\n" if self._json_has_records else "\n") + ",\n".join(self._pending)
            data = records.encode()
            # the closing bracket goes in the same write, so the document is whole after it
            self._write_at(self._end, data + JSON_TAIL, f"{len(self._pending):,} records")
            self._json_has_records = True
        elif self.format == ".jsonl":
            data = ("\n".join(self._pending) + "\n").encode()
            self._write_at(self._end, data, f"{len(self._pending):,} records")
        else:
            data = "".join(self._pending).encode()
            self._write_at(self._end, data, f"{len(self._pending):,} records")
        self._end += len(data)
        self._pending.clear()

    def _write_at(self, offset: int, data: bytes, what: str) -> None:
        """Write ``data`` at ``offset`` and end the file after it. On failure the file is cut back
        to ``offset`` (a JSON document closed again), so it stays valid, and the error names it."""
        try:
            if self._regular:
                self._file.seek(offset)
            view = memoryview(data)
            while view:
                view = view[self._file.write(view):]
            if self._regular:
                self._file.truncate()
        except OSError as err:
            self._restore(offset)
            raise OSError(err.errno, f"cannot write {what}: {err.strerror}", str(self.path)) from err

    def _restore(self, offset: int) -> None:
        if not self._regular:
            return
        try:
            self._file.truncate(offset)
            if self.format == ".json" and offset > 0:
                self._file.seek(offset)
                self._file.write(JSON_TAIL)  # a few bytes where many were just freed
        except OSError as err:  # the next run that appends repairs it
            log.error("%s: could not cut back to its last complete record: %s", self.path, err)

    def _reopen_if_moved(self) -> None:
        """Log rotation renames the file, a user may delete it: then records written to the open
        file would be lost to every reader, so a new file takes them. Rotation by copying and
        emptying the file in place (``copytruncate``) keeps the inode but leaves the file shorter
        than what was written: writing at the old end would leave a hole of NUL bytes (and a JSON
        document without its head), so the file is started again from what it now holds, as a
        run opening it would (empty: a CSV header or a new JSON document; nothing for the others)."""
        try:
            st = os.stat(self.path)
            moved = (st.st_dev, st.st_ino) != self._identity
        except (FileNotFoundError, NotADirectoryError):
            moved = True
        except OSError:
            return  # cannot tell (permissions); keep writing where we are
        if moved:
            log.warning("%s was deleted or moved away during the run; writing the records from now on to a "
                        "new %s (earlier ones stay in the old file)", self.path, self.path)
        elif self._regular and st.st_size < self._end:
            log.warning("%s was truncated during the run (to %d of the %d bytes written; log rotation with "
                        "copytruncate?); starting it again and writing the records from now on after what it "
                        "holds", self.path, st.st_size, self._end)
        else:
            return
        self._file.close()
        self._file = None
        self._open(truncate=False)

    def close(self) -> None:
        if self._file is not None:
            try:
                self.flush()
            finally:
                self._file.close()
                self._file = None
