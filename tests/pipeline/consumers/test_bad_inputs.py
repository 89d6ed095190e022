"""Each malformed input that once stopped a run or lost rows: now the good rows around it are all
read, the bad one is rejected with its place and reason, and nothing raises.

(The fuzz suite, ``test_fuzz_inputs.py``, mixes these at random; here each has its own test.)"""
from __future__ import annotations

import bz2
import gzip
import lzma

import numpy as np
import pytest

from pipeline.consumers import FileConsumer
from pipeline.consumers.input_file import MAX_LINE_BYTES, InputRefused
from pipeline.consumers.messages import messages_to_batch


def read_all(path, width=1, batch=1000):
    with FileConsumer(path, width) as source:
        parts, rejected = [], []
        while not source.finished:
            poll = source.poll(batch)
            parts.append(poll.samples)
            rejected += poll.rejected
    return {"values": np.concatenate([p.values for p in parts])[:, 0].tolist(),
            "position": np.concatenate([p.position for p in parts]).tolist(),
            "rejected": [(r.position, r.reason) for r in rejected], "records": rejected}


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- CSV ----------------------------------------------------------------------------------------

def test_a_chunk_of_nothing_but_ragged_rows_is_rejected_and_the_rest_of_the_file_is_read(tmp_path, monkeypatch):
    import pipeline.consumers.csv_file as csv_file
    monkeypatch.setattr(csv_file, "CHUNK_BYTES", 16)   # the truncated row arrives as a chunk of its own
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\n1,10\n2,20\n3,30,4\n4,40\n5,5,5\n5,5,5\n6,60"))
    assert got["values"] == [10, 20, 40, 60]
    assert got["rejected"] == [(4, "expected 2 fields, got 3"), (6, "expected 2 fields, got 3"),
                               (7, "expected 2 fields, got 3")]


def test_a_truncated_last_line_without_newline_is_one_rejected_row(tmp_path):
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\n1,10\n2,20\n3,30,4"))
    assert got["values"] == [10, 20] and got["rejected"] == [(4, "expected 2 fields, got 3")]


def test_a_carriage_return_inside_a_line_rejects_that_line_only(tmp_path):
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\r\n1,10\r\n2,2\r0\r\n3,30\r\n"))
    assert got["values"] == [10, 30]
    assert got["rejected"] == [(3, "a carriage return inside the line")]


def test_old_mac_line_endings_are_read_like_any_other(tmp_path):
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\r1,10\r2,20\r3,x\r4,40"))
    assert got["values"] == [10, 20, 40] and got["position"] == [2, 3, 5]
    assert got["rejected"] == [(4, "value: not a number: 'x'")]


def test_a_field_longer_than_the_csv_modules_limit_is_a_rejected_value(tmp_path):
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\n1,10\n2,\"" + b"1" * 140_000 + b"\",3\n3,30\n"))
    assert got["values"] == [10, 30] and [p for p, _ in got["rejected"]] == [3]


def test_a_line_longer_than_a_record_may_be_is_skipped_without_holding_it_in_memory(tmp_path):
    long = b"2," + b"9" * (3 * MAX_LINE_BYTES) + b"\n"
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\n1,10\n" + long + b"3,30\n"))
    assert got["values"] == [10, 30] and got["position"] == [2, 4]
    (position, reason), = got["rejected"]
    assert position == 3 and reason.startswith(f"line of {3 * MAX_LINE_BYTES + 2:,} bytes, longer than")
    assert len(got["records"][0].raw) == 4096


@pytest.mark.parametrize("row", [b"2," + b"1" * 320, b"1" * 320 + b",20", b"2,-" + b"9" * 400])
def test_integers_beyond_a_double_are_a_rejected_row_not_an_overflow(tmp_path, row):
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\n1,10\n" + row + b"\n3,30\n"))
    assert got["values"] == [10, 30] and [p for p, _ in got["rejected"]] == [3]


@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_trailing_delimiter_is_a_field_too_many_on_the_first_middle_and_last_row(tmp_path, where):
    rows = [b"1,10", b"2,20", b"3,30"]
    rows[where] += b","
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\n" + b"\n".join(rows) + b"\n"))
    assert got["rejected"] == [(where + 2, "expected 2 fields, got 3")]
    assert len(got["values"]) == 2


# -- JSON documents -------------------------------------------------------------------------------

def doc(*elements: bytes) -> bytes:
    return b'{"data": [' + b", ".join(elements) + b"]}"


def good(i: int) -> bytes:
    return b'{"timestamp": %d, "ftr_vector": [%d]}' % (i, i)


def test_an_element_nested_20000_deep_is_rejected_and_its_neighbours_are_kept(tmp_path):
    deep = b'{"timestamp": 2, "ftr_vector": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    got = read_all(write(tmp_path, "d.json", doc(good(1), deep, good(3))))
    assert got["values"] == [1, 3]
    (position, reason), = got["rejected"]
    assert position == 1 and "depth" in reason
    assert got["records"][0].raw == deep.decode()   # the element's own text is its dead letter


def test_a_number_beyond_a_double_rejects_its_element_only_and_names_it(tmp_path):
    got = read_all(write(tmp_path, "n.json", doc(b'{"timestamp": 0, "ftr_vector": [1e400]}', good(1), good(2))))
    assert got["values"] == [1, 2]
    assert got["records"][0].location == "n.json data[0]"
    assert "number is infinity" in got["records"][0].reason


def test_an_integer_beyond_64_bits_is_the_nearest_double_as_in_json_lines(tmp_path):
    big = b'{"timestamp": 1, "ftr_vector": [18446744073709551616]}'
    assert read_all(write(tmp_path, "b.json", doc(good(0), big)))["values"] == [0, 2.0 ** 64]
    assert read_all(write(tmp_path, "b.jsonl", good(0) + b"\n" + big + b"\n"))["values"] == [0, 2.0 ** 64]


def test_a_broken_element_in_the_middle_is_rejected_and_the_elements_after_it_are_read(tmp_path):
    got = read_all(write(tmp_path, "m.json", doc(good(0), b'{"timestamp": 1, "ftr_vector": [1,]}',
                                                 b'{"timestamp": 2, "ftr_vector": [2]]}', good(3))))
    assert got["values"] == [0, 3] and [p for p, _ in got["rejected"]] == [1, 2]


@pytest.mark.parametrize("document, found", [
    (b'{"records": [{"timestamp": 1, "ftr_vector": [1]}]}', 'it has no "data" list (its keys: "records")'),
    (b'{"data": {"timestamp": 1, "ftr_vector": [1]}}', 'its "data" is an object'),
    (b'{"data": 5}', 'its "data" is not a list'),
    (b'"data"', "it starts with"),
    (b"", "it is empty"),
])
def test_a_document_of_the_wrong_shape_is_refused_by_name_before_any_row(tmp_path, document, found):
    with pytest.raises(InputRefused, match="not a JSON input") as refused:
        read_all(write(tmp_path, "w.json", document))
    assert found in str(refused.value)


def test_a_byte_order_mark_is_skipped_in_every_format(tmp_path):
    bom = b"\xef\xbb\xbf"
    assert read_all(write(tmp_path, "b.json", bom + doc(good(1))))["values"] == [1]
    assert read_all(write(tmp_path, "b.jsonl", bom + good(1) + b"\n"))["values"] == [1]
    assert read_all(write(tmp_path, "b.csv", bom + b"timestamp,value\n1,1\n"))["values"] == [1]


def test_text_after_the_data_list_is_a_rejected_record_not_silence(tmp_path):
    got = read_all(write(tmp_path, "t.json", doc(good(1)) + b', {"timestamp": 2}]}'))
    assert got["values"] == [1]
    assert got["records"][-1].reason.startswith("text after the end of the data list")


# -- every format: timestamps ---------------------------------------------------------------------

def test_a_boolean_timestamp_is_rejected_among_numbers_as_it_is_alone():
    batch, rejected = messages_to_batch([{"timestamp": 1, "ftr_vector": [1]}, {"timestamp": True, "ftr_vector": [1]}],
                                        [0, 1], ["m0", "m1"], 1)
    assert batch.position.tolist() == [0]
    assert [r.reason for r in rejected] == ["timestamp is not a number or ISO 8601 text: true"]


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1500-01-01", 1e300, -1e15])
def test_a_timestamp_outside_the_supported_range_is_a_rejected_row_in_every_format(tmp_path, stamp):
    text = f'"{stamp}"' if isinstance(stamp, str) else repr(stamp)
    rows = [b'{"timestamp": 1, "ftr_vector": [1]}', f'{{"timestamp": {text}, "ftr_vector": [2]}}'.encode(),
            b'{"timestamp": 3, "ftr_vector": [3]}']
    for name, data in [("j.jsonl", b"\n".join(rows) + b"\n"), ("j.json", doc(*rows)),
                       ("c.csv", f"timestamp,value\n1,1\n{stamp},2\n3,3\n".encode())]:
        got = read_all(write(tmp_path, name, data))
        assert got["values"] == [1, 3], name
        (_, reason), = got["rejected"]
        assert "outside the supported time range (years 1677 to 2262)" in reason, (name, reason)


def test_iso_times_far_from_1970_are_never_read_as_milliseconds(tmp_path):
    got = read_all(write(tmp_path, "t.csv", b"timestamp,value\n2262-01-01T00:00:00Z,1\n1700-01-01T00:00:00Z,2\n"))
    assert got["values"] == [1, 2]


# -- compressed and binary files ------------------------------------------------------------------

@pytest.mark.parametrize("compress, suffix", [(gzip.compress, ".gz"), (bz2.compress, ".bz2"), (lzma.compress, ".xz")])
def test_compressed_inputs_are_read_transparently(tmp_path, compress, suffix):
    plain = b"timestamp,value\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(5000))
    got = read_all(write(tmp_path, "c.csv" + suffix, compress(plain)))
    assert got["values"] == list(range(5000)) and not got["rejected"]
    jsonl = b"".join(good(i) + b"\n" for i in range(100))
    assert read_all(write(tmp_path, "c.jsonl" + suffix, compress(jsonl)))["values"] == list(range(100))


def test_a_compressed_file_under_a_plain_name_is_still_read(tmp_path):
    got = read_all(write(tmp_path, "c.csv", gzip.compress(b"timestamp,value\n1,1\n")))
    assert got["values"] == [1]


def test_a_damaged_gzip_file_keeps_what_came_before_the_damage_and_says_where(tmp_path):
    plain = b"timestamp,value\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(200_000))
    packed = gzip.compress(plain)
    got = read_all(write(tmp_path, "d.csv.gz", packed[:len(packed) // 2]))
    assert 0 < len(got["values"]) < 200_000
    assert got["values"] == list(range(len(got["values"])))   # everything up to the damage, in order
    assert "damaged" in got["rejected"][-1][1] and "nothing after it could be read" in got["rejected"][-1][1]
    # the line the damage cut is that dead letter, never a row: every row output is whole
    assert got["records"][-1].position == len(got["values"]) + 2


@pytest.mark.parametrize("data, what", [
    (b"PK\x03\x04" + b"\x00" * 40, "a zip archive (unzip it first)"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "a PNG image"),
    ("timestamp,value\n1,1\n".encode("utf-16"), "UTF-16 text (save it as UTF-8)"),
    (bytes(range(256)) * 4, "binary data, not text"),
])
def test_a_binary_file_is_refused_saying_what_it_is(tmp_path, data, what):
    with pytest.raises(InputRefused) as refused:
        read_all(write(tmp_path, "b.csv", data))
    assert what in str(refused.value)


# -- found by the fuzz suite ----------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"timestamp,v\n1,10\n2,true", b"timestamp,v\n1,10\nTrue,20",
                                  b"timestamp,v\n1,10\n2,true\n3,False\n", b"timestamp,v\n1,10\n2,true\n3\n"])
def test_a_csv_boolean_is_not_a_number_even_when_its_chunk_holds_nothing_else(tmp_path, data):
    got = read_all(write(tmp_path, "b.csv", data))
    rows = len(data.rstrip(b"\n").split(b"\n")) - 1
    assert got["values"] == [10] and len(got["rejected"]) == rows - 1


def test_a_row_missing_only_its_label_field_is_a_row_with_too_few_fields(tmp_path):
    got = read_all(write(tmp_path, "l.csv", b"timestamp,v,label\n1,10,False\n2,20\n3,30,\n"))
    assert got["values"] == [10, 30] and got["rejected"] == [(3, "expected 3 fields, got 2")]


def test_unclosed_quotes_after_a_carriage_return_keep_rows_and_line_numbers_in_step(tmp_path):
    data = b'timestamp,a,b\n1,10,0.25\n\r2,20,0.25\n3,30,"0.25\n4,40,"0.25\n5,50,0.5\n'
    got = read_all(write(tmp_path, "q.csv", data), width=2)
    # every line once, as output or dead letter, each with its own values (the csv module reads an
    # unclosed quote to the end of its line)
    assert dict(zip(got["position"], got["values"])) == {2: 10, 4: 30, 5: 40, 6: 50}
    assert got["rejected"] == [(3, "a carriage return inside the line")]


def test_carriage_returns_between_json_tokens_are_whitespace_not_line_ends(tmp_path):
    got = read_all(write(tmp_path, "c.jsonl", b'{"timestamp":\r1700000000,\r"ftr_vector":\r[5]}'))
    assert got["values"] == [5] and not got["rejected"]


# -- found by review --------------------------------------------------------------------------------

def test_an_element_over_a_mebibyte_is_one_dead_letter_and_its_insides_are_never_records(tmp_path):
    inner = b", ".join(good(i) for i in range(40_000))   # record-shaped objects inside one element
    long = b'{"timestamp": 1, "ftr_vector": [1], "history": [' + inner + b"]}"
    got = read_all(write(tmp_path, "l.json", doc(good(10), long, good(20))))
    assert got["values"] == [10, 20] and got["position"] == [0, 2]
    (position, reason), = got["rejected"]
    assert position == 1 and "bytes, longer than the 1,048,576 a record may have" in reason
    assert len(got["records"][0].raw) == 4096


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_a_broken_element_ending_at_a_block_boundary_does_not_shift_the_elements_after_it(tmp_path, shift):
    from pipeline.consumers.json_split import BLOCK_BYTES
    broken = b'{"timestamp": 1, "ftr_vector": [1]]}'
    head = b'{"data": [' + b" " * (BLOCK_BYTES - 10 - len(broken) - 1 + shift)
    data = head + broken + b", " + b", ".join(good(i) for i in range(2, 50)) + b"]}"
    got = read_all(write(tmp_path, "b.json", data))
    assert got["values"] == list(range(2, 50)) and got["position"] == list(range(1, 49))
    assert [p for p, _ in got["rejected"]] == [0]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_rows_after_a_long_line_ending_exactly_at_a_read_are_all_read(tmp_path, monkeypatch, fmt):
    import pipeline.consumers.csv_file as csv_file
    import pipeline.consumers.json_file as json_file
    block = 1 << 16
    monkeypatch.setattr(csv_file, "CHUNK_BYTES", block)
    monkeypatch.setattr(json_file, "LINE_BLOCK_BYTES", block)
    header = b"timestamp,value\n" if fmt == "csv" else b""
    rows = [b"%d,%d\n" % (i, i) if fmt == "csv" else good(i) + b"\n" for i in range(1000)]
    # the long line's newline is the last byte of a read: the head, then whole blocks
    long = b"x" * (MAX_LINE_BYTES + 4 * block - len(header) - 1) + b"\n"
    got = read_all(write(tmp_path, f"l.{fmt}", header + long + b"".join(rows)))
    assert got["values"] == list(range(1000)) and len(got["rejected"]) == 1


def test_a_small_gzip_file_cut_short_is_read_up_to_the_cut_not_refused(tmp_path):
    plain = b"timestamp,value\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(3000))
    got = read_all(write(tmp_path, "s.csv.gz", gzip.compress(plain)[:-10]))
    assert 0 < len(got["values"]) and got["values"] == list(range(len(got["values"])))
    assert "damaged" in got["rejected"][-1][1]


def test_a_one_line_document_broken_by_a_stray_quote_is_read_a_bounded_step_at_a_time(tmp_path, monkeypatch):
    import pipeline.consumers.json_file as json_file
    monkeypatch.setattr(json_file, "CHUNK_BYTES", 1 << 18)
    records = [good(i) for i in range(200_000)]
    records[5] = b'{"timestamp": 5, "ftr_vector": [5], "note": "unclosed}'
    path = write(tmp_path, "q.json", doc(*records))
    with FileConsumer(path, 1) as source:
        first = source.poll(65536)
        assert first.samples.values[:, 0].tolist() == [0, 1, 2, 3, 4]
        # a poll returns after a chunk or two of bytes, not at the end of the file
        assert source.progress()[0] <= 2 * json_file.CHUNK_BYTES + json_file.BLOCK_BYTES
        rejected = list(first.rejected)
        while not source.finished:
            poll = source.poll(65536)
            assert not len(poll.samples)
            rejected += poll.rejected
    (record,) = rejected   # the rest of the document is one dead letter, its head kept
    assert record.position == 5 and len(record.raw) == 4096


def test_a_gzip_file_missing_only_its_trailer_gives_every_row(tmp_path):
    plain = b"timestamp,value\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(3000))
    got = read_all(write(tmp_path, "t.csv.gz", gzip.compress(plain)[:-8]))
    assert got["values"] == list(range(3000))
    assert len(got["rejected"]) == 1 and "damaged" in got["rejected"][0][1]


def test_a_gzip_file_of_garbage_is_refused_as_a_whole(tmp_path):
    data = gzip.compress(b"timestamp,value\n1,1\n")[:10] + bytes(range(256)) * 4
    with pytest.raises(InputRefused, match="not a readable gzip file"):
        read_all(write(tmp_path, "g.csv.gz", data))


@pytest.mark.parametrize("before", [0, 70_000, 200_000])
def test_a_line_over_the_limit_is_rejected_wherever_it_falls_between_reads(tmp_path, before):
    long = b'{"timestamp": 2, "ftr_vector": [2], "pad": "' + b"x" * (MAX_LINE_BYTES + 100_000) + b'"}\n'
    first = good(1)[:-1] + b', "pad": "' + b"y" * before + b'"}\n'
    got = read_all(write(tmp_path, "l.jsonl", first + long + good(3) + b"\n"))
    assert got["values"] == [1, 3] and [p for p, _ in got["rejected"]] == [2]


def test_a_poll_returns_while_a_long_line_is_still_being_skipped(tmp_path):
    path = write(tmp_path, "e.csv.gz", gzip.compress(b"timestamp,value\n1,1\n2," + b"9" * (64 << 20)))
    with FileConsumer(path, 1) as source:
        polls = 0
        while not source.finished:
            source.poll(65536)
            polls += 1
    assert polls > 10   # the 64 MiB line was skipped a read at a time, a poll each
