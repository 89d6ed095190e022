"""CSV input, read in byte chunks of bounded size and parsed by pandas' C parser.

Layout: a header row; a ``timestamp`` column; optional ``label`` / ``labelInfo`` columns (kept as
labels, never features); every other column is a feature, in header order. A single feature column
may instead hold the whole vector as text (``ftr_vector`` = ``"[0.1, 2]"``, the original's training
file form).

A chunk of clean numeric rows costs a few numpy operations. Rows that cannot be used (an empty
line, a missing or non-numeric value, a non-finite value, a vector of the wrong length, a bad
timestamp or one outside the supported time range, too many or too few fields, a carriage return
inside the line, a line over ``input_file.MAX_LINE_BYTES``) are returned as RejectedRecords with
their 1-based line number; the other rows of the chunk are still used. A row has too many fields
wherever it is, first and last rows included (a trailing delimiter makes one field more).
Only a file that cannot be CSV at all (no header, no ``timestamp`` column, binary data) is refused
as a whole, when it is opened, before any row is read.
"""
from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from pipeline.consumers.input_file import (
    MAX_LINE_BYTES,
    Damaged,
    InputRefused,
    InputText,
    LongLine,
    damaged_record,
    line_blocks,
    long_line_record,
)
from pipeline.consumers.numbers import to_floats
from pipeline.consumers.timestamps import OUT_OF_RANGE, in_range, parse_timestamp_texts, seconds_from_numbers
from pipeline.records import RejectedRecord, SampleBatch

#: Bytes parsed at a time. Small enough that a chunk of nothing but bad rows (each examined in
#: Python) takes a fraction of a second, so a stop request is honoured at once.
CHUNK_BYTES = 1 << 20
LABEL_COLUMNS = ("label", "labelInfo")

# A field may be as long as a line may be (the csv module's default limit is 128 KiB).
csv.field_size_limit(max(csv.field_size_limit(), 2 * MAX_LINE_BYTES))


class RowTexts:
    """A column's values for rejection reasons, indexed row by row; converted to a numpy object
    array only when a reason is first asked for (a clean chunk never pays for it)."""

    def __init__(self, column: pd.Series):
        self._column = column
        self._values = None

    def __getitem__(self, i: int):
        if self._values is None:
            self._values = self._column.to_numpy(dtype=object)
        return self._values[i]


def quoted(value, limit: int = 60) -> str:
    """A field as it appears in a rejection reason: quoted, and cut (the raw row is kept whole)."""
    text = repr(str(value))
    return text if len(text) <= limit else text[:limit - 4] + "...'"


def line_fields(raw: bytes) -> tuple[str, list[str] | None, str]:
    """(the text of one line, its fields by the csv module or None, why there are none). One
    line at a time, so that an unclosed quote ends with its line instead of swallowing the lines
    after it."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    try:
        return text, next(csv.reader([text]), []), ""
    except csv.Error as err:
        return text, None, ("a carriage return inside the line" if "\r" in text else f"unreadable line: {err}")


def rows_are_lines(data: bytes) -> bool:
    """Whether pandas' C parser will make exactly one row of each line: no CR but before LF
    (pandas ends a row at a lone CR) and an even number of quotes on every line (pandas lets a
    quoted field run on into the next line). A chunk where this fails could come out with as many
    rows as lines and still have them out of step, so it is read line by line instead."""
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False
    if b'"' not in data:
        return True
    b = np.frombuffer(data, dtype=np.uint8)
    line_of_quote = np.searchsorted(np.flatnonzero(b == ord("\n")), np.flatnonzero(b == ord('"')))
    return not (np.bincount(line_of_quote) % 2).any()


class CsvReader:
    """Iterates a CSV file as (SampleBatch, rejected rows) chunks.

    Parameters
    ----------
    path : Path
        The file.
    width : int
        The expected feature vector length (``input_vector_size``).
    """

    def __init__(self, path: Path, width: int, chunk_bytes: int | None = None):
        self.path = Path(path)
        self.width = width
        self.chunk_bytes = chunk_bytes
        self.columns: list[str] = []
        self._blocks = None
        self._first: tuple[int, bytes] | None = None

    def open(self, text: InputText) -> None:
        """Read and check the header; raises InputRefused when the file cannot be this CSV."""
        self._blocks = line_blocks(text, self.chunk_bytes or CHUNK_BYTES)
        first = next(self._blocks, None)
        while isinstance(first, tuple) and not first[1]:   # a first line still being read
            first = next(self._blocks, None)
        if isinstance(first, LongLine):
            raise InputRefused(f"{self.path}: the first line is {first.size:,} bytes long; expected a header row")
        if first is None or isinstance(first, Damaged):
            raise InputRefused(f"{self.path}: empty file, expected a header row"
                               + (f" ({first.reason})" if first else ""))
        _, data = first
        header, _, rest = data.partition(b"\n")
        self._read_header(header)
        self._first = (2, rest) if rest else None

    def _read_header(self, line: bytes) -> None:
        text, fields, problem = line_fields(line)
        if not text.strip():
            raise InputRefused(f"{self.path}: empty first line, expected a header row")
        if fields is None:
            raise InputRefused(f"{self.path}: cannot read the header row: {problem}")
        self.columns = [c.strip() for c in fields]
        if len(set(self.columns)) != len(self.columns):
            raise InputRefused(f"{self.path}: duplicate column names in header {self.columns}")
        if "timestamp" not in self.columns:
            raise InputRefused(f"{self.path}: no 'timestamp' column in header {self.columns}")
        self.features = [c for c in self.columns if c != "timestamp" and c not in LABEL_COLUMNS]
        self.vector_text = len(self.features) == 1 and self.width != 1
        if not self.features:
            raise InputRefused(f"{self.path}: no feature column in header {self.columns}")
        if len(self.features) != self.width and not self.vector_text:
            raise InputRefused(
                f"{self.path}: {len(self.features)} feature columns ({', '.join(self.features)}) but "
                f"input_vector_size is {self.width}")

    def chunks(self) -> Iterator[tuple[SampleBatch, list[RejectedRecord]]]:
        if self._first is not None:
            yield self._parse(self._first[1], self._first[0])
        for item in self._blocks:
            if isinstance(item, LongLine):
                yield SampleBatch.empty(self.width), [long_line_record(self.path, item)]
            elif isinstance(item, Damaged):
                yield SampleBatch.empty(self.width), [damaged_record(self.path, item)]
            elif item[1]:
                yield self._parse(item[1], item[0])
            else:   # a long line under way: nothing yet, but the poll may end
                yield SampleBatch.empty(self.width), []

    # -- parsing one chunk ------------------------------------------------------------------------
    def _parse(self, data: bytes, first_line: int):
        n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        rejected: list[RejectedRecord] = []
        frame = self._read_frame(data, n_lines) if rows_are_lines(data) else None
        lines = np.arange(first_line, first_line + n_lines, dtype=np.int64)
        if frame is None:   # some row has the wrong field count: reject those rows, parse the rest
            kept, lines, rejected = self._drop_ragged_rows(data, first_line)
            if not len(lines):
                return SampleBatch.empty(self.width), rejected
            frame = self._read_frame(kept, len(lines)) if rows_are_lines(kept) else None
            if frame is None:   # what pandas would misread (an unclosed quote): the csv module's fields
                frame = self._fields_frame(kept)
        batch, bad = self._convert(frame, lines, data, first_line)
        return batch, sorted(rejected + bad, key=lambda r: r.position)

    def _read_frame(self, data: bytes, n_lines: int) -> pd.DataFrame | None:
        """pandas' C parser on whole lines, or None unless every line became one row and no row
        has more fields than the header.

        No column names are given, so pandas counts the fields of the first row itself: a first
        row with a field too many (a trailing delimiter) shows as an extra column, and a later one
        as a parser error, instead of being cut silently. Rows with fewer fields get missing
        values, which ``_convert`` names."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                # only an empty field is missing: "NaN" or "null" in a row is a bad value, named as such
                frame = pd.read_csv(io.BytesIO(data), header=None, skip_blank_lines=False,
                                    keep_default_na=False, na_values=[""], low_memory=False,
                                    encoding="utf-8", encoding_errors="replace")
        except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, ValueError,
                OverflowError):
            return None
        if len(frame) != n_lines or frame.shape[1] != len(self.columns):
            return None
        frame.columns = self.columns
        return frame

    def _drop_ragged_rows(self, data: bytes, first_line: int):
        """(the chunk without rows of the wrong field count, line numbers of the rows kept, their
        rejections). Lines are split with the csv module one at a time, so that an unclosed quote
        cannot swallow the lines after it; the rows kept go back to pandas' C parser."""
        kept, lines, rejected = [], [], []
        texts = data.split(b"\n")
        if texts and texts[-1] == b"":
            texts.pop()
        for offset, raw in enumerate(texts):
            text, fields, problem = line_fields(raw)
            if fields is None or (len(fields) != len(self.columns) and text.strip()):
                reason = problem or f"expected {len(self.columns)} fields, got {len(fields)}"
                rejected.append(RejectedRecord(self._where(first_line + offset), first_line + offset, reason, text))
                continue
            kept.append(raw)
            lines.append(first_line + offset)
        return b"\n".join(kept) + b"\n", np.array(lines, dtype=np.int64), rejected

    def _fields_frame(self, data: bytes) -> pd.DataFrame:
        """Text fields of each line by the csv module, one line at a time (every line must have
        one field per column, or be blank)."""
        rows = []
        for raw in data.split(b"\n")[:-1]:
            text, fields, _ = line_fields(raw)
            rows.append(fields if text.strip() and fields is not None else [None] * len(self.columns))
        return pd.DataFrame(rows, columns=self.columns, dtype=object).replace({"": None})

    def _where(self, line: int) -> str:
        return f"{self.path.name} line {line}"

    def _convert(self, frame: pd.DataFrame, lines: np.ndarray, data: bytes, first_line: int):
        n = len(frame)
        reasons: dict[int, str] = {}

        def flag(mask: np.ndarray, reason) -> None:
            for i in np.flatnonzero(mask).tolist():
                if i not in reasons:
                    reasons[i] = reason(i) if callable(reason) else reason

        missing = frame.isna().to_numpy()
        flag(missing.all(axis=1), "empty line")
        stamps, seconds = self._timestamps(frame["timestamp"])
        column = RowTexts(frame["timestamp"])
        flag(np.isfinite(seconds) & ~in_range(seconds),
             lambda i: f"timestamp: {quoted(column[i])} is {OUT_OF_RANGE}")
        flag(~np.isfinite(seconds), lambda i: f"timestamp: not a number or ISO 8601 time: {quoted(column[i])}"
             if pd.notna(column[i]) else "timestamp: missing")
        values = np.empty((n, self.width), dtype=np.float64)
        if self.vector_text or (len(self.features) == 1 and self._holds_lists(frame[self.features[0]])):
            self._vector_column(frame[self.features[0]], values, flag)
        else:
            for j, name in enumerate(self.features):
                values[:, j] = self._number_column(frame[name], name, flag)
        labels = self._labels(frame)
        raw_lines = None
        # a row missing only fields that may be empty (labels) has no bad value: count its fields
        unflagged_gaps = np.flatnonzero(missing.any(axis=1))
        unflagged_gaps = [i for i in unflagged_gaps.tolist() if i not in reasons]
        if unflagged_gaps:
            raw_lines = data.decode("utf-8", errors="replace").split("\n")
            for i in unflagged_gaps:
                _, fields, problem = line_fields(raw_lines[int(lines[i]) - first_line].encode())
                if fields is None or len(fields) != len(self.columns):
                    reasons[i] = problem or f"expected {len(self.columns)} fields, got {len(fields)}"
        if reasons:
            keep = np.ones(n, dtype=bool)
            keep[list(reasons)] = False
            if raw_lines is None:
                raw_lines = data.decode("utf-8", errors="replace").split("\n")
            rejected = []
            plain_fields = len(self.columns) - 1   # commas of a row with no quotes and the right fields
            for i, reason in sorted(reasons.items()):
                line = int(lines[i])
                raw = raw_lines[line - first_line].rstrip("\r") if 0 <= line - first_line < len(raw_lines) else ""
                if raw.count(",") == plain_fields and '"' not in raw and "\r" not in raw:
                    rejected.append(RejectedRecord(self._where(line), line, reason, raw))
                    continue
                _, fields, problem = line_fields(raw.encode())
                if fields is None:
                    reason = problem
                elif raw.strip() and len(fields) != len(self.columns):
                    reason = f"expected {len(self.columns)} fields, got {len(fields)}"
                rejected.append(RejectedRecord(self._where(line), line, reason, raw))
        else:
            keep, rejected = slice(None), []
        batch = SampleBatch(stamps[keep], seconds[keep], values[keep], lines[keep],
                            None if labels is None else labels[keep])
        return batch, rejected

    @staticmethod
    def _timestamps(column: pd.Series):
        if column.dtype.kind in "if":
            stamps = column.to_numpy(dtype=np.float64)
            return stamps, seconds_from_numbers(stamps)
        if column.dtype.kind == "b":   # pandas read "True"/"False": not a time
            return np.full(len(column), np.nan), np.full(len(column), np.nan)
        return parse_timestamp_texts(column.to_numpy(dtype=object))

    @staticmethod
    def _holds_lists(column: pd.Series) -> bool:
        """Whether a text column holds vectors written as lists (``"[0.1]"``)."""
        if column.dtype.kind in "ifb":
            return False
        return bool(column.astype("string").str.lstrip().str.startswith("[").fillna(False).any())

    @staticmethod
    def _number_column(column: pd.Series, name: str, flag) -> np.ndarray:
        if column.dtype.kind in "if":
            x = column.to_numpy(dtype=np.float64)
        elif column.dtype.kind == "b":
            # pandas reads a chunk whose column is all "True"/"False" as booleans; they are no more
            # a number here than when they sit among numbers (then pandas leaves them text)
            x = np.full(len(column), np.nan)
        else:
            x = to_floats(column)
        missing = column.isna().to_numpy()
        flag(missing, f"{name}: missing value")
        texts = RowTexts(column)
        flag(np.isnan(x) & ~missing, lambda i: f"{name}: not a number: {quoted(texts[i])}")
        flag(np.isinf(x), lambda i: f"{name}: not finite: {quoted(texts[i])}")
        return x

    def _vector_column(self, column: pd.Series, values: np.ndarray, flag) -> None:
        """``"[0.1, 2]"`` texts (or plain numbers when the width is 1) -> rows of ``values``."""
        name = column.name
        texts = RowTexts(column)
        text = column.astype("string").str.strip()
        bracketed = (text.str.startswith("[") & text.str.endswith("]")).fillna(False).to_numpy(dtype=bool)
        inner = text.where(~bracketed, text.str[1:-1])
        parts = inner.str.split(",", expand=True)
        counts = np.where(inner.str.strip().fillna("").to_numpy(dtype=object) == "", 0,
                          inner.str.count(",").fillna(-1).to_numpy(dtype=np.float64) + 1)
        missing = column.isna().to_numpy()
        flag(missing, f"{name}: missing value")
        flag(~bracketed & (self.width != 1), lambda i: f"{name}: expected a list of {self.width} numbers, "
                                                       f"got {quoted(texts[i])}")
        flag(counts != self.width, lambda i: f"{name}: has {int(counts[i])} values, expected {self.width} "
                                             f"(input_vector_size)")
        values[:] = np.nan
        for j in range(min(self.width, parts.shape[1])):
            values[:, j] = to_floats(parts[j].str.strip())
        flag(~np.isfinite(values).all(axis=1), lambda i: f"{name}: not a list of finite numbers: {quoted(texts[i])}")

    @staticmethod
    def _labels(frame: pd.DataFrame) -> np.ndarray | None:
        if "label" not in frame.columns:
            return None
        column = frame["label"]
        if column.dtype.kind == "b":
            return column.to_numpy(dtype=bool)
        text = column.astype("string").str.strip().str.lower()
        return text.isin(["true", "1", "1.0", "yes"]).fillna(False).to_numpy(dtype=bool)
