"""KafkaSource: the config's topics through a consumer group, committed only after the results of
what was read are written.

Reading
    One kafka-python consumer subscribes to the configured topics with the config's ``group_id``;
    instances that share the group split the partitions (scale-out). A poll returns one
    ``SampleBatch`` per (topic, message key), in offset order within each, so that detector state
    is kept per stream key. Values are JSON ``{"timestamp": ..., "ftr_vector": [...]}``, checked by
    ``messages.messages_to_batch``; a message that is not JSON or fails the checks becomes a
    ``KafkaRejectedRecord`` (value, key, topic, partition and offset kept) for the dead letters.

Committing (at-least-once)
    The consumer never commits by itself (``enable_auto_commit`` is always off in the client,
    whatever the config says: an automatic commit may mark messages done whose results are still
    in an output buffer, and a crash would lose them). ``commit()`` commits the offsets after
    everything returned by ``poll`` so far; the engine calls it only after every output and the
    dead letters have flushed. After a crash the next run re-reads what came after the last commit.

Partitions taken away by a rebalance
    When ``flush_before_revoke`` is set (a callable that flushes the outputs and dead letters), the
    offsets of revoked partitions are committed before the group moves them, and the next owner
    starts exactly after what this instance wrote. Without it those offsets are dropped, and the
    next owner re-reads the messages since the last commit (duplicates, never a gap).

Broker away
    ``open()`` returns at once; a background thread connects and keeps retrying with backoff,
    logging why. ``state()`` is "disconnected" until a broker answers and whenever the consumer
    has no broker connection later on; kafka-python reconnects by itself, and the run goes on
    from its position when the broker is back.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Callable, Mapping, Sequence

import orjson

from pipeline.consumers.base import Poll, Source, SourceError
from pipeline.consumers.messages import messages_to_batch
from pipeline.kafka.client_settings import kafka_python_consumer
from pipeline.kafka.clients import cyclic_gc_paused, import_kafka
from pipeline.kafka.errors import MAX_RETRY_S, Backoff, KafkaFailure, classify, explain
from pipeline.kafka.options import KafkaConfig
from pipeline.records import RejectedRecord, SampleBatch

log = logging.getLogger(__name__)

COMMIT_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class KafkaRejectedRecord(RejectedRecord):
    """A rejected Kafka message, with what a dead-letter topic needs to keep it unchanged."""

    topic: str = ""
    partition: int = -1
    offset: int = -1
    key: bytes | None = None
    value: bytes | None = None


def location(topic: str, partition: int, offset: int) -> str:
    return f"{topic}/partition {partition} offset {offset}"


def key_text(key: bytes | None) -> str:
    """The stream key of a message key (readable even when the key is not UTF-8)."""
    return "" if key is None else key.decode("utf-8", errors="backslashreplace")


class _Locations(Sequence[str]):
    """Locations of a group of records, built only for the ones that are rejected."""

    def __init__(self, records):
        self.records = records

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        r = self.records[i]
        return location(r.topic, r.partition, r.offset)


class _Raws(Sequence[Any]):
    def __init__(self, records):
        self.records = records

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        return self.records[i].value


class _NotJson:
    """Stands for a value that is not JSON; ``messages_to_batch`` rejects it as not an object."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


_value = attrgetter("value")
_key = attrgetter("key")
_offset = attrgetter("offset")


def decode_values(records) -> list[Any]:
    """JSON values of the records; undecodable ones become ``_NotJson``."""
    loads = orjson.loads
    try:
        return list(map(loads, map(_value, records)))
    except (orjson.JSONDecodeError, TypeError):
        pass
    values = []
    for r in records:
        if r.value is None:
            values.append(_NotJson("empty message (no value)"))
            continue
        try:
            values.append(loads(r.value))
        except orjson.JSONDecodeError as err:
            values.append(_NotJson(f"not valid JSON: {err}"))
    return values


class KafkaSource(Source):
    """The configured topics, read by a consumer group, committed after outputs flush.

    Parameters
    ----------
    kafka : KafkaConfig
        Servers, security, offsets reset, session timeout.
    widths : mapping of topic -> int
        The ``input_vector_size`` of the detectors reading each topic.
    group_id : str
        The consumer group (``KafkaConfig.group_for``).
    connect_timeout_s : float
        How long one connection attempt may take before it is retried.
    """

    def __init__(self, kafka: KafkaConfig, widths: Mapping[str, int], group_id: str,
                 connect_timeout_s: float = 10.0):
        self.kafka = kafka
        self.widths = dict(widths)
        self.topics = list(self.widths)
        self.group_id = group_id
        self.connect_timeout_s = connect_timeout_s
        self.flush_before_revoke: Callable[[], None] | None = None
        self.finished = False
        self.consumed = 0
        self._consumer = None
        self._fatal: KafkaFailure | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: dict[Any, int] = {}  # TopicPartition -> next offset to commit
        self._assigned: set = set()
        self._commit_retry_at = 0.0
        self._commit_backoff = Backoff()
        self._connected = False
        self._checked_at = 0.0
        self._kafka = None

    # -- connecting -----------------------------------------------------------------------------
    def open(self) -> None:
        self._kafka = import_kafka()
        self._thread = threading.Thread(target=self._connect, name="kafka-connect", daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        servers = self.kafka.servers
        backoff = Backoff()
        settings = kafka_python_consumer(self.kafka, self.group_id)
        while not self._closing.is_set():
            attempt_s = backoff.attempt_timeout_s(self.connect_timeout_s)
            try:
                consumer = self._kafka.KafkaConsumer(**settings, bootstrap_timeout_ms=int(attempt_s * 1000))
            except Exception as err:
                failure = classify(err)
                if not failure.retriable:
                    self._fatal = failure
                    self._ready.set()
                    return
                delay = backoff.failed()
                if backoff.failures == 1:
                    log.warning("%s; retrying with backoff up to every %.0f s, the run starts reading when a "
                                "broker answers", explain(failure, servers, "cannot connect"), MAX_RETRY_S)
                else:
                    log.info("Kafka: still no broker at %s after %d attempts (%s)", servers, backoff.failures,
                             failure)
                self._closing.wait(delay)
                continue
            consumer.subscribe(self.topics, listener=self._listener())
            with self._lock:
                if self._closing.is_set():
                    consumer.close(autocommit=False)
                    return
                self._consumer = consumer
            self._connected = True
            log.info("Kafka: connected to %s; group %s reads %s", servers, self.group_id, ", ".join(self.topics))
            self._ready.set()
            return

    def _listener(self):
        source = self

        class Rebalance(self._kafka.ConsumerRebalanceListener):
            # Called on kafka-python's IO thread while the engine waits inside poll().
            def on_partitions_revoked(self, revoked):
                source._on_revoked(set(revoked), lost=False)

            def on_partitions_lost(self, lost):
                source._on_revoked(set(lost), lost=True)

            def on_partitions_assigned(self, assigned):
                source._assigned = set(assigned)
                log.info("Kafka: assigned partitions %s", describe_partitions(assigned))
                idle = sorted(set(source.topics) - {tp.topic for tp in assigned})
                if idle:
                    log.warning("Kafka: no partition of %s assigned to this instance: the topic does "
                                "not exist (yet), or other instances of group %s hold all of them",
                                ", ".join(idle), source.group_id)

        return Rebalance()

    def _on_revoked(self, revoked: set, lost: bool) -> None:
        mine = {tp: off for tp, off in self._pending.items() if tp in revoked}
        for tp in revoked:
            self._pending.pop(tp, None)
        self._assigned -= revoked
        if revoked:
            log.info("Kafka: partitions %s %s", describe_partitions(revoked),
                     "lost (the group dropped this instance)" if lost else "revoked by a rebalance")
        if not mine:
            return
        if lost or self.flush_before_revoke is None:
            log.info("Kafka: %s revoked before their latest results were committed; their next "
                     "owner re-reads the messages since the last commit", describe_partitions(mine))
            return
        try:
            self.flush_before_revoke()
        except Exception as err:
            log.error("Kafka: flushing before giving up partitions failed (%s); their next owner "
                      "re-reads the messages since the last commit", err)
            return
        offsets = {tp: self._kafka.OffsetAndMetadata(off, "", -1) for tp, off in mine.items()}
        # a blocking commit cannot run on the IO thread; the commit is sent before the group join
        # on the same coordinator connection, so the broker stores it before the partitions move
        self._consumer.commit_async(offsets)

    # -- reading --------------------------------------------------------------------------------
    def _empty(self) -> Poll:
        return Poll(SampleBatch.empty(self.widths[self.topics[0]], stream=self.topics[0]))

    def _reading(self) -> str:
        return f"cannot read {', '.join(self.topics)} (group {self.group_id})"

    def poll(self, max_items: int, timeout_s: float = 0.1) -> Poll:
        if self._fatal is not None:
            raise SourceError(explain(self._fatal, self.kafka.servers, self._reading()))
        consumer = self._consumer
        if consumer is None:
            self._ready.wait(timeout_s)
            return self._empty()
        try:
            polled = consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_items)
        except Exception as err:
            failure = classify(err)
            if not failure.retriable:
                raise SourceError(explain(failure, self.kafka.servers, self._reading())) from err
            log.warning("%s; retrying", explain(failure, self.kafka.servers, "reading"))
            return self._empty()
        self._watch_connection()
        if not polled:
            return self._empty()
        with cyclic_gc_paused():
            return self._convert(polled)

    def _convert(self, polled: dict) -> Poll:
        groups: dict[tuple[str, bytes | None], list] = {}
        for tp, records in polled.items():
            if not records:
                continue
            self._pending[tp] = records[-1].offset + 1
            self.consumed += len(records)
            if not any(map(_key, records)):  # no key (None or empty) on any record
                groups.setdefault((tp.topic, None), []).extend(records)
            else:
                for r in records:
                    groups.setdefault((tp.topic, r.key or None), []).append(r)
        batches: list[SampleBatch] = []
        rejected: list[RejectedRecord] = []
        for (topic, key), records in groups.items():
            values = decode_values(records)
            batch, bad = messages_to_batch(
                values, list(map(_offset, records)), _Locations(records), self.widths[topic],
                key=key_text(key), raws=_Raws(records), stream=topic)
            if bad:
                rejected.extend(self._rejections(records, values, bad))
            batches.append(batch)
        if not batches:
            return self._empty()
        return Poll(batches[0], rejected, batches[1:])

    @staticmethod
    def _rejections(records, values, bad: list[RejectedRecord]) -> list[KafkaRejectedRecord]:
        by_location = {location(r.topic, r.partition, r.offset): (r, v) for r, v in zip(records, values)}
        out = []
        for rec in bad:
            r, value = by_location[rec.location]
            reason = value.reason if isinstance(value, _NotJson) else rec.reason
            out.append(KafkaRejectedRecord(
                location=rec.location, position=rec.position, reason=reason, raw=rec.raw,
                topic=r.topic, partition=r.partition, offset=r.offset, key=r.key, value=r.value))
        return out

    # -- committing -----------------------------------------------------------------------------
    def commit(self, timeout_ms: int = COMMIT_TIMEOUT_MS) -> None:
        consumer = self._consumer
        if consumer is None or not self._pending or time.monotonic() < self._commit_retry_at:
            return
        OffsetAndMetadata = self._kafka.OffsetAndMetadata
        offsets = {tp: OffsetAndMetadata(off, "", -1) for tp, off in self._pending.items()}
        try:
            consumer.commit(offsets, timeout_ms=timeout_ms)
        except self._kafka.errors.CommitFailedError as err:
            # the group moved partitions meanwhile: keep only what is still ours
            assigned = consumer.assignment() or set()
            self._pending = {tp: off for tp, off in self._pending.items() if tp in assigned}
            log.warning("Kafka: commit refused after a rebalance (%s); the next owner of the moved "
                        "partitions re-reads their messages since the last commit", err)
            return
        except Exception as err:
            failure = classify(err)
            doing = f"cannot commit the offsets of group {self.group_id}"
            if not failure.retriable:
                raise SourceError(explain(failure, self.kafka.servers, doing)) from err
            self._commit_retry_at = time.monotonic() + self._commit_backoff.failed()
            if self._commit_backoff.failures == 1:
                log.warning("%s; will retry, nothing is lost meanwhile", explain(failure, self.kafka.servers, doing))
            return
        if self._commit_backoff.failures:
            log.info("Kafka: offsets committed again")
        self._commit_backoff.succeeded()
        for tp, off in offsets.items():
            if self._pending.get(tp) == off.offset:
                del self._pending[tp]

    # -- state ----------------------------------------------------------------------------------
    def _broker_connected(self) -> bool:
        consumer = self._consumer
        if consumer is None:
            return False
        try:
            client = consumer._client  # kafka-python has no public "connected" query
            return any(client.connected(b.node_id) for b in client.cluster.brokers())
        except Exception:
            return True

    def _watch_connection(self) -> None:
        """Log when the brokers go away and when they are back (checked about once a second)."""
        now = time.monotonic()
        if now - self._checked_at < 1.0:
            return
        self._checked_at = now
        connected = self._broker_connected()
        if connected != self._connected:
            self._connected = connected
            if connected:
                log.warning("Kafka: connected again to %s; reading on", self.kafka.servers)
            else:
                log.warning("Kafka: lost the connection to %s; reconnecting with backoff, the run "
                            "goes on from where it was when a broker is back", self.kafka.servers)

    def state(self) -> str:
        if self.finished:
            return "finished"
        return "reading" if self._broker_connected() else "disconnected"

    def progress(self) -> tuple[float, float | None]:
        return 0.0, None  # a stream has no end; ``consumed`` counts messages

    def assignment(self) -> set:
        return set(self._assigned)

    def close(self) -> None:
        self.flush_before_revoke = None  # the outputs are closed by now
        with self._lock:
            self._closing.set()
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close(autocommit=False, timeout_ms=COMMIT_TIMEOUT_MS)
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None


def describe_partitions(partitions) -> str:
    """``in[0, 1], other[2]`` for a set of TopicPartitions."""
    by_topic: dict[str, list[int]] = {}
    for tp in partitions:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return ", ".join(f"{t}{sorted(p)}" for t, p in sorted(by_topic.items())) or "none"
