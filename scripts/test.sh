#!/usr/bin/env bash
# Install what the tests need (scripts/setup.sh --test) and run the whole suite. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
