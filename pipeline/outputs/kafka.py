"""KafkaOutput: every record as a JSON message on a Kafka topic, acknowledged before offsets are
committed.

The topic is ``anomalies_<node_id>`` as in the original, or ``topic``. Messages go to the config's
own ``bootstrap_servers`` (with its security options) and are keyed by the key of the input
message, so the results of one key stay in order on one partition. A message holds the fields of
a file output record: ``timestamp, status, status_code, value, [suggested_value,] algorithm,
score``; ``timestamp`` is the input message's number in its own unit (seconds or milliseconds),
ISO 8601 text as epoch seconds (``pipeline/outputs/formatting.py``).
"""
from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from pydantic import Field

from pipeline.kafka.client_settings import ProducerSettings
from pipeline.kafka.errors import Failure
from pipeline.kafka.options import KafkaConfig
from pipeline.kafka.producer import Producer, open_producer
from pipeline.outputs.base import Output, RunContext
from pipeline.outputs.formatting import json_records
from pipeline.parameters import ParameterError
from pipeline.records import ResultBatch


class KafkaOutput(Output):
    """Writes records to a Kafka topic; ``flush()`` waits until the broker has them.

    Parameters
    ----------
    node_id : str or int
        The original naming: the topic is ``anomalies_<node_id>``.
    topic : str
        An explicit topic instead (one of ``node_id`` and ``topic`` is needed).
    has_suggested_value : bool
        Include ``suggested_value`` when a detector gives one (default true).
    send_ok : bool
        Write OK records too (default true).
    acks : "all", 1 or 0
        How many brokers must have a message before it counts as written (default "all").
    enable_idempotence : bool
        No duplicates from the producer's own retries (default true; needs acks "all").
    linger_ms : int
        How long the producer may wait to fill a batch (default 5).
    compression_type : str or None
        "gzip", "snappy", "lz4", "zstd" or None (default).
    delivery_timeout_ms : int
        How long a message may take to be acknowledged, retries included, before the run stops
        with an error (default 120000).
    """

    def __init__(
        self,
        node_id: Annotated[str | int | None, Field(description="topic anomalies_<node_id>")] = None,
        topic: Annotated[str | None, Field(min_length=1, description="explicit topic instead of node_id")] = None,
        has_suggested_value: Annotated[bool, Field(description="include suggested_value when there is one")] = True,
        send_ok: Annotated[bool, Field(description="write OK records too")] = True,
        acks: Annotated[Literal["all", 1, 0], Field(description="acknowledgements a write waits for")] = "all",
        enable_idempotence: Annotated[bool, Field(description="no duplicates from producer retries")] = True,
        linger_ms: Annotated[int, Field(ge=0, description="batching delay (ms)")] = 5,
        compression_type: Annotated[Literal["gzip", "snappy", "lz4", "zstd"] | None,
                                    Field(description="message compression")] = None,
        delivery_timeout_ms: Annotated[int, Field(ge=1000, description="give up on a write after (ms)")] = 120000,
    ):
        self.node_id = node_id
        self.topic = topic
        self.has_suggested_value = has_suggested_value
        self.send_ok = send_ok
        self.acks = acks
        self.enable_idempotence = enable_idempotence
        self.linger_ms = linger_ms
        self.compression_type = compression_type
        self.delivery_timeout_ms = delivery_timeout_ms
        if topic is None and node_id is None:
            raise ParameterError("node_id", None, "node_id (topic anomalies_<node_id>) or topic")
        if enable_idempotence and acks != "all":
            raise ParameterError("acks", acks, '"all" when enable_idempotence is true')
        self.topic_name = topic if topic is not None else f"anomalies_{node_id}"
        self._producer: Producer | None = None

    def open(self, context: RunContext) -> None:
        # a config without Kafka keys writes to localhost:9092, as the original did
        kafka = context.kafka if context.kafka is not None else KafkaConfig()
        settings = ProducerSettings(acks=self.acks, enable_idempotence=self.enable_idempotence,
                                    linger_ms=self.linger_ms, compression_type=self.compression_type,
                                    delivery_timeout_ms=self.delivery_timeout_ms)
        remedies = {Failure.TOPIC_MISSING: "create it, or correct topic or node_id in output_conf"}
        self._producer = open_producer(kafka, f"results for {self.topic_name}", settings, remedies)

    def write_selected(self, results: ResultBatch) -> None:
        if not self.has_suggested_value and results.suggested_value is not None:
            results = dataclasses.replace(results, suggested_value=None)
        self._producer.send_all(self.topic_name, json_records(results), results.samples.key or None)

    def flush(self) -> None:
        if self._producer is not None:
            self._producer.flush()

    def close(self) -> None:
        if self._producer is not None:
            try:
                self.flush()
            finally:
                self._producer.close()
                self._producer = None
