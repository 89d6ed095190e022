"""GAN: a dense autoencoder (the original's name for it); a sample is an outlier when its
reconstruction error is large compared with the recent errors."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import ConfigDict, Field, with_config
from typing_extensions import NotRequired, TypedDict

from pipeline.detectors.dense import mlp_forward
from pipeline.detectors.model_store import (
    LoadModelFrom,
    ModelDetector,
    ModelError,
    RandomState,
    RetrainFile,
    RetrainInterval,
    SamplesForRetrain,
    TrainData,
)
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, SampleBatch, Status
from pipeline.sample_tail import SampleTail

HIDDEN_UNITS = 10
EPOCHS = 100
BATCH_SIZE = 100

#: Rows of the weighted-window sums computed at a time (bounds the temporary to ~16 MB).
WINDOW_CELLS = 1 << 21


@with_config(ConfigDict(extra="forbid"))
class GANTrainConf(TypedDict):
    """``train_conf`` of GAN, the original's keys."""

    N_shifts: Annotated[int, Field(ge=0, description=(
        "the feature vector has N_shifts + 1 elements (shifts are built by the feature keys, not here)"))]
    N_latent: Annotated[int, Field(ge=1, description="units of the autoencoder's bottleneck layer")]
    K: Annotated[float, Field(gt=0, description=(
        "error limit: K times the weighted mean reconstruction error of the window"))]
    len_window: Annotated[int, Field(ge=1, description="reconstruction errors in the window, in samples")]
    model_name: NotRequired[Annotated[str, Field(description=(
        "name of the model folder; default: the detector's name in the run"))]]


@dataclass
class Autoencoder:
    centre: float
    scale: float
    coefs: list
    intercepts: list

    def errors(self, vectors: np.ndarray) -> np.ndarray:
        """Mean squared reconstruction error of each (unscaled) vector, in scaled units."""
        z = (vectors - self.centre) / self.scale
        residual = mlp_forward(z, self.coefs, self.intercepts, "tanh") - z
        return (residual * residual).sum(axis=1) / z.shape[1]


class GAN(ModelDetector):
    """Dense autoencoder with a self-adjusting error limit (the original's ``GAN``, not a GAN).

    Training (``train_data``, or the first retrain) scales every value by the training data's
    range, ``(v - (min + max) / 2) / (max - min)`` (kept for later retrains and saved with the
    model), and fits scikit-learn's ``MLPRegressor`` to reproduce its input through layers of
    10, 10, 10, ``N_latent``, 10, 10, 10 tanh units (Adam, learning rate 1e-3, beta_1 0.95,
    100 epochs, batches of 100). Streaming, the mean squared reconstruction error ``e`` of each
    sample enters a window of the last ``len_window`` errors, newest weighted most
    (``exp(linspace(0, 1, len_window))``), and the limit is ``K`` times the window's weighted
    mean, the current error included; ``e`` at or above the limit is
    ``"Error: outlier detected (GAN)"``. The window starts with the training samples'
    reconstruction errors, so the first samples are judged against normal behaviour. The vector
    must have ``N_shifts + 1`` elements. Retraining as in ``model_store``.

    Parameters
    ----------
    train_conf : dict
        ``N_shifts``, ``N_latent``, ``K``, ``len_window`` (required), ``model_name``.
    train_data, load_model_from, retrain_interval, samples_for_retrain, retrain_file, random_state
        Training and retraining (``model_store``); ``train_data``, ``load_model_from`` or
        ``retrain_interval`` is required. Counts are in samples.

    ``score`` is ``r / (1 + r)`` with ``r = e / limit``: 0.5 on the limit. Plot lines: ``error``
    and ``limit`` (scaled units).

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.detectors.model_store import memory_context
    >>> from pipeline.records import SampleBatch
    >>> t = np.arange(600) / 10
    >>> pairs = np.column_stack([np.sin(t), np.sin(t - 0.1)])   # a value and the one before
    >>> d = GAN(train_conf={"N_shifts": 1, "N_latent": 1, "K": 3, "len_window": 100}, train_data="pairs.csv")
    >>> d.start(memory_context(pairs))
    >>> x = np.array([[0.5, 0.45], [0.5, -0.9]])                 # the second breaks the pattern
    >>> out = d.update(SampleBatch(np.arange(2.0), np.arange(2.0), x, np.arange(2)))
    >>> d.status_codes[out.status_idx].tolist()
    [1, -1]
    """

    name = "GAN"
    line_names = ("error", "limit")
    own_scale_lines = ("error", "limit")  # squared errors in scaled units
    status_texts = (OK_TEXT, UNDEFINED_TEXT, "Error: outlier detected (GAN)")
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR], dtype=np.int8)
    min_fit_samples = 2

    def __init__(
        self,
        train_conf: Annotated[GANTrainConf, Field(description=(
            "autoencoder and limit settings: N_shifts, N_latent, K, len_window, model_name"))],
        train_data: TrainData = None,
        load_model_from: LoadModelFrom = None,
        retrain_interval: RetrainInterval = None,
        samples_for_retrain: SamplesForRetrain = None,
        retrain_file: RetrainFile = None,
        random_state: RandomState = 0,
    ):
        self.train_conf = dict(train_conf)
        self._setup_training(train_data, load_model_from, retrain_interval, samples_for_retrain, retrain_file,
                             random_state, self.train_conf.get("model_name"))
        L = self.train_conf["len_window"]
        self._weights = np.exp(np.linspace(0, 1, L))   # [p]: weight of the error at lag L - 1 - p
        self._errors = SampleTail(L - 1)               # the errors before the window's newest
        self._scaling: tuple[float, float] | None = None

    def model_parameters(self) -> dict:
        c = self.train_conf
        return {"N_shifts": c["N_shifts"], "N_latent": c["N_latent"]}

    def _check_width(self, width: int) -> None:
        expected = self.train_conf["N_shifts"] + 1
        if width != expected:
            raise ModelError(f"GAN: train_conf.N_shifts is {expected - 1}, so the feature vector must have "
                             f"{expected} elements, but it has {width}")

    def _fit(self, vectors):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor
        self._check_width(vectors.shape[1])
        if self._scaling is None:
            low, high = float(vectors.min()), float(vectors.max())
            self._scaling = ((low + high) / 2, high - low) if high > low else (0.0, 1.0)
        centre, scale = self._scaling
        z = (vectors - centre) / scale
        k = self.train_conf["N_latent"]
        net = MLPRegressor(hidden_layer_sizes=(HIDDEN_UNITS,) * 3 + (k,) + (HIDDEN_UNITS,) * 3, activation="tanh",
                           solver="adam", learning_rate_init=1e-3, beta_1=0.95, batch_size=min(BATCH_SIZE, len(z)),
                           max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS, random_state=self._rng)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            net.fit(z, z if z.shape[1] > 1 else z[:, 0])  # one output: scikit-learn wants 1-D y
        model = Autoencoder(centre, scale, [c.copy() for c in net.coefs_], [b.copy() for b in net.intercepts_])
        if self.fits == 0 and len(self._errors) == 0:
            self._errors.keep(model.errors(vectors))
        return model

    def _limits(self, errors: np.ndarray) -> np.ndarray:
        """K times the weighted mean of the window ending at each error (updates the history)."""
        L, m = self.train_conf["len_window"], len(errors)
        w = self._weights
        joined = self._errors.extend(errors)
        h = len(joined) - m
        padded = np.concatenate([np.zeros(L - 1 - h), joined])
        present = np.concatenate([np.zeros(L - 1 - h), np.ones(h + m)])
        limits = np.empty(m)
        rows = max(1, WINDOW_CELLS // L)
        for start in range(0, m, rows):
            stop = min(m, start + rows)
            values = sliding_window_view(padded[start:stop + L - 1], L)
            weights = sliding_window_view(present[start:stop + L - 1], L)
            limits[start:stop] = (values * w).sum(axis=1) / (weights * w).sum(axis=1)
        return self.train_conf["K"] * limits

    def _judge(self, model, vectors):
        errors = model.errors(vectors)
        limits = self._limits(errors)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(limits > 0, errors / limits, np.where(errors > 0, np.inf, 0.0))
        outlier = ~((errors < limits) | ((limits == 0) & (errors == 0)))
        score = np.where(np.isinf(r), 1.0, r / (1.0 + r))
        return outlier, score, {"error": errors, "limit": limits}

    def update(self, samples: SampleBatch):
        if len(samples):
            self._check_width(samples.values.shape[1])
        return super().update(samples)

    def _model_state(self, model):
        return {"centre": model.centre, "scale": model.scale, "coefs": model.coefs, "intercepts": model.intercepts}

    def _model_from_state(self, state):
        centre, scale = state["centre"], state["scale"]
        coefs, intercepts = list(state["coefs"]), list(state["intercepts"])
        if not all(isinstance(v, float) and np.isfinite(v) for v in (centre, scale)) or scale == 0:
            raise ModelError("the autoencoder's scaling is not two finite numbers (scale not 0)")
        arrays = coefs + intercepts
        if not (len(coefs) == len(intercepts) >= 1 and all(isinstance(a, np.ndarray) and a.dtype == np.float64
                                                            for a in arrays)):
            raise ModelError("the autoencoder's layers are not float64 arrays, one bias per weight matrix")
        width = self._width
        for w, b in zip(coefs, intercepts):
            if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                raise ModelError("the autoencoder's layers do not connect")
            width = w.shape[1]
        if width != self._width:
            raise ModelError(f"the autoencoder does not map {self._width} values to {self._width}")
        return Autoencoder(centre, scale, coefs, intercepts)

    def _extra_state(self) -> dict:
        return {"history": self._errors.samples.copy(), "scaling": self._scaling}

    def _restore_extra_state(self, state: dict) -> None:
        history, scaling = state["history"], state["scaling"]
        if not (isinstance(history, np.ndarray) and history.dtype == np.float64 and history.ndim == 1
                and len(history) < self.train_conf["len_window"]):
            raise ModelError(f"the error window is not float64[< {self.train_conf['len_window']}]")
        if scaling is not None and not (len(scaling) == 2 and all(isinstance(v, float) for v in scaling)):
            raise ModelError("the saved scaling is not two numbers")
        self._errors.keep(history)
        self._scaling = None if scaling is None else (scaling[0], scaling[1])
