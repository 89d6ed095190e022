"""Malformed CSV, JSON and JSON Lines input files built around marked rows, for the fuzz suite
(tests/pipeline/consumers/test_fuzz_inputs.py).

Every row of a generated file carries a marker: row ``i`` has ``MARK_BASE + i`` as its first
feature value wherever the row still has one. The marker finds a row again in the output records
(``value[0]``) and in the dead letters (``raw``, or ``position``). Each row also has a *fate*,
what the product must do with it:

- ``good``: one output record, no dead letter;
- ``bad``: one dead letter at its position, no output record;
- ``either``: exactly one of the two (the row is valid but unusual, e.g. an ISO time outside
  pandas' range, or malformed in a way whose reading is a matter of policy, e.g. a stray quote);
- ``break``: (JSON documents only) invalid JSON that cannot be delimited (an unclosed string,
  unbalanced brackets): it may swallow the elements after it; see the test module.

A case is built from a ``FileSpec`` (the format, the layout, the row kinds and the file-level
mutations) by ``build_case``; every random choice goes through a ``Chooser``, so the same builders
serve hypothesis (``DrawChooser``: choices shrink) and fixed catalogue cases (``RandomChooser``).
"""
from __future__ import annotations

import datetime
import gzip
import random
import re
from dataclasses import dataclass
from typing import Sequence

import hypothesis.strategies as st

MARK_BASE = 7_770_000           # markers are 777xxxx: seven digits, so no marker contains another
# a marker as any row writes it: 7770003, 7770003.0 or 7.770003e6
MARKER = re.compile(r"(?<![0-9.])(?:777[0-9]{4}|7\.77[0-9]{4}e6)(?![0-9])")
T0 = 1_700_000_000              # good row i has the time T0 + i (2023-11-14T22:13:20Z + i s)
BIG_FIELD = 131_072             # the csv module's default field size limit
DEEP = 20_000                   # nesting depth of the deeply nested JSON elements
TWO_64 = b"18446744073709551616"

GOOD, BAD, EITHER, BREAK = "good", "bad", "either", "break"

# -- choices ---------------------------------------------------------------------------------------


class Chooser:
    """Every random decision of a builder. Subclasses draw from hypothesis or from a seed."""

    def choice(self, options: Sequence):
        raise NotImplementedError

    def integer(self, low: int, high: int) -> int:
        raise NotImplementedError

    def boolean(self) -> bool:
        return bool(self.choice([False, True]))

    def rare(self, odds: int) -> bool:
        """True about once in ``odds``."""
        return self.integer(0, odds - 1) == odds // 2

    def binary(self, min_size: int, max_size: int) -> bytes:
        raise NotImplementedError


class DrawChooser(Chooser):
    """Choices drawn by hypothesis (inside ``st.composite``), so failing cases shrink."""

    def __init__(self, draw):
        self.draw = draw

    def choice(self, options):
        return self.draw(st.sampled_from(list(options)))

    def integer(self, low, high):
        return self.draw(st.integers(low, high))

    def boolean(self):
        return self.draw(st.booleans())

    def binary(self, min_size, max_size):
        return self.draw(st.binary(min_size=min_size, max_size=max_size))

    def rare(self, odds):
        # hypothesis favours the ends of a range (0 is where it shrinks to): test a middle value
        return self.draw(st.integers(0, odds - 1)) == odds // 2


class RandomChooser(Chooser):
    """Choices from a seeded ``random.Random`` (the fixed catalogue cases)."""

    def __init__(self, seed):
        self.rng = random.Random(str(seed))

    def choice(self, options):
        options = list(options)
        return options[self.rng.randrange(len(options))]

    def integer(self, low, high):
        return self.rng.randint(low, high)

    def binary(self, min_size, max_size):
        return bytes(self.rng.randrange(256) for _ in range(self.rng.randint(min_size, max_size)))


# -- what a case is ----------------------------------------------------------------------------------


@dataclass
class Row:
    kind: str
    fate: str
    marker: int
    text: bytes
    position: int = -1      # line number (CSV, JSON Lines) or element index (JSON), set by build_case
    touched: bool = False   # a mutation that may move row boundaries (a CR inside the line)


@dataclass(frozen=True)
class FileSpec:
    """What to build: the format, the layout, one kind per row and the file-level mutations."""

    fmt: str                            # "csv", "json" or "jsonl"
    layout: str                         # CSV_LAYOUTS key; "wrapper:width" for JSON; "width" for JSON Lines
    kinds: tuple[str, ...]              # one row kind per row, in file order
    line_ending: bytes = b"\n"          # b"\n", b"\r\n" or b"\r" (CR only)
    trailing_newline: bool = True
    bom: bool = False
    gzip: bool = False
    truncated_last: bool = False        # one more row, cut short, without a newline
    whole_file: str = ""                # "empty_file", "garbage_file", "wrong_shape": the whole file
    batch_size: int = 65536             # the engine's batch size
    small_chunks: bool = False          # readers cut the file into tiny chunks


@dataclass
class Case:
    spec: FileSpec
    name: str                       # the input file's name
    data: bytes                     # the file's bytes as written
    plain: bytes                    # the same before gzip
    width: int
    rows: list[Row]
    refusal: str = "no"             # "expected", "allowed" (a whole-file refusal) or "no"
    weak: bool = False              # row boundaries may move: only the weaker invariants hold
    categories: frozenset = frozenset()

    def __repr__(self) -> str:   # hypothesis prints drawn cases; the bytes are in repro()
        return f"Case({self.spec!r}, name={self.name!r}, {len(self.data)} bytes)"

    def _repr_pretty_(self, printer, cycle) -> None:   # hypothesis' printer, instead of every field
        printer.text(repr(self))

    @property
    def break_at(self) -> int | None:
        """The element at which a JSON document breaks (the first ``break`` row), if any."""
        return next((r.position for r in self.rows if r.fate == BREAK), None)

    def repro(self, limit: int = 2000) -> str:
        """The case as Python: the format, the file's bytes and the run settings."""
        lines = [f"# format {self.spec.fmt}, file {self.name}, input_vector_size {self.width}, "
                 f"batch_size {self.spec.batch_size}, small_chunks {self.spec.small_chunks}",
                 f"# row kinds {list(self.spec.kinds)}, fates {[r.fate for r in self.rows]}",
                 f"data = {bytes_expr(self.plain, limit)}"]
        if self.spec.gzip:
            lines.append("data = gzip.compress(data)")
        return "\n".join(lines)


def bytes_expr(data: bytes, limit: int = 2000) -> str:
    """A short Python expression for ``data``: long runs of one byte become ``b'x' * n``."""
    parts, start = [], 0
    for m in re.finditer(rb"(.)\1{39,}", data, re.S):
        if m.start() > start:
            parts.append(repr(data[start:m.start()]))
        parts.append(f"{bytes([data[m.start()]])!r} * {m.end() - m.start()}")
        start = m.end()
    if start < len(data) or not parts:
        parts.append(repr(data[start:]))
    text = " + ".join(parts)
    return text if len(text) <= limit else text[:limit] + f" ... ({len(text)} characters)"


# -- numbers and times of good rows ------------------------------------------------------------------

def good_time(ch: Chooser, i: int, json_text: bool) -> bytes:
    t = T0 + i
    style = ch.choice(["s", "s", "s_float", "ms", "iso", "iso_space"])
    text = {"s": f"{t}", "s_float": f"{t}.5", "ms": f"{t * 1000}",
            "iso": _iso(t) + "Z", "iso_space": _iso(t).replace("T", " ")}[style]
    if style.startswith("iso") and json_text:
        text = f'"{text}"'
    return text.encode()


def _iso(t: int) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def marker_text(ch: Chooser, marker: int) -> bytes:
    style = ch.choice(["int", "float", "exp"])
    return {"int": f"{marker}", "float": f"{marker}.0", "exp": f"{marker / 1e6:.6f}e6"}[style].encode()


SECOND_VALUES = [b"0.25", b"-3", b"0", b"12345.678"]
NON_FINITE_TEXT = [b"NaN", b"nan", b"inf", b"-inf", b"Infinity", b"-Infinity"]
OUT_OF_RANGE_ISO = [b"9999-12-31T23:59:59Z", b"0001-01-01", b"2262-04-12T00:00:00Z",
                    b"1677-09-21T00:00:00Z", b"0001-01-01T00:00:00+00:00"]


def big_int(ch: Chooser) -> bytes:
    """An integer of 309+ digits beyond a double's range (1.8e308)."""
    digits = ch.integer(309, 400)
    return ch.choice([b"", b"-"]) + ch.choice([b"9" * digits, b"1" + b"0" * digits])


def long_text(ch: Chooser) -> bytes:
    n = ch.integer(BIG_FIELD + 1, BIG_FIELD + 9000)
    return ch.choice([b"x", b"7"]) * n


def garbage(ch: Chooser, forbidden: bytes) -> bytes:
    """Random bytes starting with 0xFD (never valid UTF-8, so never a timestamp or JSON value, and
    no byte-order mark), with no digit, no letter, no NUL (a NUL makes a file binary: the
    ``nul_byte`` kind does that) and none of ``forbidden``: garbage never spells a marker or a
    column name."""
    drawn = ch.binary(0, 40)
    bad = (set(forbidden) | set(b"\x000123456789") | set(range(ord("A"), ord("Z") + 1))
           | set(range(ord("a"), ord("z") + 1)))
    return b"\xfd" + bytes(0xFD if b in bad else b for b in drawn)


def insert_at(ch: Chooser, text: bytes, piece: bytes, lo: int = 0, hi: int | None = None) -> bytes:
    at = ch.integer(lo, max(lo, len(text) if hi is None else hi))
    return text[:at] + piece + text[at:]


# -- CSV ---------------------------------------------------------------------------------------------

# name -> (header columns, role of each column, input_vector_size)
CSV_LAYOUTS = {
    "single": (["timestamp", "value"], ["ts", "v0"], 1),
    "columns": (["timestamp", "a", "b"], ["ts", "v0", "v1"], 2),
    "ts_middle": (["a", "timestamp", "b"], ["v0", "ts", "v1"], 2),
    "vector": (["timestamp", "ftr_vector"], ["ts", "vec"], 2),
    "labels": (["timestamp", "value", "label", "labelInfo"], ["ts", "v0", "label", "info"], 1),
}

# kind -> fate. Policy (what the product must do) is stated in the test module's docstring.
CSV_KINDS = {
    "clean": GOOD,
    "quoted": GOOD,                 # every field in double quotes
    "second_2_64": GOOD,            # second feature 18446744073709551616, a finite float
    "long_label": GOOD,             # labelInfo longer than 131,072 characters
    "too_few_fields": BAD,
    "too_many_fields": BAD,
    "trailing_delimiter": BAD,      # one field too many, like any other extra field
    "empty_line": BAD,
    "blank_line": BAD,              # spaces or a tab only
    "value_not_finite": BAD,        # NaN, inf, Infinity...
    "value_1e400": BAD,
    "value_null": BAD,              # null, NULL, None
    "value_empty": BAD,
    "value_bool": BAD,              # true, True, FALSE: not a number in CSV
    "value_text": BAD,
    "value_big_int": BAD,           # 309+ digits: beyond float range
    "ts_big_int": BAD,
    "ts_bool": BAD,
    "ts_empty": BAD,
    "ts_text": BAD,
    "ts_out_of_range": EITHER,      # valid ISO 8601 outside pandas' datetime range
    "ts_2_64": EITHER,
    "long_field": BAD,              # a value field longer than 131,072 characters
    "unclosed_quote": EITHER,
    "stray_quote": EITHER,
    "cr_inside": EITHER,            # a CR inside the line (touched: boundaries may move)
    "non_utf8": BAD,                # invalid UTF-8 bytes in the value or timestamp
    "nul_byte": BAD,                # a NUL byte in the value or timestamp
    "garbage": BAD,                 # binary garbage for a line
    "vector_short": BAD,
    "vector_text_item": BAD,
    "vector_unbracketed": BAD,
}
CSV_ONLY_IN = {"second_2_64": ("columns", "ts_middle", "vector"), "long_label": ("labels",),
               "vector_short": ("vector",), "vector_text_item": ("vector",), "vector_unbracketed": ("vector",)}


def csv_kinds_for(layout: str) -> list[str]:
    return [k for k in CSV_KINDS if layout in CSV_ONLY_IN.get(k, (layout,))]


def csv_row(ch: Chooser, layout: str, kind: str, i: int) -> Row:
    _, roles, _ = CSV_LAYOUTS[layout]
    marker = MARK_BASE + i
    f = {"ts": good_time(ch, i, json_text=False), "v0": marker_text(ch, marker),
         "v1": ch.choice(SECOND_VALUES), "label": ch.choice([b"False", b"True", b"0", b""]),
         "info": ch.choice([b"", b"4", b"spike"])}
    if kind == "second_2_64":
        f["v1"] = TWO_64
    elif kind == "long_label":
        f["info"] = b"x" * ch.integer(BIG_FIELD + 1, BIG_FIELD + 9000)
    elif kind == "value_not_finite":
        f["v0"] = ch.choice(NON_FINITE_TEXT)
    elif kind == "value_1e400":
        f["v0"] = ch.choice([b"1e400", b"-1e400", b"1E+400"])
    elif kind == "value_null":
        f["v0"] = ch.choice([b"null", b"NULL", b"None"])
    elif kind == "value_empty":
        f["v0"] = b""
    elif kind == "value_bool":
        f["v0"] = ch.choice([b"true", b"True", b"FALSE"])
    elif kind == "value_text":
        f["v0"] = ch.choice([b"abc", b"12abc", b"--1"])
    elif kind == "value_big_int":
        f["v0"] = big_int(ch)
    elif kind == "ts_big_int":
        f["ts"] = big_int(ch)
    elif kind == "ts_bool":
        f["ts"] = ch.choice([b"True", b"false"])
    elif kind == "ts_empty":
        f["ts"] = b""
    elif kind == "ts_text":
        f["ts"] = ch.choice([b"yesterday", b"2023-13-45T00:00:00Z"])
    elif kind == "ts_out_of_range":
        f["ts"] = ch.choice(OUT_OF_RANGE_ISO)
    elif kind == "ts_2_64":
        f["ts"] = ch.choice([TWO_64, b"-" + TWO_64])
    elif kind == "long_field":
        f["v0"] = long_text(ch)
    elif kind in ("non_utf8", "nul_byte"):
        piece = ch.choice([b"\xff\xfe", b"\x80", b"\xc3\x28"]) if kind == "non_utf8" else b"\x00"
        role = ch.choice(["v0", "ts"])
        f[role] = insert_at(ch, f[role], piece)
    elif kind == "vector_short":
        f["v1"] = None
    elif kind == "vector_text_item":
        f["v1"] = b"abc"
    fields = []
    for role in roles:
        if role == "vec":
            items = [f["v0"]] + ([f["v1"]] if f["v1"] is not None else [])
            inner = b"[" + b", ".join(items) + b"]"
            fields.append(b'"' + (inner[1:-1] if kind == "vector_unbracketed" else inner) + b'"')
        elif kind == "quoted":
            fields.append(b'"' + f[role] + b'"')
        else:
            fields.append(f[role])
    text = b",".join(fields)
    if kind == "too_few_fields":
        text = b",".join(fields[:-1])
    elif kind == "too_many_fields":
        text += b",1"
    elif kind == "trailing_delimiter":
        text += b","
    elif kind == "empty_line":
        text = b""
    elif kind == "blank_line":
        text = ch.choice([b"  ", b"\t"])
    elif kind == "unclosed_quote":
        text = text[:-1] if text.endswith(b'"') else b",".join(fields[:-1] + [b'"' + fields[-1]])
    elif kind == "stray_quote":
        text = insert_at(ch, text, b'"', lo=1)
    elif kind == "cr_inside":
        text = insert_at(ch, text, b"\r")
    elif kind == "garbage":
        text = garbage(ch, b'\n\r",')
    return Row(kind, CSV_KINDS[kind], marker, text, touched=kind == "cr_inside")


def csv_truncated(ch: Chooser, layout: str, i: int) -> Row:
    """A last line cut inside its first field: too few fields, whatever the first field is."""
    row = csv_row(ch, layout, "clean", i)
    first = row.text.split(b",")[0]
    return Row("truncated_last", BAD, row.marker, first[:ch.integer(1, max(1, len(first) - 1))])


# -- JSON and JSON Lines ---------------------------------------------------------------------------

JSON_WRAPPERS = {
    "data": (b'{"data": [', b"]}"),
    "bare": (b"[", b"]"),
    "data_among_keys": (b'{"meta": {"source": "fuzz", "shape": [1, 2]}, "data": [', b'], "count": 3}'),
}
WRONG_SHAPES = [b'{"records": [%s]}', b'{"data": %s}', b'{"data": 5}', b'{"data": "x"}', b"{}",
                b'{"data": null}', b"5", b'"text"', b"null"]

JSON_KINDS = {
    "clean": GOOD,
    "extra_key": GOOD,
    "second_bool": GOOD,            # booleans count as 1 and 0 in ftr_vector (messages.py)
    "second_2_64": GOOD,
    "long_extra_key": GOOD,         # an extra key holding a string longer than 131,072 characters
    "cr_between_tokens": GOOD,      # CR is JSON whitespace
    "not_object": BAD,
    "missing_timestamp": BAD,
    "missing_vector": BAD,
    "vector_wrong_length": BAD,
    "vector_string_item": BAD,
    "vector_null_item": BAD,
    "vector_not_list": BAD,
    "ts_null": BAD,
    "ts_empty": BAD,
    "ts_bool": BAD,                 # messages.py: a boolean is not a timestamp
    "ts_text": BAD,
    "ts_container": BAD,
    "value_1e400": BAD,             # valid JSON; the number is beyond float range
    "value_big_int": BAD,
    "ts_big_int": BAD,
    "ts_1e400": BAD,
    "deep_nesting": BAD,            # 20,000 levels of arrays: valid JSON
    "long_field": BAD,              # a timestamp string longer than 131,072 characters
    "ts_out_of_range": EITHER,
    "ts_2_64": EITHER,
    # invalid JSON: a bad line in JSON Lines, a bad element in a JSON document
    "nan_token": BAD,
    "non_utf8": BAD,
    "nul_byte": BAD,
    "invalid_json": BAD,            # BREAK in a JSON document when its brackets do not balance
    "unclosed_string": BREAK,       # (JSON documents; BAD in JSON Lines)
    "garbage": BAD,                 # BREAK in a JSON document when it holds a quote or bracket
    # JSON Lines only
    "empty_line": BAD,
    "blank_line": BAD,
}
JSONL_ONLY = ("empty_line", "blank_line")
WIDTH_2_ONLY = ("second_bool", "second_2_64")


def json_kinds_for(fmt: str, width: int) -> list[str]:
    return [k for k in JSON_KINDS if (fmt == "jsonl" or k not in JSONL_ONLY)
            and (width == 2 or k not in WIDTH_2_ONLY)]


def json_row(ch: Chooser, fmt: str, width: int, kind: str, i: int) -> Row:
    marker = MARK_BASE + i
    ts = good_time(ch, i, json_text=True)
    values = [marker_text(ch, marker)] + [ch.choice(SECOND_VALUES) for _ in range(width - 1)]
    extra: list[tuple[bytes, bytes]] = []
    unbalanced = False
    if kind == "extra_key":
        extra.append(ch.choice([(b"note", b'"hello"'), (b"label", b"true"), (b"meta", b'{"a": [1, 2]}')]))
    elif kind == "second_bool":
        values[1] = ch.choice([b"true", b"false"])
    elif kind == "second_2_64":
        values[1] = TWO_64
    elif kind == "long_extra_key":
        extra.append((b"note", b'"' + b"x" * ch.integer(BIG_FIELD + 1, BIG_FIELD + 9000) + b'"'))
    elif kind == "vector_wrong_length":
        values = ch.choice([[], values + [b"1"]] + ([values[:1]] if width > 1 else []))
    elif kind == "vector_string_item":
        values[0] = b'"' + values[0] + b'"'
    elif kind == "vector_null_item":
        values[0] = b"null"
    elif kind == "ts_null":
        ts = b"null"
    elif kind == "ts_empty":
        ts = b'""'
    elif kind == "ts_bool":
        ts = ch.choice([b"true", b"false"])
    elif kind == "ts_text":
        ts = ch.choice([b'"yesterday"', b'"2023-13-45T00:00:00Z"'])
    elif kind == "ts_container":
        ts = ch.choice([b"[%d]" % (T0 + i), b"{}"])
    elif kind == "value_1e400":
        values[0] = ch.choice([b"1e400", b"-1e400", b"1E+400"])
    elif kind == "value_big_int":
        values[0] = big_int(ch)
    elif kind == "ts_big_int":
        ts = big_int(ch)
    elif kind == "ts_1e400":
        ts = ch.choice([b"1e400", b"-1e400"])
    elif kind == "long_field":
        ts = b'"' + long_text(ch) + b'"'
    elif kind == "ts_out_of_range":
        ts = b'"' + ch.choice(OUT_OF_RANGE_ISO) + b'"'
    elif kind == "ts_2_64":
        ts = ch.choice([TWO_64, b"-" + TWO_64])
    elif kind == "nan_token":
        values[0] = ch.choice([b"NaN", b"Infinity", b"-Infinity"])
    elif kind == "non_utf8":
        extra.append((b"note", b'"a' + ch.choice([b"\xff\xfe", b"\x80", b"\xc3\x28"]) + b'"'))
    elif kind == "unclosed_string":
        ts = b'"' + _iso(T0 + i).encode()
    vector = b"[" + b", ".join(values) + b"]"
    if kind == "vector_not_list":
        vector = ch.choice([values[0], b'"' + vector + b'"', b'{"0": ' + values[0] + b"}"])
    elif kind == "deep_nesting" and ch.boolean():
        vector = b"[" + b"[" * DEEP + values[0] + b"]" * DEEP + b"]"
    pairs = [] if kind == "missing_timestamp" else [(b"timestamp", ts)]
    if kind != "missing_vector":
        pairs.append((b"ftr_vector", vector))
    if ch.boolean():
        pairs.reverse()
    pairs += extra
    space = b"\r" if kind == "cr_between_tokens" else ch.choice([b"", b" "])
    text = b"{" + (b"," + space).join(b'"' + k + b'":' + space + v for k, v in pairs) + b"}"
    if kind == "not_object":
        text = ch.choice([b"5", b'"%d"' % marker, b"[%d, [%d]]" % (T0 + i, marker), b"null", b"true", b"[]"])
    elif kind == "deep_nesting" and not vector.startswith(b"[["):
        text = b"[" * DEEP + b"%d" % marker + b"]" * DEEP
    elif kind == "nul_byte":   # never after the closing brace: the element itself must be broken
        text = insert_at(ch, text, b"\x00", lo=1, hi=len(text) - 1)
    elif kind == "invalid_json":
        text = ch.choice([text.replace(b"]", b",]", 1), text.replace(b'"', b"'"), text[:-1] + b",}",
                          text.replace(b":", b"", 1), b"@@%d" % marker, text[:-1]])
        unbalanced = text.count(b"{") != text.count(b"}")
    elif kind == "garbage":
        text = garbage(ch, b"\n" if fmt == "jsonl" else b",")   # a comma would make two elements
    elif kind == "empty_line":
        text = b""
    elif kind == "blank_line":
        text = ch.choice([b"  ", b"\t"])
    fate = JSON_KINDS[kind]
    # what can spill over into the elements after it: an unclosed string (to the end of its line),
    # brackets that do not balance (until they do); json_split.py's rules
    if kind == "invalid_json" and unbalanced or kind == "garbage" and any(c in text for c in b'"[]{}'):
        fate = BREAK
    if fate == BREAK and fmt == "jsonl":
        fate = BAD
    return Row(kind, fate, marker, text)


def json_truncated(ch: Chooser, fmt: str, width: int, i: int) -> Row:
    row = json_row(ch, fmt, width, "clean", i)
    return Row("truncated_last", BAD if fmt == "jsonl" else BREAK, row.marker,
               row.text[:ch.integer(1, len(row.text) - 2)])


# -- building a case -----------------------------------------------------------------------------------

def build_case(spec: FileSpec, ch: Chooser) -> Case:
    """The file of ``spec``, with every row's fate and position."""
    if spec.fmt == "csv":
        case = _build_csv(spec, ch)
    elif spec.fmt == "json":
        case = _build_json(spec, ch)
    else:
        case = _build_jsonl(spec, ch)
    head = case.plain[3:] if case.plain.startswith(b"\xef\xbb\xbf") else case.plain
    if case.refusal == "no" and looks_binary(head):
        case.refusal = "allowed"
    data = case.plain
    if spec.gzip:
        data = gzip.compress(data, mtime=0)
        case.name += ".gz"
    case.data = data
    case.categories = categories(case)
    return case


def looks_binary(head: bytes) -> bool:
    """Whether a file may be refused as binary, not text (input_file.py documents it): a NUL byte
    in its first 4 KiB, or a UTF-16 byte-order mark."""
    return b"\x00" in head[:4096] or head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _lines_file(spec: FileSpec, header: bytes | None, rows: list[Row]) -> bytes:
    texts = ([header] if header is not None else []) + [r.text for r in rows]
    end = spec.line_ending
    trailing = spec.trailing_newline and not spec.truncated_last
    if rows and not trailing and rows[-1].text == b"":
        trailing = True     # an empty last line without its newline is no line at all
    data = end.join(texts) + (end if texts and trailing else b"")
    return (b"\xef\xbb\xbf" if spec.bom else b"") + data


def _build_csv(spec: FileSpec, ch: Chooser) -> Case:
    columns, _, width = CSV_LAYOUTS[spec.layout]
    name = "fuzzin.csv"
    if spec.whole_file == "empty_file":
        return Case(spec, name, b"", b"", width, [], refusal="expected")
    if spec.whole_file == "garbage_file":
        plain = garbage(ch, b"\n\r,") + b"\n" + garbage(ch, b"") + b"\n"
        return Case(spec, name, plain, plain, width, [], refusal="expected")
    rows = [csv_row(ch, spec.layout, kind, i) for i, kind in enumerate(spec.kinds)]
    if spec.truncated_last:
        rows.append(csv_truncated(ch, spec.layout, len(rows)))
    for line, row in enumerate(rows, start=2):
        row.position = line
    plain = _lines_file(spec, ",".join(columns).encode(), rows)
    cr_only = spec.line_ending == b"\r"
    if cr_only:
        for row in rows:
            row.touched = True
    return Case(spec, name, plain, plain, width, rows, refusal="allowed" if cr_only else "no",
                weak=cr_only or any(r.touched for r in rows))


def _build_jsonl(spec: FileSpec, ch: Chooser) -> Case:
    width = int(spec.layout or 1)
    name = "fuzzin.jsonl"
    rows = [json_row(ch, "jsonl", width, kind, i) for i, kind in enumerate(spec.kinds)]
    if spec.truncated_last:
        rows.append(json_truncated(ch, "jsonl", width, len(rows)))
    for line, row in enumerate(rows, start=1):
        row.position = line
    if spec.whole_file == "empty_file":
        rows = []
    plain = b"" if spec.whole_file == "empty_file" else _lines_file(spec, None, rows)
    cr_only = spec.line_ending == b"\r"
    if cr_only:
        for row in rows:
            row.touched = True
    return Case(spec, name, plain, plain, width, rows, refusal="allowed" if cr_only else "no", weak=cr_only)


def _build_json(spec: FileSpec, ch: Chooser) -> Case:
    wrapper, width_text = spec.layout.split(":") if ":" in spec.layout else (spec.layout, "1")
    width = int(width_text)
    name = "fuzzin.json"
    if spec.whole_file == "empty_file":
        return Case(spec, name, b"", b"", width, [], refusal="expected")
    if spec.whole_file == "garbage_file":
        plain = garbage(ch, b"")
        return Case(spec, name, plain, plain, width, [], refusal="expected")
    rows = [json_row(ch, "json", width, kind, i) for i, kind in enumerate(spec.kinds)]
    if spec.whole_file == "wrong_shape":
        shape = ch.choice(WRONG_SHAPES)
        inner = json_row(ch, "json", width, "clean", 0).text
        plain = (b"\xef\xbb\xbf" if spec.bom else b"") + (shape % inner if b"%s" in shape else shape)
        return Case(spec, name, plain, plain, width, [], refusal="expected")
    if spec.truncated_last:
        rows.append(json_truncated(ch, "json", width, len(rows)))
    for index, row in enumerate(rows):
        row.position = index
    end = spec.line_ending
    gaps = [b"", b" ", end, end + end, end + b"  "]
    head, tail = JSON_WRAPPERS[wrapper]
    body = b""
    for index, row in enumerate(rows):
        body += ch.choice(gaps) + row.text
        if index < len(rows) - 1:
            body += b"," + ch.choice(gaps)
    plain = head + body + (b"" if spec.truncated_last else ch.choice(gaps) + tail)
    if spec.trailing_newline and not spec.truncated_last:
        plain += end
    if spec.bom:
        plain = b"\xef\xbb\xbf" + plain
    return Case(spec, name, plain, plain, width, rows)


def categories(case: Case) -> frozenset:
    """``format:kind`` names of what the case contains: its row kinds, its file-level mutations and
    a few combinations known to matter (the names ``KNOWN_FAILING`` in the test module uses)."""
    spec, fmt = case.spec, case.spec.fmt
    names = {f"{fmt}:{r.kind}" for r in case.rows if r.kind != "clean"}
    if fmt == "csv":    # a kind in one CSV layout only: "csv:too_few_fields@labels"
        names |= {f"{fmt}:{r.kind}@{spec.layout}" for r in case.rows if r.kind != "clean"}
    flags = {"bom": spec.bom, "gzip": spec.gzip, "crlf": spec.line_ending == b"\r\n",
             "cr_only": spec.line_ending == b"\r", "no_trailing_newline": not spec.trailing_newline,
             "small_chunks": spec.small_chunks, "small_batches": spec.batch_size < 65536}
    names |= {f"{fmt}:{flag}" for flag, on in flags.items() if on}
    if spec.whole_file:
        names.add(f"{fmt}:{spec.whole_file}")
    # a CR inside a line and unclosed quotes in one file: pandas pairs the quotes across lines
    if {"cr_inside", "unclosed_quote"} <= {r.kind for r in case.rows} and fmt == "csv":
        names.add("csv:cr_inside+unclosed_quote")
    # CRs but no LF at all (one line, no final newline): input_file.py reads such a file as CR-only
    if b"\r" in case.plain and b"\n" not in case.plain and spec.line_ending != b"\r":
        names.add(f"{fmt}:lone_cr_no_newline")
    # the reader judges a chunk at a time: tiny chunks make a chunk of ragged rows only likely
    ragged = [r.kind in RAGGED for r in case.rows]
    if fmt == "csv" and ragged and (all(ragged) or spec.small_chunks and any(ragged)):
        names.add("csv:every_row_ragged")
    return frozenset(names)


RAGGED = ("too_few_fields", "too_many_fields", "trailing_delimiter", "truncated_last", "garbage")


# -- hypothesis strategies ---------------------------------------------------------------------------------

def _allowed(fmt: str, kinds: Sequence[str], excluded: frozenset, layout: str) -> list[str]:
    return [k for k in kinds if f"{fmt}:{k}" not in excluded and f"{fmt}:{k}@{layout}" not in excluded]


def _flag(ch: Chooser, fmt: str, name: str, excluded: frozenset, rare: bool = False) -> bool:
    return f"{fmt}:{name}" not in excluded and ch.rare(8 if rare else 3)


def draw_spec(ch: Chooser, fmt: str, excluded: frozenset = frozenset(), max_rows: int = 12) -> FileSpec:
    """A random FileSpec of ``fmt`` avoiding the ``format:kind`` names in ``excluded``."""
    if fmt == "csv":
        layout = ch.choice(list(CSV_LAYOUTS))
        kinds = _allowed(fmt, csv_kinds_for(layout), excluded, layout)
    elif fmt == "json":
        layout = f"{ch.choice(list(JSON_WRAPPERS))}:{ch.choice([1, 2])}"
        kinds = _allowed(fmt, json_kinds_for(fmt, int(layout[-1])), excluded, layout)
    else:
        layout = str(ch.choice([1, 2]))
        kinds = _allowed(fmt, json_kinds_for(fmt, int(layout)), excluded, layout)
    mutated = [k for k in kinds if k not in ("clean", "nul_byte")]
    n = 0 if ch.rare(15) else ch.integer(1, max_rows)
    # about half the rows clean, so that bad rows sit between good ones
    row_kinds = ["clean" if ch.boolean() or not mutated else ch.choice(mutated) for _ in range(n)]
    # a NUL byte near the start makes the file binary (refused as a whole): at most one, rarely
    if n and "nul_byte" in kinds and ch.rare(6):
        row_kinds[ch.integer(0, n - 1)] = "nul_byte"
    row_kinds = tuple(row_kinds)
    ending = b"\n"
    if ch.rare(5):
        ending = b"\r\n"
    elif f"{fmt}:cr_only" not in excluded and ch.rare(10):
        ending = b"\r"
    whole = ""
    wholes = [w for w in {"csv": ["empty_file", "garbage_file"], "json": ["empty_file", "garbage_file", "wrong_shape"],
                          "jsonl": ["empty_file"]}[fmt] if f"{fmt}:{w}" not in excluded]
    if wholes and ch.rare(20):
        whole = ch.choice(wholes)
    return FileSpec(
        fmt=fmt, layout=layout, kinds=row_kinds, line_ending=ending,
        trailing_newline=not _flag(ch, fmt, "no_trailing_newline", excluded),
        bom=_flag(ch, fmt, "bom", excluded, rare=True), gzip=_flag(ch, fmt, "gzip", excluded, rare=True),
        truncated_last=_flag(ch, fmt, "truncated_last", excluded, rare=True), whole_file=whole,
        batch_size=ch.choice([1, 3]) if ch.rare(4) else 65536,
        small_chunks=_flag(ch, fmt, "small_chunks", excluded, rare=True))


@st.composite
def cases(draw, fmt: str, excluded: frozenset = frozenset()) -> Case:
    """Hypothesis strategy: a built Case of ``fmt`` avoiding ``excluded``."""
    ch = DrawChooser(draw)
    return build_case(draw_spec(ch, fmt, excluded), ch)
