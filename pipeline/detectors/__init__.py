"""Detectors: score each sample, then learn it, and say what their plots need.

Every detector is a class in a module of this package whose constructor arguments are its
configuration parameters (see ``base.Detector``). ``DETECTORS`` names each one's config name and
where it lives; the module is imported the first time a config names it, so a run loads only the
detectors (and libraries) it uses. The original project's other spellings are ``ALIASES``. Names
resolve with or without ``()``. Status codes: OK 1, warning 0, error -1, undefined 2.
"""
from __future__ import annotations

from pipeline.detectors.base import Detector, DetectorContext
from pipeline.parameters import ParameterError
from pipeline.registry import Registry

#: config name -> "module:Class" (tests check that every detector module is listed)
LOCATIONS = {
    "BorderCheck": "pipeline.detectors.border_check:BorderCheck",
    "Clustering": "pipeline.detectors.clustering:Clustering",
    "Combination": "pipeline.detectors.combination:Combination",
    "Cumulative": "pipeline.detectors.cumulative:Cumulative",
    "EMA": "pipeline.detectors.ema:EMA",
    "EMA_Percentile": "pipeline.detectors.ema_percentile:EMA_Percentile",
    "fb_Prophet": "pipeline.detectors.fb_prophet:FbProphet",
    "Filtering": "pipeline.detectors.filtering:Filtering",
    "GAN": "pipeline.detectors.gan:GAN",
    "Hampel": "pipeline.detectors.hampel:Hampel",
    "IsolationForest": "pipeline.detectors.isolation_forest:IsolationForest",
    "KNNConformal": "pipeline.detectors.knn_conformal:KNNConformal",
    "LinearFit": "pipeline.detectors.linear_fit:LinearFit",
    "MACD": "pipeline.detectors.macd:MACD",
    "PCA": "pipeline.detectors.pca:PCA",
    "Percentile": "pipeline.detectors.percentile:Percentile",
    "RRCF": "pipeline.detectors.rrcf:RRCF",
    "TrendClassification": "pipeline.detectors.trend_classification:TrendClassification",
    "Welford": "pipeline.detectors.welford:Welford",
}

#: the original project's other spellings -> config name
ALIASES = {
    "border_check": "BorderCheck",
    "EMA_percentile": "EMA_Percentile",
    "Prophet": "fb_Prophet",
    "FbProphet": "fb_Prophet",
    "Isolation forest": "IsolationForest",
    "Isolation_forest": "IsolationForest",
    "RRCF_trees": "RRCF",
    "Trend_Classification": "TrendClassification",
}

DETECTORS: Registry[Detector] = Registry("detector", LOCATIONS, ALIASES)

__all__ = ["DETECTORS", "Detector", "DetectorContext", "ParameterError"]
