"""Small helpers shared by the config validators."""
from __future__ import annotations

import json
from typing import Any


def show(value: Any, limit: int = 80) -> str:
    """A value as JSON text (as the user wrote it), cut to ``limit`` characters."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        text = f"<a {type(value).__name__} nested too deeply to show>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def as_list(value: Any) -> list:
    """The original accepted a single item or a list of items in several places."""
    return value if isinstance(value, list) else [value]
