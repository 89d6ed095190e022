"""The engine (pipeline/) never imports Qt: the headless CLI must run where no Qt exists."""
from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

QT_MODULES = ("PyQt5", "PyQt6", "PySide2", "PySide6", "pyqtgraph", "qtpy", "gui")


def test_no_module_under_pipeline_imports_qt_or_the_gui():
    offenders = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names
                          if name.split(".")[0] in QT_MODULES]
    assert offenders == []


def test_a_headless_run_loads_no_qt_module():
    code = ("import sys, runpy; sys.argv = ['main.py', '-h']\n"
            "import pipeline.run, pipeline.config, main\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (QT_MODULES,))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
