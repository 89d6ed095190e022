#!/usr/bin/env bash
# Install what the tests need (scripts/setup.sh --test) and run the whole suite on two processes
# (pytest-xdist; a file's tests stay on one, so its broker or window fixtures are built once).
# Used by .ci/run. Extra arguments go to pytest, e.g. `-m "not gui and not kafka"` for the fast core.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q -n 2 --dist loadfile "$@"
