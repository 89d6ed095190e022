"""The anomaly likelihood's per-sample recurrence (see ``pipeline/score_likelihood.py``).

Each step reads the state the one before left (two ring buffers and their running sums), so the
loop is sequential; carried exactly between calls, it gives the same floats however a stream is
cut into calls. The running sums are recomputed from the ring every ``long_window`` learnt scores
(counted from the start), so rounding from adding and removing never accumulates. A non-finite
score is not learnt: its likelihood is 0.5 and the state is left as it was.
"""
from __future__ import annotations

import math

from numba import njit

#: ``ints``: scores learnt, short ring position, long ring position, long ring fill
#: ``floats``: sum of the short ring, sum and sum of squares of the long ring
SEEN, SHORT_POS, LONG_POS, LONG_FILL = 0, 1, 2, 3
SHORT_SUM, LONG_SUM, LONG_SQ = 0, 1, 2


@njit(cache=True)
def likelihood_steps(scores, short_ring, long_ring, ints, floats, learning, min_var, out):
    """Write the likelihood of each of ``scores`` into ``out``, updating the state in place.

    ``short_ring`` holds the last ``len(short_ring)`` raw scores, ``long_ring`` the last
    ``len(long_ring)`` short averages; the likelihood of sample t compares the short average
    ending at t with the mean and variance of the averages before t (0.5 while fewer than
    ``learning`` are known). A NaN or infinite score is skipped: its likelihood is 0.5 (unknown)
    and it enters neither ring, so the windows count finite scores.
    """
    short, long = len(short_ring), len(long_ring)
    for i in range(len(scores)):
        if not math.isfinite(scores[i]):
            out[i] = 0.5
            continue
        seen = ints[SEEN]
        p = ints[SHORT_POS]
        floats[SHORT_SUM] += scores[i] - short_ring[p]
        short_ring[p] = scores[i]
        ints[SHORT_POS] = (p + 1) % short
        if seen % short == short - 1:  # exact again once per ring turn
            floats[SHORT_SUM] = short_ring.sum()
        average = floats[SHORT_SUM] / min(seen + 1, short)
        n = ints[LONG_FILL]
        if n < learning:
            out[i] = 0.5
        else:
            mean = floats[LONG_SUM] / n
            var = max(floats[LONG_SQ] / n - mean * mean, min_var)
            z = (average - mean) / math.sqrt(var)
            out[i] = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        q = ints[LONG_POS]
        old = long_ring[q] if n == long else 0.0
        floats[LONG_SUM] += average - old
        floats[LONG_SQ] += average * average - old * old
        long_ring[q] = average
        ints[LONG_POS] = (q + 1) % long
        if n < long:
            ints[LONG_FILL] = n + 1
        if seen % long == long - 1:
            kept = long_ring[:ints[LONG_FILL]]
            floats[LONG_SUM] = kept.sum()
            floats[LONG_SQ] = (kept * kept).sum()
        ints[SEEN] = seen + 1
    return out
