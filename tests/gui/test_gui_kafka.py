"""Kafka runs in the window: against a real broker (tansu, see tests/kafka/broker.py) the window
shows what a headless run finds, says "disconnected" while the broker is away and reads on when it
is back, and commits on close; without a broker: a panel per message key up to a limit, the
source choice, and pause with keep-alive polls."""
from __future__ import annotations

import json
import math
import threading

import numpy as np
import pytest

from gui.anomaly_table import STREAM
from gui.plots import VALUE
from pipeline.config import load_config
from pipeline.consumers.base import Poll, Source
from pipeline.live.live_source import LiveSource
from pipeline.live.run_state import RunState
from pipeline.live.ticking import TickingSource
from pipeline.records import SampleBatch, Status
from pipeline.run import RunSetup
from tests.gui.conftest import AnomalyCollector
from tests.kafka.conftest import broker, brokers, indexed, kafka_config  # noqa: F401 (fixtures)

pytestmark = pytest.mark.filterwarnings(  # kafka-python 3.0's schema loading; not our code
    "ignore:.*is deprecated. Use files\\(\\) instead:DeprecationWarning")

WAIT_MS = 30_000


def output(name: str) -> dict:
    return {"output": ["FileOutput()"], "output_conf": [{"file_name": name}]}


DETECTORS = [
    ("BorderCheck()", {"input_vector_size": 1, "UL": 1.5, "LL": -1.5, "warning_stages": [0.7],
                       **output("bc.jsonl")}),
    ("EMA()", {"input_vector_size": 1, "N": 5, "UL": 1.5, "LL": -1.5, "warning_stages": [0.8],
               **output("ema.jsonl")}),
]
#: Passes everything: one result per message in out.jsonl.
PASS_ALL = ("BorderCheck()", {"input_vector_size": 1, "UL": 1e9, "LL": -1, "warning_stages": [],
                              **output("out.jsonl")})


def series(n: int, start_s: float, phase: float) -> list[dict]:
    """A sine with spikes, one message a second."""
    return [{"timestamp": start_s + i,
             "ftr_vector": [round(math.sin(i / 15 + phase) + (3.0 if i % 97 == 13 else 0.0)
                                  - (2.5 if i % 131 == 7 else 0.0), 6)]} for i in range(n)]


def config_for(tmp_path, broker, name: str, topics, detectors, **keys):
    # dead letters to a file: the dead-letter producer has nothing to do with what is tested here
    return kafka_config(tmp_path / f"{name}.json", broker, topics, detectors, dead_letter="file", **keys)


def panel_values(panel) -> list[int]:
    return [int(v) for v in panel.ring.view()[VALUE]]


class HeadlessRun:
    """The engine alone on a Kafka config, in a thread, as ``main.py -c CONFIG`` runs it."""

    def __init__(self, config_path, log_dir):
        self.setup = RunSetup(load_config(config_path), log_dir, mode="kafka")
        self.collector = AnomalyCollector()
        self.setup.open()
        self.engine = self.setup.engine(listeners=[self.collector])
        self.thread = threading.Thread(target=self.engine.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.engine.stop()
            self.thread.join(30)
            self.setup.close()


@pytest.fixture
def headless_kafka(tmp_path):
    runs = []

    def start(config_path) -> HeadlessRun:
        runs.append(HeadlessRun(config_path, tmp_path / f"headless{len(runs)}"))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


def test_kafka_run_shows_the_anomalies_of_a_headless_run_with_a_panel_per_message_key(
        qtbot, broker, make_window, headless_kafka, table_rows, tmp_path):
    n = 300
    by_key = {"a": series(n, 1_600_000_000, 0.0), "b": series(n, 1_600_000_000, 1.0)}
    broker.create_topic("sensors", partitions=2)
    interleaved = [m for pair in zip(by_key["a"], by_key["b"]) for m in pair]
    broker.produce("sensors", interleaved, keys=["a", "b"] * n)
    window = make_window()
    assert window.load_config(config_for(tmp_path, broker, "window", ["sensors"], DETECTORS))
    assert window.available_modes() == ["kafka"] and window.mode == "kafka"
    assert not window.commands.speed_combo.isEnabled()  # live data has no replay speed
    headless = headless_kafka(config_for(tmp_path, broker, "headless", ["sensors"], DETECTORS))
    assert window.start()

    qtbot.waitUntil(lambda: window.samples == headless.engine.stats.samples == 2 * n, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(table_rows(window)) == len(headless.collector.rows), timeout=5000)
    assert table_rows(window) == sorted(headless.collector.rows)
    assert any(status.startswith("Error") for _, _, status, _ in table_rows(window))
    assert window.state == RunState.READING
    for run, tally in zip(headless.setup.runs, window.totals.tallies):
        assert tally.counts == {int(k): v for k, v in run.status_counts.items()}
        assert tally.samples == 2 * n and tally.streams == 2
    # one panel per detector and message key, in key order, each fed only its key's messages
    assert [(p.index, p.stream.label) for p in window.panels] == [
        (0, "sensors · a"), (0, "sensors · b"), (1, "sensors · a"), (1, "sensors · b")]
    window.render_now()
    for panel in window.panels:
        key = panel.stream.key
        assert panel.samples == n
        assert panel.ring.view()[VALUE].tolist() == [m["ftr_vector"][0] for m in by_key[key]]
    assert not window.table.isColumnHidden(STREAM)
    streams = {window.model.stream_label(r) for r in range(window.model.rowCount())}
    assert streams == {"sensors · a", "sensors · b"}
    with qtbot.waitSignal(window.run_finished, timeout=10_000) as finished:
        window.stop()
    assert finished.args == [RunState.STOPPED]


def test_source_state_is_disconnected_while_the_broker_is_down_and_the_run_reads_on_when_it_is_back(
        qtbot, brokers, make_window, tmp_path):
    broker = brokers().start()
    broker.create_topic("flaky", partitions=2)
    broker.produce("flaky", indexed(0, 50), partition=0)
    window = make_window()
    assert window.load_config(config_for(tmp_path, broker, "flaky", ["flaky"], [PASS_ALL]))
    assert window.start()
    qtbot.waitUntil(lambda: window.samples == 50 and window.state == RunState.READING, timeout=WAIT_MS)

    broker.stop()
    qtbot.waitUntil(lambda: window.state == RunState.DISCONNECTED, timeout=10_000)
    assert "disconnected" in window.status.state_label.text()
    assert window.running

    broker.start()
    # tansu's storage is memory only: the topic is gone, and data after the restart goes to a
    # partition that had none (see tests/kafka/broker.py)
    assert len(broker.ensure_topic("flaky", partitions=2)) >= 2
    broker.produce("flaky", indexed(50, 50), partition=1)
    qtbot.waitUntil(lambda: window.samples == 100, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.state == RunState.READING, timeout=5000)
    window.render_now()
    assert sorted(panel_values(window.panels[0])) == list(range(100))


def test_closing_the_window_during_a_kafka_run_commits_so_the_next_run_reads_only_new_messages(
        qtbot, broker, make_window, tmp_path):
    broker.create_topic("once", partitions=1)
    broker.produce("once", indexed(0, 40))
    config = config_for(tmp_path, broker, "once", ["once"], [PASS_ALL])
    first = make_window(log_dir=tmp_path / "first")
    assert first.load_config(config)
    assert first.start()
    qtbot.waitUntil(lambda: first.samples == 40, timeout=WAIT_MS)

    assert not first.close()  # the window waits for the run to flush and commit...
    qtbot.waitUntil(lambda: not first.isVisible(), timeout=5000)  # ...which is prompt
    assert first.runs.outcome == RunState.STOPPED
    assert len((tmp_path / "first" / "out.jsonl").read_text().splitlines()) == 40
    assert broker.committed("g-once", "once") == {0: 40}

    broker.produce("once", indexed(40, 10))
    second = make_window(log_dir=tmp_path / "second")
    assert second.load_config(config)
    assert second.start()
    # the old messages precede the new ones in the partition: read again, they would come first
    qtbot.waitUntil(lambda: second.samples >= 10, timeout=WAIT_MS)
    second.render_now()
    assert second.samples == 10
    assert panel_values(second.panels[0]) == list(range(40, 50))


# -- without a broker -------------------------------------------------------------------------------

class KeyedSource(Source):
    """One poll of ``per_key`` samples for each of ``keys`` (as a Kafka poll spans message keys);
    every fifth sample is an error for BorderCheck(UL=1)."""

    def __init__(self, keys, per_key: int):
        self.keys, self.per_key = keys, per_key

    def poll(self, max_items, timeout_s=0.1):
        self.finished = True
        batches = []
        for k, key in enumerate(self.keys):
            t = 1_600_000_000 + np.arange(self.per_key, dtype=float)
            v = np.where(np.arange(self.per_key) % 5 == 0, 9.0, 0.5) + k / 100
            batches.append(SampleBatch(t, t, v[:, None], np.arange(self.per_key), key=key))
        return Poll(batches[0], [], batches[1:])


def test_each_message_key_gets_a_panel_up_to_the_limit_and_the_others_are_still_counted(
        qtbot, tmp_path, make_window):
    config = tmp_path / "keys.json"
    config.write_text(json.dumps({"file_name": "resources/data/ads-1.csv",
                                  "anomaly_detection_alg": ["BorderCheck()"],
                                  "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0}]}))
    keys = [f"m{i}" for i in range(6)]
    window = make_window(max_panels=3)
    assert window.load_config(config)
    with qtbot.waitSignal(window.run_finished, timeout=10_000):
        assert window.start(source=KeyedSource(keys, per_key=100))
    assert [p.stream.key for p in window.panels] == keys[:3]
    assert all(p.samples == 100 and p.counts[Status.ERROR] == 20 for p in window.panels)
    tally = window.totals.tallies[0]
    assert tally.samples == 600 and tally.counts[Status.ERROR] == 120 and tally.streams == 6
    assert window.model.total == 120  # the table lists the unplotted streams' anomalies too
    assert {window.model.stream_label(r) for r in range(window.model.rowCount())} == set(keys)
    assert window.panel_area.overflow_note.isVisibleTo(window)
    assert "6 streams" in window.panel_area.overflow_note.text() and "other 3" in window.panel_area.overflow_note.text()
    window._refresh_status()
    assert "600 in 6 streams" in window.status.counter_label.text()
    # a new run starts again with one panel per detector
    with qtbot.waitSignal(window.run_finished, timeout=10_000):
        assert window.start(source=KeyedSource(keys[:1], per_key=10))
    assert len(window.panels) == 1 and window.panels[0].samples == 10
    assert not window.panel_area.overflow_note.isVisibleTo(window)


def test_the_source_box_offers_what_the_config_has_and_kafka_turns_the_replay_speed_off(
        make_window, tmp_path):
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"file_name": "resources/data/ads-1.csv", "topics": ["sensors"],
                                "anomaly_detection_alg": ["BorderCheck()"],
                                "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0}]}))
    window = make_window()
    assert window.load_config(both)
    assert window.available_modes() == ["file", "kafka", "filekafka"] and window.mode == "file"
    assert window.commands.mode_combo.isEnabled() and window.commands.speed_combo.isEnabled()
    for mode in ("kafka", "filekafka"):
        assert window.set_mode(mode)
        assert window.commands.mode_combo.currentData() == mode and not window.commands.speed_combo.isEnabled()
        assert "Kafka sensors @ localhost:9092" in window.commands.run_label.text()
        assert "topic sensors" in window.panels[0].title.text()  # what the panel waits for
    assert window.set_mode("file") and window.commands.speed_combo.isEnabled()
    assert window.load_config("default.json")  # no topics: only the file
    assert window.available_modes() == ["file"] and not window.commands.mode_combo.isEnabled()
    assert not window.set_mode("kafka") and window.mode == "file"
    window.explain_unavailable_mode("kafka")
    assert "has no Kafka topics" in window.message_box.text()
    window.message_box.close()


class Counting(Source):
    """Hands out numbered one-sample polls; records the commits."""

    def __init__(self):
        self.next = 0
        self.polls = []
        self.commits = 0

    def poll(self, max_items, timeout_s=0.1):
        self.polls.append(max_items)
        t = np.arange(self.next, self.next + max_items, dtype=float)
        self.next += max_items
        return Poll(SampleBatch(t, t, t[:, None], t.astype(np.int64)))

    def commit(self):
        self.commits += 1


def test_pausing_a_live_source_keeps_polling_one_message_now_and_then_and_holds_it():
    now = [0.0]
    inner = Counting()
    live = LiveSource(inner, keepalive_s=10, max_held=2, clock=lambda: now[0])
    assert len(live.poll(5)) == 5
    live.pause()
    for second in range(0, 40):  # 40 s of pause, polled as the engine does while paused
        now[0] = float(second)
        assert len(live.poll(100, 0.0)) == 0
    # a single message at 10 s and 20 s; at 30 s the limit of held messages is reached
    assert inner.polls == [5, 1, 1] and live.held == 2 and live.held_full
    live.commit()
    assert inner.commits == 0  # a commit would cover the held messages
    live.resume()
    released = [live.poll(100).samples.values[0, 0] for _ in range(2)]
    assert released == [5.0, 6.0] and live.held == 0
    live.commit()
    assert inner.commits == 1
    assert live.poll(3).samples.values[:, 0].tolist() == [7.0, 8.0, 9.0]


class Revocable(Counting):
    flush_before_revoke = None


def test_the_flush_before_a_rebalance_reaches_kafka_and_is_refused_while_messages_are_held():
    inner = Revocable()
    flushed = []
    ticking = TickingSource(LiveSource(inner, keepalive_s=0.0), after_poll=lambda: None)
    assert not hasattr(TickingSource(Counting(), after_poll=lambda: None), "flush_before_revoke")
    ticking.flush_before_revoke = lambda: flushed.append(True)
    inner.flush_before_revoke()
    assert flushed == [True]
    ticking.source.pause()
    ticking.poll(10, 0.0)  # a keep-alive poll: one message held
    with pytest.raises(RuntimeError, match="1 messages read while paused"):
        inner.flush_before_revoke()  # the Kafka source then commits nothing of the revoked partitions
    assert flushed == [True]
