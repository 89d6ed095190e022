"""The Kafka keys of a config: one pydantic model, ``KafkaConfig``, frozen and validated (nothing in
it is ever evaluated), serving the consumer, the Kafka outputs and the dead-letter topic.

``parse_kafka(raw, problems)`` appends one message per problem (the key, its value and what was
expected) and returns None when the config has no Kafka keys at all.

The original keys (``bootstrap_servers``, ``topics``, ``group_id``, ``auto_offset_reset``,
``enable_auto_commit``, ``value_deserializer``) keep their meaning, except that offsets are always
committed by the run itself after the results are written (see docs/KAFKA.md). Each field carries
its description (for the README and the window) and, as ``Expected``, the words its error uses.
Secrets (``SecretStr``) may come from the environment variable named by ``FromEnvironment`` when
the file leaves them out (the file wins); they never appear in ``repr``, logs or error messages.
``client_settings`` turns the model into kafka-python's and librdkafka's settings.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipeline.config_values import as_list, show

log = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "stream-anomaly-monitor"
DEFAULT_GROUP_PREFIX = "stream-anomaly-monitor."
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI")  # OAUTHBEARER needs code, not config
#: Mechanisms that log in with sasl_plain_username and sasl_plain_password.
PASSWORD_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

#: Characters and length Kafka allows in a topic name ("." and ".." alone are refused too).
TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

#: The deserializer texts the original configs used; all mean "UTF-8 JSON".
JSON_DESERIALIZER = re.compile(
    r"^\s*lambda\s+(\w+)\s*:\s*(?:json\.)?loads\s*\(\s*\1\s*\.\s*decode\s*\(\s*(['\"])utf-?8\2\s*\)\s*\)\s*$",
    re.IGNORECASE)


class Expected:
    """Field metadata: what a valid value is, in the words of the error message (``item``: what
    each item of a list is, for an error that names the item, ``topics[1]``)."""

    def __init__(self, text: str, item: str | None = None):
        self.text = text
        self.item = item


class FromEnvironment:
    """Field metadata: the environment variable that supplies the key when the file leaves it out."""

    def __init__(self, variable: str):
        self.variable = variable


def _listed(value: Any) -> Any:
    """The original accepted one item or a list of them."""
    return tuple(as_list(value))


def _text_boolean(value: Any) -> Any:
    """The original configs wrote "True" and "False" as text."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _topic_name(name: str) -> str:
    if not TOPIC_NAME.match(name) or name in (".", ".."):
        raise ValueError("not a topic name")
    return name


def _deserializer(text: str) -> str:
    if not JSON_DESERIALIZER.match(text):
        raise ValueError("not the JSON deserializer")
    return text


def _dead_letter_topic(template: str) -> str:
    _topic_name(template.replace("{topic}", "t"))
    return template


def _existing_file(path: str) -> str:
    expanded = Path(path).expanduser()
    if not expanded.is_file():
        raise PydanticCustomError("file_missing", "no such file")
    return str(expanded)


NonEmpty = Annotated[str, Field(min_length=1)]
Secret = Annotated[SecretStr, Field(min_length=1)]
Milliseconds = Annotated[StrictInt, Field(ge=1), Expected("a whole number of milliseconds >= 1")]
TopicName = Annotated[str, AfterValidator(_topic_name)]
PemFile = Annotated[NonEmpty | None, AfterValidator(lambda p: p if p is None else _existing_file(p)),
                    Expected("a PEM file that exists")]


def _choices(values: tuple[str, ...]) -> Expected:
    return Expected(f"one of {', '.join(values)}")


class KafkaConfig(BaseModel):
    """The Kafka keys of a config, validated; every field is a config key of the same name.

    Secrets are ``SecretStr`` (``.get_secret_value()`` reveals them to the clients only)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    bootstrap_servers: Annotated[
        tuple[NonEmpty, ...], BeforeValidator(_listed), Field(min_length=1),
        Field(description='"host:port" or a list of them (default "localhost:9092")'),
        Expected('"host:port" or a list of them', item='"host:port"')] = ("localhost:9092",)
    topics: Annotated[
        tuple[TopicName, ...], BeforeValidator(_listed), Field(min_length=1),
        Field(description="input topics; topics[i] feeds anomaly_detection_alg[i] (one topic feeds every detector)"),
        Expected("a list of topic names (letters, digits, '.', '_', '-')",
                 item="a topic name (at most 249 letters, digits, '.', '_', '-')")] = ()
    group_id: Annotated[
        NonEmpty | None,
        Field(description='consumer group; instances sharing it split the partitions '
                          '(default "stream-anomaly-monitor.<config name>")'),
        Expected("a non-empty string")] = None
    auto_offset_reset: Annotated[
        Literal["earliest", "latest"],
        Field(description='"earliest" or "latest" (default): where a group without committed offsets starts'),
        Expected('"earliest" or "latest"')] = "latest"
    enable_auto_commit: Annotated[
        StrictBool, BeforeValidator(_text_boolean),
        Field(description="accepted for compatibility; offsets are always committed after the results are "
                          "written, whatever it says"),
        Expected('true, false, "True" or "False"')] = True
    value_deserializer: Annotated[
        str | None, AfterValidator(lambda t: t if t is None else _deserializer(t)),
        Field(description="the original JSON deserializer text; recognised, never evaluated"),
        Expected("the JSON deserializer text \"lambda x: loads(x.decode('utf-8'))\" (it is recognised, "
                 "never evaluated)")] = None
    client_id: Annotated[
        NonEmpty, Field(description='client name shown in broker logs (default "stream-anomaly-monitor")'),
        Expected("a non-empty string")] = DEFAULT_CLIENT_ID
    session_timeout_ms: Annotated[
        Milliseconds, Field(description="how long the group waits for a silent instance before giving its "
                                        "partitions to the others (default 10000)")] = 10000
    heartbeat_interval_ms: Annotated[
        Milliseconds, Field(description="heartbeat period, below a third of session_timeout_ms (default 3000)")] = 3000
    security_protocol: Annotated[
        Literal[SECURITY_PROTOCOLS],  # type: ignore[valid-type]
        Field(description="PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL"),
        _choices(SECURITY_PROTOCOLS)] = "PLAINTEXT"
    sasl_mechanism: Annotated[
        Literal[SASL_MECHANISMS] | None,  # type: ignore[valid-type]
        Field(description="PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or GSSAPI (needs the gssapi package)"),
        _choices(SASL_MECHANISMS)] = None
    sasl_plain_username: Annotated[
        NonEmpty | None,
        Field(description="SASL user (or the environment variable KAFKA_SASL_PLAIN_USERNAME)"),
        FromEnvironment("KAFKA_SASL_PLAIN_USERNAME"), Expected("a non-empty string")] = None
    sasl_plain_password: Annotated[
        Secret | None, Field(description="SASL password (or the environment variable KAFKA_SASL_PLAIN_PASSWORD)"),
        FromEnvironment("KAFKA_SASL_PLAIN_PASSWORD"), Expected("a non-empty string")] = None
    sasl_kerberos_service_name: Annotated[
        NonEmpty | None, Field(description='GSSAPI service name (default "kafka")'),
        Expected("a non-empty string")] = None
    ssl_cafile: Annotated[PemFile, Field(description="CA bundle (PEM) that signed the brokers' certificates")] = None
    ssl_certfile: Annotated[PemFile, Field(description="client certificate (PEM) for mutual TLS")] = None
    ssl_keyfile: Annotated[PemFile, Field(description="client private key (PEM)")] = None
    ssl_password: Annotated[
        Secret | None, Field(description="password of ssl_keyfile (or the environment variable KAFKA_SSL_PASSWORD)"),
        FromEnvironment("KAFKA_SSL_PASSWORD"), Expected("a non-empty string")] = None
    ssl_check_hostname: Annotated[
        StrictBool | None, Field(description="check that a broker's certificate names its host (default true)"),
        Expected("true or false")] = None
    dead_letter: Annotated[
        Literal["topic", "file"],
        Field(description='"topic" (default): rejected messages go to dead_letter_topic; '
                          '"file": to <log dir>/<config name>.dead_letter.jsonl'),
        _choices(("topic", "file"))] = "topic"
    dead_letter_topic: Annotated[
        str, AfterValidator(_dead_letter_topic),
        Field(description='dead-letter topic name; "{topic}" is replaced by the input topic '
                          '(default "{topic}.dlq")'),
        Expected('a topic name, "{topic}" standing for the input topic')] = "{topic}.dlq"

    @model_validator(mode="after")
    def _keys_agree(self) -> KafkaConfig:
        problems = []
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            problems.append(f"heartbeat_interval_ms: expected less than session_timeout_ms "
                            f"({self.session_timeout_ms}), got {self.heartbeat_interval_ms}")
        protocol, mechanism = self.security_protocol, self.sasl_mechanism
        if protocol.startswith("SASL_") and mechanism is None:
            problems.append(f"sasl_mechanism: required with security_protocol {protocol}; "
                            f"expected one of {', '.join(SASL_MECHANISMS)}")
        if not protocol.startswith("SASL_") and mechanism is not None:
            problems.append(f"sasl_mechanism: needs security_protocol SASL_PLAINTEXT or SASL_SSL, "
                            f"got security_protocol {show(protocol)}")
        if protocol.startswith("SASL_") and mechanism in PASSWORD_MECHANISMS:
            for key in ("sasl_plain_username", "sasl_plain_password"):
                if getattr(self, key) is None:
                    problems.append(f"{key}: required with sasl_mechanism {mechanism}; put it in the config "
                                    f"or in the environment variable {environment_variable(key)}")
        looping = sorted(t for t in set(self.topics) if self.dead_letter_topic_for(t) == t)
        if self.dead_letter == "topic" and looping:
            problems.append(f"dead_letter_topic: expected a topic other than the input topic it serves (the dead "
                            f"letters of {', '.join(looping)} would be read and rejected again, without end), "
                            f"got {show(self.dead_letter_topic)}")
        if problems:
            raise PydanticCustomError("kafka_keys_disagree", "{problems}", {"problems": problems})
        return self

    def group_for(self, config_name: str) -> str:
        return self.group_id or DEFAULT_GROUP_PREFIX + config_name

    def dead_letter_topic_for(self, topic: str) -> str:
        return self.dead_letter_topic.replace("{topic}", topic)

    @property
    def servers(self) -> str:
        """The bootstrap servers as one text, for messages."""
        return ",".join(self.bootstrap_servers)


KAFKA_KEYS = tuple(KafkaConfig.model_fields)

#: What each key means, for the README and the window.
KAFKA_KEY_DESCRIPTIONS = {key: field.description for key, field in KafkaConfig.model_fields.items()}


def _metadata(key: str, kind: type):
    return next((m for m in KafkaConfig.model_fields[key].metadata if isinstance(m, kind)), None)


def environment_variable(key: str) -> str | None:
    """The environment variable that may supply ``key`` (a secret), or None."""
    marker = _metadata(key, FromEnvironment)
    return marker.variable if marker else None


#: Keys and the environment variables that may hold them instead of the config file.
FROM_ENVIRONMENT = {key: environment_variable(key) for key in KAFKA_KEYS if environment_variable(key)}


def is_secret(key: str) -> bool:
    """Whether ``key``'s value must never be shown (passwords)."""
    def mentions_secret(annotation) -> bool:
        return annotation is SecretStr or any(map(mentions_secret, get_args(annotation)))

    return mentions_secret(KafkaConfig.model_fields[key].annotation)


def _describe(error: dict, given: Mapping[str, Any]) -> list[str]:
    """One validation error as messages that name the key, the value and what was expected."""
    if error["type"] == "kafka_keys_disagree":
        return list(error["ctx"]["problems"])
    key = str(error["loc"][0]) if error["loc"] else "?"
    if key not in KafkaConfig.model_fields:
        return [f"{key}: not a Kafka key"]
    value = given.get(key)
    marker = _metadata(key, Expected)
    expected = marker.text if marker else error["msg"]
    path, loc = key, error["loc"]
    if isinstance(value, list) and len(loc) > 1 and isinstance(loc[1], int) and marker and marker.item:
        path, value, expected = f"{key}[{loc[1]}]", value[loc[1]], marker.item  # the item that is wrong
    if is_secret(key) and value != "":
        shown = f"a {_json_kind(value)} (a secret's value is never shown)"
    else:
        shown = show(value)
    suffix = " (no such file)" if error["type"] == "file_missing" else ""
    return [f"{path}: expected {expected}, got {shown}{suffix}"]


def _json_kind(value: Any) -> str:
    for kind, name in ((bool, "boolean"), ((int, float), "number"), (str, "string"), (list, "list"),
                       (dict, "object")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__


def parse_kafka(raw: dict, problems: list[str], environ: Mapping[str, str] | None = None,
                for_outputs: bool = False) -> KafkaConfig | None:
    """The Kafka keys of ``raw`` (a whole config) as a ``KafkaConfig``; None when it has none.

    ``environ`` (default ``os.environ``) supplies secrets the config leaves out. Problems are
    appended to ``problems`` (one message per key) and None is returned. Without ``topics`` and
    ``bootstrap_servers`` the keys can only configure Kafka outputs: unless ``for_outputs`` (the
    config has one), wrong ones are then warned about and ignored, as they always were."""
    # null means "not given", as in the original, whose keys were read with .get()
    given = {key: raw[key] for key in KAFKA_KEYS if raw.get(key) is not None}
    if not given:
        return None
    environ = os.environ if environ is None else environ
    for key, variable in FROM_ENVIRONMENT.items():
        if given.get(key) is None and environ.get(variable):
            given[key] = environ[variable]
    found: list[str] = []
    try:
        return KafkaConfig.model_validate(given)
    except ValidationError as err:
        reported: set[str] = set()
        for error in err.errors():
            for message in _describe(error, given):
                path = message.split(":", 1)[0]
                if path not in reported:  # one message per key or item, however many checks it failed
                    reported.add(path)
                    found.append(message)
    if "topics" not in given and "bootstrap_servers" not in given and not for_outputs:
        # Without topics or brokers the keys only configure Kafka outputs. A file config may carry
        # keys of a former Kafka use, which never stopped its runs: wrong ones are ignored, loudly.
        for message in found:
            log.warning("%s (ignored: the config has no topics or bootstrap_servers)", message)
        return None
    problems.extend(found)
    return None


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
