"""Reading the zip archives of a model folder (``arrays.npz``, ``estimators.skops``) so that
nothing a file names is imported or run, and nothing it declares can exhaust memory.

Every entry's declared size is checked before anything is decompressed; every ``.npy`` header
before ``np.load(allow_pickle=False)``; every type of a skops file against ``ESTIMATOR_TYPES``
before skops builds anything. Whatever is wrong is a ``ModelError`` naming the file.
"""
from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

RETRAIN_HINT = ("retrain it with train_data (delete the folder or point train_data at the data, and leave "
                "load_model_from out until the new model is saved)")


class ModelError(ValueError):
    """A model that cannot be trained, found or used with this config (the message says why)."""


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

#: The most the arrays of a model (or its estimators file) may take once decompressed: a file
#: declaring more is refused before anything is decompressed (a zip bomb, or a header declaring
#: a huge array).
MAX_ARRAYS_BYTES = 1 << 30


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
