"""The one place where a ``KafkaConfig`` becomes client settings: kafka-python's for the consumer
(and for the producers of GSSAPI configs), librdkafka's for the producers.

kafka-python names its settings like our config keys (``security_protocol``,
``sasl_plain_username``...); librdkafka uses dotted names (``security.protocol``,
``sasl.username``...). Secrets are revealed here, to the client, and nowhere else.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import SecretStr

from pipeline.kafka.errors import MAX_RETRY_S, KafkaFailure
from pipeline.kafka.options import KafkaConfig

#: Security keys -> librdkafka's names (kafka-python's are the keys themselves).
LIBRDKAFKA_SECURITY_NAMES = {
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "sasl_kerberos_service_name": "sasl.kerberos.service.name",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
    "ssl_password": "ssl.key.password",
}
SECURITY_KEYS = (*LIBRDKAFKA_SECURITY_NAMES, "ssl_check_hostname")


@dataclass(frozen=True)
class ProducerSettings:
    """How a producer writes (the KafkaOutput parameters of the same names; the dead-letter
    topic takes the defaults).

    acks : "all", 1 or 0
    enable_idempotence : no duplicates from the producer's own retries (needs acks "all")
    linger_ms : how long a batch may wait to fill
    compression_type : None, "gzip", "snappy", "lz4" or "zstd"
    delivery_timeout_ms : after this long an unacknowledged message counts as failed
    """

    acks: Literal["all", 1, 0] = "all"
    enable_idempotence: bool = True
    linger_ms: int = 5
    compression_type: str | None = None
    delivery_timeout_ms: int = 120000


def security(kafka: KafkaConfig) -> dict[str, Any]:
    """The security keys that are set, under their own (kafka-python's) names, secrets revealed."""
    options = {}
    for key in SECURITY_KEYS:
        value = getattr(kafka, key)
        if value is not None:
            options[key] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return options


def uses_kerberos(kafka: KafkaConfig) -> bool:
    """GSSAPI, which the confluent-kafka wheel's librdkafka lacks (kafka-python clients only)."""
    return kafka.sasl_mechanism == "GSSAPI"


# -- kafka-python -------------------------------------------------------------------------------
def kafka_python_common(kafka: KafkaConfig) -> dict[str, Any]:
    """What every kafka-python client of a run takes: servers, client id, security, reconnects."""
    return {"bootstrap_servers": list(kafka.bootstrap_servers), "client_id": kafka.client_id,
            "reconnect_backoff_max_ms": int(MAX_RETRY_S * 1000), **security(kafka)}


def kafka_python_consumer(kafka: KafkaConfig, group_id: str) -> dict[str, Any]:
    """The run's consumer: a group member that never commits or creates topics by itself."""
    return {**kafka_python_common(kafka), "group_id": group_id, "auto_offset_reset": kafka.auto_offset_reset,
            # offsets are committed by the run after the results are written (docs/KAFKA.md)
            "enable_auto_commit": False,
            # reading a topic should never create it (with the broker's defaults) by a typo
            "allow_auto_create_topics": False,
            "session_timeout_ms": kafka.session_timeout_ms, "heartbeat_interval_ms": kafka.heartbeat_interval_ms}


def kafka_python_producer(kafka: KafkaConfig, producing: ProducerSettings) -> dict[str, Any]:
    linger, timeout = producing.linger_ms, producing.delivery_timeout_ms
    return {**kafka_python_common(kafka), "acks": producing.acks,
            "enable_idempotence": producing.enable_idempotence, "linger_ms": linger,
            "compression_type": producing.compression_type, "delivery_timeout_ms": timeout,
            # kafka-python refuses a delivery timeout under linger + request timeout
            "request_timeout_ms": min(30000, max(1, timeout - linger - 1)),
            "batch_size": 256 * 1024,
            # the first use waits this long for a broker (kafka-python connects in its constructor)
            "bootstrap_timeout_ms": timeout}


# -- librdkafka ---------------------------------------------------------------------------------
def librdkafka_security(kafka: KafkaConfig) -> dict[str, Any]:
    """The security keys that are set, under librdkafka's names."""
    given = security(kafka)
    options = {LIBRDKAFKA_SECURITY_NAMES[k]: v for k, v in given.items() if k in LIBRDKAFKA_SECURITY_NAMES}
    if "ssl_check_hostname" in given:
        options["ssl.endpoint.identification.algorithm"] = "https" if given["ssl_check_hostname"] else "none"
    return options


def librdkafka_producer(kafka: KafkaConfig, producing: ProducerSettings) -> dict[str, Any]:
    """A librdkafka producer's settings (callbacks and logger are the producer's to add)."""
    return {"bootstrap.servers": ",".join(kafka.bootstrap_servers), "client.id": kafka.client_id,
            "acks": str(producing.acks), "enable.idempotence": producing.enable_idempotence,
            "linger.ms": producing.linger_ms, "compression.type": producing.compression_type or "none",
            "delivery.timeout.ms": producing.delivery_timeout_ms,
            # successes need no callback; only failures come back, to fail the next flush
            "delivery.report.only.error": True,
            **librdkafka_security(kafka)}


def in_config_terms(failure: KafkaFailure) -> KafkaFailure:
    """``failure`` with the config key named beside each librdkafka setting its text mentions
    (``ssl.ca.location failed: ...`` is about ``ssl_cafile``)."""
    named = [f"{dotted} is the config's {key}" for key, dotted in LIBRDKAFKA_SECURITY_NAMES.items()
             if dotted in failure.detail]
    if not named:
        return failure
    return dataclasses.replace(failure, detail=f"{failure.detail}; {', '.join(named)}")
