#!/usr/bin/env bash
# Install what Stream Anomaly Monitor needs into ./.venv: the system libraries Qt links against
# (Debian packages, installed when run as root; otherwise they are listed) and the pinned Python
# packages. With --test, also what the tests need. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=requirements.txt
[ "${1:-}" = "--test" ] && requirements=requirements-test.txt

# python3-venv: venv on Debian; the rest: shared libraries of PyQt5's bundled Qt (window and
# offscreen rendering; the libxcb ones are what its X11 plugin needs to open a window on a
# desktop or under Xvfb) and a font (without one every text in the window is blank).
packages=(python3-venv libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 fonts-dejavu-core
          libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-image0 libxcb-randr0
          libxcb-render-util0 libxcb-shape0 libxcb-xkb1)
missing=()
if command -v dpkg >/dev/null; then
  for pkg in "${packages[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: missing Debian packages (install them as root): ${missing[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
