"""What went wrong with Kafka, in one vocabulary, and how long to wait before trying again.

Both client libraries report failures in their own terms: kafka-python raises exceptions
(``KafkaTimeoutError``, ``SaslAuthenticationFailedError``...), librdkafka hands ``KafkaError``
objects to callbacks (``_TRANSPORT``, ``_AUTHENTICATION``...). ``classify`` turns either into a
``KafkaFailure``: one of a few ``Failure`` kinds, whether it is retried, and the library's own
words. ``explain`` words it for users the same way wherever it happened (the consumer, a Kafka
output, the dead-letter topic): the servers, what the run was doing, what went wrong and what to
do about it, e.g.

    Kafka b1:9093: cannot write results for alerts: the brokers refused the credentials
    (_AUTHENTICATION: SASL authentication error: ...); check sasl_mechanism, ...

Retried means the run goes on and the client tries again (connection trouble, timeouts, a topic
not there yet); anything else ends the run at once, since waiting does not mend a wrong password
or a missing permission. The waits between our own attempts (connecting, committing) follow
``Backoff``; reconnecting inside a client is the library's own business (kafka-python: 50 ms
doubling to ``MAX_RETRY_S``, set in ``client_settings``; librdkafka: 100 ms doubling to 10 s).
"""
from __future__ import annotations

import enum
import ssl
from dataclasses import dataclass
from typing import Any, Mapping

#: The longest wait between two attempts of ours, and kafka-python's longest reconnect backoff.
MAX_RETRY_S = 30.0

#: How long a producer whose local queue is full waits for the broker to take some (s).
QUEUE_FULL_WAIT_S = 0.1


class Failure(enum.Enum):
    """Kinds of Kafka failure: (words for users, retried, what to do)."""

    UNREACHABLE = ("no broker reachable", True,
                   "check bootstrap_servers, and that a broker listens there")
    TIMED_OUT = ("the brokers did not answer in time", True, "")
    TLS = ("the TLS handshake failed", True,
           "check security_protocol, ssl_cafile (the CA that signed the brokers' certificates), "
           "ssl_certfile, ssl_keyfile and ssl_check_hostname")
    AUTHENTICATION = ("the brokers refused the credentials", False,
                      "check security_protocol, sasl_mechanism and sasl_plain_username / "
                      "sasl_plain_password (or KAFKA_SASL_PLAIN_USERNAME / KAFKA_SASL_PLAIN_PASSWORD "
                      "in the environment)")
    AUTHORIZATION = ("the brokers refused access", False,
                     "the cluster's ACLs must let this user read the topics and join group_id, and "
                     "write the output and dead-letter topics")
    TOPIC_MISSING = ("the topic does not exist", True,
                     "create it (or let the brokers create topics), or correct its name in the config")
    SETTINGS = ("the Kafka client refused its settings", False, "check the config's Kafka keys")
    BROKEN = ("the Kafka client failed for good", False, "")
    OTHER = ("", False, "")

    def __init__(self, words: str, retried: bool, remedy: str):
        self.words = words
        self.retried = retried
        self.remedy = remedy

    @property
    def final(self) -> bool:
        """Known never to mend by waiting: a complaint of this kind ends a run at once, even where
        the client would retry it (a producer's background errors); other kinds are retried until a
        delivery or request times out, and named then."""
        return self in (Failure.AUTHENTICATION, Failure.AUTHORIZATION, Failure.SETTINGS, Failure.BROKEN)


@dataclass(frozen=True)
class KafkaFailure:
    """One classified failure: its kind, whether it is retried, and the library's own words."""

    kind: Failure
    retriable: bool
    detail: str

    def __str__(self) -> str:
        if not self.kind.words:
            return self.detail
        return f"{self.kind.words} ({self.detail})" if self.detail else self.kind.words


class KafkaDeliveryError(OSError):
    """Results or dead letters could not be written to Kafka (the run stops without committing
    the messages they came from, so a later run reads them again)."""


# librdkafka error names (KafkaError.name()); broker errors share Kafka's protocol names
_LIBRDKAFKA = {
    "_TRANSPORT": Failure.UNREACHABLE, "_ALL_BROKERS_DOWN": Failure.UNREACHABLE,
    "_RESOLVE": Failure.UNREACHABLE, "NETWORK_EXCEPTION": Failure.UNREACHABLE,
    "_MSG_TIMED_OUT": Failure.TIMED_OUT, "_TIMED_OUT": Failure.TIMED_OUT,
    "_TIMED_OUT_QUEUE": Failure.TIMED_OUT, "REQUEST_TIMED_OUT": Failure.TIMED_OUT,
    "_SSL": Failure.TLS,
    "_AUTHENTICATION": Failure.AUTHENTICATION, "SASL_AUTHENTICATION_FAILED": Failure.AUTHENTICATION,
    "ILLEGAL_SASL_STATE": Failure.AUTHENTICATION, "UNSUPPORTED_SASL_MECHANISM": Failure.AUTHENTICATION,
    "TOPIC_AUTHORIZATION_FAILED": Failure.AUTHORIZATION, "GROUP_AUTHORIZATION_FAILED": Failure.AUTHORIZATION,
    "CLUSTER_AUTHORIZATION_FAILED": Failure.AUTHORIZATION,
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED": Failure.AUTHORIZATION,
    "_UNKNOWN_TOPIC": Failure.TOPIC_MISSING, "UNKNOWN_TOPIC_OR_PART": Failure.TOPIC_MISSING,
    "_UNKNOWN_PARTITION": Failure.TOPIC_MISSING,
    "_INVALID_ARG": Failure.SETTINGS, "_NOT_IMPLEMENTED": Failure.SETTINGS,
}

# kafka-python exception classes (matched along the class hierarchy), and Python's own
_KAFKA_PYTHON = {
    "NoBrokersAvailable": Failure.UNREACHABLE, "KafkaConnectionError": Failure.UNREACHABLE,
    "NodeNotReadyError": Failure.UNREACHABLE, "MetadataEmptyBrokerList": Failure.UNREACHABLE,
    "ConnectionError": Failure.UNREACHABLE,
    "KafkaTimeoutError": Failure.TIMED_OUT, "RequestTimedOutError": Failure.TIMED_OUT,
    "TimeoutError": Failure.TIMED_OUT,
    "SSLError": Failure.TLS,
    "SaslAuthenticationFailedError": Failure.AUTHENTICATION, "AuthenticationFailedError": Failure.AUTHENTICATION,
    "AuthenticationMethodNotSupported": Failure.AUTHENTICATION,
    "UnsupportedSaslMechanismError": Failure.AUTHENTICATION, "IllegalSaslStateError": Failure.AUTHENTICATION,
    "UnacceptableCredentialError": Failure.AUTHENTICATION,
    "AuthorizationError": Failure.AUTHORIZATION,
    "UnknownTopicOrPartitionError": Failure.TOPIC_MISSING, "UnknownTopicIdError": Failure.TOPIC_MISSING,
    "KafkaConfigurationError": Failure.SETTINGS, "IllegalArgumentError": Failure.SETTINGS,
}


def _is_librdkafka_error(err: Any) -> bool:
    return callable(getattr(err, "name", None)) and callable(getattr(err, "str", None))


def classify(err: Any) -> KafkaFailure:
    """The kind of a kafka-python exception, a librdkafka ``KafkaError`` (or a ``KafkaException``
    holding one) or a Python exception, and whether it is retried."""
    args = getattr(err, "args", ())
    if isinstance(err, BaseException) and args and _is_librdkafka_error(args[0]):
        err = args[0]  # confluent_kafka.KafkaException wraps the KafkaError
    if _is_librdkafka_error(err):
        name, text = err.name(), err.str()
        if err.fatal():
            kind = Failure.BROKEN
        elif name == "_TRANSPORT" and "ssl" in text.lower():
            kind = Failure.TLS
        else:
            kind = _LIBRDKAFKA.get(name, Failure.OTHER)
        retriable = kind.retried if kind is not Failure.OTHER else bool(err.retriable())
        return KafkaFailure(kind, retriable, f"{name}: {text}")
    kind = next((_KAFKA_PYTHON[c.__name__] for c in type(err).__mro__ if c.__name__ in _KAFKA_PYTHON),
                Failure.OTHER)
    text = str(err)
    if kind is Failure.TIMED_OUT and "bootstrap" in text.lower():
        kind = Failure.UNREACHABLE  # kafka-python: "Unable to bootstrap from ..." (nobody answered)
    if isinstance(err, ssl.SSLError):
        kind = Failure.TLS
    if kind is Failure.OTHER:
        retriable = bool(getattr(err, "retriable", False))
    else:
        retriable = kind.retried
    name = type(err).__name__
    if not text:
        detail = name
    elif name in text:  # kafka-python's errors name themselves ("[Error 58] SaslAuthentication...")
        detail = text
    else:
        detail = f"{name}: {text}"
    return KafkaFailure(kind, retriable, detail)


def explain(failure: KafkaFailure, servers: str, doing: str,
            remedies: Mapping[Failure, str] | None = None) -> str:
    """``Kafka <servers>: <doing>: <what went wrong>; <what to do>`` for one failure;
    ``remedies`` replaces the general advice for some kinds (the dead-letter topic's own)."""
    remedy = (remedies or {}).get(failure.kind, failure.kind.remedy)
    return f"Kafka {servers}: {doing}: {failure}" + (f"; {remedy}" if remedy else "")


class Backoff:
    """Waits between attempts: ``first_s``, doubling, at most ``MAX_RETRY_S``.

    >>> b = Backoff()
    >>> [b.failed() for _ in range(7)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    >>> b.failures
    7
    >>> b.succeeded(); b.failed()
    1.0
    """

    def __init__(self, first_s: float = 1.0, max_s: float = MAX_RETRY_S):
        self.first_s = first_s
        self.max_s = max_s
        self.failures = 0

    def failed(self) -> float:
        """Count a failed attempt; the wait before the next one (s)."""
        self.failures += 1
        return min(self.first_s * 2 ** (self.failures - 1), self.max_s)

    def succeeded(self) -> None:
        self.failures = 0

    def attempt_timeout_s(self, limit_s: float) -> float:
        """How long the next connection attempt may take: short at first, so that an absent broker
        is reported at once, then longer, up to ``limit_s``."""
        return min(2.0 * 2 ** self.failures, limit_s)
