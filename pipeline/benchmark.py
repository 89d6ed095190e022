"""One config's detectors over a whole labelled corpus, in one process (``--benchmark``).

Every series is a headless file run of its own: the config with ``file_name`` replaced by the
series and no outputs, fresh detector instances built from the config (nothing carries over
and nothing is tuned per series). One ``EvaluationCollector`` listens to all of them and names
each series, so the evaluation is corpus-wide: NAB's threshold sweep chooses one threshold per
profile for the whole corpus, as NAB does.

Corpora:

- ``nab``: a NAB copy, ``data/<category>/<file>.csv`` for every name in
  ``labels/combined_windows.json``; profiles from ``config/profiles.json`` (NAB's own when it is
  missing); the published scoreboard ``results/final_results.json`` is shown when present.
- ``ads``: the ADS sets ``ads-<n>.csv`` of a folder, whose ``label`` column is the ground truth.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.benchmark_report import benchmark_text, write_nab_results
from pipeline.config import RunConfig
from pipeline.evaluation import DetectorInfo, EvaluationCollector, LabelsError, WindowLabels, evaluate_run
from pipeline.evaluation.evaluate import evaluate_detector, judged_series
from pipeline.evaluation.labels import window_seconds
from pipeline.evaluation.nab import PROFILES, Profile, read_profiles
from pipeline.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, EXIT_USAGE
from pipeline.paths import DEFAULT_LOG_DIR, DEFAULT_MODELS_DIR
from pipeline.progress import SeriesProgress
from pipeline.run import RunSetup, StopOnSignals, describe_error, write_json
from pipeline.run_modes import RunMode

log = logging.getLogger(__name__)


class CorpusError(ValueError):
    """A corpus folder that is not of the named kind (a usage error)."""


@dataclass
class Corpus:
    """The series of a corpus (name -> data file), their windows (NAB) and the published scores."""

    kind: str
    root: Path
    series: dict[str, Path]
    windows: dict[str, np.ndarray] | None = None
    profiles: dict[str, Profile] | None = None
    published: dict | None = None


def nab_corpus(root: Path) -> Corpus:
    windows_file = root / "labels" / "combined_windows.json"
    if not windows_file.is_file():
        raise CorpusError(f"--corpus {root}: no labels/combined_windows.json, so not a NAB copy (expected data/, "
                          "labels/combined_windows.json and optionally config/profiles.json)")
    labels = WindowLabels.read(windows_file)
    series, windows = {}, {}
    for name, pairs in labels.windows.items():
        path = root / "data" / name
        if not path.is_file():
            raise CorpusError(f"--corpus {root}: {windows_file.name} names {name}, but data/{name} is missing")
        series[name] = path
        windows[name] = window_seconds(pairs, f"{windows_file}: {name}")
    profiles_file = root / "config" / "profiles.json"
    profiles = read_profiles(profiles_file) if profiles_file.is_file() else dict(PROFILES)
    published_file = root / "results" / "final_results.json"
    published = json.loads(published_file.read_text()) if published_file.is_file() else None
    return Corpus("nab", root, series, windows, profiles, published)


def ads_corpus(root: Path) -> Corpus:
    files = [p for p in root.glob("ads-*.csv") if re.fullmatch(r"ads-\d+\.csv", p.name)]
    if not files:
        raise CorpusError(f"--corpus {root}: no ads-<n>.csv files (the ADS sets, with a label column)")
    files.sort(key=lambda p: int(re.findall(r"\d+", p.name)[0]))
    return Corpus("ads", root, {p.name: p for p in files})


def load_corpus(kind: str, root: Path) -> Corpus:
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"--corpus {root}: not a folder")
    return nab_corpus(root) if kind == "nab" else ads_corpus(root)


def series_config(config: RunConfig, path: Path) -> RunConfig:
    """The config run over one series: its file, no outputs (results go to the evaluation), and a
    name of its own (``<config>.benchmark``), so its dead letters go beside the config's own
    (relative paths still resolve from the config's folder)."""
    source = config.source.with_name(f"{config.source.stem}.benchmark{config.source.suffix}")
    return replace(config, file_name=path, source=source,
                   detectors=tuple(replace(d, outputs=(), visualizations=()) for d in config.detectors))


@dataclass
class BenchmarkRun:
    """What running the corpus gave: the collector, samples, rejected rows, how it ended."""

    collector: EvaluationCollector
    detectors: list[DetectorInfo]
    samples: int = 0
    rejected: int = 0
    #: series with rejected rows, and how many: their rows no longer line up with the data file's
    rejected_in: dict[str, int] = field(default_factory=dict)
    #: series that gave no sample at all (empty files): the report says so
    empty: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    stopped_by: int | None = None


def loaded_model_names(params: object) -> set[str]:
    """The ``load_model_from`` names in a detector's parameters, a Combination member's included
    (a name without ``/`` is a folder of the models folder; a path is read where it lies)."""
    if isinstance(params, dict):
        names = {v for k, v in params.items() if k == "load_model_from" and isinstance(v, str) and "/" not in v}
        return names.union(*(loaded_model_names(v) for v in params.values()))
    if isinstance(params, (list, tuple)):
        return set().union(*(loaded_model_names(v) for v in params))
    return set()


def series_models(models_dir: Path, names: set[str], scratch: Path, index: int) -> Path:
    """A models folder of the series' own, holding a copy of each user's model the config loads
    (``names``), so that a series starts from the user's model, not from one a previous series
    retrained, and a retrain saves there, never over the user's model."""
    folder = scratch / f"series-{index}"
    folder.mkdir()
    for name in names:
        if (Path(models_dir) / name).is_dir():
            shutil.copytree(Path(models_dir) / name, folder / name)
    return folder


def run_series(config: RunConfig, corpus: Corpus, collector: EvaluationCollector, log_dir: Path, models_dir: Path,
               batch_size: int, progress: bool | None, scratch: Path) -> BenchmarkRun:
    """Run every series of the corpus through fresh detectors, each with its own copy of the
    user's models (in ``scratch``); stop early on a signal."""
    started = time.monotonic()
    run = BenchmarkRun(collector, [])
    loads = loaded_model_names([dict(d.detector.params) for d in config.detectors])
    bar = SeriesProgress(len(corpus.series), progress)
    try:
        for index, (name, path) in enumerate(corpus.series.items()):
            collector.series_name = name
            own_models = series_models(models_dir, loads, scratch, index)
            with RunSetup(series_config(config, path), log_dir, RunMode.FILE, own_models) as setup:
                if not run.detectors:
                    run.detectors = [DetectorInfo(r.index, r.label, int(getattr(r.detector, "delay", 0)))
                                     for r in setup.runs]
                engine = setup.engine(listeners=[collector], batch_size=batch_size)
                with StopOnSignals(engine) as signals:
                    engine.run()
            shutil.rmtree(own_models, ignore_errors=True)
            run.samples += engine.stats.samples
            run.rejected += engine.stats.rejected
            if engine.stats.rejected:
                run.rejected_in[name] = engine.stats.rejected
            if not engine.stats.samples:
                run.empty.append(name)
            bar.done(name, engine.stats.samples)
            if signals.received is not None:
                run.stopped_by = signals.received
                break
    finally:
        bar.close()
        run.wall_s = time.monotonic() - started
    return run


def evaluate_benchmark(corpus: Corpus, run: BenchmarkRun) -> dict:
    """The corpus-wide evaluation of every detector, and for ADS each set's figures."""
    detectors = evaluate_run(run.collector, run.detectors, corpus.windows, corpus.profiles) or []
    if corpus.kind == "ads":
        for info, evaluation in zip(run.detectors, detectors):
            per_set = {}
            for judged in judged_series(run.collector, info):
                figures = evaluate_detector(info, [judged])
                per_set[judged.name] = {"f1": figures["sample"]["f1"], "event_f1": figures["event"]["f1"]}
            evaluation["per_set"] = per_set
            f1s = [v["f1"] or 0.0 for v in per_set.values()]
            evaluation["mean_f1"] = round(float(np.mean(f1s)), 6) if f1s else None
    series = len({name for _, name in run.collector.series})
    return {"benchmark": corpus.kind, "corpus": str(corpus.root), "series": series, "samples": run.samples,
            "rejected": run.rejected, "outcome": "finished" if run.stopped_by is None else "interrupted",
            "wall_s": round(run.wall_s, 3), "detectors": detectors,
            "published": corpus.published}


def run_benchmark(config: RunConfig, kind: str, corpus_dir: Path, log_dir: Path = DEFAULT_LOG_DIR,
                  models_dir: Path = DEFAULT_MODELS_DIR, batch_size: int = 65536, progress: bool | None = None,
                  out_dir: Path | None = None, summary_json: Path | None = None) -> int:
    """``--benchmark``: run, print the scores beside the published ones, write the result files."""
    try:
        corpus = load_corpus(kind, corpus_dir)
    except (CorpusError, LabelsError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    collector = EvaluationCollector(keep_values=out_dir is not None and kind == "nab", unlabelled=kind == "nab")
    with tempfile.TemporaryDirectory(prefix="benchmark-models-") as scratch:
        try:
            run = run_series(config, corpus, collector, log_dir, models_dir, batch_size, progress, Path(scratch))
        except Exception as err:  # a series that cannot be run ends the benchmark with one line
            message, where = describe_error(err), str(corpus.series.get(collector.series_name, corpus.root))
            print(f"error: {message}" if where in message else f"error: {where}: {message}", file=sys.stderr)
            return EXIT_ERROR
    report = evaluate_benchmark(corpus, run)
    report["config"] = str(config.source)
    print(benchmark_text(report, config.name), file=sys.stderr)
    for name in run.empty:
        print(f"note: {name}: no samples (an empty series); it is not in the scores", file=sys.stderr)
    problems = []
    if out_dir is not None:
        out_dir = Path(out_dir)
        try:
            if kind == "nab":
                for folder in write_nab_results(out_dir, config.name, run.collector, run.detectors, corpus.windows,
                                                skip=run.rejected_in):
                    print(f"NAB result files: {folder}", file=sys.stderr)
                for name, count in run.rejected_in.items():
                    # NAB's scorer matches a result file's rows to the data file's by position
                    rows = f"{count:,} row{'s' * (count != 1)}"
                    print(f"note: {name}: {rows} rejected (see the dead letters), so its NAB result file is not "
                          "written: its rows would not line up with the data file's", file=sys.stderr)
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            problems.append(f"cannot write the result files: {err}")
        problems.append(write_json(out_dir / "evaluation.json", report))
    if summary_json is not None:
        problems.append(write_json(summary_json, report))
    problems = [p for p in problems if p]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if run.stopped_by is not None:
        return EXIT_SIGTERM if run.stopped_by == signal.SIGTERM else EXIT_SIGINT
    return EXIT_ERROR if problems else EXIT_OK
