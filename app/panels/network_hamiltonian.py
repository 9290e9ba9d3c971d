"""The network panel's Hamiltonian tab: pseudo-likelihood couplings at one temperature.

Samples configurations at one temperature and fits every local coupling by pseudo-likelihood on a
TaskRunner thread (progress, cancel). Shows the pair kernel J(dx, dy) as an image with the value
and its error on hover, all coefficients as log-scale bars grouped by order against the exact
ones, and, for small L, the full J_ij matrix (no translation invariance assumed).

The tab reports problems through `error` and clears the panel's message through `cleared`; the
"From simulation" button only asks (`simulation_requested`): the panel holds the snapshot.
"""
from __future__ import annotations

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QVBoxLayout, QWidget)

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import datasets, operators, pseudolikelihood as pl
from isinglab.core.learning.progress import SubTask

from isinglab.app.panels.network_viewer import diverging_lut
from isinglab.app.panels.network_widgets import labelled, push_button, spin_box, task_runner, titled_plot

ORDER_COLOURS = {1: "#9A9A9A", 2: "#E8601C", 3: "#2CA58D", 4: "#C05CA8"}
LOG_FLOOR = -5  # log-scale bars start at 1e-5


def short_name(op) -> str:
    """A tick label that fits under a bar: 'h', '1,0' for pair(1,0), 'plaq', and for a 3-spin
    corner of the plaquette '3s-11': the plaquette without its corner (1, 1)."""
    if op.order == 2:
        return "{},{}".format(*op.offsets[1])
    if op.order == 3:
        (dx, dy), = set(operators.PLAQUETTE) - set(op.offsets)
        return f"3s-{dx}{dy}"
    return {"h": "h", "plaquette": "plaq"}.get(op.name, op.name)


def _couplings_job(size, temperature, samples, range_, seed, full, task):
    """Worker thread: sample and fit the local couplings, then (if asked) the full J_ij."""
    split = 0.8 if full else 1.0
    fit, data = pl.learn_couplings(size, temperature, samples, range_, seed=seed, task=SubTask(task, 0.0, split))
    full_fit = pl.fit_full_couplings(data.spins, temperature, task=SubTask(task, split, 1.0)) if full else None
    return fit, full_fit


def _image_plot(title: str) -> tuple[pg.PlotWidget, pg.ImageItem]:
    """A square, y-down plot holding one image on the diverging colour scale (for couplings)."""
    plot = pg.PlotWidget(title=title)
    plot.setAspectLocked(True)
    plot.invertY(True)
    image = pg.ImageItem(axisOrder="row-major")
    image.setLookupTable(diverging_lut())
    plot.addItem(image)
    return plot, image


class HamiltonianTab(QWidget):
    """Pseudo-likelihood fit: controls, progress, the result line and three coupling plots."""

    error = Signal(str)  # a one-line problem for the panel's message and the status bar
    cleared = Signal()  # a new fit starts: the panel's old message no longer applies
    simulation_requested = Signal()  # "From simulation": the panel knows the last snapshot

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pl_fit = None
        self.full_fit = None
        self._build()
        self.pl_runner = task_runner(self, self._couplings_ready, self._couplings_failed, self.pl_progress,
                                     self._couplings_cancelled)

    def runners(self) -> tuple:
        """Every worker this tab starts, for the panel's shutdown (told all at once)."""
        return (self.pl_runner,)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        v = QVBoxLayout(self)
        v.addLayout(self._build_controls())
        self.pl_progress = QProgressBar(objectName="plProgress", maximum=1000)
        v.addWidget(self.pl_progress)
        self.pl_label = QLabel("Fit the couplings of samples at one temperature by pseudo-likelihood.",
                               objectName="plResultLabel")
        self.pl_label.setWordWrap(True)
        v.addWidget(self.pl_label)
        v.addLayout(self._build_plots(), 1)

    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.pl_size = labelled(row, "L", spin_box(6, 64, 16, "plSize", 2))
        self.pl_temperature = QDoubleSpinBox(objectName="plTemperature", decimals=3, minimum=0.1, maximum=20.0,
                                             singleStep=0.05, value=3.0)
        labelled(row, "T", self.pl_temperature)
        self.pl_samples = labelled(row, "samples", spin_box(2, datasets.MAX_SAMPLES, 4000, "plSamples", 500))
        self.pl_range = labelled(row, "pair range", spin_box(1, operators.MAX_RANGE, 2, "plRange"))
        self.pl_seed = labelled(row, "seed", spin_box(0, 2**31 - 1, 0, "plSeed"))
        self.pl_full = QCheckBox(f"full J_ij (L ≤ {pl.MAX_FULL_SIZE})", objectName="plFull")
        row.addWidget(self.pl_full)
        row.addWidget(push_button("From simulation", "plFromSimulation", lambda: self.simulation_requested.emit()))
        self.pl_button = push_button("Fit", "plFitButton", self._toggle_couplings)
        row.addWidget(self.pl_button)
        row.addStretch(1)
        return row

    def _build_plots(self) -> QGridLayout:
        grid = QGridLayout()
        self.kernel_plot, self.kernel_image = _image_plot("pair couplings J(dx, dy) [units: J/T]")
        self.kernel_plot.setLabel("bottom", "dx")
        self.kernel_plot.setLabel("left", "dy")
        self.kernel_tips = pg.ScatterPlotItem(size=18, pen=None, brush=(0, 0, 0, 0), symbol="s", hoverable=True,
                                              tip=lambda x, y, data: data)
        self.kernel_plot.addItem(self.kernel_tips)
        self.bars_plot = titled_plot("|coefficient| by order (log scale)", "operator (pairs: dx,dy)", "|K|")
        self.full_plot, self.full_image = _image_plot("full J_ij (no translation invariance)")
        grid.addWidget(self.kernel_plot, 0, 0)
        grid.addWidget(self.full_plot, 0, 1)
        grid.addWidget(self.bars_plot, 1, 0, 1, 2)
        return grid

    # ------------------------------------------------------------------ fitting

    def use_parameters(self, temperature: float, size: int) -> None:
        """Take a simulation's T (in units of J) and, if it fits the spin box, its L."""
        self.pl_temperature.setValue(temperature)
        if size <= self.pl_size.maximum():
            self.pl_size.setValue(size)

    def _toggle_couplings(self) -> None:
        if self.pl_runner.running:
            self.pl_runner.cancel()
            return
        self.fit_couplings()

    def fit_couplings(self, size=None, temperature=None, samples=None, range_=None, full=None) -> bool:
        """Start a fit (arguments default to the controls); False, with a message, on bad input."""
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
            self.error.emit(str(exc))
            return False
        self.cleared.emit()
        self.pl_button.setText("Cancel")
        self.pl_runner.start(_couplings_job, size, temperature, samples, range_, self.pl_seed.value(), full)
        return True

    def _couplings_ready(self, result) -> None:
        self.pl_button.setText("Fit")
        self.pl_fit, self.full_fit = result
        self.pl_label.setText(self._summary(self.pl_fit))
        self._draw_kernel()
        self._draw_bars()
        self._draw_full()

    @staticmethod
    def _summary(f) -> str:
        """The result line: the nearest-neighbour coupling against J/T, and the largest of the rest."""
        nn, exact_nn = f.groups()["nn"], f.exact_groups()["nn"]
        others = [abs(c) for op, c in zip(f.operators, f.coefficients) if op.group != "nn"]
        return (f"K_nn = {nn['mean']:.4f} ± {nn['err']:.4f} (exact J/T = {exact_nn:.4f}, "
                f"{100 * (nn['mean'] / exact_nn - 1):+.1f}%); largest other |K| = {max(others):.4f}; "
                f"L = {f.size}, {f.samples} samples, fit {f.seconds:.1f} s")

    def _couplings_failed(self, message: str) -> None:
        self.pl_button.setText("Fit")
        self.error.emit(message)

    def _couplings_cancelled(self) -> None:
        self.pl_button.setText("Fit")
        self.pl_label.setText("fit cancelled")

    # ------------------------------------------------------------------ drawing

    def _draw_kernel(self) -> None:
        """J(dx, dy) on a symmetric colour scale, with the value and error of each tap on hover."""
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
        """|K| on a log scale coloured by order, with the 1-sigma noise and the exact values."""
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
        self._label_bars(f.operators)

    def _label_bars(self, ops) -> None:
        self.bars_plot.getAxis("left").setTicks([[(e, f"1e{e}") for e in range(LOG_FLOOR, 1)]])
        self.bars_plot.getAxis("bottom").setTicks([[(i, short_name(op)) for i, op in enumerate(ops)]])
        self.bars_plot.setYRange(LOG_FLOOR, 0.2)
        self.bars_plot.setTitle("|K| by order: grey 1-spin, orange 2-spin, green 3-spin, purple plaquette; "
                                "▽ 1σ, × exact")

    def _draw_full(self) -> None:
        """The full J_ij, or how to get one; its title compares neighbours with everything else."""
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


__all__ = ["HamiltonianTab", "LOG_FLOOR", "ORDER_COLOURS", "short_name"]
