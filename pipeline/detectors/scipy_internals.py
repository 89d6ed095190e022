"""Every use of scipy beyond its documented API, in one place (written against scipy 1.17).

1. ``scipy.signal._sigtools._linear_filter(b, a, x, axis, zi) -> (y, zf)``: the C loop that
   ``scipy.signal.lfilter`` calls for a filter with more than one ``a`` coefficient, as it calls it.
   We load it straight from its extension file, because importing ``scipy.signal`` loads about
   500 modules (0.5 s on this project's machine: most of a default run's wall time, see
   ``benchmarks/startup.py``), while the EMA and its kin need this one loop only. With the same
   float64 arrays it is the very call ``lfilter`` makes, so results are the same bit for bit.

The extension initialises once per process (a single-phase module): loading it registers
``scipy.signal._sigtools`` in ``sys.modules`` without ``scipy.signal``, and a later import of
``scipy.signal`` (a Filtering detector) uses that same module.

If the extension cannot be loaded, or fails a check of a known result when first used (an upgrade
of scipy changed it), ``linear_filter`` uses ``scipy.signal.lfilter`` itself: the same results,
only a slower start. ``tests/pipeline/detectors/test_scipy_internals.py`` fails, naming
the internal, when that happens, so an upgrade is noticed.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
from pathlib import Path
from typing import Callable

import numpy as np
import scipy

log = logging.getLogger(__name__)

SIGTOOLS = "scipy.signal._sigtools"

_loop: Callable | None = None


def load_linear_filter_loop() -> Callable | None:
    """``_sigtools._linear_filter`` loaded from its extension file without importing
    ``scipy.signal``, if it is there and gives a known result; None otherwise."""
    try:
        folder = Path(scipy.__file__).parent / "signal"
        path = next(p for suffix in importlib.machinery.EXTENSION_SUFFIXES for p in folder.glob(f"_sigtools{suffix}"))
        loader = importlib.machinery.ExtensionFileLoader(SIGTOOLS, str(path))
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(SIGTOOLS, loader))
        loader.exec_module(module)
        loop = module._linear_filter
        # y_t = x_t / 2 + y_{t-1} / 2 from y_{-1} = 1: 1, 0.75, 0.375 (exact in binary)
        y, zf = loop(np.array([0.5]), np.array([1.0, -0.5]), np.array([1.0, 0.5, 0.0]), -1, np.array([0.5]))
        if y.tolist() != [1.0, 0.75, 0.375] or zf.tolist() != [0.1875]:
            raise ValueError(f"unexpected result {y.tolist()}, {zf.tolist()}")
        return loop
    except Exception as err:  # noqa: BLE001 - any failure means: use the public lfilter
        log.debug("%s._linear_filter not usable (%s); using scipy.signal.lfilter", SIGTOOLS, err)
        return None


def linear_filter(b: np.ndarray, a: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.lfilter(b, a, x, zi=zi)`` for float64 1-D ``x`` and ``len(a) >= 2``:
    the filtered ``x`` and the final state."""
    global _loop
    if _loop is None:
        _loop = load_linear_filter_loop() or _public_lfilter
    return _loop(np.atleast_1d(b), np.atleast_1d(a), np.asarray(x), -1, np.asarray(zi))


def _public_lfilter(b, a, x, axis, zi):
    from scipy.signal import lfilter  # the documented way, when the fast path is not available

    return lfilter(b, a, x, axis, zi)
