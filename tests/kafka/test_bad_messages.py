"""Bad messages against a real broker: none is a poison pill, and dead letters kept in a file
survive any number of restarts (each run appends, tagged with its run id)."""
from __future__ import annotations

import json

from tests.kafka.broker import wait_until
from tests.kafka.conftest import BORDER, indexed, kafka_config, seen


def test_out_of_range_and_boolean_timestamps_are_dead_letters_not_poison_and_survive_restarts(
        tmp_path, broker, start_run):
    broker.create_topic("poison", partitions=1)
    out_of_range = {"timestamp": "9999-12-31T23:59:59Z", "ftr_vector": [1.0]}
    boolean = {"timestamp": True, "ftr_vector": [1.0]}
    broker.produce("poison", indexed(0, 3) + [out_of_range, boolean] + indexed(3, 3))
    # both runs write their dead letters to the same folder, as a restarted service does
    log_dir = tmp_path / "log"
    config = kafka_config(tmp_path / "poison.json", broker, ["poison"], [BORDER], dead_letter="file")

    first = start_run(config, "first", log_dir=log_dir)
    assert seen(first.wait_for_results("out.jsonl", 6)) == list(range(6))
    wait_until(lambda: broker.committed("g-poison", "poison").get(0) == 8, 20, "the commit after the bad ones")
    assert first.stop() == 143
    assert first.summary()["rejected"] == 2 and first.summary()["samples"] == 6
    letters = [json.loads(line) for line in (log_dir / "poison.dead_letter.jsonl").read_text().splitlines()]
    assert [(r["position"], r["reason"]) for r in letters] == [
        (3, 'timestamp "9999-12-31T23:59:59Z" is outside the supported time range (years 1677 to 2262)'),
        (4, "timestamp is not a number or ISO 8601 text: true")]

    # the restart resumes after the committed bad messages; its own dead letters are appended
    broker.produce("poison", ["not json {"] + indexed(6, 1))
    second = start_run(config, "second", log_dir=log_dir)
    # its output starts anew (mode "w") and holds only the new message
    wait_until(lambda: seen(second.results("out.jsonl")) == [6], 30, "the second run's one result")
    wait_until(lambda: broker.committed("g-poison", "poison").get(0) == 10, 20, "the second run's commit")
    assert second.stop() == 143
    letters = [json.loads(line) for line in (log_dir / "poison.dead_letter.jsonl").read_text().splitlines()]
    assert [r["position"] for r in letters] == [3, 4, 8]
    runs = [r["run"] for r in letters]
    assert runs[0] == runs[1] != runs[2]
    assert runs[0] in first.stderr() and runs[2] in second.stderr()

