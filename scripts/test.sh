#!/usr/bin/env bash
# Install everything the tests need (system libraries for Qt, a virtual environment with the
# pinned Python packages) and run the whole test suite. Safe to run again; used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # Qt's offscreen platform needs these shared libraries; python3-venv provides venv on Debian.
  need=()
  for pkg in libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.txt
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
