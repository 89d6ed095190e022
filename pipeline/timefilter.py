"""Time-of-day filters: keep only samples within a tolerance of a time of day (UTC).

The original syntax is the text ``"[[H, M, S], [tH, tM, tS]]"`` (target, tolerance) or ``"None"``.
It is parsed as JSON, never evaluated. Unlike the original, the distance wraps around midnight:
a target of 00:00:10 with a 30 s tolerance keeps 23:59:55.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

DAY_S = 86400.0


class TimeFilterSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class TimeOfDayFilter:
    """Keep a sample iff its time of day is strictly closer than ``tolerance_s`` to ``target_s``."""

    target_s: float
    tolerance_s: float

    def keep(self, time_s: np.ndarray) -> np.ndarray:
        """Boolean mask over epoch-second timestamps."""
        offset = np.mod(time_s - self.target_s, DAY_S)
        distance = np.minimum(offset, DAY_S - offset)
        return distance < self.tolerance_s

    def describe(self) -> str:
        def hms(s):
            s = int(round(s))
            return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        return f"{hms(self.target_s)} +- {hms(self.tolerance_s)}"


def parse_time_filter(spec) -> TimeOfDayFilter | None:
    """``"None"``/None -> None; ``"[[12, 0, 0], [1, 0, 0]]"`` (or the list itself) -> a filter."""
    if spec is None or (isinstance(spec, str) and spec.strip() in ("None", "null", "")):
        return None
    value = spec
    if isinstance(spec, str):
        try:
            value = json.loads(spec)
        except (json.JSONDecodeError, RecursionError) as err:
            raise TimeFilterSyntaxError(str(err)) from None
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(part, list) and len(part) == 3 for part in value)
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for part in value for x in part)):
        raise TimeFilterSyntaxError("not of the form [[H, M, S], [H, M, S]]")
    if not all(math.isfinite(x) for part in value for x in part):
        raise TimeFilterSyntaxError("every number must be finite")
    (h, m, s), (th, tm, ts) = value
    if min(th, tm, ts) < 0 or th * 3600 + tm * 60 + ts <= 0:
        # a tolerance of zero or less keeps no sample at all
        raise TimeFilterSyntaxError("the tolerance must be more than 0 s, with no negative part")
    return TimeOfDayFilter(target_s=(h * 3600 + m * 60 + s) % DAY_S, tolerance_s=th * 3600 + tm * 60 + ts)
