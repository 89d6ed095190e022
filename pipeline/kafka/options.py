"""The Kafka keys of a config: validation into a frozen ``KafkaConfig`` (never evaluated).

``parse_kafka(raw, problems)`` appends one message per problem (key path, value, expectation) and
returns None when the config has no Kafka keys at all.

The original keys (``bootstrap_servers``, ``topics``, ``group_id``, ``auto_offset_reset``,
``enable_auto_commit``, ``value_deserializer``) keep their meaning, except that offsets are always
committed by the run itself after the results are written (see docs/KAFKA.md). Security options
are passed to the Kafka clients unchanged; the secrets among them may come from environment
variables instead of the file (``SECRET_ENVIRONMENT``), and the file wins when it has them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pipeline.config_values import as_list, show

#: What each key means, for the README and the window.
KAFKA_KEY_DESCRIPTIONS = {
    "bootstrap_servers": '"host:port" or a list of them (default "localhost:9092")',
    "topics": "input topics; topics[i] feeds anomaly_detection_alg[i] (one topic feeds every detector)",
    "group_id": "consumer group; instances sharing it split the partitions "
                "(default \"stream-anomaly-monitor.<config name>\")",
    "auto_offset_reset": '"earliest" or "latest" (default): where a group without committed offsets starts',
    "enable_auto_commit": "accepted for compatibility; offsets are always committed after the results "
                          "are written, whatever it says",
    "value_deserializer": "the original JSON deserializer text; recognised, never evaluated",
    "client_id": 'client name shown in broker logs (default "stream-anomaly-monitor")',
    "session_timeout_ms": "how long the group waits for a silent instance before giving its partitions "
                          "to the others (default 10000)",
    "heartbeat_interval_ms": "heartbeat period, below a third of session_timeout_ms (default 3000)",
    "security_protocol": "PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL",
    "sasl_mechanism": "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or GSSAPI (needs the gssapi package)",
    "sasl_plain_username": "SASL user (or the environment variable KAFKA_SASL_PLAIN_USERNAME)",
    "sasl_plain_password": "SASL password (or the environment variable KAFKA_SASL_PLAIN_PASSWORD)",
    "sasl_kerberos_service_name": 'GSSAPI service name (default "kafka")',
    "ssl_cafile": "CA bundle (PEM) that signed the brokers' certificates",
    "ssl_certfile": "client certificate (PEM) for mutual TLS",
    "ssl_keyfile": "client private key (PEM)",
    "ssl_password": "password of ssl_keyfile (or the environment variable KAFKA_SSL_PASSWORD)",
    "ssl_check_hostname": "check that a broker's certificate names its host (default true)",
    "dead_letter": '"topic" (default): rejected messages go to dead_letter_topic; '
                   '"file": to <log dir>/<config name>.dead_letter.jsonl',
    "dead_letter_topic": 'dead-letter topic name; "{topic}" is replaced by the input topic '
                         '(default "{topic}.dlq")',
}

KAFKA_KEYS = tuple(KAFKA_KEY_DESCRIPTIONS)

#: Secret keys and the environment variables that may hold them instead of the config file.
SECRET_ENVIRONMENT = {
    "sasl_plain_username": "KAFKA_SASL_PLAIN_USERNAME",
    "sasl_plain_password": "KAFKA_SASL_PLAIN_PASSWORD",
    "ssl_password": "KAFKA_SSL_PASSWORD",
}

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI")  # OAUTHBEARER needs code, not config
DEAD_LETTER_KINDS = ("topic", "file")
DEFAULT_CLIENT_ID = "stream-anomaly-monitor"
DEFAULT_GROUP_PREFIX = "stream-anomaly-monitor."

#: Characters and length Kafka allows in a topic name.
TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

#: The deserializer texts the original configs used; all mean "UTF-8 JSON".
JSON_DESERIALIZER = re.compile(
    r"^\s*lambda\s+(\w+)\s*:\s*(?:json\.)?loads\s*\(\s*\1\s*\.\s*decode\s*\(\s*(['\"])utf-?8\2\s*\)\s*\)\s*$",
    re.IGNORECASE)


@dataclass(frozen=True)
class KafkaConfig:
    """The Kafka keys of a config, validated (see ``KAFKA_KEY_DESCRIPTIONS``).

    ``security`` holds the security options that were given, under kafka-python's names, secrets
    included; it is left out of ``repr`` so that logs never show a password.
    """

    bootstrap_servers: tuple[str, ...]
    topics: tuple[str, ...]
    group_id: str | None
    auto_offset_reset: str
    enable_auto_commit: bool
    client_id: str = DEFAULT_CLIENT_ID
    session_timeout_ms: int = 10000
    heartbeat_interval_ms: int = 3000
    dead_letter: str = "topic"
    dead_letter_topic: str = "{topic}.dlq"
    security: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def client_options(self) -> dict[str, Any]:
        """Options every kafka-python client of a run takes (servers, client id, security)."""
        return {"bootstrap_servers": list(self.bootstrap_servers), "client_id": self.client_id,
                **self.security}

    def group_for(self, config_name: str) -> str:
        return self.group_id or DEFAULT_GROUP_PREFIX + config_name

    def dead_letter_topic_for(self, topic: str) -> str:
        return self.dead_letter_topic.replace("{topic}", topic)


def _positive_int(raw: dict, key: str, default: int, problems: list[str]) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        problems.append(f"{key}: expected a whole number of milliseconds >= 1, got {show(value)}")
        return default
    return value


def _text(raw: dict, key: str, problems: list[str], choices: tuple[str, ...] | None = None,
          environ: Mapping[str, str] | None = None) -> str | None:
    value = raw.get(key)
    if value is None and environ is not None and key in SECRET_ENVIRONMENT:
        value = environ.get(SECRET_ENVIRONMENT[key]) or None
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"{key}: expected a non-empty string, got {show(value)}")
        return None
    if choices is not None and value not in choices:
        problems.append(f"{key}: expected one of {', '.join(choices)}, got {show(value)}")
        return None
    return value


def parse_security(raw: dict, problems: list[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """The security options that were given (config first, then the environment)."""
    security: dict[str, Any] = {}
    protocol = _text(raw, "security_protocol", problems, SECURITY_PROTOCOLS) or "PLAINTEXT"
    if "security_protocol" in raw:
        security["security_protocol"] = protocol
    mechanism = _text(raw, "sasl_mechanism", problems, SASL_MECHANISMS)
    for key in ("sasl_plain_username", "sasl_plain_password", "ssl_password", "sasl_kerberos_service_name"):
        value = _text(raw, key, problems, environ=environ)
        if value is not None:
            security[key] = value
    for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        value = _text(raw, key, problems)
        if value is None:
            continue
        if not Path(value).expanduser().is_file():
            problems.append(f"{key}: file {value!r} not found")
        security[key] = str(Path(value).expanduser())
    if "ssl_check_hostname" in raw:
        if not isinstance(raw["ssl_check_hostname"], bool):
            problems.append(f"ssl_check_hostname: expected true or false, got {show(raw['ssl_check_hostname'])}")
        else:
            security["ssl_check_hostname"] = raw["ssl_check_hostname"]
    if protocol.startswith("SASL_"):
        if mechanism is None and "sasl_mechanism" not in raw:
            problems.append(f"sasl_mechanism: required with security_protocol {protocol}; "
                            f"expected one of {', '.join(SASL_MECHANISMS)}")
        if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            for key in ("sasl_plain_username", "sasl_plain_password"):
                if key not in security:
                    problems.append(f"{key}: required with sasl_mechanism {mechanism}; put it in the "
                                    f"config or in the environment variable {SECRET_ENVIRONMENT[key]}")
    elif mechanism is not None:
        problems.append(f"sasl_mechanism: needs security_protocol SASL_PLAINTEXT or SASL_SSL, "
                        f"got security_protocol {show(protocol)}")
    if mechanism is not None:
        security["sasl_mechanism"] = mechanism
    return security


def parse_kafka(raw: dict, problems: list[str], environ: Mapping[str, str] | None = None) -> KafkaConfig | None:
    """The Kafka keys; None when the config has neither ``topics`` nor ``bootstrap_servers``.
    ``environ`` (default ``os.environ``) supplies secrets the config leaves out."""
    if "topics" not in raw and "bootstrap_servers" not in raw:
        return None
    environ = os.environ if environ is None else environ
    # topics may be absent when only a KafkaOutput uses the brokers (a file run)
    topics = as_list(raw.get("topics", []))
    if "topics" in raw and not (topics and all(isinstance(t, str) and TOPIC_NAME.match(t) for t in topics)):
        problems.append(f"topics: expected a list of topic names (letters, digits, '.', '_', '-'), "
                        f"got {show(raw.get('topics'))}")
    servers = as_list(raw.get("bootstrap_servers", "localhost:9092"))
    if not servers or not all(isinstance(s, str) and s for s in servers):
        problems.append(f"bootstrap_servers: expected \"host:port\" or a list of them, got {show(raw.get('bootstrap_servers'))}")
    group_id = raw.get("group_id")
    if group_id is not None and not (isinstance(group_id, str) and group_id):
        problems.append(f"group_id: expected a non-empty string, got {show(group_id)}")
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
    client_id = _text(raw, "client_id", problems) or DEFAULT_CLIENT_ID
    session_timeout = _positive_int(raw, "session_timeout_ms", 10000, problems)
    heartbeat = _positive_int(raw, "heartbeat_interval_ms", 3000, problems)
    if heartbeat >= session_timeout:
        problems.append(f"heartbeat_interval_ms: expected less than session_timeout_ms ({session_timeout}), "
                        f"got {heartbeat}")
    dead_letter = _text(raw, "dead_letter", problems, DEAD_LETTER_KINDS) or "topic"
    dead_letter_topic = _text(raw, "dead_letter_topic", problems) or "{topic}.dlq"
    if not TOPIC_NAME.match(dead_letter_topic.replace("{topic}", "t")):
        problems.append(f"dead_letter_topic: expected a topic name, \"{{topic}}\" standing for the input "
                        f"topic, got {show(dead_letter_topic)}")
    security = parse_security(raw, problems, environ)
    return KafkaConfig(bootstrap_servers=tuple(servers), topics=tuple(topics), group_id=group_id or None,
                       auto_offset_reset=reset, enable_auto_commit=bool(commit), client_id=client_id,
                       session_timeout_ms=session_timeout, heartbeat_interval_ms=heartbeat,
                       dead_letter=dead_letter, dead_letter_topic=dead_letter_topic, security=security)


def detector_topics(kafka: KafkaConfig, count: int) -> list[str]:
    """The topic each detector reads: ``topics[i]`` feeds detector ``i`` as in the original (a
    topic may repeat, giving several detectors on one topic); a single topic feeds every
    detector."""
    if not kafka.topics:
        raise ValueError("topics: required to read Kafka (run without -f), but the config has none")
    if len(kafka.topics) == count:
        return list(kafka.topics)
    if len(kafka.topics) == 1:
        return list(kafka.topics) * count
    raise ValueError(f"topics: expected 1 topic or {count} (one per anomaly_detection_alg), "
                     f"got {len(kafka.topics)}")
