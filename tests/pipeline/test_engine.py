"""The batch loop: every sample reaches every detector and its outputs, rejected records reach
the dead letters, positions are committed only after outputs flushed, and stop() is prompt."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from pipeline.consumers.base import Poll, Source
from pipeline.dead_letter import DeadLetterFile
from pipeline.detectors.border_check import BorderCheck
from pipeline.detectors.ema import EMA
from pipeline.engine import DetectorRun, Engine
from pipeline.outputs.memory import MemoryOutput
from pipeline.records import RejectedRecord
from pipeline.timefilter import TimeOfDayFilter
from tests.conftest import batch_of


class ListSource(Source):
    """Serves a list of values in polls; records every call so order can be checked."""

    def __init__(self, values, journal, endless=False, bad_every=0):
        self.values = np.asarray(values, dtype=float)
        self.journal = journal
        self.endless = endless
        self.bad_every = bad_every
        self.next = 0
        self.finished = False

    def poll(self, max_items, timeout_s=0.1):
        start = self.next
        if self.endless:
            self.next += max_items
            return Poll(batch_of(np.zeros(max_items), start=start))
        stop = min(len(self.values), start + max_items)
        self.next = stop
        self.finished = stop == len(self.values)
        rejected = [RejectedRecord(f"list {start}", start, "test", "x")] if self.bad_every else []
        self.journal.append(("poll", stop - start))
        return Poll(batch_of(self.values[start:stop], start=start), rejected)

    def commit(self):
        self.journal.append(("commit", self.next))


class JournalOutput(MemoryOutput):
    def __init__(self, journal):
        super().__init__()
        self.journal = journal

    def flush(self):
        super().flush()
        self.journal.append(("flush", self.flushed))


def test_every_sample_reaches_every_detector_and_output_in_order(tmp_path):
    journal = []
    outs = [JournalOutput(journal), MemoryOutput(send_ok=False)]
    runs = [DetectorRun(0, BorderCheck(UL=1, LL=0), outputs=outs[:1]),
            DetectorRun(1, EMA(UL=1, LL=0, N=3), outputs=outs[1:])]
    x = np.linspace(-0.5, 1.5, 1000)
    stats = Engine(ListSource(x, journal), runs, DeadLetterFile(tmp_path / "dl.jsonl"), batch_size=64).run()
    assert stats.samples == 1000 and stats.batches == 16
    assert np.concatenate([b.samples.position for b in outs[0].batches]).tolist() == list(range(1000))
    assert (outs[1].status_codes() != 1).all()
    assert runs[0].status_counts == {1: 500, 0: 0, -1: 500, 2: 0}


def test_commit_only_after_flush_and_the_final_state_is_committed(tmp_path):
    journal = []
    run = DetectorRun(0, BorderCheck(UL=1, LL=0), outputs=[JournalOutput(journal)])
    Engine(ListSource(np.zeros(300), journal), [run], DeadLetterFile(tmp_path / "dl.jsonl"),
           batch_size=100, flush_interval_s=0).run()
    commits = [i for i, e in enumerate(journal) if e[0] == "commit"]
    assert commits
    for i in commits:
        flushed = journal[i - 1]
        assert flushed[0] == "flush" and flushed[1] == journal[i][1]
    assert journal[-1] == ("commit", 300)


def test_rejected_records_go_to_the_dead_letter_file(tmp_path):
    journal = []
    path = tmp_path / "dl.jsonl"
    engine = Engine(ListSource(np.zeros(30), journal, bad_every=1), [DetectorRun(0, BorderCheck(UL=1, LL=0))],
                    DeadLetterFile(path), batch_size=10)
    assert engine.run().rejected == 3
    assert len(path.read_text().splitlines()) == 3


def test_time_filtered_samples_are_counted_and_not_judged(tmp_path):
    run = DetectorRun(0, BorderCheck(UL=1, LL=0), outputs=[MemoryOutput()],
                      time_filters=(TimeOfDayFilter(target_s=0, tolerance_s=10),))
    ts = np.arange(0, 86400, 5.0)  # a day; 00:00:00 +- 10 s keeps 23:59:55 and 00:00:00..00:00:05
    result = run.process(batch_of(np.zeros(len(ts)), timestamps=ts))
    assert result.samples.time_s.tolist() == [0.0, 5.0, 86395.0]
    assert run.filtered == len(ts) - 3


def test_stop_from_another_thread_ends_an_endless_run_and_flushes(tmp_path):
    journal = []
    out = JournalOutput(journal)
    engine = Engine(ListSource([], journal, endless=True), [DetectorRun(0, BorderCheck(UL=1, LL=0), outputs=[out])],
                    DeadLetterFile(tmp_path / "dl.jsonl"), batch_size=1000)
    worker = threading.Thread(target=engine.run)
    worker.start()
    while engine.stats.samples < 50_000:
        threading.Event().wait(0.001)
    engine.stop()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert engine.stats.stopped_early
    assert out.flushed == engine.stats.samples


class KeyedSource(ListSource):
    """Serves two interleaved message keys of one topic in each poll."""

    def poll(self, max_items, timeout_s=0.1):
        self.finished = True
        a = batch_of([1.0, 1.0, 1.0, 9.0])
        b = batch_of([9.0, 9.0, 9.0, 9.0])
        a = type(a)(a.timestamp, a.time_s, a.values, a.position, key="a", stream="t")
        b = type(b)(b.timestamp, b.time_s, b.values, b.position, key="b", stream="t")
        other = type(b)(b.timestamp, b.time_s, b.values, b.position, key="", stream="u")
        return Poll(a, others=[b, other])


def test_detector_state_is_kept_per_stream_key_and_topics_route_to_their_detectors(tmp_path):
    from pipeline.detectors.welford import Welford
    out_t, out_u = MemoryOutput(), MemoryOutput()
    runs = [DetectorRun(0, Welford(X=2, N=3), outputs=[out_t], topic="t"),
            DetectorRun(1, Welford(X=2, N=3), outputs=[out_u], topic="u")]
    Engine(KeyedSource([], []), runs, DeadLetterFile(tmp_path / "dl.jsonl")).run()
    # key "a" jumps from a constant 1 to 9: an error; key "b" stays at 9: OK. Shared state would
    # have mixed them.
    assert [b.status_code.tolist() for b in out_t.batches] == [[2, 2, 2, -1], [2, 2, 2, 1]]
    assert set(runs[0].states) == {("t", "a"), ("t", "b")}
    assert [b.samples.stream for b in out_u.batches] == ["u"]


class FailingDetector(BorderCheck):
    """Fails on its second batch, like a detector bug would."""

    def __init__(self, UL=1.0, LL=0.0):
        super().__init__(UL=UL, LL=LL)
        self.calls = 0

    def update(self, samples):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("detector bug")
        return super().update(samples)


def test_a_failing_batch_is_not_committed_but_earlier_results_are_flushed(tmp_path):
    journal = []
    out = JournalOutput(journal)
    engine = Engine(ListSource(np.zeros(300), journal), [DetectorRun(0, FailingDetector(), outputs=[out])],
                    DeadLetterFile(tmp_path / "dl.jsonl"), batch_size=100, flush_interval_s=3600)
    with pytest.raises(RuntimeError, match="detector bug"):
        engine.run()
    assert out.flushed == 100
    assert not [e for e in journal if e[0] == "commit"]
