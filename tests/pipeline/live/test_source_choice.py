"""Which sources a config offers a viewer, and what the window says about them (no Qt needed)."""
from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.live.source_choice import (
    available_modes,
    describe,
    mode_tip,
    waiting_texts,
    what_start_reads,
    why_unavailable,
)
from pipeline.run_modes import RunMode
from tests.conftest import write_config

DETECTOR = {"anomaly_detection_alg": ["BorderCheck()", "EMA()"],
            "anomaly_detection_conf": [{"input_vector_size": 1, "UL": 1, "LL": 0},
                                       {"input_vector_size": 1, "N": 5, "UL": 1, "LL": 0}]}


@pytest.fixture
def config(tmp_path):
    def make(name, **keys):
        return load_config(write_config(tmp_path / f"{name}.json", {**keys, **DETECTOR}))
    return make


def test_a_config_offers_the_file_its_topics_or_both(config):
    assert available_modes(None) == []
    assert available_modes(config("none")) == []
    assert available_modes(config("file", file_name="resources/data/ads-1.csv")) == [RunMode.FILE]
    assert available_modes(config("kafka", topics=["sensors"])) == [RunMode.KAFKA]
    both = config("both", file_name="resources/data/ads-1.csv", topics=["sensors"],
                  bootstrap_servers=["broker:9092"])
    assert available_modes(both) == [RunMode.FILE, RunMode.KAFKA, RunMode.FILE_THEN_KAFKA]
    assert describe(both, RunMode.FILE) == "ads-1.csv"
    assert describe(both, RunMode.KAFKA) == "Kafka sensors @ broker:9092"
    assert describe(both, RunMode.FILE_THEN_KAFKA) == "ads-1.csv, then Kafka sensors @ broker:9092"


def test_what_is_not_offered_says_why(config):
    file_only = config("default", file_name="resources/data/ads-1.csv")
    assert mode_tip(file_only, RunMode.FILE) == "ads-1.csv"
    assert mode_tip(file_only, RunMode.KAFKA) == "Not available: the config has no Kafka topics"
    assert mode_tip(None, RunMode.KAFKA) == ""
    assert what_start_reads(file_only, RunMode.KAFKA) == "nothing to read"
    why = why_unavailable(file_only, RunMode.KAFKA, current=RunMode.FILE)
    assert "default has no Kafka topics" in why and "python main.py -c default" in why
    assert why.endswith("Press Start to replay its file, as `python main.py --gui -c default -f` does.")
    kafka_only = config("live", topics=["sensors"])
    assert why_unavailable(kafka_only, RunMode.FILE, current=RunMode.KAFKA).startswith(
        "live has no file_name, so there is no file to replay.")


def test_panels_of_a_kafka_run_name_the_topic_they_wait_for(config):
    both = config("both", file_name="resources/data/ads-1.csv", topics=["a", "b"])
    assert waiting_texts(both, RunMode.FILE) == ["", ""]
    assert waiting_texts(both, RunMode.KAFKA) == ["topic a (one panel per message key)",
                                                  "topic b (one panel per message key)"]
    three = config("three", topics=["a", "b", "c"])  # neither one topic nor one per detector
    assert waiting_texts(three, RunMode.KAFKA) == ["", ""]
