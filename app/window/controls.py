"""The controls dock: temperature slider with a T_c mark, model parameters, run controls."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QSlider, QSpinBox, QStyle, QStyleOptionSlider, QToolButton,
                               QVBoxLayout, QWidget, QCheckBox)

from isinglab.core.exact import TC, critical_temperature
from isinglab.core.params import ALGORITHMS

from isinglab.app.ui import TEAL
from isinglab.app.window.actions import object_name

T_MIN, T_MAX, T_STEPS_PER_UNIT = 0.5, 5.0, 1000
SIZES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
BACKENDS = {"numba (CPU)": ("numba", None), "torch (CPU)": ("torch", "cpu"), "torch (CUDA)": ("torch", "cuda")}


class TcSlider(QSlider):
    """A horizontal slider over T in thousandths, with a red tick at T_c = |J| * 2.269."""

    def __init__(self):
        super().__init__(Qt.Orientation.Horizontal)
        self.setRange(int(T_MIN * T_STEPS_PER_UNIT), int(T_MAX * T_STEPS_PER_UNIT))
        self.setSingleStep(10)
        self.setPageStep(100)
        self.tc = TC

    def set_tc(self, tc: float) -> None:
        self.tc = tc
        self.update()

    def paintEvent(self, event):
        super().paintEvent(event)
        if not T_MIN <= self.tc <= T_MAX:
            return
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        x = groove.x() + handle.width() / 2 + span * (self.tc - T_MIN) / (T_MAX - T_MIN)
        p = QPainter(self)
        p.setPen(QPen(QColor(220, 40, 40), 2))
        p.drawLine(int(x), 0, int(x), self.height())
        p.end()


def _spin(name, lo, hi, step, decimals, value, tip):
    w = QDoubleSpinBox()
    w.setObjectName(name)
    w.setRange(lo, hi)
    w.setSingleStep(step)
    w.setDecimals(decimals)
    w.setValue(value)
    w.setToolTip(tip)
    w.setKeyboardTracking(False)
    return w


class ControlsPanel(QWidget):
    """Emits `changed(dict)` with the model parameters a user edits; the window forwards them."""

    changed = Signal(dict)  # model parameter changes: {name: value}
    backend_changed = Signal(tuple)  # (backend, device): where the sweeps run, not a model parameter
    temperature_changed = Signal(float)

    def __init__(self, actions: dict, parent=None):
        super().__init__(parent)
        self.setObjectName("controlsPanel")
        self._build(actions)
        self._connect()

    def _build(self, actions):
        self.slider = TcSlider()
        self.slider.setObjectName("temperatureSlider")
        self.slider.setToolTip("Temperature T (red mark: T_c). Left/Right nudge, Shift for fine steps")
        self.spin = _spin("temperatureSpin", T_MIN, T_MAX, 0.01, 3, TC, "Temperature T in units of J/k_B")
        self.ratio = QLabel()
        self.ratio.setObjectName("tcRatioLabel")
        self.coupling = _spin("couplingSpin", -5.0, 5.0, 0.1, 3, 1.0, "Coupling J; negative = antiferromagnet")
        self.field = _spin("fieldSpin", -2.0, 2.0, 0.01, 3, 0.0, "External field h")
        self.size = QComboBox()
        self.size.setObjectName("sizeCombo")
        self.size.addItems([str(s) for s in SIZES])
        self.size.setToolTip("Lattice side L")
        self.algorithm = QComboBox()
        self.algorithm.setObjectName("algorithmCombo")
        self.algorithm.addItems(list(ALGORITHMS))
        self.algorithm.setToolTip("Update algorithm; switch any time")
        self.backend = QComboBox()
        self.backend.setObjectName("backendCombo")
        self.backend.addItems(list(BACKENDS))
        self.backend.setToolTip("Compute backend: numba kernels, or PyTorch (metropolis and heat-bath; "
                                "CUDA when a GPU is present, else the CPU with a message)")
        self.speed = QSpinBox()
        self.speed.setObjectName("speedSpin")
        self.speed.setRange(0, 10000)
        self.speed.setSpecialValueText("auto")
        self.speed.setToolTip("Sweeps per frame (auto keeps one frame of latency)")
        self.seed = QSpinBox()
        self.seed.setObjectName("seedSpin")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed: the same seed replays the same trajectory")
        self.colormap = QComboBox()
        self.colormap.setObjectName("colormapCombo")
        self.colormap.addItems(["classic", "grey", "high-contrast"])
        self.walls = QCheckBox("domain walls")
        self.walls.setObjectName("domainWallsCheck")
        self.cluster = QCheckBox("last cluster")
        self.cluster.setObjectName("clusterCheck")
        self.cluster.setToolTip("Highlight the last Wolff cluster")

        tbar = QHBoxLayout()
        tbar.addWidget(self.slider, 1)
        tbar.addWidget(self.spin)
        # two columns (model | run and display): half the height of one, so the default layout
        # leaves the Observables plots below a readable height
        model, run = QFormLayout(), QFormLayout()
        model.addRow("T/T_c", self.ratio)
        model.addRow("J", self.coupling)
        model.addRow("h", self.field)
        model.addRow("L", self.size)
        model.addRow("algorithm", self.algorithm)
        run.addRow("backend", self.backend)
        run.addRow("sweeps/frame", self.speed)
        run.addRow("seed", self.seed)
        run.addRow("colours", self.colormap)
        overlays = QHBoxLayout()
        overlays.addWidget(self.walls)
        overlays.addWidget(self.cluster)
        run.addRow("overlays", overlays)
        form = QHBoxLayout()
        form.addLayout(model, 1)
        form.addSpacing(12)
        form.addLayout(run, 1)
        buttons = QHBoxLayout()
        self.buttons = {}
        for name in ("run", "step", "snap_tc", "reset_random", "reset_up", "reset_down"):
            b = self.buttons[name] = QToolButton()
            b.setObjectName(object_name(name).removesuffix("Action") + "Button")  # runButton, ...
            b.setDefaultAction(actions[name])  # checkable and checked as the action is
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep Space for run/pause
            buttons.addWidget(b)
        # Run is checked while the simulation runs (the action follows the engine): make that
        # plain from the back of a room, not only the style's sunken frame
        self.buttons["run"].setStyleSheet(f"QToolButton:checked {{ background: {TEAL}; color: white; "
                                          "font-weight: bold; border-radius: 3px; }")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Temperature"))
        layout.addLayout(tbar)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addStretch(1)
        self.set_temperature(TC)

    def _connect(self):
        self.slider.valueChanged.connect(lambda v: self.set_temperature(v / T_STEPS_PER_UNIT, emit=True))
        self.spin.valueChanged.connect(lambda v: self.set_temperature(v, emit=True))
        self.coupling.valueChanged.connect(self._coupling_changed)
        self.field.valueChanged.connect(lambda v: self.changed.emit({"field": v}))
        self.size.currentTextChanged.connect(lambda t: self.changed.emit({"size": int(t)}))
        self.algorithm.currentTextChanged.connect(lambda a: self.changed.emit({"algorithm": a}))
        self.seed.valueChanged.connect(lambda v: self.changed.emit({"seed": v}))
        self.backend.currentTextChanged.connect(lambda t: self.backend_changed.emit(tuple(BACKENDS[t])))

    def _coupling_changed(self, j):
        self.slider.set_tc(critical_temperature(j))
        self._update_ratio()
        self.changed.emit({"coupling": j})

    @property
    def temperature(self) -> float:
        return self.spin.value()

    @property
    def tc(self) -> float:
        return self.slider.tc

    def set_temperature(self, t: float, emit: bool = False) -> None:
        """Move slider and spin box together, without feedback loops."""
        t = min(max(round(t, 3), T_MIN), T_MAX)
        for w, v in ((self.slider, int(round(t * T_STEPS_PER_UNIT))), (self.spin, t)):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)
        self._update_ratio()
        if emit:
            self.temperature_changed.emit(t)

    def _update_ratio(self):
        tc = self.slider.tc
        self.ratio.setText(f"{self.spin.value() / tc:.4f}" if tc > 0 else "—")

    def set_backend(self, backend: str, device: str | None) -> None:
        """Show the engine's backend without emitting (after a refused or fallen-back switch)."""
        name = next((k for k, v in BACKENDS.items() if v[0] == backend and (v[1] or "cpu") == (device or "cpu")),
                    "numba (CPU)")
        self.backend.blockSignals(True)
        self.backend.setCurrentText(name)
        self.backend.blockSignals(False)

    def set_values(self, params) -> None:
        """Show params without emitting changes (used on start and to revert a refused change)."""
        for w, v in ((self.coupling, params.coupling), (self.field, params.field),
                     (self.seed, params.seed)):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)
        for w, text in ((self.size, str(params.size)), (self.algorithm, params.algorithm)):
            w.blockSignals(True)
            if w.findText(text) < 0:
                w.addItem(text)
            w.setCurrentText(text)
            w.blockSignals(False)
        self.slider.set_tc(critical_temperature(params.coupling))
        self.set_temperature(params.temperature)
