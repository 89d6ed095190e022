"""Opening an input file as text lines: transparent decompression, a clear refusal of what is
not text, and lines of bounded length.

- gzip, bzip2 and xz files are recognised by their first bytes (whatever their name) and read
  decompressed; the format is the extension under the compression one (``data.csv.gz`` is CSV).
  A damaged compressed file ends with one rejected record naming where it broke; what came before
  it is used.
- A file that is not text (a zip archive, an image, UTF-16 text: anything with NUL bytes at its
  start) is refused as a whole before any row is read (``InputRefused``).
- A UTF-8 byte-order mark at the start is skipped.
- A CSV file whose lines end in a lone CR (old Mac) is read as if they ended in LF; in any other
  file a lone CR is part of its line (in JSON it is just whitespace).
- A line longer than ``MAX_LINE_BYTES`` is not held in memory: it is reported as a ``LongLine``
  (its first bytes and its length) and skipped, so one endless line cannot exhaust memory.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from pipeline.consumers.base import SourceError
from pipeline.records import RejectedRecord

MAX_LINE_BYTES = 1 << 20
HEAD_BYTES = 1 << 16
DECOMPRESS_STEP = 1 << 14
BOM = b"\xef\xbb\xbf"

#: First bytes -> (decompressing opener, name for messages).
COMPRESSIONS = {
    b"\x1f\x8b": (gzip.open, "gzip"),
    b"BZh": (bz2.open, "bzip2"),
    b"\xfd7zXZ\x00": (lzma.open, "xz"),
}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
#: Binary formats that people mistake for inputs, named in the refusal.
KNOWN_BINARY = {b"PK\x03\x04": "a zip archive (unzip it first)", b"\x89PNG": "a PNG image",
                b"%PDF": "a PDF document", b"PAR1": "a Parquet file", b"SQLite format 3": "an SQLite database",
                b"\xff\xfe": "UTF-16 text (save it as UTF-8)", b"\xfe\xff": "UTF-16 text (save it as UTF-8)"}

DAMAGED = (EOFError, OSError, zlib.error, lzma.LZMAError)


class InputRefused(SourceError):
    """The file as a whole is not an input of its format; found before any row is read."""


class DamagedInput(SourceError):
    """A compressed file could not be read past some point."""


def data_suffix(path: Path) -> str:
    """The format extension: ``.csv`` for ``x.csv`` and ``x.csv.gz``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


class CountingFile:
    """The raw file, counting the bytes read from it (progress of compressed files too)."""

    def __init__(self, f: BinaryIO):
        self._f = f
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer) -> int:
        n = self._f.readinto(buffer)
        self.count += n or 0
        return n

    def seek(self, *args):
        return self._f.seek(*args)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._f.close()


class InputText:
    """A file's decompressed bytes, read from the start with ``read(size)``.

    ``head`` holds the first bytes (BOM removed); reading starts with them. ``bytes_read`` counts
    bytes of the file itself. With ``cr_line_ends``, a file whose head has CRs and no LF has its
    CRs read as LFs. A compressed stream is decompressed one read of the file at a time, so
    everything decodable before damage is returned; the next ``read`` then raises ``DamagedInput``.
    """

    def __init__(self, path: Path, cr_line_ends: bool = False):
        self.path = Path(path)
        raw = open(self.path, "rb")
        self.raw = CountingFile(raw)
        magic = raw.read(16)
        raw.seek(0)
        self.compression = None
        stream = self.raw
        for prefix, (opener, name) in COMPRESSIONS.items():
            if magic.startswith(prefix):
                stream, self.compression = opener(self.raw), name
        self._stream = stream
        self._damage: DamagedInput | None = None
        try:
            self._head = self._read(HEAD_BYTES)
        except DamagedInput as err:   # not one byte could be decompressed
            raw.close()
            raise InputRefused(f"{self.path}: not a readable {self.compression} file ({err})") from None
        if self._head.startswith(BOM):
            self._head = self._head[len(BOM):]
        self.cr_only = cr_line_ends and b"\r" in self._head and b"\n" not in self._head
        if self.cr_only:
            self._head = self._head.replace(b"\r", b"\n")
        self.head = self._head
        self._refuse_binary()

    def _refuse_binary(self) -> None:
        for prefix, what in KNOWN_BINARY.items():
            if self.head.startswith(prefix):
                self.close()
                raise InputRefused(f"{self.path}: this is {what}, not text")
        if b"\x00" in self.head[:4096]:
            self.close()
            at = self.head.index(b"\x00")
            raise InputRefused(f"{self.path}: binary data, not text (a NUL byte at byte {at}; "
                               f"first bytes {self.head[:16]!r})")

    @property
    def bytes_read(self) -> int:
        return self.raw.count

    def _read(self, size: int) -> bytes:
        """Up to ``size`` bytes; on damage, what came before it (the damage is raised next time)."""
        if self._damage is not None:
            raise self._damage
        if self._stream is self.raw:
            return self._stream.read(size)
        parts, have = [], 0
        while have < size:
            try:
                # read1: at most one read of the compressed file per call, so a call that fails
                # has decoded nothing yet (read() drops what it decoded before the failure)
                part = self._stream.read1(min(DECOMPRESS_STEP, size - have))
            except DAMAGED as err:
                self._damage = DamagedInput(f"the {self.compression} data is damaged after {self.raw.count:,} "
                                            f"bytes of the file ({err})")
                break
            if not part:
                break
            parts.append(part)
            have += len(part)
        if not parts and self._damage is not None:
            raise self._damage
        return b"".join(parts)

    def read(self, size: int) -> bytes:
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            return data
        data = self._read(size)
        return data.replace(b"\r", b"\n") if self.cr_only else data

    def close(self) -> None:
        if self._stream is not self.raw:
            self._stream.close()
        self.raw.close()


@dataclass(frozen=True)
class LongLine:
    """A line longer than ``MAX_LINE_BYTES``: its number, first bytes and length."""

    line: int
    head: bytes
    size: int


@dataclass(frozen=True)
class Damaged:
    """The end of a damaged compressed input: why, the line reading stopped at, and the part of
    that line read before the damage (rejected with it, never taken for a whole line)."""

    line: int
    reason: str
    partial: bytes = b""


def line_blocks(text: InputText, block_bytes: int, first_line: int = 1,
                ) -> Iterator[tuple[int, bytes] | LongLine | Damaged]:
    """Whole lines of ``text``, about ``block_bytes`` at a time, as ``(number of the first line,
    bytes)``; a block ends with ``\\n`` except at the end of a file without one. Lines longer
    than ``MAX_LINE_BYTES`` come as ``LongLine``; a damaged input ends with ``Damaged``."""
    line, carry, long = first_line, b"", None
    while True:
        try:
            block = text.read(block_bytes)
        except DamagedInput as err:
            # the line under way was cut by the damage: rejected with it, not read as a row
            yield Damaged(line, str(err), long.head[:4096] if long is not None else carry)
            return
        end_of_file = not block
        if long is not None:   # skipping the rest of a long line
            end = block.find(b"\n")
            if not end_of_file and end < 0:
                long = LongLine(long.line, long.head, long.size + len(block))
                yield line, b""   # no line yet: lets a poll end, and a stop be seen
                continue
            yield LongLine(long.line, long.head, long.size + (end if end >= 0 else 0))
            line, long = line + 1, None
            if end_of_file:
                return
            block = block[end + 1:]
        data = carry + block
        carry = b""
        if not end_of_file:
            cut = data.rfind(b"\n")
            data, carry = data[:cut + 1], data[cut + 1:]
        first_end = data.find(b"\n")
        if (first_end if first_end >= 0 else len(data)) > MAX_LINE_BYTES:
            # a line that began in the carry and ended in this block is as long as any other
            yield LongLine(line, data[:MAX_LINE_BYTES], first_end if first_end >= 0 else len(data))
            line += 1
            data = data[first_end + 1:] if first_end >= 0 else b""
        if data:
            yield line, data
            line += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        if len(carry) > MAX_LINE_BYTES:
            long, carry = LongLine(line, carry[:MAX_LINE_BYTES], len(carry)), b""
        if end_of_file:
            return


def long_line_record(path: Path, long: LongLine) -> RejectedRecord:
    head = long.head[:4096].decode("utf-8", errors="replace")
    return RejectedRecord(f"{path.name} line {long.line}", long.line,
                          f"line of {long.size:,} bytes, longer than the {MAX_LINE_BYTES:,} a record may have; "
                          f"its first {min(long.size, 4096):,} bytes are kept", head)


def damaged_record(path: Path, damaged: Damaged, where: str | None = None) -> RejectedRecord:
    return RejectedRecord(where or f"{path.name} line {damaged.line}", damaged.line,
                          f"{damaged.reason}; this record was cut by the damage and nothing after it could be read",
                          damaged.partial.decode("utf-8", errors="replace"))
