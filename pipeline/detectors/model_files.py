"""Model folders on disk: how a fitted model is written, found, checked and read back.

A model is a folder ``<models_dir>/<model name>/``: ``model.json`` (metadata and the model's
state as JSON, with the sha256 of every other file: an integrity check against a torn save or a
file from another save, not an authenticity check), ``arrays.npz`` (its numbers, read with
``allow_pickle=False``), ``estimators.skops`` (scikit-learn forests, only of the types in
``ESTIMATOR_TYPES``, checked before anything is built) and ``retrain_buffer.csv``. Loading runs no
code a file names; every way a folder can be wrong is a ``ModelError`` that says what to do.
Training and retraining, which use these, are in ``model_store``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import platform
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.detectors.base import DetectorContext
from pipeline.detectors.model_archives import ESTIMATOR_TYPES, RETRAIN_HINT, ModelError, read_arrays, read_estimators  # noqa: F401 (re-exported)
from pipeline.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

#: 1: model.pkl (pickle), refused since 2; 2: model.json + arrays.npz (+ estimators.skops).
MODEL_FORMAT = 2
META_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
ESTIMATORS_FILE = "estimators.skops"
BUFFER_FILE = "retrain_buffer.csv"
#: The pickle of a format 1 folder: recognised in order to refuse it, never read.
PICKLE_FILE = "model.pkl"

#: How deeply ``model.json`` may nest: a saved one nests a few levels; a deeper one would exhaust
#: the recursion of the code that reads it.
MAX_META_DEPTH = 64
_ARRAY_KEY = "__array__"
_ESTIMATOR_KEY = "__estimator__"



def library_versions() -> dict[str, str]:
    import scipy
    import sklearn
    import skops
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


def saved_feature_layout(meta: dict) -> str | None:
    """The ``feature_layout`` text of ``model.json``. Saves before 2026-12 wrote it as a list of
    single characters; those read as the text they spell."""
    layout = meta.get("feature_layout")
    if isinstance(layout, list) and all(isinstance(c, str) for c in layout):
        return "".join(layout)
    return layout


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
    saved_layout = saved_feature_layout(meta)
    if feature_layout is not None and saved_layout is not None and saved_layout != str(feature_layout):
        problems.append(f"its feature layout is {saved_layout}, the config builds {feature_layout}")
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
