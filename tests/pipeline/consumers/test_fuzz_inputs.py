"""Fuzz suite for the file inputs (issue 9): malformed CSV, JSON and JSON Lines files built around
marked good rows (tests/fuzz_inputs.py) are replayed in-process by ``run_headless`` through a
BorderCheck with limits wide enough that every sample gets a record, into a JSON Lines
FileOutput with ``send_ok`` true. For every file:

- no exception escapes ``run_headless``, and no traceback reaches stderr or the log;
- the exit status is 0, or ``REFUSAL_EXIT`` (2, a usage or configuration error: ``run_headless``
  returns it for a refused input, or raises ``ConfigError``, which main.py turns into 2) for a
  documented refusal of the whole file before any row is read, with no output record and no dead
  letter;
- every good row has its output record (found by its marker, ``value[0]``), in file order, once;
- every bad row has its dead letter at its position (CSV and JSON Lines: the 1-based line; JSON: the
  0-based element index), whose ``raw`` holds the row's marker when the row's text did;
- ``samples`` in the summary equals the output records, ``rejected`` the dead letters.

What the product must do with each kind of row (the fates in tests/fuzz_inputs.py):

CSV. A row is bad when it has the wrong number of fields (a trailing delimiter is one field too many,
wherever the row is), when it is empty or blank, when a value is missing, not a number (``true``,
``null``, ``abc``: CSV has no booleans), not finite (``NaN``, ``inf``, ``1e400``, an integer of 309+
digits), or holds invalid UTF-8 or a NUL byte, when the timestamp is missing, not a number or ISO
8601 text, or a boolean, and when a vector column is not a list of ``input_vector_size`` finite
numbers. A field longer than 131,072 characters is a bad value, not a broken file; in a label column
it is harmless. ``18446744073709551616`` is a finite number (a good value). Either way is fine
(``either``: output or dead letter, never both, never neither) for an ISO time outside pandas' range
(``9999-12-31T23:59:59Z``, ``0001-01-01``), a 2**64 timestamp, an unclosed or stray quote (the
reader ends an unclosed quote with its line, so the rows after it are unaffected) and a CR inside a
line. A CR inside a line and CR-only line endings may move row boundaries, so those files get the
weaker checks: the summary matches the files, every untouched good row is in the output, no row is
both output and dead letter; a CR-only file may instead be refused as a whole. A UTF-8 BOM, CRLF,
a missing final newline and gzip (``.csv.gz``, read transparently) change nothing. Refused as a
whole: an empty file, a header without a ``timestamp`` column (binary garbage).

JSON Lines. One line is one row. A line is bad when it is empty or blank, not valid JSON (``NaN``,
invalid UTF-8, a NUL, a trailing comma, an unclosed string, garbage, a truncated last line), not an
object, or an object that ``messages.message_problem`` rejects: a missing key, ``ftr_vector`` not a
list of ``input_vector_size`` numbers (booleans count as 1 and 0, as in the original), a value not
finite (``1e400``, 309+ digits, 20,000-deep nesting as a value), a timestamp that is null, a boolean,
a container or unparsable text. ``18446744073709551616`` is a number. A CR between tokens is
whitespace. BOM, CRLF, no final newline and gzip change nothing; CR-only line endings may be read
as line ends (input_file.py does) or leave one long line: weaker checks, or a refusal.

JSON documents (``{"data": [...]}`` or a bare array). The original reader (ijson) ended the
document at the first syntax error, as json_file.py used to document ("A JSON syntax error ends
the document ... the elements before it are still used"). Decided for this suite, and what
json_file.py now documents: every element is judged alone, like a JSON Lines line, so one invalid
element (``NaN``, invalid UTF-8, a NUL, a trailing comma, single quotes, garbage) is one dead
letter at its element index and the elements after it are still read; valid JSON that cannot be
used (``1e400``, 309+ digit integers, 20,000-deep nesting, null, booleans, wrong types or lengths,
missing keys, elements that are not objects) is a dead letter too; ``18446744073709551616`` is a
number. What cannot be delimited (``break`` rows: an unclosed string, brackets that do not balance,
garbage holding a quote or bracket, a truncated document) may swallow the elements after it into
its own dead letter and renumber the rest: from the break on, each row only has to be found once,
by its marker, in the output or in one dead letter's ``raw``, and there must be a dead letter for
the break. The run ends with exit 0 either way. Refused as a whole (exit 2, before any element is
read): an empty file, a file that is neither an object nor an array (garbage), and the wrong shapes
``{"records": [...]}``, ``{"data": {...}}``, ``{"data": 5}``, ``{"data": null}``, ``{}`` and
top-level scalars. A BOM, CR or CRLF whitespace, keys around ``data`` and gzip change nothing.

Any format: a file whose first 4 KiB hold a NUL byte, or that starts with a UTF-16 byte-order mark,
may be refused as binary data (input_file.py documents it); otherwise the NUL is a bad row.

``KNOWN_FAILING`` names the categories that fail against the current code (``format:kind``, or
``csv:kind@layout`` for one CSV layout; ``fuzz_inputs.categories``): the fuzz tests do not
generate them and the catalogue tests mark them xfail, so CI stays green while the readers are
fixed. Empty it as the defects are fixed.

Two kinds of test: the catalogue (every row kind alone, in every layout it applies to, as the first,
a middle and the last row; every file-level mutation), and the fuzz (hypothesis: up to 12 rows, half
of them clean, several malformations per file, plus BOM, CRLF or CR-only line endings, no final
newline, a truncated last line, gzip, tiny reader chunks, engine batches of 1 or 3). CI runs
``CI_EXAMPLES`` fuzz examples per format, derandomized and without an example database, so every
run tries the same files. Before closing an input issue run the slow profile:
``pytest -m slow tests/pipeline/consumers/test_fuzz_inputs.py`` (``FUZZ_EXAMPLES`` per format,
default 10,000, in rounds of 2,500 with a fresh seed each; a failure prints its file and a
``@reproduce_failure`` blob).
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from pipeline.config import ConfigError, parse_config
from pipeline.consumers import csv_file, json_file, json_split
from pipeline.run import run_headless
from tests import fuzz_inputs as fz

REFUSAL_EXIT = 2

# format:kind categories that fail against the current code (issue 9): the fuzz tests do not
# generate them and the catalogue marks them xfail. Remove each one as it is fixed.
KNOWN_FAILING: frozenset[str] = frozenset()

CI_EXAMPLES = 200
COMMON = dict(database=None, deadline=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much, HealthCheck.large_base_example])
CI_SETTINGS = settings(max_examples=CI_EXAMPLES, derandomize=True, **COMMON)
# the slow profile: FUZZ_EXAMPLES per format, in rounds short enough for faulthandler_timeout
SLOW_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10000"))
SLOW_ROUND = 2500
SLOW_SETTINGS = settings(max_examples=min(SLOW_EXAMPLES, SLOW_ROUND), derandomize=False, **COMMON)

FORMATS = ("csv", "json", "jsonl")


# -- running a case ------------------------------------------------------------------------------------

@dataclass
class Outcome:
    exit_code: int | None
    escaped: str = ""                       # an exception that escaped run_headless, with traceback
    stderr: str = ""
    logged: list[str] = field(default_factory=list)
    records: list = field(default_factory=list)
    dead_letters: list = field(default_factory=list)
    summary: dict | None = None
    unreadable: list[str] = field(default_factory=list)

    def error_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.startswith("error:")]
        return lines[0][:300] if lines else ""


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.texts.append(text)


# Reader chunk sizes, shrunk so that chunk boundaries fall between (and inside) the few rows of a
# case. Every knob named here must exist: a renamed one fails the small_chunks cases loudly.
SMALL_CHUNKS = {
    "csv": [(csv_file, "CHUNK_BYTES", 64)],
    "json": [(json_file, "ELEMENTS_PER_CHUNK", 2), (json_file, "BLOCK_BYTES", 64), (json_split, "BLOCK_BYTES", 16)],
    "jsonl": [(json_file, "LINE_BLOCK_BYTES", 64)],
}


@contextlib.contextmanager
def reader_chunks(fmt: str, small: bool):
    with contextlib.ExitStack() as stack:
        for module, name, value in SMALL_CHUNKS[fmt] if small else []:
            stack.enter_context(mock.patch.object(module, name, value))
        yield


def run_case(case: fz.Case) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        tmp = Path(tmp)
        path = tmp / case.name
        path.write_bytes(case.data)
        config = parse_config({
            "file_name": str(path),
            "anomaly_detection_alg": ["BorderCheck()"],
            "anomaly_detection_conf": [{
                "input_vector_size": case.width, "UL": 1e300, "LL": -1e300,
                "output": ["FileOutput()"],
                "output_conf": [{"file_name": "out.jsonl", "mode": "w", "send_ok": True}]}],
        }, tmp / "fuzz.json")
        log_dir, summary_path = tmp / "log", tmp / "summary.json"
        stderr, handler = io.StringIO(), _Collect()
        root, ours = logging.getLogger(), logging.getLogger("pipeline")
        # the pipeline's records go to this handler only (a rejected 140 KB field would flood the
        # report of a failing test); internal errors log their traceback at debug level: catch those
        level, propagate = ours.level, ours.propagate
        root.addHandler(handler)
        ours.addHandler(handler)
        ours.setLevel(logging.DEBUG)
        ours.propagate = False
        outcome = Outcome(exit_code=None)
        try:
            with contextlib.redirect_stderr(stderr), reader_chunks(case.spec.fmt, case.spec.small_chunks):
                outcome.exit_code = run_headless(config, log_dir=log_dir, batch_size=case.spec.batch_size,
                                                 progress=False, summary_json=summary_path)
        except ConfigError as err:
            outcome.exit_code = REFUSAL_EXIT
            stderr.write(f"error: {err}\n")
        except Exception as err:  # what would be a traceback on the command line
            outcome.escaped = "".join(traceback.format_exception(err))
        finally:
            root.removeHandler(handler)
            ours.removeHandler(handler)
            ours.setLevel(level)
            ours.propagate = propagate
        outcome.stderr, outcome.logged = stderr.getvalue(), handler.texts
        outcome.records = _read_jsonl(log_dir / "out.jsonl", outcome)
        outcome.dead_letters = _read_jsonl(log_dir / "fuzz.dead_letter.jsonl", outcome)
        if summary_path.exists():
            outcome.summary = json.loads(summary_path.read_text())
    return outcome


def _read_jsonl(path: Path, outcome: Outcome) -> list:
    if not path.exists():
        return []
    records = []
    # "\n" only: str.splitlines() would also cut at U+0085, U+2028, form feeds... inside strings
    for n, line in enumerate(path.read_bytes().decode("utf-8").split("\n")[:-1], start=1):
        try:
            records.append(json.loads(line))
        except ValueError as err:
            outcome.unreadable.append(f"{path.name} line {n}: {err}")
    return records


# -- the invariants ---------------------------------------------------------------------------------------

def marker_of(record) -> int | None:
    """The row marker of an output record, or None when its value is no marker."""
    try:
        value = float(record["value"][0])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if value.is_integer() and fz.MARK_BASE <= value < fz.MARK_BASE + 10_000:
        return int(value)
    return None


def markers_in(text) -> set[int]:
    return {round(float(m)) for m in fz.MARKER.findall(text if isinstance(text, str) else json.dumps(text))}


def problems(case: fz.Case, out: Outcome) -> list[str]:
    """Every way the run broke the suite's promises (empty: it kept them all)."""
    found = []
    if out.escaped:
        found.append("exception escaped run_headless: " + _head(out.escaped))
    for text in [out.stderr] + out.logged:
        if "Traceback" in text:
            found.append("traceback logged: " + _head(text[text.index("Traceback"):]))
            break
    found += [f"unreadable output: {u}" for u in out.unreadable]
    if out.escaped:
        return found
    refused = out.exit_code == REFUSAL_EXIT
    if case.refusal == "expected" or refused:
        if case.refusal == "no":
            found.append(f"refused the whole file (exit {out.exit_code}): {out.error_line()}")
        elif not refused:
            found.append(f"expected a refusal of the whole file (exit {REFUSAL_EXIT}), got exit "
                         f"{out.exit_code} {out.error_line()!r}, {len(out.records)} records, "
                         f"{len(out.dead_letters)} dead letters")
        elif out.records or out.dead_letters:
            found.append(f"refused, yet wrote {len(out.records)} records and {len(out.dead_letters)} dead letters")
        return found
    if out.exit_code != 0:
        found.append(f"exit {out.exit_code}: {out.error_line()}")
    found += summary_problems(out)
    found += row_problems(case, out)
    return found


def summary_problems(out: Outcome) -> list[str]:
    s = out.summary
    if s is None:   # a run that could not start writes none; that failure is reported by its exit status
        return ["no summary written"] if out.exit_code == 0 else []
    found = []
    if s["samples"] != len(out.records):
        found.append(f"summary samples {s['samples']} != {len(out.records)} output records")
    if s["rejected"] != len(out.dead_letters):
        found.append(f"summary rejected {s['rejected']} != {len(out.dead_letters)} dead letters")
    for d in s["detectors"]:
        judged = d["ok"] + d["warning"] + d["error"] + d["undefined"]
        if judged != s["samples"]:
            found.append(f"detector counts {judged} != samples {s['samples']}")
    for dl in out.dead_letters:
        if not {"location", "position", "reason", "raw"} <= set(dl) or "fuzzin" not in str(dl.get("location")) \
                or not dl.get("reason"):
            found.append(f"malformed dead letter {_short(dl)}")
            break
    return found


def loose(case: fz.Case, row: fz.Row) -> bool:
    """Whether only the row's marker can find it: its line may have moved (a CR inside it, CR-only
    line endings), or it is at or after a break of a JSON document, whose reader may merge the
    broken element with the ones after it (json_split.py) and so renumber them."""
    k = case.break_at
    return (case.weak and row.touched) or (k is not None and row.position >= k)


def row_problems(case: fz.Case, out: Outcome) -> list[str]:
    """Every row accounted for: good rows output once, bad rows dead-lettered at their position,
    ``either`` rows one of the two. Rows that ``loose`` only have to be found by their marker,
    in the output or in exactly one dead letter's ``raw``."""
    found = []
    listed = [marker_of(r) for r in out.records]
    unknown = [r for r, m in zip(out.records, listed) if m is None]
    listed = [m for m in listed if m is not None]
    in_output = Counter(listed)
    in_dead = Counter(m for dl in out.dead_letters for m in markers_in(dl["raw"]))
    dl_at = Counter(dl["position"] for dl in out.dead_letters)
    raws_at: dict[int, list[str]] = {}
    for dl in out.dead_letters:
        raws_at.setdefault(dl["position"], []).append(str(dl["raw"]))

    complaints: dict[str, list[fz.Row]] = {}
    for r in case.rows:
        out_n, dead_n = in_output[r.marker], in_dead[r.marker]
        carried = r.marker in markers_in(r.text.decode("latin-1"))
        if out_n > 1:
            complaints.setdefault("output more than once", []).append(r)
        if r.fate == fz.GOOD:
            if loose(case, r) and not out_n and not dead_n:
                complaints.setdefault("good rows neither output nor dead-lettered", []).append(r)
            elif not loose(case, r) and not out_n:
                complaints.setdefault("good rows missing from the output", []).append(r)
            elif out_n and dead_n:
                complaints.setdefault("good rows both output and dead-lettered", []).append(r)
        elif r.fate in (fz.BAD, fz.BREAK):
            if out_n:
                complaints.setdefault("bad rows in the output", []).append(r)
            elif loose(case, r) and carried and not dead_n:
                complaints.setdefault("bad rows neither output nor dead-lettered", []).append(r)
        elif out_n and (dead_n or (not loose(case, r) and dl_at[r.position])):
            complaints.setdefault("rows both output and dead-lettered", []).append(r)
    found += [f"{what}: {_rows(rows)}" for what, rows in complaints.items()]
    if unknown and not case.weak:
        found.append(f"{len(unknown)} output records of no row, first {_short(unknown[0])}")
    if listed != sorted(listed):
        found.append("output records out of file order")

    if case.weak:
        untouched_bad = sum(1 for r in case.rows if r.fate == fz.BAD and not r.touched)
        if len(out.dead_letters) < untouched_bad:
            found.append(f"{len(out.dead_letters)} dead letters, fewer than the {untouched_bad} untouched bad rows")
        return found
    # positions: exact before a JSON break, and at least one dead letter for the break itself
    k = case.break_at
    strict = [r for r in case.rows if not loose(case, r)]
    expected = Counter(r.position for r in strict
                       if r.fate == fz.BAD or (r.fate == fz.EITHER and not in_output[r.marker]))
    got = Counter({p: n for p, n in dl_at.items() if k is None or p < k})
    if got != expected:
        missing, surplus = expected - got, got - expected
        first = next((d for d in out.dead_letters if d["position"] in surplus), None)
        found.append(f"dead letters before any break: {sum(got.values())}, expected {sum(expected.values())}; "
                     f"missing at {_positions(missing, case)}, unexpected at {_positions(surplus, case)} "
                     f"(first unexpected: {_short(first)})")
    if k is not None and not any(p >= k for p in dl_at):
        found.append(f"no dead letter for the JSON syntax break at element {k}")
    for r in strict:
        if r.fate == fz.BAD and dl_at[r.position] and r.marker in markers_in(r.text.decode("latin-1")):
            if not any(r.marker in markers_in(raw) for raw in raws_at[r.position]):
                found.append(f"dead letter of the {r.kind} row at {r.position} lacks its text: "
                             f"raw {_short(raws_at[r.position][0])}")
                break
    return found


def _head(text: str, lines: int = 6) -> str:
    tail = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(tail[:2] + ["..."] + tail[-lines:]) if len(tail) > lines + 2 else " | ".join(tail)


def _short(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _rows(rows) -> str:
    return ", ".join(f"{r.kind}@{r.position}" if isinstance(r, fz.Row) else str(r) for r in rows)


def _positions(counter: Counter, case: fz.Case) -> str:
    kinds = {r.position: r.kind for r in case.rows}
    return ", ".join(f"{p} ({kinds.get(p, '?')})" for p in sorted(counter.elements())) or "-"


def check(case: fz.Case) -> list[str]:
    return problems(case, run_case(case))


def assert_case(case: fz.Case) -> None:
    found = check(case)
    assert not found, "\n".join(found) + "\n\nreproduction:\n" + case.repro()


# -- the catalogue: each kind alone, first, in the middle and last -------------------------------------------

def _catalogue():
    """(format, kind, where, layout): every row kind in every layout it applies to, as the first
    row, a middle row and the last row (without a final newline); every file-level mutation."""
    for fmt in FORMATS:
        if fmt == "csv":
            layouts = {k: [lay for lay in fz.CSV_LAYOUTS if k in fz.csv_kinds_for(lay)] for k in fz.CSV_KINDS}
        else:
            layouts = {k: [f"{wrapper}:{w}" if fmt == "json" else str(w) for wrapper, w in
                           zip(fz.JSON_WRAPPERS, (1, 2, 1)) if k in fz.json_kinds_for(fmt, w)] for k in fz.JSON_KINDS}
        for kind, kind_layouts in layouts.items():
            for layout in kind_layouts if kind != "clean" else []:
                for where in ("first", "middle", "last"):
                    yield pytest.param(fmt, kind, where, layout, id=f"{fmt}-{kind}-{layout}-{where}")
        for flag in ("bom", "crlf", "cr_only", "gzip", "no_trailing_newline", "truncated_last", "small_chunks",
                     "small_batches", "empty_file", "garbage_file", "wrong_shape"):
            if flag == "wrong_shape" and fmt != "json" or flag == "garbage_file" and fmt == "jsonl":
                continue
            yield pytest.param(fmt, flag, "file", {"csv": "columns", "json": "data:2", "jsonl": "2"}[fmt],
                               id=f"{fmt}-{flag}")


def catalogue_case(fmt: str, kind: str, where: str, layout: str) -> fz.Case:
    ch = fz.RandomChooser(f"{fmt}-{kind}-{layout}-{where}")
    if where == "file":
        spec = fz.FileSpec(fmt, layout, ("clean", "clean", "clean"),
                           line_ending={"crlf": b"\r\n", "cr_only": b"\r"}.get(kind, b"\n"),
                           trailing_newline=kind != "no_trailing_newline", bom=kind == "bom",
                           gzip=kind == "gzip", truncated_last=kind == "truncated_last",
                           whole_file=kind if kind in ("empty_file", "garbage_file", "wrong_shape") else "",
                           batch_size=1 if kind == "small_batches" else 65536, small_chunks=kind == "small_chunks")
    else:
        kinds = {"first": (kind, "clean", "clean"), "middle": ("clean", kind, "clean"),
                 "last": ("clean", "clean", kind)}[where]
        spec = fz.FileSpec(fmt, layout, kinds, trailing_newline=where != "last")
    return fz.build_case(spec, ch)


@pytest.mark.parametrize("fmt, kind, where, layout", list(_catalogue()))
def test_each_malformation_alone_loses_no_good_row_and_dead_letters_the_bad_one(fmt, kind, where, layout):
    case = catalogue_case(fmt, kind, where, layout)
    found = check(case)
    known = sorted(case.categories & KNOWN_FAILING)
    if found and known:
        pytest.xfail(f"KNOWN_FAILING {known}: {found[0]}")
    assert not found, "\n".join(found) + "\n\nreproduction:\n" + case.repro()


# -- the fuzz: several malformations per file -------------------------------------------------------------------

def _fuzz(case: fz.Case) -> None:
    assume(not case.categories & KNOWN_FAILING)
    note(case.repro())
    assert_case(case)


@pytest.mark.parametrize("fmt", FORMATS)
@CI_SETTINGS
@given(data=st.data())
def test_malformed_files_keep_every_good_row_and_dead_letter_every_bad_one(fmt, data):
    _fuzz(data.draw(fz.cases(fmt, KNOWN_FAILING), label="case"))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("round_", range(-(-SLOW_EXAMPLES // SLOW_ROUND)))
@SLOW_SETTINGS
@given(data=st.data())
def test_malformed_files_keep_every_good_row_and_dead_letter_every_bad_one_at_length(fmt, round_, data):
    _fuzz(data.draw(fz.cases(fmt, KNOWN_FAILING), label="case"))
