"""Entry point of the window: ``python main.py`` and ``python main.py --gui -c NAME [-f | -fk]``."""
from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication

from gui.anomaly_table import busiest_row
from gui.main_window import APPLICATION, ORGANIZATION, MainWindow
from pipeline.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from pipeline.live.run_state import RunState
from pipeline.paths import DEFAULT_LOG_DIR, DEFAULT_MODELS_DIR
from pipeline.run_modes import RunMode

log = logging.getLogger(__name__)

SCREENSHOT_SIZE = (1500, 950)


def application() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "monitor"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    return app


def run_gui(config: str | Path | None = None, mode: RunMode | str | None = None,
            log_dir: Path | None = None, screenshot: Path | None = None, speed: str = "max",
            models_dir: Path | None = None, file_mode: bool = False) -> int:
    """Open the window, optionally with ``config`` loaded and started.

    ``mode`` is the run's source as in ``RunSetup``: "file" (``-f``), "kafka" (no flag, the
    default with a config) or "filekafka" (``-fk``); ``file_mode=True`` is the older spelling of
    ``mode="file"``. When the config has no such source, the window says why and waits.

    With ``screenshot`` the file run goes to its end, the anomaly with the most others around it
    is selected (so the plots show markers), the whole window is saved as a PNG, and the exit
    status says whether both worked (0) or not (1; 2 for an unusable config).
    """
    app = application()
    window, code = open_window(config, mode, log_dir, screenshot is not None, speed, models_dir,
                               file_mode=file_mode)
    if code is not None:
        window.close()
        return code
    previous_handler = stop_on_sigint(window)
    if screenshot is not None:
        def save_and_exit(outcome: str) -> None:
            code = EXIT_ERROR
            try:
                code = save_screenshot(window, Path(screenshot), outcome)
            finally:  # never leave the event loop running when saving failed
                app.exit(code)

        # One more turn of the event loop so that layouts and the last frame are painted.
        window.run_finished.connect(lambda outcome: QTimer.singleShot(50, lambda: save_and_exit(outcome)))
    try:
        code = app.exec_()
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    window.close()
    return code


def stop_on_sigint(window: MainWindow):
    """Ctrl+C in the terminal closes the window like its close button (the run stops, outputs
    are flushed); a second one ends the process at once. Returns the previous handler."""
    def handle(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        window.close()
    previous = signal.signal(signal.SIGINT, handle)
    # Python runs signal handlers only between bytecodes; wake it up regularly.
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return previous


def open_window(config: str | Path | None, mode: RunMode | str | None = None, log_dir: Path | None = None,
                for_screenshot: bool = False, speed: str = "max", models_dir: Path | None = None,
                file_mode: bool = False) -> tuple[MainWindow, int | None]:
    """The shown window with ``config`` loaded and started from ``mode`` (see ``run_gui``); the
    exit code when a screenshot run cannot go on (None otherwise)."""
    mode = RunMode(mode) if mode else RunMode.from_flags(file=file_mode, filekafka=False)
    window = MainWindow(log_dir=log_dir or DEFAULT_LOG_DIR, speed=speed,
                        models_dir=models_dir or DEFAULT_MODELS_DIR)
    if for_screenshot:
        window.resize(*SCREENSHOT_SIZE)
    window.show()
    if config is None:
        return window, None
    if not window.load_config(config):
        print(f"error: {window.last_error}", file=sys.stderr)
        return window, EXIT_USAGE if for_screenshot else None
    if not window.set_mode(mode):
        window.explain_unavailable_mode(mode)
        return window, EXIT_USAGE if for_screenshot else None
    if not window.start():
        print(f"error: {window.last_error}", file=sys.stderr)
        return window, EXIT_ERROR if for_screenshot else None
    return window, None


def save_screenshot(window: MainWindow, path: Path, outcome: str) -> int:
    """Save the window, centred on the anomaly with the most others within the plots' current
    width (so that markers are in view)."""
    shown = window.panel_area.x_range()
    row = busiest_row(window.model, (shown[1] - shown[0]) / 2) if shown is not None else None
    if row is not None:
        window.anomalies.select_row(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        print(f"error: cannot write the screenshot {path}", file=sys.stderr)
        return EXIT_ERROR
    if outcome != RunState.FINISHED:
        ended = f"failed: {window.last_error}" if window.last_error else f"ended {outcome}"
        print(f"error: the run {ended}", file=sys.stderr)
        return EXIT_ERROR
    log.info("screenshot saved to %s", path)
    return EXIT_OK
