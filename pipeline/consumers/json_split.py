"""Splitting a JSON document's array into the texts of its elements, without parsing them.

A JSON input is ``{"data": [element, ...]}`` or ``[element, ...]``. Each element is then parsed
alone (orjson), so a broken element is one rejected record and the elements after it are still
read; and the element's own text is what its dead letter keeps.

The splitter finds the commas and the closing bracket of the array with a few numpy operations
per block of bytes: quotes not escaped by an odd run of backslashes open and close strings;
brackets outside strings change the depth; a comma at the array's depth ends an element. Two
rules keep one broken element from swallowing the rest of the document:

- JSON strings cannot hold a raw line break, so a string still open at the end of a line is
  closed there (a stray quote damages its own line only);
- a closing bracket that takes the depth below the element's (``{"a": [1]]}``) ends the element
  as broken, and reading goes on after it at the array's depth.

What the rules cannot mend (an element whose brackets never close, a stray quote in a document
written on one line) runs to the end of the document and is rejected as one record. An element
longer than ``MAX_ELEMENT_BYTES`` is followed to its real end but only its first ``KEPT_OF_LONG``
bytes are kept, so memory stays bounded whatever the document holds.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

MAX_ELEMENT_BYTES = 1 << 20
KEPT_OF_LONG = 4096
BLOCK_BYTES = 1 << 16

QUOTE, BACKSLASH, NEWLINE, COMMA = ord('"'), ord("\\"), ord("\n"), ord(",")
OPENERS = (ord("["), ord("{"))
CLOSE_SQUARE, CLOSE_CURLY = ord("]"), ord("}")
WHITESPACE = b" \t\r\n"


class Piece(NamedTuple):
    """One element's text, or what the splitter could not make an element of (``broken`` says
    why). ``index`` counts the pieces of the array from 0. (A tuple: one is made per record.)"""

    index: int
    text: bytes
    broken: str = ""


class ArraySplitter:
    """Feed the bytes after an array's ``[``; get its elements' texts back in order.

    ``feed(block)`` returns the pieces completed by that block; ``close()`` at the end of input
    returns the last, unfinished one. After the array's ``]`` the splitter is ``done`` and
    ``tail`` holds the bytes after it.
    """

    def __init__(self):
        self.index = 0
        self.done = False
        self.tail = b""
        self._pending_parts: list[bytes] = []   # text of the current element so far
        self._pending_size = 0
        self._in_string = False   # string still open at the end of the last block (same line)
        self._backslashes = 0     # length of the run of backslashes ending the last block
        self._depth = 0           # relative to the array: 0 between elements
        self._seen_comma = False
        self._after_break = False  # a broken element just ended: the comma after it is no element
        self._skipped = 0          # bytes of an over-long element dropped after its kept head

    # -- the element being built --------------------------------------------------------------
    def _add(self, data: bytes) -> None:
        """Add to the current element; past ``MAX_ELEMENT_BYTES`` only its length is kept (the
        scan still follows its strings and brackets, so it ends where it really ends)."""
        if not self._pending_parts and not self._skipped:
            data = data.lstrip(WHITESPACE)   # blanks between elements are no part of one
        if not data:
            return
        if self._skipped:
            self._skipped += len(data)
            return
        room = MAX_ELEMENT_BYTES - self._pending_size
        if len(data) > room:
            self._pending_parts.append(data[:room])
            self._pending_size += room
            self._skipped = len(data) - room
            return
        self._pending_parts.append(data)
        self._pending_size += len(data)

    def _take(self) -> tuple[bytes, int]:
        """(the current element's kept text, bytes dropped from it), and start a new one."""
        text, skipped = b"".join(self._pending_parts), self._skipped
        self._pending_parts, self._pending_size, self._skipped = [], 0, 0
        return text, skipped

    def _piece(self, taken: tuple[bytes, int], broken: str = "") -> Piece:
        text, skipped = taken
        text = text.strip(WHITESPACE)
        if skipped:
            text = text[:KEPT_OF_LONG]
            broken = (f"an element of {len(taken[0]) + skipped:,} bytes, longer than the {MAX_ELEMENT_BYTES:,} "
                      f"a record may have (its first {len(text):,} bytes are kept)"
                      + (f"; {broken}" if broken else ""))
        piece = Piece(self.index, text, broken)
        self.index += 1
        return piece

    # -- scanning -------------------------------------------------------------------------------
    def _scan(self, b: np.ndarray):
        """(positions of structural characters, their bytes, depth after each), from the carried
        string and escape state; updates that state to the end of ``b``."""
        n = len(b)
        idx = np.arange(n)
        is_bs = b == BACKSLASH
        last_other = np.maximum.accumulate(np.where(is_bs, -1, idx))
        run_before = np.empty(n, dtype=np.int64)
        run_before[0] = self._backslashes
        run_before[1:] = (idx[1:] - 1) - last_other[:-1] + np.where(last_other[:-1] < 0, self._backslashes, 0)
        quote = (b == QUOTE) & (run_before % 2 == 0)
        newline = b == NEWLINE
        quotes_so_far = np.cumsum(quote)
        last_newline = np.maximum.accumulate(np.where(newline, idx, -1))
        base = np.where(last_newline >= 0, quotes_so_far[np.maximum(last_newline, 0)], 0)
        carried = np.where(last_newline >= 0, 0, int(self._in_string))
        in_string = ((quotes_so_far - base + carried) % 2).astype(bool)
        structural = ~in_string & ~quote & ((b == COMMA) | (b == OPENERS[0]) | (b == OPENERS[1])
                                            | (b == CLOSE_SQUARE) | (b == CLOSE_CURLY))
        pos = np.flatnonzero(structural)
        chars = b[pos]
        step = np.where((chars == OPENERS[0]) | (chars == OPENERS[1]), 1,
                        np.where((chars == CLOSE_SQUARE) | (chars == CLOSE_CURLY), -1, 0))
        self._in_string = bool(in_string[-1]) if n else self._in_string
        self._backslashes = int(n - 1 - last_other[-1]) + (self._backslashes if last_other[-1] < 0 else 0) if n else 0
        return pos, chars, step

    def feed(self, block: bytes) -> list[Piece]:
        """The pieces that ``block`` completes."""
        pieces: list[Piece] = []
        if self.done:
            self.tail += block
            return pieces
        view = memoryview(block)
        for start in range(0, len(block), BLOCK_BYTES):
            part = bytes(view[start:start + BLOCK_BYTES])
            self._feed_part(part, pieces)
            if self.done:
                self.tail += bytes(view[start + BLOCK_BYTES:])
                break
        return pieces

    def _feed_part(self, part: bytes, pieces: list[Piece]) -> None:
        b = np.frombuffer(part, dtype=np.uint8)
        pos, chars, step = self._scan(b)
        depth = self._depth + np.cumsum(step)
        # A closer that takes the depth below every depth before it (and below 0) does not fit:
        # it closes the array if it is a ']', else it breaks its element and the element after it
        # starts at that new floor. With the running minimum as the floor, every event of the
        # block is found in one pass: commas on the floor, and the closers that lower it.
        floor = np.minimum.accumulate(np.minimum(depth, 0))
        lowers = depth < np.concatenate(([0], floor[:-1]))
        events = np.flatnonzero(((chars == COMMA) & (depth == floor)) | lowers)
        others = np.flatnonzero(chars[events] != COMMA).tolist()
        begin, start = 0, 0   # where the current element's text begins in ``part``; next event
        for o in others:
            begin = self._between_commas(part, pos, events[start:o], begin, pieces)
            k = int(events[o])
            at = int(pos[k])
            self._add(part[begin:at])
            if chars[k] == CLOSE_SQUARE:
                taken = self._take()
                blank = not taken[0].strip(WHITESPACE) and not taken[1]
                if not blank or (self._seen_comma and not self._after_break):
                    pieces.append(self._piece(
                        taken, "an empty element (a comma before the closing bracket)" if blank else ""))
                self.done = True
                self.tail = part[at + 1:]
                self._depth = -1
                return
            self._add(part[at:at + 1])
            pieces.append(self._piece(self._take(), "its brackets do not match"))
            self._after_break = True
            begin, start = at + 1, o + 1
        begin = self._between_commas(part, pos, events[start:], begin, pieces)
        self._add(part[begin:])
        if len(depth):
            self._depth = int(depth[-1] - floor[-1])

    def _between_commas(self, part: bytes, pos, commas, begin: int, pieces: list[Piece]) -> int:
        """The elements ended by ``commas`` (structural indexes), the first continuing what is
        pending; returns where the text after the last of them begins."""
        if not len(commas):
            return begin
        ends = pos[commas].tolist()
        self._add(part[begin:ends[0]])
        taken = self._take()
        blank = not taken[0].strip(WHITESPACE) and not taken[1]
        if not blank or not self._after_break:
            pieces.append(self._piece(taken, "an empty element (two commas)" if blank else ""))
        index = self.index
        for start, end in zip(ends[:-1], ends[1:]):
            text = part[start + 1:end].strip(WHITESPACE)
            pieces.append(Piece(index, text, "" if text else "an empty element (two commas)"))
            index += 1
        self.index = index
        self._seen_comma, self._after_break = True, False
        return ends[-1] + 1

    def close(self) -> list[Piece]:
        """At the end of input, when the array was not closed: its unfinished element."""
        if self.done:
            return []
        taken = self._take()
        if taken[0].strip(WHITESPACE) or taken[1]:
            return [self._piece(taken, "the document ends inside this element (the array is not closed)")]
        return [self._piece((b"", 0), "the document ends before the array is closed")]


def find_array_start(head: bytes) -> tuple[int, str] | str:
    """Where the elements begin in a document's first bytes: ``(offset after the '[', form)``
    with form ``"data"`` or ``"array"``, or a string saying why the document is not one."""
    i, n = 0, len(head)
    while i < n and head[i] in WHITESPACE:
        i += 1
    if i == n:
        return "it is empty or blank"
    if head[i] == ord("["):
        return i + 1, "array"
    if head[i] != ord("{"):
        return f"it starts with {head[i:i + 20]!r}"
    keys = []
    depth, j, key, expect_key = 1, i + 1, None, True
    while j < n:
        ch = head[j]
        if ch == QUOTE:
            end = j + 1
            while end < n and head[end] != QUOTE:
                end += 2 if head[end] == BACKSLASH else 1
            if end >= n:
                break
            if depth == 1 and expect_key:
                key = head[j + 1:end].decode("utf-8", "replace")
                keys.append(key)
                expect_key = False
            j = end + 1
            continue
        if depth == 1 and ch == ord(":") and key == "data":
            k = j + 1
            while k < n and head[k] in WHITESPACE:
                k += 1
            if k < n and head[k] == ord("["):
                return k + 1, "data"
            if k < n:
                kind = {ord("{"): "an object", ord('"'): "a string"}.get(head[k], "not a list")
                return f'its "data" is {kind}, expected a list of records'
            break
        if ch in OPENERS:
            depth += 1
        elif ch in (CLOSE_SQUARE, CLOSE_CURLY):
            depth -= 1
            if depth == 0:
                found = ", ".join(f'"{k}"' for k in keys) or "none"
                return f'it has no "data" list (its keys: {found})'
        elif ch == COMMA and depth == 1:
            expect_key, key = True, None
        j += 1
    return 'no "data" list within its first 64 KiB'


def pieces_of(blocks: Iterator[bytes], splitter: ArraySplitter) -> Iterator[Piece]:
    for block in blocks:
        yield from splitter.feed(block)
        if splitter.done:
            return
    yield from splitter.close()
