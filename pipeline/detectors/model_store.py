"""What the model-based detectors share: training, retraining, and saving and loading models.

Training data
    ``train_data`` names a training file; ``context.training_vectors`` reads it (CSV
    ``timestamp,ftr_vector`` with the vector as list text, plain numeric columns, JSON, JSON Lines)
    and builds the same feature vectors as the stream gets, so a detector only ever sees
    constructed vectors (the original applied ``use_cols`` twice; here it cannot).

Models on disk (format 2; the code is in ``model_files`` and ``model_archives``)
    A model is a folder ``<models_dir>/<model name>/`` (the name is ``train_conf.model_name``, or
    the detector's name in the run, ``<config>_<index>``) holding

    - ``model.json``: ``format``, ``detector`` (config name), ``algorithm``, ``parameters`` (the
      ones that shape the fitted model), ``n_features``, ``feature_layout`` (when the run knows
      it), ``training_samples``, ``libraries`` (python, numpy, scipy, scikit-learn, skops
      versions), ``saved`` (UTC time), ``retrain`` (``retrains``, ``samples_seen``,
      ``since_retrain``), ``state`` (the model and the detector's random state as JSON, naming
      the arrays and estimators below) and ``files`` (the sha256 of every other file);
    - ``arrays.npz``: the model's numbers as named numpy arrays, read with
      ``allow_pickle=False``;
    - ``estimators.skops``: only for models that hold scikit-learn estimators (the isolation
      forests of IsolationForest and PCA), in skops' format, which rebuilds objects from their
      attributes instead of running pickle's instructions;
    - ``retrain_buffer.csv``: with retraining, the samples the next retrain fits on, as
      ``timestamp,ftr_vector`` (rows that came from ``train_data`` have timestamp ``nan``).

    Loading runs no code from the folder. ``load_model_from`` checks ``model.json`` against the
    config first and refuses a mismatch, naming each differing parameter. It then checks every
    type in ``estimators.skops`` against ``ESTIMATOR_TYPES``, a list shipped in ``model_archives``, before skops
    builds anything, and refuses a file naming any other type; each detector then checks that
    what it got has the shapes and links a fit produces (a forest's trees must lead from the root
    to a leaf through features that exist), so a tampered folder gives wrong scores at worst, or
    is refused. Folders of format 1 (``model.pkl``) and pickles of the original project are
    refused with what to do: unpickling can run code.

    A broken or hostile folder is refused with a ModelError naming the file, not an internal
    error: ``model.json`` may nest at most ``MAX_META_DEPTH`` levels, and the zip files
    (``arrays.npz``, ``estimators.skops``) may expand to at most ``MAX_ARRAYS_BYTES`` in all
    (checked from the sizes their entries declare, before anything is decompressed); each array's
    header must declare exactly the bytes its entry holds, so no array larger than the file says
    is allocated.

    Every file is replaced atomically and ``model.json`` is written last with each file's sha256,
    so an interrupted save (or a file copied in from another save) is refused by that integrity
    check. The checksums sit beside the files: they show a save is whole, not who wrote it.

    ``load_model_from`` is a model name looked up in ``models_dir`` only, a relative path (with a
    ``/``) looked up in the project folder and the config's folder only, or an absolute path; never
    in the current directory, where anyone who can write there could plant a model.

Retraining
    With ``retrain_interval``, every valid sample enters a buffer of the last
    ``samples_for_retrain`` samples (seeded with the end of the training data; at most
    ``MAX_RETRAIN_BUFFER`` when ``samples_for_retrain`` is not given). Right after the sample that
    makes ``retrain_interval`` samples since the last retrain, once the buffer is full, the model
    is refit on the buffer; the new model judges from the next sample on. These points are
    absolute sample counts, so results do not depend on how the stream is cut into batches, and
    each fit draws from the detector's one random generator, seeded by ``random_state``, so runs
    are reproducible. The model folder is rewritten after each retrain (that is where the
    original wrote ``retrain_file`` and then rewrote the user's config to point ``train_data`` at
    it; here neither the config nor any file outside ``models_dir`` is touched). Fits run on the
    stream's thread; their cost is logged (``fit_seconds``, and a warning for a fit over
    ``SLOW_FIT_S``), so a slow retrain is visible rather than a silent stall.
"""
from __future__ import annotations

import csv
import logging
import time
from abc import abstractmethod
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, ClassVar, Optional

import numpy as np
from pydantic import Field

from pipeline.detectors.base import Detector, DetectorContext, ParameterError

# the on-disk format; these names are part of this module's interface too (detectors and tests use it)
from pipeline.detectors.model_files import (  # noqa: F401
    ARRAYS_FILE,
    BUFFER_FILE,
    ESTIMATOR_TYPES,
    ESTIMATORS_FILE,
    META_FILE,
    MODEL_FORMAT,
    PICKLE_FILE,
    ModelError,
    check_compatible,
    find_model,
    library_versions,
    load_state,
    model_folder_name,
    read_buffer_csv,
    read_checked,
    read_meta,
    restore_rng,
    save_model,
)
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status
from pipeline.ring_buffer import RingBuffer

log = logging.getLogger(__name__)

#: Samples kept for retraining when ``samples_for_retrain`` is not given (the original kept every
#: sample forever); bounds memory on an endless stream.
MAX_RETRAIN_BUFFER = 10_000

#: A fit longer than this (seconds) is logged as a warning: it holds up the stream.
SLOW_FIT_S = 1.0

OUTLIER_TEXT = "Error: outlier detected"
OK_IDX, UNDEFINED_IDX, ERROR_IDX = 0, 1, 2



# -- parameters every model-based detector takes ---------------------------------------------------

TrainData = Annotated[Optional[str], Field(description=(
    "training file: CSV 'timestamp,ftr_vector' (vector as list text) or plain numeric columns, "
    "JSON or JSON Lines; relative to the project, the config's folder or the current folder"))]
LoadModelFrom = Annotated[Optional[str], Field(description=(
    "a saved model to start from: a model name in the models folder, or the path of a model folder "
    "(absolute, or relative to the project or the config's folder)"))]
RetrainInterval = Annotated[Optional[int], Field(ge=1, description=(
    "refit the model after every this many samples (on the last samples_for_retrain samples)"))]
SamplesForRetrain = Annotated[Optional[int], Field(ge=1, le=MAX_RETRAIN_BUFFER, description=(
    f"samples a retrain fits on (default: every sample kept, at most {MAX_RETRAIN_BUFFER})"))]
RetrainFile = Annotated[Optional[str], Field(description=(
    "accepted for compatibility and never written: the retrain buffer is kept next to the model "
    f"({BUFFER_FILE})"))]
RandomState = Annotated[int, Field(ge=0, lt=2 ** 32, description=(
    "seed of every random draw of this detector (training and retraining)"))]


def memory_context(vectors, name: str = "memory") -> DetectorContext:
    """A context that trains from in-memory vectors (any ``train_data`` name reads them) and saves
    nothing: for examples and tests.

    >>> import numpy as np
    >>> memory_context(np.ones((3, 1))).training_vectors("any.csv").shape
    (3, 1)
    """
    data = np.asarray(vectors, dtype=np.float64)
    data = data.reshape(len(data), -1)
    return DetectorContext(name=name, models_dir=None, resolve_path=Path, training_vectors=lambda path: data)


# -- the retrain buffer --------------------------------------------------------------------------

class RetrainBuffer:
    """The last ``capacity`` (timestamp, vector) rows, in arrival order: a ``RingBuffer`` whose
    first column is the timestamp, made when the first rows show the vectors' width."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._ring: RingBuffer | None = None

    def __len__(self) -> int:
        return 0 if self._ring is None else self._ring.count

    def extend(self, timestamps: np.ndarray, vectors: np.ndarray) -> None:
        if len(vectors) == 0:
            return
        if self._ring is None:
            self._ring = RingBuffer(self.capacity, 1 + vectors.shape[1], mirrored=False)
        self._ring.extend(np.vstack([np.asarray(timestamps, dtype=np.float64)[None, :], np.asarray(vectors).T]))

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps, vectors), oldest first (copies)."""
        if self._ring is None:
            return np.empty(0), np.empty((0, 0))
        rows = self._ring.rows()
        return rows[0].copy(), rows[1:].T.copy()


# -- the base class ------------------------------------------------------------------------------

class ModelDetector(Detector):
    """A detector that judges samples with a fitted model: IsolationForest, PCA, Clustering, GAN.

    Subclasses call ``_setup_training`` in their constructor and implement ``model_parameters``,
    ``_fit`` and ``_judge``, and ``_model_state`` / ``_model_from_state`` to store a model as
    arrays, JSON and allowed estimators and to check it when read back; this class does the rest
    (see the module docstring). Samples are
    undefined until a model exists. ``fits``, ``retrains`` and ``fit_seconds`` count the work done.
    """

    status_texts: tuple[str, ...] = (OK_TEXT, UNDEFINED_TEXT, OUTLIER_TEXT)
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR], dtype=np.int8)
    #: Fewer samples than this cannot be fitted (the fit is skipped; the old model stays).
    min_fit_samples: ClassVar[int] = 1

    def _setup_training(self, train_data, load_model_from, retrain_interval, samples_for_retrain,
                        retrain_file, random_state, model_name: str | None = None) -> None:
        if train_data is None and load_model_from is None and retrain_interval is None:
            raise ParameterError("train_data", None, "a training file, or load_model_from or retrain_interval")
        self.train_data = train_data
        self.load_model_from = load_model_from
        self.retrain_interval = retrain_interval
        self.samples_for_retrain = samples_for_retrain
        self.retrain_file = retrain_file
        self.random_state = random_state
        self._model_name = model_name
        self._rng = np.random.RandomState(random_state)
        self._model: Any = None
        self._width: int | None = None
        self._layout = None
        self._folder: Path | None = None
        self._started = False
        self._warned_unstarted = False
        self._buffer = (RetrainBuffer(samples_for_retrain or MAX_RETRAIN_BUFFER)
                        if retrain_interval is not None else None)
        self._since = 0
        self.samples_seen = 0
        self.fits = 0
        self.retrains = 0
        self.fit_seconds = 0.0

    # -- what a subclass provides --------------------------------------------------------------
    @abstractmethod
    def model_parameters(self) -> dict:
        """The parameters that shape the fitted model (saved in, and checked against, model.json)."""

    @abstractmethod
    def _fit(self, vectors: np.ndarray) -> Any:
        """A model fitted on float64[n, d] (draw randomness only from ``self._rng``)."""

    @abstractmethod
    def _judge(self, model: Any, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """(outlier bool[n], score float[n] in [0, 1], lines) for valid vectors, in order."""

    def _model_state(self, model: Any) -> Any:
        """The model as JSON values, numpy arrays and scikit-learn estimators (``encode_state``)."""
        return model

    def _model_from_state(self, state: Any) -> Any:
        """The model ``_model_state`` described, read back from a model folder. Check everything a
        fit guarantees (shapes, links between arrays) and raise ModelError otherwise: the folder
        may have been edited. A KeyError, TypeError, ValueError or IndexError becomes a ModelError."""
        return state

    def _extra_state(self) -> dict:
        """Detector state saved with the model besides it (e.g. GAN's error window), stored like
        ``_model_state``."""
        return {}

    def _restore_extra_state(self, state: dict) -> None:
        pass

    # -- starting ------------------------------------------------------------------------------
    @property
    def trained(self) -> bool:
        return self._model is not None

    def start(self, context: DetectorContext) -> None:
        """Load ``load_model_from`` or train on ``train_data``; seed the retrain buffer."""
        self._started = True
        self._layout = getattr(context, "feature_layout", None)
        if context.models_dir is not None:
            self._folder = Path(context.models_dir) / model_folder_name(self._model_name or context.name)
        restored_buffer = False
        if self.load_model_from is not None:
            restored_buffer = self._load(find_model(self.load_model_from, context))
        training = None
        if self.train_data is not None and (self._model is None or (self._buffer is not None and not restored_buffer)):
            training = self._training_vectors(context)
        if self._model is None and training is not None:
            self._train(training, what="trained")
        if self._buffer is not None and not restored_buffer and training is not None:
            self._buffer.extend(np.full(len(training), np.nan), training)
        if self._model is not None and self._folder is not None and self.load_model_from is None:
            self._save(len(training) if training is not None else 0)

    def _training_vectors(self, context: DetectorContext) -> np.ndarray:
        path = context.resolve_path(self.train_data)
        if path is None:
            raise ModelError(f"train_data: file {self.train_data!r} not found (relative names are looked "
                             "up in the project folder, the config's folder and the current folder)")
        vectors = np.asarray(context.training_vectors(path), dtype=np.float64)
        vectors = vectors.reshape(len(vectors), -1)
        vectors = vectors[np.isfinite(vectors).all(axis=1)]
        if len(vectors) < self.min_fit_samples:
            raise ModelError(f"train_data: {path} gives {len(vectors)} usable feature vectors; "
                             f"{type(self).__name__} needs at least {self.min_fit_samples}")
        return vectors

    def _load(self, folder: Path) -> bool:
        """Load a saved model (and its retrain buffer and state); True when a buffer was restored."""
        meta = read_meta(folder)
        check_compatible(meta, type(self).__name__, self.model_parameters(), None, self._layout, folder)
        state = load_state(folder, meta)
        width = meta.get("n_features")
        if not (isinstance(width, int) and width >= 1):
            raise ModelError(f"load_model_from: {folder / META_FILE}: n_features is {width!r}, not a count")
        self._width = width
        try:
            self._model = self._model_from_state(state["model"])
            self._restore_extra_state(state.get("extra", {}))
            restore_rng(self._rng, state["rng"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            if isinstance(err, ModelError):
                raise ModelError(f"load_model_from: {folder}: {err}") from None
            raise ModelError(f"load_model_from: {folder} does not hold a {type(self).__name__} model this version "
                             f"wrote ({type(err).__name__}: {err})") from None
        state = meta.get("retrain", {})
        if not (isinstance(state, dict) and all(isinstance(state.get(k, 0), int)
                                                for k in ("retrains", "since_retrain"))):
            raise ModelError(f"load_model_from: {folder / META_FILE}: retrain is {state!r}, not counts")
        self.retrains = state.get("retrains", 0)
        log.info("%s: loaded model %s (%s training samples, saved %s)", self.name, folder,
                 meta.get("training_samples"), meta.get("saved"))
        if self._buffer is not None and BUFFER_FILE in meta["files"]:
            try:
                ts, vectors = read_buffer_csv(read_checked(folder, BUFFER_FILE, meta))
            except (ValueError, IndexError, csv.Error) as err:   # UnicodeDecodeError is a ValueError
                raise ModelError(f"load_model_from: {folder / BUFFER_FILE} cannot be read: {err}") from None
            if vectors.shape[1] != width and len(vectors):
                raise ModelError(f"load_model_from: {folder / BUFFER_FILE} holds vectors of {vectors.shape[1]} "
                                 f"features, the model {width}")
            self._buffer.extend(ts, vectors)
            self._since = state.get("since_retrain", 0)
            return True
        return False

    # -- fitting -------------------------------------------------------------------------------
    def _train(self, vectors: np.ndarray, what: str) -> bool:
        if len(vectors) < self.min_fit_samples:
            log.debug("%s: %d samples are too few to fit; the model stays as it was", self.name, len(vectors))
            return False
        began = time.perf_counter()
        model = self._fit(vectors)
        elapsed = time.perf_counter() - began
        self._model, self._width = model, vectors.shape[1]
        self.fits += 1
        self.fit_seconds += elapsed
        level = logging.WARNING if elapsed > SLOW_FIT_S else (logging.INFO if self.fits == 1 else logging.DEBUG)
        log.log(level, "%s: %s on %d samples in %.3f s (fit %d, %.2f s in all)", self.name, what,
                len(vectors), elapsed, self.fits, self.fit_seconds)
        return True

    def _retrain(self) -> None:
        self._since = 0
        timestamps, vectors = self._buffer.rows()
        if self._train(vectors, what=f"retrained ({self.retrains + 1})"):
            self.retrains += 1
            self._save(len(vectors))

    def _save(self, training_samples: int) -> None:
        if self._folder is None:
            return
        meta = {
            "format": MODEL_FORMAT, "detector": type(self).__name__, "algorithm": self.name,
            "parameters": self.model_parameters(), "n_features": self._width,
            "feature_layout": None if self._layout is None else str(self._layout),
            "training_samples": training_samples, "libraries": library_versions(),
            "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "retrain": {"retrains": self.retrains, "samples_seen": self.samples_seen,
                        "since_retrain": self._since},
        }
        state = {"model": self._model_state(self._model), "rng": self._rng.get_state(legacy=False),
                 "extra": self._extra_state()}
        buffer = self._buffer.rows() if self._buffer is not None and len(self._buffer) else None
        save_model(self._folder, meta, state, buffer)

    # -- the stream ----------------------------------------------------------------------------
    def _until_retrain(self, valid: np.ndarray) -> int | None:
        """Samples of ``valid`` (this batch's rest) up to and including the next retrain point."""
        k = max(self.retrain_interval - self._since, 1)
        missing = (self.samples_for_retrain or 1) - len(self._buffer)
        if missing > 0:
            filled = np.searchsorted(np.cumsum(valid), missing)  # index of the row that fills it
            k = max(k, int(filled) + 1)
        return k if k <= len(valid) else None

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = np.asarray(samples.values, dtype=np.float64)
        n = len(x)
        status = np.full(n, UNDEFINED_IDX, dtype=np.int16)
        score = np.zeros(n)
        lines = {name: np.full(n, np.nan) for name in self.line_names}
        if n == 0:
            return DetectorOutput(status, score, lines)
        if not self._started and (self.train_data or self.load_model_from) and not self._warned_unstarted:
            self._warned_unstarted = True
            log.warning("%s: update() before start(): train_data/load_model_from not read, so there is no "
                        "model until the first retrain", self.name)
        if self._width is not None and x.shape[1] != self._width:
            raise ModelError(f"{self.name}: the model was trained on {self._width} features but the samples "
                             f"have {x.shape[1]}; check input_vector_size and the feature construction keys")
        valid = np.isfinite(x).all(axis=1)
        j = 0
        while j < n:
            step = None if self._buffer is None else self._until_retrain(valid[j:])
            end = n if step is None else j + step
            rows = j + np.flatnonzero(valid[j:end])
            if self._model is not None and len(rows):
                outlier, row_score, row_lines = self._judge(self._model, x[rows])
                status[rows] = np.where(outlier, ERROR_IDX, OK_IDX)
                score[rows] = row_score
                for name, line in row_lines.items():
                    lines[name][rows] = line
            if self._buffer is not None:
                self._buffer.extend(np.asarray(samples.timestamp, dtype=np.float64)[rows], x[rows])
                self._since += end - j
            self.samples_seen += end - j
            if step is not None:
                self._retrain()
            j = end
        return DetectorOutput(status, score, lines)
