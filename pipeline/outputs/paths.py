"""Where file outputs write, and the configurations that would make them destroy data.

A relative output name is placed under the run's log folder and may not leave it with ``..``
(absolute names go where they say: that is how a user picks another folder). Before a run opens
anything, ``output_path_problems`` finds outputs that would write over the input file or the dead
letters, or two outputs writing one file (they would overwrite each other's records, or leave a
JSON document no reader accepts). Files are compared as the system sees them: after following
symlinks, and by inode when the file exists, so ``x.csv``, ``./x.csv``, a symlink to it and a
hard link are one file.
"""
from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from pipeline.config_values import show
from pipeline.dead_letter import dead_letter_path

if TYPE_CHECKING:  # annotations only: the config layer builds outputs, not the other way round
    from pipeline.config import RunConfig


def escapes_log_dir(file_name: str) -> bool:
    """True for a relative name that leaves its folder: ``../x.csv``, ``a/../../x.csv``."""
    if PurePath(file_name).is_absolute():
        return False
    return os.path.normpath(file_name).split(os.sep)[0] == os.pardir


def output_file(file_name: str, log_dir: Path) -> Path:
    """The file an output's ``file_name`` names: absolute as given, relative under ``log_dir``."""
    path = Path(file_name)
    return path if path.is_absolute() else Path(log_dir) / path


def file_identity(path: Path) -> tuple:
    """What makes two paths one file: the inode when it exists, else the resolved path."""
    try:
        st = os.stat(path)
    except OSError:
        return ("path", Path(path).resolve())
    return ("inode", st.st_dev, st.st_ino)


def output_path_problems(config: RunConfig, log_dir: Path) -> list[str]:
    """Every output file of ``config`` that leaves the log folder with ``..``, is the input file,
    is the dead-letter file or is written by an earlier output too; one line per problem, naming
    the key path (``anomaly_detection_conf[1].output_conf[0].file_name``). Reads nothing but the
    file system's metadata."""
    problems = []
    taken: dict[tuple, str] = {}  # file -> what it already is, and what to do about it
    if config.file_name is not None:
        taken[file_identity(config.file_name)] = (
            "the input file (file_name); writing it would destroy the data the run reads")
    dead_letters = dead_letter_path(log_dir, config.name)
    taken.setdefault(file_identity(dead_letters),
                     "the run's dead-letter file; the two would overwrite each other, give the output another name")
    for detector in config.detectors:
        for output in detector.outputs:
            file_name = output.params.get("file_name")
            if not isinstance(file_name, str):
                continue
            key = f"{output.path}.file_name"
            if escapes_log_dir(file_name):
                problems.append(f"{key}: {show(file_name)} leaves the log folder {log_dir} with \"..\"; "
                                "give an absolute path to write elsewhere")
                continue
            path = output_file(file_name, log_dir)
            identity = file_identity(path)
            if identity in taken:
                where = "" if str(path) == file_name else f" ({path})"
                problems.append(f"{key}: {show(file_name)}{where} is also {taken[identity]}")
            else:
                taken[identity] = f"written by {output.path}; give each output its own file"
    return problems
