"""Plain per-sample Python versions of the vectorised detectors: the oracle for the batch path.

Written from the specification (UPSTREAM_SPEC.md 5.0-5.3) one sample at a time, with the same
floating-point expressions as the vectorised code, so both must agree exactly. The benchmarks time
them as the "plain Python loop" baseline. Each returns (status texts, scores).
"""
from __future__ import annotations

import math

RESYNC_EVERY = 16384
TINY = 5e-324


def band_status(n: float, stages: list[float], noun: str) -> str:
    if n > 1:
        return f"Error: {noun} above upper limit"
    if n < -1:
        return f"Error: {noun} below lower limit"
    status = "OK"
    for i, s in enumerate(sorted(stages)):
        if n > s:
            status = f"Warning{i}: {noun} close to upper limit."
        elif n < -s:
            status = f"Warning{i}: {noun} close to lower limit."
        else:
            break
    return status


def band_position(q: float, upper: float, lower: float) -> float:
    if upper == lower:
        centre = (upper + lower) / 2
        return 0.0 if q == centre else math.copysign(math.inf, q - centre)
    return 2 * (q - (upper + lower) / 2) / (upper - lower)


def band_score(n: float) -> float:
    a = abs(n)
    return 1.0 if math.isinf(a) else a / (1.0 + a)


def border_check_loop(xs, UL, LL, warning_stages):
    texts, scores = [], []
    for x in xs:
        n = band_position(x, UL, LL)
        texts.append(band_status(n, warning_stages, "measurement"))
        scores.append(band_score(n))
    return texts, scores


def ema_loop(xs, UL, LL, N, warning_stages):
    alpha = 2 / (N + 1)
    texts, scores, ema = [], [], None
    for x in xs:
        ema = x if ema is None else alpha * x + (1 - alpha) * ema
        n = band_position(ema, UL, LL)
        texts.append(band_status(n, warning_stages, "EMA"))
        scores.append(band_score(n))
    return texts, scores


def _judge(x, mean, var, X, stages, texts, scores):
    std = math.sqrt(max(var, 0.0))
    if std == 0:
        std = TINY
    n = band_position(x, mean + X * std, mean - X * std)
    texts.append(band_status(n, stages, "measurement"))
    scores.append(band_score(n))


def welford_loop(xs, X, N=None, warning_stages=()):
    xs = [float(x) for x in xs]
    texts, scores = [], []
    s = q = c = 0.0
    run = 0  # how many equal values end at the sample before x
    for g, x in enumerate(xs):
        if g > 0:
            run = run + 1 if g > 1 and xs[g - 1] == xs[g - 2] else 1
        if N is None:
            if g == 0:
                c = x
            if g < 2:
                texts.append("Undefined")
                scores.append(0.0)
            else:
                _judge(x, c + s / g, (q - s * s / g) / g, X, warning_stages, texts, scores)
            d = x - c
            s, q = s + d, q + d * d
            continue
        if g < N:
            texts.append("Undefined")
            scores.append(0.0)
            continue
        window = xs[g - N:g]
        if run >= N:
            # a constant window: its exact mean and a variance of 0 (the fix for a flat stretch,
            # where the rolling sums left a residue that made the value itself an error)
            c, s, q = window[-1], 0.0, 0.0
        elif g == N or g % RESYNC_EVERY == 0:
            c = math.fsum(window) / N
            centred = [w - c for w in window]
            s, q = math.fsum(centred), math.fsum(w * w for w in centred)
        else:
            new, old = xs[g - 1] - c, xs[g - 1 - N] - c
            s, q = s + (new - old), q + (new * new - old * old)
        _judge(x, c + s / N, (q - s * s / N) / (N - 1), X, warning_stages, texts, scores)
    return texts, scores
