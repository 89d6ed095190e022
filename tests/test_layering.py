"""The layering of the code, checked by import-linter (contracts in pyproject.toml) and here.

Higher layers import lower ones, never the reverse: gui on top, then pipeline.live, the run
set-up, the engine and the config loader, the Kafka package, the component packages (detectors,
outputs, consumers, which must not import each other) and the values at the bottom. The engine
never imports Qt, so the headless CLI runs where no Qt exists.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT

QT_MODULES = ("PyQt5", "PyQt6", "PySide2", "PySide6", "pyqtgraph", "qtpy", "gui")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(folder / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=folder, timeout=300)


def layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [[name.strip() for name in layer.replace("|", ":").split(":")] for layer in contract["layers"]]


def test_the_import_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_layering_check(tmp_path):
    for package in ("pipeline", "gui"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    records = tmp_path / "pipeline" / "records.py"
    records.write_text(records.read_text() + "\nfrom pipeline.config import load_config  # upward\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "pipeline.records -> pipeline.config" in result.stdout


def test_every_module_of_the_engine_has_a_layer():
    placed = {name for layer in layers() for name in layer}
    modules = {f"pipeline.{p.stem}" for p in (ROOT / "pipeline").iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert sorted(modules - placed) == [], "give each new module a layer in pyproject.toml"


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph("pipeline", "gui", exclude_type_checking_imports=True)
    cycles = [f"{a} <-> {b}" for a in sorted(graph.modules) for b in graph.find_modules_directly_imported_by(a)
              if a < b and graph.chain_exists(importer=b, imported=a)]
    assert cycles == []


def test_no_module_under_pipeline_imports_qt_or_the_gui():
    graph = grimp.build_graph("pipeline", "gui", include_external_packages=True)
    offenders = [f"{m} -> {d}" for m in graph.modules if m.split(".")[0] == "pipeline"
                 for d in graph.find_modules_directly_imported_by(m) if d.split(".")[0] in QT_MODULES]
    assert offenders == []


@pytest.mark.parametrize("folder", ["pipeline", "tests/pipeline"])
def test_engine_tests_run_without_qt(folder):
    """The engine's tests (pipeline/live's included) must not need Qt either."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*.py")
                 if any(f"import {m}" in p.read_text() or f"from {m}" in p.read_text() for m in QT_MODULES[:5])]
    assert offenders == []


def test_a_headless_run_loads_no_qt_module():
    code = ("import sys, runpy; sys.argv = ['main.py', '-h']\n"
            "import pipeline.run, pipeline.config, main\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (QT_MODULES,))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def place_of(module: str) -> tuple[int, str, bool]:
    """``module``'s layer index (0 is the top), the layer member it belongs to (a submodule belongs
    to its package) and whether that layer's members must not import each other (``|``)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    for index, layer in enumerate(contract["layers"]):
        for name in (n.strip() for n in layer.replace("|", ":").split(":")):
            if module == name or module.startswith(name + "."):
                return index, name, "|" in layer
    raise AssertionError(f"{module} has no layer")


def may_import(importer: str, imported: str) -> bool:
    """What the layers contract allows: a lower layer, or the same layer unless it is made of
    independent members and the two are different ones."""
    (layer, member, independent), (other_layer, other_member, _) = place_of(importer), place_of(imported)
    if other_layer != layer:
        return other_layer > layer
    return member == other_member or not independent


def test_a_registry_names_only_classes_its_own_layer_may_import():
    """Registries load classes from "module:Class" strings, which import-linter cannot see: a string
    naming a module of a higher layer, or of an independent sibling, would be a forbidden import in
    disguise."""
    from pipeline.detectors import DETECTORS
    from pipeline.normalization import NORMALIZERS
    from pipeline.outputs import OUTPUTS
    from pipeline.views import VIEWS

    forbidden = [f"{registry.kind} {name}: {target}" for registry, home in
                 [(DETECTORS, "pipeline.detectors"), (OUTPUTS, "pipeline.outputs"),
                  (NORMALIZERS, "pipeline.normalization"), (VIEWS, "pipeline.views")]
                 for name, target in registry.classes.items() if isinstance(target, str)
                 and not may_import(home, target.partition(":")[0])]
    assert forbidden == []
    assert not may_import("pipeline.detectors", "pipeline.consumers.file")  # siblings
    assert not may_import("pipeline.outputs", "pipeline.run") and may_import("pipeline.outputs", "pipeline.kafka")
