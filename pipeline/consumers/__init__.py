"""Consumers: where samples come from. Every source has the shape of ``base.Source``.

The CLI chooses the source (``pipeline.sources``): ``-f`` reads the config's ``file_name``
(``FileConsumer``), no flag reads the config's topics and ``-fk`` the file and then the topics
(both in ``pipeline.kafka``).
"""
from pipeline.consumers.base import Poll, Source, SourceError
from pipeline.consumers.file import FileConsumer

__all__ = ["FileConsumer", "Poll", "Source", "SourceError"]
