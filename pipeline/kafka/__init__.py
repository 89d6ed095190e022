"""Kafka, in one package: the consumer (``source.KafkaSource``, kafka-python), the file-then-topics
source, the producers (``producer``, librdkafka), the dead-letter topic, the Kafka output, the
client options and the retry rules. ``docs/KAFKA.md`` says why consuming and producing use
different client libraries. Nothing here imports the config loader or the run: they import this.
"""
