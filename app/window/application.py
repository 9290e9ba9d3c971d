"""QApplication start-up for the desktop app and its headless screenshot mode."""
from __future__ import annotations

import json
import sys

from isinglab.app import qt  # noqa: F401  (binding choice before pyqtgraph/vispy load)
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from isinglab.core.errors import IsingLabError


def make_app(fallback_offscreen: bool = False) -> QApplication:
    """The QApplication (created once); IsingLabError when Qt could not open a window here
    (checked first, since Qt itself would abort the process: see qt.check_display)."""
    app = QApplication.instance()
    if app is None:
        qt.check_display(fallback_offscreen)
        app = QApplication(sys.argv[:1])
    app.setOrganizationName("isinglab")
    app.setApplicationName("isinglab")
    return app


def run_app(params, run_seconds=None, screenshot=None, no_gl=False, sweeps_per_frame=None,
            as_json: bool = False) -> int:
    app = make_app()
    from isinglab.app.window.main_window import MainWindow
    win = MainWindow(params, no_gl=no_gl, sweeps_per_frame=sweeps_per_frame)
    win.resize(1280, 800)
    win.show()
    outcome = {"code": 0}
    if run_seconds is not None:
        win.actions_["run"].setChecked(True)
        QTimer.singleShot(int(run_seconds * 1000), lambda: _finish(win, screenshot, outcome, as_json))
    app.exec()
    return outcome["code"]


def _finish(win, screenshot, outcome, as_json) -> None:
    if screenshot:
        try:
            screenshot = win.save_screenshot(screenshot)
        except (OSError, IsingLabError) as exc:
            print(f"isinglab: error: could not save screenshot: {exc}", file=sys.stderr)
            outcome["code"] = 2
        else:
            snap = win.engine.latest()
            info = {"screenshot": screenshot, "sweeps": snap.sweeps, "temperature": snap.params.temperature}
            print(json.dumps(info) if as_json else f"saved {screenshot} after {snap.sweeps} sweeps")
    win.close()
