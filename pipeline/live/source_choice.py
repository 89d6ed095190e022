"""Which sources a config lets a viewer run, and how to say so: the window's Source box, its
tooltips, the run label and the note on panels still waiting for data, without Qt.

A config with a ``file_name`` can replay it (``RunMode.FILE``); one with Kafka topics can read
them (``KAFKA``); one with both can also read the file as warm-up and then the topics
(``FILE_THEN_KAFKA``).
"""
from __future__ import annotations

from pipeline.config import RunConfig
from pipeline.kafka.options import detector_topics
from pipeline.run_modes import RunMode

#: Why a mode is not offered, by mode.
MISSING = {RunMode.FILE: "the config has no file_name",
           RunMode.KAFKA: "the config has no Kafka topics",
           RunMode.FILE_THEN_KAFKA: "needs both a file_name and Kafka topics"}


def has_topics(config: RunConfig | None) -> bool:
    return config is not None and config.kafka is not None and bool(config.kafka.topics)


def available_modes(config: RunConfig | None) -> list[RunMode]:
    """The modes ``config`` allows, in ``RunMode`` order (none without a config)."""
    if config is None:
        return []
    has_file = config.file_name is not None
    allowed = {RunMode.FILE: has_file, RunMode.KAFKA: has_topics(config),
               RunMode.FILE_THEN_KAFKA: has_file and has_topics(config)}
    return [mode for mode in RunMode if allowed[mode]]


def describe(config: RunConfig | None, mode: RunMode) -> str:
    """What ``mode`` reads: ``"ads-1.csv"``, ``"Kafka sensors @ localhost:9092"`` or both."""
    mode = RunMode(mode)
    file_text = config.file_name.name if config and config.file_name else "no file"
    if mode is RunMode.FILE:
        return file_text
    kafka = config.kafka if config else None
    topics = ", ".join(dict.fromkeys(kafka.topics)) if kafka else ""
    servers = ",".join(kafka.bootstrap_servers) if kafka else ""
    text = f"Kafka {topics} @ {servers}"
    return f"{file_text}, then {text}" if mode is RunMode.FILE_THEN_KAFKA else text


def what_start_reads(config: RunConfig, mode: RunMode) -> str:
    """The run label's text: what ``mode`` reads, or "nothing to read" when the config lacks it."""
    return describe(config, mode) if mode in available_modes(config) else "nothing to read"


def mode_tip(config: RunConfig | None, mode: RunMode) -> str:
    """The tooltip of a Source entry: what it reads, or why it is not offered."""
    if mode in available_modes(config):
        return describe(config, mode)
    return f"Not available: {MISSING[mode]}" if config is not None else ""


def why_unavailable(config: RunConfig | None, mode: RunMode, current: RunMode) -> str:
    """Why ``config`` cannot run ``mode``, and what Start does instead (it runs ``current``)."""
    name = config.name if config else "CONFIG"
    if mode.reads_kafka and not has_topics(config):
        why = (f"{name} has no Kafka topics, so there is nothing to read from Kafka "
               f"(`python main.py -c {name}` stops for the same reason). Add `topics` and "
               "`bootstrap_servers` to the config to watch Kafka here.")
    else:
        why = f"{name} has no file_name, so there is no file to replay."
    instead = {RunMode.FILE: f"replay its file, as `python main.py --gui -c {name} -f` does",
               RunMode.KAFKA: f"read its Kafka topics, as `python main.py --gui -c {name}` does"}
    if current in instead and current in available_modes(config):
        why += f"\n\nPress Start to {instead[current]}."
    return why


def waiting_texts(config: RunConfig, mode: RunMode) -> list[str]:
    """For each detector, what its first panel waits for before any data: a live run's topic
    (each message key gets a panel of its own), nothing for a file run."""
    count = len(config.detectors)
    if not mode.reads_kafka or not has_topics(config):
        return [""] * count
    try:
        topics = detector_topics(config.kafka, count)
    except ValueError:
        return [""] * count
    return [f"topic {topic} (one panel per message key)" for topic in topics]
