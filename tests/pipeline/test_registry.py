"""Registries: names resolve in every spelling, load their module on first use, and every
component kind rebuilds from ``params()``."""
from __future__ import annotations

import inspect
import json
import pkgutil
import subprocess
import sys
from importlib import import_module

import pytest

import pipeline.detectors
from pipeline.detectors import ALIASES, DETECTORS, LOCATIONS
from pipeline.detectors.base import Detector
from pipeline.normalization import NORMALIZERS
from pipeline.outputs import OUTPUTS
from pipeline.registry import Registry, UnknownComponentError
from pipeline.views import VIEWS
from tests.conftest import ROOT


def test_every_detector_class_is_listed_once_and_every_listing_resolves():
    defined = {}
    for info in pkgutil.iter_modules(pipeline.detectors.__path__):
        module = import_module(f"pipeline.detectors.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, Detector) and cls.__module__ == module.__name__
                    and not inspect.isabstract(cls) and "name" in vars(cls)):
                defined[f"{cls.__module__}:{cls.__qualname__}"] = cls
    assert sorted(LOCATIONS.values()) == sorted(defined)
    for name in LOCATIONS:
        assert issubclass(DETECTORS.resolve(name), Detector)
    for alias, name in ALIASES.items():
        assert DETECTORS.resolve(f" {alias}() ") is DETECTORS.resolve(name)


def test_a_run_loads_only_the_detectors_it_names():
    code = ("import json, sys\n"
            "from pipeline.config import load_config\n"
            "load_config('default.json')\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('pipeline.detectors.'))))\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sklearn', 'numba', 'skops', 'confluent_kafka', 'kafka'})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    detectors, heavy = result.stdout.splitlines()
    detector_modules = {location.partition(":")[0] for location in LOCATIONS.values()}
    assert sorted(detector_modules & set(json.loads(detectors))) == ["pipeline.detectors.ema",
                                                                     "pipeline.detectors.welford"]
    assert json.loads(heavy) == []


def test_a_module_is_imported_on_first_resolve_only():
    registry = Registry("thing", {"Fraction": "fractions:Fraction"}, {"frac": "Fraction"})
    assert not registry.is_loaded("Fraction")
    assert registry.resolve("frac()").__name__ == "Fraction"
    assert registry.is_loaded("Fraction")
    with pytest.raises(UnknownComponentError, match="known: Fraction"):
        registry.resolve("Decimal")


def test_a_location_without_a_class_name_is_refused_at_once():
    with pytest.raises(ValueError, match="module:Class"):
        Registry("thing", {"Fraction": "fractions.Fraction"})


def test_memory_output_is_not_a_config_name():
    """It keeps every result in memory: fine for tests, unbounded on an endless stream."""
    assert "MemoryOutput" not in OUTPUTS


@pytest.mark.parametrize("registry, name, conf", [
    (NORMALIZERS, "LastNAverage", {"N": 3}),
    (NORMALIZERS, "PeriodicLastNAverage", {"N": 2, "period": 5}),
    (OUTPUTS, "TerminalOutput", {}),
    (OUTPUTS, "FileOutput", {"file_name": "x.csv", "send_ok": False}),
    (VIEWS, "GraphVisualization", {"num_of_points": 50}),
    (VIEWS, "HistogramVisualization", {"num_of_bins": 7, "range": [0.0, 1.0]}),
    (VIEWS, "StatusPointsVisualization", {}),
])
def test_every_kind_rebuilds_from_params(registry, name, conf):
    cls = registry.resolve(name)
    component = cls(**conf)
    params = component.params()
    assert set(params) == set(cls.parameter_names())
    assert {k: params[k] for k in conf} == conf
    assert type(component)(**params).params() == params


def test_a_component_whose_library_is_missing_is_a_config_problem_not_a_traceback():
    from pipeline.components import validate_component

    registry = Registry("detector", {"Gone": "no_such_library_here:Gone"})
    component, problems = validate_component(registry, "Gone()", {}, "anomaly_detection_alg[0]",
                                             "anomaly_detection_conf[0]")
    assert component is None
    assert problems == ["anomaly_detection_alg[0]: Gone cannot be loaded on this machine (No module named "
                        "'no_such_library_here'); install the requirements again: bash scripts/setup.sh"]
