"""Assembling a run from a validated config, and running it headless.

``RunSetup`` builds the source, the detectors with their outputs and the dead-letter sink; the
headless CLI and the GUI worker both use it, so both run the same engine code.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Sequence

from pipeline.config import SCORE_POST_PROCESSING, ConfigError, RunConfig, resolve_data_path
from pipeline.consumers.base import SourceError
from pipeline.consumers.file import FileConsumer, concat_batches
from pipeline.consumers.input_file import InputRefused
from pipeline.dead_letter import new_run_id
from pipeline.detectors import DETECTORS, DetectorContext
from pipeline.engine import DetectorRun, Engine, Listener
from pipeline.evaluation import DetectorInfo, EvaluationCollector, LabelsError, WindowLabels, evaluate_run
from pipeline.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, EXIT_USAGE
from pipeline.features import FeatureBuilder, FeatureSpec
from pipeline.normalization import NORMALIZERS
from pipeline.outputs import OUTPUTS, RunContext
from pipeline.outputs.paths import output_path_problems
from pipeline.paths import DEFAULT_LOG_DIR, DEFAULT_MODELS_DIR
from pipeline.progress import ProgressLine
from pipeline.records import SampleBatch
from pipeline.run_modes import RunMode
from pipeline.sources import build_source, detector_topics_of
from pipeline.summary import evaluation_document, summary_dict, summary_text

log = logging.getLogger(__name__)


def read_training_samples(path: Path, width: int) -> SampleBatch:
    """Every usable sample of a training file, in order (bad rows are skipped with a warning:
    training data is not a stream to dead-letter)."""
    parts, rejected = [], 0
    with FileConsumer(path, width) as source:
        while not source.finished:
            poll = source.poll(1 << 16)
            parts.append(poll.samples)
            rejected += len(poll.rejected)
    if rejected:
        log.warning("%s: %d training rows could not be used", path, rejected)
    return concat_batches(parts) if parts else SampleBatch.empty(width)


class RunSetup:
    """Everything one run needs, built from a config; ``open()``/``close()`` manage resources.

    ``mode``: ``"file"`` replays ``file_name`` (``-f``), ``"kafka"`` reads the topics,
    ``"filekafka"`` replays the file and then continues with the topics (``-fk``).
    """

    def __init__(self, config: RunConfig, log_dir: Path = DEFAULT_LOG_DIR, mode: RunMode | str = RunMode.FILE,
                 models_dir: Path = DEFAULT_MODELS_DIR):
        self.config = config
        self.mode = mode = RunMode(mode)
        self.run_id = new_run_id()
        self.context = RunContext(log_dir=Path(log_dir), run_name=config.name, kafka=config.kafka)
        problems = output_path_problems(config, self.context.log_dir)
        if problems:
            raise ConfigError(problems)
        self.runs = [
            DetectorRun(index=dc.index, detector=dc.detector.build(DETECTORS),
                        outputs=[o.build(OUTPUTS) for o in dc.outputs], time_filters=dc.time_filters,
                        label=f"{dc.index}: {dc.algorithm}", features=dc.features,
                        normalizer=dc.normalization.build(NORMALIZERS) if dc.normalization else None,
                        likelihood=dc.likelihood.build(SCORE_POST_PROCESSING) if dc.likelihood else None)
            for dc in config.detectors]
        topics = detector_topics_of(config) if mode.reads_kafka else []
        for run, topic in zip(self.runs, topics):
            run.topic = topic
        self.source, self.dead_letter = build_source(config, self.context, mode, self.run_id, topics)
        self.models_dir = Path(models_dir)
        self._opened = False

    def detector_context(self, index: int) -> DetectorContext:
        config = self.config

        def training_vectors(path: Path):
            detector = config.detectors[index]
            samples = read_training_samples(path, detector.input_vector_size)
            if detector.features is not None and not detector.features.is_identity:
                samples = FeatureBuilder(detector.features).transform(samples)[0]
            return samples.values

        detector = config.detectors[index]
        features = detector.features or FeatureSpec(detector.input_vector_size)
        return DetectorContext(name=f"{config.name}_{index}", models_dir=self.models_dir,
                               resolve_path=lambda name: resolve_data_path(name, config.source),
                               config_dir=config.source.parent,
                               training_vectors=training_vectors, feature_layout=features.describe())

    def open(self) -> None:
        """Start the detectors (training), then open the dead letters, the source and last the
        outputs: an input refused as a whole must not have truncated the last run's results."""
        self._opened = True
        for run in self.runs:
            run.context = self.detector_context(run.index)
            run.detector.start(run.context)
        self.dead_letter.open()
        self.source.open()
        for run in self.runs:
            for output in run.outputs:
                output.open(self.context)

    def engine(self, listeners: Sequence[Listener] = (), batch_size: int = 65536) -> Engine:
        return Engine(self.source, self.runs, self.dead_letter, listeners=listeners, batch_size=batch_size)

    def close(self) -> None:
        """Close every output, the dead letters and the source; the first error is re-raised."""
        if not self._opened:
            return
        self._opened = False
        first_error = None
        closers = [o.close for run in self.runs for o in run.outputs] + [self.dead_letter.close, self.source.close]
        for close in closers:
            try:
                close()
            except Exception as err:  # keep closing the others; report the first
                log.error("while closing: %s", err)
                first_error = first_error or err
        if first_error is not None:
            raise first_error

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()


class StopOnSignals:
    """SIGINT/SIGTERM set the engine's stop flag; a second SIGINT ends the process at once with
    exit status 130. Keep it installed until the run's summary is printed, so that a signal while
    outputs are being flushed and closed is handled too (not a KeyboardInterrupt traceback)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.received: int | None = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.received is not None and signum == signal.SIGINT:
            # the user insists: end now, without the flush that may be what is slow
            sys.stderr.write("interrupted again: exiting without flushing\n")
            sys.stderr.flush()
            os._exit(EXIT_SIGINT)
        self.received = signum
        self.engine.stop()

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def describe_error(err: BaseException) -> str:
    """One line for the user. Errors we expect explain themselves; running out of memory names
    its likely cause; anything else is a bug, whose traceback is logged at debug level only
    (``-v``), never shown as the error."""
    if isinstance(err, MemoryError):
        return ("not enough memory for this run: lower the sizes in the config (windows such as N, W "
                "or window, num_trees and tree_size, input_vector_size)")
    if isinstance(err, (SourceError, OSError, ValueError)):
        return str(err)
    log.debug("unexpected error", exc_info=err)
    return f"internal error {type(err).__name__}: {err} (run with -v for the details, and please report it)"


class RunEvaluation:
    """The evaluation of a headless run: the collector listening to the engine, the windows of
    ``--labels`` (None: the input's label column) and where ``--eval-out`` writes it."""

    def __init__(self, labels: Path | None = None, eval_out: Path | None = None):
        self.labels = labels
        self.eval_out = eval_out
        self.windows = None
        self.collector = EvaluationCollector(unlabelled=labels is not None)

    def prepare(self, config: RunConfig, mode: RunMode) -> None:
        """Find the input's windows (``LabelsError`` when the file has none for it)."""
        if self.labels is None:
            return
        if not mode.reads_file or config.file_name is None:
            raise LabelsError("--labels needs a file run (-f): windows are matched to the input file's name")
        self.windows = {"": WindowLabels.read(self.labels).for_input(config.file_name)}

    def evaluate(self, runs: Sequence[DetectorRun]) -> list[dict] | None:
        infos = [DetectorInfo(run.index, run.label, int(getattr(run.detector, "delay", 0))) for run in runs]
        return evaluate_run(self.collector, infos, self.windows)

    def source(self) -> str:
        return f"windows of {self.labels}" if self.labels is not None else "the input's label column"


def run_headless(config: RunConfig, log_dir: Path = DEFAULT_LOG_DIR, batch_size: int = 65536,
                 progress: bool | None = None, summary_json: Path | None = None, mode: RunMode | str = RunMode.FILE,
                 models_dir: Path = DEFAULT_MODELS_DIR, labels: Path | None = None,
                 eval_out: Path | None = None) -> int:
    """Run a config to the end of its input or to a signal; print the summary (with the evaluation
    when the input is labelled, or ``labels`` names a windows file); return the exit code."""
    error = None
    evaluation = RunEvaluation(labels, eval_out)
    try:
        evaluation.prepare(config, RunMode(mode))
        setup = RunSetup(config, log_dir, mode, models_dir)
    except (SourceError, LabelsError) as err:   # the input file cannot be read at all (an unknown type)
        print(f"error: {describe_error(err)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        setup.open()
    except Exception as err:  # anything that keeps the run from starting ends it with one line
        try:
            setup.close()
        except Exception as close_err:
            log.error("while closing: %s", close_err)
        print(f"error: {describe_error(err)}", file=sys.stderr)
        # a file that cannot be this input at all is refused like a bad config: nothing started
        return EXIT_USAGE if isinstance(err, InputRefused) else EXIT_ERROR
    engine = setup.engine(batch_size=batch_size)
    bar = ProgressLine(setup.source, enabled=progress)
    engine.listeners += [bar, evaluation.collector]
    signals = StopOnSignals(engine)
    with signals:
        try:
            engine.run()
        except Exception as err:  # the engine flushed what it wrote; report, do not crash
            error = describe_error(err)
        finally:
            bar.close()
            try:
                setup.close()
            except Exception as err:
                error = error or f"closing outputs: {describe_error(err)}"
        code = finish(engine, setup, signals, error, summary_json, evaluation)
    return code


def write_json(path: Path, document: dict) -> str | None:
    """Write ``document``; the problem in words when it cannot be written."""
    try:
        Path(path).write_text(json.dumps(document, indent=2) + "\n")
    except OSError as err:
        return f"cannot write {path}: {err}"
    return None


def finish(engine: Engine, setup: RunSetup, signals: StopOnSignals, error: str | None,
           summary_json: Path | None, evaluation: RunEvaluation | None = None) -> int:
    """Print (and write) the summary of an ended run; return its exit status."""
    if error:
        outcome, code = "failed", EXIT_ERROR
    elif signals.received is not None:
        outcome = "interrupted"
        code = EXIT_SIGTERM if signals.received == signal.SIGTERM else EXIT_SIGINT
    else:
        outcome, code = "finished", EXIT_OK
    summary = summary_dict(engine.stats, setup.runs, outcome, setup.dead_letter.describe(), error)
    evaluated = evaluation.evaluate(setup.runs) if evaluation is not None else None
    if evaluated is not None:
        summary["evaluation"] = evaluation_document(evaluated, evaluation.source())
    print(summary_text(summary), file=sys.stderr)
    writes = [(summary_json, summary)]
    if evaluation is not None and evaluation.eval_out is not None:
        writes.append((evaluation.eval_out, summary.get("evaluation") or evaluation_document([], evaluation.source())))
    for path, document in writes:
        problem = write_json(path, document) if path is not None else None
        if problem:
            error = error or problem
            code = code if code != EXIT_OK else EXIT_ERROR
    if error:
        print(f"error: {error}", file=sys.stderr)
    return code
