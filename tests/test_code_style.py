"""The code passes the linters configured in pyproject.toml (ruff: pyflakes, pycodestyle, bugbear,
import order), and no module outgrows the size one reader can hold (STYLE.md: small modules)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

RUFF = Path(sys.executable).with_name("ruff")
MAX_MODULE_LINES = 450


def test_ruff_finds_nothing():
    result = subprocess.run([str(RUFF), "check", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_of_the_program_is_longer_than_a_reader_can_hold():
    long = {str(p.relative_to(ROOT)): n for folder in ("pipeline", "gui")
            for p in (ROOT / folder).rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}
