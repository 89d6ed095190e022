"""Plain per-sample Python versions of the statistical detectors: the oracle for the batch path.

Written from the specification (UPSTREAM_SPEC.md 5.4, 5.5, 5.11-5.14, 5.17, 5.19) one sample at a
time with Python floats, using the same floating-point expressions as the vectorised code, so both
must agree exactly. Where we fixed a bug of the original, a keyword flag (``original_...=True``)
switches the loop back to the original's behaviour: with those flags the loops reproduce the
reference vectors of the original, which is how the tests show that every mismatch between our
detectors and the original is explained by the listed fix and by nothing else.

Each loop returns (status texts, scores); Hampel also returns its suggested values. The helpers
at the end drive detectors over random batch cuts and replay the original's reference vectors.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from scipy.signal import butter, lfilter_zi

from pipeline.config import parse_config
from pipeline.detectors import DETECTORS
from pipeline.engine import DetectorRun
from pipeline.records import SampleBatch
from tests.conftest import REFVECTORS
from tests.reference_loops import band_position, band_score, band_status


def band_status_unsorted(n: float, stages: list[float], noun: str) -> str:
    """MACD's walk: stages in config order, and a stage that does not match resets to OK."""
    if n > 1:
        return f"Error: {noun} above upper limit"
    if n < -1:
        return f"Error: {noun} below lower limit"
    status = "OK"
    for i, s in enumerate(stages):
        if n > s:
            status = f"Warning{i}: {noun} close to upper limit."
        elif n < -s:
            status = f"Warning{i}: {noun} close to lower limit."
        else:
            status = "OK"
            break
    return status


def percentile_linear(values: list[float], q: float) -> float:
    """numpy's default ("linear") percentile, step by step as numpy computes it."""
    s = sorted(values)
    n = len(s)
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return s[-1]
    below = math.floor(virtual)
    a, b = s[below], s[below + 1]
    gamma = virtual - below
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


# -- Filtering -------------------------------------------------------------------------------------

def filtering_loop(xs, mode, filter_order, cutoff_frequency, UL, LL, warning_stages=(), *,
                   original_initial_state=False, original_negative_check=False):
    """Butterworth low-pass (transposed direct form II, as scipy's lfilter), then the band rule.

    Fixed: the filter starts in the steady state of the first value (the original started as if
    the input had been 1.0 forever), and in mode 1 a deviation below -1 is an error (the original
    tested the mode-0 position of the filtered value instead).
    """
    b, a = butter(filter_order, cutoff_frequency)
    b, a = [float(v) for v in b], [float(v) for v in a]
    zi = [float(v) for v in lfilter_zi(b, a)]
    texts, scores, z = [], [], None
    order = len(a) - 1
    for x in xs:
        if z is None:
            z = zi if original_initial_state else [v * x for v in zi]
        y = z[0] + b[0] * x
        for k in range(order - 1):
            z[k] = z[k + 1] + x * b[k + 1] - y * a[k + 1]
        z[order - 1] = x * b[order] - y * a[order]
        n = band_position(y, UL, LL)
        if mode == 0:
            texts.append(band_status(n, warning_stages, "Filtered signal"))
            scores.append(band_score(n))
            continue
        d = (x - y) / (UL - LL)
        below = n < -1 if original_negative_check else d < -1
        status = "OK"
        if d > 1 or below:
            status = "Error: Large deviation"
        else:
            for i, s in enumerate(sorted(warning_stages)):
                if d > s or d < -s:
                    status = f"Warning{i}: Significant deviation."
                else:
                    break
        texts.append(status)
        scores.append(band_score(d))
    return texts, scores


# -- Hampel ----------------------------------------------------------------------------------------

def hampel_loop(xs, W, K=1.4826, n_sigmas=3.0, *, original_off_by_one=False):
    """Median and MAD of the last 2W + 1 values; the verdict is on the window's centre x[t - W].

    With ``original_off_by_one`` the tested point is x[t - W + 1] and the first verdict comes one
    sample later (t = 2W + 1 instead of 2W), as in the original.
    """
    size = 2 * W + 1
    lag = W - 1 if original_off_by_one else W
    first = size if original_off_by_one else size - 1
    texts, scores, suggested = [], [], []
    steps = 0.0  # sum of |x[i] - x[i-1]| up to x[t]
    for t in range(len(xs)):
        if t > 0 and math.isfinite(abs(xs[t] - xs[t - 1])):
            steps += abs(xs[t] - xs[t - 1])
        tested = xs[t - lag] if t >= lag else None
        if t < first:
            texts.append("Undefined")
            scores.append(0.0)
            suggested.append(tested)
            continue
        window = sorted(xs[t - size + 1:t + 1])
        m = window[W]
        s0 = K * sorted(abs(v - m) for v in window)[W]
        deviation = abs(tested - m)
        limit = n_sigmas * s0
        if deviation > limit:
            texts.append("Anomaly detected")
            suggested.append(m)
        else:
            texts.append("OK")
            suggested.append(tested)
        scale = s0
        if s0 == 0:
            # a zero MAD: the score's scale falls back to the stream's mean step times
            # sqrt(pi) / 2 (the fix for flat and stepped data, where every departure scored 1.0);
            # the status keeps the original's rule
            scale = steps / t * (math.sqrt(math.pi) / 2)
        scaled_limit = n_sigmas * scale
        r = deviation / scaled_limit if scaled_limit > 0 else (math.inf if deviation > 0 else 0.0)
        scores.append(1.0 if math.isinf(r) else r / (1.0 + r))
    return texts, scores, suggested


# -- LinearFit -------------------------------------------------------------------------------------

def linear_fit_loop(xs, UL, LL, N, confidence_norm, warning_stages=(), *, original_veto=False):
    """Least-squares line through the last N values (the current one included), from sample N on.

    The slope is judged with the band rule unless the fit is poor: the mean squared residual above
    ``confidence_norm`` gives Undefined. The original divided the residual sum by the current value
    instead (``original_veto``), so negative values never vetoed.
    """
    centre = (N - 1) / 2
    weights = [(k - centre) / (N * (N * N - 1) / 12) for k in range(N)]
    texts, scores = [], []
    for t, x in enumerate(xs):
        if t < N:
            texts.append("Undefined")
            scores.append(0.0)
            continue
        window = xs[t - N + 1:t + 1]
        slope = 0.0
        total = 0.0
        for k in range(N):
            slope = slope + weights[k] * window[k]
            total = total + window[k]
        intercept = total / N - slope * centre
        sse = 0.0
        for k in range(N):
            r = window[k] - (intercept + slope * k)
            sse = sse + r * r
        n = band_position(slope, UL, LL)
        scores.append(band_score(n))
        if original_veto:
            with_veto = x != 0 and sse / x > confidence_norm
        else:
            with_veto = sse / N > confidence_norm
        texts.append("Undefined" if with_veto else band_status(n, warning_stages, "slope"))
    return texts, scores


# -- MACD ------------------------------------------------------------------------------------------

def macd_loop(xs, period1, period2, UL, LL, warning_stages=()):
    """EMA(period1) - EMA(period2), both starting at the first value, judged with MACD's walk."""
    a1, a2 = 2 / (period1 + 1), 2 / (period2 + 1)
    texts, scores, e1, e2 = [], [], None, None
    for x in xs:
        if e1 is None:
            e1 = e2 = x
        else:
            e1 = a1 * x + (1 - a1) * e1
            e2 = a2 * x + (1 - a2) * e2
        n = band_position(e1 - e2, UL, LL)
        texts.append(band_status_unsorted(n, list(warning_stages), "MACD"))
        scores.append(band_score(n))
    return texts, scores


# -- Cumulative ------------------------------------------------------------------------------------

def cumulative_loop(xs, decay, averaging, warning_stages=(), *, original_nan=False):
    """C <- (C + relative change of the running mean) (1 - decay), judged with limits +-1.

    The relative change is (r_t - r_{t-1}) / |r_t| with r_{-1} = 0. Fixed: when r_t is 0 the
    change is measured against |r_{t-1}|, and it is 0 when both are 0; the original divided by
    zero, after which C stayed NaN and every sample was OK (``original_nan``).
    """
    texts, scores = [], []
    keep = 1 - decay
    c = previous = 0.0
    for t in range(len(xs)):
        window = xs[max(0, t - averaging + 1):t + 1]
        total = 0.0
        for v in window:
            total = total + v
        r = total / len(window)
        change = r - previous
        if original_nan:
            with_nan_semantics = abs(r)
            delta = change / with_nan_semantics if with_nan_semantics != 0 else (
                math.nan if change == 0 else math.copysign(math.inf, change))
        elif r != 0:
            delta = change / abs(r)
        elif previous != 0:
            delta = change / abs(previous)
        else:
            delta = 0.0
        c = keep * delta + keep * c
        previous = r
        if math.isnan(c):
            texts.append("OK")
            scores.append(0.0)
            continue
        texts.append(band_status(c, warning_stages, "measurement"))
        scores.append(band_score(c))
    return texts, scores


# -- EMA_Percentile --------------------------------------------------------------------------------

def ema_percentile_loop(xs, percentile, window, start_on, period, *, original_band=False):
    """EMA of the values; error when the EMA leaves the [100 - p, p] percentile band of the last
    ``window`` EMAs (the current one included), once ``start_on`` EMAs are stored.

    Fixed: the band is [min(p, 100 - p), max(p, 100 - p)]; the original used [100 - p, p], which
    is inverted for p < 50 (``original_band``).
    """
    alpha = 2 / (period + 1)
    texts, scores, emas, ema = [], [], [], None
    low_q, high_q = 100 - percentile, percentile
    if not original_band and low_q > high_q:
        low_q, high_q = high_q, low_q
    for x in xs:
        ema = x if ema is None else alpha * x + (1 - alpha) * ema
        emas.append(ema)
        emas = emas[-window:]
        if len(emas) < start_on:
            texts.append("Undefined")
            scores.append(0.0)
            continue
        low, high = percentile_linear(emas, low_q), percentile_linear(emas, high_q)
        if ema > high:
            texts.append("Error: EMA in upper percentile")
        elif ema < low:
            texts.append("Error: EMA in lower percentile")
        else:
            texts.append("OK")
        scores.append(band_score(band_position(ema, high, low)) if high >= low else 0.0)
    return texts, scores


# -- Percentile ------------------------------------------------------------------------------------

def percentile_loop(xs, percentile_range=(5, 95), buff_size=100, warning_stages=()):
    """The value against the percentile band of the previous ``buff_size`` values (band rule)."""
    texts, scores = [], []
    for t, x in enumerate(xs):
        if t < buff_size:
            texts.append("Undefined")
            scores.append(0.0)
            continue
        history = xs[t - buff_size:t]
        low = percentile_linear(history, percentile_range[0])
        high = percentile_linear(history, percentile_range[1])
        n = band_position(x, high, low)
        texts.append(band_status(n, warning_stages, "measurement"))
        scores.append(band_score(n))
    return texts, scores


# -- Combination -----------------------------------------------------------------------------------

def _points(code: int) -> int:
    return 2 if code == -1 else 1 if code == 0 else 0


def combination_loop(members, timestamps, status_determiner, status_determiner_conf=None, delays=None):
    """Combine per-sample member results; ``members`` is a list of (texts, codes, scores).

    ``delays`` (one per member, default 0): member i's result at t judges sample t - delays[i].
    The merged result at t is about sample t - max(delays) and takes each member's verdict on it
    (Undefined, score 0, before the first), with that sample's timestamp.

    AND/OR give the original's texts and codes. PercentScore(_Alicante) gives the original's
    percent score as ``score`` (as floats the original returned as status code) and maps it to a
    status: Undefined if every member is undefined, else error from ``error_threshold``, warning
    from ``warning_threshold``, OK below.
    """
    conf = dict(status_determiner_conf or {})
    if delays and max(delays) > 0:
        lag = max(delays)
        members = [tuple((["Undefined"] * (lag - d) + list(texts[:len(texts) - lag + d]),
                          [2] * (lag - d) + list(codes[:len(codes) - lag + d]),
                          [0.0] * (lag - d) + list(scores[:len(scores) - lag + d])))
                   for (texts, codes, scores), d in zip(members, delays)]
        timestamps = [timestamps[0]] * lag + list(timestamps[:len(timestamps) - lag])
    name = status_determiner.strip().removesuffix("()").strip()
    texts, scores, memory = [], [], []
    latest = -math.inf
    for t in range(len(timestamps)):
        codes = [m[1][t] for m in members]
        member_scores = [m[2][t] for m in members]
        defined = [c != 2 for c in codes]
        if name in ("AND", "OR"):
            if name == "AND":
                code = max((c for c in codes if c != 2), default=2)
                picked = [s for s, d in zip(member_scores, defined) if d]
                score = min(picked) if picked else 0.0
            else:
                code = min(codes)
                score = max(member_scores)
            texts.append({-1: "Error", 0: "Warning", 1: "OK", 2: "Undefined"}[code])
            scores.append(score)
            continue
        points = 0
        for (m_texts, m_codes, _) in members:
            if name == "PercentScore_Alicante" and "upper" not in m_texts[t]:
                continue
            points += _points(m_codes[t])
        ts = timestamps[t]
        seconds = ts if abs(ts) < 1e10 else ts / 1000
        latest = max(latest, seconds)
        memory.append((points, seconds))
        memory = [(p, s) for p, s in memory if s > latest - conf["interval"]]
        expected = int(conf["interval"] / conf["data_interval"])
        score = sum(p for p, _ in memory) / (2 * len(members)) / max(expected, len(memory))
        scores.append(score)
        if not any(defined):
            texts.append("Undefined")
        elif score >= conf.get("error_threshold", 0.5):
            texts.append("Error")
        elif score >= conf.get("warning_threshold", 0.25):
            texts.append("Warning")
        else:
            texts.append("OK")
    return texts, scores


# -- helpers shared by the tests of these detectors ------------------------------------------------

def random_stream(rng, n):
    """Noise on a slow wave with spikes, a level shift and a run of constant values."""
    i = np.arange(n)
    x = np.sin(2 * np.pi * i / 300) + rng.normal(0, 0.2, n)
    x[rng.choice(n, n // 50, replace=False)] += rng.choice([-4, 4], n // 50)
    x[n // 3:n // 3 + 60] = 2.0
    x[2 * n // 3:] += 5.0
    return x


def random_cuts(rng, n, largest=700):
    """Batch sizes that add up to n, including single samples and empty batches."""
    sizes = []
    while sum(sizes) < n:
        sizes.append(int(min(n - sum(sizes), rng.choice([0, 1, int(rng.integers(1, largest))]))))
    return sizes


def run_in_batches(detector, x, sizes, timestamps=None):
    """Status texts, scores and (if any) suggested first features over consecutive batches."""
    ts = np.arange(len(x), dtype=np.float64) if timestamps is None else np.asarray(timestamps, float)
    texts, scores, suggested, start = [], [], [], 0
    for size in sizes:
        sl = slice(start, start + size)
        out = detector.update(SampleBatch(ts[sl], ts[sl], np.asarray(x[sl], float)[:, None],
                                          np.arange(start, start + size)))
        texts += [detector.status_texts[i] for i in out.status_idx]
        scores += out.score.tolist()
        if out.suggested_value is not None:
            suggested += out.suggested_value[:, 0].tolist()
        start += size
    assert start == len(x)
    return texts, scores, suggested


def load_refvector(stem: str):
    """A reference vector of the original: (record, status texts, status codes)."""
    record = json.loads((REFVECTORS / f"{stem}.json").read_text())
    texts = [record["status_vocab"][i] for i in record["status_idx"]]
    return record, texts, record["status_code"]


def replay(record: dict, ts: np.ndarray, x: np.ndarray):
    """Run a vector's configuration through the config parser and the engine's detector step."""
    cfg = parse_config({"anomaly_detection_alg": [f"{record['algorithm']}()"],
                        "anomaly_detection_conf": [record["config"]]}, Path("refvector.json"))
    dc = cfg.detectors[0]
    run = DetectorRun(0, dc.detector.build(DETECTORS), time_filters=dc.time_filters)
    return run.process(SampleBatch(ts, ts, x[:, None], np.arange(len(x))))


def parameters(record: dict, *dropped: str) -> dict:
    """A vector's configuration without the engine's keys (and ``dropped``)."""
    skip = {"input_vector_size", "filtering", *dropped}
    return {k: v for k, v in record["config"].items() if k not in skip}


def mismatches(a, b) -> list[int]:
    assert len(a) == len(b)
    return [i for i, (p, q) in enumerate(zip(a, b)) if p != q]
