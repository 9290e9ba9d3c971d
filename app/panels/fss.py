"""Finite-size scaling dock: run a sweep over (L, T, seed) on dask, watch it fill in, and see the
Binder crossings, the chi' peaks and the data collapse grow with it; or open a stored sweep.

Inputs: sizes, the T range and step, seeds, sweeps per task, the global seed, and where to run
(an embedded cluster of N worker processes, or a dask scheduler's address) and store (a Zarr
folder; empty: a new one in the temporary folder). This is `isinglab sweep` + `isinglab fss`
(core.sweep, core.fss) in the window.

Threads: the sweep (or the reading of a store) runs on a TaskRunner thread (fss_sweep): it holds
the dask client, writes every finished task to the store and fills a SweepBoard. A 4 Hz timer on
the GUI thread copies the board's grid (cheap) and, at most every ANALYSIS_INTERVAL_S while data
arrive, hands the analysis to a LatestOnlyWorker (fss_analysis); its result is drawn (fss_plots).
Cancel takes effect within a fraction of a second (the tasks in flight are dropped and the
embedded workers killed); closing the window cancels.
"""
from __future__ import annotations

import os
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QLineEdit,
                               QScrollArea, QSpinBox, QSplitter, QToolButton, QVBoxLayout, QWidget)

from isinglab.core.params import MAX_SEED
from isinglab.core.sweep.plan import MAX_SEEDS, MIN_SWEEPS
from isinglab.core.sweep.runner import MAX_WORKERS, default_workers

from isinglab.app import ui as palette
from isinglab.app.panels.base import AnalysisPanel
from isinglab.app.panels.contract import DataSet
from isinglab.app.panels.fss_analysis import FssResult, analyse_board, json_safe
from isinglab.app.panels.fss_grid import TaskGrid, clipped_label, legend_html, set_clipped
from isinglab.app.panels.fss_plots import FssPlots, plus_minus
from isinglab.app.panels.fss_board import SweepBoard, SweepRequest
from isinglab.app.panels.fss_sweep import open_store_job, run_sweep_job
from isinglab.app.panels.workers import LatestOnlyWorker, TaskRunner
from isinglab.app.ui import make_action

POLL_MS = 250  # the grid and the status line follow the board at 4 Hz
ANALYSIS_INTERVAL_S = 0.5  # a new analysis at most this often while tasks finish
DEFAULTS = {"sizes": "8,16,32", "t_from": 2.20, "t_to": 2.34, "t_step": 0.02, "seeds": 4, "sweeps": 5000}
MAX_SWEEPS_INPUT = 2**31 - 1


class FssPanel(AnalysisPanel):
    panel_id = "fssDock"
    title = "Finite-size scaling"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("fssPanel")
        self.board = SweepBoard()
        self.result: FssResult | None = None
        self.message = ""  # the last one-line problem shown ("" when none)
        self.last_run: dict | None = None  # what the last sweep or load returned
        self._job = None  # "sweep" or "open" while the runner runs
        self._grid_version = -1
        self._shown_generation = 0  # the board's generation the plots show
        self._submitted = None  # (generation, data version) of the last analysis asked for
        self._submitted_at = -1e9
        self._final_reported = None  # (generation, version) whose analysis problem went to the status bar
        self._build_actions()
        self._build()
        self.runner = TaskRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.analysis = LatestOnlyWorker("isinglab-fss", self)
        self.analysis.finished.connect(self._on_result)
        self.analysis.failed.connect(self._on_analysis_failed)
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._poll)
        self._update_buttons()

    # ------------------------------------------------------------------ layout

    def _build_actions(self) -> None:
        self.start_action = make_action(self, "Start sweep", "fssStartAction",
                                        "Run Monte Carlo over sizes × temperatures × seeds on dask, storing each "
                                        "task in the Zarr store (the same sweep again resumes it)", self.start_sweep)
        self.cancel_action = make_action(self, "Cancel", "fssCancelAction",
                                         "Stop the sweep now: running tasks are dropped, stored ones kept",
                                         self.cancel)
        self.open_action = make_action(self, "Open store…", "fssOpenStoreAction",
                                       "Read a sweep store written by isinglab sweep (read-only) and analyse it",
                                       lambda: self.open_store())
        self.browse_action = make_action(self, "Browse…", "fssBrowseStoreAction",
                                         "Choose the Zarr store the sweep writes (a new folder, or a store of the "
                                         "same sweep to resume)", self._browse_store)
        self.use_fit_action = make_action(self, "Use fit", "fssUseFitAction",
                                          "Set T_c and ν of the collapse to the automatic fit's values",
                                          lambda: self.plots.use_fit())

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        # the set-up rows scroll sideways instead of widening the dock (presenter mode puts
        # this panel beside a lattice that must keep at least half of the window)
        inputs = QWidget(self)
        inputs.setLayout(self._build_inputs())
        scroll = QScrollArea(self, widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(inputs)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(120)
        scroll.setFixedHeight(inputs.sizeHint().height() + scroll.horizontalScrollBar().sizeHint().height())
        layout.addWidget(scroll)
        split = QSplitter(Qt.Vertical, self)
        self.grid = TaskGrid(split)
        self.plots = FssPlots(self.use_fit_action, split)
        split.addWidget(self.grid)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 5)  # the plots get the height; the grid a strip above them
        split.setSizes([60, 400])
        layout.addWidget(split, 1)
        row = QHBoxLayout()
        self.status_label = clipped_label(self, "fssStatus")
        legend = QLabel(legend_html(), self)
        legend.setTextFormat(Qt.RichText)
        row.addWidget(self.status_label, 1)
        row.addWidget(legend)
        layout.addLayout(row)
        self.summary_label = self._line("fssSummary")
        self.message_label = self._line("fssMessage")
        self.message_label.setStyleSheet(f"color: {palette.SIZE_RED}; font-weight: bold;")
        layout.addWidget(self.summary_label)
        layout.addWidget(self.message_label)

    def _line(self, name: str) -> QLabel:
        """A one-line label that takes no height while it is empty."""
        label = clipped_label(self, name)
        label.setVisible(False)
        return label

    @staticmethod
    def _set_line(label: QLabel, text: str) -> None:
        set_clipped(label, text)
        label.setVisible(bool(text))

    def _build_inputs(self) -> QVBoxLayout:
        rows = QVBoxLayout()
        rows.setContentsMargins(4, 2, 4, 0)
        rows.setSpacing(2)
        self.sizes_edit = QLineEdit(DEFAULTS["sizes"], self, objectName="fssSizesEdit")
        self.sizes_edit.setToolTip("Lattice sizes, comma-separated, e.g. 8,16,32,64")
        self.sizes_edit.setMinimumWidth(80)
        self.t_from = self._double("fssTFromSpin", DEFAULTS["t_from"], "Lowest temperature [J/k_B]")
        self.t_to = self._double("fssTToSpin", DEFAULTS["t_to"], "Highest temperature [J/k_B] (included)")
        self.t_step = self._double("fssTStepSpin", DEFAULTS["t_step"], "Temperature step [J/k_B]", lo=1e-6, hi=5.0)
        self.seeds_spin = self._int("fssSeedsSpin", DEFAULTS["seeds"], 1, MAX_SEEDS,
                                    "Independent runs per (L, T): errors are jackknife over seeds, so at least 2")
        self.sweeps_spin = self._int("fssSweepsSpin", DEFAULTS["sweeps"], MIN_SWEEPS, MAX_SWEEPS_INPUT,
                                     "Measured sweeps per task (e and m are stored after each)")
        self.seed_spin = self._int("fssSeedSpin", 0, 0, min(MAX_SEED - 1, 2**31 - 1),
                                   "Global seed: a task's stream derives from (seed, L, T, seed index) only")
        self.workers_spin = self._int("fssWorkersSpin", min(default_workers(), MAX_WORKERS), 1, MAX_WORKERS,
                                      "Worker processes of the embedded dask cluster (one task each at a time)")
        self.scheduler_edit = QLineEdit("", self, objectName="fssSchedulerEdit")
        self.scheduler_edit.setPlaceholderText("tcp://HOST:8786")
        self.scheduler_edit.setToolTip("A running dask scheduler to use instead of local workers (empty: local)")
        self.scheduler_edit.textChanged.connect(lambda text: self.workers_spin.setEnabled(not text.strip()))
        self.store_edit = QLineEdit("", self, objectName="fssStoreEdit")
        self.store_edit.setPlaceholderText("new, in the temporary folder")
        self.store_edit.setToolTip("The Zarr store (a folder) the sweep writes; a store of the same sweep is "
                                   "resumed (empty: a new store in the temporary folder)")
        self.allow_long_check = QCheckBox("Allow long", self, objectName="fssAllowLongCheck")
        self.allow_long_check.setToolTip("Run even when the estimated time exceeds 10 minutes")
        self.start_button = self._button(self.start_action)
        self.cancel_button = self._button(self.cancel_action)
        self.open_button = self._button(self.open_action)
        layout = (
            (("Sizes", self.sizes_edit, 3), ("T from", self.t_from, 0), ("to", self.t_to, 0),
             ("step", self.t_step, 0), ("seeds", self.seeds_spin, 0), ("sweeps", self.sweeps_spin, 0)),
            (("seed", self.seed_spin, 0), ("workers", self.workers_spin, 0), ("or", self.scheduler_edit, 2),
             ("store", self.store_edit, 3), (None, self._button(self.browse_action), 0)),
            ((None, self.allow_long_check, 0), (None, None, 1), (None, self.start_button, 0),
             (None, self.cancel_button, 0), (None, self.open_button, 0)),
        )
        for items in layout:
            row = QHBoxLayout()
            for text, widget, stretch in items:
                if text:
                    row.addWidget(QLabel(text, self))
                if widget is None:
                    row.addStretch(stretch)
                else:
                    row.addWidget(widget, stretch)
            rows.addLayout(row)
        return rows

    def _button(self, action) -> QToolButton:
        b = QToolButton(self)
        b.setDefaultAction(action)
        b.setToolButtonStyle(Qt.ToolButtonTextOnly)
        return b

    def _double(self, name, value, tip, lo=0.01, hi=100.0) -> QDoubleSpinBox:
        s = QDoubleSpinBox(self, objectName=name)
        s.setDecimals(6 if "Step" in name else 4)
        s.setRange(lo, hi)
        s.setSingleStep(0.01)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    def _int(self, name, value, lo, hi, tip) -> QSpinBox:
        s = QSpinBox(self, objectName=name)
        s.setRange(lo, hi)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    # ------------------------------------------------------------------ the sweep

    def request(self) -> SweepRequest:
        """The sweep the inputs ask for."""
        return SweepRequest(self.sizes_edit.text(), self.t_from.value(), self.t_to.value(), self.t_step.value(),
                            self.seeds_spin.value(), self.sweeps_spin.value(), self.seed_spin.value(),
                            self.workers_spin.value(), self.scheduler_edit.text().strip(),
                            self.store_edit.text().strip(), self.allow_long_check.isChecked())

    @property
    def running(self) -> bool:
        return self._job is not None

    def start_sweep(self) -> None:
        if self._busy_refusal():
            return
        self._start("sweep", run_sweep_job, self.request(), "starting the sweep…")

    def open_store(self, path: str | None = None) -> None:
        """Read the sweep store at `path` (a dialog asks when None) and show its analysis."""
        if path is None:
            start = os.path.dirname(self.board.store) if self.board.store else os.getcwd()
            path = QFileDialog.getExistingDirectory(self, "Open a sweep store (a .zarr folder)", start)
            if not path:
                return
        if self._busy_refusal():
            return
        self._start("open", open_store_job, str(path), f"reading {path}…")

    def _busy_refusal(self) -> bool:
        if self.running:
            self._show_message("a sweep or a store is still running; cancel it first")
            return True
        return False

    def _start(self, job: str, fn, arg, line: str) -> None:
        self._show_message("")
        self._job = job
        set_clipped(self.status_label, line)
        self._update_buttons()
        self.runner.start(fn, arg, self.board)
        self._poll_timer.start()

    def cancel(self) -> None:
        if not self.running:
            return
        self.runner.cancel()
        self.cancel_action.setEnabled(False)
        set_clipped(self.status_label, "cancelling…")

    def _browse_store(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Sweep store (a new folder, or a store to resume)",
                                              self.store_edit.text() or os.path.join(os.getcwd(), "RESULTS.zarr"),
                                              options=QFileDialog.DontConfirmOverwrite)
        if path:
            self.store_edit.setText(path)

    def _update_buttons(self) -> None:
        running = self.running
        self.start_action.setEnabled(not running)
        self.open_action.setEnabled(not running)
        self.cancel_action.setEnabled(running)

    def _job_ended(self) -> None:
        self._job = None
        self._update_buttons()
        self._poll()  # the last state of the board, and its final analysis

    def _on_progress(self, fraction: float, text: str) -> None:
        if self._job == "open":
            set_clipped(self.status_label, f"{text} ({fraction:.0%})")

    def _on_finished(self, out: dict) -> None:
        self.last_run = out
        what = "store read" if self._job == "open" else "sweep done"
        self._job_ended()
        set_clipped(self.status_label, f"{what}: {out['finished']} of {out['tasks']} tasks in {out['store']}")
        if out.get("message"):
            self._show_message(out["message"])

    def _on_failed(self, message: str) -> None:
        self._job_ended()
        set_clipped(self.status_label, "")
        self._show_message(message)

    def _on_cancelled(self) -> None:
        self._job_ended()
        view = self.board.view()
        done = view.counts()["done"]
        where = f" in {view.store}" if view.store else ""
        set_clipped(self.status_label, f"cancelled: {done} tasks stored{where}; start the same sweep again to resume")

    def _show_message(self, message: str) -> None:
        """A one-line problem in the panel and the status bar ("" clears the panel's)."""
        line = message.strip().splitlines()[0] if message.strip() else ""
        self.message = line
        self._set_line(self.message_label, line)
        if line:
            self.show_status(f"Finite-size scaling: {line}")

    # ------------------------------------------------------------------ board -> grid, analysis

    def _poll(self) -> None:
        view = self.board.view()
        if view.generation != self._shown_generation:  # a new sweep or store: the old results go
            self._shown_generation = view.generation
            self.result = None
            self.plots.clear()
            self._set_line(self.summary_label, "")
        if view.version != self._grid_version:
            self._grid_version = view.version
            self.grid.set_view(view)
            if self.running and view.line:
                set_clipped(self.status_label, view.line)
        key = (self.board.generation, self.board.data_version)
        busy = self.analysis.busy
        if key != self._submitted and not busy and time.monotonic() - self._submitted_at >= ANALYSIS_INTERVAL_S:
            if view.sizes:
                self._submitted, self._submitted_at = key, time.monotonic()
                self.analysis.submit(self._analyse)
            else:
                self._submitted = key
        if not self.running and key == self._submitted and not busy:
            self._poll_timer.stop()

    def _analyse(self) -> FssResult:
        """Worker thread: the analysis of what the board holds now."""
        return analyse_board(self.board.data())

    def _on_result(self, result: FssResult) -> None:
        if result.generation != self.board.generation:
            return  # of a board that was reset since
        self.result = result
        self.plots.draw(result)
        self._describe(result)
        if not self._poll_timer.isActive() and (self.board.generation, self.board.data_version) != self._submitted:
            self._poll_timer.start()

    def _on_analysis_failed(self, message: str) -> None:
        self._show_message(f"analysis: {message}")

    def _describe(self, result: FssResult) -> None:
        h = result.headline()
        if h:
            text = (f"T_c = {plus_minus(h['tc'], 5)}   U* = {plus_minus(h['u4_star'])}   "
                    f"γ/ν = {plus_minus(h['gamma_over_nu'])}   ν = {plus_minus(h['nu'])}   "
                    f"({result.tasks} tasks; exact 2.26919, 0.61069, 1.75, 1)")
        else:
            text = f"{result.message} ({result.tasks} tasks so far)" if result.message else ""
        self._set_line(self.summary_label, text)
        if result.complete and result.message and not self.running and not self.message:
            key = (self.board.generation, result.version)
            if key != self._final_reported:  # the data are final: why there is no analysis is a problem now
                self._final_reported = key
                self._show_message(f"fss: {result.message}")

    # ------------------------------------------------------------------ the panel contract

    def model(self) -> dict | None:
        """The parameters of the sweep shown (None before a sweep or a store)."""
        return json_safe(self.board.parameters) if self.board.parameters else None

    def state(self) -> dict:
        """Inputs, "model" (the sweep's parameters), and what there is of: "store", "tasks" (counts
        by state), "summary" (T_c, U*, gamma/nu, nu: {mean, err}), "message" (the last problem);
        always "collapse" (T_c, nu and gamma/nu of the collapse shown)."""
        state = super().state()
        view = self.board.view()
        state["model"] = self.model()
        if view.store:
            state["store"] = view.store
        if view.sizes:
            state["tasks"] = view.counts()
        if self.result is not None and self.result.analysis is not None:
            state["summary"] = json_safe(self.result.headline())
        state["collapse"] = json_safe(self.plots.collapse_values())
        if self.message:
            state["message"] = self.message
        return state

    def restore(self, state: dict) -> list[str]:
        skipped = super().restore(state)
        collapse = state.get("collapse") or {}
        if isinstance(collapse.get("tc"), (int, float)) and isinstance(collapse.get("nu"), (int, float)):
            self.plots.set_collapse(float(collapse["tc"]), float(collapse["nu"]))
        return skipped

    def data_sets(self) -> list[DataSet]:
        r = self.result
        if r is None or not r.points or r.model is None:
            return []
        model = json_safe(r.model)
        meta = {"store": self.board.store, "tasks_analysed": r.tasks}
        L, T, seeds, u4, u4e, chi, chie = [], [], [], [], [], [], []
        for size in sorted(r.points):
            p = r.points[size]
            L += [size] * p.t.size
            T += p.t.tolist()
            seeds += p.seeds.tolist()
            u4 += p.u4.tolist()
            u4e += p.u4_err.tolist()
            chi += p.chi.tolist()
            chie += p.chi_err.tolist()
        out = [DataSet("fss_points", "measured points per (L, T), seeds combined", model,
                       {"L": L, "T": T, "seeds": seeds, "u4": u4, "u4_err": u4e, "chi": chi, "chi_err": chie},
                       {"L": "lattice spacings", "T": "J/k_B", "seeds": "", "u4": "", "u4_err": "",
                        "chi": "1/J", "chi_err": "1/J"}, meta=meta)]
        if r.table_t.size:
            for name, table, what, unit in (("fss_binder", r.table_u4, "Binder cumulant U4(T) per L, reweighted", ""),
                                            ("fss_chi", r.table_chi, "chi'(T) per L, reweighted", "1/J")):
                cols = {"T": r.table_t}
                units = {"T": "J/k_B"}
                for size in sorted(table):
                    cols[f"L{size}"] = table[size]
                    units[f"L{size}"] = unit
                out.append(DataSet(name, what + " (nan outside its reliable range)", model, cols, units, meta=meta))
        if r.analysis is not None:
            doc = {**json_safe(r.headline()), "analysis": json_safe(r.analysis),
                   "collapse_shown": json_safe(self.plots.collapse_values())}
            out.append(DataSet("fss_summary", "finite-size scaling: T_c, U*, gamma/nu, nu (jackknife over seeds)",
                               model, document=doc, formats=("json",), meta=meta))
        return out

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        """Cancel the sweep (its thread kills the embedded workers and ends at once) and the
        analysis; the waits share the window's close deadline."""
        self._poll_timer.stop()
        self.runner.cancel()
        self.analysis.shutdown(timeout=0.0)
        self.runner.cancel(wait=True, timeout=1.0)
        self.analysis.shutdown()
