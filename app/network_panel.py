"""Network panel: a network learns the Ising Hamiltonian, shown beside the exact one.

Tabs:
- Classifier: sample configurations at a few temperatures (a dataset, saveable as NPZ), train a
  tiny CNN to tell them apart (live loss/accuracy curves and the network drawn as it learns),
  then compare its held-out logit differences with Bayes: scatter against -(1/T_y - 1/T_ref) E(x)
  with the exact lines and R^2, learned vs exact slopes and intercepts (Kaufman ln Z), and the
  coefficients distilled from the network onto the local operator basis.
- Hamiltonian: pseudo-likelihood couplings at one temperature: the pair kernel J(dx, dy), all
  coefficients as log-scale bars grouped by order, and for small L the full J_ij matrix.
- Gate: the paper's four-neuron multiplication x*y and its error against the scale lambda.

Every computation (sampling, training, fitting, even importing torch) runs on a TaskRunner
thread with progress and cancel; the GUI thread only draws, at most 10 times a second while a
network trains. Bad input ends in a one-line message in the panel and the status bar.
"""
from __future__ import annotations

import math

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QSlider, QSpinBox, QSplitter,
                               QScrollArea, QTabWidget, QVBoxLayout, QWidget)

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import datasets, gate as gate_mod, operators, pseudolikelihood as pl
from isinglab.core.learning.progress import SubTask
from isinglab.core import torch_loader

from .network_viewer import NetworkViewer, diverging_lut
from .panel_base import AnalysisPanel
from .workers import TaskRunner

REDRAW_INTERVAL_MS = 100  # live curves and the network redraw at <= 10 Hz
DEFAULT_TEMPERATURES = "1.8, 2.1, 2.4, 2.7"
CLASS_COLOURS = ["#E8601C", "#2CA58D", "#C05CA8", "#4A9BDB", "#D8B31C", "#8C6BB1", "#E34A6F", "#7FB800"]
ORDER_COLOURS = {1: "#9A9A9A", 2: "#E8601C", 3: "#2CA58D", 4: "#C05CA8"}
LOG_FLOOR = -5  # log-scale bars start at 1e-5
GATE_LAMBDAS = np.logspace(-4, 0, 61)
GATE_Y = 0.8  # the fixed second factor in the gate's x*y plot
MAX_SCATTER_POINTS = 4000


def _spin(lo, hi, value, name, step=1, parent=None) -> QSpinBox:
    w = QSpinBox(parent, objectName=name)
    w.setRange(lo, hi)
    w.setSingleStep(step)
    w.setValue(value)
    return w


def _button(text, name, slot, parent=None) -> QPushButton:
    b = QPushButton(text, parent, objectName=name)
    b.clicked.connect(slot)
    return b


def _labelled(row: QHBoxLayout, text: str, widget: QWidget) -> QWidget:
    row.addWidget(QLabel(text))
    row.addWidget(widget)
    return widget


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    w = pg.PlotWidget(title=title)
    w.setLabel("bottom", x_label)
    w.setLabel("left", y_label)
    for side in ("left", "bottom"):
        w.getAxis(side).enableAutoSIPrefix(False)  # "fraction correct (x0.001)" reads wrong
    w.addLegend(offset=(-10, 10))
    return w


def short_name(op) -> str:
    """A tick label that fits under a bar: 'h', '1,0' for pair(1,0), 'plaq', and for a 3-spin
    corner of the plaquette '3s-11': the plaquette without its corner (1, 1)."""
    if op.order == 2:
        return "{},{}".format(*op.offsets[1])
    if op.order == 3:
        (dx, dy), = set(operators.PLAQUETTE) - set(op.offsets)
        return f"3s-{dx}{dy}"
    return {"h": "h", "plaquette": "plaq"}.get(op.name, op.name)


class _Bridge(QObject):
    """Carries per-epoch training info from the worker thread to the GUI thread (queued)."""

    epoch = Signal(object)


# ----------------------------------------------------------------------------- jobs (worker threads)

def _device_job(task):
    torch_loader.load()  # the one thread that imports torch; this job waits for it
    from isinglab.core.learning.classifier import device_label
    return device_label()


def _generate_job(size, temperatures, samples, seed, task):
    return datasets.generate(size, temperatures, samples, seed=seed, task=task)


def _train_job(dataset, config, range_, on_epoch, task):
    torch_loader.load()
    from isinglab.core.learning.classifier import analyse, train_classifier
    from isinglab.core.learning.distill import distill
    trained = train_classifier(dataset, config, task=task, on_epoch=on_epoch)
    analysis = analyse(trained)
    try:
        distilled, note = distill(trained, range_=range_), ""
    except IsingLabError as exc:
        distilled, note = None, str(exc)
    return trained, analysis, distilled, note


def _distill_job(trained, range_, task):
    torch_loader.load()
    from isinglab.core.learning.distill import distill
    return distill(trained, range_=range_)


def _couplings_job(size, temperature, samples, range_, seed, full, task):
    split = 0.8 if full else 1.0
    fit, data = pl.learn_couplings(size, temperature, samples, range_, seed=seed, task=SubTask(task, 0.0, split))
    full_fit = pl.fit_full_couplings(data.spins, temperature, task=SubTask(task, split, 1.0)) if full else None
    return fit, full_fit


# ----------------------------------------------------------------------------- the panel

class NetworkPanel(AnalysisPanel):
    dock_name = "networkDock"
    title = "Network"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("networkPanel")
        self.dataset: datasets.IsingDataset | None = None
        self.trained = None
        self.analysis = None
        self.distilled = None
        self.pl_fit = None
        self.full_fit = None
        self.device_text = ""
        self.history: list = []
        self._dirty = False
        self._sim_params = None
        self._build()
        self._bridge = _Bridge(self)
        self._bridge.epoch.connect(self._on_epoch)
        self.device_runner = self._runner(self._device_ready, self._device_failed)
        self.data_runner = self._runner(self._dataset_ready, self._error, self.data_progress, self._data_stopped)
        self.train_runner = self._runner(self._training_done, self._training_failed, self.train_progress,
                                         self._training_cancelled)
        self.distill_runner = self._runner(self._distilled_ready, self._error)
        self.pl_runner = self._runner(self._couplings_ready, self._couplings_failed, self.pl_progress,
                                      self._couplings_cancelled)
        self._timer = QTimer(self, interval=REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._redraw_live)
        self._timer.start()
        self._device_started = False
        self.set_gate(0.1, "softplus")

    def showEvent(self, event):
        super().showEvent(event)
        if not self._device_started:  # import torch (seconds of CPU) only once someone looks:
            QTimer.singleShot(0, self._start_device_if_seen)  # tabbed docks flash shown at start-up

    def _start_device_if_seen(self) -> None:
        if not self._device_started and self.isVisible() and not self.visibleRegion().isEmpty():
            self._device_started = True
            self.device_runner.start(_device_job)

    def _runner(self, finished, failed, bar: QProgressBar | None = None, cancelled=None) -> TaskRunner:
        r = TaskRunner(self)
        r.finished.connect(finished)
        r.failed.connect(failed)
        if bar is not None:
            r.progress.connect(lambda f, t, bar=bar: (bar.setValue(int(f * 1000)), bar.setFormat(f"{t} %p%")))
        if cancelled is not None:
            r.cancelled.connect(cancelled)
        return r

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        self.device_label = QLabel("torch: starting…", self, objectName="networkDeviceLabel")
        self.status_label = QLabel("", self, objectName="networkStatusLabel")
        self.status_label.setWordWrap(True)
        top.addWidget(self.device_label)
        top.addWidget(self.status_label, 1)
        layout.addLayout(top)
        self.tabs = QTabWidget(self, objectName="networkTabs")
        self.tabs.addTab(self._build_classifier(), "Classifier")
        self.tabs.addTab(self._build_hamiltonian(), "Hamiltonian")
        self.tabs.addTab(self._build_gate(), "Gate")
        scroll = QScrollArea(self)  # the dock may be narrower than the control rows
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.tabs)
        layout.addWidget(scroll, 1)

    def _build_classifier(self) -> QWidget:
        page = QWidget(self)
        v = QVBoxLayout(page)
        row = QHBoxLayout()
        self.size_spin = _labelled(row, "L", _spin(4, 64, 16, "datasetSize", 2))
        self.temps_edit = _labelled(row, "T classes", QLineEdit(DEFAULT_TEMPERATURES, objectName="datasetTemperatures"))
        self.samples_spin = _labelled(row, "samples/class", _spin(1, datasets.MAX_SAMPLES, 4000, "datasetSamples", 500))
        self.seed_spin = _labelled(row, "seed", _spin(0, 2**31 - 1, 0, "learningSeed"))
        self.generate_button = _button("Generate", "generateButton", self._toggle_generate)
        row.addWidget(self.generate_button)
        row.addWidget(_button("Load…", "loadDatasetButton", lambda: self.load_dataset()))
        row.addWidget(_button("Save…", "saveDatasetButton", lambda: self.save_dataset()))
        v.addLayout(row)
        row = QHBoxLayout()
        self.channels_spin = _labelled(row, "channels", _spin(1, 64, 4, "channelsSpin"))
        self.kernel_combo = _labelled(row, "kernel", QComboBox(objectName="kernelCombo"))
        self.kernel_combo.addItems(["2", "3"])
        self.activation_combo = _labelled(row, "activation", QComboBox(objectName="activationCombo"))
        self.activation_combo.addItems(["square", "softplus", "tanh"])
        self.epochs_spin = _labelled(row, "epochs", _spin(1, 10000, 200, "epochsSpin"))
        self.train_button = _button("Train", "trainButton", self._toggle_train)
        row.addWidget(self.train_button)
        row.addStretch(1)
        v.addLayout(row)
        bars = QHBoxLayout()
        self.data_progress = QProgressBar(objectName="datasetProgress", maximum=1000)
        self.train_progress = QProgressBar(objectName="trainProgress", maximum=1000)
        bars.addWidget(self.data_progress)
        bars.addWidget(self.train_progress)
        v.addLayout(bars)
        self.dataset_label = QLabel("No dataset yet.", objectName="datasetLabel")
        self.result_label = QLabel("", objectName="trainResultLabel")
        self.result_label.setWordWrap(True)
        v.addWidget(self.dataset_label)
        v.addWidget(self.result_label)
        split = QSplitter(Qt.Horizontal, page)
        self.result_tabs = QTabWidget(objectName="resultTabs")
        self.result_tabs.addTab(self._build_curves(), "Training")
        self.result_tabs.addTab(self._build_scatter(), "Logits vs energy")
        self.result_tabs.addTab(self._build_slopes(), "Slopes")
        self.result_tabs.addTab(self._build_distilled(), "Distilled")
        split.addWidget(self.result_tabs)
        self.viewer = NetworkViewer()
        split.addWidget(self.viewer)
        split.setSizes([600, 400])
        v.addWidget(split, 1)
        return page

    def _build_curves(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.loss_plot = _plot("cross-entropy", "epoch", "loss")
        self.acc_plot = _plot("accuracy", "epoch", "fraction correct")
        self.loss_curves = {k: self.loss_plot.plot(pen=pg.mkPen(c, width=2), name=n)
                            for k, c, n in (("loss", "#E8601C", "train"), ("held_out_loss", "#4A9BDB", "held-out"))}
        self.acc_curves = {k: self.acc_plot.plot(pen=pg.mkPen(c, width=2), name=n)
                           for k, c, n in (("accuracy", "#E8601C", "train"),
                                           ("held_out_accuracy", "#4A9BDB", "held-out"))}
        v.addWidget(self.loss_plot)
        v.addWidget(self.acc_plot)
        return w

    def _build_scatter(self) -> QWidget:
        self.scatter_plot = _plot("held-out logit differences", "exact -(1/T_y - 1/T_ref) E(x)",
                                  "learned logit_y - logit_ref")
        return self.scatter_plot

    def _build_slopes(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.slope_plot = _plot("slope of logit_y - logit_ref against E", "T_y", "slope [1/J]")
        self.intercept_plot = _plot("intercept: -(ln Z(T_y) - ln Z(T_ref))", "T_y", "intercept")
        v.addWidget(self.slope_plot)
        v.addWidget(self.intercept_plot)
        return w

    def _build_distilled(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        row = QHBoxLayout()
        self.distill_class = _labelled(row, "class", QComboBox(objectName="distillClassCombo"))
        self.distill_class.currentIndexChanged.connect(lambda _i: self._draw_distilled())
        self.distill_range = _labelled(row, "pair range", _spin(1, operators.MAX_RANGE, 2, "distillRange"))
        row.addWidget(_button("Distill", "distillButton", self.request_distill))
        row.addStretch(1)
        v.addLayout(row)
        self.distill_plot = _plot("network's coefficients K_y - K_ref on the operator basis", "operator group",
                                  "coefficient")
        v.addWidget(self.distill_plot)
        return w

    def _build_hamiltonian(self) -> QWidget:
        page = QWidget(self)
        v = QVBoxLayout(page)
        row = QHBoxLayout()
        self.pl_size = _labelled(row, "L", _spin(6, 64, 16, "plSize", 2))
        self.pl_temperature = QDoubleSpinBox(objectName="plTemperature", decimals=3, minimum=0.1, maximum=20.0,
                                             singleStep=0.05, value=3.0)
        _labelled(row, "T", self.pl_temperature)
        self.pl_samples = _labelled(row, "samples", _spin(2, datasets.MAX_SAMPLES, 4000, "plSamples", 500))
        self.pl_range = _labelled(row, "pair range", _spin(1, operators.MAX_RANGE, 2, "plRange"))
        self.pl_seed = _labelled(row, "seed", _spin(0, 2**31 - 1, 0, "plSeed"))
        self.pl_full = QCheckBox(f"full J_ij (L ≤ {pl.MAX_FULL_SIZE})", objectName="plFull")
        row.addWidget(self.pl_full)
        row.addWidget(_button("From simulation", "plFromSimulation", self.use_simulation_parameters))
        self.pl_button = _button("Fit", "plFitButton", self._toggle_couplings)
        row.addWidget(self.pl_button)
        row.addStretch(1)
        v.addLayout(row)
        self.pl_progress = QProgressBar(objectName="plProgress", maximum=1000)
        v.addWidget(self.pl_progress)
        self.pl_label = QLabel("Fit the couplings of samples at one temperature by pseudo-likelihood.",
                               objectName="plResultLabel")
        self.pl_label.setWordWrap(True)
        v.addWidget(self.pl_label)
        grid = QGridLayout()
        self.kernel_plot = pg.PlotWidget(title="pair couplings J(dx, dy) [units: J/T]")
        self.kernel_plot.setAspectLocked(True)
        self.kernel_plot.invertY(True)
        self.kernel_plot.setLabel("bottom", "dx")
        self.kernel_plot.setLabel("left", "dy")
        self.kernel_image = pg.ImageItem(axisOrder="row-major")
        self.kernel_image.setLookupTable(diverging_lut())
        self.kernel_plot.addItem(self.kernel_image)
        self.kernel_tips = pg.ScatterPlotItem(size=18, pen=None, brush=(0, 0, 0, 0), symbol="s", hoverable=True,
                                              tip=lambda x, y, data: data)
        self.kernel_plot.addItem(self.kernel_tips)
        self.bars_plot = _plot("|coefficient| by order (log scale)", "operator (pairs: dx,dy)", "|K|")
        self.full_plot = pg.PlotWidget(title="full J_ij (no translation invariance)")
        self.full_plot.setAspectLocked(True)
        self.full_plot.invertY(True)
        self.full_image = pg.ImageItem(axisOrder="row-major")
        self.full_image.setLookupTable(diverging_lut())
        self.full_plot.addItem(self.full_image)
        grid.addWidget(self.kernel_plot, 0, 0)
        grid.addWidget(self.full_plot, 0, 1)
        grid.addWidget(self.bars_plot, 1, 0, 1, 2)
        v.addLayout(grid, 1)
        return page

    def _build_gate(self) -> QWidget:
        page = QWidget(self)
        v = QVBoxLayout(page)
        row = QHBoxLayout()
        self.gate_combo = _labelled(row, "σ", QComboBox(objectName="gateNonlinearity"))
        self.gate_combo.addItems(list(gate_mod.NONLINEARITIES))
        self.gate_slider = QSlider(Qt.Horizontal, objectName="gateLambda", minimum=0, maximum=100, value=75)
        row.addWidget(QLabel("λ"))
        row.addWidget(self.gate_slider, 2)
        self.gate_label = QLabel("", objectName="gateLabel")
        row.addWidget(self.gate_label, 3)
        v.addLayout(row)
        self.gate_combo.currentTextChanged.connect(lambda _t: self._gate_changed())
        self.gate_slider.valueChanged.connect(lambda _v: self._gate_changed())
        formula = QLabel("x·y ≈ [σ(λ(x+y)) + σ(−λ(x+y)) − σ(λ(x−y)) − σ(−λ(x−y))] / (4 λ² σ″(0))")
        v.addWidget(formula)
        self.gate_error_plot = _plot("largest error over x, y in [-1, 1]", "λ", "max |gate − x·y|")
        self.gate_error_plot.setLogMode(x=True, y=True)
        self.gate_error_curve = self.gate_error_plot.plot(pen=pg.mkPen("#E8601C", width=2), name="gate")
        self.gate_guide = self.gate_error_plot.plot(pen=pg.mkPen("#9A9A9A", width=1, style=Qt.DashLine), name="∝ λ²")
        self.gate_marker = self.gate_error_plot.plot(symbol="o", symbolBrush="#C05CA8", pen=None)
        self.gate_product_plot = _plot(f"gate(x, {GATE_Y}) against x·{GATE_Y}", "x", "product")
        self.gate_exact = self.gate_product_plot.plot(pen=pg.mkPen("#9A9A9A", width=2, style=Qt.DashLine),
                                                      name="x·y")
        self.gate_approx = self.gate_product_plot.plot(pen=pg.mkPen("#E8601C", width=2), name="four neurons")
        v.addWidget(self.gate_error_plot, 1)
        v.addWidget(self.gate_product_plot, 1)
        return page

    # ------------------------------------------------------------------ snapshots, messages

    def on_snapshot(self, snapshot) -> None:
        self._sim_params = snapshot.params  # only remembered: "From simulation" uses it

    def use_simulation_parameters(self) -> None:
        p = self._sim_params
        if p is None:
            self._error("no simulation snapshot yet: start the simulation first")
            return
        self.pl_temperature.setValue(p.temperature / (abs(p.coupling) or 1.0))
        if p.size <= self.pl_size.maximum():
            self.pl_size.setValue(p.size)
        self.size_spin.setValue(min(p.size, self.size_spin.maximum()))

    def _error(self, message: str) -> None:
        self.status_label.setText(message)
        self.show_status(f"Network: {message}")

    def _device_ready(self, text: str) -> None:
        self.device_text = text
        self.device_label.setText(text)

    def _device_failed(self, message: str) -> None:
        self.device_label.setText("torch unavailable")
        self._error(f"torch could not start: {message}")

    # ------------------------------------------------------------------ dataset

    def _toggle_generate(self) -> None:
        if self.data_runner.running:
            self.data_runner.cancel()
            return
        self.generate_dataset()

    def generate_dataset(self, size=None, temperatures=None, samples=None, seed=None) -> bool:
        """Start sampling a dataset (arguments default to the controls); False on bad input."""
        try:
            temps = datasets.parse_temperatures(self.temps_edit.text() if temperatures is None else temperatures)
        except IsingLabError as exc:
            self._error(str(exc))
            return False
        size = self.size_spin.value() if size is None else size
        samples = self.samples_spin.value() if samples is None else samples
        seed = self.seed_spin.value() if seed is None else seed
        self.status_label.setText("")
        self.generate_button.setText("Cancel")
        self.data_runner.start(_generate_job, size, temps, samples, seed)
        return True

    def _dataset_ready(self, data) -> None:
        self._data_stopped()
        self.set_dataset(data)

    def _data_stopped(self) -> None:
        self.generate_button.setText("Generate")

    def set_dataset(self, data) -> None:
        self.dataset = data
        counts = ", ".join(str(c) for c in data.class_counts())
        spacing = ", ".join(str(s) for s in np.asarray(data.spacing)) or "?"
        self.dataset_label.setText(f"{data.describe()} (per class {counts}; every {spacing} sweeps)")

    def save_dataset(self, path: str | None = None) -> bool:
        if self.dataset is None:
            self._error("no dataset to save: generate or load one first")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save dataset", "ising-dataset.npz", "NumPy archive (*.npz)")
            if not path:
                return False
        try:
            self.dataset.save(path)
        except IsingLabError as exc:
            self._error(str(exc))
            return False
        self.show_status(f"Network: dataset saved to {path}")
        return True

    def load_dataset(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load dataset", "", "NumPy archive (*.npz)")
            if not path:
                return False
        try:
            self.set_dataset(datasets.IsingDataset.load(path))
        except IsingLabError as exc:
            self._error(str(exc))
            return False
        return True

    # ------------------------------------------------------------------ training

    def _toggle_train(self) -> None:
        if self.train_runner.running:
            self.train_runner.cancel()
            return
        self.train()

    def train_config(self):
        from isinglab.core.learning.classifier import TrainConfig
        return TrainConfig(channels=self.channels_spin.value(), kernel=int(self.kernel_combo.currentText()),
                           activation=self.activation_combo.currentText(), epochs=self.epochs_spin.value(),
                           seed=self.seed_spin.value())

    def train(self) -> bool:
        """Start training on the current dataset; False (with a message) if that cannot work."""
        if self.dataset is None:
            self._error("no dataset: generate or load one before training")
            return False
        if not torch_loader.ready():  # the config lives in a torch module: never import it here
            torch_loader.start()
            self._error("torch is still loading (a few seconds after start-up); try again then")
            return False
        try:
            self.dataset.check_classifiable()
            config = self.train_config().validated()
        except IsingLabError as exc:
            self._error(str(exc))
            return False
        self.status_label.setText("")
        self.history = []
        self._dirty = True
        self.trained = self.analysis = self.distilled = None
        self.train_button.setText("Cancel")
        self.result_label.setText("training…")
        self.train_runner.start(_train_job, self.dataset, config, self._distill_range(), self._bridge.epoch.emit)
        return True

    def _distill_range(self) -> int:
        return max(1, min(self.distill_range.value(), (self.dataset.size - 1) // 2 if self.dataset else 1))

    def _on_epoch(self, info) -> None:
        self.history.append(info)
        self._dirty = True

    def _redraw_live(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        h = self.history
        epochs = np.array([i.epoch for i in h], dtype=float)
        for key, curve in self.loss_curves.items():
            curve.setData(epochs, np.array([getattr(i, key) for i in h]))
        for key, curve in self.acc_curves.items():
            curve.setData(epochs, np.array([getattr(i, key) for i in h]))
        temps = self.dataset.temperatures if self.dataset is not None else None
        self.viewer.set_weights(h[-1].weights if h else None, temps, self.activation_combo.currentText())

    def _training_done(self, result) -> None:
        self.train_button.setText("Train")
        self.trained, self.analysis, self.distilled, note = result
        self._dirty = True
        self._redraw_live()
        a, t = self.analysis, self.trained
        worst = max(abs(c.slope / c.slope_exact - 1.0) for c in a.classes)
        self.result_label.setText(
            f"held-out accuracy {a.accuracy:.3f}; logit-vs-energy R² = {a.r2:.5f}; slopes within "
            f"{100 * worst:.1f}% of exact; {t.epochs_run} epochs in {t.seconds:.1f} s"
            f"{' (converged)' if t.converged else ''}; {t.device}")
        if note:
            self._error(f"distillation skipped: {note}")
        self._draw_analysis()
        self._fill_distill_classes()
        self._draw_distilled()

    def _training_failed(self, message: str) -> None:
        self.train_button.setText("Train")
        self.result_label.setText("training failed")
        self._error(message)

    def _training_cancelled(self) -> None:
        self.train_button.setText("Train")
        self.result_label.setText(f"training cancelled after {len(self.history)} epochs")

    def _draw_analysis(self) -> None:
        a = self.analysis
        self.scatter_plot.clear()
        self.slope_plot.clear()
        self.intercept_plot.clear()
        if a is None:
            return
        rng = np.random.default_rng(0)
        n = a.energies.size
        pick = rng.choice(n, MAX_SCATTER_POINTS, replace=False) if n > MAX_SCATTER_POINTS else slice(None)
        for j, c in enumerate(a.classes):
            colour = CLASS_COLOURS[j % len(CLASS_COLOURS)]
            x = c.slope_exact * a.energies[pick]
            self.scatter_plot.plot(x, a.logit_differences[pick, j], pen=None, symbol="o", symbolSize=4,
                                   symbolPen=None, symbolBrush=pg.mkBrush(colour), name=f"T = {c.temperature:g}")
            if math.isfinite(c.intercept_exact):
                xs = np.array([x.min(), x.max()])
                self.scatter_plot.plot(xs, xs + c.intercept_exact, pen=pg.mkPen(colour, width=2, style=Qt.DashLine))
        self.scatter_plot.setTitle(f"held-out logit differences (dashed: exact), R² = {a.r2:.5f}, "
                                   f"reference T = {a.reference_temperature:g}")
        t = np.array([c.temperature for c in a.classes])
        pairs = ((self.slope_plot, [c.slope for c in a.classes], [c.slope_exact for c in a.classes]),
                 (self.intercept_plot, [c.intercept for c in a.classes], [c.intercept_exact for c in a.classes]))
        for plot, learned, exact in pairs:
            exact = np.array(exact)
            known = np.isfinite(exact)  # ln Z is exact only at h = 0
            plot.plot(t[known], exact[known], pen=pg.mkPen("#9A9A9A", width=2, style=Qt.DashLine), symbol="x",
                      symbolSize=12, symbolPen="#9A9A9A", name="exact")
            plot.plot(t, np.array(learned), pen=None, symbol="o", symbolBrush="#E8601C", symbolSize=10, name="learned")

    # ------------------------------------------------------------------ distillation

    def request_distill(self) -> bool:
        if self.trained is None:
            self._error("train a classifier first: there is nothing to distill yet")
            return False
        self.distill_runner.start(_distill_job, self.trained, self._distill_range())
        return True

    def _distilled_ready(self, distilled) -> None:
        self.distilled = distilled
        self._fill_distill_classes()
        self._draw_distilled()

    def _fill_distill_classes(self) -> None:
        self.distill_class.blockSignals(True)
        self.distill_class.clear()
        if self.distilled is not None:
            self.distill_class.addItems([f"T = {c.temperature:g}" for c in self.distilled.classes])
            self.distill_class.setCurrentIndex(len(self.distilled.classes) - 1)
        self.distill_class.blockSignals(False)

    def _draw_distilled(self) -> None:
        self.distill_plot.clear()
        d = self.distilled
        i = self.distill_class.currentIndex()
        if d is None or i < 0:
            return
        cls = d.classes[i]
        groups = d.groups(cls)
        names = list(groups)
        x = np.arange(len(names), dtype=float)
        learned = np.array([groups[n]["learned"] for n in names])
        exact = np.array([groups[n]["exact"] for n in names])
        for dx, height, colour, name in ((-0.2, learned, "#E8601C", "network"), (0.2, exact, "#9A9A9A", "exact")):
            self.distill_plot.addItem(pg.BarGraphItem(x=x + dx, height=height, width=0.38, brush=colour, name=name))
        self.distill_plot.getAxis("bottom").setTicks([list(zip(x, names))])
        self.distill_plot.setTitle(f"network's K(T={cls.temperature:g}) - K(T={d.reference_temperature:g}) per group "
                                   f"(orange) vs exact (grey); fit R² = {cls.r2:.6f}")

    # ------------------------------------------------------------------ Hamiltonian (pseudo-likelihood)

    def _toggle_couplings(self) -> None:
        if self.pl_runner.running:
            self.pl_runner.cancel()
            return
        self.fit_couplings()

    def fit_couplings(self, size=None, temperature=None, samples=None, range_=None, full=None) -> bool:
        size = self.pl_size.value() if size is None else size
        temperature = self.pl_temperature.value() if temperature is None else temperature
        samples = self.pl_samples.value() if samples is None else samples
        range_ = self.pl_range.value() if range_ is None else range_
        full = self.pl_full.isChecked() if full is None else full
        try:
            operators.check_range(range_, size)
            if full and size > pl.MAX_FULL_SIZE:
                raise IsingLabError(f"the full J_ij fit is for small lattices (L <= {pl.MAX_FULL_SIZE}), "
                                    f"got L = {size}")
        except IsingLabError as exc:
            self._error(str(exc))
            return False
        self.status_label.setText("")
        self.pl_button.setText("Cancel")
        self.pl_runner.start(_couplings_job, size, temperature, samples, range_, self.pl_seed.value(), full)
        return True

    def _couplings_ready(self, result) -> None:
        self.pl_button.setText("Fit")
        self.pl_fit, self.full_fit = result
        f = self.pl_fit
        g = f.groups()
        nn, exact_nn = g["nn"], f.exact_groups()["nn"]
        others = [abs(c) for op, c in zip(f.operators, f.coefficients) if op.group != "nn"]
        self.pl_label.setText(
            f"K_nn = {nn['mean']:.4f} ± {nn['err']:.4f} (exact J/T = {exact_nn:.4f}, "
            f"{100 * (nn['mean'] / exact_nn - 1):+.1f}%); largest other |K| = {max(others):.4f}; "
            f"L = {f.size}, {f.samples} samples, fit {f.seconds:.1f} s")
        self._draw_kernel()
        self._draw_bars()
        self._draw_full()

    def _couplings_failed(self, message: str) -> None:
        self.pl_button.setText("Fit")
        self._error(message)

    def _couplings_cancelled(self) -> None:
        self.pl_button.setText("Fit")
        self.pl_label.setText("fit cancelled")

    def _draw_kernel(self) -> None:
        f = self.pl_fit
        k, err = f.kernel(), f.kernel_errors()
        r = f.range_
        scale = float(np.abs(k).max()) or 1.0
        self.kernel_image.setImage(k, levels=(-scale, scale), autoLevels=False)
        self.kernel_image.setRect(-r - 0.5, -r - 0.5, 2 * r + 1, 2 * r + 1)
        pos, tips = [], []
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if dx or dy:
                    pos.append((dx, dy))
                    tips.append(f"J({dx}, {dy}) = {k[dy + r, dx + r]:+.4f} ± {err[dy + r, dx + r]:.4f}")
        self.kernel_tips.setData(pos=np.array(pos, dtype=float), data=tips)

    def _draw_bars(self) -> None:
        f = self.pl_fit
        self.bars_plot.clear()
        x = np.arange(len(f.operators), dtype=float)
        mags = np.log10(np.maximum(np.abs(f.coefficients), 10.0**LOG_FLOOR))
        colours = [ORDER_COLOURS[op.order] for op in f.operators]
        self.bars_plot.addItem(pg.BarGraphItem(x=x, y0=LOG_FLOOR, y1=mags, width=0.7, brushes=colours, pens=colours))
        noise = np.log10(np.maximum(f.errors, 10.0**LOG_FLOOR))
        self.bars_plot.plot(x, noise, pen=None, symbol="t", symbolBrush="#DDDDDD", symbolSize=9)
        exact = f.exact()
        nz = exact != 0
        if nz.any():
            self.bars_plot.plot(x[nz], np.log10(np.abs(exact[nz])), pen=None, symbol="x", symbolSize=14,
                                symbolPen=pg.mkPen("#FFFFFF", width=2))
        self.bars_plot.getAxis("left").setTicks([[(e, f"1e{e}") for e in range(LOG_FLOOR, 1)]])
        self.bars_plot.getAxis("bottom").setTicks([[(i, short_name(op)) for i, op in enumerate(f.operators)]])
        self.bars_plot.setYRange(LOG_FLOOR, 0.2)
        self.bars_plot.setTitle("|K| by order: grey 1-spin, orange 2-spin, green 3-spin, purple plaquette; "
                                "▽ 1σ, × exact")

    def _draw_full(self) -> None:
        full = self.full_fit
        if full is None:
            self.full_image.clear()
            self.full_plot.setTitle("full J_ij: tick 'full J_ij' with L ≤ 12")
            return
        J = full.couplings
        scale = float(np.abs(J).max()) or 1.0
        self.full_image.setImage(J, levels=(-scale, scale), autoLevels=False)
        mask = full.neighbour_mask()
        other = ~mask & ~np.eye(mask.shape[0], dtype=bool)
        self.full_plot.setTitle(f"full J_ij, N = {J.shape[0]}: neighbours {J[mask].mean():.3f}, "
                                f"others {J[other].mean():+.3f} ± {J[other].std():.3f}")

    # ------------------------------------------------------------------ gate

    def gate_lambda(self) -> float:
        return float(10.0 ** (-4.0 + 4.0 * self.gate_slider.value() / self.gate_slider.maximum()))

    def set_gate(self, lam: float, nonlinearity: str) -> None:
        self.gate_combo.blockSignals(True)
        self.gate_combo.setCurrentText(nonlinearity)
        self.gate_combo.blockSignals(False)
        self.gate_slider.blockSignals(True)
        self.gate_slider.setValue(int(round((math.log10(lam) + 4.0) / 4.0 * self.gate_slider.maximum())))
        self.gate_slider.blockSignals(False)
        self._gate_changed()

    def _gate_changed(self) -> None:
        name, lam = self.gate_combo.currentText(), self.gate_lambda()
        try:
            errors = gate_mod.gate_error(GATE_LAMBDAS, name)
            here = float(gate_mod.gate_error([lam], name)[0])
        except IsingLabError as exc:
            self.gate_label.setText(str(exc))
            for c in (self.gate_error_curve, self.gate_guide, self.gate_marker, self.gate_approx):
                c.setData([], [])
            return
        self.gate_error_curve.setData(GATE_LAMBDAS, errors)
        ref = int(np.argmin(np.abs(GATE_LAMBDAS - 0.1)))
        self.gate_guide.setData(GATE_LAMBDAS, errors[ref] * (GATE_LAMBDAS / GATE_LAMBDAS[ref]) ** 2)
        self.gate_marker.setData([lam], [here])
        x = np.linspace(-1.0, 1.0, 101)
        self.gate_exact.setData(x, x * GATE_Y)
        self.gate_approx.setData(x, gate_mod.gate(x, GATE_Y, lam, name))
        self.gate_label.setText(f"λ = {lam:.3g}: largest error {here:.3g}")
        self.gate_error_now = here

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        self._timer.stop()
        runners = (self.data_runner, self.train_runner, self.distill_runner, self.pl_runner, self.device_runner)
        for r in runners:  # all told first, so that they stop at once, not in turn
            r.cancel()
        for r in runners:
            r.cancel(wait=True, timeout=1.0)


__all__ = ["NetworkPanel"]
