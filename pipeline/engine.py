"""The batch loop: source -> detectors -> outputs -> listeners, with a stop flag.

Each turn polls up to ``batch_size`` samples, runs every detector over the whole batch (after its
time-of-day filters), hands each detector's ``ResultBatch`` to that detector's outputs and then the
whole turn to the listeners. Rejected input records go to the dead-letter sink and are counted.
Outputs are flushed at least every ``flush_interval_s`` and at the end; the source's position is
committed only after a flush, so that whatever was committed has durable results
(at-least-once). The stop flag is checked between batches and while the source is idle; stopping
flushes and commits what was processed.

The engine never imports Qt: the GUI is one more listener.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from pipeline.consumers.base import Source
from pipeline.dead_letter import DeadLetterSink
from pipeline.detector_run import DetectorRun  # noqa: F401 (re-exported for listeners and tests)
from pipeline.records import RejectedRecord, ResultBatch, SampleBatch

log = logging.getLogger(__name__)

LOGGED_REJECTIONS = 20


class Listener(Protocol):
    """Receives every processed batch (on the engine's thread; copy what you keep)."""

    def on_results(self, samples: SampleBatch, results: Sequence[ResultBatch]) -> None: ...

    def on_rejected(self, rejected: Sequence[RejectedRecord]) -> None: ...


@dataclass
class RunStats:
    samples: int = 0
    rejected: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    stopped_early: bool = False

    @property
    def wall_s(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        return self.samples / self.wall_s if self.wall_s > 0 else 0.0


class Engine:
    """Runs one source through detectors to outputs until the source ends or ``stop()``.

    Parameters
    ----------
    source : Source
        Already open; the caller opens and closes it.
    detectors : list of DetectorRun
    dead_letter : DeadLetterSink
        Where rejected input records go.
    listeners : sequence of Listener
    batch_size : int
        Maximum samples per turn.
    flush_interval_s : float
        Longest time results may sit unflushed in outputs.
    """

    def __init__(self, source: Source, detectors: list[DetectorRun], dead_letter: DeadLetterSink,
                 listeners: Sequence[Listener] = (), batch_size: int = 65536,
                 flush_interval_s: float = 1.0, poll_timeout_s: float = 0.1):
        self.source = source
        self.detectors = detectors
        self.dead_letter = dead_letter
        self.listeners = list(listeners)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.poll_timeout_s = poll_timeout_s
        self.stats = RunStats()
        self._stop = threading.Event()
        if hasattr(source, "flush_before_revoke"):
            # A Kafka source commits what was processed before its partitions move to another
            # instance; kafka-python calls this inside poll(), on the engine's own thread.
            source.flush_before_revoke = self.flush_outputs

    # -- control (thread-safe: signal handlers and the GUI call it; pausing is the source's job) --------
    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> RunStats:
        """Process until the source is finished or stop() is called; flushes and commits what was
        processed. When an exception ends the run, outputs are flushed but nothing is committed."""
        last_flush = time.monotonic()
        completed = False
        try:
            while not self._stop.is_set():
                if time.monotonic() - last_flush >= self.flush_interval_s:
                    self.flush_and_commit()
                    last_flush = time.monotonic()
                if self.source.finished:
                    break
                self.step()
            self.stats.stopped_early = self._stop.is_set() and not self.source.finished
            completed = True
        finally:
            self.stats.ended = time.monotonic()
            if completed:
                self.flush_and_commit()
            else:
                # keep every result written so far, but commit nothing: the batch that failed
                # was polled and not processed, so a later run must read it again
                self.flush_outputs()
        return self.stats

    def step(self) -> int:
        """One turn: poll, detect, write, notify. Returns the number of samples processed."""
        poll = self.source.poll(self.batch_size, self.poll_timeout_s)
        if poll.rejected:
            self._reject(poll.rejected)
        processed = 0
        try:
            for samples in poll.batches:
                if len(samples) == 0:
                    continue
                # Every detector judges and counts the samples before any output sees them, and
                # every output gets them even when one fails: the summary's counts then equal what
                # each working output holds, and only the failed output (named by the error) has less.
                runs = [run for run in self.detectors if run.accepts(samples.stream)]
                results = [run.judge(samples) for run in runs]
                processed += len(samples)
                self.stats.samples += len(samples)
                failure = None
                for run, result in zip(runs, results):
                    try:
                        run.write(result)
                    except Exception as err:
                        failure = failure or err
                for listener in self.listeners:
                    listener.on_results(samples, results)
                if failure is not None:
                    raise failure
        finally:
            if processed:
                self.stats.batches += 1
        return processed

    def _reject(self, rejected: list[RejectedRecord]) -> None:
        before = self.stats.rejected
        self.stats.rejected += len(rejected)
        for record in rejected[:max(0, LOGGED_REJECTIONS - before)]:
            log.warning("rejected %s", record.describe())
        if before < LOGGED_REJECTIONS <= self.stats.rejected:
            log.warning("further rejected records are only written to %s", self.dead_letter.describe())
        self.dead_letter.write(rejected)
        for listener in self.listeners:
            on_rejected = getattr(listener, "on_rejected", None)
            if on_rejected is not None:
                on_rejected(rejected)

    def flush_outputs(self) -> None:
        """Flush every output and the dead letters; one that fails does not keep the others from
        flushing (the first error is raised once all were tried)."""
        first_error = None
        for flush in [output.flush for run in self.detectors for output in run.outputs] + [self.dead_letter.flush]:
            try:
                flush()
            except Exception as err:
                first_error = first_error or err
        if first_error is not None:
            raise first_error

    def flush_and_commit(self) -> None:
        """Flush every output and the dead letters, then commit the source's position."""
        self.flush_outputs()
        self.source.commit()
