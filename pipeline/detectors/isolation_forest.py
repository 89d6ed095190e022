"""IsolationForest: scikit-learn's isolation forest fitted on training vectors, optionally refit on
the recent stream."""
from __future__ import annotations

import warnings
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import ConfigDict, Field, with_config
from typing_extensions import NotRequired, TypedDict

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
from pipeline.parameters import ParameterError

MaxSamples = Union[Literal["auto"], int, float]


@with_config(ConfigDict(extra="forbid"))
class IsolationForestTrainConf(TypedDict):
    """``train_conf`` of IsolationForest (every key optional)."""

    max_samples: NotRequired[Annotated[MaxSamples, Field(description=(
        'samples drawn to build each tree: a count, a fraction of the training set, or "auto" '
        "(min(256, n)); default auto"))]]
    max_features: NotRequired[Annotated[Union[int, float], Field(gt=0, description=(
        "features drawn for each tree: a count or a fraction; default 1.0 (all)"))]]
    n_estimators: NotRequired[Annotated[int, Field(ge=1, description="number of trees; default 100")]]
    contamination: NotRequired[Annotated[Union[Literal["auto"], float], Field(description=(
        'expected share of outliers in the training data, in (0, 0.5], or "auto" (score above 0.5 '
        "is an outlier); default auto. The original accepted this key and ignored it"))]]
    model_name: NotRequired[Annotated[str, Field(description=(
        "name of the model folder in the models folder; default: the detector's name in the run"))]]


def isolation_forest(conf: dict, rng: np.random.RandomState):
    """An unfitted scikit-learn IsolationForest for a ``train_conf``, drawing from ``rng``."""
    from sklearn.ensemble import IsolationForest as SkIsolationForest
    return SkIsolationForest(n_estimators=conf.get("n_estimators", 100), max_samples=conf.get("max_samples", "auto"),
                             max_features=conf.get("max_features", 1.0),
                             contamination=conf.get("contamination", "auto"), random_state=rng)


def check_forest_conf(conf: dict) -> None:
    """Raise ParameterError for values scikit-learn would refuse only when fitting."""
    samples = conf.get("max_samples", "auto")
    if isinstance(samples, float) and not 0 < samples <= 1:
        raise ParameterError("train_conf.max_samples", samples, "a fraction in (0, 1] or a count >= 1")
    if isinstance(samples, int) and samples < 1:
        raise ParameterError("train_conf.max_samples", samples, "a count >= 1 or a fraction in (0, 1]")
    features = conf.get("max_features", 1.0)
    if isinstance(features, float) and not 0 < features <= 1:
        raise ParameterError("train_conf.max_features", features, "a fraction in (0, 1] or a count >= 1")
    contamination = conf.get("contamination", "auto")
    if contamination != "auto" and not 0 < contamination <= 0.5:
        raise ParameterError("train_conf.contamination", contamination, '"auto" or a share in (0, 0.5]')


def fit_forest(conf: dict, rng: np.random.RandomState, vectors: np.ndarray):
    with warnings.catch_warnings():
        # "max_samples > n_samples: using n_samples" is the intended behaviour for small sets
        warnings.filterwarnings("ignore", message="max_samples .* is greater than the total number of samples")
        return isolation_forest(conf, rng).fit(vectors)


def judge_forest(forest, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(outlier, anomaly score in (0, 1]) exactly as ``forest.predict`` decides, in one pass."""
    scores = forest.score_samples(vectors)  # minus the anomaly score of Liu et al.
    return (scores - forest.offset_) < 0, -scores


def check_forest(forest, n_features: int) -> None:
    """Raise ModelError unless ``forest`` is a fitted isolation forest on ``n_features`` whose trees
    can only be walked from the root to a leaf through existing features.

    scikit-learn walks a tree's node arrays without bounds checks, so a forest read from a file is
    checked first: every split has two children with larger node ids (the walk ends) and a
    feature that the tree's column selection has; every leaf has none.
    """
    from sklearn.ensemble import IsolationForest as SkIsolationForest
    from sklearn.tree import ExtraTreeRegressor
    from sklearn.tree._tree import Tree

    if type(forest) is not SkIsolationForest:
        raise ModelError(f"the forest is a {type(forest).__name__}, not an IsolationForest")
    if forest.n_features_in_ != n_features:
        raise ModelError(f"the forest takes {forest.n_features_in_} features, the model {n_features}")
    trees, columns = forest.estimators_, forest.estimators_features_
    paths, averages = forest._decision_path_lengths, forest._average_path_length_per_tree
    if not (isinstance(trees, list) and len(trees) >= 1
            and len(trees) == len(columns) == len(paths) == len(averages)):
        raise ModelError("the forest's trees, column selections and path lengths do not match")
    if not (np.isscalar(forest._max_samples) and np.isscalar(forest._max_features) and np.isscalar(forest.offset_)):
        raise ModelError("the forest's max_samples, max_features or offset is not a number")
    for i, (estimator, features) in enumerate(zip(trees, columns)):
        if type(estimator) is not ExtraTreeRegressor or type(estimator.tree_) is not Tree:
            raise ModelError(f"tree {i} is not an ExtraTreeRegressor with a fitted tree")
        features = np.asarray(features)
        if features.ndim != 1 or features.dtype.kind not in "iu" or not len(features) \
                or features.min() < 0 or features.max() >= n_features:
            raise ModelError(f"tree {i} selects features outside 0..{n_features - 1}")
        tree = estimator.tree_
        count = tree.node_count
        if not 1 <= count <= tree.capacity:   # node arrays are read up to node_count
            raise ModelError(f"tree {i} has {count} nodes in room for {tree.capacity}")
        left, right, feature = tree.children_left, tree.children_right, tree.feature
        ids = np.arange(count)
        leaf = left == -1
        split_ok = (left > ids) & (right > ids) & (left < count) & (right < count) \
            & (feature >= 0) & (feature < min(len(features), n_features))
        if not np.all(np.where(leaf, right == -1, split_ok)):
            raise ModelError(f"tree {i} has a node that leads outside the tree or to a missing feature")
        if np.shape(paths[i]) != (count,) or np.shape(averages[i]) != (count,):
            raise ModelError(f"tree {i}'s path lengths do not match its {count} nodes")


class IsolationForest(ModelDetector):
    """Isolation forest over the whole feature vector (scikit-learn ``IsolationForest``).

    A forest of random isolation trees is fitted on the vectors of ``train_data`` (or loaded from
    ``load_model_from``); a sample is an outlier (``"Error: outlier detected"``) when the forest
    isolates it faster than usual, exactly where scikit-learn's ``predict`` says -1. Samples are
    undefined until a model exists (no ``train_data``/``load_model_from``: until the first
    retrain). With ``retrain_interval`` the forest is refit on the last ``samples_for_retrain``
    samples (see ``model_store``). Every fit draws from one generator seeded by
    ``random_state``; with the default 0 and scikit-learn 1.9 the results equal the original's
    run under ``numpy.random.seed(0)``.

    Parameters
    ----------
    train_conf : dict
        ``max_samples``, ``max_features``, ``n_estimators``, ``contamination``, ``model_name``
        (see ``IsolationForestTrainConf``).
    train_data, load_model_from, retrain_interval, samples_for_retrain, retrain_file, random_state
        Training and retraining (``model_store``); one of the first three is required. Counts
        are in samples.

    ``score`` is the anomaly score ``s = 2 ** (-E[h(x)] / c(max_samples))`` of Liu et al. (mean
    path length ``E[h]`` over the trees), in (0, 1]: about 0.5 and below for normal samples, near 1
    for samples isolated at once; with ``contamination`` "auto" the error limit is ``s > 0.5``.
    No plot lines.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.detectors.model_store import memory_context
    >>> from pipeline.records import SampleBatch
    >>> normal = np.random.default_rng(0).normal(0, 1, (500, 1))
    >>> d = IsolationForest(train_conf={"max_samples": 100}, train_data="normal.csv")
    >>> d.start(memory_context(normal))   # trains from memory and saves nothing
    >>> x = np.array([0.1, -0.3, 6.0])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(3)))
    >>> d.status_codes[out.status_idx].tolist(), out.score.round(2).tolist()
    ([1, 1, -1], [0.43, 0.43, 0.73])
    """

    name = "Isolation forest"

    def __init__(
        self,
        train_conf: Annotated[IsolationForestTrainConf, Field(description=(
            "forest settings: max_samples, max_features, n_estimators, contamination, model_name"))] = {},  # noqa: B006
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

    def model_parameters(self) -> dict:
        c = self.train_conf
        return {"max_samples": c.get("max_samples", "auto"), "max_features": c.get("max_features", 1.0),
                "n_estimators": c.get("n_estimators", 100), "contamination": c.get("contamination", "auto")}

    def _fit(self, vectors):
        return fit_forest(self.train_conf, self._rng, vectors)

    def _model_state(self, model):
        return {"forest": model}

    def _model_from_state(self, state):
        check_forest(state["forest"], self._width)
        return state["forest"]

    def _judge(self, model, vectors):
        outlier, score = judge_forest(model, vectors)
        return outlier, score, {}
