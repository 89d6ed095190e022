"""Small helpers shared by the config validators."""
from __future__ import annotations

import json
from typing import Any


def show(value: Any) -> str:
    """A config value as the user wrote it (JSON)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_list(value: Any) -> list:
    """The original accepted a single item or a list of items in several places."""
    return value if isinstance(value, list) else [value]
