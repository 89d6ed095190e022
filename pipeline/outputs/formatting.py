"""Turning result batches into record fields, once per batch rather than once per field access.

A record has ``timestamp, status, status_code, value, suggested_value, algorithm, score``, as the
original project's outputs had (plus ``score``). ``value`` is the sample's feature vector, written
as a JSON list like the original (``[0.1]``).
"""
from __future__ import annotations

import json
import math
from typing import Iterator

import numpy as np

from pipeline.records import ResultBatch

FIELDS = ("timestamp", "status", "status_code", "value", "suggested_value", "algorithm", "score")


def float_text(x: float) -> str:
    """Shortest round-trip text of a float, JSON-safe (NaN/inf as null)."""
    return repr(x) if math.isfinite(x) else "null"


def vector_texts(values: np.ndarray) -> list[str]:
    """``[[0.1], [2.0, 3.5]]`` -> ``["[0.1]", "[2.0, 3.5]"]`` (JSON list text per row)."""
    return ["[" + ", ".join(map(float_text, row)) + "]" for row in values.tolist()]


def number_texts(x: np.ndarray) -> list[str]:
    return [float_text(v) for v in x.tolist()]


class Columns:
    """The text of every record field of a result batch, computed column by column."""

    def __init__(self, results: ResultBatch):
        self.algorithm = results.algorithm
        self.timestamp = number_texts(results.samples.timestamp)
        self.status = [results.status_texts[i] for i in results.status_idx.tolist()]
        self.status_code = results.status_code.tolist()
        self.value = vector_texts(results.samples.values)
        self.score = [f"{s:.6g}" for s in results.score.tolist()]
        sv = results.suggested_value
        if sv is None:
            self.suggested_value = [""] * len(results)
        else:
            blank = np.isnan(sv).all(axis=1).tolist()
            self.suggested_value = ["" if b else t for b, t in zip(blank, vector_texts(sv))]

    def __len__(self) -> int:
        return len(self.timestamp)


def json_records(results: ResultBatch) -> Iterator[str]:
    """One compact JSON object per result (``suggested_value`` only when there is one)."""
    cols = Columns(results)
    algorithm = json.dumps(cols.algorithm)
    for i in range(len(cols)):
        suggested = f', "suggested_value": {cols.suggested_value[i]}' if cols.suggested_value[i] else ""
        yield (f'{{"timestamp": {cols.timestamp[i]}, "status": {json.dumps(cols.status[i])}, '
               f'"status_code": {cols.status_code[i]}, "value": {cols.value[i]}{suggested}, '
               f'"algorithm": {algorithm}, "score": {cols.score[i]}}}')


def terminal_lines(results: ResultBatch) -> Iterator[str]:
    """The original terminal line, plus the score:
    ``<timestamp>: <status> (value: <value>), Algorithm: <name>[, Suggested value: <sv>], Score: <s>``.
    """
    cols = Columns(results)
    for i in range(len(cols)):
        suggested = f", Suggested value: {cols.suggested_value[i]}" if cols.suggested_value[i] else ""
        yield (f"{cols.timestamp[i]}: {cols.status[i]} (value: {cols.value[i]}), "
               f"Algorithm: {cols.algorithm}{suggested}, Score: {cols.score[i]}")
