"""The detector contract.

A detector is a small class whose constructor arguments are its configuration parameters, each
annotated with its type and a ``pydantic.Field`` description (the config validator and the GUI
read them from the signature). ``update`` takes a batch of samples in stream order and, for each
sample, first scores it against what was learnt so far and then learns it (prequential order).
The result for a batch must not depend on how the stream was cut into batches.

Detectors that need files (training data, saved models) get them in ``start(context)``, called
once before the first ``update``; constructors do no I/O. Every model-based detector takes a
``random_state`` parameter (default fixed) so that runs are reproducible.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from pipeline.parameters import Configurable, ParameterError  # noqa: F401 (ParameterError: detectors raise it)
from pipeline.records import DetectorOutput, SampleBatch

#: The longest window (in samples) a detector parameter may ask for: 80 MB per float array. Larger
#: values are refused in the config rather than failing for want of memory at the first batch.
MAX_WINDOW = 10_000_000


@dataclass(frozen=True)
class DetectorContext:
    """What ``Detector.start`` may use.

    Attributes
    ----------
    name : str
        A name unique to this detector in this config (``"<config>_<index>"``), for model files.
    models_dir : Path
        Where models and their metadata are saved and looked up (created on demand).
    resolve_path : callable
        Turns a path written in the config (``train_data``, ``load_model_from``) into a Path,
        as ``file_name`` is resolved; returns None when no such file exists.
    training_vectors : callable
        ``training_vectors(path) -> float64[n, d]``: reads a training file (CSV ``timestamp,
        ftr_vector`` with list text, or plain numeric columns; JSON; JSON Lines) and builds the
        feature vectors exactly as streaming samples are built (feature construction included).
    feature_layout : str
        A description of how vectors are built (raw width and feature construction); saved with
        a model so that it refuses to load into a config that builds vectors differently.
    stream_key : str
        "" for the first stream key of a run; for another Kafka topic or message key, a text that
        tells it apart (its models get their own files: ``name`` carries it too).
    config_dir : Path or None
        The folder of the config file: a relative ``load_model_from`` path is looked up there and
        in the project folder (never in the current directory). None: the project folder only.
    """

    name: str
    models_dir: Path
    resolve_path: Callable[[str], Path | None]
    training_vectors: Callable[[Path], Any]
    feature_layout: str = ""
    stream_key: str = ""
    config_dir: Path | None = None


class Detector(Configurable, ABC):
    """Base class of every detector.

    Class attributes
    ----------------
    name : str
        The ``algorithm`` field of output records (the original project's name, e.g.
        ``"border_check"``).
    line_names : tuple of str
        The plot lines ``update`` returns besides the value (``"EMA"``, ``"UL"``, ...).
    own_scale_lines : tuple of str
        The lines of ``line_names`` that are not in the units of the sample values (a codisp,
        a distance in feature space, a slope per sample, a dimensionless sum): drawn against
        the values' axis they would squash the value curve, so a plot gives them an axis of
        their own. Lines in value units (averages, fits, limits of the value) are not listed.

    Instance attribute ``delay`` (default 0): the result at sample t judges sample ``t - delay``
    (Hampel needs W later samples to judge one); evaluation aligns scores by it.
    """

    name: ClassVar[str]
    delay: int = 0
    line_names: ClassVar[tuple[str, ...]] = ()
    own_scale_lines: ClassVar[tuple[str, ...]] = ()

    status_texts: tuple[str, ...]
    status_codes: np.ndarray

    def start(self, context: DetectorContext) -> None:
        """Load or train what the detector needs before the first ``update`` (files live here)."""

    @abstractmethod
    def update(self, samples: SampleBatch) -> DetectorOutput:
        """Score each sample, then learn it; return one entry per sample, in order."""
