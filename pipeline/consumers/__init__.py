"""Consumers: where samples come from. Every source has the shape of ``base.Source``.

``CONSUMERS`` maps the original consumer names to classes. The CLI chooses the consumer: ``-f``
reads the config's ``file_name`` (FileConsumer); Kafka comes with the Kafka consumer.
"""
from pipeline.consumers.base import Poll, Source, SourceError
from pipeline.consumers.file import FileConsumer
from pipeline.registry import Registry

CONSUMERS: Registry[Source] = Registry("consumer", {"ConsumerFile": FileConsumer},
                                       aliases={"File": "ConsumerFile"})

__all__ = ["CONSUMERS", "FileConsumer", "Poll", "Source", "SourceError"]
