"""The network panel's Gate tab: the paper's four-neuron multiplication x*y and its error.

Pick a nonlinearity and the scale lambda; the tab plots the gate's largest error over
x, y in [-1, 1] against lambda (with a lambda^2 guide) and the gate's product against x*y for a
fixed y. Everything here is cheap enough to compute on the GUI thread as the slider moves.
"""
from __future__ import annotations

import math

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import gate as gate_mod

from isinglab.app.panels.network_widgets import labelled, titled_plot

GATE_LAMBDAS = np.logspace(-4, 0, 61)
GATE_Y = 0.8  # the fixed second factor in the gate's x*y plot


class GateTab(QWidget):
    """Controls and plots of the multiplication gate; `gate_error_now` is the error at the slider."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._build()
        self.set_gate(0.1, "softplus")

    def _build(self) -> None:
        v = QVBoxLayout(self)
        v.addLayout(self._build_controls())
        self.gate_combo.currentTextChanged.connect(lambda _t: self._gate_changed())
        self.gate_slider.valueChanged.connect(lambda _v: self._gate_changed())
        v.addWidget(QLabel("x·y ≈ [σ(λ(x+y)) + σ(−λ(x+y)) − σ(λ(x−y)) − σ(−λ(x−y))] / (4 λ² σ″(0))"))
        self._build_plots()
        v.addWidget(self.gate_error_plot, 1)
        v.addWidget(self.gate_product_plot, 1)

    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.gate_combo = labelled(row, "σ", QComboBox(objectName="gateNonlinearity"))
        self.gate_combo.addItems(list(gate_mod.NONLINEARITIES))
        self.gate_slider = QSlider(Qt.Horizontal, objectName="gateLambda", minimum=0, maximum=100, value=75)
        row.addWidget(QLabel("λ"))
        row.addWidget(self.gate_slider, 2)
        self.gate_label = QLabel("", objectName="gateLabel")
        row.addWidget(self.gate_label, 3)
        return row

    def _build_plots(self) -> None:
        self.gate_error_plot = titled_plot("largest error over x, y in [-1, 1]", "λ", "max |gate − x·y|")
        self.gate_error_plot.setLogMode(x=True, y=True)
        self.gate_error_curve = self.gate_error_plot.plot(pen=pg.mkPen("#E8601C", width=2), name="gate")
        self.gate_guide = self.gate_error_plot.plot(pen=pg.mkPen("#9A9A9A", width=1, style=Qt.DashLine),
                                                    name="∝ λ²")
        self.gate_marker = self.gate_error_plot.plot(symbol="o", symbolBrush="#C05CA8", pen=None)
        self.gate_product_plot = titled_plot(f"gate(x, {GATE_Y}) against x·{GATE_Y}", "x", "product")
        self.gate_exact = self.gate_product_plot.plot(pen=pg.mkPen("#9A9A9A", width=2, style=Qt.DashLine),
                                                      name="x·y")
        self.gate_approx = self.gate_product_plot.plot(pen=pg.mkPen("#E8601C", width=2), name="four neurons")

    def gate_lambda(self) -> float:
        """The slider's lambda: 0..max maps to 1e-4..1 on a log scale."""
        return float(10.0 ** (-4.0 + 4.0 * self.gate_slider.value() / self.gate_slider.maximum()))

    def set_gate(self, lam: float, nonlinearity: str) -> None:
        """Set both controls without a redraw per control, then redraw once."""
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
        except IsingLabError as exc:  # a nonlinearity with sigma''(0) = 0 cannot multiply
            self._show_no_gate(str(exc))
            return
        self._draw_error(errors, lam, here)
        x = np.linspace(-1.0, 1.0, 101)
        self.gate_exact.setData(x, x * GATE_Y)
        self.gate_approx.setData(x, gate_mod.gate(x, GATE_Y, lam, name))
        self.gate_label.setText(f"λ = {lam:.3g}: largest error {here:.3g}")
        self.gate_error_now = here

    def _show_no_gate(self, message: str) -> None:
        """Say why there is no gate and empty its curves, so no stale curve suggests one."""
        self.gate_label.setText(message)
        for c in (self.gate_error_curve, self.gate_guide, self.gate_marker, self.gate_approx):
            c.setData([], [])

    def _draw_error(self, errors, lam: float, here: float) -> None:
        """The error curve, a lambda^2 guide through it at lambda = 0.1, and the slider's point."""
        self.gate_error_curve.setData(GATE_LAMBDAS, errors)
        ref = int(np.argmin(np.abs(GATE_LAMBDAS - 0.1)))
        self.gate_guide.setData(GATE_LAMBDAS, errors[ref] * (GATE_LAMBDAS / GATE_LAMBDAS[ref]) ** 2)
        self.gate_marker.setData([lam], [here])


__all__ = ["GATE_LAMBDAS", "GATE_Y", "GateTab"]
