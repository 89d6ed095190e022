"""The Kafka keys of a config (no broker needed): original keys, security options with secrets
from the environment, dead-letter choice, KafkaOutput parameters, topic/width pairing."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.dead_letter import DeadLetterFile
from pipeline.kafka.client_settings import kafka_python_consumer
from pipeline.kafka.dead_letter import KafkaDeadLetter
from pipeline.kafka.options import KAFKA_KEY_DESCRIPTIONS, KAFKA_KEYS, KafkaConfig, parse_kafka
from pipeline.outputs import OUTPUTS
from pipeline.records import RejectedRecord
from pipeline.run import RunSetup

BC = {"input_vector_size": 1, "UL": 4, "LL": 2, "warning_stages": []}


def kafka(raw: dict, environ: dict | None = None):
    problems: list[str] = []
    config = parse_kafka(raw, problems, environ={} if environ is None else environ)
    return config, problems


def test_original_keys_keep_their_meaning_and_get_defaults():
    config, problems = kafka({"bootstrap_servers": "b:9092", "topics": ["t"], "enable_auto_commit": "False",
                              "value_deserializer": "lambda x: loads(x.decode('utf-8'))"})
    assert problems == []
    assert config.bootstrap_servers == ("b:9092",) and config.topics == ("t",)
    assert config.enable_auto_commit is False and config.auto_offset_reset == "latest"
    assert config.group_for("myconf") == "stream-anomaly-monitor.myconf"
    assert config.session_timeout_ms == 10000 and config.dead_letter_topic_for("t") == "t.dlq"


def test_security_options_reach_the_clients_and_secrets_may_come_from_the_environment(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    raw = {"topics": ["t"], "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
           "sasl_plain_username": "monitor", "ssl_cafile": str(ca)}
    config, problems = kafka(raw, environ={"KAFKA_SASL_PLAIN_PASSWORD": "s3cret", "KAFKA_SASL_PLAIN_USERNAME": "env"})
    assert problems == []
    options = kafka_python_consumer(config, "g")
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "monitor"  # the file wins over the environment
    assert options["sasl_plain_password"] == "s3cret" and options["ssl_cafile"] == str(ca)
    assert "s3cret" not in repr(config) and "s3cret" not in str(config)
    assert "s3cret" not in config.model_dump_json()


def test_a_secret_of_the_wrong_type_is_refused_without_showing_it():
    _, problems = kafka({"topics": ["t"], "security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
                         "sasl_plain_username": "u", "sasl_plain_password": 918273645})
    assert problems == ["sasl_plain_password: expected a non-empty string, got a number (a secret's value is "
                        "never shown)"]


def test_every_key_has_its_description_beside_its_field():
    assert set(KAFKA_KEY_DESCRIPTIONS) == set(KAFKA_KEYS) == set(KafkaConfig.model_fields)
    assert all(KAFKA_KEY_DESCRIPTIONS.values())
    assert "KAFKA_SSL_PASSWORD" in KafkaConfig.model_fields["ssl_password"].description


def test_sasl_without_credentials_names_the_environment_variable():
    config, problems = kafka({"topics": ["t"], "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN"})
    assert problems == [
        "sasl_plain_username: required with sasl_mechanism PLAIN; put it in the config or in the "
        "environment variable KAFKA_SASL_PLAIN_USERNAME",
        "sasl_plain_password: required with sasl_mechanism PLAIN; put it in the config or in the "
        "environment variable KAFKA_SASL_PLAIN_PASSWORD"]


@pytest.mark.parametrize("raw,expected", [
    ({"security_protocol": "TLS"}, "security_protocol: expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
    ({"security_protocol": "SASL_SSL"}, "sasl_mechanism: required with security_protocol SASL_SSL"),
    ({"ssl_cafile": "/no/such/ca.pem"}, 'ssl_cafile: expected a PEM file that exists, got "/no/such/ca.pem" '
                                        '(no such file)'),
    ({"dead_letter": "db"}, 'dead_letter: expected one of topic, file, got "db"'),
    ({"dead_letter_topic": "bad topic"}, "dead_letter_topic: expected a topic name"),
    ({"dead_letter_topic": "{topic}"}, "dead_letter_topic: expected a topic other than the input topic it serves"),
    ({"topics": ["ok", "has space"]}, 'topics[1]: expected a topic name (at most 249 letters, digits, \'.\', '
                                      '\'_\', \'-\'), got "has space"'),
    ({"topics": 5}, 'topics: expected a list of topic names (letters, digits, \'.\', \'_\', \'-\'), got 5'),
    ({"topics": "t", "bootstrap_servers": []}, 'bootstrap_servers: expected "host:port" or a list of them, got []'),
    ({"session_timeout_ms": 3000}, "heartbeat_interval_ms: expected less than session_timeout_ms (3000), got 3000"),
    ({"session_timeout_ms": "10000"}, 'session_timeout_ms: expected a whole number of milliseconds >= 1, got "10000"'),
    ({"ssl_check_hostname": "no"}, 'ssl_check_hostname: expected true or false, got "no"'),
    ({"auto_offset_reset": "smallest"}, 'auto_offset_reset: expected "earliest" or "latest", got "smallest"'),
    ({"sasl_mechanism": "PLAIN"}, 'sasl_mechanism: needs security_protocol SASL_PLAINTEXT or SASL_SSL, '
                                  'got security_protocol "PLAINTEXT"'),
])
def test_bad_kafka_values_are_refused_with_the_key(raw, expected):
    _, problems = kafka({"topics": ["t"], **raw})
    assert len(problems) == 1 and problems[0].startswith(expected), problems


@pytest.mark.parametrize("key", KAFKA_KEYS)
def test_any_value_of_any_key_is_judged_with_a_message_naming_the_key_never_an_exception(key):
    for value in (None, 5, -1, 1.5, True, "", " ", "x y", [], [1], [""], ["a b"], {}, {"a": 1}):
        config, problems = kafka({"topics": ["t"], key: value})
        if key == "topics" and value is None:  # null is "not given": a config without Kafka
            assert config is None and problems == []
            continue
        assert (config is None) == bool(problems)
        for message in problems:  # a disagreement between keys may be named after the other key
            assert message.split(":")[0].split("[")[0] in KAFKA_KEYS, message
            assert "expected" in message or "required" in message or "needs" in message, message


def test_every_kafka_key_is_an_allowed_top_level_key():
    raw = {"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC], "topics": ["t"],
           "dead_letter": "file", "dead_letter_topic": "{topic}-dead", "client_id": "x",
           "session_timeout_ms": 9000, "heartbeat_interval_ms": 2000, "security_protocol": "PLAINTEXT"}
    config = parse_config(raw, Path("k.json"))
    assert set(raw) - {"anomaly_detection_alg", "anomaly_detection_conf"} <= set(KAFKA_KEYS)
    assert config.kafka.dead_letter == "file" and config.kafka.dead_letter_topic_for("a") == "a-dead"


def test_dead_letters_go_to_a_topic_by_default_or_to_a_file(tmp_path):
    base = {"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC], "topics": ["t"]}
    sink = RunSetup(parse_config(base, Path("k.json")), tmp_path, mode="kafka").dead_letter
    assert isinstance(sink, KafkaDeadLetter) and sink.describe() == "Kafka topic(s) <topic>.dlq"
    sink = RunSetup(parse_config({**base, "dead_letter": "file"}, Path("k.json")), tmp_path, mode="kafka").dead_letter
    assert isinstance(sink, DeadLetterFile) and sink.path == tmp_path / "k.dead_letter.jsonl"


def test_file_rows_of_a_kafka_run_are_dead_letters_tagged_with_the_run_id(tmp_path):
    raw = {"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC], "topics": ["t"]}
    setup = RunSetup(parse_config(raw, Path("k.json")), tmp_path, mode="kafka")
    sink = setup.dead_letter
    assert isinstance(sink, KafkaDeadLetter) and sink.fallback.run_id == setup.run_id
    sink.fallback.open()
    sink.write([RejectedRecord(location="k.csv line 3", position=3, reason="not a number", raw="x")])
    sink.fallback.close()
    assert f'"run":"{setup.run_id}"' in (tmp_path / "k.dead_letter.jsonl").read_text()


def test_security_keys_reach_the_kafka_outputs_of_a_config_without_topics():
    config = parse_config({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC],
                           "security_protocol": "SSL", "ssl_check_hostname": False}, Path("k.json"))
    assert config.kafka.security_protocol == "SSL" and config.kafka.topics == ()
    assert parse_config({"anomaly_detection_alg": ["BorderCheck()"], "anomaly_detection_conf": [BC]},
                        Path("k.json")).kafka is None


def test_detectors_reading_one_topic_must_agree_on_the_vector_length(tmp_path):
    raw = {"anomaly_detection_alg": ["BorderCheck()", "BorderCheck()"], "topics": ["t", "t"],
           "anomaly_detection_conf": [BC, {**BC, "input_vector_size": 2}]}
    with pytest.raises(ConfigError, match=r"anomaly_detection_conf\[1\].input_vector_size: expected 1 like "
                                          r"anomaly_detection_conf\[0\] \(both read topic 't'\), got 2"):
        RunSetup(parse_config(raw, Path("k.json")), tmp_path, mode="kafka")
    # different topics may carry different vector lengths
    source = RunSetup(parse_config({**raw, "topics": ["t", "u"]}, Path("k.json")), tmp_path, mode="kafka").source
    assert source.widths == {"t": 1, "u": 2}


def test_kafka_output_topic_follows_the_original_naming_or_is_given():
    assert OUTPUTS.resolve("KafkaOutput()")(node_id=7).topic_name == "anomalies_7"
    assert OUTPUTS.resolve("KafkaOutput")(topic="alerts").topic_name == "alerts"
    raw = {"anomaly_detection_alg": ["BorderCheck()"],
           "anomaly_detection_conf": [{**BC, "output": ["KafkaOutput()"], "output_conf": [{}]}]}
    with pytest.raises(ConfigError, match=r"anomaly_detection_conf\[0\].output_conf\[0\].node_id: expected "
                                          r"node_id \(topic anomalies_<node_id>\) or topic"):
        parse_config(raw, Path("k.json"))


@pytest.mark.parametrize("key", ["client_id", "security_protocol", "dead_letter", "dead_letter_topic",
                                 "auto_offset_reset", "session_timeout_ms"])
def test_a_null_key_means_its_default_as_in_the_original(key):
    config, problems = kafka({"topics": ["t"], key: None})
    assert problems == [] and getattr(config, key) == KafkaConfig.model_fields[key].default


def test_wrong_kafka_keys_without_topics_or_servers_are_ignored_with_a_warning_as_before(caplog):
    """A file config may still carry keys of a former Kafka use; they never stopped its -f runs."""
    config, problems = kafka({"group_id": "g", "auto_offset_reset": "Latest"})
    assert config is None and problems == []
    assert ('auto_offset_reset: expected "earliest" or "latest", got "Latest" (ignored: the config has no '
            "topics or bootstrap_servers)") in caplog.text


def test_wrong_kafka_keys_are_errors_when_a_kafka_output_needs_them_even_without_topics():
    """Without topics the keys still configure the config's Kafka outputs: a wrong one must not
    silently leave them writing in plain text to localhost."""
    raw = {"anomaly_detection_alg": ["BorderCheck()"], "security_protocol": "SASL_SSL", "session_timeout_ms": -1,
           "anomaly_detection_conf": [BC | {"output": ["KafkaOutput()"], "output_conf": [{"node_id": "n"}]}]}
    with pytest.raises(ConfigError, match="session_timeout_ms: expected"):
        parse_config(raw, Path("k.json"))
