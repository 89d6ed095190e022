"""The source and dead-letter sink of a run, chosen by its mode (``-f``, no flag, ``-fk``).

This sits above the config and the Kafka package: it turns a validated ``RunConfig`` into a
``FileConsumer``, a ``KafkaSource`` or a ``FileKafkaSource``, each with where its bad records go.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from pipeline.config import ConfigError, RunConfig, input_widths
from pipeline.consumers.base import Source
from pipeline.consumers.file import FileConsumer
from pipeline.dead_letter import DeadLetterFile, DeadLetterSink, dead_letter_path
from pipeline.kafka.options import detector_topics
from pipeline.outputs.base import RunContext
from pipeline.run_modes import RunMode

log = logging.getLogger(__name__)


def stream_width(config: RunConfig) -> int:
    """The vector length of a file run: every detector reads the same samples, so they must agree."""
    widths = input_widths(config.detectors, ["file"] * len(config.detectors),
                          lambda _: "every detector reads the same file")
    return widths["file"]


def detector_topics_of(config: RunConfig) -> list[str]:
    """The topic each detector reads (``ConfigError`` when the config has no usable topics)."""
    if config.kafka is None:
        raise ConfigError("topics: required to read Kafka (run without -f), but the config has none")
    try:
        return detector_topics(config.kafka, len(config.detectors))
    except ValueError as err:
        raise ConfigError(str(err)) from None


def build_source(config: RunConfig, context: RunContext, mode: RunMode, run_id: str,
                 topics: Sequence[str] = ()) -> tuple[Source, DeadLetterSink]:
    """The source of a run in ``mode`` and its dead-letter sink; ``topics[i]`` is the topic
    detector ``i`` reads (Kafka modes). Nothing is opened here."""
    mode = RunMode(mode)
    if mode.reads_file and config.file_name is None:
        raise ConfigError(f"file_name: required to read a file ({'-f' if mode is RunMode.FILE else '-fk'}), "
                          "but the config has none")
    file_dead_letters = dead_letter_path(context.log_dir, config.name)
    if mode is RunMode.FILE:
        return FileConsumer(config.file_name, stream_width(config)), DeadLetterFile(file_dead_letters, run_id)
    return build_kafka_source(config, mode, topics, file_dead_letters, run_id)


def build_kafka_source(config: RunConfig, mode: RunMode, topics: Sequence[str], file_dead_letters: Path,
                       run_id: str) -> tuple[Source, DeadLetterSink]:
    """The source and dead-letter sink of a ``kafka`` or ``filekafka`` run; ``topics[i]`` is the
    topic detector ``i`` reads."""
    from pipeline.kafka.dead_letter import KafkaDeadLetter
    from pipeline.kafka.file_then_topics import FileKafkaSource
    from pipeline.kafka.source import KafkaSource

    kafka = config.kafka
    if not kafka.enable_auto_commit:
        log.debug("enable_auto_commit is false; offsets are still committed after results are written")
    widths = input_widths(config.detectors, topics, lambda topic: f"both read topic {topic!r}")
    source: Source = KafkaSource(kafka, widths, kafka.group_for(config.name))
    if mode is RunMode.FILE_THEN_KAFKA:
        source = FileKafkaSource(config.file_name, stream_width(config), source)
    if kafka.dead_letter == "file":
        return source, DeadLetterFile(file_dead_letters, run_id)
    return source, KafkaDeadLetter(kafka, file_dead_letters, run_id)
