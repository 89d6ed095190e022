"""PCA: project the feature vector on its principal components, then an isolation forest there."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import ConfigDict, Field, with_config
from typing_extensions import NotRequired, TypedDict

from pipeline.detectors.dense import dense
from pipeline.detectors.isolation_forest import MaxSamples, check_forest, check_forest_conf, fit_forest, judge_forest
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


@with_config(ConfigDict(extra="forbid"))
class PCATrainConf(TypedDict):
    """``train_conf`` of PCA: ``N_components`` plus the isolation forest's keys."""

    N_components: Annotated[int, Field(ge=1, description=(
        "principal components kept (at most the vector length and the training samples)"))]
    max_samples: NotRequired[Annotated[MaxSamples, Field(description=(
        'samples per tree of the forest: a count, a fraction or "auto"; default auto'))]]
    max_features: NotRequired[Annotated[Union[int, float], Field(gt=0, description=(
        "components drawn for each tree: a count or a fraction; default 1.0"))]]
    n_estimators: NotRequired[Annotated[int, Field(ge=1, description="number of trees; default 100")]]
    contamination: NotRequired[Annotated[Union[Literal["auto"], float], Field(description=(
        'expected share of outliers, in (0, 0.5], or "auto"; default auto'))]]
    model_name: NotRequired[Annotated[str, Field(description=(
        "name of the model folder; default: the detector's name in the run"))]]


@dataclass
class PCAModel:
    mean: np.ndarray            # float64[d]
    components: np.ndarray      # float64[k, d], rows are the principal axes
    forest: object              # fitted on the projections

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return dense(vectors - self.mean, self.components.T)


class PCA(ModelDetector):
    """Isolation forest on the principal-component projection of the feature vector.

    scikit-learn's ``PCA(N_components)`` is fitted on the training vectors, each vector is
    projected on the components (centred on the training mean), and an isolation forest (as in
    ``IsolationForest``) is fitted on the projections. A sample is an outlier
    (``"Error: outlier detected"``) when that forest says so; undefined until a model exists.
    With ``N_components`` 1 on one feature it equals IsolationForest. Retraining refits both
    (see ``model_store``). The projection is summed in a fixed order, so a sample's result does
    not depend on the batch it arrives in.

    Parameters
    ----------
    train_conf : dict
        ``N_components`` (required) plus ``max_samples``, ``max_features``, ``n_estimators``,
        ``contamination``, ``model_name`` of the forest.
    train_data, load_model_from, retrain_interval, samples_for_retrain, retrain_file, random_state
        Training and retraining (``model_store``); ``train_data``, ``load_model_from`` or
        ``retrain_interval`` is required. Counts are in samples.

    ``score`` is the forest's anomaly score of the projection, in (0, 1] (see
    ``IsolationForest``). No plot lines.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.detectors.model_store import memory_context
    >>> from pipeline.records import SampleBatch
    >>> t = np.random.default_rng(0).normal(0, 1, 400)
    >>> normal = np.column_stack([t, 2 * t + 0.1 * np.sin(t)])   # two features on a line
    >>> d = PCA(train_conf={"N_components": 1, "max_samples": 100}, train_data="pairs.csv")
    >>> d.start(memory_context(normal))
    >>> x = np.array([[0.2, 0.4], [-0.5, -1.0], [5.0, 10.0]])
    >>> out = d.update(SampleBatch(np.arange(3.0), np.arange(3.0), x, np.arange(3)))
    >>> d.status_codes[out.status_idx].tolist()
    [1, 1, -1]
    """

    name = "PCA"

    def __init__(
        self,
        train_conf: Annotated[PCATrainConf, Field(description=(
            "N_components and the forest settings (max_samples, max_features, n_estimators, contamination, "
            "model_name)"))],
        train_data: TrainData = None,
        load_model_from: LoadModelFrom = None,
        retrain_interval: RetrainInterval = None,
        samples_for_retrain: SamplesForRetrain = None,
        retrain_file: RetrainFile = None,
        random_state: RandomState = 0,
    ):
        self.train_conf = dict(train_conf)
        check_forest_conf(self.train_conf)
        self._setup_training(train_data, load_model_from, retrain_interval, samples_for_retrain, retrain_file,
                             random_state, self.train_conf.get("model_name"))
        self.min_fit_samples = self.train_conf["N_components"]

    def model_parameters(self) -> dict:
        c = self.train_conf
        return {"N_components": c["N_components"], "max_samples": c.get("max_samples", "auto"),
                "max_features": c.get("max_features", 1.0), "n_estimators": c.get("n_estimators", 100),
                "contamination": c.get("contamination", "auto")}

    def _fit(self, vectors):
        from sklearn.decomposition import PCA as SkPCA
        k = self.train_conf["N_components"]
        if k > vectors.shape[1]:
            raise ModelError(f"PCA: train_conf.N_components is {k} but the feature vector has only "
                             f"{vectors.shape[1]} elements")
        # constant training vectors (a flat stretch) make scikit-learn divide 0 by 0 for the explained
        # variance ratio, which we do not use; its RuntimeWarning would reach the user's terminal
        with np.errstate(invalid="ignore", divide="ignore"):
            pca = SkPCA(n_components=k, random_state=self._rng).fit(vectors)
        model = PCAModel(pca.mean_.astype(np.float64), pca.components_.astype(np.float64), None)
        model.forest = fit_forest(self.train_conf, self._rng, model.project(vectors))
        return model

    def _model_state(self, model):
        return {"mean": model.mean, "components": model.components, "forest": model.forest}

    def _model_from_state(self, state):
        mean, components = state["mean"], state["components"]
        k, d = self.train_conf["N_components"], self._width
        if not (isinstance(mean, np.ndarray) and mean.dtype == np.float64 and mean.shape == (d,)
                and isinstance(components, np.ndarray) and components.dtype == np.float64
                and components.shape == (k, d)):
            raise ModelError(f"the PCA model's mean and components are not float64[{d}] and [{k}, {d}]")
        check_forest(state["forest"], k)
        return PCAModel(mean, components, state["forest"])

    def _judge(self, model, vectors):
        outlier, score = judge_forest(model.forest, model.project(vectors))
        return outlier, score, {}
