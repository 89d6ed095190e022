"""Entry point of the window (built in the desktop-monitor issue)."""
from __future__ import annotations

import sys


def run_gui(config=None, file_mode=False, log_dir=None, screenshot=None, speed="max") -> int:
    print("error: the window is not built yet; run headless with -c CONFIG -f", file=sys.stderr)
    return 2
