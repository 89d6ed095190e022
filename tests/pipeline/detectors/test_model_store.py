"""Training, retraining, saving and loading of the model-based detectors (pipeline/detectors/model_store.py)."""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import io
import json
import logging
import os
import pickle
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.config import load_config, resolve_data_path
from pipeline.detectors import model_archives
from pipeline.detectors.base import DetectorContext
from pipeline.detectors.clustering import Clustering
from pipeline.detectors.gan import GAN
from pipeline.detectors.isolation_forest import IsolationForest
from pipeline.detectors.model_store import (
    ARRAYS_FILE,
    BUFFER_FILE,
    ESTIMATOR_TYPES,
    ESTIMATORS_FILE,
    META_FILE,
    PICKLE_FILE,
    ModelDetector,
    ModelError,
    RetrainBuffer,
    memory_context,
)
from pipeline.detectors.pca import PCA
from pipeline.run import RunSetup
from tests.conftest import ROOT, batch_of, write_config
from tests.pipeline.detectors.model_replay import samples

TRAINING = np.random.default_rng(3).normal(0, 1, (300, 1))


class FitRecorder(ModelDetector):
    """A model that is the number of samples it was fitted on; records when fits happen."""

    name = "recorder"

    def __init__(self, train_data=None, retrain_interval=None, samples_for_retrain=None, random_state=0):
        self._setup_training(train_data, None, retrain_interval, samples_for_retrain, None, random_state)
        self.fitted_at: list[tuple[int, int]] = []

    def model_parameters(self):
        return {}

    def _fit(self, vectors):
        self.fitted_at.append((self.samples_seen, len(vectors)))
        return len(vectors)

    def _judge(self, model, vectors):
        return np.zeros(len(vectors), dtype=bool), np.zeros(len(vectors)), {}


def original_retrain_points(n, valid, seeded, interval, size):
    """The original's per-sample rule: every sample counts; valid ones enter the buffer (cut to
    ``size``); retrain once ``interval`` samples passed and the buffer is full."""
    buffer, since, points = seeded, 0, []
    for i in range(n):
        if valid[i]:
            buffer = min(buffer + 1, size) if size else buffer + 1
        since += 1
        if since >= interval and (size is None or buffer == size):
            since = 0
            points.append((i + 1, buffer))
    return points


@pytest.mark.parametrize("interval,size,seeded", [(50, 200, 300), (7, 30, 0), (40, None, 10), (1, 5, 0)])
def test_retrains_happen_where_the_original_retrained_whatever_the_batches(interval, size, seeded):
    rng = np.random.default_rng(interval)
    x = rng.normal(0, 1, 1000)
    x[rng.choice(1000, 60, replace=False)] = np.nan   # rows without a vector are counted, not kept
    expected = original_retrain_points(len(x), np.isfinite(x), seeded, interval, size)
    for cuts in ([1000], [1] * 1000, rng.integers(1, 120, 40).tolist()):
        d = FitRecorder(train_data="t.csv" if seeded else None, retrain_interval=interval,
                        samples_for_retrain=size)
        d.start(memory_context(TRAINING[:seeded] if seeded else TRAINING))
        start = 0
        for size_ in cuts:
            d.update(batch_of(x[start:start + size_], start=start))
            start += size_
            if start >= len(x):
                break
        retrains = d.fitted_at[1:] if seeded else d.fitted_at
        assert retrains == [(seen, buffered) for seen, buffered in expected if seen <= start]


def test_the_retrain_buffer_keeps_the_last_rows_in_arrival_order():
    buf = RetrainBuffer(5)
    buf.extend(np.arange(3.0), np.arange(3.0)[:, None])
    buf.extend(np.arange(3.0, 9.0), np.arange(3.0, 9.0)[:, None])
    buf.extend(np.array([9.0]), np.array([[9.0]]))
    ts, x = buf.rows()
    assert ts.tolist() == [5, 6, 7, 8, 9] and x[:, 0].tolist() == [5, 6, 7, 8, 9]


def context(tmp_path, training=TRAINING, name="run_0"):
    return DetectorContext(name=name, models_dir=tmp_path / "models", resolve_path=lambda p: tmp_path / p,
                           training_vectors=lambda path: training)


def if_detector(**kw):
    params = dict(train_conf={"max_samples": 64, "model_name": "forest"}, train_data="train.csv",
                  retrain_interval=100, samples_for_retrain=150)
    params.update(kw)
    return IsolationForest(**params)


def test_a_model_folder_holds_metadata_model_and_retrain_buffer(tmp_path):
    d = if_detector()
    d.start(context(tmp_path))
    d.update(batch_of(np.random.default_rng(0).normal(0, 1, 250)))
    folder = tmp_path / "models" / "forest"
    assert sorted(p.name for p in folder.iterdir()) == sorted([META_FILE, ARRAYS_FILE, ESTIMATORS_FILE, BUFFER_FILE])
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["format"] == 2 and set(meta["files"]) == {ARRAYS_FILE, ESTIMATORS_FILE, BUFFER_FILE}
    assert meta["detector"] == "IsolationForest" and meta["algorithm"] == "Isolation forest"
    assert meta["parameters"] == {"max_samples": 64, "max_features": 1.0, "n_estimators": 100,
                                  "contamination": "auto"}
    assert meta["n_features"] == 1 and meta["training_samples"] == 150
    assert meta["retrain"] == {"retrains": 2, "samples_seen": 200, "since_retrain": 0}
    assert {"python", "numpy", "scipy", "scikit-learn"} <= set(meta["libraries"])
    header, *rows = (folder / BUFFER_FILE).read_text().splitlines()
    assert header == "timestamp,ftr_vector" and len(rows) == 150 and rows[-1].startswith("199.0,")


def test_a_loaded_model_continues_exactly_like_the_run_that_saved_it(tmp_path):
    x = np.random.default_rng(1).normal(0, 1, 600)
    x[[250, 420]] = 7.0
    original = if_detector()
    original.start(context(tmp_path))
    original.update(batch_of(x[:300]))       # the folder is saved at the retrain after sample 300
    resumed = if_detector(train_data=None, load_model_from="forest")
    resumed.start(context(tmp_path, training=None, name="other"))
    rest = original.update(batch_of(x[300:], start=300))
    again = resumed.update(batch_of(x[300:], start=300))
    assert resumed.retrains == original.retrains == 6
    assert again.status_idx.tolist() == rest.status_idx.tolist()
    assert again.score.tolist() == rest.score.tolist()


def test_a_loaded_model_judges_from_the_first_sample(tmp_path):
    # the original loaded the pickle but never marked the model trained: Undefined forever
    if_detector(retrain_interval=None).start(context(tmp_path))
    loaded = IsolationForest(train_conf={"max_samples": 64}, load_model_from=str(tmp_path / "models" / "forest"))
    loaded.start(context(tmp_path, name="other"))
    out = loaded.update(batch_of([0.1, 9.0]))
    assert loaded.trained and loaded.status_codes[out.status_idx].tolist() == [1, -1]


@pytest.mark.parametrize("build,message", [
    (lambda: IsolationForest(train_conf={"max_samples": 32}, load_model_from="forest"),
     "max_samples is 64 in the model and 32 in the config"),
    (lambda: PCA(train_conf={"N_components": 1}, load_model_from="forest"),
     "it is a IsolationForest model, the config's detector is PCA"),
    (lambda: Clustering(eps=1, min_samples=2, treshold=1, load_model_from="nothing_here"),
     "no saved model 'nothing_here'"),
])
def test_a_model_that_does_not_fit_the_config_is_refused_with_the_reason(tmp_path, build, message):
    if_detector(retrain_interval=None).start(context(tmp_path))
    with pytest.raises(ModelError, match=message):
        build().start(context(tmp_path, name="other"))


def test_a_model_trained_on_other_features_is_refused_at_the_first_sample(tmp_path):
    if_detector(retrain_interval=None).start(context(tmp_path))
    loaded = IsolationForest(train_conf={"max_samples": 64}, load_model_from="forest")
    loaded.start(context(tmp_path, name="other"))
    with pytest.raises(ModelError, match="trained on 1 features but the samples have 2"):
        loaded.update(samples(np.zeros((3, 2))))


@pytest.mark.parametrize("name", [ARRAYS_FILE, ESTIMATORS_FILE, BUFFER_FILE])
def test_a_file_of_another_save_is_refused_by_the_integrity_check(tmp_path, name):
    if_detector().start(context(tmp_path))
    if_detector(train_conf={"max_samples": 64, "model_name": "other"}).start(context(tmp_path, training=TRAINING[:100]))
    shutil.copy(tmp_path / "models" / "other" / name, tmp_path / "models" / "forest" / name)
    with pytest.raises(ModelError, match=f"{name} is not the file model.json describes .checksum differs"):
        if_detector(train_data=None, load_model_from="forest").start(context(tmp_path, name="x"))


def test_no_training_data_no_model_and_retrain_only_starts_undefined():
    with pytest.raises(ValueError, match="train_data: expected a training file, or load_model_from or retrain_"):
        IsolationForest()
    d = IsolationForest(retrain_interval=50)
    out = d.update(batch_of(np.random.default_rng(0).normal(0, 1, 60)))
    codes = d.status_codes[out.status_idx]
    assert (codes[:50] == 2).all() and (codes[50:] != 2).all() and d.retrains == 1


def test_a_missing_training_file_is_a_clear_error():
    d = IsolationForest(train_data="no_such.csv")
    ctx = DetectorContext(name="x", models_dir=None, resolve_path=lambda p: None, training_vectors=None)
    with pytest.raises(ModelError, match="train_data: file 'no_such.csv' not found"):
        d.start(ctx)


def test_update_before_start_warns_that_the_training_file_was_not_read(caplog):
    d = IsolationForest(train_data="train.csv")
    with caplog.at_level(logging.WARNING):
        out = d.update(batch_of([1.0, 2.0]))
    assert d.status_codes[out.status_idx].tolist() == [2, 2]
    assert "before start()" in caplog.text


def test_fit_cost_is_counted_and_logged(caplog):
    d = if_detector(retrain_interval=100, samples_for_retrain=100)
    with caplog.at_level(logging.INFO, logger="pipeline.detectors.model_store"):
        d.start(memory_context(TRAINING))
        d.update(batch_of(np.zeros(250)))
    assert d.fits == 3 and d.retrains == 2 and d.fit_seconds > 0
    assert "trained on 300 samples in" in caplog.text


def test_memory_context_trains_without_writing_anything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = if_detector()
    d.start(memory_context(TRAINING))
    d.update(batch_of(np.zeros(400)))
    assert d.retrains == 4 and list(tmp_path.iterdir()) == []


def test_a_run_never_touches_the_config_the_training_file_or_retrain_file(tmp_path):
    """The original rewrote the config to point train_data at retrain_file, which its shipped
    configs set to the training file itself."""
    data = tmp_path / "data.csv"
    data.write_text("".join((ROOT / "resources" / "data" / "ads-1.csv").read_text().splitlines(True)[:1201]))
    train = tmp_path / "train.csv"
    shutil.copy(ROOT / "resources" / "data" / "ads-1_train.csv", train)
    config_path = write_config(tmp_path / "retrain.json", {
        "file_name": str(data),
        "anomaly_detection_alg": ["IsolationForest()"],
        "anomaly_detection_conf": [{
            "input_vector_size": 1, "train_data": str(train), "retrain_file": str(train),
            "train_conf": {"max_samples": 100, "max_features": 1.0, "model_name": "if_model.pkl"},
            "retrain_interval": 50, "samples_for_retrain": 200}]})
    before = {p: p.read_bytes() for p in (config_path, train, data)}
    with RunSetup(load_config(config_path), tmp_path / "log", models_dir=tmp_path / "models") as setup:
        stats = setup.engine().run()
    assert stats.samples == 1200 and setup.runs[0].detector.retrains == 24
    assert {p: p.read_bytes() for p in before} == before
    assert {p.name for p in tmp_path.iterdir()} <= {"data.csv", "log", "models", "retrain.json", "train.csv"}
    assert (tmp_path / "models" / "if_model" / BUFFER_FILE).is_file()


def test_list_text_and_plain_column_training_files_train_the_same_model(tmp_path):
    rows = (ROOT / "resources" / "data" / "ads-1_train.csv").read_text().splitlines()[1:]
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,value\n" + "".join(f"{r.split(',')[0]},{r.split(',')[1].strip('[]')}\n" for r in rows))
    x = np.random.default_rng(4).normal(1, 2, 300)
    outcomes = []
    for train in ("resources/data/ads-1_train.csv", str(plain)):
        config = write_config(tmp_path / "c.json", {
            "file_name": "resources/data/ads-1.csv", "anomaly_detection_alg": ["IsolationForest()"],
            "anomaly_detection_conf": [{"input_vector_size": 1, "train_data": train,
                                        "train_conf": {"max_samples": 100}}]})
        setup = RunSetup(load_config(config), tmp_path / "log", models_dir=tmp_path / "models")
        detector = setup.runs[0].detector
        detector.start(setup.detector_context(0))
        outcomes.append(detector.update(batch_of(x)).status_idx.tolist())
    assert outcomes[0] == outcomes[1] and {0, 2} <= set(outcomes[0])  # OK and errors


# -- model files run no code ---------------------------------------------------------------------

MODEL_DETECTORS = {
    "IsolationForest": lambda **kw: IsolationForest(train_conf={"max_samples": 64, "n_estimators": 20,
                                                                "model_name": "m"}, **kw),
    "PCA": lambda **kw: PCA(train_conf={"N_components": 1, "max_samples": 64, "n_estimators": 20,
                                        "model_name": "m"}, **kw),
    "Clustering": lambda **kw: Clustering(eps=0.3, min_samples=4, treshold=0.2, **kw),
    "GAN": lambda **kw: GAN(train_conf={"N_shifts": 1, "N_latent": 1, "K": 2.0, "len_window": 20,
                                        "model_name": "m"}, **kw),
}
PAIRS = np.column_stack([np.sin(np.arange(400) / 7), np.sin(np.arange(-1, 399) / 7)])


@pytest.mark.parametrize("kind", MODEL_DETECTORS)
def test_a_saved_model_scores_and_retrains_exactly_like_the_run_that_saved_it(tmp_path, kind):
    make = MODEL_DETECTORS[kind]
    ctx = DetectorContext(name="m", models_dir=tmp_path / "models", resolve_path=lambda p: tmp_path / p,
                          training_vectors=lambda path: PAIRS[:200])
    original = make(train_data="t.csv", retrain_interval=60, samples_for_retrain=120)
    original.start(ctx)
    resumed = make(load_model_from="m", retrain_interval=60, samples_for_retrain=120)
    resumed.start(ctx)   # before the original retrains and saves again
    x = PAIRS[200:] + np.random.default_rng(5).normal(0, 0.05, PAIRS[200:].shape)
    x[[20, 90, 150]] += 1.5
    for cut in (slice(0, 70), slice(70, 200)):   # the second part is judged by retrained models
        a, b = original.update(samples(x[cut])), resumed.update(samples(x[cut]))
        assert b.status_idx.tolist() == a.status_idx.tolist() and b.score.tolist() == a.score.tolist()
        assert {k: v.tolist() for k, v in b.lines.items()} == {k: v.tolist() for k, v in a.lines.items()}
    assert resumed.retrains == original.retrains == 3
    assert not (tmp_path / "models" / "m" / PICKLE_FILE).exists()


class CreatesMarker:
    """Unpickling this makes the directory ``path``: the stand-in for any code a pickle can run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def marker_pickle(marker) -> bytes:
    return pickle.dumps(CreatesMarker(marker))


def test_the_planted_pickles_would_run_code_if_unpickled(tmp_path):
    pickle.loads(marker_pickle(tmp_path / "ran"))   # so the tests below prove something
    assert (tmp_path / "ran").is_dir()


def saved_forest(tmp_path) -> Path:
    if_detector(retrain_interval=None).start(context(tmp_path))
    return tmp_path / "models" / "forest"


def rewrite(folder, name, data: bytes) -> None:
    """Replace a file and its checksum, as anyone who can write the folder can."""
    (folder / name).write_bytes(data)
    meta = json.loads((folder / META_FILE).read_text())
    meta["files"][name] = hashlib.sha256(data).hexdigest()
    (folder / META_FILE).write_text(json.dumps(meta))


def load_forest(tmp_path, value="forest"):
    IsolationForest(train_conf={"max_samples": 64}, load_model_from=value).start(context(tmp_path, name="x"))


class Planted:
    """A class outside the allow-list; counts every instance made of it."""

    made = 0

    def __new__(cls, *args, **kwargs):
        Planted.made += 1
        return super().__new__(cls)

    def __setstate__(self, state):
        Planted.made += 1


@pytest.mark.parametrize("planted,named", [
    (lambda: Planted(), "tests.pipeline.detectors.test_model_store.Planted"),
    (lambda: collections.OrderedDict(a=1), "collections.OrderedDict"),     # trusted by skops, not by us
    (lambda: Pipeline([("scale", StandardScaler())]), "sklearn.pipeline.Pipeline"),   # so is every estimator
    (lambda: os.system, "posix.system"),
])
def test_an_estimator_file_with_a_type_outside_the_allow_list_is_refused_before_anything_is_built(
        tmp_path, planted, named):
    folder = saved_forest(tmp_path)
    rewrite(folder, ESTIMATORS_FILE, skops.io.dumps({"model.forest": planted()}))
    Planted.made = 0
    with pytest.raises(ModelError, match=f"{re.escape(str(folder / ESTIMATORS_FILE))} holds types a model file may "
                                         f"not hold: .*{re.escape(named)}.*; it is not loaded"):
        load_forest(tmp_path)
    assert Planted.made == 0


def test_the_allow_list_is_what_a_forest_is_made_of():
    assert {"sklearn.ensemble._iforest.IsolationForest", "sklearn.tree._tree.Tree"} <= set(ESTIMATOR_TYPES)
    assert not {t for t in ESTIMATOR_TYPES if t.startswith(("sklearn.pipeline", "collections", "posix", "os"))}


def test_a_tree_that_leads_outside_itself_is_refused_not_walked(tmp_path):
    """scikit-learn walks node arrays without bounds checks: an edited tree must never reach it."""
    folder = saved_forest(tmp_path)
    forest = skops.io.load(folder / ESTIMATORS_FILE, trusted=["sklearn.tree._tree.Tree"])["model.forest"]
    tree = forest.estimators_[3].tree_
    state = tree.__getstate__()
    state["nodes"]["left_child"][0] = 10 ** 9
    tree.__setstate__(state)
    rewrite(folder, ESTIMATORS_FILE, skops.io.dumps({"model.forest": forest}))
    with pytest.raises(ModelError, match="tree 3 has a node that leads outside the tree"):
        load_forest(tmp_path)


def test_an_array_file_holding_a_pickle_is_refused_and_not_unpickled(tmp_path):
    folder = saved_forest(tmp_path)
    planted = np.empty(1, dtype=object)
    planted[0] = CreatesMarker(tmp_path / "ran")
    out = io.BytesIO()
    np.savez(out, **{"rng.state.key": planted})   # an object array is stored as a pickle
    rewrite(folder, ARRAYS_FILE, out.getvalue())
    with pytest.raises(ModelError, match="is not an array file this version wrote"):
        load_forest(tmp_path)
    assert not (tmp_path / "ran").exists()


def test_an_edited_state_is_refused_with_the_reason(tmp_path):
    folder = saved_forest(tmp_path)
    meta = json.loads((folder / META_FILE).read_text())
    meta["state"]["rng"]["state"]["key"] = {"__array__": "nothing"}
    (folder / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="names 'nothing' but its files do not hold it"):
        load_forest(tmp_path)


# -- hostile folders: every one is a ModelError naming the file, never an internal error ----------

@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,       # json.loads itself runs out of recursion
    '{"format": 2, "state": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}",   # parses, but too deep to walk
])
def test_a_model_json_nested_too_deeply_is_refused(tmp_path, text):
    folder = saved_forest(tmp_path)
    (folder / META_FILE).write_text(text)
    with pytest.raises(ModelError, match=re.escape(f"cannot read {folder / META_FILE}: it is nested too deeply")):
        load_forest(tmp_path)


def npy_declaring(shape, data: bytes = b"\0" * 64) -> bytes:
    """A .npy file whose header declares ``shape`` of float64, followed by ``data``."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data


def test_an_array_whose_header_declares_a_huge_array_is_refused_before_it_is_allocated(tmp_path, monkeypatch):
    folder = saved_forest(tmp_path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("rng.state.key.npy", npy_declaring((2 ** 40, 1)))
    rewrite(folder, ARRAYS_FILE, out.getvalue())
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load called on a file declaring 8 TiB"))
    with pytest.raises(ModelError, match=re.escape(f"{folder / ARRAYS_FILE} is not an array file this version "
                                                   "wrote: rng.state.key.npy: its header declares an array of "
                                                   "shape (1099511627776, 1)")):
        load_forest(tmp_path)


def test_an_array_file_np_load_cannot_allocate_is_refused_naming_it(tmp_path, monkeypatch):
    folder = saved_forest(tmp_path)

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "load", no_memory)
    with pytest.raises(ModelError, match=re.escape(f"{folder / ARRAYS_FILE} is not an array file this version "
                                                   "wrote: not enough memory")):
        load_forest(tmp_path)


@pytest.mark.parametrize("name", [ARRAYS_FILE, ESTIMATORS_FILE])
def test_a_zip_bomb_is_refused_from_the_sizes_it_declares_before_anything_is_decompressed(tmp_path, monkeypatch,
                                                                                          name):
    monkeypatch.setattr(model_archives, "MAX_ARRAYS_BYTES", 1 << 20)   # 1 MiB instead of 1 GiB: a quick test
    folder = saved_forest(tmp_path)
    out = io.BytesIO()
    if name == ARRAYS_FILE:    # a valid array, whose zeros deflate to a few kB
        np.savez_compressed(out, **{"rng.state.key": np.zeros(1 << 18, dtype=np.uint32),
                                    "padding": np.zeros(1 << 17)})
    else:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("schema.json", " " * (2 << 20) + "{}")
    assert len(out.getvalue()) < 64 << 10
    rewrite(folder, name, out.getvalue())
    if name == ARRAYS_FILE:
        monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load called on a zip bomb"))
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: pytest.fail("an entry was decompressed"))
    with pytest.raises(ModelError, match=re.escape(f"{folder / name} would expand to ") + r"[\d,]+ bytes, more than "
                                         r"the 1,048,576 a model may hold; it is not loaded"):
        load_forest(tmp_path)


def test_the_zip_bound_leaves_room_for_models_this_version_saves(tmp_path):
    folder = saved_forest(tmp_path)
    with zipfile.ZipFile(folder / ARRAYS_FILE) as z:
        assert 0 < sum(e.file_size for e in z.infolist()) < model_archives.MAX_ARRAYS_BYTES / 1000
    load_forest(tmp_path)


@pytest.mark.parametrize("with_meta", [False, True])
def test_a_format_1_folder_is_refused_with_what_to_do_and_its_pickle_is_not_read(tmp_path, with_meta):
    folder = tmp_path / "models" / "forest"
    folder.mkdir(parents=True)
    (folder / PICKLE_FILE).write_bytes(marker_pickle(tmp_path / "ran"))
    if with_meta:
        (folder / META_FILE).write_text(json.dumps({"format": 1, "detector": "IsolationForest"}))
    with pytest.raises(ModelError, match=re.escape(
            f"{folder} holds a pickled model of an earlier version (format 1), which is not loaded because "
            "unpickling can run code; retrain it with train_data (delete the folder or point train_data at the data")):
        load_forest(tmp_path)
    assert not (tmp_path / "ran").exists()


def test_training_into_a_format_1_folder_replaces_its_pickle(tmp_path):
    folder = tmp_path / "models" / "forest"
    folder.mkdir(parents=True)
    (folder / PICKLE_FILE).write_bytes(marker_pickle(tmp_path / "ran"))
    if_detector(retrain_interval=None).start(context(tmp_path))
    assert not (folder / PICKLE_FILE).exists()
    load_forest(tmp_path)
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("where", ["absolute", "models_dir"])
def test_a_pickle_of_the_original_project_is_refused_and_not_read(tmp_path, where):
    (tmp_path / "models").mkdir()
    planted = tmp_path / "models" / "if_model.pkl"
    planted.write_bytes(marker_pickle(tmp_path / "ran"))
    with pytest.raises(ModelError, match=re.escape(
            f"{planted} is a pickle of the original anomalyDetection project; it cannot be loaded safely "
            "(unpickling can run code), so it is not read. Train the model again with train_data")):
        load_forest(tmp_path, str(planted) if where == "absolute" else "if_model.pkl")
    assert not (tmp_path / "ran").exists()


def test_models_in_the_current_directory_are_never_loaded(tmp_path, monkeypatch):
    """A bare name is looked up in the models folder, a relative path in the project and the
    config's folder: a model planted in the current directory is not even opened."""
    cwd = tmp_path / "cwd"
    saved_forest(cwd)                                        # a valid model ...
    shutil.copytree(cwd / "models" / "forest", cwd / "forest")   # ... planted where a name or path would find it
    shutil.copytree(cwd / "models" / "forest", cwd / "sub" / "forest")
    (cwd / "forest" / PICKLE_FILE).write_bytes(marker_pickle(tmp_path / "ran"))
    (cwd / "forest.pkl").write_bytes(marker_pickle(tmp_path / "ran"))
    config = tmp_path / "conf" / "c.json"
    config.parent.mkdir()
    monkeypatch.chdir(cwd)
    ctx = DetectorContext(name="x", models_dir=tmp_path / "models", resolve_path=lambda p: resolve_data_path(p, config),
                          training_vectors=None, config_dir=config.parent)
    for value in ("forest", "forest.pkl", "sub/forest", "./forest", "forest/model.json"):
        with pytest.raises(ModelError, match=f"no saved model {re.escape(repr(value))} .*looked at") as err:
            IsolationForest(train_conf={"max_samples": 64}, load_model_from=value).start(ctx)
        looked = str(err.value).split("looked at ")[1]
        assert str(cwd) not in looked and (str(tmp_path / "models") in looked or str(config.parent) in looked)
    assert not (tmp_path / "ran").exists()


def test_a_relative_path_is_looked_up_in_the_config_folder(tmp_path):
    folder = saved_forest(tmp_path)
    shutil.copytree(folder, tmp_path / "conf" / "saved" / "forest")
    ctx = DetectorContext(name="x", models_dir=tmp_path / "empty", resolve_path=lambda p: None,
                          training_vectors=None, config_dir=tmp_path / "conf")
    loaded = IsolationForest(train_conf={"max_samples": 64}, load_model_from="saved/forest")
    loaded.start(ctx)
    assert loaded.trained


def test_nothing_in_the_product_unpickles():
    """The hook's check: no pickle.load(s), joblib.load or allow_pickle=True in pipeline, gui, main.py."""
    pattern = re.compile(r"pickle\.loads?\(|joblib\.load\(|allow_pickle\s*=\s*True")
    files = [ROOT / "main.py", *(ROOT / "pipeline").rglob("*.py"), *(ROOT / "gui").rglob("*.py")]
    assert [f"{f}:{i}" for f in files for i, line in enumerate(f.read_text().splitlines(), 1)
            if pattern.search(line)] == []


def test_model_json_stores_the_feature_layout_as_text_and_reads_the_old_list_of_characters(tmp_path):
    layout = '{"averages": [], "raw_width": 1}'
    with_layout = DetectorContext(name="run_0", models_dir=tmp_path / "models", resolve_path=lambda p: tmp_path / p,
                                  training_vectors=lambda path: TRAINING, feature_layout=layout)
    if_detector(retrain_interval=None).start(with_layout)
    path = tmp_path / "models" / "forest" / META_FILE
    meta = json.loads(path.read_text())
    assert meta["feature_layout"] == layout  # it was a list of 32 one-character strings
    meta["feature_layout"] = list(layout)    # as saved before the fix
    path.write_text(json.dumps(meta))
    loaded = IsolationForest(train_conf={"max_samples": 64}, load_model_from="forest")
    loaded.start(dataclasses.replace(with_layout, name="other"))
    assert loaded.trained
    other = dataclasses.replace(with_layout, name="third", feature_layout=layout.replace("1", "2"))
    with pytest.raises(ModelError, match=re.escape(f"its feature layout is {layout}, the config builds")):
        IsolationForest(train_conf={"max_samples": 64}, load_model_from="forest").start(other)
