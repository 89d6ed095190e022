"""Turning result batches into record fields, once per batch rather than once per field access.

A record has ``timestamp, status, status_code, value, suggested_value, algorithm, score``, as the
original project's outputs had (plus ``score``). ``value`` is the sample's feature vector, written
as a JSON list like the original (``[0.1]``).

``timestamp`` follows one rule in every output: the input's number, unchanged and in its own unit
(epoch seconds stay seconds, epoch milliseconds stay milliseconds), written as a JSON number
(``1700000000123.0``); ISO 8601 text is written as the epoch seconds (UTC) the input reader made
of it (``"2023-11-14T22:13:20Z"`` -> ``1700000000.0``). A reader tells the units apart as the
input readers do: below 1e10, seconds (``pipeline/time_units.py``).
"""
from __future__ import annotations

import json
from functools import cached_property
from typing import Iterator

import numpy as np
import orjson

from pipeline.records import ResultBatch

FIELDS = ("timestamp", "status", "status_code", "value", "suggested_value", "algorithm", "score")


def _json_floats(x: np.ndarray) -> str:
    # orjson writes a whole float array in C, shortest round-trip digits, NaN and inf as null:
    # some ten times faster than repr() per number, which made formatting the larger half of
    # writing every result to Kafka.
    return orjson.dumps(np.ascontiguousarray(x, dtype=np.float64), option=orjson.OPT_SERIALIZE_NUMPY).decode()


def vector_texts(values: np.ndarray) -> list[str]:
    """``[[0.1], [2.0, 3.5]]`` -> ``["[0.1]", "[2.0, 3.5]"]`` (JSON list text per row)."""
    if len(values) == 0:
        return []
    return _json_floats(values)[1:-1].replace("],[", "]\0[").replace(",", ", ").split("\0")


def number_texts(x: np.ndarray) -> list[str]:
    """``[0.5, nan]`` -> ``["0.5", "null"]`` (JSON text per number)."""
    if len(x) == 0:
        return []
    return _json_floats(x)[1:-1].split(",")


def six_significant_digits(x: np.ndarray) -> np.ndarray:
    """``x`` rounded to six significant digits (the nearest float to that decimal); zero, NaN and
    infinities unchanged."""
    magnitude = np.abs(x)
    ok = np.isfinite(x) & (magnitude > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = np.clip(np.floor(np.log10(np.where(ok, magnitude, 1.0))), -300, 300)
        scale = 10.0 ** (5 - exponent)
        # exact powers of ten divide correctly rounded, so 0.6955137... becomes the float
        # nearest to 0.695514, which orjson writes back as "0.695514"
        rounded = np.where(scale >= 1, np.round(x * scale) / scale, np.round(x / (1 / scale)) * (1 / scale))
    return np.where(ok, rounded, x)


def score_texts(score: np.ndarray) -> list[str]:
    """Scores with six significant digits (``0.695514``); NaN as null."""
    return number_texts(six_significant_digits(score))


class Columns:
    """The text of every record field of a result batch, each column computed on first use, for
    the whole batch at once."""

    def __init__(self, results: ResultBatch):
        self.results = results
        self.algorithm = results.algorithm

    @cached_property
    def timestamp(self) -> list[str]:
        """The input's number in its own unit; ISO 8601 input as epoch seconds (module docstring)."""
        return number_texts(self.results.samples.timestamp)

    @cached_property
    def status(self) -> list[str]:
        texts = self.results.status_texts
        return [texts[i] for i in self.results.status_idx.tolist()]

    @cached_property
    def status_code(self) -> list[int]:
        return self.results.status_code.tolist()

    @cached_property
    def value(self) -> list[str]:
        return vector_texts(self.results.samples.values)

    @cached_property
    def score(self) -> list[str]:
        return score_texts(self.results.score)

    @cached_property
    def suggested_value(self) -> list[str]:
        """The suggested value's JSON text, or "" where there is none."""
        sv = self.results.suggested_value
        if sv is None:
            return [""] * len(self)
        blank = np.isnan(sv).all(axis=1).tolist()
        return ["" if b else t for b, t in zip(blank, vector_texts(sv))]

    def __len__(self) -> int:
        return len(self.results)


def json_records(results: ResultBatch) -> list[str]:
    """One compact JSON object per result (``suggested_value`` only when there is one)."""
    cols = Columns(results)
    algorithm = json.dumps(cols.algorithm)
    # "status" and "status_code" are one piece per status of the detector, written once
    status_pieces = [f'"status": {json.dumps(text)}, "status_code": {int(code)}'
                     for text, code in zip(results.status_texts, results.status_codes.tolist())]
    status = [status_pieces[i] for i in results.status_idx.tolist()]
    tail = f', "algorithm": {algorithm}, "score": '
    if results.suggested_value is not None:
        suggested = [f', "suggested_value": {sv}' if sv else "" for sv in cols.suggested_value]
        return [f'{{"timestamp": {t}, {s}, "value": {v}{sv}{tail}{sc}}}'
                for t, s, v, sv, sc in zip(cols.timestamp, status, cols.value, suggested, cols.score)]
    return [f'{{"timestamp": {t}, {s}, "value": {v}{tail}{sc}}}'
            for t, s, v, sc in zip(cols.timestamp, status, cols.value, cols.score)]


def terminal_lines(results: ResultBatch) -> Iterator[str]:
    """The original terminal line, plus the score:
    ``<timestamp>: <status> (value: <value>), Algorithm: <name>[, Suggested value: <sv>], Score: <s>``.
    """
    cols = Columns(results)
    for i in range(len(cols)):
        suggested = f", Suggested value: {cols.suggested_value[i]}" if cols.suggested_value[i] else ""
        yield (f"{cols.timestamp[i]}: {cols.status[i]} (value: {cols.value[i]}), "
               f"Algorithm: {cols.algorithm}{suggested}, Score: {cols.score[i]}")
