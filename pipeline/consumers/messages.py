"""Messages ``{"timestamp": ..., "ftr_vector": [...]}`` -> a SampleBatch plus rejected records.

Used by every source whose records are JSON objects (JSON and JSON Lines files, Kafka). A batch
of well-formed messages is converted with a few numpy calls; only a batch that has a bad message
in it is examined message by message, to say which one and why. A message is rejected when
(checked in this order, as the original did): it is not an object; ``ftr_vector`` or
``timestamp`` is missing; ``ftr_vector`` is not a list of the expected length; an element is
text, null, NaN or infinite, or too large for a double (booleans count as 1 and 0, as in the
original); the timestamp is not a number or ISO 8601 text (a boolean is neither), or lies outside
the supported time range (``timestamps.OUT_OF_RANGE``).
"""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any, Sequence

import numpy as np

from pipeline.config_values import show as show_value
from pipeline.consumers.numbers import to_float
from pipeline.consumers.timestamps import OUT_OF_RANGE, in_range, parse_timestamp_texts, seconds_from_numbers
from pipeline.records import RejectedRecord, SampleBatch


def raw_text(message: Any) -> str:
    """The text of a message for its dead letter: its raw bytes when the caller kept them,
    otherwise the parsed value written back as JSON."""
    if isinstance(message, (bytes, bytearray)):
        return message.decode("utf-8", errors="replace")
    if isinstance(message, str):
        return message
    try:
        return json.dumps(message, default=str)
    except (TypeError, ValueError, RecursionError):
        # nested beyond what any encoder recurses into: say what it was rather than lose the record
        return f"<a JSON {type(message).__name__} nested too deeply to write back>"


def show(value: Any) -> str:
    """A message value, short enough for a rejection reason."""
    return show_value(value, limit=40)


def message_problem(message: Any, width: int) -> str | None:
    """Why ``message`` cannot be used, or None (timestamp text is checked separately)."""
    if not isinstance(message, dict):
        return "not a JSON object"
    if "ftr_vector" not in message:
        return "missing ftr_vector"
    if "timestamp" not in message:
        return "missing timestamp"
    vector = message["ftr_vector"]
    if not isinstance(vector, list):
        return f"ftr_vector is not a list: {show(vector)}"
    if len(vector) != width:
        return f"ftr_vector has {len(vector)} values, expected {width} (input_vector_size)"
    for i, x in enumerate(vector):
        if not isinstance(x, (int, float, Decimal)):
            return f"ftr_vector[{i}] is not a number: {show(x)}"
        if not math.isfinite(float(x) if isinstance(x, bool) else to_float(x)):
            return f"ftr_vector[{i}] is not finite or too large for a double: {show(x)}"
    ts = message["timestamp"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float, Decimal, str)):
        return f"timestamp is not a number or ISO 8601 text: {show(ts)}"
    if not isinstance(ts, str) and not math.isfinite(to_float(ts)):
        return f"timestamp is not finite or too large for a double: {show(ts)}"
    return None


def _fast_arrays(messages: Sequence[Any], width: int):
    """Arrays of a batch in which every message is well formed, or None to take the slow path."""
    try:
        vectors = [m["ftr_vector"] for m in messages]
        stamps = [m["timestamp"] for m in messages]
    except (TypeError, KeyError, IndexError):
        return None
    if any(type(t) is bool for t in stamps):   # numpy would read True as 1 among numbers
        return None
    try:
        values = np.array(vectors) if vectors else np.empty((0, width))
        ts = np.array(stamps)
    except ValueError:  # ragged vectors or nested timestamps: find them message by message
        return None
    if (values.ndim != 2 or values.shape[1] != width or values.dtype.kind not in "bif"
            or ts.ndim != 1 or ts.dtype.kind not in "if"):
        return None
    values = values.astype(np.float64, copy=False)
    ts = ts.astype(np.float64, copy=False)
    if not (np.isfinite(values).all() and in_range(seconds_from_numbers(ts)).all()):
        return None
    return values, ts


def messages_to_batch(messages: Sequence[Any], positions: Sequence[int], locations: Sequence[str],
                      width: int, key: str = "", raws: Sequence[Any] | None = None, stream: str = "",
                      ) -> tuple[SampleBatch, list[RejectedRecord]]:
    """Convert parsed messages; ``locations[i]`` names message i in rejections.

    ``raws`` are the original texts (for dead letters) when the caller has them.
    """
    positions = np.asarray(positions, dtype=np.int64)
    fast = _fast_arrays(messages, width)
    if fast is not None:
        values, ts = fast
        return SampleBatch(ts, seconds_from_numbers(ts), values, positions, key=key, stream=stream), []

    rejected: list[RejectedRecord] = []
    good: list[int] = []
    for i, message in enumerate(messages):
        problem = message_problem(message, width)
        if problem is None:
            good.append(i)
        else:
            raw = raw_text(raws[i] if raws is not None else message)
            rejected.append(RejectedRecord(locations[i], int(positions[i]), problem, raw))
    stamps, seconds = parse_timestamp_texts([messages[i]["timestamp"] for i in good])
    kept = []
    usable = in_range(seconds)
    for j, i in enumerate(good):
        if usable[j]:
            kept.append(j)
        else:
            stamp = show(messages[i]["timestamp"])
            reason = (f"timestamp {stamp} is {OUT_OF_RANGE}" if np.isfinite(seconds[j])
                      else f"unparsable timestamp: {stamp}")
            raw = raw_text(raws[i] if raws is not None else messages[i])
            rejected.append(RejectedRecord(locations[i], int(positions[i]), reason, raw))
    rejected.sort(key=lambda r: r.position)
    rows = [good[j] for j in kept]
    values = (np.array([messages[i]["ftr_vector"] for i in rows], dtype=np.float64)
              if rows else np.empty((0, width)))
    batch = SampleBatch(stamps[kept], seconds[kept], values.reshape(len(rows), width),
                        positions[rows], key=key, stream=stream)
    return batch, rejected
