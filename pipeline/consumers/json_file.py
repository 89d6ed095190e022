"""JSON and JSON Lines input, streamed with bounded memory.

JSON: ``{"data": [{"timestamp": ..., "ftr_vector": [...]}, ...]}`` or a plain array of such
objects. The array is cut into its elements' texts (``json_split``) and each element is parsed
alone, so a broken element is one rejected record, with its own text, and the elements after it
are still read. JSON Lines: one such object per line. Element validation is
``messages.messages_to_batch``.

Numbers are read as doubles: an integer beyond 2**64 becomes the nearest double, a number beyond
a double's range (``1e400``) makes its element invalid. Elements nested deeper than the parser's
limit (1,024 levels) are invalid too.

Refused as a whole, when the file is opened and before any record is read: a document that is not
``{"data": [...]}`` or an array (``{"records": [...]}``, ``{"data": 5}``: the message names what
was found). Text after the array is checked: anything but the end of the document (or further
keys of its object, which are ignored with a warning) is rejected as one record.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import orjson

from pipeline.consumers.input_file import (
    Damaged,
    DamagedInput,
    InputRefused,
    InputText,
    LongLine,
    damaged_record,
    line_blocks,
    long_line_record,
)
from pipeline.consumers.json_split import MAX_ELEMENT_BYTES, ArraySplitter, Piece, find_array_start
from pipeline.consumers.messages import messages_to_batch
from pipeline.records import RejectedRecord, SampleBatch

log = logging.getLogger(__name__)

ELEMENTS_PER_CHUNK = 20_000
CHUNK_BYTES = 4 << 20
# Blocks small enough that a block of nothing but broken records (each examined in Python) takes a
# fraction of a second, so a stop request is honoured at once.
BLOCK_BYTES = 1 << 16
LINE_BLOCK_BYTES = 1 << 18


class Locations:
    """``locations[i]`` names record i for a rejection; made only for the records rejected."""

    def __init__(self, where, positions):
        self._where, self._positions = where, positions

    def __getitem__(self, i: int) -> str:
        return self._where(self._positions[i])

    def __len__(self) -> int:
        return len(self._positions)


def parse_pieces(pieces: list[Piece], locate) -> tuple[list, list[int], list[bytes], list[RejectedRecord]]:
    """(parsed elements, their positions, their texts, rejections) of split pieces;
    ``locate(position)`` names a position in rejections.

    All pieces are first parsed as one array in one orjson call; only when that fails (or does
    not give one value per piece) is each parsed alone, to find which are bad."""
    if not any(piece.broken for piece in pieces):
        texts = [piece.text for piece in pieces]
        try:
            messages = orjson.loads(b"[" + b",".join(texts) + b"]")
        except orjson.JSONDecodeError:
            messages = None
        if messages is not None and len(messages) == len(texts):
            return messages, [piece.index for piece in pieces], texts, []
    messages, positions, raws, rejected = [], [], [], []
    for piece in pieces:
        problem = piece.broken
        if not problem:
            try:
                messages.append(orjson.loads(piece.text))
            except orjson.JSONDecodeError as err:
                problem = f"invalid JSON: {err}"
            else:
                positions.append(piece.index)
                raws.append(piece.text)
                continue
        rejected.append(RejectedRecord(locate(piece.index), piece.index, problem,
                                       piece.text.decode("utf-8", errors="replace")))
    return messages, positions, raws, rejected


class JsonReader:
    """Iterates a JSON document's elements as (SampleBatch, rejected) chunks."""

    def __init__(self, path: Path, width: int):
        self.path = Path(path)
        self.width = width
        self._text: InputText | None = None
        self._skip = 0
        self._form = "data"

    def open(self, text: InputText) -> None:
        found = find_array_start(text.head)
        if isinstance(found, str):
            raise InputRefused(f"{self.path}: not a JSON input: {found}; expected {{\"data\": [...]}} or "
                               f"an array of {{\"timestamp\": ..., \"ftr_vector\": [...]}} records")
        self._skip, self._form = found   # the first read returns the head, which holds the '['
        self._text = text

    def _where(self, index: int) -> str:
        return f"{self.path.name} data[{index}]" if self._form == "data" else f"{self.path.name}[{index}]"

    def _blocks(self, damaged: list[str]) -> Iterator[bytes]:
        while True:
            try:
                block = self._text.read(BLOCK_BYTES)
            except DamagedInput as err:
                damaged.append(str(err))
                return
            if not block:
                return
            if self._skip:
                block, self._skip = block[self._skip:], 0
            yield block

    def chunks(self) -> Iterator[tuple[SampleBatch, list[RejectedRecord]]]:
        splitter = ArraySplitter()
        damaged: list[str] = []
        pending: list[Piece] = []
        since_yield = 0
        for block in self._blocks(damaged):
            pending.extend(splitter.feed(block))
            since_yield += len(block)
            # bounded by bytes too: an element that never ends (a stray quote in a one-line
            # document) must not keep a poll, and a stop request, waiting for the end of the file
            if len(pending) >= ELEMENTS_PER_CHUNK or since_yield >= CHUNK_BYTES:
                yield self._convert(pending)
                pending, since_yield = [], 0
            if splitter.done:
                break
        cut = [] if splitter.done else splitter.close()
        if damaged:
            # the element under way was cut by the damage: rejected with it, never parsed
            partial = cut[0].text if cut else b""
            cut = [Piece(splitter.index - 1 if cut else splitter.index, partial,
                         f"{damaged[0]}; this record was cut by the damage and nothing after it could be read")]
        pending.extend(cut)
        if pending:
            yield self._convert(pending)
        if damaged:
            return
        if splitter.done:
            bad = self._check_tail(splitter.tail, damaged, splitter.index)
            if bad:
                yield SampleBatch.empty(self.width), bad

    def _convert(self, pieces: list[Piece]):
        messages, positions, raws, rejected = parse_pieces(pieces, self._where)
        batch, bad = messages_to_batch(messages, positions, Locations(self._where, positions),
                                       self.width, raws=raws)
        return batch, sorted(rejected + bad, key=lambda r: r.position)

    def _check_tail(self, tail: bytes, damaged: list[str], count: int) -> list[RejectedRecord]:
        """The text after the array: the end of the document, or keys after "data" (ignored with a
        warning); anything else is one rejected record (at most ``MAX_ELEMENT_BYTES`` of it kept)."""
        size = len(tail)
        for block in self._blocks(damaged):
            size += len(block)
            if len(tail) <= MAX_ELEMENT_BYTES:
                tail += block
        rest = tail.strip()
        if self._form == "array" and not rest:
            return []
        if self._form == "data" and rest == b"}":
            return []
        if self._form == "data" and rest.startswith(b",") and size == len(tail):
            try:
                extra = orjson.loads(b"{" + rest[1:])
            except orjson.JSONDecodeError:
                pass
            else:
                log.warning("%s: keys after \"data\" are ignored: %s", self.path, ", ".join(extra))
                return []
        kept = tail[:MAX_ELEMENT_BYTES].decode("utf-8", errors="replace")
        note = f" (its first {MAX_ELEMENT_BYTES:,} of {size:,} bytes kept)" if size > MAX_ELEMENT_BYTES else ""
        return [RejectedRecord(f"{self.path.name} after the data list", count,
                               f"text after the end of the data list: the document is broken there{note}",
                               kept)]


class JsonLinesReader:
    """Iterates a JSON Lines file as (SampleBatch, rejected) chunks; positions are line numbers."""

    def __init__(self, path: Path, width: int):
        self.path = Path(path)
        self.width = width
        self._text: InputText | None = None

    def open(self, text: InputText) -> None:
        self._text = text

    def chunks(self) -> Iterator[tuple[SampleBatch, list[RejectedRecord]]]:
        for item in line_blocks(self._text, LINE_BLOCK_BYTES):
            if isinstance(item, LongLine):
                yield SampleBatch.empty(self.width), [long_line_record(self.path, item)]
                continue
            if isinstance(item, Damaged):
                yield SampleBatch.empty(self.width), [damaged_record(self.path, item)]
                continue
            first_line, data = item
            if not data:   # a long line under way: nothing yet, but the poll may end
                yield SampleBatch.empty(self.width), []
                continue
            lines = data.split(b"\n")
            if data.endswith(b"\n"):
                lines.pop()
            messages, positions, raws, rejected = [], [], [], []
            for offset, line in enumerate(lines, start=first_line):
                line = line.rstrip(b"\r")
                try:
                    messages.append(orjson.loads(line))
                except orjson.JSONDecodeError as err:
                    text = line.decode("utf-8", errors="replace")
                    reason = "empty line" if not text.strip() else f"invalid JSON: {err}"
                    rejected.append(RejectedRecord(f"{self.path.name} line {offset}", offset, reason, text))
                    continue
                positions.append(offset)
                raws.append(line)
            locations = Locations(lambda p: f"{self.path.name} line {p}", positions)
            batch, bad = messages_to_batch(messages, positions, locations, self.width, raws=raws)
            yield batch, sorted(rejected + bad, key=lambda r: r.position)
