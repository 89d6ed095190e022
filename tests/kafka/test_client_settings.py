"""One config, two client libraries (no broker needed): the same keys become kafka-python's
settings for the consumer and librdkafka's for the producers, secrets revealed only there."""
from __future__ import annotations

from pipeline.kafka.client_settings import (
    ProducerSettings,
    kafka_python_consumer,
    kafka_python_producer,
    librdkafka_producer,
    librdkafka_security,
)
from pipeline.kafka.options import KafkaConfig
from pipeline.kafka.producer import KafkaPythonProducer, LibrdkafkaProducer, open_producer

SASL = dict(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="u",
            sasl_plain_password="p", ssl_check_hostname=False)


def test_security_options_reach_librdkafka_under_its_names(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = KafkaConfig(bootstrap_servers="h:9093", ssl_cafile=str(ca), **SASL)
    assert librdkafka_security(config) == {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "u",
        "sasl.password": "p", "ssl.ca.location": str(ca), "ssl.endpoint.identification.algorithm": "none"}


def test_the_consumer_never_commits_or_creates_topics_by_itself_whatever_the_config_says():
    config = KafkaConfig(bootstrap_servers=["a:1", "b:2"], topics=["t"], enable_auto_commit=True,
                         session_timeout_ms=9000, heartbeat_interval_ms=2000, **SASL)
    settings = kafka_python_consumer(config, "group-1")
    assert settings["enable_auto_commit"] is False and settings["allow_auto_create_topics"] is False
    assert settings["bootstrap_servers"] == ["a:1", "b:2"] and settings["group_id"] == "group-1"
    assert (settings["session_timeout_ms"], settings["heartbeat_interval_ms"]) == (9000, 2000)
    assert settings["sasl_plain_password"] == "p" and settings["ssl_check_hostname"] is False


def test_both_producers_get_the_same_write_settings():
    config = KafkaConfig(bootstrap_servers="h:9092", client_id="plant-7")
    producing = ProducerSettings(acks=1, enable_idempotence=False, linger_ms=20, compression_type="zstd",
                                 delivery_timeout_ms=60000)
    rd = librdkafka_producer(config, producing)
    kp = kafka_python_producer(config, producing)
    assert (rd["acks"], rd["enable.idempotence"], rd["linger.ms"], rd["compression.type"],
            rd["delivery.timeout.ms"], rd["client.id"]) == ("1", False, 20, "zstd", 60000, "plant-7")
    assert (kp["acks"], kp["enable_idempotence"], kp["linger_ms"], kp["compression_type"],
            kp["delivery_timeout_ms"], kp["client_id"]) == (1, False, 20, "zstd", 60000, "plant-7")
    assert kp["request_timeout_ms"] + kp["linger_ms"] < kp["delivery_timeout_ms"]  # kafka-python insists


def test_kerberos_configs_get_the_kafka_python_producer_which_librdkafka_wheels_cannot_replace():
    gssapi = KafkaConfig(security_protocol="SASL_PLAINTEXT", sasl_mechanism="GSSAPI")
    assert isinstance(open_producer(gssapi, "results"), KafkaPythonProducer)
    plain = KafkaConfig(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_plain_username="u",
                        sasl_plain_password="p")
    producer = open_producer(plain, "results")
    assert isinstance(producer, LibrdkafkaProducer)
    producer.close()
