"""Validation of a detector's feature-construction keys into a ``FeatureSpec``.

Keys: ``averages``, ``periodic_averages``, ``shifts``, ``time_features``, ``time_average_shifts``,
``max_memory``, ``use_cols`` (meanings in ``features.py``). The outer lists of ``averages``,
``periodic_averages`` and ``shifts`` are indexed by feature, so they may not be longer than
``input_vector_size``; ``use_cols`` must index the constructed vector. The original's "nothing"
values (``[]``, ``[0, 0]`` for time averages, ``0``) mean no construction.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from pipeline.components import describe_validation_error
from pipeline.config_values import show
from pipeline.detectors.base import MAX_WINDOW
from pipeline.features import TIME_FEATURES, FeatureSpec

FEATURE_KEYS = ("averages", "periodic_averages", "shifts", "time_features", "time_average_shifts",
                "max_memory", "use_cols")

# windows and shifts are kept in memory: bounded like every detector window
Count = Annotated[StrictInt, Field(ge=1, le=MAX_WINDOW)]


class FeatureKeys(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    averages: list[list[Count]] = []
    periodic_averages: list[list[tuple[Count, list[Count]]]] = []
    shifts: list[list[Count]] = []
    time_features: list[Literal[TIME_FEATURES]] = []  # type: ignore[valid-type]
    time_average_shifts: Optional[tuple[Annotated[StrictInt, Field(ge=0, le=MAX_WINDOW)],
                                        Annotated[StrictFloat, Field(ge=0)]]] = None
    max_memory: Annotated[StrictInt, Field(ge=0, le=MAX_WINDOW)] = 0
    use_cols: Optional[list[Annotated[StrictInt, Field(ge=0)]]] = None


def parse_features(conf: dict, size: int, path: str, problems: list[str]) -> FeatureSpec | None:
    """The FeatureSpec of one detector config; appends problems (key path, value, expectation)."""
    given = {k: conf[k] for k in FEATURE_KEYS if k in conf and conf[k] is not None}
    try:
        keys = FeatureKeys.model_validate(given)
    except ValidationError as err:
        problems.extend(describe_validation_error(e, path) for e in err.errors())
        return None
    before = len(problems)
    for key in ("averages", "periodic_averages", "shifts"):
        per_feature = getattr(keys, key)
        if len(per_feature) > size:
            problems.append(f"{path}.{key}: expected at most {size} lists (one per feature, "
                            f"input_vector_size {size}), got {len(per_feature)}")
    time_average = keys.time_average_shifts
    if time_average is not None and 0 in time_average:
        time_average = None  # the original's [0, 0] means "none"
    spec = FeatureSpec(
        input_vector_size=size,
        averages=tuple(tuple(a) for a in keys.averages),
        periodic_averages=tuple(tuple((p, tuple(ns)) for p, ns in per) for per in keys.periodic_averages),
        shifts=tuple(tuple(s) for s in keys.shifts),
        time_features=tuple(name for name in TIME_FEATURES if name in keys.time_features),
        time_average_shifts=None if time_average is None else (int(time_average[0]), float(time_average[1])),
        max_memory=keys.max_memory,
        use_cols=None if keys.use_cols is None else tuple(keys.use_cols),
    )
    if spec.use_cols is not None:
        for i, col in enumerate(spec.use_cols):
            if col >= spec.full_width:
                problems.append(f"{path}.use_cols[{i}]: expected an index below {spec.full_width} (the "
                                f"constructed vector's length), got {show(col)}")
    if spec.time_average_shifts is not None and spec.memory_size < 2:
        problems.append(f"{path}.max_memory: expected enough samples to span time_average_shifts "
                        f"{show(list(time_average))}, got {show(keys.max_memory)}")
    return spec if len(problems) == before else None
