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
def _finite(x, lo, hi):
    """True when every value of rows ``lo`` to ``hi - 1`` of ``x`` is finite."""
    for j in range(lo, hi):
        for f in range(x.shape[1]):
            if not math.isfinite(x[j, f]):
                return False
    return True


@njit(cache=True)
def neighbour_distances(x, start, length, history, k, gap):
    """RMS distance from the embedding ending at each ``j >= start`` to its ``k`` nearest neighbours.

    ``x`` is float64[n, d]; the embedding ending at j is ``x[j - length + 1:j + 1]`` (all d values
    of each sample); its candidates are the embeddings ending at ``j - history`` to ``j - gap``
    (those that exist). A candidate holding a non-finite value is never a neighbour. NaN with
    fewer than ``k`` neighbours or when the embedding itself holds a non-finite value.
    """
    out = np.full(len(x) - start, np.nan)
    best = np.empty(k)
    dim = x.shape[1]
    for j in range(start, len(x)):
        lo = max(length - 1, j - history)
        hi = j - gap
        if hi - lo + 1 < k or not _finite(x, j - length + 1, j + 1):
            continue
        best[:] = np.inf
        for s in range(lo, hi + 1):
            d = 0.0
            for i in range(length):
                if dim == 1:  # the common case, kept as fast as a 1-D loop
                    e = x[j - i, 0] - x[s - i, 0]
                    d += e * e
                else:
                    for f in range(dim):
                        e = x[j - i, f] - x[s - i, f]
                        d += e * e
                if d >= best[k - 1]:
                    break
            if d < best[k - 1]:  # false for a NaN (a candidate holding NaN or inf - inf)
                m = k - 1
                while m > 0 and best[m - 1] > d:
                    best[m] = best[m - 1]
                    m -= 1
                best[m] = d
        if best[k - 1] < np.inf:
            out[j - start] = math.sqrt(best.sum() / (k * length * dim))
    return out


@njit(cache=True)
def conformal_scores(ncm, start, calibration, rank_weight, min_count):
    """Novelty of each ``ncm[j]``, ``j >= start``, against the finite ones of the ``calibration`` before.

    ``rank_weight * rank + (1 - rank_weight) * ncm / (ncm + max)``, where rank is the fraction of
    the calibration values below it and max their largest; 0 with fewer than ``min_count`` of
    them or for a non-finite ``ncm[j]``.
    """
    out = np.zeros(len(ncm) - start)
    for j in range(start, len(ncm)):
        v = ncm[j]
        if not math.isfinite(v):
            continue
        below = 0
        count = 0
        top = 0.0
        for s in range(max(0, j - calibration), j):
            c = ncm[s]
            if math.isfinite(c):
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
