"""Consumers: where samples come from. Every source has the shape of ``base.Source``.

``CONSUMERS`` maps the original consumer names to classes. The CLI chooses the consumer: ``-f``
reads the config's ``file_name`` (FileConsumer), no flag reads the config's topics (KafkaSource),
``-fk`` the file and then the topics (FileKafkaSource).
"""
from pipeline.consumers.base import Poll, Source, SourceError
from pipeline.consumers.file import FileConsumer
from pipeline.consumers.file_kafka import FileKafkaSource
from pipeline.consumers.kafka import KafkaSource
from pipeline.registry import Registry

CONSUMERS: Registry[Source] = Registry(
    "consumer", {"ConsumerFile": FileConsumer, "ConsumerKafka": KafkaSource, "ConsumerFileKafka": FileKafkaSource},
    aliases={"File": "ConsumerFile", "Kafka": "ConsumerKafka", "FileKafka": "ConsumerFileKafka"})

__all__ = ["CONSUMERS", "FileConsumer", "FileKafkaSource", "KafkaSource", "Poll", "Source", "SourceError"]
