"""Kafka, in one package: the consumer (``source.KafkaSource``, kafka-python), the file-then-topics
source, the producers (``producer``, librdkafka), the dead-letter topic, the
config keys (``options.KafkaConfig``, one pydantic model), the client settings made from them
(``client_settings``), and one vocabulary for failures with the retry rules (``errors``).
``docs/KAFKA.md`` says why consuming and producing use different client libraries. Nothing here
imports the config loader, the run or the outputs: they import this (the Kafka output is
``pipeline.outputs.kafka``, writing through the producers here).
"""
