"""What an analysis panel (RG, correlations, network) provides to the main window.

The window creates each panel once, puts it in a QDockWidget named `panel_id`, and at display
rate calls `on_snapshot(snapshot)` on the GUI thread with the engine's newest core.engine.Snapshot
(only while the dock is visible). `on_snapshot` must return within a few ms: hand analysis to a
LatestOnlyWorker or TaskRunner (app/panels/workers.py). `shutdown()` runs on close and must stop every
thread the panel started within about a second. Export, data export and replay reach the panel
only through the contract in app/panels/contract.py (state, restore, data_sets).
"""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from isinglab.app.panels.contract import DataSet, input_values, restore_inputs


class AnalysisPanel(QWidget):
    panel_id = ""
    title = ""

    dock_name = ""  # the dock's objectName: the panel id (kept under its old name too)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.dock_name = cls.panel_id

    def on_snapshot(self, snapshot) -> None:
        """Receive the newest engine snapshot (GUI thread; keep it cheap)."""

    def follow_model(self, params) -> None:
        """The engine now runs `params` (a ModelParams; on every change, also while the dock is
        hidden): drop what belongs to another model (L, J, h). GUI thread; keep it cheap."""

    # ---- the panel contract (app/panels/contract.py) ----
    def state(self) -> dict:
        """JSON-safe inputs and what the panel shows; subclasses add theirs and "model"."""
        return {"inputs": input_values(self), "model": None}

    def restore(self, state: dict) -> list[str]:
        """Set the inputs from a state(); returns the names that could not be set."""
        return restore_inputs(self, state.get("inputs") or {})

    def data_sets(self) -> list[DataSet]:
        return []

    def set_status_callback(self, callback) -> None:
        """callback(message: str) shows a message in the main window's status bar."""
        self._status = callback

    def show_status(self, message: str) -> None:
        cb = getattr(self, "_status", None)
        if cb is not None:
            cb(message)

    def shutdown(self) -> None:
        """Stop background work (called when the window closes)."""
