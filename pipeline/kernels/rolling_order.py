"""Order statistics of sliding windows: the percentile detectors' limits, Hampel's median and MAD.

Every result is exact: order statistics are values of the window, and the MAD is one of the
differences ``|w_i - m|`` as numpy computes them. Each window starts from the state the one before
left, or the work branches per element, which numpy cannot express; hence numba.

Percentiles (``order_statistics``; ``prefix_order_statistics`` for windows that grow, as
EMA_Percentile's first ones) follow each wanted rank from window to window: one value leaves and
one arrives, so the k-th smallest either stays or moves to its neighbour in value, which counts
updated in O(1) reveal; only a move scans the window. A percentile band's ranks sit in the tails,
where moves are rare (a few in a hundred samples), so this costs a few nanoseconds a sample where
scipy's rank filter costs about twenty per rank. The median of a window of white noise moves every
other sample, and then costs O(window) a sample (``percentile.py`` leaves ranks of windows where
that is too much to the rank filter).

Hampel (``median_and_mad``) needs the whole sorted window for the MAD. Small windows are sorted
all at once, a block of windows at a time, by a sorting network: the same compare-exchange
sequence for every window, so each step is one vectorised min/max over the block. Its size grows
as n log^2 n, so larger windows are kept sorted while sliding instead (binary search and shift).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

#: XOR with this on the bits of a negative float reverses their order (see ``_order_keys``).
_FLIP_NEGATIVE = np.int64(0x7FFFFFFFFFFFFFFF)
_LOWEST_KEY = np.int64(-0x8000000000000000)
_HIGHEST_KEY = np.int64(0x7FFFFFFFFFFFFFFF)

#: Windows sorted together by the network: rows of this many values stay in the L1/L2 caches.
_BLOCK = 256
#: Hampel half-widths up to this (windows up to 63 values) use the sorting network; beyond, the
#: sliding sorted window is faster (measured: about even at 31).
_NETWORK_MAX_HALF = 31


@njit(cache=True)
def order_statistics(x, window, ranks):
    """``out[r, j]`` = the ``ranks[r]``-th smallest value (from 0) of ``x[j:j + window]``.

    ``x`` is float64 [n] with ``n >= window >= 1``, ``ranks`` int64 in ``[0, window)``; the result
    is float64 [len(ranks), n - window + 1]. Values are ordered by ``_order_keys`` (numbers as
    usual, -0.0 before 0.0), so each result is a function of its window alone.
    """
    keys = _order_keys(x)
    out = np.empty((len(ranks), len(x) - window + 1), dtype=np.int64)
    ordered = np.sort(keys[:window])
    for r in range(len(ranks)):
        k, row = ranks[r], out[r]
        a, below, equal = _start(ordered, k)
        row[0] = a
        for j in range(1, len(row)):
            old, new = keys[j - 1], keys[j - 1 + window]
            below += (new < a) - (old < a)
            equal += (new == a) - (old == a)
            if not below <= k < below + equal:  # a test first: unguarded, _settle's loops halve the speed
                a, below, equal = _settle(keys, j, j + window, k, a, below, equal)
            row[j] = a
    return _values(out)


@njit(cache=True)
def prefix_order_statistics(x, lengths, ranks):
    """``out[r, j]`` = the ``ranks[r, j]``-th smallest value (from 0) of ``x[:lengths[j]]``.

    ``lengths`` is int64, increasing, at most ``len(x)``; ``ranks`` int64 [R, len(lengths)] with
    ``ranks[r, j] < lengths[j]``; the result is float64 [R, len(lengths)], ordered as in
    ``order_statistics``.
    """
    keys = _order_keys(x)
    out = np.empty(ranks.shape, dtype=np.int64)
    ordered = np.sort(keys[:lengths[0]])
    for r in range(len(ranks)):
        a, below, equal = _start(ordered, ranks[r, 0])
        out[r, 0] = a
        for j in range(1, len(lengths)):
            for i in range(lengths[j - 1], lengths[j]):
                below += keys[i] < a
                equal += keys[i] == a
            if not below <= ranks[r, j] < below + equal:
                a, below, equal = _settle(keys, 0, lengths[j], ranks[r, j], a, below, equal)
            out[r, j] = a
    return _values(out)


@njit(cache=True)
def _order_keys(x):
    """int64 keys in the order of the float64 values of ``x``: their bits, with those of negative
    values reversed. A total order in which -0.0 < 0.0, NaNs sit at the ends by sign, and equal
    keys are identical values."""
    bits = x.view(np.int64)
    keys = np.empty(len(bits), dtype=np.int64)
    for i in range(len(bits)):
        keys[i] = bits[i] ^ ((bits[i] >> 63) & _FLIP_NEGATIVE)
    return keys


@njit(cache=True)
def _values(keys):
    """The float64 values of a C-contiguous array of ``_order_keys`` (the map is its own inverse),
    in place."""
    flat = keys.reshape(keys.size)
    for i in range(len(flat)):
        flat[i] ^= (flat[i] >> 63) & _FLIP_NEGATIVE
    return keys.view(np.float64)


@njit(cache=True)
def _start(ordered, k):
    """The k-th smallest of the sorted keys ``ordered`` and how many keys are below and equal to it."""
    a = ordered[k]
    below = np.searchsorted(ordered, a)
    return a, below, np.searchsorted(ordered, a, side="right") - below


@njit(cache=True)
def _settle(keys, lo, hi, k, a, below, equal):
    """Move ``a`` to the k-th smallest of ``keys[lo:hi]``, given how many of those are below and
    equal to ``a``; returns the new ``(a, below, equal)``.

    ``a`` is the k-th while ``below <= k < below + equal``. Otherwise the k-th lies below ``a``
    (the largest key below it is the next candidate) or above it (the smallest above it). A window
    that gained or lost one key since ``a`` was its predecessor's k-th needs at most one such move;
    a move scans the window.
    """
    while below > k:
        window = keys[lo:hi]
        a = _largest_below(window, a)
        equal = _count_equal(window, a)
        below -= equal
    while below + equal <= k:
        window = keys[lo:hi]
        below += equal
        a = _smallest_above(window, a)
        equal = _count_equal(window, a)
    return a, below, equal


# The scans index a slice from 0: numba then drops its negative-index check and the loop vectorises.

@njit(cache=True)
def _count_equal(keys, a):
    count = 0
    for i in range(len(keys)):
        count += keys[i] == a
    return count


@njit(cache=True)
def _largest_below(keys, a):
    largest = _LOWEST_KEY
    for i in range(len(keys)):
        largest = max(largest, keys[i] if keys[i] < a else _LOWEST_KEY)
    return largest


@njit(cache=True)
def _smallest_above(keys, a):
    smallest = _HIGHEST_KEY
    for i in range(len(keys)):
        smallest = min(smallest, keys[i] if keys[i] > a else _HIGHEST_KEY)
    return smallest


def median_and_mad(x: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Median ``m`` and median absolute deviation ``median(|w - m|)`` of every window ``w`` of
    ``2 half + 1`` consecutive values of ``x`` (float64 [n], n >= 2 half + 1), each float64
    [n - 2 half]; equal to numpy's ``np.median`` of each window and of its deviations.

    The MAD is NaN where ``m`` is infinite (``inf - inf`` makes over half the deviations NaN, and
    numpy sorts NaN last). Values must not be NaN (sources reject them): the results are undefined
    then, as with scipy's filters, though every index stays inside the window.
    """
    if half <= _NETWORK_MAX_HALF:
        return _median_and_mad_by_network(x, half, _sorting_network(2 * half + 1))
    return _median_and_mad_by_sliding(x, half)


@lru_cache(maxsize=None)
def _sorting_network(size: int) -> np.ndarray:
    """Batcher's odd-even merge sort for ``size`` inputs: int64 [comparators, 2] pairs ``(i, j)``,
    ``i < j``, after which each ``j`` holds the larger value. Built for the next power of two;
    comparators reaching past ``size`` are dropped (as if the missing inputs were +inf)."""
    padded = 1 << max(0, (size - 1).bit_length())
    pairs = []
    p = 1
    while p < padded:
        k = p
        while k >= 1:
            for j in range(k % p, padded - k, 2 * k):
                for i in range(min(k, padded - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p) and i + j + k < size:
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


@njit(cache=True)
def _median_and_mad_by_network(x, half, pairs):
    size = 2 * half + 1
    count = len(x) - size + 1
    median, mad = np.empty(count), np.empty(count)
    columns = np.empty((size, _BLOCK))  # row r: the r-th value of each window in the block
    for start in range(0, count, _BLOCK):
        n = min(_BLOCK, count - start)
        for r in range(size):
            columns[r, :n] = x[start + r:start + r + n]
        _sort_columns(columns, n, pairs)
        _median_and_mad_of_sorted(columns, n, half, median[start:start + n], mad[start:start + n])
    return median, mad


@njit(cache=True)
def _sort_columns(columns, n, pairs):
    """Apply the comparators to the first ``n`` columns, sorting each column."""
    for q in range(len(pairs)):
        low, high = columns[pairs[q, 0], :n], columns[pairs[q, 1], :n]
        for t in range(n):
            a, b = low[t], high[t]
            low[t] = a if a < b else b
            high[t] = b if a < b else a


@njit(cache=True)
def _median_and_mad_of_sorted(columns, n, half, median, mad):
    """Median and MAD of each sorted column (``2 half + 1`` rows) of the first ``n``.

    Around the median ``m`` the deviations grow outwards on both sides: ``left(i) = |s[half - i]
    - m|`` and ``right(i) = |s[half + i] - m|``, i = 1 .. half, are sorted runs, and the MAD (the
    median's own 0 aside) is the half-th smallest of their union:
    ``min over i = 0 .. half of max(left(i), right(half - i))``, with ``left(0) = right(0) = 0``.
    """
    m = columns[half, :n]
    outer_left, outer_right = columns[0, :n], columns[2 * half, :n]
    for t in range(n):
        median[t] = m[t]
        mad[t] = min(abs(outer_left[t] - m[t]), abs(outer_right[t] - m[t]))
    for i in range(1, half):
        left, right = columns[half - i, :n], columns[2 * half - i, :n]
        for t in range(n):
            mad[t] = min(mad[t], max(abs(left[t] - m[t]), abs(right[t] - m[t])))
    for t in range(n):
        if np.isinf(m[t]):
            mad[t] = np.nan


@njit(cache=True)
def _median_and_mad_by_sliding(x, half):
    size = 2 * half + 1
    count = len(x) - size + 1
    median, mad = np.empty(count), np.empty(count)
    first = x[:size]
    s = first[np.argsort(first, kind="mergesort")]
    for j in range(count):
        m = s[half]
        median[j] = m
        mad[j] = np.nan if np.isinf(m) else _kth_deviation(s, half, m)
        if j + 1 < count:
            _replace(s, x[j], x[j + size])
    return median, mad


@njit(cache=True)
def _replace(s, old, new):
    """Remove one ``old`` from the sorted ``s`` and insert ``new``, keeping ``s`` sorted; only the
    values between the two positions move. Equal values stay in arrival order (``old`` is the
    first of its equals, ``new`` goes after its equals), so ``s`` is the stable sort of the window
    and even the sign of a zero median does not depend on batch cuts."""
    n = len(s)
    i = min(_first_not_below(s, old, 0, n), n - 1)  # n only if old is missing (a NaN)
    if new < old:
        j = _first_above(s, new, 0, i)
        for k in range(i, j, -1):
            s[k] = s[k - 1]
        s[j] = new
    else:
        j = _first_above(s, new, i + 1, n)
        for k in range(i, j - 1):
            s[k] = s[k + 1]
        s[j - 1] = new


@njit(cache=True)
def _first_not_below(s, value, lo, hi):
    """The first index in ``[lo, hi)`` with ``s[index] >= value``, else ``hi`` (sorted ``s``)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if s[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _first_above(s, value, lo, hi):
    """The first index in ``[lo, hi)`` with ``s[index] > value``, else ``hi`` (sorted ``s``)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if s[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _kth_deviation(s, half, m):
    """The MAD of the sorted window ``s`` with the finite median ``m = s[half]``: the half-th
    smallest of the two sorted runs ``left(i)``, ``right(i)`` (see ``_median_and_mad_of_sorted``),
    by binary search for how many of them come from the left."""
    lo, hi = 0, half  # the smallest i with left(i + 1) >= right(half - i), or half
    while lo < hi:
        i = (lo + hi) >> 1
        if abs(s[half - 1 - i] - m) < abs(s[2 * half - i] - m):
            lo = i + 1
        else:
            hi = i
    if lo == 0:
        return abs(s[2 * half] - m)
    if lo == half:
        return abs(s[0] - m)
    return max(abs(s[half - lo] - m), abs(s[2 * half - lo] - m))
