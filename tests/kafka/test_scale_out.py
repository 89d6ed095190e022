"""Two headless instances with one group_id split a 4-partition topic: each message is processed
once, by one instance, and every message key stays with one instance (its state with it)."""
from __future__ import annotations

import re

from tests.kafka.broker import wait_until
from tests.kafka.conftest import BORDER, indexed, kafka_config, seen


def last_assignment(run) -> list[int] | None:
    found = re.findall(r"Kafka: assigned partitions wide\[([0-9, ]*)\]", run.stderr())
    return [int(p) for p in found[-1].split(",")] if found else None


def test_two_instances_in_one_group_split_the_partitions_and_process_each_message_once(
        tmp_path, broker, start_run):
    broker.create_topic("wide", partitions=4)
    config = kafka_config(tmp_path / "wide.json", broker, ["wide"], [BORDER])
    first = start_run(config, "first")
    first.wait_for_log("Kafka: assigned partitions wide[0, 1, 2, 3]")
    second = start_run(config, "second")
    wait_until(lambda: (last_assignment(first) or []) and (last_assignment(second) or [])
               and sorted(last_assignment(first) + last_assignment(second)) == [0, 1, 2, 3],
               40, "the group to settle on two partitions each")

    total, keys = 2000, [f"machine-{i % 20}" for i in range(2000)]
    placed = broker.produce("wide", indexed(0, total), keys=keys)
    wait_until(lambda: len(first.results("out.jsonl")) + len(second.results("out.jsonl")) >= total,
               60, f"{total} results from both instances")
    assert first.stop() == 143 and second.stop() == 143

    by_first, by_second = seen(first.results("out.jsonl")), seen(second.results("out.jsonl"))
    assert sorted(by_first + by_second) == list(range(total))  # once each, none lost
    assert by_first and by_second
    partitions_first = {placed[i][0] for i in by_first}
    partitions_second = {placed[i][0] for i in by_second}
    assert partitions_first == set(last_assignment(first))
    assert partitions_second == set(last_assignment(second))
    key_owner = {}
    for i in by_first:
        key_owner.setdefault(keys[i], set()).add("first")
    for i in by_second:
        key_owner.setdefault(keys[i], set()).add("second")
    assert all(len(owners) == 1 for owners in key_owner.values())
    assert first.summary()["samples"] + second.summary()["samples"] == total
