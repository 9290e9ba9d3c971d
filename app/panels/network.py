"""Network panel: a network learns the Ising Hamiltonian, shown beside the exact one.

Tabs, one class each:
- Classifier (network_classifier.py, plots in network_classifier_plots.py, the drawn network in
  network_viewer.py): sample configurations at a few temperatures, train a tiny CNN to tell them
  apart, compare its logits with Bayes and distil its coefficients onto the local operator basis.
- Hamiltonian (network_hamiltonian.py): pseudo-likelihood couplings at one temperature.
- Gate (network_gate.py): the paper's four-neuron multiplication x*y and its error against lambda.

This module is the container: it builds the tabs, owns what they share (the torch device line,
the one-line message, the last simulation snapshot) and shuts their workers down together. The
tabs talk to it only through signals: `error(str)` shows a problem in the panel and the status
bar, `cleared()` empties the message when a new job starts, `notice(str)` goes to the status bar,
and the Hamiltonian tab's `simulation_requested()` asks for the snapshot's parameters. Every
widget, result and action of the tabs stays reachable as an attribute of the panel (see
FORWARDED), as it was before the split, for the main window, export and tests.

Every computation (sampling, training, fitting, even importing torch) runs on a TaskRunner
thread with progress and cancel; the GUI thread only draws. Bad input ends in a one-line
message in the panel and the status bar.

torch is ready when asked: the panel starts core/torch_loader's background import once the
window's first lattice frame is shown (or once the panel itself is shown, outside a main window;
or after TORCH_FALLBACK_S without a frame), whether or not the Network tab is ever opened. The
device line says "torch: loading…" meanwhile and the device (e.g. "torch 2.x on CPU") as soon as
the import has ended, whoever started it; Train pressed earlier waits for it (network_classifier).
"""
from __future__ import annotations

from operator import attrgetter

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QTabWidget, QVBoxLayout

from isinglab.core import torch_loader

from isinglab.app.panels.base import AnalysisPanel
from isinglab.app.panels.contract import DataSet
from isinglab.app.panels.network_classifier import ClassifierTab, TorchWatch
from isinglab.app.panels.network_gate import GateTab
from isinglab.app.panels.network_hamiltonian import HamiltonianTab
from isinglab.app.panels.network_widgets import task_runner

# Attributes that live on a tab (path from the panel) but are read, set or called on the panel.
FORWARDED = {
    "classifier_tab": (
        "dataset", "trained", "analysis", "distilled", "history",
        "data_runner", "train_runner", "distill_runner",
        "size_spin", "temps_edit", "samples_spin", "seed_spin", "generate_button",
        "channels_spin", "kernel_combo", "activation_combo", "epochs_spin", "train_button",
        "data_progress", "train_progress", "dataset_label", "result_label", "result_tabs", "viewer",
        "generate_dataset", "set_dataset", "save_dataset", "load_dataset", "train_config", "train",
        "request_distill"),
    "classifier_tab.result_tabs": (
        "loss_plot", "acc_plot", "loss_curves", "acc_curves", "scatter_plot", "slope_plot", "intercept_plot",
        "distill_class", "distill_range", "distill_plot"),
    "hamiltonian_tab": (
        "pl_fit", "full_fit", "pl_runner",
        "pl_size", "pl_temperature", "pl_samples", "pl_range", "pl_seed", "pl_full", "pl_button",
        "pl_progress", "pl_label", "kernel_plot", "kernel_image", "kernel_tips", "bars_plot", "full_plot",
        "full_image", "fit_couplings"),
    "gate_tab": (
        "gate_combo", "gate_slider", "gate_label", "gate_error_plot", "gate_error_curve", "gate_guide",
        "gate_marker", "gate_product_plot", "gate_exact", "gate_approx", "gate_error_now",
        "gate_lambda", "set_gate"),
}


LOAD_TORCH_AT_START = True  # False: torch loads only when the panel is seen or Train is pressed
TORCH_CHECK_MS = 50  # how often the panel looks for the window's first frame
TORCH_FALLBACK_S = 10.0  # the window shown this long without a lattice frame: load torch anyway


def _device_job(task):
    """Worker thread, once the loader thread has imported torch: the device line's text."""
    torch_loader.load()
    from isinglab.core.learning.classifier import device_label
    return device_label()


def _forward(path: str, name: str) -> property:
    """A panel attribute that is `name` on the tab at `path`: code written against the single-class
    panel (panel.train(), panel.dataset = None) keeps working unchanged."""
    tab = attrgetter(path)
    return property(lambda self: getattr(tab(self), name),
                    lambda self, value: setattr(tab(self), name, value),
                    doc=f"Forwarded to self.{path}.{name}.")


class NetworkPanel(AnalysisPanel):
    """The container of the Classifier, Hamiltonian and Gate tabs (attributes: see FORWARDED)."""

    panel_id = "networkDock"
    title = "Network"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("networkPanel")
        self.device_text = ""
        self._sim_params = None
        self._build()
        self._connect_tabs()
        self.device_runner = task_runner(self, self._device_ready, self._device_failed)
        self._shown_since = None  # when the window was first seen shown (TORCH_FALLBACK_S)
        self._torch_timer = QTimer(self, interval=TORCH_CHECK_MS)
        self._torch_timer.setObjectName("networkTorchTimer")
        self._torch_timer.timeout.connect(self._check_torch_start)
        self.torch_watch = TorchWatch(self)
        self.torch_watch.ended.connect(self._torch_ended)
        self.torch_watch.arm()  # at once if torch is loaded already
        if not torch_loader.done():
            self._torch_timer.start()

    # ------------------------------------------------------------------ torch

    def showEvent(self, event):
        super().showEvent(event)
        if not torch_loader.started():  # seen: load it now (tabbed docks flash shown at start-up)
            QTimer.singleShot(0, self._start_torch_if_seen)

    def _start_torch_if_seen(self) -> None:
        if self.isVisible() and not self.visibleRegion().isEmpty():
            torch_loader.start()
            self._check_torch_start()

    def _host_window(self):
        """The main window this panel lives in (the one with the lattice view), else None."""
        w = self.parentWidget()
        while w is not None and getattr(w, "lattice", None) is None:
            w = w.parentWidget()
        return w

    def _check_torch_start(self) -> None:
        """Timer: start the background import once the window has shown its first frame."""
        if not torch_loader.started() and LOAD_TORCH_AT_START and self._first_frame_shown():
            torch_loader.start(background=True)
        if torch_loader.started():
            self._torch_timer.stop()
            if not torch_loader.done():
                self.device_label.setText("torch: loading…")

    def _first_frame_shown(self) -> bool:
        host = self._host_window()
        if host is None:  # outside a main window: once the panel is shown
            return self.isVisible()
        if not host.isVisible():
            return False
        if self._shown_since is None:
            self._shown_since = time.monotonic()
        return host.lattice.frames_drawn > 0 or time.monotonic() - self._shown_since > TORCH_FALLBACK_S

    def _torch_ended(self) -> None:
        """The import has ended (whoever started it): show the device, or why there is none."""
        self._torch_timer.stop()
        message = torch_loader.failure()
        if message is not None:
            self._device_failed(message)
        elif not self.device_runner.running and not self.device_text:
            self.device_runner.start(_device_job)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        self.device_label = QLabel("torch: not loaded yet", self, objectName="networkDeviceLabel")
        self.status_label = QLabel("", self, objectName="networkStatusLabel")
        self.status_label.setWordWrap(True)
        top.addWidget(self.device_label)
        top.addWidget(self.status_label, 1)
        layout.addLayout(top)
        self.tabs = QTabWidget(self, objectName="networkTabs")
        self.classifier_tab = ClassifierTab(self)
        self.hamiltonian_tab = HamiltonianTab(self)
        self.gate_tab = GateTab(self)
        self.tabs.addTab(self.classifier_tab, "Classifier")
        self.tabs.addTab(self.hamiltonian_tab, "Hamiltonian")
        self.tabs.addTab(self.gate_tab, "Gate")
        scroll = QScrollArea(self)  # the dock may be narrower than the control rows
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.tabs)
        layout.addWidget(scroll, 1)

    def _connect_tabs(self) -> None:
        """The tabs' messages end here: one message line and one status bar for the whole panel."""
        for tab in (self.classifier_tab, self.hamiltonian_tab):
            tab.error.connect(self._error)
            tab.cleared.connect(self._clear_message)
        self.classifier_tab.notice.connect(self.show_status)
        self.hamiltonian_tab.simulation_requested.connect(self.use_simulation_parameters)

    # ------------------------------------------------------------------ snapshots, messages

    def on_snapshot(self, snapshot) -> None:
        self._sim_params = snapshot.params  # only remembered: "From simulation" uses it

    def follow_model(self, params) -> None:
        self._sim_params = params  # "From simulation" takes the engine's model, shown or not

    def use_simulation_parameters(self) -> None:
        """Copy the simulation's T (in units of J) and L into the fit and the dataset controls."""
        p = self._sim_params
        if p is None:
            self._error("no simulation snapshot yet: start the simulation first")
            return
        self.hamiltonian_tab.use_parameters(p.temperature / (abs(p.coupling) or 1.0), p.size)
        size_spin = self.classifier_tab.size_spin
        size_spin.setValue(min(p.size, size_spin.maximum()))

    def _error(self, message: str) -> None:
        self.status_label.setText(message)
        self.show_status(f"Network: {message}")

    def _clear_message(self) -> None:
        self.status_label.setText("")

    def _device_ready(self, text: str) -> None:
        self.device_text = text
        self.device_label.setText(text)

    def _device_failed(self, message: str) -> None:
        self.device_label.setText("torch unavailable")
        self._error(f"torch could not start: {message}")

    # ------------------------------------------------------------------ the panel contract

    def _results(self) -> dict:
        return {key: obj.to_json() for key in ("distilled", "pl_fit")
                if (obj := getattr(self, key, None)) is not None}

    def learned_model(self) -> dict | None:
        """The model the shown coefficients were learned on: the pseudo-likelihood fit's (size,
        T, J = 1, h = 0), else the classifier dataset's (size, J, h, number of temperatures)."""
        fit, data = self.pl_fit, self.dataset
        if fit is not None:
            return {"size": int(fit.size), "temperature": float(fit.temperature), "coupling": 1.0, "field": 0.0}
        if self.distilled is not None and data is not None:
            return {"size": int(data.spins.shape[1]), "coupling": float(data.coupling), "field": float(data.field),
                    "classes": len(data.temperatures)}
        return None

    def state(self) -> dict:
        return {**super().state(), **self._results(), "model": self.learned_model()}

    def data_sets(self) -> list[DataSet]:
        results = self._results()
        if not results:
            return []
        return [DataSet("network", "learned coefficients", self.learned_model(), document=results,
                        formats=("json",))]

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        self._torch_timer.stop()
        self.classifier_tab.stop_redraw()
        runners = (*self.classifier_tab.runners(), *self.hamiltonian_tab.runners(), self.device_runner)
        for r in runners:  # all told first, so that they stop at once, not in turn
            r.cancel()
        for r in runners:
            r.cancel(wait=True, timeout=1.0)


for _path, _names in FORWARDED.items():
    for _name in _names:
        setattr(NetworkPanel, _name, _forward(_path, _name))
del _path, _names, _name


__all__ = ["NetworkPanel"]
