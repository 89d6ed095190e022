"""Detectors: score each sample, then learn it, and say what their plots need.

Every detector is a class in this package whose constructor arguments are its configuration
parameters (see ``base.Detector``). ``DETECTORS`` maps the names a config may use to the classes;
the original project's spellings (``"BorderCheck()"``, ``"border_check"``, ``"EMA"``,
``"Welford"``) resolve too. Status codes: OK 1, warning 0, error -1, undefined 2.
"""
from pipeline.detectors.base import Detector, ParameterError
from pipeline.detectors.border_check import BorderCheck
from pipeline.detectors.ema import EMA
from pipeline.detectors.welford import Welford
from pipeline.registry import Registry

DETECTORS: Registry[Detector] = Registry(
    "detector",
    {"BorderCheck": BorderCheck, "EMA": EMA, "Welford": Welford},
    aliases={"border_check": "BorderCheck"},
)

__all__ = ["DETECTORS", "Detector", "ParameterError", "BorderCheck", "EMA", "Welford"]
