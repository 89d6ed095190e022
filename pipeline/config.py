"""Configuration: JSON -> validated, frozen objects, before anything starts.

Reads the original project's format (see ``docs/CONFIG.md`` and the README): single-algorithm and
list forms, names with or without ``()``, the original aliases, ``output``/``output_conf``,
``visualization``/``visualization_conf``, Kafka keys and ``value_deserializer`` strings. Nothing is
evaluated. Every problem is reported with its key path, the bad value and what was expected, e.g.
``anomaly_detection_conf[0].UL: expected a number, got "4a"``; all problems are collected before
the error is raised.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.components import UPSTREAM_ALGORITHM_KEYS, ComponentConfig, describe_validation_error, validate_component
from pipeline.config_values import as_list, show
from pipeline.detectors import DETECTORS
from pipeline.detectors.band import stage_warnings
from pipeline.feature_config import FEATURE_KEYS, parse_features
from pipeline.features import FeatureSpec
from pipeline.kafka.options import KAFKA_KEYS, KafkaConfig, parse_kafka
from pipeline.normalization import NORMALIZERS
from pipeline.outputs import OUTPUTS
from pipeline.paths import CONFIG_DIR, PROJECT_ROOT
from pipeline.registry import Registry
from pipeline.timefilter import TimeFilterSyntaxError, TimeOfDayFilter, parse_time_filter
from pipeline.views import VIEWS

log = logging.getLogger(__name__)


#: Keys every algorithm configuration may carry, whatever the algorithm.
COMMON_KEYS = ("input_vector_size", "output", "output_conf", "visualization", "visualization_conf",
               "filtering", "normalization", "normalization_conf", "anomaly_likelihood", *FEATURE_KEYS)

#: What ``anomaly_likelihood`` turns a detector's scores into (one kind so far).
SCORE_POST_PROCESSING: Registry = Registry("score post-processing", {
    "AnomalyLikelihood": "pipeline.score_likelihood:AnomalyLikelihood"})

#: The longest feature vector a config may declare: a batch of 65,536 such samples is 512 MB.
MAX_INPUT_VECTOR_SIZE = 1000


class TopLevelKeys(BaseModel):
    """The keys of a config's top level, besides the Kafka keys (``pipeline.kafka.options``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    anomaly_detection_alg: Any = Field(description=(
        'the detector name ("Welford()", with or without "()"), or a list of names'))
    anomaly_detection_conf: Any = Field(default_factory=dict, description=(
        "one configuration object per detector, in the same order (an object for a single detector)"))
    file_name: str = Field(None, min_length=1, json_schema_extra={"expected": "a file path"},
                                     description="the input file of -f and -fk runs (CSV, JSON or JSON Lines)")
    filtering: Any = Field(None, description=(
        'one time-of-day filter per detector: "None" or "[[H, M, S], [H, M, S]]" (time, tolerance)'))


TOP_LEVEL_KEYS = (*TopLevelKeys.model_fields, *KAFKA_KEYS)


class DetectorKeys(BaseModel):
    """The keys every detector configuration has besides its detector's own parameters (the
    outputs, views, normalization, filter and feature keys are checked by their own parsers)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    input_vector_size: int = Field(ge=1, le=MAX_INPUT_VECTOR_SIZE, description="values per sample", json_schema_extra={
        "expected": f"a whole number from 1 to {MAX_INPUT_VECTOR_SIZE:,}"})


class ConfigError(ValueError):
    """One or more configuration problems, each naming the key path, the value and the fix."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def one_line(self) -> str:
        more = len(self.problems) - 1
        return self.problems[0] + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


@dataclass(frozen=True)
class DetectorConfig:
    """One entry of ``anomaly_detection_alg`` with its ``anomaly_detection_conf``."""

    index: int
    detector: ComponentConfig
    input_vector_size: int
    outputs: tuple[ComponentConfig, ...]
    visualizations: tuple[ComponentConfig, ...]
    time_filters: tuple[TimeOfDayFilter, ...] = ()
    features: FeatureSpec | None = None
    normalization: ComponentConfig | None = None
    likelihood: ComponentConfig | None = None

    @property
    def algorithm(self) -> str:
        return self.detector.name


@dataclass(frozen=True)
class RunConfig:
    """A whole validated configuration file."""

    source: Path
    detectors: tuple[DetectorConfig, ...]
    file_name: Path | None
    kafka: KafkaConfig | None

    @property
    def name(self) -> str:
        return self.source.stem


# -- resolving names ------------------------------------------------------------------------------

def input_widths(detectors: Sequence[DetectorConfig], streams: Sequence[str],
                 shared: Callable[[str], str]) -> dict[str, int]:
    """The vector length of each input stream, where ``detectors[i]`` reads ``streams[i]``; the
    detectors reading one stream must agree, or a ConfigError names both and ``shared(stream)``
    ("both read topic 't'")."""
    widths: dict[str, int] = {}
    first: dict[str, int] = {}
    for det, stream in zip(detectors, streams):
        if stream in widths and widths[stream] != det.input_vector_size:
            raise ConfigError(
                f"anomaly_detection_conf[{det.index}].input_vector_size: expected {widths[stream]} like "
                f"anomaly_detection_conf[{first[stream]}] ({shared(stream)}), got {det.input_vector_size}")
        widths.setdefault(stream, det.input_vector_size)
        first.setdefault(stream, det.index)
    return widths


def resolve_config_path(name: str | Path) -> Path:
    """``-c NAME``: a file in ``configuration/`` (sub-folders allowed, ``.json`` optional), else
    an existing path. Raises ConfigError naming every place tried."""
    tried = []
    for candidate in (CONFIG_DIR / name, CONFIG_DIR / f"{name}.json", Path(name), Path(f"{name}.json")):
        tried.append(str(candidate))
        if candidate.is_file():
            return candidate.resolve()
    raise ConfigError(f"config {str(name)!r} not found; tried {', '.join(dict.fromkeys(tried))}")


def resolve_data_path(name: str, config_path: Path) -> Path | None:
    """A data file named in a config: absolute, or relative to the project root, the config's
    folder or the current directory (first that exists)."""
    path = Path(name)
    if path.is_absolute():
        return path if path.is_file() else None
    for base in (PROJECT_ROOT, config_path.parent, Path.cwd()):
        if (base / path).is_file():
            return (base / path).resolve()
    return None


# -- the file as a whole --------------------------------------------------------------------------

def load_config(name: str | Path) -> RunConfig:
    """Find, read and validate a config file (see ``resolve_config_path``)."""
    path = resolve_config_path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config (a config is a few levels deep)") from None
    return parse_config(raw, path)


def parse_config(raw: Any, source: Path) -> RunConfig:
    """Validate a parsed config document; raises ConfigError listing every problem."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise ConfigError(f"{source.name}: expected a JSON object at the top level, got {show(raw)}")
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"{key}: unknown key; known: {', '.join(TOP_LEVEL_KEYS)}")
    try:
        TopLevelKeys.model_validate({k: v for k, v in raw.items() if k in TopLevelKeys.model_fields})
    except ValidationError as err:
        problems += [describe_validation_error(e, "", TopLevelKeys) for e in err.errors()]
    if "anomaly_detection_alg" not in raw:
        raise ConfigError(problems)
    algorithms = as_list(raw["anomaly_detection_alg"])
    confs = as_list(raw.get("anomaly_detection_conf", {}))
    if not algorithms:
        problems.append("anomaly_detection_alg: expected at least one algorithm, got []")
    if len(confs) != len(algorithms):
        problems.append(f"anomaly_detection_conf: expected {len(algorithms)} entries (one per "
                        f"anomaly_detection_alg), got {len(confs)}")
        raise ConfigError(problems)

    stream_filters = parse_stream_filters(raw.get("filtering"), len(algorithms), problems)
    detectors = []
    for i, (alg, conf) in enumerate(zip(algorithms, confs)):
        det = parse_detector(i, alg, conf, stream_filters[i], problems)
        if det is not None:
            detectors.append(det)

    file_name = None
    if isinstance(raw.get("file_name"), str) and raw["file_name"]:
        file_name = resolve_data_path(raw["file_name"], source)
        if file_name is None:
            problems.append(f"file_name: file {raw['file_name']!r} not found (relative names are "
                            f"looked up in {PROJECT_ROOT}, the config's folder and the current folder)")
    has_kafka_output = any(o.name == "KafkaOutput" for d in detectors for o in d.outputs)
    kafka = parse_kafka(raw, problems, for_outputs=has_kafka_output)
    if problems:
        raise ConfigError(problems)
    return RunConfig(source=source, detectors=tuple(detectors), file_name=file_name, kafka=kafka)


def parse_stream_filters(spec: Any, count: int, problems: list[str]) -> list[TimeOfDayFilter | None]:
    """The top-level ``filtering`` list: one time-of-day filter (or "None") per algorithm."""
    if spec is None:
        return [None] * count
    entries = as_list(spec)
    if len(entries) != count:
        problems.append(f"filtering: expected {count} entries (one per anomaly_detection_alg), got {len(entries)}")
        return [None] * count
    filters = []
    for i, entry in enumerate(entries):
        filters.append(parse_filter(entry, f"filtering[{i}]", problems))
    return filters


def parse_filter(entry: Any, path: str, problems: list[str]) -> TimeOfDayFilter | None:
    try:
        return parse_time_filter(entry)
    except TimeFilterSyntaxError as err:
        problems.append(f'{path}: expected "None" or "[[H, M, S], [H, M, S]]" (time of day, '
                        f'tolerance; {err}), got {show(entry)}')
        return None


def parse_detector(index: int, alg: Any, conf: Any, stream_filter: TimeOfDayFilter | None,
                   problems: list[str]) -> DetectorConfig | None:
    path = f"anomaly_detection_conf[{index}]"
    if not isinstance(conf, dict):
        problems.append(f"{path}: expected an object, got {show(conf)}")
        return None
    before = len(problems)

    size = None
    try:
        size = DetectorKeys.model_validate(conf).input_vector_size
    except ValidationError as err:
        problems += [describe_validation_error(e, path, DetectorKeys) for e in err.errors()]
    features = parse_features(conf, size, path, problems) if size is not None else None
    normalization = None
    if conf.get("normalization") not in (None, "None", []):
        found = parse_components(NORMALIZERS, conf, "normalization", "normalization_conf", path, problems)
        normalization = found[0] if len(found) == 1 else None
        if len(as_list(conf["normalization"])) > 1:
            problems.append(f"{path}.normalization: expected one normalization, got {show(conf['normalization'])}")

    filters = [f for f in (stream_filter, parse_filter(conf.get("filtering"), f"{path}.filtering", problems)) if f]
    likelihood = None
    if conf.get("anomaly_likelihood") not in (None, False):
        spec = conf["anomaly_likelihood"]
        likelihood, errors = validate_component(
            SCORE_POST_PROCESSING, "AnomalyLikelihood", {} if spec is True else spec,
            f"{path}.anomaly_likelihood", f"{path}.anomaly_likelihood")
        problems.extend(errors)

    outputs = parse_components(OUTPUTS, conf, "output", "output_conf", path, problems)
    if "output" not in conf:
        log.info("%s has no output; results go to listeners only", path)
    views = parse_components(VIEWS, conf, "visualization", "visualization_conf", path, problems)

    params = {k: v for k, v in conf.items() if k not in COMMON_KEYS}
    detector, errors = validate_component(
        DETECTORS, alg, params, f"anomaly_detection_alg[{index}]", path,
        ignorable=UPSTREAM_ALGORITHM_KEYS)
    problems.extend(errors)
    if len(problems) > before or detector is None:
        return None
    for note in stage_warnings(detector.params.get("warning_stages") or ()):
        log.warning("%s.warning_stages%s", path, note)
    return DetectorConfig(index=index, detector=detector, input_vector_size=size,
                          outputs=tuple(outputs), visualizations=tuple(views),
                          time_filters=tuple(filters), features=features, normalization=normalization,
                          likelihood=likelihood)


def parse_components(registry: Registry, conf: dict, names_key: str, confs_key: str, path: str,
                     problems: list[str]) -> list[ComponentConfig]:
    """``output``/``output_conf`` or ``visualization``/``visualization_conf`` of one algorithm."""
    if names_key not in conf:
        if confs_key in conf and as_list(conf[confs_key]) not in ([], [{}]):
            problems.append(f"{path}.{confs_key}: given without {names_key}")
        return []
    names = as_list(conf[names_key])
    confs = as_list(conf.get(confs_key, [{}] * len(names)))
    if len(confs) != len(names):
        problems.append(f"{path}.{confs_key}: expected {len(names)} entries (one per {names_key}), got {len(confs)}")
        return []
    components = []
    for i, (name, sub) in enumerate(zip(names, confs)):
        sub_path = f"{path}.{confs_key}[{i}]" if isinstance(conf.get(confs_key), list) else f"{path}.{confs_key}"
        name_path = f"{path}.{names_key}[{i}]" if isinstance(conf[names_key], list) else f"{path}.{names_key}"
        component, errors = validate_component(registry, name, sub, name_path, sub_path)
        problems.extend(errors)
        if component is not None:
            components.append(component)
    return components
