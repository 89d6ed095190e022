"""Evaluation on labelled data: how good a run's detections are, per detector.

Ground truth is a ``label`` column of the input (True/False per sample) or anomaly windows given
in a NAB-style windows file (``labels.py``). ``EvaluationCollector`` is an engine listener that
keeps time, label, status code and score per detector and series in numpy columns; when the
run ends, ``evaluate_run`` aligns each detector's results by its ``delay`` and reports
precision, recall and F1 at sample and event level, false alarms per 1,000 samples, the mean
detection delay (``metrics.py``) and, for windows, the NAB score of the detector's ``score``
stream with NAB's threshold sweep (``nab.py``). A detection is a warning or an error.

Nothing here knows the engine or the config: it sees ``ResultBatch``es and numpy arrays only.
"""
from pipeline.evaluation.collector import EvaluationCollector
from pipeline.evaluation.evaluate import DETECTION, DetectorInfo, evaluate_run
from pipeline.evaluation.labels import LabelsError, WindowLabels

__all__ = ["DETECTION", "DetectorInfo", "EvaluationCollector", "LabelsError", "WindowLabels", "evaluate_run"]
