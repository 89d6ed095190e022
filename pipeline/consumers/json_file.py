"""JSON and JSON Lines input, streamed with bounded memory.

JSON: ``{"data": [{"timestamp": ..., "ftr_vector": [...]}, ...]}`` or a plain array of such
objects, parsed incrementally by ijson (an element at a time). JSON Lines: one such object per
line. Element validation is ``messages.messages_to_batch``. A JSON syntax error ends the document:
it is reported with the element index, and the elements before it are still used.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Iterator

import ijson
import orjson

from pipeline.consumers.base import SourceError
from pipeline.consumers.messages import messages_to_batch
from pipeline.records import RejectedRecord, SampleBatch

ELEMENTS_PER_CHUNK = 50_000
LINES_PER_CHUNK = 50_000


class JsonSyntaxError(SourceError):
    """The document is broken at some point; everything before it was read."""


class _CountingFile:
    """A binary file wrapper that counts bytes read (for progress)."""

    def __init__(self, f):
        self._f = f
        self.count = 0

    def read(self, size=-1):
        data = self._f.read(size)
        self.count += len(data)
        return data


class JsonReader:
    """Iterates a JSON document's elements as (SampleBatch, rejected) chunks."""

    def __init__(self, path: Path, width: int):
        self.path = Path(path)
        self.width = width
        self._counter = None

    @property
    def bytes_read(self) -> int:
        return self._counter.count if self._counter else 0

    def chunks(self) -> Iterator[tuple[SampleBatch, list[RejectedRecord]]]:
        with open(self.path, "rb") as f:
            head = f.read(4096).lstrip()
            f.seek(0)
            if head.startswith(b"{"):
                prefix, where = "data.item", "data"
            elif head.startswith(b"["):
                prefix, where = "item", ""
            else:
                raise SourceError(f"{self.path}: expected a JSON object {{\"data\": [...]}} or an array")
            self._counter = _CountingFile(f)
            elements = ijson.items(self._counter, prefix, use_float=True)
            index = 0
            broken = None
            while broken is None:
                chunk = []
                try:
                    for element in elements:
                        chunk.append(element)
                        if len(chunk) == ELEMENTS_PER_CHUNK:
                            break
                except ijson.JSONError as err:
                    broken = f"{self.path}: invalid JSON after {where}[{index + len(chunk) - 1}]: {err}"
                if chunk:
                    positions = range(index, index + len(chunk))
                    locations = [f"{self.path.name} {where}[{i}]" for i in positions]
                    yield messages_to_batch(chunk, positions, locations, self.width)
                    index += len(chunk)
                elif broken is None:
                    return
            raise JsonSyntaxError(broken.splitlines()[0])


class JsonLinesReader:
    """Iterates a JSON Lines file as (SampleBatch, rejected) chunks; positions are line numbers."""

    def __init__(self, path: Path, width: int):
        self.path = Path(path)
        self.width = width
        self.bytes_read = 0

    def chunks(self) -> Iterator[tuple[SampleBatch, list[RejectedRecord]]]:
        with open(self.path, "rb") as f:
            line_no = 0
            while True:
                lines = list(itertools.islice(f, LINES_PER_CHUNK))
                if not lines:
                    return
                self.bytes_read += sum(map(len, lines))
                messages, positions, raws, rejected = [], [], [], []
                for offset, line in enumerate(lines, start=line_no + 1):
                    try:
                        messages.append(orjson.loads(line))
                    except orjson.JSONDecodeError as err:
                        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                        reason = "empty line" if not text.strip() else f"invalid JSON: {err}"
                        rejected.append(RejectedRecord(f"{self.path.name} line {offset}", offset, reason, text))
                        continue
                    positions.append(offset)
                    raws.append(line.rstrip(b"\r\n"))
                line_no += len(lines)
                locations = [f"{self.path.name} line {p}" for p in positions]
                batch, bad = messages_to_batch(messages, positions, locations, self.width, raws=raws)
                yield batch, sorted(rejected + bad, key=lambda r: r.position)
