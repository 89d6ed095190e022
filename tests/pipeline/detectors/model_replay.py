"""Helpers for the model-based detector tests: replay a config of the original format through the
config parser, feature construction and ``DetectorRun`` the way a run does, training from
in-memory samples."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.config import parse_config
from pipeline.detector_run import DetectorRun
from pipeline.detectors import DETECTORS, DetectorContext
from pipeline.features import FeatureBuilder
from pipeline.records import SampleBatch
from tests.conftest import REFVECTORS


def samples(values, timestamps=None) -> SampleBatch:
    x = np.asarray(values, dtype=np.float64)
    x = x.reshape(len(x), -1)
    ts = np.arange(len(x), dtype=np.float64) if timestamps is None else np.asarray(timestamps, dtype=np.float64)
    return SampleBatch(ts, ts, x, np.arange(len(x)))


def sine_training() -> SampleBatch:
    """The refvectors' training set (``sine_train_clean``), as the original read it."""
    data = json.loads((REFVECTORS / "inputs" / "sine_train_clean.json").read_text())
    return samples(data["value"], data["timestamp"])


def reference(name: str) -> dict:
    return json.loads((REFVECTORS / f"{name}.json").read_text())


def reference_codes(ref: dict) -> np.ndarray:
    """The original's status codes with its float codes (RRCF's scores) read as errors."""
    return np.array([c if c in (1, 0, -1, 2) else -1 for c in ref["status_code"]], dtype=np.int64)


def replay(config: dict, algorithm: str, stream: SampleBatch, training: SampleBatch | None = None,
           models_dir: Path | None = None):
    """(ResultBatch, detector): ``config`` run over ``stream`` like a headless run would."""
    cfg = parse_config({"anomaly_detection_alg": [f"{algorithm}()"], "anomaly_detection_conf": [config]},
                       Path("replay.json"))
    dc = cfg.detectors[0]
    detector = dc.detector.build(DETECTORS)

    def training_vectors(path):
        if dc.features is None or dc.features.is_identity:
            return training.values
        return FeatureBuilder(dc.features).transform(training)[0].values

    context = DetectorContext(name="replay", models_dir=models_dir, resolve_path=Path,
                              training_vectors=training_vectors)
    run = DetectorRun(0, detector, features=dc.features, context=context)
    detector.start(context)
    return run.process(stream), detector
