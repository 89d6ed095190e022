"""The producers behind KafkaOutput and the dead-letter topic, against a real broker: what was
sent arrives, keyed and in order per key, and a delivery that fails makes ``flush()`` raise, so the
engine never commits past lost results, and the error says why. The kafka-python producer is the
one a GSSAPI config gets."""
from __future__ import annotations

import json

import pytest

from pipeline.kafka.client_settings import ProducerSettings
from pipeline.kafka.errors import KafkaDeliveryError
from pipeline.kafka.options import KafkaConfig
from pipeline.kafka.producer import KafkaPythonProducer, LibrdkafkaProducer
from tests.kafka.broker import Broker

PRODUCERS = [LibrdkafkaProducer, KafkaPythonProducer]


def kafka_config(bootstrap: str, **security) -> KafkaConfig:
    return KafkaConfig(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
                       **security)


@pytest.mark.parametrize("producer_class", PRODUCERS, ids=lambda c: c.__name__)
def test_everything_sent_arrives_keyed_and_in_order_per_key(broker, producer_class):
    broker.create_topic("out", partitions=4)
    producer = producer_class(kafka_config(broker.bootstrap), "results",
                              ProducerSettings(enable_idempotence=False, acks=1))
    for key in ("a", "b", "c"):
        producer.send_all("out", (json.dumps({"key": key, "i": i}) for i in range(500)), key)
    producer.send("out", b'{"key": "d", "i": 0}', b"d", headers=[("h", b"1")])
    producer.flush()
    assert producer.sent == 1501
    producer.close()

    records = broker.read("out", expected=1501)
    assert len(records) == 1501
    by_key: dict[str, list[int]] = {}
    for r in records:
        message = json.loads(r.value)
        assert r.key.decode() == message["key"]
        by_key.setdefault(message["key"], []).append(message["i"])
    assert by_key == {"a": list(range(500)), "b": list(range(500)), "c": list(range(500)), "d": [0]}


@pytest.mark.parametrize("producer_class", PRODUCERS, ids=lambda c: c.__name__)
def test_a_delivery_that_times_out_fails_the_flush_with_the_count(brokers, producer_class):
    broker = brokers().start()
    broker.create_topic("out", partitions=1)
    producer = producer_class(kafka_config(broker.bootstrap), "results for out",
                              ProducerSettings(enable_idempotence=False, acks=1, delivery_timeout_ms=1000, linger_ms=0))
    producer.send("out", b"first")
    producer.flush()
    broker.stop()
    producer.send_all("out", [b"lost 1", b"lost 2"])
    with pytest.raises(KafkaDeliveryError, match=r"results for out not delivered") as failure:
        producer.flush()
    if producer_class is LibrdkafkaProducer:   # the timeout names what the client last ran into
        assert "last client error: no broker reachable" in str(failure.value)
        assert str(failure.value).endswith("check bootstrap_servers, and that a broker listens there")
    with pytest.raises(KafkaDeliveryError):  # and every later flush, until the run ends
        producer.flush()
    producer.close()


def test_refused_credentials_fail_the_flush_at_once_not_after_the_delivery_timeout(tmp_path):
    broker = Broker(log_path=tmp_path / "tansu.log", options=["--authentication"]).start()
    try:
        config = kafka_config(broker.bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                              sasl_plain_username="u", sasl_plain_password="p")
        # were the refusal only retried, the flush would end at the delivery timeout with
        # _MSG_TIMED_OUT and "1 results ... not delivered" instead
        producer = LibrdkafkaProducer(config, "results for out",
                                      ProducerSettings(enable_idempotence=False, acks=1, delivery_timeout_ms=20000))
        producer.send("out", b"x")
        refused = r"cannot write results for out: the brokers refused the credentials \(_AUTHENTICATION: .*\); check "
        with pytest.raises(KafkaDeliveryError, match=refused + r".*sasl_plain_password"):
            producer.flush()
        producer.close()
    finally:
        broker.stop()


def test_a_config_the_client_refuses_is_an_error_that_names_the_servers():
    # the config check refuses a missing file before any client sees it; a file vanishing (or
    # unreadable) later is the client's to refuse
    config = KafkaConfig.model_construct(bootstrap_servers=("127.0.0.1:1",), security_protocol="SSL",
                                         ssl_cafile="/nonexistent/ca.pem")
    with pytest.raises(KafkaDeliveryError, match=r"Kafka 127.0.0.1:1: cannot write results: the Kafka client refused "
                                                 r"its settings \(_INVALID_ARG: .*ssl.ca.location is the config's "
                                                 r"ssl_cafile\); check the config's Kafka keys"):
        LibrdkafkaProducer(config, "results")
