"""Partitions taken away by a rebalance: with the engine's flush bound to the source (the engine
binds it), their offsets are committed after the results are flushed, so the next owner repeats
nothing; without it the next owner repeats the messages since the last commit, and none is
skipped."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.engine import Engine
from pipeline.run import RunSetup
from tests.kafka.broker import TEST_SESSION, wait_until
from tests.kafka.conftest import BORDER, indexed, seen


def start_instance(broker, tmp_path: Path, name: str, bind_flush: bool):
    """A run of the engine in a thread that would not commit by itself for a minute."""
    raw = {"anomaly_detection_alg": [BORDER[0]], "anomaly_detection_conf": [BORDER[1]],
           "bootstrap_servers": broker.bootstrap, "topics": ["moving"], "group_id": "g-moving",
           "auto_offset_reset": "earliest", **TEST_SESSION}
    setup = RunSetup(parse_config(raw, Path("moving.json")), tmp_path / name, mode="kafka")
    setup.open()
    collector = Collector()
    engine = Engine(setup.source, setup.runs, setup.dead_letter, listeners=[collector], flush_interval_s=60)
    if not bind_flush:
        setup.source.flush_before_revoke = None  # undo the engine's binding, to show what it prevents
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()

    def stop():
        engine.stop()
        thread.join(30)
        setup.close()
    return setup, collector, stop


class Collector:
    """Engine listener: the message indexes processed so far."""

    def __init__(self):
        self.seen: set[int] = set()

    def on_results(self, samples, results) -> None:
        self.seen.update(int(x) for x in samples.values[:, 0])


@pytest.mark.parametrize("bind_flush", [True, False], ids=["flush-bound", "no-flush-hook"])
def test_partitions_moved_by_a_rebalance_are_neither_skipped_nor_repeated_when_flushed_first(
        tmp_path, broker, bind_flush):
    broker.create_topic("moving", partitions=2)
    broker.produce("moving", indexed(0, 400))
    first, first_seen, stop_first = start_instance(broker, tmp_path, "first", bind_flush)
    stop_second = None
    try:
        wait_until(lambda: len(first_seen.seen) == 400, 30, "the first instance to read everything")
        second, second_seen, stop_second = start_instance(broker, tmp_path, "second", bind_flush)
        wait_until(lambda: first.source.assignment() and second.source.assignment(), 40,
                   "both instances to hold a partition")
        broker.produce("moving", indexed(400, 100))
        wait_until(lambda: first_seen.seen | second_seen.seen >= set(range(500)), 30, "every message")
    finally:
        stop_first()
        if stop_second:
            stop_second()
    by_first, by_second = seen(_records(tmp_path / "first")), seen(_records(tmp_path / "second"))
    assert set(by_first) | set(by_second) == set(range(500))  # nothing skipped
    repeated = set(by_first) & set(by_second)
    if bind_flush:
        assert repeated == set()
    else:
        assert repeated and repeated <= set(range(400))  # only messages read before the rebalance


def _records(log_dir: Path) -> list[dict]:
    path = log_dir / "out.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
