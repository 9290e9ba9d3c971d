"""The network panel's Classifier tab: a network learns the Ising Hamiltonian from labelled samples.

Sample configurations at a few temperatures (a dataset, saveable as NPZ), train a tiny CNN to
tell them apart (live loss/accuracy curves and the network drawn as it learns), then compare its
held-out logit differences with Bayes and distil its coefficients onto the local operator basis
(the plots: network_classifier_plots.py; the drawn network: network_viewer.py).

Sampling, training and distilling (and importing torch) run on TaskRunner threads with progress
and cancel; per-epoch records cross to the GUI thread through a queued signal and are drawn at
most 10 times a second. Train pressed while torch is still loading (the app loads it in the
background from its first frame on: core/torch_loader.py) waits for it, with "loading torch…"
on a busy progress bar, and then trains; Cancel stops the wait. The tab reports problems through `error`, clears the panel's message
through `cleared` and sends status-bar notes through `notice`; the panel shows them.
"""
from __future__ import annotations

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QSplitter,
                               QVBoxLayout, QWidget)

from isinglab.core import torch_loader
from isinglab.core.errors import IsingLabError
from isinglab.core.learning import datasets

from isinglab.app.panels.network_classifier_plots import ClassifierPlots
from isinglab.app.panels.network_viewer import NetworkViewer
from isinglab.app.panels.network_widgets import labelled, push_button, spin_box, task_runner

REDRAW_INTERVAL_MS = 100  # live curves and the network redraw at <= 10 Hz
DEFAULT_TEMPERATURES = "1.8, 2.1, 2.4, 2.7"
LOADING_TORCH = "loading torch…"  # the training's progress text while it waits for the import
TORCH_POLL_S = 0.1  # how often a job waiting for torch checks for Cancel


class TorchWatch(QObject):
    """`ended` (on the GUI thread) once core.torch_loader's import has ended, successfully or
    not; at once from arm() if it has ended already. Connect first, then arm()."""

    ended = Signal()

    def arm(self) -> None:
        torch_loader.when_done(self._emit)

    def _emit(self) -> None:  # on the loader thread: delivered queued to the GUI thread
        try:
            self.ended.emit()
        except RuntimeError:  # the watcher's widget was deleted meanwhile
            pass


def wait_for_torch(task) -> None:
    """Worker thread: wait until torch is imported (starting the import if nobody has), saying
    so on the progress bar; Cancel ends the wait. IsingLabError if torch cannot be imported."""
    if not torch_loader.done():
        task.progress(0.0, LOADING_TORCH)
        torch_loader.start()
        while not torch_loader.wait(TORCH_POLL_S):
            task.check()
    torch_loader.load()  # returns at once, or raises the import's failure


# ----------------------------------------------------------------------------- jobs (worker threads)

def _generate_job(size, temperatures, samples, seed, task):
    return datasets.generate(size, temperatures, samples, seed=seed, task=task)


def _train_job(dataset, config, range_, on_epoch, task):
    """Train, analyse against Bayes and distil; a distillation that cannot run becomes a note.
    config: a TrainConfig, or the controls' values (a dict) when Train was pressed before torch
    was loaded: checked here, once it is."""
    wait_for_torch(task)
    from isinglab.core.learning.classifier import TrainConfig, analyse, train_classifier
    from isinglab.core.learning.distill import distill
    if isinstance(config, dict):
        config = TrainConfig(**config).validated()
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


# ----------------------------------------------------------------------------- the tab

class ClassifierTab(QWidget):
    """Dataset, training and distillation controls, the result plots and the drawn network."""

    error = Signal(str)  # a one-line problem for the panel's message and the status bar
    cleared = Signal()  # a new job starts: the panel's old message no longer applies
    notice = Signal(str)  # a status-bar note that is no problem (a dataset saved)
    epoch_done = Signal(object)  # emitted on the training thread, delivered queued on the GUI thread

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset: datasets.IsingDataset | None = None
        self.trained = None
        self.analysis = None
        self.distilled = None
        self.history: list = []
        self._dirty = False
        self._build()
        self.epoch_done.connect(self._on_epoch)
        self.data_runner = task_runner(self, self._dataset_ready, self._report, self.data_progress,
                                       self._data_stopped)
        self.train_runner = task_runner(self, self._training_done, self._training_failed, None,
                                        self._training_cancelled)
        self.train_runner.progress.connect(self._train_progress)
        self.distill_runner = task_runner(self, self._distilled_ready, self._report)
        self._timer = QTimer(self, interval=REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._redraw_if_shown)
        self._timer.start()

    def _report(self, message: str) -> None:
        """A worker failed: pass its message on to the panel."""
        self.error.emit(message)

    def runners(self) -> tuple:
        """Every worker this tab starts, for the panel's shutdown (told all at once)."""
        return self.data_runner, self.train_runner, self.distill_runner

    def stop_redraw(self) -> None:
        """No more live redraws: the panel is shutting down."""
        self._timer.stop()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        v = QVBoxLayout(self)
        v.addLayout(self._build_dataset_row())
        v.addLayout(self._build_network_row())
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
        v.addWidget(self._build_results(), 1)

    def _build_dataset_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.size_spin = labelled(row, "L", spin_box(4, 64, 16, "datasetSize", 2))
        self.temps_edit = labelled(row, "T classes", QLineEdit(DEFAULT_TEMPERATURES, objectName="datasetTemperatures"))
        self.samples_spin = labelled(row, "samples/class", spin_box(1, datasets.MAX_SAMPLES, 4000, "datasetSamples",
                                                                    500))
        self.seed_spin = labelled(row, "seed", spin_box(0, 2**31 - 1, 0, "learningSeed"))
        self.generate_button = push_button("Generate", "generateButton", self._toggle_generate)
        row.addWidget(self.generate_button)
        row.addWidget(push_button("Load…", "loadDatasetButton", lambda: self.load_dataset()))
        row.addWidget(push_button("Save…", "saveDatasetButton", lambda: self.save_dataset()))
        return row

    def _build_network_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.channels_spin = labelled(row, "channels", spin_box(1, 64, 4, "channelsSpin"))
        self.kernel_combo = labelled(row, "kernel", QComboBox(objectName="kernelCombo"))
        self.kernel_combo.addItems(["2", "3"])
        self.activation_combo = labelled(row, "activation", QComboBox(objectName="activationCombo"))
        self.activation_combo.addItems(["square", "softplus", "tanh"])
        self.epochs_spin = labelled(row, "epochs", spin_box(1, 10000, 200, "epochsSpin"))
        self.train_button = push_button("Train", "trainButton", self._toggle_train)
        row.addWidget(self.train_button)
        row.addStretch(1)
        return row

    def _build_results(self) -> QSplitter:
        """The result plots beside the drawn network; the plots' distil controls act on this tab."""
        split = QSplitter(Qt.Horizontal, self)
        self.result_tabs = ClassifierPlots()
        self.result_tabs.distill_class.currentIndexChanged.connect(lambda _i: self._draw_distilled())
        self.result_tabs.distill_button.clicked.connect(self.request_distill)
        split.addWidget(self.result_tabs)
        self.viewer = NetworkViewer()
        split.addWidget(self.viewer)
        split.setSizes([600, 400])
        return split

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
            self.error.emit(str(exc))
            return False
        size = self.size_spin.value() if size is None else size
        samples = self.samples_spin.value() if samples is None else samples
        seed = self.seed_spin.value() if seed is None else seed
        self.cleared.emit()
        self.generate_button.setText("Cancel")
        self.data_runner.start(_generate_job, size, temps, samples, seed)
        return True

    def _dataset_ready(self, data) -> None:
        self._data_stopped()
        self.set_dataset(data)

    def _data_stopped(self) -> None:
        self.generate_button.setText("Generate")

    def set_dataset(self, data) -> None:
        """Use `data` for the next training and describe it under the controls."""
        self.dataset = data
        counts = ", ".join(str(c) for c in data.class_counts())
        spacing = ", ".join(str(s) for s in np.asarray(data.spacing)) or "?"
        self.dataset_label.setText(f"{data.describe()} (per class {counts}; every {spacing} sweeps)")

    def save_dataset(self, path: str | None = None) -> bool:
        """Write the dataset as NPZ (asking where if no path); False, with a message, if not written."""
        if self.dataset is None:
            self.error.emit("no dataset to save: generate or load one first")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save dataset", "ising-dataset.npz", "NumPy archive (*.npz)")
            if not path:
                return False
        try:
            self.dataset.save(path)
        except IsingLabError as exc:
            self.error.emit(str(exc))
            return False
        self.notice.emit(f"Network: dataset saved to {path}")
        return True

    def load_dataset(self, path: str | None = None) -> bool:
        """Read an NPZ dataset (asking which if no path); False, with a message, if unreadable."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load dataset", "", "NumPy archive (*.npz)")
            if not path:
                return False
        try:
            self.set_dataset(datasets.IsingDataset.load(path))
        except IsingLabError as exc:
            self.error.emit(str(exc))
            return False
        return True

    # ------------------------------------------------------------------ training

    def _toggle_train(self) -> None:
        if self.train_runner.running:
            self.train_runner.cancel()
            return
        self.train()

    def train_config(self):
        """The controls as a TrainConfig (imports the torch module: only once torch is loaded)."""
        from isinglab.core.learning.classifier import TrainConfig
        return TrainConfig(**self._config_values())

    def _config_values(self) -> dict:
        """The network controls' values: TrainConfig's fields (no torch needed to read them)."""
        return dict(channels=self.channels_spin.value(), kernel=int(self.kernel_combo.currentText()),
                    activation=self.activation_combo.currentText(), epochs=self.epochs_spin.value(),
                    seed=self.seed_spin.value())

    @property
    def waiting_for_torch(self) -> bool:
        """Train was pressed before torch was loaded: the training job waits for it."""
        return self.train_runner.running and self.train_progress.maximum() == 0

    def train(self) -> bool:
        """Start training on the current dataset; False (with a message) if that cannot work.
        While torch is still loading the job waits for it ("loading torch…") and then trains."""
        config = self._checked_config()
        if config is None:
            return False
        self.cleared.emit()
        self.history = []
        self._dirty = True
        self.trained = self.analysis = self.distilled = None
        self.train_button.setText("Cancel")
        if isinstance(config, dict):  # torch not there yet: the job waits for it
            torch_loader.start()
            self.result_label.setText(f"{LOADING_TORCH} (training starts once it is loaded)")
            self._set_train_busy(True)
        else:
            self.result_label.setText("training…")
            self._set_train_busy(False)
            self.train_progress.setValue(0)
        self.train_runner.start(_train_job, self.dataset, config, self._distill_range(), self.epoch_done.emit)
        return True

    def _checked_config(self):
        """The training config if a dataset, torch and the controls allow training; else None,
        with the reason sent as an error. Before torch is loaded: the controls' values (a dict),
        checked by the job once it is (the config lives in a torch module: never imported here)."""
        if self.dataset is None:
            self.error.emit("no dataset: generate or load one before training")
            return None
        if torch_loader.failure() is not None:
            self.error.emit(torch_loader.failure())
            return None
        try:
            self.dataset.check_classifiable()
            if not torch_loader.ready():
                return self._config_values()
            return self.train_config().validated()
        except IsingLabError as exc:
            self.error.emit(str(exc))
            return None

    def _set_train_busy(self, busy: bool) -> None:
        """The training's progress bar: busy (no fraction) with "loading torch…" while the job
        waits for torch, else 0..1000 with the job's text."""
        bar = self.train_progress
        if busy:
            bar.setRange(0, 0)
            bar.setFormat(LOADING_TORCH)
        elif bar.maximum() == 0:
            bar.setRange(0, 1000)

    def _train_progress(self, fraction: float, text: str) -> None:
        if text == LOADING_TORCH:
            self._set_train_busy(True)
            return
        if self.train_progress.maximum() == 0:  # torch is there: the training has begun
            self._set_train_busy(False)
            self.result_label.setText("training…")
        self.train_progress.setValue(int(fraction * 1000))
        self.train_progress.setFormat(f"{text} %p%")

    def _distill_range(self) -> int:
        """The pair range asked for, cut to what the dataset's lattice holds."""
        largest = (self.dataset.size - 1) // 2 if self.dataset else 1
        return max(1, min(self.result_tabs.distill_range.value(), largest))

    def _on_epoch(self, info) -> None:
        self.history.append(info)
        self._dirty = True

    def _redraw_if_shown(self) -> None:
        """Timer: the live redraw, only while the tab is shown (a training behind another tab
        costs the GUI thread nothing; showEvent catches up)."""
        if self._dirty and self.isVisible():
            self._redraw_live()

    def showEvent(self, event):
        super().showEvent(event)
        self._redraw_live()  # what arrived while hidden: before the first paint (and an export)

    def _redraw_live(self) -> None:
        """Redraw curves and network only if an epoch arrived since the last redraw."""
        if not self._dirty:
            return
        self._dirty = False
        h = self.history
        self.result_tabs.draw_history(h)
        temps = self.dataset.temperatures if self.dataset is not None else None
        self.viewer.set_weights(h[-1].weights if h else None, temps, self.activation_combo.currentText())

    def _training_done(self, result) -> None:
        self.train_button.setText("Train")
        self._set_train_busy(False)
        self.trained, self.analysis, self.distilled, note = result
        self._dirty = True
        self._redraw_live()
        self.result_label.setText(self._summary(self.analysis, self.trained))
        if note:
            self.error.emit(f"distillation skipped: {note}")
        self.result_tabs.draw_analysis(self.analysis)
        self.result_tabs.fill_distill_classes(self.distilled)
        self._draw_distilled()

    @staticmethod
    def _summary(a, t) -> str:
        """The result line: accuracy, how linear the logits are in E, the worst slope, the run."""
        worst = max(abs(c.slope / c.slope_exact - 1.0) for c in a.classes)
        return (f"held-out accuracy {a.accuracy:.3f}; logit-vs-energy R² = {a.r2:.5f}; slopes within "
                f"{100 * worst:.1f}% of exact; {t.epochs_run} epochs in {t.seconds:.1f} s"
                f"{' (converged)' if t.converged else ''}; {t.device}")

    def _training_failed(self, message: str) -> None:
        self.train_button.setText("Train")
        self._set_train_busy(False)
        self.result_label.setText("training failed")
        self.error.emit(message)

    def _training_cancelled(self) -> None:
        self.train_button.setText("Train")
        self._set_train_busy(False)
        self.result_label.setText(f"training cancelled after {len(self.history)} epochs")

    # ------------------------------------------------------------------ distillation

    def request_distill(self) -> bool:
        """Distil the trained network again (at the current pair range) on a worker."""
        if self.trained is None:
            self.error.emit("train a classifier first: there is nothing to distill yet")
            return False
        self.distill_runner.start(_distill_job, self.trained, self._distill_range())
        return True

    def _distilled_ready(self, distilled) -> None:
        self.distilled = distilled
        self.result_tabs.fill_distill_classes(self.distilled)
        self._draw_distilled()

    def _draw_distilled(self) -> None:
        self.result_tabs.draw_distilled(self.distilled)


__all__ = ["ClassifierTab", "DEFAULT_TEMPERATURES", "LOADING_TORCH", "REDRAW_INTERVAL_MS", "TorchWatch",
           "wait_for_torch"]
