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
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolButton, QVBoxLayout

from isinglab.core import correlation as corr
from isinglab.core import exact

from isinglab.app.panels.base import AnalysisPanel
from isinglab.app.panels.contract import DataSet
from isinglab.app.panels.workers import LatestOnlyWorker
from isinglab.app import ui as palette

BIN_WIDTH = 0.02  # temperature bins, in units of |J|
ANALYSIS_INTERVAL_S = 0.3  # refit a bin at most this often (and at most 25 % of worker time)
MAX_BLOCKS = 32  # per bin: 16..32 jackknife blocks keep a refit well under 0.1 s
REDRAW_INTERVAL_MS = 100
T_RANGE = (0.5, 5.0)  # Onsager curves, units of |J|
LINE_WIDTH = 2
COLOURS = {"g": palette.ORANGE, "radial": palette.GREY, "c": palette.BLUE, "eta": palette.MAGENTA,
           "xi_exp": palette.ORANGE, "xi_2nd": palette.TEAL, "onsager": palette.BLUE, "tc": palette.MAGENTA,
           "size": palette.SIZE_RED, "current": palette.GREY}


def _pen(colour: str, dashed: bool = False):
    return pg.mkPen(colour, width=LINE_WIDTH, style=Qt.DashLine if dashed else Qt.SolidLine)


# ----------------------------------------------------------------------------- worker side

class CorrelationModel(NamedTuple):
    """The system a correlation scan belongs to; a change clears every bin."""

    size: int
    coupling: float
    field: float


@dataclass(frozen=True)
class ScanUpdate:
    """What the worker hands to the GUI: the current bin and the xi(T) points of all bins."""

    model: CorrelationModel
    temperature: float  # mean T of the current bin
    n: int  # snapshots in the current bin
    result: corr.CorrelationResult | None  # newest analysis of the current bin
    points: dict  # name -> (T, mean, err) arrays, names "xi_exp", "xi_2nd"


class _Bin:
    __slots__ = ("series", "t_sum", "result", "analysed_at", "analysed_n")

    def __init__(self, size: int):
        self.series = corr.CorrelationSeries(size, radial=True, max_blocks=MAX_BLOCKS)
        self.t_sum = 0.0
        self.result = None
        self.analysed_at = -math.inf
        self.analysed_n = 0

    @property
    def t_mean(self) -> float:
        return self.t_sum / max(self.series.n, 1)


class CorrelationScan:
    """Per-temperature correlation bins of one (L, J, h). Used from one (worker) thread, except
    `request_clear`, which any thread may call."""

    def __init__(self, width: float = BIN_WIDTH):
        self.width = width
        self._bins: dict[int, _Bin] = {}
        self._model = None
        self._current = None
        self._clear = threading.Event()
        self._interval = ANALYSIS_INTERVAL_S

    def request_clear(self) -> None:
        self._clear.set()

    def process(self, spins, params) -> ScanUpdate:
        """Add one snapshot at params (a ModelParams) and return the state to draw."""
        model = CorrelationModel(params.size, params.coupling, params.field)
        if self._clear.is_set() or model != self._model:
            self._clear.clear()
            self._bins.clear()
            self._model, self._current = model, None
        key = int(round(params.temperature / (self.width * (abs(params.coupling) or 1.0))))
        b = self._bins.get(key)
        if b is None:
            b = self._bins[key] = _Bin(params.size)
        b.series.add(spins, params.coupling)
        b.t_sum += params.temperature
        if self._current is not None and self._current != key:
            self._analyse(self._bins.get(self._current))  # its final state, before leaving it
        self._current = key
        if time.monotonic() - b.analysed_at >= self._interval:
            self._analyse(b)
        return self._update(b)

    def _analyse(self, b: _Bin | None) -> None:
        if b is None or b.series.n < corr.MIN_SAMPLES or b.series.n == b.analysed_n:
            return
        start = time.monotonic()
        J, h = self._model.coupling, self._model.field
        b.result = b.series.result(b.t_mean, J, h)
        b.analysed_n = b.series.n
        b.analysed_at = time.monotonic()
        self._interval = max(ANALYSIS_INTERVAL_S, 4.0 * (b.analysed_at - start))

    def _update(self, b: _Bin) -> ScanUpdate:
        return ScanUpdate(self._model, b.t_mean, b.series.n, b.result, self.points())

    def results(self) -> list:
        """The newest CorrelationResult of every analysed bin, ascending in T."""
        return sorted((b.result for b in self._bins.values() if b.result is not None),
                      key=lambda r: r.temperature)

    def points(self) -> dict:
        """xi_exp and xi_2nd of every analysed bin with a fitted value, ascending in T."""
        out = {}
        for name in ("xi_exp", "xi_2nd"):
            pts = [(r.temperature, getattr(r, name).value, getattr(r, name).err)
                   for r in self.results() if getattr(r, name).ok]
            arr = np.array(pts, dtype=np.float64).reshape(-1, 3)
            out[name] = (arr[:, 0], arr[:, 1], np.nan_to_num(arr[:, 2]))
        return out

    def __len__(self) -> int:
        return sum(b.series.n for b in self._bins.values())


# ----------------------------------------------------------------------------- exact curves

def onsager_xi_curves(coupling: float, size: int):
    """(T, xi) for Onsager's xi (nan at T_c) and (T, sqrt(2/5) xi) below T_c, clipped at 4 L."""
    if coupling == 0.0:
        return (np.array([]), np.array([])), (np.array([]), np.array([]))
    j = abs(coupling)
    near = np.logspace(-4, -0.5, 120)
    t = j * np.unique(np.concatenate([np.linspace(*T_RANGE, 300), exact.TC * (1 - near), exact.TC * (1 + near)]))
    xi = exact.onsager_correlation_length(t, coupling)
    xi = np.where(np.isfinite(xi) & (xi < 4 * size), xi, np.nan)
    below = t < j * exact.TC
    xi_full = np.concatenate([xi[below], [np.nan], xi[~below]])
    t_full = np.concatenate([t[below], [j * exact.TC], t[~below]])
    return (t_full, xi_full), (t[below], corr.SECOND_MOMENT_RATIO_BELOW * xi[below])


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
        layout.addWidget(splitter, 1)

    def _build_g_plot(self) -> pg.PlotWidget:
        view = pg.PlotWidget(self)
        plot = self.g_plot = view.getPlotItem()
        plot.setLabel("bottom", "r, t [lattice spacings]")
        plot.setLabel("left", "G(r),  C(t)/C(0)")
        plot.setLogMode(x=False, y=True)
        legend = plot.addLegend(offset=(-10, 10))
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
        return view

    def _build_xi_plot(self) -> pg.PlotWidget:
        view = pg.PlotWidget(self)
        plot = self.xi_plot = view.getPlotItem()
        plot.setLabel("bottom", "T [J/k_B]")
        plot.setLabel("left", "ξ [lattice spacings]")
        legend = plot.addLegend(offset=(-10, 10))
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
        self._equilibration = snapshot.equilibration
        if not snapshot.equilibrium or snapshot.sweeps == self._last_sweeps:
            return  # not in equilibrium (the engine's test), or the same lattice again (paused)
        self._last_sweeps = snapshot.sweeps
        self._worker.submit(self.scan.process, snapshot.spins, p)

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
            return
        self._set_positive(self.g_points, res.r, res.g, log_x)
        self.g_bars.setData(**_log_bars(res.r, res.g, res.g_err, log_x))
        if res.g_radial is not None:
            self._set_positive(self.radial_curve, res.r_radial, res.g_radial, log_x)
        c0 = res.c[0] if res.c[0] > 0 else 1.0
        self._set_positive(self.c_points, res.t, res.c / c0, log_x)
        self._draw_fit(self.c_fit, res.fit_exp, res.exp_fit_curve, c0, log_x)
        self._draw_fit(self.eta_fit, res.fit_eta, res.eta_fit_curve, 1.0, log_x)

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
