"""The classifier tab's result plots: what a trained temperature classifier learned, against Bayes.

Sub-tabs:
- Training: live loss and accuracy curves (train and held-out) per epoch.
- Logits vs energy: held-out logit differences against -(1/T_y - 1/T_ref) E(x), dashed exact lines.
- Slopes: learned vs exact slopes and intercepts (-(ln Z(T_y) - ln Z(T_ref)), Kaufman) per class.
- Distilled: the network's coefficients on the local operator basis against the exact ones.

This widget only draws what it is given; the classifier tab owns the data and the workers and
wires the Distill button and the class selector to itself.
"""
from __future__ import annotations

import math

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from isinglab.core.learning import operators

from isinglab.app.panels.network_widgets import labelled, spin_box, titled_plot
from isinglab.app.panels.plot_layout import MIN_PLOT_HEIGHT, legend_below

CLASS_COLOURS = ["#E8601C", "#2CA58D", "#C05CA8", "#4A9BDB", "#D8B31C", "#8C6BB1", "#E34A6F", "#7FB800"]
MAX_SCATTER_POINTS = 4000


class ClassifierPlots(QTabWidget):
    """The "resultTabs" of the classifier tab: training curves, Bayes comparison, distillation."""

    def __init__(self, parent=None):
        super().__init__(parent, objectName="resultTabs")
        self.addTab(self._build_curves(), "Training")
        self.addTab(self._build_scatter(), "Logits vs energy")
        self.addTab(self._build_slopes(), "Slopes")
        self.addTab(self._build_distilled(), "Distilled")

    # ------------------------------------------------------------------ layout

    def _build_curves(self) -> QWidget:
        w = QWidget()
        v = QHBoxLayout(w)  # side by side: stacked, each was too low for its tick labels at 1280x720
        self.loss_plot = titled_plot("cross-entropy", "epoch", "loss")
        self.acc_plot = titled_plot("accuracy", "epoch", "fraction correct")
        for plot in (self.loss_plot, self.acc_plot):  # legends under the axes, not over the curves
            legend_below(plot.getPlotItem(), columns=2)
            plot.setMinimumHeight(MIN_PLOT_HEIGHT + 30)  # lower, the tick labels overprinted
        self.loss_curves = {k: self.loss_plot.plot(pen=pg.mkPen(c, width=2), name=n)
                            for k, c, n in (("loss", "#E8601C", "train"), ("held_out_loss", "#4A9BDB", "held-out"))}
        self.acc_curves = {k: self.acc_plot.plot(pen=pg.mkPen(c, width=2), name=n)
                           for k, c, n in (("accuracy", "#E8601C", "train"),
                                           ("held_out_accuracy", "#4A9BDB", "held-out"))}
        v.addWidget(self.loss_plot)
        v.addWidget(self.acc_plot)
        return w

    def _build_scatter(self) -> QWidget:
        self.scatter_plot = titled_plot("held-out logit differences", "exact -(1/T_y - 1/T_ref) E(x)",
                                        "learned logit_y - logit_ref")
        return self.scatter_plot

    def _build_slopes(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.slope_plot = titled_plot("slope of logit_y - logit_ref against E", "T_y", "slope [1/J]")
        self.intercept_plot = titled_plot("intercept: -(ln Z(T_y) - ln Z(T_ref))", "T_y", "intercept")
        v.addWidget(self.slope_plot)
        v.addWidget(self.intercept_plot)
        return w

    def _build_distilled(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        row = QHBoxLayout()
        self.distill_class = labelled(row, "class", QComboBox(objectName="distillClassCombo"))
        self.distill_range = labelled(row, "pair range", spin_box(1, operators.MAX_RANGE, 2, "distillRange"))
        self.distill_button = QPushButton("Distill", objectName="distillButton")
        row.addWidget(self.distill_button)
        row.addStretch(1)
        v.addLayout(row)
        self.distill_plot = titled_plot("network's coefficients K_y - K_ref on the operator basis", "operator group",
                                        "coefficient")
        v.addWidget(self.distill_plot)
        return w

    # ------------------------------------------------------------------ drawing

    def draw_history(self, history: list) -> None:
        """Loss and accuracy curves from the per-epoch records so far."""
        epochs = np.array([i.epoch for i in history], dtype=float)
        for key, curve in self.loss_curves.items():
            curve.setData(epochs, np.array([getattr(i, key) for i in history]))
        for key, curve in self.acc_curves.items():
            curve.setData(epochs, np.array([getattr(i, key) for i in history]))

    def draw_analysis(self, a) -> None:
        """Scatter and slope plots of an analysis, or empty plots for None (training restarted)."""
        self.scatter_plot.clear()
        self.slope_plot.clear()
        self.intercept_plot.clear()
        if a is None:
            return
        self._draw_scatter(a)
        self._draw_slopes(a)

    def _draw_scatter(self, a) -> None:
        """At most MAX_SCATTER_POINTS (a fixed random pick, so redraws agree) per class, plus the
        exact line where ln Z is known."""
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

    def _draw_slopes(self, a) -> None:
        t = np.array([c.temperature for c in a.classes])
        pairs = ((self.slope_plot, [c.slope for c in a.classes], [c.slope_exact for c in a.classes]),
                 (self.intercept_plot, [c.intercept for c in a.classes], [c.intercept_exact for c in a.classes]))
        for plot, learned, exact in pairs:
            exact = np.array(exact)
            known = np.isfinite(exact)  # ln Z is exact only at h = 0
            plot.plot(t[known], exact[known], pen=pg.mkPen("#9A9A9A", width=2, style=Qt.DashLine), symbol="x",
                      symbolSize=12, symbolPen="#9A9A9A", name="exact")
            plot.plot(t, np.array(learned), pen=None, symbol="o", symbolBrush="#E8601C", symbolSize=10, name="learned")

    def fill_distill_classes(self, distilled) -> None:
        """One selector entry per distilled class, the last selected, without a redraw per entry."""
        self.distill_class.blockSignals(True)
        self.distill_class.clear()
        if distilled is not None:
            self.distill_class.addItems([f"T = {c.temperature:g}" for c in distilled.classes])
            self.distill_class.setCurrentIndex(len(distilled.classes) - 1)
        self.distill_class.blockSignals(False)

    def draw_distilled(self, d) -> None:
        """Learned and exact coefficient bars, per operator group, of the selected class."""
        self.distill_plot.clear()
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


__all__ = ["CLASS_COLOURS", "ClassifierPlots", "MAX_SCATTER_POINTS"]
