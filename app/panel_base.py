"""What an analysis panel (RG, correlations, network) provides to the main window.

The window creates each panel once, puts it in a QDockWidget named `dock_name`, and at display
rate calls `on_snapshot(snapshot)` on the GUI thread with the engine's newest core.engine.Snapshot
(only while the dock is visible). `on_snapshot` must return within a few ms: hand analysis to a
LatestOnlyWorker or TaskRunner (app/workers.py). `shutdown()` runs on close and must stop every
thread the panel started within about a second.
"""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


class AnalysisPanel(QWidget):
    dock_name = ""
    title = ""

    def on_snapshot(self, snapshot) -> None:
        """Receive the newest engine snapshot (GUI thread; keep it cheap)."""

    def set_status_callback(self, callback) -> None:
        """callback(message: str) shows a message in the main window's status bar."""
        self._status = callback

    def show_status(self, message: str) -> None:
        cb = getattr(self, "_status", None)
        if cb is not None:
            cb(message)

    def shutdown(self) -> None:
        """Stop background work (called when the window closes)."""
