"""What the model-based detectors share: training, retraining, and saving and loading models.

Training data
    ``train_data`` names a training file; ``context.training_vectors`` reads it (CSV
    ``timestamp,ftr_vector`` with the vector as list text, plain numeric columns, JSON, JSON Lines)
    and builds the same feature vectors as the stream gets, so a detector only ever sees
    constructed vectors (the original applied ``use_cols`` twice; here it cannot).

Models on disk (format 2)
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
    type in ``estimators.skops`` against ``ESTIMATOR_TYPES``, a list shipped here, before skops
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
import hashlib
import io
import json
import logging
import math
import os
import platform
import re
import tempfile
import time
import zipfile
import zlib
from abc import abstractmethod
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, ClassVar, Optional

import numpy as np
from pydantic import Field

from pipeline.detectors.base import Detector, DetectorContext, ParameterError
from pipeline.paths import PROJECT_ROOT
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status

log = logging.getLogger(__name__)

#: 1: model.pkl (pickle), refused since 2; 2: model.json + arrays.npz (+ estimators.skops).
MODEL_FORMAT = 2
META_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
ESTIMATORS_FILE = "estimators.skops"
BUFFER_FILE = "retrain_buffer.csv"
#: The pickle of a format 1 folder: recognised in order to refuse it, never read.
PICKLE_FILE = "model.pkl"

#: Every type an ``estimators.skops`` file may hold (skops' names for them), each with the skops
#: loaders allowed to build it. These are what the isolation forests of IsolationForest and PCA
#: consist of: skops builds the estimators with ``__new__`` and their own ``__setstate__``, a
#: tree from its node arrays, arrays with ``np.load(allow_pickle=False)``; nothing here imports
#: or calls anything a file names. A file naming any other type, or another loader (skops can
#: also rebuild functions, methods and reduce calls), is refused before anything is built.
ESTIMATOR_TYPES: dict[str, frozenset[str]] = {
    "builtins.dict": frozenset({"DictNode"}),
    "builtins.list": frozenset({"ListNode"}),
    "builtins.tuple": frozenset({"TupleNode"}),
    "builtins.str": frozenset({"JsonNode", "TypeNode"}),   # TypeNode: the type of a dict's keys
    "builtins.int": frozenset({"JsonNode"}),
    "builtins.float": frozenset({"JsonNode"}),
    "builtins.bool": frozenset({"JsonNode"}),
    "builtins.NoneType": frozenset({"JsonNode"}),
    "numpy.ndarray": frozenset({"NdArrayNode"}),
    "numpy.float64": frozenset({"NdArrayNode"}),
    "numpy.int64": frozenset({"NdArrayNode"}),
    "numpy.random.mtrand.RandomState": frozenset({"RandomStateNode"}),
    "sklearn.ensemble._iforest.IsolationForest": frozenset({"ObjectNode"}),
    "sklearn.tree._classes.ExtraTreeRegressor": frozenset({"ObjectNode"}),
    "sklearn.tree._tree.Tree": frozenset({"TreeNode"}),
}
#: skops' reference to an object stored earlier in the same file (it names no type).
_SKOPS_REFERENCE = "CachedNode"

#: How deeply ``model.json`` may nest: a saved one nests a few levels; a deeper one would exhaust
#: the recursion of the code that reads it.
MAX_META_DEPTH = 64
#: The most the arrays of a model (or its estimators file) may take once decompressed: a file
#: declaring more is refused before anything is decompressed (a zip bomb, or a header declaring
#: a huge array).
MAX_ARRAYS_BYTES = 1 << 30

_ARRAY_KEY = "__array__"
_ESTIMATOR_KEY = "__estimator__"

#: Samples kept for retraining when ``samples_for_retrain`` is not given (the original kept every
#: sample forever); bounds memory on an endless stream.
MAX_RETRAIN_BUFFER = 10_000

#: A fit longer than this (seconds) is logged as a warning: it holds up the stream.
SLOW_FIT_S = 1.0

OUTLIER_TEXT = "Error: outlier detected"
OK_IDX, UNDEFINED_IDX, ERROR_IDX = 0, 1, 2

RETRAIN_HINT = ("retrain it with train_data (delete the folder or point train_data at the data, and leave "
                "load_model_from out until the new model is saved)")


class ModelError(ValueError):
    """A model that cannot be trained, found or used with this config (the message says why)."""


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


def library_versions() -> dict[str, str]:
    import scipy
    import skops
    import sklearn
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "skops": skops.__version__}


def model_folder_name(name: str) -> str:
    """A safe folder name for a model name (``"models/if_model.pkl"`` -> ``"if_model"``)."""
    base = Path(name).name
    if base.endswith(".pkl"):
        base = base[:-4]
    return re.sub(r"[^A-Za-z0-9._-]", "_", base) or "model"


# -- files ---------------------------------------------------------------------------------------

def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def buffer_csv(timestamps: np.ndarray, vectors: np.ndarray) -> str:
    """The retrain buffer as ``timestamp,ftr_vector`` text (exact: floats written with repr)."""
    out = io.StringIO()
    out.write("timestamp,ftr_vector\n")
    for ts, row in zip(timestamps.tolist(), vectors.tolist()):
        out.write(f'{ts!r},"[{", ".join(map(repr, row))}]"\n')
    return out.getvalue()


def read_buffer_csv(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(timestamps, vectors) of a file written by ``buffer_csv``."""
    rows = list(csv.reader(io.StringIO(data.decode())))[1:]
    ts = np.array([float(r[0]) for r in rows])
    vectors = np.array([json.loads(r[1]) for r in rows], dtype=np.float64)
    return ts, vectors.reshape(len(rows), -1)


# -- what a model is stored as ---------------------------------------------------------------------

def encode_state(value: Any) -> tuple[Any, dict[str, np.ndarray], dict[str, Any]]:
    """Split a model's state into (JSON, named arrays, named scikit-learn estimators).

    ``value`` may nest dicts (string keys), lists and tuples (both come back as lists) of JSON
    scalars, numpy arrays of numbers and fitted scikit-learn estimators; each array or estimator
    is replaced by ``{"__array__": name}`` or ``{"__estimator__": name}``.

    >>> import numpy as np
    >>> tree, arrays, estimators = encode_state({"scale": 2.0, "coefs": [np.zeros(2)]})
    >>> tree, list(arrays), estimators
    ({'scale': 2.0, 'coefs': [{'__array__': 'coefs.0'}]}, ['coefs.0'], {})
    """
    arrays: dict[str, np.ndarray] = {}
    estimators: dict[str, Any] = {}

    def encode(v: Any, path: str) -> Any:
        if isinstance(v, np.ndarray):
            if v.dtype.hasobject:
                raise TypeError(f"model state {path}: an object array cannot be stored")
            arrays[path] = v
            return {_ARRAY_KEY: path}
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise TypeError(f"model state {path}: dict keys must be strings")
            return {k: encode(item, f"{path}.{k}" if path else k) for k, item in v.items()}
        if isinstance(v, (list, tuple)):
            return [encode(item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(v)]
        if isinstance(v, np.generic):
            return v.item()
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if type(v).__module__.split(".")[0] == "sklearn":
            estimators[path] = v
            return {_ESTIMATOR_KEY: path}
        raise TypeError(f"model state {path}: a {type(v).__name__} cannot be stored in a model file")

    return encode(value, ""), arrays, estimators


def decode_state(tree: Any, arrays: dict[str, np.ndarray], estimators: dict[str, Any]) -> Any:
    """The inverse of ``encode_state`` (lists stay lists); KeyError for a missing array or estimator."""
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_KEY}:
            return arrays[tree[_ARRAY_KEY]]
        if set(tree) == {_ESTIMATOR_KEY}:
            return estimators[tree[_ESTIMATOR_KEY]]
        return {k: decode_state(v, arrays, estimators) for k, v in tree.items()}
    if isinstance(tree, list):
        return [decode_state(v, arrays, estimators) for v in tree]
    return tree


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(folder: Path, meta: dict, state: Any,
               buffer: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Write a model folder (see the module docstring); ``model.json`` goes last."""
    tree, arrays, estimators = encode_state(state)
    blobs = {}
    out = io.BytesIO()
    np.savez(out, allow_pickle=False, **arrays)
    blobs[ARRAYS_FILE] = out.getvalue()
    if estimators:
        import skops.io
        blobs[ESTIMATORS_FILE] = skops.io.dumps(estimators)
    if buffer is not None:
        blobs[BUFFER_FILE] = buffer_csv(*buffer).encode()
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        _write_atomic(folder / name, data)
    meta = {**meta, "state": tree, "files": {name: _sha256(data) for name, data in blobs.items()}}
    _write_atomic(folder / META_FILE, (json.dumps(meta, indent=2) + "\n").encode())
    # after model.json, which no longer lists them: an old pickle would get the folder refused
    for stale in {PICKLE_FILE, ESTIMATORS_FILE, BUFFER_FILE} - set(blobs):
        (folder / stale).unlink(missing_ok=True)


def _model_candidates(value: str, context: DetectorContext) -> list[Path]:
    """Where ``load_model_from`` may be, in order: never relative to the current directory."""
    path = Path(value)
    if path.is_absolute():
        found = [path]
    elif len(path.parts) == 1:
        found = [] if context.models_dir is None else [Path(context.models_dir) / value,
                                                       Path(context.models_dir) / model_folder_name(value)]
    else:
        roots = [PROJECT_ROOT] + ([Path(context.config_dir)] if context.config_dir is not None else [])
        found = [root / path for root in roots]
    # "models/if_model.pkl" (the original's model_name) names the folder "if_model" beside it
    found += [p.parent / model_folder_name(p.name) for p in found if p.name.endswith(".pkl")]
    return list(dict.fromkeys(found))


def find_model(value: str, context: DetectorContext) -> Path:
    """The model folder ``load_model_from`` names: a name in ``models_dir``; a relative path (with a
    ``/``) in the project folder or the config's folder; an absolute path. A path to the folder's
    ``model.json`` works too. A pickle file it names is refused (ModelError), never read."""
    candidates = _model_candidates(value, context)
    for candidate in candidates:
        folder = candidate.parent if candidate.name in (META_FILE, PICKLE_FILE) else candidate
        if (folder / META_FILE).is_file() or (folder / PICKLE_FILE).is_file():
            return folder
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".pkl":
            raise ModelError(
                f"load_model_from: {candidate} is a pickle of the original anomalyDetection project; it cannot "
                "be loaded safely (unpickling can run code), so it is not read. Train the model again with "
                "train_data; the new model is saved in the models folder, from where load_model_from can load it")
    looked = ", ".join(str(c) for c in candidates) or "nowhere (no models folder)"
    raise ModelError(f"load_model_from: no saved model {value!r} (a model is a folder holding {META_FILE}; "
                     "a name is looked up in the models folder, a relative path in the project folder and "
                     f"the config's folder; looked at {looked})")


def read_meta(folder: Path) -> dict:
    """``model.json`` of a model folder; a format 1 folder (a pickle) is refused."""
    if (folder / PICKLE_FILE).exists():
        raise ModelError(f"load_model_from: {folder} holds a pickled model of an earlier version (format 1), "
                         f"which is not loaded because unpickling can run code; {RETRAIN_HINT}")
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError) as err:
        raise ModelError(f"load_model_from: cannot read {folder / META_FILE}: {err}") from None
    except RecursionError:
        meta = None
    if meta is None or _nested_deeper(meta, MAX_META_DEPTH):
        raise ModelError(f"load_model_from: cannot read {folder / META_FILE}: it is nested too deeply (more than "
                         f"{MAX_META_DEPTH} levels of lists and objects); it is not a model description this "
                         "version wrote")
    if not isinstance(meta, dict):
        raise ModelError(f"load_model_from: {folder / META_FILE} is not a model description (not a JSON object)")
    if meta.get("format") == 1:
        raise ModelError(f"load_model_from: {folder} holds a model of an earlier version (format 1), whose "
                         f"pickle is not loaded because unpickling can run code; {RETRAIN_HINT}")
    return meta


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests lists and objects more than ``limit`` deep (without recursing)."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def check_compatible(meta: dict, detector: str, parameters: dict, n_features: int | None,
                     feature_layout, folder: Path) -> None:
    """Raise ModelError naming every way a saved model differs from what the config asks for."""
    problems = []
    if meta.get("format") != MODEL_FORMAT:
        problems.append(f"it has format {meta.get('format')!r}, this version reads {MODEL_FORMAT}")
    if meta.get("detector") != detector:
        problems.append(f"it is a {meta.get('detector')} model, the config's detector is {detector}")
    else:
        saved = meta.get("parameters", {})
        for key in sorted(set(saved) | set(parameters)):
            if saved.get(key) != parameters.get(key):
                problems.append(f"{key} is {saved.get(key)!r} in the model and {parameters.get(key)!r} "
                                "in the config")
    if n_features is not None and meta.get("n_features") not in (None, n_features):
        problems.append(f"it was trained on {meta.get('n_features')} features, the config builds {n_features}")
    saved_layout = meta.get("feature_layout")
    if feature_layout is not None and saved_layout is not None and list(saved_layout) != list(feature_layout):
        problems.append(f"its feature layout is {saved_layout}, the config builds {list(feature_layout)}")
    if problems:
        raise ModelError(f"load_model_from {folder}: the saved model does not match this config: "
                         + "; ".join(problems)
                         + ". Train a new model (train_data) or configure the detector as the model was trained.")


def read_checked(folder: Path, name: str, meta: dict) -> bytes:
    """A file of the folder, if it is the one ``model.json`` lists (integrity: a whole save)."""
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelError(f"load_model_from: cannot read {path}: {err}") from None
    if _sha256(data) != meta["files"][name]:
        raise ModelError(f"load_model_from: {path} is not the file {META_FILE} describes (checksum differs: "
                         "an interrupted save or a replaced file)")
    return data


#: What reading a damaged or hostile zip file (or a .npy entry in it) may raise.
_ZIP_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError)


def _check_zip_size(z: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """The entries of ``z``, after checking the sizes they declare add up to at most
    ``MAX_ARRAYS_BYTES`` (zipfile never decompresses an entry beyond its declared size)."""
    entries = z.infolist()
    total = sum(entry.file_size for entry in entries)
    if total > MAX_ARRAYS_BYTES:
        raise ModelError(f"load_model_from: {path} would expand to {total:,} bytes, more than the "
                         f"{MAX_ARRAYS_BYTES:,} a model may hold; it is not loaded")
    return entries


def _array_header_problem(z: zipfile.ZipFile, entry: zipfile.ZipInfo) -> str | None:
    """Why the .npy entry cannot be an array ``np.save`` wrote, from its header alone: the array it
    declares must take exactly the bytes the entry holds, so nothing larger is ever allocated."""
    with z.open(entry) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            return f"{entry.filename}: .npy format {version[0]}.{version[1]} is not one this version writes"
        header = f.tell()
    if dtype.hasobject:
        return f"{entry.filename}: an object array (it would need pickle, which is never used)"
    declared = math.prod(shape) * dtype.itemsize
    if declared != entry.file_size - header:
        return (f"{entry.filename}: its header declares an array of shape {shape} ({declared:,} bytes of {dtype}), "
                f"but the entry holds {entry.file_size - header:,}")
    return None


def read_arrays(data: bytes, path: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``arrays.npz`` (numbers only: an object array would need pickle), after
    checking what its entries declare (see ``MAX_ARRAYS_BYTES``)."""
    problem = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for entry in _check_zip_size(z, path):
                problem = _array_header_problem(z, entry)
                if problem:
                    break
        if problem is None:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
    except ModelError:
        raise
    except _ZIP_ERRORS as err:
        problem = str(err)
    except MemoryError:
        problem = "not enough memory for the arrays it declares"
    raise ModelError(f"load_model_from: {path} is not an array file this version wrote: {problem}")


def skops_types(data: bytes, path: Path) -> set[tuple[str, str]]:
    """(type, skops loader) of every object an ``estimators.skops`` file describes, read from its
    ``schema.json`` as plain JSON (nothing is built)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            _check_zip_size(z, path)
            schema = json.loads(z.read("schema.json"))
    except ModelError:
        raise
    except RecursionError:
        raise ModelError(f"load_model_from: {path}: its schema.json is nested too deeply; it is not a skops file "
                         "this version wrote") from None
    except (KeyError, *_ZIP_ERRORS) as err:
        raise ModelError(f"load_model_from: {path} is not a skops file: {err}") from None
    found: set[tuple[str, str]] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "__loader__" in node or "__class__" in node:
                loader = node.get("__loader__")
                if loader != _SKOPS_REFERENCE:
                    found.add((f"{node.get('__module__')}.{node.get('__class__')}", str(loader)))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def read_estimators(data: bytes, path: Path) -> dict[str, Any]:
    """The estimators of an ``estimators.skops``, built only when every type in it is in
    ``ESTIMATOR_TYPES`` (checked by its schema and by skops' own audit before anything is built)."""
    import skops.io
    refused = {f"{kind} (as {loader})" if kind in ESTIMATOR_TYPES else kind
               for kind, loader in skops_types(data, path) if loader not in ESTIMATOR_TYPES.get(kind, ())}
    if not refused:
        try:
            untrusted = skops.io.get_untrusted_types(data=data)
        except Exception as err:   # a malformed schema: skops' own errors vary by node
            raise ModelError(f"load_model_from: {path} is not a skops file this version reads: {err}") from None
        refused = {kind for kind in untrusted if kind not in ESTIMATOR_TYPES}
    if refused:
        raise ModelError(f"load_model_from: {path} holds types a model file may not hold: "
                         f"{', '.join(sorted(refused))}; it is not loaded (a model may hold only "
                         f"{', '.join(sorted(ESTIMATOR_TYPES))}). Where it came from is unknown: "
                         f"{RETRAIN_HINT}")
    try:
        estimators = skops.io.loads(data, trusted=untrusted)
    except Exception as err:   # skops raises what the estimators' __setstate__ raise
        raise ModelError(f"load_model_from: {path} cannot be read: {err}") from None
    if not isinstance(estimators, dict):
        raise ModelError(f"load_model_from: {path} does not hold named estimators")
    return estimators


def load_state(folder: Path, meta: dict) -> Any:
    """The state ``save_model`` stored, from the files ``model.json`` lists (after their checksums)."""
    files = meta.get("files")
    if not isinstance(files, dict) or not isinstance(meta.get("state"), dict):
        raise ModelError(f"load_model_from: {folder / META_FILE} lists no model files or state")
    arrays = read_arrays(read_checked(folder, ARRAYS_FILE, meta), folder / ARRAYS_FILE) if ARRAYS_FILE in files else {}
    estimators = (read_estimators(read_checked(folder, ESTIMATORS_FILE, meta), folder / ESTIMATORS_FILE)
                  if ESTIMATORS_FILE in files else {})
    saved_versions = meta.get("libraries", {})
    current = library_versions()
    differing = [f"{k} {saved_versions[k]} (now {current[k]})" for k in ("numpy", "scikit-learn")
                 if k in saved_versions and saved_versions[k] != current[k]]
    if differing:
        log.warning("model %s was saved with %s; its results may differ slightly", folder, ", ".join(differing))
    try:
        return decode_state(meta["state"], arrays, estimators)
    except KeyError as err:
        raise ModelError(f"load_model_from: {folder / META_FILE} names {err} but its files do not hold it") from None


def restore_rng(rng: np.random.RandomState, state: Any) -> None:
    """Set ``rng`` to a saved ``get_state(legacy=False)``, checked first (it comes from a file)."""
    key = state["state"]["key"] if isinstance(state, dict) and isinstance(state.get("state"), dict) else None
    if (not isinstance(key, np.ndarray) or state.get("bit_generator") != "MT19937" or key.dtype != np.uint32
            or key.shape != (624,) or not isinstance(state["state"].get("pos"), int)
            or not 0 <= state["state"]["pos"] <= 624 or state.get("has_gauss") not in (0, 1)
            or not isinstance(state.get("gauss"), (int, float))):
        raise ModelError("the saved random state is not a MT19937 state")
    rng.set_state({"bit_generator": "MT19937", "state": {"key": key, "pos": state["state"]["pos"]},
                   "has_gauss": state["has_gauss"], "gauss": float(state["gauss"])})


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
    """The last ``capacity`` (timestamp, vector) rows, in arrival order (a ring)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._ts = np.empty(0)
        self._x: np.ndarray | None = None
        self._start = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def extend(self, timestamps: np.ndarray, vectors: np.ndarray) -> None:
        m = len(vectors)
        if m == 0:
            return
        if self._x is None:
            self._x = np.empty((self.capacity, vectors.shape[1]))
            self._ts = np.empty(self.capacity)
        if m >= self.capacity:
            self._x[:] = vectors[-self.capacity:]
            self._ts[:] = timestamps[-self.capacity:]
            self._start, self._size = 0, self.capacity
            return
        end = (self._start + self._size) % self.capacity
        positions = (end + np.arange(m)) % self.capacity
        self._x[positions] = vectors
        self._ts[positions] = timestamps
        overflow = max(0, self._size + m - self.capacity)
        self._start = (self._start + overflow) % self.capacity
        self._size = min(self.capacity, self._size + m)

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps, vectors), oldest first (copies)."""
        if self._x is None:
            return np.empty(0), np.empty((0, 0))
        order = (self._start + np.arange(self._size)) % self.capacity
        return self._ts[order], self._x[order]


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
            "feature_layout": None if self._layout is None else list(self._layout),
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
