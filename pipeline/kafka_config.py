"""The Kafka keys of a config: validation into a frozen ``KafkaConfig`` (never evaluated).

``parse_kafka(raw, problems)`` appends one message per problem (key path, value, expectation) and
returns None when the config has no Kafka keys at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config_values import as_list, show

KAFKA_KEYS = ("bootstrap_servers", "auto_offset_reset", "enable_auto_commit", "group_id",
              "value_deserializer", "topics")

#: The deserializer texts the original configs used; all mean "UTF-8 JSON".
JSON_DESERIALIZER = re.compile(
    r"^\s*lambda\s+(\w+)\s*:\s*(?:json\.)?loads\s*\(\s*\1\s*\.\s*decode\s*\(\s*(['\"])utf-?8\2\s*\)\s*\)\s*$",
    re.IGNORECASE)


@dataclass(frozen=True)
class KafkaConfig:
    """The Kafka keys of the original format (used by the Kafka consumer)."""

    bootstrap_servers: tuple[str, ...]
    topics: tuple[str, ...]
    group_id: str | None
    auto_offset_reset: str
    enable_auto_commit: bool



def parse_kafka(raw: dict, problems: list[str]) -> KafkaConfig | None:
    """The Kafka keys; None when the config has no ``topics``."""
    if "topics" not in raw and "bootstrap_servers" not in raw:
        return None
    topics = as_list(raw.get("topics", []))
    if not topics or not all(isinstance(t, str) and t for t in topics):
        problems.append(f"topics: expected a list of topic names, got {show(raw.get('topics'))}")
    servers = as_list(raw.get("bootstrap_servers", "localhost:9092"))
    if not all(isinstance(s, str) and s for s in servers):
        problems.append(f"bootstrap_servers: expected \"host:port\" or a list of them, got {show(raw.get('bootstrap_servers'))}")
    group_id = raw.get("group_id")
    if group_id is not None and not isinstance(group_id, str):
        problems.append(f"group_id: expected a string, got {show(group_id)}")
    reset = raw.get("auto_offset_reset", "latest")
    if reset not in ("earliest", "latest"):
        problems.append(f"auto_offset_reset: expected \"earliest\" or \"latest\", got {show(reset)}")
    commit = raw.get("enable_auto_commit", True)
    if isinstance(commit, str) and commit.strip().lower() in ("true", "false"):
        commit = commit.strip().lower() == "true"
    if not isinstance(commit, bool):
        problems.append(f"enable_auto_commit: expected true, false, \"True\" or \"False\", got {show(raw.get('enable_auto_commit'))}")
    deserializer = raw.get("value_deserializer")
    if deserializer is not None and not (isinstance(deserializer, str) and JSON_DESERIALIZER.match(deserializer)):
        problems.append("value_deserializer: expected the JSON deserializer text "
                        "\"lambda x: loads(x.decode('utf-8'))\" (it is recognised, never evaluated), "
                        f"got {show(deserializer)}")
    return KafkaConfig(bootstrap_servers=tuple(servers), topics=tuple(topics), group_id=group_id,
                       auto_offset_reset=reset, enable_auto_commit=bool(commit))


def detector_topics(kafka: KafkaConfig, count: int) -> list[str]:
    """The topic each detector reads: ``topics[i]`` feeds detector ``i`` as in the original (a
    topic may repeat, giving several detectors on one topic); a single topic feeds every
    detector."""
    if len(kafka.topics) == count:
        return list(kafka.topics)
    if len(kafka.topics) == 1:
        return list(kafka.topics) * count
    raise ValueError(f"topics: expected 1 topic or {count} (one per anomaly_detection_alg), "
                     f"got {len(kafka.topics)}")
