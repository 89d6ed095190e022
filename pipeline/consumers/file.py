"""FileConsumer: replay a CSV, JSON or JSON Lines file as a stream (``-f``), compressed or not.

Opening the file checks what the whole file must be (its format's head: a CSV header, a JSON
document's array; text, not binary data) and raises ``InputRefused`` before any row is read.
After that, nothing in the file stops the run: bad rows come back as rejected records.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.consumers.base import Poll, Source, SourceError
from pipeline.consumers.csv_file import CsvReader
from pipeline.consumers.input_file import InputRefused, InputText, data_suffix
from pipeline.consumers.json_file import JsonLinesReader, JsonReader
from pipeline.records import RejectedRecord, SampleBatch

READERS = {".csv": CsvReader, ".json": JsonReader, ".jsonl": JsonLinesReader, ".ndjson": JsonLinesReader}


def concat_batches(batches: list[SampleBatch]) -> SampleBatch:
    if len(batches) == 1:
        return batches[0]
    labels = [b.labels for b in batches]
    return SampleBatch(
        timestamp=np.concatenate([b.timestamp for b in batches]),
        time_s=np.concatenate([b.time_s for b in batches]),
        values=np.concatenate([b.values for b in batches]),
        position=np.concatenate([b.position for b in batches]),
        labels=None if any(lab is None for lab in labels) else np.concatenate(labels),
        key=batches[0].key,
        stream=batches[0].stream,
    )


class FileConsumer(Source):
    """Reads a file chunk by chunk; the extension picks the format (.csv, .json, .jsonl), under
    a compression extension if any (``.csv.gz``; the compression itself is found from the data).

    Parameters
    ----------
    path : Path
        The input file.
    width : int
        Feature vector length every sample must have (``input_vector_size``).
    """

    def __init__(self, path: Path, width: int):
        self.path = Path(path)
        self.width = width
        suffix = data_suffix(self.path)
        if suffix not in READERS:
            raise InputRefused(f"{self.path}: unknown file type {suffix!r}; expected one of {', '.join(READERS)} "
                               "(optionally compressed: .gz, .bz2, .xz)")
        self.reader = READERS[suffix](self.path, width)
        self._text: InputText | None = None
        self._bytes_read = 0
        self._chunks = None
        self._pending: SampleBatch | None = None
        self._total = None
        self._error: SourceError | None = None
        self.finished = False

    def open(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"{self.path}: no such file")
        self._total = self.path.stat().st_size
        self._text = InputText(self.path, cr_line_ends=isinstance(self.reader, CsvReader))
        try:
            self.reader.open(self._text)
        except BaseException:
            self._text.close()
            raise
        self._chunks = self.reader.chunks()

    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        parts: list[SampleBatch] = []
        rejected: list[RejectedRecord] = []
        have = 0
        # rejected records count too: a file of nothing but bad rows is read a poll at a time, so
        # memory stays bounded and a stop request is seen between polls
        while have + len(rejected) < max_items and not self.finished:
            if self._pending is None or len(self._pending) == 0:
                try:
                    self._pending, bad = next(self._chunks)
                except StopIteration:
                    self.finished = True
                    break
                except SourceError as err:
                    if not parts and not rejected:
                        raise
                    self._error = err  # hand out what came before the break first
                    break
                rejected.extend(bad)
                if not len(self._pending) and not bad:
                    break   # input that made no record yet (a long one under way): let a stop be seen
                continue
            take = min(max_items - have - len(rejected), len(self._pending))
            parts.append(self._pending.take(slice(0, take)))
            self._pending = self._pending.take(slice(take, None))
            have += take
        samples = concat_batches(parts) if parts else SampleBatch.empty(self.width)
        return Poll(samples, rejected)

    def progress(self) -> tuple[float, float | None]:
        return float(self._text.bytes_read if self._text else self._bytes_read), self._total

    def close(self) -> None:
        if self._chunks is not None:
            self._chunks.close()
            self._chunks = None
        if self._text is not None:
            self._bytes_read = self._text.bytes_read   # progress stays readable after the end
            self._text.close()
            self._text = None
