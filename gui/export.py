"""File › Export: the anomaly table as CSV, every plot as a PNG file.

The dialogs ask where, write, and return the line the status bar shows (None when the operator
cancelled); a file that cannot be written raises ``OSError`` for the caller to show.
"""
from __future__ import annotations

import re
from pathlib import Path

from PyQt5.QtWidgets import QFileDialog, QWidget

from gui.anomaly_table import AnomalyTableModel
from gui.panel_area import PanelArea


def export_plots_png(area: PanelArea, directory: Path, name: str) -> list[Path]:
    """Draw what is queued, then save every view of every panel as
    ``<name>_<detector>_<algorithm>[_<stream>]_<view>[_<i>].png`` in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    area.render_now()
    written = []
    for panel in area.panels:
        algorithm = panel.label.split(": ", 1)[-1]
        stream = panel.stream.label if panel.stream is not None else ""
        if stream:
            algorithm += "_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", stream.replace(" · ", "_"))
        for i, view in enumerate(panel.views):
            kind = type(view).__name__.replace("View", "").lower()
            suffix = f"_{i}" if sum(type(v) is type(view) for v in panel.views) > 1 else ""
            path = directory / f"{name}_{panel.index}_{algorithm}_{kind}{suffix}.png"
            if not view.grab().save(str(path)):
                raise OSError(f"{path}: cannot write the PNG")
            written.append(path)
    return written


def csv_dialog(parent: QWidget, model: AnomalyTableModel, default: Path) -> str | None:
    """Ask for a CSV file (``default`` offered) and write the table to it."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export anomalies", str(default), "CSV (*.csv)")
    if not path:
        return None
    rows = model.export_csv(Path(path))
    note = " (the rows the table holds)" if model.capped else ""
    return f"Wrote {rows:,} anomalies to {path}{note}"


def png_dialog(parent: QWidget, area: PanelArea, start_dir: Path, name: str) -> str | None:
    """Ask for a folder (starting in ``start_dir``) and save every plot there."""
    directory = QFileDialog.getExistingDirectory(parent, "Export plots to folder", str(start_dir))
    if not directory:
        return None
    written = export_plots_png(area, Path(directory), name)
    return f"Wrote {len(written)} PNG files to {directory}"
