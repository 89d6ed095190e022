"""TrendClassification: a small neural classifier says whether the recent window falls, stays flat
or rises; a steep, persistent trend is an error."""
from __future__ import annotations

import logging
import time
import warnings
from typing import Annotated

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import Field

from pipeline.detectors.band import UNDEFINED_IDX, Band
from pipeline.detectors.base import Detector, DetectorContext, ParameterError
from pipeline.detectors.dense import mlp_forward
from pipeline.detectors.model_store import RandomState
from pipeline.records import DetectorOutput, SampleBatch
from pipeline.sample_tail import SampleTail

log = logging.getLogger(__name__)

FALLING, FLAT, RISING = 0, 1, 2
EPOCHS = 50
BATCH_SIZE = 10


def synthetic_windows(num_samples: int, N: int, noise: float, rng: np.random.RandomState):
    """``num_samples`` windows of length N, each a falling, flat or rising line plus Gaussian noise,
    centred and divided by its range; labels 0 falling, 1 flat, 2 rising (the original's recipe)."""
    labels = rng.randint(0, 3, num_samples)
    ramp = np.linspace(0, 1, N)
    shapes = np.stack([ramp[::-1], np.full(N, 0.5), ramp])
    windows = shapes[labels] + rng.normal(0, noise, (num_samples, N))
    return normalise(windows), labels


def normalise(windows: np.ndarray) -> np.ndarray:
    """Each row centred on its mean and divided by its range (rows must not be constant)."""
    return (windows - windows.mean(axis=1, keepdims=True)) / np.ptp(windows, axis=1, keepdims=True)


class TrendClassification(Detector):
    """Trend of the running mean, classified by a small neural network trained on synthetic lines.

    At start a classifier (scikit-learn ``MLPClassifier``: ``N`` relu units, softmax over
    falling/flat/rising; Adam, 50 epochs, batches of 10) is trained on ``num_samples`` synthetic
    windows of length ``N`` (straight falling, flat or rising lines plus Gaussian noise of
    ``train_noise``, each centred and divided by its range), drawn from ``random_state``.
    Streaming, the mean of the last ``averaging`` values of the first feature enters a window of
    the last ``N`` means; the window, centred and divided by its range, is classified (0 falling,
    1 flat, 2 rising; a constant window is flat). With ``p`` the mean of the last
    ``prediction_conv`` classes and ``a = (max - min) / amp_scale`` the window's range,
    ``v = 1 + (p - 1) a`` is judged in the band ``[0, 2]``: above 2 (below 0) is
    ``"Error: measurement above (below) upper (lower) limit"``, ``|v - 1|`` over a warning stage
    is ``"Warning<i>: trend close to upper (lower) limit."``, else OK. Undefined for the first
    ``N + prediction_conv - 2`` samples.

    Parameters
    ----------
    num_samples : int
        Synthetic training windows.
    N : int
        Window length, in running means (>= 2).
    averaging : int
        Samples in each running mean (>= 1).
    prediction_conv : int
        Classifications averaged (>= 1).
    train_noise : float
        Standard deviation of the training noise (line height 1).
    warning_stages : list of float
        Warning stages on ``|v - 1|`` (sorted; 1 = on a limit).
    amp_scale : float
        Window range, in measurement units, that makes a clear trend reach a limit (> 0).
    random_state : int
        Seed of the synthetic windows and of the classifier.

    ``score`` is ``|v - 1| / (1 + |v - 1|)``: 0 without a trend, 0.5 on a limit. Plot line:
    ``trend`` (``v``; 1 = flat).

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = TrendClassification(num_samples=300, N=10, averaging=1, prediction_conv=3,
    ...                         train_noise=0.05, warning_stages=[0.5], amp_scale=1.0)
    >>> x = np.concatenate([np.zeros(20), np.linspace(0, 3, 20)])   # flat, then a steep rise
    >>> codes = d.status_codes[d.update(SampleBatch(x, x, x[:, None], np.arange(40))).status_idx]
    >>> codes[:12].tolist(), codes[-1].item()   # undefined for N + prediction_conv - 2 samples
    ([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1], -1)
    """

    name = "Trend_Classification"
    line_names = ("trend",)
    own_scale_lines = ("trend",)  # dimensionless, 1 = flat

    def __init__(
        self,
        num_samples: Annotated[int, Field(ge=3, description="synthetic training windows")],
        N: Annotated[int, Field(ge=2, description="window length, in running means")],
        averaging: Annotated[int, Field(ge=1, description="samples in each running mean")],
        prediction_conv: Annotated[int, Field(ge=1, description="classifications averaged")],
        train_noise: Annotated[float, Field(ge=0, description=(
            "standard deviation of the training noise (lines of height 1)"))],
        warning_stages: Annotated[list[float], Field(description=(
            "warning stages on |v - 1| (1 = on a limit)"))] = [],  # noqa: B006
        amp_scale: Annotated[float, Field(gt=0, description=(
            "window range, in measurement units, at which a clear trend reaches a limit"))] = 1.0,
        random_state: RandomState = 0,
    ):
        if num_samples < 3:
            raise ParameterError("num_samples", num_samples, "at least 3")
        self.num_samples = num_samples
        self.N = N
        self.averaging = averaging
        self.prediction_conv = prediction_conv
        self.train_noise = train_noise
        self.warning_stages = list(warning_stages)
        self.amp_scale = amp_scale
        self.random_state = random_state
        self._band = Band(warning_stages, noun="measurement")
        self.status_texts = tuple(t.replace("measurement close", "trend close") for t in self._band.status_texts)
        self.status_codes = self._band.status_codes
        self._net = None
        self._raw = SampleTail(averaging - 1)             # values
        self._means = SampleTail(N - 1)                   # running means
        self._classes = SampleTail(prediction_conv - 1)   # classes
        self.fit_seconds = 0.0

    def start(self, context: DetectorContext) -> None:
        """Train the classifier (no files needed)."""
        self._train()

    def _train(self) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
        began = time.perf_counter()
        rng = np.random.RandomState(self.random_state)
        windows, labels = synthetic_windows(self.num_samples, self.N, self.train_noise, rng)
        net = MLPClassifier(hidden_layer_sizes=(self.N,), activation="relu", solver="adam",
                            learning_rate_init=1e-3, beta_1=0.95, batch_size=min(BATCH_SIZE, self.num_samples),
                            max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS, random_state=rng)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            net.fit(windows, labels)
        self._net = net
        self.fit_seconds = time.perf_counter() - began
        log.info("%s: classifier trained on %d synthetic windows in %.2f s", self.name, self.num_samples,
                 self.fit_seconds)

    def _classify(self, windows: np.ndarray) -> np.ndarray:
        """Class of each window (flat for a constant one; the original crashed there)."""
        classes = np.full(len(windows), FLAT, dtype=np.int64)
        varying = np.ptp(windows, axis=1) > 0
        if varying.any():
            logits = mlp_forward(normalise(windows[varying]), self._net.coefs_, self._net.intercepts_, "relu")
            classes[varying] = self._net.classes_[np.argmax(logits, axis=1)]
        return classes

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = np.asarray(samples.values[:, 0], dtype=np.float64)
        n = len(x)
        status = np.full(n, UNDEFINED_IDX, dtype=np.int16)
        score = np.zeros(n)
        trend = np.full(n, np.nan)
        valid = np.flatnonzero(np.isfinite(x))
        if len(valid) == 0:
            return DetectorOutput(status, score, {"trend": trend})
        if self._net is None:
            self._train()
        v = x[valid]
        A, N, C = self.averaging, self.N, self.prediction_conv

        # running means: of the last A values, or of every value so far at the stream's start
        raw = self._raw.extend(v)
        h = len(raw) - len(v)
        means = np.empty(len(v))
        partial = min(len(v), A - 1 - h) if h < A - 1 else 0
        for i in range(partial):
            means[i] = raw[:h + i + 1].mean()
        if partial < len(v):
            means[partial:] = sliding_window_view(raw[h + partial - A + 1:], A).mean(axis=1)

        # windows of N means -> classes; averaged over C classes -> v
        all_means = self._means.extend(means)
        full = max(0, len(all_means) - N + 1)            # windows ending in this batch
        windows = sliding_window_view(all_means, N)[len(all_means) - N + 1 - full:] if full else np.empty((0, N))
        classes = self._classify(windows)
        all_classes = self._classes.extend(classes)
        judged = max(0, len(all_classes) - C + 1)
        if judged:
            mean_class = sliding_window_view(all_classes, C).sum(axis=1)[-judged:] / C
            w = windows[len(windows) - judged:]
            amplitude = np.ptp(w, axis=1) / self.amp_scale
            level = 1 + (mean_class - 1) * amplitude
            rows = valid[len(v) - judged:]
            n_band = self._band.normalised(level, 2.0, 0.0)
            status[rows] = self._band.classify(n_band)
            score[rows] = self._band.score(n_band)
            trend[rows] = level
        return DetectorOutput(status, score, {"trend": trend})
