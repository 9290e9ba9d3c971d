"""Correlations panel: G(r) at the current temperature with its fits, and xi(T) over Onsager's curve.

Top: the connected G(r) along the axes (points with jackknife error bars), its radial average,
the projected correlator C(t)/C(0) with the exponential (one- or two-particle) fit that gives
xi_exp, and near T_c the power-law fit that gives eta; semi-log or log-log.
Bottom: xi_exp and xi_2nd per temperature bin, accumulating while the slider is dragged, over
Onsager's exact xi(T) (above and below T_c), sqrt(2/5) xi below T_c (where xi_2nd belongs),
the T_c line and the L/4 line above which the lattice dominates.

Threads: `on_snapshot` only does bookkeeping (dropping repeats and the first sweeps after a
temperature change) and hands the spins to a LatestOnlyWorker. The worker owns a
`CorrelationScan` (one FFT per snapshot into per-temperature block accumulators; fits at most
every ANALYSIS_INTERVAL_S per bin) and sends back immutable `ScanUpdate`s; the plots are redrawn
from the newest one at <= 10 Hz. Nothing the GUI thread does scales with L except drawing
L/2 points.
"""
from __future__ import annotations

import math

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolButton, QVBoxLayout

from isinglab.core import correlation as corr
from isinglab.core import exact
from isinglab.core.exact_curves import onsager_xi_curves

from isinglab.app.panels.base import AnalysisPanel
from isinglab.app.panels.contract import DataSet
from isinglab.app.panels.correlation_scan import (ANALYSIS_INTERVAL_S, BIN_WIDTH, CorrelationModel,  # noqa: F401
                                                  CorrelationScan, ScanUpdate)
from isinglab.app.panels.plot_layout import MIN_PLOT_HEIGHT, DecadeAxis, legend_below, scrolling
from isinglab.app.panels.workers import LatestOnlyWorker
from isinglab.app import ui as palette

REDRAW_INTERVAL_MS = 100
T_RANGE = (0.5, 5.0)  # Onsager curves, units of |J|
LINE_WIDTH = 2
COLOURS = {"g": palette.ORANGE, "radial": palette.GREY, "c": palette.BLUE, "eta": palette.MAGENTA,
           "xi_exp": palette.ORANGE, "xi_2nd": palette.TEAL, "onsager": palette.BLUE, "tc": palette.MAGENTA,
           "size": palette.SIZE_RED, "current": palette.GREY}


def _pen(colour: str, dashed: bool = False):
    return pg.mkPen(colour, width=LINE_WIDTH, style=Qt.DashLine if dashed else Qt.SolidLine)


# ----------------------------------------------------------------------------- exact curves

def _log_bars(x, y, err, log_x: bool):
    """ErrorBarItem arguments in the view coordinates of a log-y (and maybe log-x) plot."""
    ok = np.isfinite(y) & (y > 0) & (x > 0 if log_x else True)
    x, y, err = x[ok], y[ok], np.nan_to_num(err[ok])
    ly = np.log10(y)
    top = np.log10(y + err) - ly
    bottom = ly - np.log10(np.maximum(y - err, 1e-3 * y))  # a bar reaching 0 is drawn to y/1000
    return {"x": np.log10(x) if log_x else x, "y": ly, "top": top, "bottom": bottom}


# ----------------------------------------------------------------------------- the panel

class CorrelationPanel(AnalysisPanel):
    panel_id = "correlationDock"
    title = "Correlations"

    def __init__(self, parent=None, size: int = 128, coupling: float = 1.0, field: float = 0.0):
        super().__init__(parent)
        self.setObjectName("correlationPanel")
        self.scan = CorrelationScan()
        self._worker = LatestOnlyWorker("isinglab-correlations", self)
        self._worker.finished.connect(self._on_update)
        self._worker.failed.connect(self._on_failed)
        self.latest_update = None  # newest ScanUpdate of the current model
        self._model = None
        self._last_serial = None
        self._last_sweeps = None
        self._equilibration = None  # of the newest snapshot: what the status says while waiting
        self._last_params = None
        self._last_t = None
        self._g_frame = None  # (L, log x) of the axes set for an empty G(r); None: auto range
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self.refresh)
        self._build()
        self.set_model(size, coupling, field)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.clear_button = QToolButton(self, objectName="clearCorrelationsButton", text="Clear")
        self.clear_button.setToolTip("Forget all accumulated snapshots and xi(T) points")
        self.clear_button.clicked.connect(self.clear)
        self.loglog_button = QToolButton(self, objectName="logLogButton", text="log–log", checkable=True)
        self.loglog_button.setToolTip("G(r) on log-log axes (power law: straight) instead of "
                                      "semi-log (exponential: straight)")
        self.loglog_button.toggled.connect(self._set_log_x)
        self.status_label = QLabel(self, objectName="correlationStatus")
        bar.addWidget(self.clear_button)
        bar.addWidget(self.loglog_button)
        bar.addWidget(self.status_label, 1)
        layout.addLayout(bar)
        self.warning_label = QLabel(self, objectName="correlationWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #D03030; font-weight: bold;")
        layout.addWidget(self.warning_label)
        splitter = QSplitter(Qt.Vertical, self)
        splitter.addWidget(self._build_g_plot())
        splitter.addWidget(self._build_xi_plot())
        # two plots and their legends: scrolled on a low projector rather than overprinted
        layout.addWidget(scrolling(splitter, 2 * (MIN_PLOT_HEIGHT + 80), self), 1)

    def _build_g_plot(self) -> pg.PlotWidget:
        # decade labels only on the log axes: the minor ones overprinted each other
        view = pg.PlotWidget(self, axisItems={side: DecadeAxis(side) for side in ("left", "bottom")})
        plot = self.g_plot = view.getPlotItem()
        plot.setLabel("bottom", "r, t [lattice spacings]")
        plot.setLabel("left", "G(r),  C(t)/C(0)")
        plot.setLogMode(x=False, y=True)
        plot.layout.setContentsMargins(1, 8, 1, 1)  # room for the top tick label (no title above)
        legend = legend_below(plot, columns=3)  # under the axis: over the view it hid the data
        dots = dict(pen=None, symbolPen=None, symbolSize=7)
        self.g_points = plot.plot(symbol="o", symbolBrush=COLOURS["g"], **dots)
        self.g_bars = pg.ErrorBarItem(pen=_pen(COLOURS["g"]), beam=0.0)
        plot.addItem(self.g_bars)
        self.radial_curve = plot.plot(pen=_pen(COLOURS["radial"]))
        self.c_points = plot.plot(symbol="t", symbolBrush=COLOURS["c"], **dots)
        self.c_fit = plot.plot(pen=_pen(COLOURS["c"]))
        self.eta_fit = plot.plot(pen=_pen(COLOURS["eta"], dashed=True))
        for item, text in ((self.g_points, "G(r) along the axes"), (self.radial_curve, "G(r) radial"),
                           (self.c_points, "C(t)/C(0), row sums"), (self.c_fit, "fit → ξ_exp"),
                           (self.eta_fit, "power law → η")):
            legend.addItem(item, text)
        self.g_waiting = pg.TextItem("", anchor=(0.5, 0.5), color=COLOURS["current"])  # why G(r) is empty
        plot.addItem(self.g_waiting, ignoreBounds=True)
        view.setMinimumHeight(MIN_PLOT_HEIGHT + 80)  # the plot and its legend's two rows
        return view

    def _build_xi_plot(self) -> pg.PlotWidget:
        view = pg.PlotWidget(self)
        plot = self.xi_plot = view.getPlotItem()
        plot.setLabel("bottom", "T [J/k_B]")
        plot.setLabel("left", "ξ [lattice spacings]")
        plot.layout.setContentsMargins(1, 8, 1, 1)
        legend = legend_below(plot, columns=2)
        self.onsager_curve = plot.plot(pen=_pen(COLOURS["onsager"]), connect="finite")
        self.second_curve = plot.plot(pen=_pen(COLOURS["xi_2nd"], dashed=True), connect="finite")
        self.tc_line = pg.InfiniteLine(angle=90, pen=_pen(COLOURS["tc"], dashed=True))
        self.size_line = pg.InfiniteLine(angle=0, pen=_pen(COLOURS["size"], dashed=True),
                                         label="L/4", labelOpts={"position": 0.05, "color": COLOURS["size"]})
        self.current_line = pg.InfiniteLine(angle=90, pen=_pen(COLOURS["current"]))
        self.current_line.setVisible(False)
        for line in (self.tc_line, self.size_line, self.current_line):
            plot.addItem(line, ignoreBounds=True)
        self.xi_points, self.xi_bars = {}, {}
        for name, symbol in (("xi_exp", "o"), ("xi_2nd", "s")):
            self.xi_bars[name] = pg.ErrorBarItem(pen=_pen(COLOURS[name]), beam=0.0)
            plot.addItem(self.xi_bars[name])
            self.xi_points[name] = plot.plot(pen=None, symbol=symbol, symbolPen=None, symbolSize=7,
                                             symbolBrush=COLOURS[name])
        legend.addItem(self.onsager_curve, "Onsager ξ (exact)")
        legend.addItem(self.second_curve, "√(2/5) ξ: where ξ_2nd belongs below T_c")
        legend.addItem(self.xi_points["xi_exp"], "ξ_exp (fit of C(t))")
        legend.addItem(self.xi_points["xi_2nd"], "ξ_2nd (S(0), S(k_min))")
        view.setMinimumHeight(MIN_PLOT_HEIGHT + 80)
        return view

    # ------------------------------------------------------------------ model

    def set_model(self, size: int, coupling: float, field: float = 0.0) -> None:
        """Lattice size, J and h shown: exact curves, T_c and L/4 lines; points of another model go."""
        model = CorrelationModel(int(size), float(coupling), float(field))
        if model == self._model:
            return
        self._model = model
        self.latest_update = None
        L, J, h = model
        (t, xi), (t2, xi2) = onsager_xi_curves(J, L) if h == 0.0 else (([], []), ([], []))
        self.onsager_curve.setData(t, xi)
        self.second_curve.setData(t2, xi2)
        self.tc_line.setValue(abs(J) * exact.TC)
        self.tc_line.setVisible(J != 0.0)
        self.size_line.setValue(corr.FINITE_SIZE_FRACTION * L)
        j = abs(J) or 1.0
        self.xi_plot.setXRange(1.0 * j, 3.6 * j, padding=0.0)
        self.xi_plot.setYRange(0.0, 0.5 * L, padding=0.02)
        self.refresh()

    # ------------------------------------------------------------------ data in

    def on_snapshot(self, snapshot) -> None:
        """GUI thread, display rate: bookkeeping only; the FFT and fits run on the worker."""
        if snapshot.serial == self._last_serial:
            return
        self._last_serial = snapshot.serial
        p = snapshot.params
        self.set_model(p.size, p.coupling, p.field)
        if p != self._last_params:
            self._last_params = p
            self._show_temperature(p.temperature)
        if snapshot.equilibration != self._equilibration and self.latest_update is None \
                and not self._redraw_timer.isActive():
            self._redraw_timer.start()  # the waiting text follows the equilibration
        self._equilibration = snapshot.equilibration
        if not snapshot.equilibrium or snapshot.sweeps == self._last_sweeps:
            return  # not in equilibrium (the engine's test), or the same lattice again (paused)
        self._last_sweeps = snapshot.sweeps
        self._worker.submit(self.scan.process, snapshot.spins, p)

    def follow_model(self, params) -> None:
        self.set_model(params.size, params.coupling, params.field)

    def waiting_text(self) -> str:
        """Why G(r) shows no fit ("" once it does): the equilibration the engine waits for, or how
        many of the snapshots a fit needs are in."""
        u = self.latest_update
        if u is not None and u.result is not None:
            return ""
        if u is not None:
            return f"collecting {u.n}/{corr.MIN_SAMPLES} snapshots at T = {u.temperature:.3f}"
        eq = self._equilibration
        if eq is not None and not eq.equilibrated:
            return eq.describe()
        return "waiting for equilibrium snapshots…"

    def _show_temperature(self, t: float) -> None:
        """Move the current-T marker, widening the T axis when the slider left it."""
        self._last_t = t
        self.current_line.setValue(t)
        self.current_line.setVisible(True)
        lo, hi = self.xi_plot.getViewBox().viewRange()[0]
        if not lo <= t <= hi:
            self.xi_plot.setXRange(min(lo, t - 0.2), max(hi, t + 0.2), padding=0.0)

    def clear(self) -> None:
        """Forget every bin (applied by the worker before its next snapshot)."""
        self.scan.request_clear()
        self.latest_update = None
        self.refresh()

    def _on_update(self, update) -> None:
        if update is None or update.model != self._model:
            return  # from before a model change
        self.latest_update = update
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _on_failed(self, message: str) -> None:
        self.warning_label.setText(message)
        self.show_status(f"Correlations: {message}")

    # ------------------------------------------------------------------ the panel contract

    def state(self) -> dict:
        state = super().state()
        u = self.latest_update
        if u is not None:
            state["current_temperature"] = u.temperature
            state["xi_points"] = {k: [a.tolist() for a in v] for k, v in u.points.items()}
            state["model"] = u.model._asdict()
        return state

    def data_sets(self) -> list[DataSet]:
        u = self.latest_update
        if u is None or u.result is None:
            return []
        r = u.result
        xi = {k: {"T": a.tolist(), "mean": b.tolist(), "err": c.tolist()} for k, (a, b, c) in u.points.items()}
        return [DataSet("correlation", "correlation function of the current temperature bin",
                        {**u.model._asdict(), "temperature": r.temperature},
                        {"r": r.r, "g": r.g, "g_err": r.g_err}, {"r": "lattice spacings", "g": "", "g_err": ""},
                        {"result": r.to_json(), "xi_points": xi}, formats=("csv", "json"),
                        meta={"temperature": r.temperature, "n_samples": r.n_samples})]

    @property
    def busy(self) -> bool:
        return self._worker.busy

    # ------------------------------------------------------------------ drawing

    def _set_log_x(self, on: bool) -> None:
        self.g_plot.setLogMode(x=on, y=True)
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the newest update (normally via the 10 Hz throttle)."""
        self._redraw_timer.stop()
        u = self.latest_update
        res = u.result if u is not None else None
        self._draw_g(res)
        self._draw_xi(u)
        self._describe(u)

    def _draw_g(self, res) -> None:
        log_x = self.loglog_button.isChecked()
        if res is None:
            for item in (self.g_points, self.radial_curve, self.c_points, self.c_fit, self.eta_fit):
                item.setData([], [])
            empty = np.array([])  # every array at once: ErrorBarItem keeps old ones otherwise
            self.g_bars.setData(x=empty, y=empty, top=empty, bottom=empty)
            self._frame_empty_g(log_x)
            return
        if self._g_frame is not None:  # data again: the axes follow it
            self._g_frame = None
            self.g_waiting.setVisible(False)
            self.g_plot.enableAutoRange()
        self._set_positive(self.g_points, res.r, res.g, log_x)
        self.g_bars.setData(**_log_bars(res.r, res.g, res.g_err, log_x))
        if res.g_radial is not None:
            self._set_positive(self.radial_curve, res.r_radial, res.g_radial, log_x)
        c0 = res.c[0] if res.c[0] > 0 else 1.0
        self._set_positive(self.c_points, res.t, res.c / c0, log_x)
        self._draw_fit(self.c_fit, res.fit_exp, res.exp_fit_curve, c0, log_x)
        self._draw_fit(self.eta_fit, res.fit_eta, res.eta_fit_curve, 1.0, log_x)

    def _frame_empty_g(self, log_x: bool) -> None:
        """No G(r) yet: axes of this L (r from 0 to L/2, G from 1e-3 to 1), not an empty plot's
        arbitrary range, and the reason in the middle of the plot."""
        half = max(self._model.size / 2, 2.0)
        x0, x1 = (0.0, math.log10(half)) if log_x else (0.0, half)
        if self._g_frame != (half, log_x):
            self._g_frame = (half, log_x)
            self.g_plot.setXRange(x0, x1, padding=0.02)
            self.g_plot.setYRange(-3.0, 0.0, padding=0.02)  # log10 G(r)
            self.g_waiting.setPos((x0 + x1) / 2, -1.5)
        self.g_waiting.setText(self.waiting_text())
        self.g_waiting.setVisible(True)

    @staticmethod
    def _set_positive(item, x, y, log_x: bool) -> None:
        ok = np.isfinite(y) & (y > 0) & ((x > 0) if log_x else True)
        item.setData(x[ok], y[ok])

    def _draw_fit(self, item, fit, curve, scale: float, log_x: bool) -> None:
        if fit is None:
            item.setData([], [])
            return
        lo, hi = fit["window"]
        x = np.linspace(lo, hi, 100)
        self._set_positive(item, x, curve(x) / scale, log_x)

    def _draw_xi(self, u) -> None:
        for name, item in self.xi_points.items():
            t, y, err = u.points[name] if u is not None else (np.array([]),) * 3
            item.setData(t, y)
            self.xi_bars[name].setData(x=t, y=y, top=err, bottom=err, beam=0.3 * BIN_WIDTH)

    def _describe(self, u) -> None:
        L, J, h = self._model
        warnings = []
        if u is None:
            eq = self._equilibration
            waiting = eq.describe() if eq is not None and not eq.equilibrated else "waiting for snapshots…"
            self.status_label.setText(waiting)
        else:
            self.status_label.setText(self._status_text(u))
            if u.result is None:
                warnings.append(f"too few data for a fit: {u.n} of {corr.MIN_SAMPLES} snapshots at "
                                f"T = {u.temperature:.3f}")
            else:
                warnings.extend(u.result.warnings)  # includes why an estimator has no value
        xi = corr.exact_xi(self._last_t, J, h) if self._last_t else None
        if xi is not None and xi > corr.FINITE_SIZE_FRACTION * L and not any("L/4" in w for w in warnings):
            warnings.insert(0, f"ξ > L/4 = {corr.FINITE_SIZE_FRACTION * L:g}: finite-size dominated")
        self.warning_label.setText("\n".join(warnings))

    @staticmethod
    def _status_text(u) -> str:
        text = f"T = {u.temperature:.3f}: {u.n} snapshots"
        res = u.result
        if res is None:
            return text
        parts = []
        for name, label in (("xi_exp", "ξ_exp"), ("xi_2nd", "ξ_2nd"), ("eta", "η")):
            est = getattr(res, name)
            if est is not None and est.ok:
                parts.append(f"{label} = {est.value:.3g} ± {est.err:.2g}")
            elif est is not None and est.limit:
                parts.append(f"{label} {est.limit} {est.value:.3g}")
        if res.xi_exact is not None:
            parts.append(f"exact ξ = {res.xi_exact:.3g}")
        return text + ("; " + ", ".join(parts) if parts else "")

    def shutdown(self) -> None:
        self._redraw_timer.stop()
        self._worker.shutdown()
