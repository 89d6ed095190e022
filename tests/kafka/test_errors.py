"""One vocabulary for Kafka failures (no broker needed): both client libraries' errors get the
same kinds, the same retry decision and the same wording, which names the servers, what the run
was doing, what went wrong and what to do."""
from __future__ import annotations

import ssl

import kafka.errors as kp
import pytest
from confluent_kafka import KafkaError, KafkaException

from pipeline.kafka.errors import Backoff, Failure, classify, explain


@pytest.mark.parametrize("err,kind,retried", [
    (kp.KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:9"), Failure.UNREACHABLE, True),
    (kp.KafkaConnectionError("socket disconnected"), Failure.UNREACHABLE, True),
    (ConnectionRefusedError(111, "Connection refused"), Failure.UNREACHABLE, True),
    (kp.RequestTimedOutError(), Failure.TIMED_OUT, True),
    (ssl.SSLCertVerificationError("certificate verify failed"), Failure.TLS, True),
    (kp.SaslAuthenticationFailedError("bad password"), Failure.AUTHENTICATION, False),
    (kp.TopicAuthorizationFailedError(), Failure.AUTHORIZATION, False),
    (kp.GroupAuthorizationFailedError(), Failure.AUTHORIZATION, False),
    (kp.UnknownTopicOrPartitionError(), Failure.TOPIC_MISSING, True),
    (kp.KafkaConfigurationError("Unrecognized configs"), Failure.SETTINGS, False),
    (kp.NotCoordinatorError(), Failure.OTHER, True),       # the library's own flag decides the rest
    (kp.InvalidRequestError(), Failure.OTHER, False),
], ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v))
def test_kafka_python_errors_are_classified(err, kind, retried):
    failure = classify(err)
    assert (failure.kind, failure.retriable) == (kind, retried)


@pytest.mark.parametrize("code,kind,retried", [
    (KafkaError._TRANSPORT, Failure.UNREACHABLE, True),
    (KafkaError._ALL_BROKERS_DOWN, Failure.UNREACHABLE, True),
    (KafkaError._MSG_TIMED_OUT, Failure.TIMED_OUT, True),
    (KafkaError._SSL, Failure.TLS, True),
    (KafkaError._AUTHENTICATION, Failure.AUTHENTICATION, False),
    (KafkaError.SASL_AUTHENTICATION_FAILED, Failure.AUTHENTICATION, False),
    (KafkaError.TOPIC_AUTHORIZATION_FAILED, Failure.AUTHORIZATION, False),
    (KafkaError.UNKNOWN_TOPIC_OR_PART, Failure.TOPIC_MISSING, True),
    (KafkaError._UNKNOWN_TOPIC, Failure.TOPIC_MISSING, True),
    (KafkaError._INVALID_ARG, Failure.SETTINGS, False),
])
def test_librdkafka_errors_get_the_same_kinds(code, kind, retried):
    failure = classify(KafkaError(code, "what librdkafka said"))
    assert (failure.kind, failure.retriable) == (kind, retried)
    assert failure.detail.endswith(": what librdkafka said")


def test_a_fatal_librdkafka_error_ends_the_run_whatever_its_code():
    failure = classify(KafkaError(KafkaError._TRANSPORT, "fenced", fatal=True))
    assert failure.kind is Failure.BROKEN and not failure.retriable


def test_a_transport_error_in_a_tls_handshake_is_worded_as_tls():
    failure = classify(KafkaError(KafkaError._TRANSPORT, "SSL handshake failed: certificate verify failed"))
    assert failure.kind is Failure.TLS and "ssl_cafile" in explain(failure, "b:9093", "cannot connect")


def test_the_exception_around_a_librdkafka_error_is_classified_by_the_error():
    failure = classify(KafkaException(KafkaError(KafkaError._INVALID_ARG, "ssl.ca.location failed")))
    assert failure.kind is Failure.SETTINGS and failure.detail == "_INVALID_ARG: ssl.ca.location failed"


def test_the_wording_names_servers_action_problem_and_remedy():
    failure = classify(kp.SaslAuthenticationFailedError("Authentication failed for user u"))
    text = explain(failure, "b1:9093,b2:9093", "cannot read t (group g)")
    assert text.startswith("Kafka b1:9093,b2:9093: cannot read t (group g): the brokers refused the credentials "
                           "([Error 58] SaslAuthenticationFailedError: Authentication failed for user u); check ")
    assert "KAFKA_SASL_PLAIN_PASSWORD" in text


def test_a_caller_may_give_its_own_remedy():
    failure = classify(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, "Broker: Unknown topic or partition"))
    text = explain(failure, "b:9092", "3 dead letters not delivered", {Failure.TOPIC_MISSING: 'set "dead_letter"'})
    assert text.endswith('the topic does not exist (UNKNOWN_TOPIC_OR_PART: Broker: Unknown topic or partition); '
                         'set "dead_letter"')


def test_backoff_doubles_up_to_thirty_seconds_and_starts_again_after_a_success():
    backoff = Backoff()
    assert [backoff.failed() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.succeeded()
    assert backoff.failed() == 1
    fresh = Backoff()
    assert [fresh.attempt_timeout_s(10)] + [(fresh.failed(), fresh.attempt_timeout_s(10))[1] for _ in range(3)] == \
        [2, 4, 8, 10]
