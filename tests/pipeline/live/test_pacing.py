"""PacedSource: replay by timestamps at a speed, with pause, without wall-clock waiting."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from pipeline.consumers.base import Poll, Source
from pipeline.live.pacing import MAX_WAIT_S, MIN_INTERVAL_S, PacedSource
from pipeline.records import RejectedRecord, SampleBatch

EPS = 1e-9


class FakeClock:
    """A monotonic clock that only moves when someone waits on it."""

    def __init__(self):
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class ListSource(Source):
    """Returns the given timestamps in chunks of ``chunk``; counts commits."""

    def __init__(self, times, chunk: int = 1000, rejected_at: dict[int, int] | None = None):
        self.times = np.asarray(times, dtype=np.float64)
        self.chunk = chunk
        self.next = 0
        self.commits = 0
        self.commit_points: list[int] = []
        self.rejected_at = rejected_at or {}
        self.width = 1
        self.opened = self.closed = False

    def open(self):
        self.opened = True

    def poll(self, max_items, timeout_s=0.1):
        take = min(max_items, self.chunk, len(self.times) - self.next)
        t = self.times[self.next:self.next + take]
        pos = np.arange(self.next, self.next + take)
        rejected = [RejectedRecord("list", p, "bad", "x") for p in range(self.rejected_at.get(self.next, 0))]
        self.next += take
        self.finished = self.next >= len(self.times)
        return Poll(SampleBatch(t, t, t[:, None], pos), rejected)

    def commit(self):
        self.commits += 1
        self.commit_points.append(self.next)

    def close(self):
        self.closed = True


def drain(paced: PacedSource, clock: FakeClock, max_items: int = 1000, limit: int = 100_000):
    """Poll to the end; returns (wall time of each release, released batch) pairs."""
    releases = []
    for _ in range(limit):
        if paced.finished:
            return releases
        got = paced.poll(max_items)
        if len(got.samples):
            releases.append((clock.now, got.samples))
    raise AssertionError("the source never finished")


def test_samples_are_released_when_their_scaled_time_is_due_never_earlier():
    rng = np.random.default_rng(1)
    times = 5000.0 + np.cumsum(rng.exponential(0.5, 200))
    clock = FakeClock()
    paced = PacedSource(ListSource(times, chunk=37), speed=10, clock=clock, wait=clock.wait)
    start = clock.now
    releases = drain(paced, clock)
    released = np.concatenate([b.time_s for _, b in releases])
    assert released.tolist() == times.tolist()
    for wall, batch in releases:
        due_wall = start + (batch.time_s - times[0]) / 10
        assert (due_wall <= wall + EPS).all(), "released before its time"
        assert wall - due_wall[-1] < MIN_INTERVAL_S + 1e-3, "held back longer than one interval"


def test_a_dense_stream_is_released_in_batches_at_most_every_min_interval():
    clock = FakeClock()
    paced = PacedSource(ListSource(np.arange(0, 2, 1e-5), chunk=200_000), speed=1, clock=clock,
                        wait=clock.wait)
    releases = drain(paced, clock, max_items=100_000)
    walls = np.array([w for w, _ in releases])
    assert np.diff(walls).min() >= MIN_INTERVAL_S - 1e-9
    assert len(releases) <= 2 / MIN_INTERVAL_S + 2
    assert sum(len(b) for _, b in releases) == 200_000


def test_a_full_batch_is_released_without_waiting_for_the_interval():
    clock = FakeClock()
    paced = PacedSource(ListSource(np.zeros(100)), speed=1, clock=clock, wait=clock.wait)
    sizes = [len(paced.poll(10).samples) for _ in range(10)]
    assert sizes == [10] * 10 and clock.waits == []


def test_every_poll_returns_within_the_stop_budget_even_across_a_long_gap():
    clock = FakeClock()
    paced = PacedSource(ListSource([0.0, 30.0]), speed=1, clock=clock, wait=clock.wait)
    polls = 0
    while not paced.finished:
        before = clock.now
        paced.poll(10, timeout_s=5.0)
        assert clock.now - before <= MAX_WAIT_S + EPS
        polls += 1
    assert 290 <= polls <= 310


def test_max_speed_passes_batches_through_without_waiting():
    clock = FakeClock()
    source = ListSource(np.arange(5000.0), chunk=2000)
    paced = PacedSource(source, speed=None, clock=clock, wait=clock.wait)
    sizes = [len(b) for _, b in drain(paced, clock, max_items=1500)]
    assert sizes == [1500, 1500, 1500, 500]
    assert clock.waits == []


def test_pause_stops_the_replay_and_resume_continues_without_a_burst():
    clock = FakeClock()
    paced = PacedSource(ListSource(np.arange(100.0)), speed=1, clock=clock, wait=clock.wait)
    released = 0
    while released < 10:
        released += len(paced.poll(1000).samples)
    paced.pause()
    for _ in range(600):  # a minute of paused polls
        assert len(paced.poll(1000).samples) == 0
    assert paced.virtual_time() == pytest.approx(9.0, abs=0.2)
    paced.resume()
    resumed_at = clock.now
    while released < 15:
        released += len(paced.poll(1000).samples)
    assert clock.now - resumed_at == pytest.approx(5.0, abs=1.1)


def test_speed_change_continues_from_the_current_data_time():
    clock = FakeClock()
    paced = PacedSource(ListSource(np.arange(1000.0)), speed=1, clock=clock, wait=clock.wait)
    released = 0
    while released < 11:
        released += len(paced.poll(1000).samples)
    paced.set_speed(100)
    changed_at = clock.now
    while released < 511:
        released += len(paced.poll(1000).samples)
    assert clock.now - changed_at == pytest.approx(5.0, abs=0.1)


def test_switching_from_max_speed_to_paced_restarts_pacing_at_the_next_sample():
    clock = FakeClock()
    paced = PacedSource(ListSource(np.arange(100.0), chunk=10), speed=None, clock=clock, wait=clock.wait)
    assert len(paced.poll(10).samples) == 10
    paced.set_speed(1)
    released = 0
    while released < 10:
        released += len(paced.poll(1000).samples)
    assert clock.now - 100.0 == pytest.approx(9.0, abs=0.11)


def test_rejected_records_are_passed_on_at_once():
    clock = FakeClock()
    paced = PacedSource(ListSource([0.0, 50.0], chunk=1, rejected_at={1: 3}), speed=1,
                        clock=clock, wait=clock.wait)
    assert len(paced.poll(10).samples) == 1
    got = paced.poll(10)
    assert len(got.samples) == 0 and len(got.rejected) == 3
    assert clock.now == 100.0


def test_commit_never_covers_samples_still_held_back():
    clock = FakeClock()
    source = ListSource(np.arange(10.0), chunk=10)
    paced = PacedSource(source, speed=1, clock=clock, wait=clock.wait)
    paced.poll(1000)
    paced.commit()
    assert source.commits == 0
    drain(paced, clock)
    paced.commit()
    assert source.commit_points == [10]


def test_finished_only_after_the_read_ahead_is_released_and_max_items_is_respected():
    clock = FakeClock()
    paced = PacedSource(ListSource([0.0] + [1.0] * 6), speed=1, clock=clock, wait=clock.wait)
    assert len(paced.poll(10).samples) == 1
    assert paced.source.finished and not paced.finished
    sizes = [len(b) for _, b in drain(paced, clock, max_items=4)]
    assert sizes == [4, 2]
    assert paced.finished


def test_progress_counts_only_what_was_released():
    class Sized(ListSource):
        def progress(self):
            return float(self.next * 10), float(len(self.times) * 10)

    clock = FakeClock()
    paced = PacedSource(Sized(np.arange(10.0), chunk=10), speed=1, clock=clock, wait=clock.wait)
    paced.poll(100)
    assert paced.source.progress() == (100.0, 100.0)
    assert paced.progress() == (10.0, 100.0)
    drain(paced, clock)
    assert paced.progress() == (100.0, 100.0)


class TwoStreams(Source):
    """One poll with two stream keys (as a Kafka poll over two partitions), then finished."""

    width = 1

    def poll(self, max_items, timeout_s=0.1):
        self.finished = True
        a, b = np.arange(0.0, 5.0), np.arange(0.5, 5.5)
        return Poll(SampleBatch(a, a, a[:, None], np.arange(5), key="a"),
                    others=[SampleBatch(b, b, -b[:, None], np.arange(5), key="b")])


@pytest.mark.parametrize("speed", [None, 10.0])
def test_every_stream_of_a_multi_stream_poll_is_released(speed):
    clock = FakeClock()
    paced = PacedSource(TwoStreams(), speed=speed, clock=clock, wait=clock.wait)
    released = []
    for _ in range(10_000):
        if paced.finished:
            break
        released += [(b.key, t) for b in paced.poll(100).batches for t in b.time_s.tolist()]
    assert sorted(released) == sorted([("a", float(t)) for t in range(5)] +
                                      [("b", t + 0.5) for t in range(5)])
    assert paced.progress() == (0.0, None)


def test_open_and_close_reach_the_wrapped_source():
    source = ListSource([0.0])
    with PacedSource(source, speed=1):
        assert source.opened
    assert source.closed


@pytest.mark.parametrize("speed", [0, -1.0])
def test_speed_must_be_positive(speed):
    with pytest.raises(ValueError, match="speed"):
        PacedSource(ListSource([0.0]), speed=speed)


def test_real_clock_replay_takes_about_the_scaled_duration():
    paced = PacedSource(ListSource(np.linspace(0.0, 2.0, 21)), speed=10)
    started = time.monotonic()
    count = 0
    while not paced.finished:
        count += len(paced.poll(100).samples)
    elapsed = time.monotonic() - started
    assert count == 21
    assert 0.15 <= elapsed < 5.0


def test_resume_from_another_thread_wakes_a_paused_poll():
    paced = PacedSource(ListSource([0.0, 0.0]), speed=1, max_wait_s=30.0)
    paced.pause()
    timer = threading.Timer(0.05, paced.resume)
    timer.start()
    started = time.monotonic()
    paced.poll(10, timeout_s=30.0)
    timer.join()
    assert time.monotonic() - started < 10.0
