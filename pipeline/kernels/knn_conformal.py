"""The k-nearest-neighbour conformal detector's inner loops (``detectors/knn_conformal.py``).

Each function works on a joined array (the samples kept from earlier batches followed by the new
ones) and computes results for indices ``start`` onwards; every result is a function of a fixed
stretch of the stream before it, so it does not depend on where the stream was cut.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def neighbour_distances(x, start, length, history, k, gap):
    """RMS distance from the embedding ending at each ``j >= start`` to its ``k`` nearest neighbours.

    The embedding ending at j is ``x[j - length + 1:j + 1]``; its candidates are the embeddings
    ending at ``j - history`` to ``j - gap`` (those that exist). NaN with fewer than ``k``.
    """
    out = np.full(len(x) - start, np.nan)
    best = np.empty(k)
    for j in range(start, len(x)):
        lo = max(length - 1, j - history)
        hi = j - gap
        if hi - lo + 1 < k:
            continue
        best[:] = np.inf
        for s in range(lo, hi + 1):
            d = 0.0
            for i in range(length):
                e = x[j - i] - x[s - i]
                d += e * e
                if d >= best[k - 1]:
                    break
            if d < best[k - 1]:
                m = k - 1
                while m > 0 and best[m - 1] > d:
                    best[m] = best[m - 1]
                    m -= 1
                best[m] = d
        out[j - start] = math.sqrt(best.sum() / (k * length))
    return out


@njit(cache=True)
def conformal_scores(ncm, start, calibration, rank_weight, min_count):
    """Novelty of each ``ncm[j]``, ``j >= start``, against the (non-NaN) ones of the ``calibration`` before.

    ``rank_weight * rank + (1 - rank_weight) * ncm / (ncm + max)``, where rank is the fraction of
    the calibration values below it and max their largest; 0 with fewer than ``min_count`` of
    them or for a NaN.
    """
    out = np.zeros(len(ncm) - start)
    for j in range(start, len(ncm)):
        v = ncm[j]
        if math.isnan(v):
            continue
        below = 0
        count = 0
        top = 0.0
        for s in range(max(0, j - calibration), j):
            c = ncm[s]
            if not math.isnan(c):
                count += 1
                if c < v:
                    below += 1
                if c > top:
                    top = c
        if count >= min_count:
            ratio = v / (v + top) if v + top > 0 else 0.5
            out[j - start] = rank_weight * below / count + (1.0 - rank_weight) * ratio
    return out


@njit(cache=True)
def quiet_after_peaks(raw, start, quiet, factor):
    """``raw[j]`` where it exceeds the ``quiet`` raw scores before it, else ``factor * raw[j]``."""
    out = raw[start:].copy()
    for j in range(start, len(raw)):
        top = -1.0
        for s in range(max(0, j - quiet), j):
            if raw[s] > top:
                top = raw[s]
        if raw[j] <= top:
            out[j - start] = factor * raw[j]
    return out
