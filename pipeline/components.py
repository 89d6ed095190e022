"""Validating a component's config entry against its constructor, for every kind.

A component (detector, normalizer, output, view, a Combination's member or status determiner) is
chosen by name in a ``Registry`` and configured by keyword arguments. ``validate_component`` builds a
strict pydantic model from the class's annotated constructor signature (``parameter_model``),
checks the entry against it and then builds the class once, which checks relations between
parameters (``ParameterError``). Every problem names the key path, the value and what was expected.
This sits below the config loader and the detectors, so a Combination validates its members with
the same code the loader uses for top-level detectors.
"""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from pipeline.config_values import show
from pipeline.parameters import ParameterError
from pipeline.registry import Registry, UnknownComponentError

log = logging.getLogger(__name__)

#: Keys that some algorithm of the original project read. In the configuration of a detector that
#: does not use them they are ignored with a warning (the original ignored them too); any other
#: unknown key is an error, since it is most likely a typo.
UPSTREAM_ALGORITHM_KEYS = frozenset({
    "UL", "LL", "N", "X", "warning_stages", "mode", "filter_order", "cutoff_frequency", "n_sigmas",
    "W", "K", "period1", "period2", "decay", "averaging", "percentile", "window", "start_on",
    "period", "num_trees", "tree_size", "threshold", "eps", "min_samples", "treshold",
    "confidence_norm", "train_conf", "train_data", "load_model_from", "retrain_interval",
    "samples_for_retrain", "retrain_file", "anomaly_detection_alg", "anomaly_detection_conf",
    "status_determiner", "status_determiner_conf", "shift", "percentile_range", "N_components",
    "model_name", "buff_size", "history_file", "conf_name",
})


@dataclass(frozen=True)
class ComponentConfig:
    """A component chosen by name, with its validated constructor arguments."""

    name: str
    params: Mapping[str, Any]
    path: str

    def build(self, registry: Registry):
        return registry.resolve(self.name)(**self.params)


_models: dict[type, type] = {}


def parameter_model(cls: type):
    """A strict pydantic model of ``cls.__init__``'s annotated parameters (cached)."""
    if cls not in _models:
        hints = get_type_hints(cls.__init__, include_extras=True)
        fields = {}
        for name, param in inspect.signature(cls.__init__).parameters.items():
            if name == "self":
                continue
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[name] = (hints.get(name, Any), default)
        _models[cls] = create_model(f"{cls.__name__}Parameters",
                                    __config__=ConfigDict(extra="forbid", strict=True, allow_inf_nan=False), **fields)
    return _models[cls]


_EXPECTED = {
    "float_type": "a number", "float_parsing": "a number", "int_type": "an integer",
    "int_from_float": "an integer", "int_parsing": "an integer", "bool_type": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "an object",
    "finite_number": "a finite number",
}


def describe_validation_error(err: dict, path: str, model: type[BaseModel] | None = None) -> str:
    """One pydantic error as ``key.path: expected ..., got <value>``. A field of ``model`` may word
    its expectation itself: ``Field(json_schema_extra={"expected": "a whole number from 1 to 9"})``."""
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
    where = f"{path}{loc}".lstrip(".")
    kind = err["type"]
    ctx = err.get("ctx") or {}
    field = model.model_fields.get(err["loc"][0]) if model is not None and err["loc"] else None
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    if kind == "missing":
        return f"{where}: required key is missing"
    if kind == "extra_forbidden":
        return f"{where}: unknown key (value {show(err['input'])})"
    if "expected" in extra:
        expected = extra["expected"]
    elif kind in _EXPECTED:
        expected = _EXPECTED[kind]
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
                "less_than_equal": "<="}[kind]
        limit = next(iter(ctx.values()))
        if isinstance(limit, int) and not isinstance(limit, bool):
            expected = f"a number {sign} {limit:,}"
        elif isinstance(limit, float):
            expected = f"a number {sign} {limit:g}"
        else:
            expected = f"a number {sign} {limit}"
    elif kind == "literal_error":
        expected = f"one of {ctx.get('expected')}"
    elif kind in ("too_short", "too_long", "string_too_short"):
        expected = (err["msg"].replace("Value should have", "a value with")
                    .replace("String should have", "a string with"))
    else:
        expected = err["msg"][0].lower() + err["msg"][1:]
    return f"{where}: expected {expected}, got {show(err['input'])}"


def validate_component(registry: Registry, name: Any, conf: Any, name_path: str, conf_path: str,
                       ignorable: frozenset = frozenset()) -> tuple[ComponentConfig | None, list[str]]:
    """Resolve ``name`` in ``registry`` and validate ``conf`` against the class's constructor.

    Keys in ``ignorable`` that the class does not take are dropped with a warning."""
    try:
        canonical = registry.canonical_name(name)
    except UnknownComponentError as err:
        return None, [f"{name_path}: {err}"]
    if conf is None:
        conf = {}
    if not isinstance(conf, dict):
        return None, [f"{conf_path}: expected an object, got {show(conf)}"]
    try:
        cls = registry.resolve(canonical)
    except ImportError as err:  # a library of the component is missing or broken on this machine
        if (err.name or "").split(".")[0] == "pipeline":
            raise  # our own module: a bug, not something a user can install
        return None, [f"{name_path}: {canonical} cannot be loaded on this machine ({err}); install the "
                      "requirements again: bash scripts/setup.sh"]
    model = parameter_model(cls)
    accepted = set(model.model_fields)
    params = {}
    for key, value in conf.items():
        if key in accepted:
            params[key] = value
        elif key in ignorable:
            log.warning("%s.%s is not used by %s; ignored", conf_path, key, canonical)
        else:
            params[key] = value  # let the model report it as unknown
    try:
        validated = model.model_validate(params)
    except ValidationError as err:
        return None, [describe_validation_error(e, conf_path) for e in err.errors()]
    kwargs = {k: getattr(validated, k) for k in model.model_fields}
    try:
        cls(**kwargs)  # constructors do no I/O; this checks relations between parameters
    except MemoryError:
        return None, [f"{conf_path}: these parameters need more memory than this machine has; "
                      "lower the window and size parameters"]
    except ParameterError as err:
        nested = getattr(err, "problems", None)  # e.g. a Combination's member configs
        if nested:
            return None, [f"{conf_path}.{problem}" for problem in nested]
        return None, [f"{conf_path}.{err.key}: expected {err.expected}, got {show(err.value)}"]
    return ComponentConfig(canonical, MappingProxyType(kwargs), conf_path), []
