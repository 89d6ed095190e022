"""Pause for live sources (Kafka, file then Kafka) without giving up the consumer group.

A live stream cannot be replayed slower, only held. ``LiveSource`` passes polls through until
``pause()`` and then returns nothing until ``resume()``. Not reading at all would cost the
partitions: a Kafka consumer that is not polled for ``max.poll.interval.ms`` (5 minutes, Kafka's
and kafka-python's default) is dropped from its group, and the group moves its partitions to other
instances (a rebalance). So while paused, ``LiveSource`` still polls the source for a single
message every ``keepalive_s`` (10 s: a rebalance started by another instance waits no longer than
that for this one) and holds what it gets; on resume the held messages come first, in order.

While anything is held, commits are not forwarded: a commit would cover the held messages, which
have no results yet. Everything processed before the pause was committed by then (the engine
commits every second and the first keep-alive poll comes ``keepalive_s`` after the pause), so
stopping while paused only re-reads the held messages next time (at-least-once).

At most ``max_held`` messages are held (1000: about 2.8 hours of pause on a busy topic). After that
the keep-alive polls stop, the group moves the partitions five minutes later, and on resume the run
rejoins and goes on from the last commit, as after any rebalance.

The wrapped source's ``state()`` passes through ("reading", "disconnected", "finished"), and so
does ``flush_before_revoke`` (the engine's flush, which a Kafka source calls before the group
moves its partitions, and then commits them): while messages are held the flush is refused, so the
revoked partitions are not committed past messages without results, and their next owner re-reads
from the last commit (duplicates, never a gap).
``pause()``/``resume()`` may be called from any thread; the clock is injectable for tests.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable

from pipeline.consumers.base import Poll, Source
from pipeline.records import SampleBatch

log = logging.getLogger(__name__)

KEEPALIVE_S = 10.0
MAX_HELD = 1000
#: The longest a single poll blocks while paused (a resume or a stop is noticed within it).
MAX_WAIT_S = 0.1


class LiveSource(Source):
    """Passes a live ``source`` through, with pause, resume and keep-alive polls (see the module doc).

    Parameters
    ----------
    source : Source
        A ``KafkaSource`` or ``FileKafkaSource``; opened, committed and closed through this object.
    keepalive_s : float
        Seconds between the single-message polls made while paused.
    max_held : int
        Most messages held while paused; then the keep-alive polls stop.
    clock : callable
        Monotonic seconds.
    """

    def __init__(self, source: Source, keepalive_s: float = KEEPALIVE_S, max_held: int = MAX_HELD,
                 clock: Callable[[], float] = time.monotonic):
        self.source = source
        self.keepalive_s = keepalive_s
        self.max_held = max_held
        self._clock = clock
        self._paused = False
        self._wake = threading.Event()
        self._held: deque[Poll] = deque()
        self._held_count = 0
        self._next_keepalive = float("inf")
        self.keepalive_polls = 0
        self.held_full = False

    # -- control (any thread) --------------------------------------------------------------------
    def pause(self) -> None:
        self._next_keepalive = self._clock() + self.keepalive_s
        self.held_full = False
        self._paused = True
        self._wake.set()

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def held(self) -> int:
        """Messages (samples and rejected records) read while paused and not yet handed on."""
        return self._held_count

    # -- the Source contract ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.source.finished and not self._held

    def open(self) -> None:
        self.source.open()

    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        if self._paused:
            budget = min(timeout_s, MAX_WAIT_S)
            self._wake.clear()
            if not self._keep_alive(budget):
                self._wake.wait(budget)
            return Poll(SampleBatch.empty(1))
        if self._held:
            got = self._held.popleft()
            self._held_count -= len(got) + len(got.rejected)
            return got
        return self.source.poll(max_items, timeout_s)

    def _keep_alive(self, budget: float) -> bool:
        """Poll one message if one is due; True if the source was polled."""
        if self._clock() < self._next_keepalive:
            return False
        self._next_keepalive = self._clock() + self.keepalive_s
        if self._held_count >= self.max_held:
            if not self.held_full:
                self.held_full = True
                log.warning("paused with %d messages held: no more keep-alive polls; the consumer "
                            "group will move this run's partitions, and the run rejoins on resume",
                            self._held_count)
            return False
        got = self.source.poll(1, budget)
        self.keepalive_polls += 1
        if len(got) or got.rejected:
            self._held.append(got)
            self._held_count += len(got) + len(got.rejected)
        return True

    def commit(self) -> None:
        if not self._held:
            self.source.commit()

    @property
    def flush_before_revoke(self):
        return self.source.flush_before_revoke  # AttributeError: the source has no such hook

    @flush_before_revoke.setter
    def flush_before_revoke(self, hook) -> None:
        if hook is None:
            self.source.flush_before_revoke = None
            return

        def flush_unless_holding() -> None:
            if self._held:
                raise RuntimeError(f"{self._held_count} messages read while paused have no results yet")
            hook()
        self.source.flush_before_revoke = flush_unless_holding

    def state(self) -> str:
        return self.source.state()

    def progress(self) -> tuple[float, float | None]:
        return self.source.progress()

    def close(self) -> None:
        self.source.close()
