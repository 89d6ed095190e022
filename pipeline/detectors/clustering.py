"""Clustering: a sample is normal when it lies close to a DBSCAN core sample of the training data."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field
from scipy.spatial import cKDTree

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


class CoreSamples:
    """The core samples of a DBSCAN fit, with a k-d tree for nearest-distance queries."""

    def __init__(self, points: np.ndarray):
        self.points = points
        self._tree = cKDTree(points) if len(points) else None

    def nearest(self, vectors: np.ndarray) -> np.ndarray:
        """Euclidean distance of each vector to the nearest core sample (inf when there is none)."""
        if self._tree is None:
            return np.full(len(vectors), np.inf)
        return self._tree.query(vectors, k=1)[0]


class Clustering(ModelDetector):
    """Distance to the nearest DBSCAN core sample of the training vectors.

    scikit-learn's ``DBSCAN(eps, min_samples)`` is run on the training vectors and only its core
    samples are kept (points with at least ``min_samples`` points within ``eps``). A sample is
    normal when its Euclidean distance to the nearest core sample is below ``treshold``, else
    ``"Error: outlier detected"``; with no core sample every sample is an outlier. Undefined until a
    model exists. Deterministic: the same data always give the same core samples.

    Parameters
    ----------
    eps : float
        DBSCAN neighbourhood radius, in feature units (> 0).
    min_samples : int
        Points within ``eps`` (itself included) that make a core sample.
    treshold : float
        Largest distance to a core sample that is still normal, in feature units (> 0). The
        original's spelling.
    train_data, load_model_from, retrain_interval, samples_for_retrain, retrain_file
        Training and retraining (``model_store``); ``train_data``, ``load_model_from`` or
        ``retrain_interval`` is required. Counts are in samples.
    random_state : int
        Accepted like every model-based detector's; DBSCAN draws nothing.

    ``score`` is ``r / (1 + r)`` with ``r`` the distance to the nearest core sample divided by
    ``treshold``: 0 on a core sample, 0.5 at the limit, 1 with no core sample. Plot line:
    ``distance`` (to the nearest core sample).

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.detectors.model_store import memory_context
    >>> from pipeline.records import SampleBatch
    >>> training = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1], [5.0, 5.0]])
    >>> d = Clustering(eps=0.2, min_samples=3, treshold=0.5, train_data="points.csv")
    >>> d.start(memory_context(training))
    >>> x = np.array([[0.3, 0.2], [5.0, 5.0]])
    >>> out = d.update(SampleBatch(np.arange(2.0), np.arange(2.0), x, np.arange(2)))
    >>> d.status_codes[out.status_idx].tolist(), out.lines["distance"].round(3).tolist()
    ([1, -1], [0.224, 6.93])
    """

    name = "Clustering"
    line_names = ("distance",)
    own_scale_lines = ("distance",)  # a distance in feature space, >= 0

    def __init__(
        self,
        eps: Annotated[float, Field(gt=0, description="DBSCAN neighbourhood radius, in feature units")],
        min_samples: Annotated[int, Field(ge=1, description=(
            "points within eps (itself included) that make a core sample"))],
        treshold: Annotated[float, Field(gt=0, description=(
            "largest distance to a core sample that is still normal, in feature units (original spelling)"))],
        train_data: TrainData = None,
        load_model_from: LoadModelFrom = None,
        retrain_interval: RetrainInterval = None,
        samples_for_retrain: SamplesForRetrain = None,
        retrain_file: RetrainFile = None,
        random_state: RandomState = 0,
    ):
        self.eps = eps
        self.min_samples = min_samples
        self.treshold = treshold
        self._setup_training(train_data, load_model_from, retrain_interval, samples_for_retrain, retrain_file,
                             random_state)

    def model_parameters(self) -> dict:
        return {"eps": self.eps, "min_samples": self.min_samples}

    def _fit(self, vectors):
        from sklearn.cluster import DBSCAN
        fitted = DBSCAN(eps=self.eps, min_samples=self.min_samples).fit(vectors)
        return CoreSamples(vectors[np.sort(fitted.core_sample_indices_)].copy())

    def _model_state(self, model):
        return {"core_samples": model.points}   # the k-d tree is rebuilt from them on load

    def _model_from_state(self, state):
        points = state["core_samples"]
        if not (isinstance(points, np.ndarray) and points.dtype == np.float64 and points.ndim == 2
                and points.shape[1] == self._width and np.isfinite(points).all()):
            raise ModelError(f"the core samples are not finite float64[n, {self._width}]")
        return CoreSamples(points)

    def _judge(self, model, vectors):
        distance = model.nearest(vectors)
        with np.errstate(invalid="ignore"):
            r = distance / self.treshold
            score = np.where(np.isinf(r), 1.0, r / (1.0 + r))
        return ~(distance < self.treshold), score, {"distance": distance}
