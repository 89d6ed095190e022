"""Replay pacing: release a recorded stream no faster than real time x speed, with pause.

``PacedSource`` wraps any ``Source`` and hands its samples on when their ``time_s`` is due on a
virtual clock that runs at ``speed`` times real time from the first sample; ``speed=None`` means
as fast as possible. The virtual clock stops while paused, so resuming continues where it paused
instead of bursting through the paused time, and a speed change continues from the current
virtual time. A recorded file can so be watched like a live stream (the window's x1/x10/x100).

Every ``poll`` returns within ``min(timeout_s, max_wait_s)`` (the engine checks its stop flag
between polls), with whatever is due, possibly nothing. Releases are at least ``min_interval_s``
apart (unless ``max_items`` are due), so a dense stream reaches the engine in batches, not sample
by sample; a sample may so arrive up to that much later than due. Samples are released in input order; a
sample whose timestamp is earlier than one already released is due at once. Rejected records are
passed on immediately. Long gaps in the data are waited out in scaled real time. A poll that
returns batches of several stream keys (Kafka) is read ahead as a queue and released batch by
batch, each no earlier than its timestamps.

Commits are forwarded only while no read-ahead is held back, so a commit never covers samples
the engine has not processed yet (it may lag by one read-ahead).

The clock and the wait are injectable so that tests need no wall-clock time.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

import numpy as np

from pipeline.consumers.base import Poll, Source
from pipeline.records import RejectedRecord, SampleBatch

#: The longest a single poll may block, whatever timeout the caller asks for.
MAX_WAIT_S = 0.1
#: Shorter waits are not worth a wake-up; the rest of the poll's budget is given up instead.
MIN_WAIT_S = 1e-4
#: Wall time between releases: 60 batches a second at most, whatever the stream's density. Two of
#: them make one 30 Hz display frame, so a listener that batches for a display gets an even pace.
MIN_INTERVAL_S = 1 / 60


class PacedSource(Source):
    """A ``Source`` that releases samples by their timestamps at ``speed`` x real time.

    Parameters
    ----------
    source : Source
        The wrapped source; opened, committed and closed through this object.
    speed : float or None
        Data seconds per wall-clock second (1 = real time); None = as fast as possible.
    clock : callable, optional
        Monotonic seconds; ``time.monotonic`` by default.
    wait : callable, optional
        ``wait(seconds)`` blocks up to that long; by default it returns early on ``pause``,
        ``resume`` and ``set_speed``.
    max_wait_s : float
        Upper bound of one poll's blocking time, in seconds.
    min_interval_s : float
        Least wall time between two releases, in seconds (paced speeds only).

    ``pause()``, ``resume()`` and ``set_speed()`` may be called from any thread.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.consumers.base import Poll, Source
    >>> from pipeline.records import SampleBatch
    >>> class Three(Source):
    ...     def poll(self, max_items, timeout_s=0.1):
    ...         self.finished = True
    ...         t = np.array([0.0, 1.0, 2.0])
    ...         return Poll(SampleBatch(t, t, t[:, None], np.arange(3)))
    >>> now = [0.0]
    >>> paced = PacedSource(Three(), speed=2.0, clock=lambda: now[0],
    ...                     wait=lambda s: now.__setitem__(0, now[0] + s))
    >>> released_at = []
    >>> while not paced.finished:
    ...     if len(paced.poll(10).samples):
    ...         released_at.append(round(now[0], 3))
    >>> released_at   # wall seconds: one data second takes half a second at speed 2
    [0.0, 0.5, 1.0]
    """

    def __init__(self, source: Source, speed: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wait: Callable[[float], None] | None = None, max_wait_s: float = MAX_WAIT_S,
                 min_interval_s: float = MIN_INTERVAL_S):
        if speed is not None and not speed > 0:
            raise ValueError(f"speed: expected a number > 0 or None, got {speed!r}")
        self.source = source
        self.max_wait_s = max_wait_s
        self.min_interval_s = min_interval_s
        self._last_release = float("-inf")
        self._clock = clock
        self._wake = threading.Event()
        self._wait = wait if wait is not None else self._wake.wait
        self._lock = threading.Lock()
        self._speed = speed
        self._paused = False
        # The virtual clock: data time ``_anchor_data`` was current at wall time ``_anchor_wall``.
        self._anchor_data: float | None = None
        self._anchor_wall = 0.0
        # Read from the source, not yet released: one batch per stream key of a poll, in order.
        self._ahead: deque[SampleBatch] = deque()
        self._read = 0  # samples read from the source
        self._width = getattr(source, "width", 1)

    # -- control (any thread) --------------------------------------------------------------------
    @property
    def speed(self) -> float | None:
        return self._speed

    def set_speed(self, speed: float | None) -> None:
        """Change the speed; the virtual clock continues from where it is now."""
        if speed is not None and not speed > 0:
            raise ValueError(f"speed: expected a number > 0 or None, got {speed!r}")
        with self._lock:
            self._rebase()
            self._speed = speed
        self._wake.set()

    def pause(self) -> None:
        """Release nothing until ``resume``; the virtual clock stops."""
        with self._lock:
            self._rebase()
            self._paused = True
        self._wake.set()

    def resume(self) -> None:
        with self._lock:
            self._anchor_wall = self._clock()
            self._paused = False
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def _rebase(self) -> None:
        """Move the anchor to the current virtual time (called with the lock held)."""
        if self._anchor_data is None or self._paused:
            return  # resume() sets the wall anchor
        if self._speed is None:
            self._anchor_data = None  # unpaced so far: pacing restarts at the next sample
            return
        now = self._clock()
        self._anchor_data += (now - self._anchor_wall) * self._speed
        self._anchor_wall = now

    def virtual_time(self) -> float | None:
        """The data time now due (None before the first sample or when unpaced)."""
        with self._lock:
            return self._virtual_time()

    def _virtual_time(self) -> float | None:
        if self._anchor_data is None or self._speed is None:
            return None
        if self._paused:
            return self._anchor_data
        return self._anchor_data + (self._clock() - self._anchor_wall) * self._speed

    # -- the Source contract ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.source.finished and not self._ahead

    def open(self) -> None:
        self.source.open()

    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        budget = min(timeout_s, self.max_wait_s)
        start = self._clock()
        self._wake.clear()
        if self._paused:
            self._wait(budget)
            return Poll(self._empty())
        if self._speed is None and not self._ahead:
            got = self.source.poll(max_items, budget)
            self._read += len(got)
            return got

        rejected: list[RejectedRecord] = []
        if not self._ahead and not self.source.finished:
            got = self.source.poll(max_items, budget)
            rejected.extend(got.rejected)
            self._ahead.extend(b for b in got.batches if len(b))
            self._read += len(got)
        if not self._ahead:
            return Poll(self._empty(), rejected)

        while True:
            head = self._ahead[0]
            with self._lock:
                if self._paused:
                    return Poll(self._empty(), rejected)
                if self._anchor_data is None:
                    self._anchor_data = float(head.time_s[0])
                    self._anchor_wall = self._clock()
                due = self._due_count(head, max_items)
                next_due_in = None if due else self._seconds_until(float(head.time_s[0]))
            left = budget - (self._clock() - start)
            hold = self._last_release + self.min_interval_s - self._clock()
            more_can_come = due < min(max_items, len(head))
            if due and not rejected and more_can_come and MIN_WAIT_S <= hold < left:
                self._wait(hold)  # let more become due, so the engine gets a batch
                self._wake.clear()
                continue
            if due or rejected:
                if due and self._speed is not None:
                    self._last_release = self._clock()
                return Poll(self._release(due), rejected)
            if left < MIN_WAIT_S:
                return Poll(self._empty())
            self._wait(min(left, max(next_due_in, MIN_WAIT_S)))
            self._wake.clear()

    def _due_count(self, head: SampleBatch, max_items: int) -> int:
        """How many leading samples of ``head`` are due (called with the lock held)."""
        ahead = head.time_s[:max_items]
        now = self._virtual_time()
        if now is None:  # unpaced: everything read is due
            return len(ahead)
        late = ahead > now
        return int(np.argmax(late)) if late.any() else len(ahead)

    def _seconds_until(self, data_time: float) -> float:
        """Wall seconds until ``data_time`` is due (called with the lock held)."""
        return max(0.0, (data_time - self._virtual_time()) / self._speed)

    def _release(self, count: int) -> SampleBatch:
        if count == 0:
            return self._empty()
        head = self._ahead[0]
        self._width = head.width
        if count == len(head):
            return self._ahead.popleft()
        self._ahead[0] = head.take(slice(count, None))
        return head.take(slice(0, count))

    def _empty(self) -> SampleBatch:
        return SampleBatch.empty(self._ahead[0].width if self._ahead else self._width)

    def commit(self) -> None:
        if not self._ahead:
            self.source.commit()

    def progress(self) -> tuple[float, float | None]:
        """The wrapped source's progress, scaled down by the share of read samples still held
        back (a file is read far ahead of a real-time replay)."""
        done, total = self.source.progress()
        if self._read:
            done *= (self._read - self._held()) / self._read
        return done, total

    def _held(self) -> int:
        return sum(len(b) for b in self._ahead)

    def close(self) -> None:
        self.source.close()
