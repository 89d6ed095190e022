"""Detectors: score each sample, then learn it, and say what their plots need.

Every detector is a class in a module of this package whose constructor arguments are its
configuration parameters (see ``base.Detector``). A module makes its classes available to configs
by listing them in a module-level ``REGISTER = {"ConfigName": Class}`` and, optionally, the
original project's other spellings in ``ALIASES = {"alias": "ConfigName"}``. ``DETECTORS`` is built
from every module of the package, so adding a detector touches only its own module. Names resolve
with or without ``()``. Status codes: OK 1, warning 0, error -1, undefined 2.
"""
from __future__ import annotations

import importlib
import pkgutil

from pipeline.detectors.base import Detector, DetectorContext, ParameterError
from pipeline.registry import Registry


def _collect() -> Registry[Detector]:
    classes: dict[str, type[Detector]] = {}
    aliases: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, cls in getattr(module, "REGISTER", {}).items():
            if name in classes:
                raise RuntimeError(f"detector name {name!r} registered twice")
            classes[name] = cls
        aliases.update(getattr(module, "ALIASES", {}))
    return Registry("detector", classes, aliases)


DETECTORS: Registry[Detector] = _collect()

from pipeline.detectors.border_check import BorderCheck  # noqa: E402
from pipeline.detectors.ema import EMA  # noqa: E402
from pipeline.detectors.welford import Welford  # noqa: E402

__all__ = ["DETECTORS", "Detector", "DetectorContext", "ParameterError", "BorderCheck", "EMA", "Welford"]
