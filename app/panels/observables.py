"""Observables panel: live e(t), |m|(t) traces and the "drag across T_c" scan over exact curves.

Top: the last ~2000 measurements of e and |m| against sweeps. Bottom: |m|, e, c and chi versus
T, one point per temperature bin of a `TemperatureScan`, over Onsager's infinite-lattice curves,
Kaufman's exact finite-size e(T) and c(T) for the current L (dashed), the T_c line and a marker
at the current temperature.

The GUI thread stays responsive: samples only feed the scan, the scan plots are redrawn at most
10 times a second (the current-T marker with them), and the Kaufman curves (0.3-0.6 s for
L = 1024) are computed on a LatestOnlyWorker (the newest request wins) and cached per (L, J).
"""
from __future__ import annotations

import math
import time

import numpy as np

from isinglab.app import qt as _qt  # noqa: F401  (picks the binding before pyqtgraph loads)
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QToolButton, QVBoxLayout, QWidget

from isinglab.core import exact
from isinglab.core.errors import IsingLabError
from isinglab.core.exact_curves import kaufman_curves, onsager_curves
from isinglab.core.tscan import TemperatureScan

from isinglab.app.panels.contract import DataSet, input_values, model_of, restore_inputs
from isinglab.app.panels.plot_layout import MIN_PLOT_HEIGHT, CellLegend, scrolling
from isinglab.app.panels.trace_ring import TraceRing
from isinglab.app.panels.workers import LatestOnlyWorker
from isinglab.app import ui as palette

TRACE_LENGTH = 2000
# the least heights of the plot areas: one row of traces; two rows of scan plots and the legend
_TRACE_HEIGHT = MIN_PLOT_HEIGHT - 30
_SCAN_HEIGHT = 2 * MIN_PLOT_HEIGHT + 50
# units of the exported columns (k_B = 1: temperature and energy in the same unit)
TRACE_UNITS = {"sweeps": "sweeps", "e": "energy per spin", "m_abs": "per spin"}
SCAN_UNITS = {"T": "energy", "T_mean": "energy", "n": "samples", "m_abs": "per spin", "e": "energy per spin",
              "c": "k_B per spin", "chi": "per spin per energy"}
REDRAW_INTERVAL_MS = 100  # scan plots redraw at <= 10 Hz
FRAME_GAP_S = 0.006  # plots wait this long after a lattice frame (see _when_clear)
GAP_RETRY_MS = int(FRAME_GAP_S * 1000) + 2  # a retry timer fires just past the gap (Qt timers run ~1 ms early)
VIEW_RANGE = (1.0, 3.6)  # initial T window, in units of |J|
LINE_WIDTH = 2  # readable on a projector
# No grids: a grid makes every axis span its whole plot, so any change inside a plot (a new
# point, the moving T marker) repaints all axes with their text: ~3x the paint cost measured.

# Okabe-Ito-like hues of medium lightness: visible on dark and on light backgrounds.
COLOURS = {
    "data": palette.ORANGE,
    "onsager": palette.BLUE,
    "kaufman": palette.TEAL,
    "tc": palette.MAGENTA,
    "current": palette.GREY,
    "e": palette.BLUE,
    "m": palette.ORANGE,
}

SCAN_PLOTS = {  # name -> (row, col, title, y-axis label)
    "m_abs": (0, 0, "magnetisation", "|m| per spin"),
    "e": (0, 1, "energy", "e per spin [J]"),
    "c": (1, 0, "specific heat", "c per spin [k_B]"),
    "chi": (1, 1, "susceptibility", "χ per spin [1/J]"),
}
T_LABEL = "T [J/k_B]"

_kaufman_cache: dict = {}  # (L, J) -> (T, e, c) or None (not applicable); GUI thread only


def _pen(colour: str, dashed: bool = False):
    return pg.mkPen(colour, width=LINE_WIDTH, style=Qt.DashLine if dashed else Qt.SolidLine)


def _kaufman_job(key):
    """Worker thread: Kaufman's exact curves of (L, J), labelled with the key they belong to."""
    return key, kaufman_curves(*key)


class ObservablesPanel(QWidget):
    """Live traces plus the temperature scan; see the module docstring."""

    panel_id = "observablesDock"
    title = "Observables"

    def __init__(self, parent=None, size: int = 128, coupling: float = 1.0):
        super().__init__(parent)
        self.setObjectName("observablesPanel")
        self.scan = TemperatureScan(size, coupling)
        self._model = None  # (L, J) shown
        self._current_t = None
        self._t_window = None  # (lo, hi) last set on the scan plots
        self._data_span = (None, None)  # T range of the points drawn last
        # the panels' one background mechanism (app/panels/workers.py): the newest request wins
        self._exact_worker = LatestOnlyWorker("isinglab-exact", self)
        self._exact_worker.finished.connect(self._kaufman_done)
        self._exact_worker.failed.connect(self._kaufman_failed)
        self._ring = TraceRing(TRACE_LENGTH, ("sweeps", "e", "m"))
        self.trace_model = None  # model_of() the newest trace points (given by the window)
        self._trace_last = None  # sweeps of the newest point that arrived (kept or not)
        self._trace_after = None  # after break_traces: points at or before these sweeps are dropped
        self._redraw_timer = self._single_shot(
            REDRAW_INTERVAL_MS, lambda: self._when_clear(self._redraw_timer, self.refresh))
        # traces get new points every display frame; repainting plots that often cost the GUI
        # thread more than the lattice, so they follow at <= 10 Hz too
        self._trace_timer = self._single_shot(
            REDRAW_INTERVAL_MS, lambda: self._when_clear(self._trace_timer, self.redraw_traces))
        # perf_counter() times that keep plots and lattice frames in separate event-loop turns:
        # set by the main window when it hands the lattice a frame, and here on a plot redraw
        self.lattice_frame_at = 0.0
        self.redrawn_at = 0.0
        self._build()
        self.set_model(size, coupling)

    def _single_shot(self, ms: int, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.clear_button = QToolButton(self, objectName="clearScanButton", text="Clear")
        self.clear_button.setToolTip("Forget the temperature-scan points (the live traces stay)")
        self.clear_button.clicked.connect(self.clear)
        self.status_label = QLabel(self, objectName="observablesStatus")
        self.status_label.setToolTip(
            "Only equilibrium measurements enter the temperature scan: after a reset or a large "
            "change the run must pass a drift test (and, below T_c, must not be stuck in a stripe "
            "state) before its samples count")
        self._equilibration = None
        bar.addWidget(self.clear_button)
        bar.addWidget(self.status_label, 1)
        layout.addLayout(bar)
        splitter = QSplitter(Qt.Vertical, self)
        splitter.addWidget(self._build_traces())
        splitter.addWidget(self._build_scan())
        splitter.setStretchFactor(0, 1)  # two trace rows : the 2 x 2 scan plots
        splitter.setStretchFactor(1, 2)
        # on a 1280x720 projector the dock is too low for six plots: it scrolls rather than
        # squeezing them until their tick labels overprint
        layout.addWidget(scrolling(splitter, _TRACE_HEIGHT + _SCAN_HEIGHT, self), 1)

    def _build_traces(self) -> pg.GraphicsLayoutWidget:
        view = pg.GraphicsLayoutWidget(self)
        view.setAntialiasing(False)
        self.trace_plots = {}
        self.traces = {}
        # side by side, not stacked: in the panel's short strip stacked plots were too low for
        # their tick labels, which overlapped
        for col, (name, label) in enumerate((("e", "e per spin [J]"), ("m", "|m| per spin"))):
            plot = view.addPlot(row=0, col=col)
            _plain_numbers(plot)
            plot.setLabel("left", label)
            plot.setLabel("bottom", "sweeps")
            self.traces[name] = plot.plot(pen=_pen(COLOURS[name]), antialias=False, skipFiniteCheck=True)
            self.trace_plots[name] = plot
        self.trace_plots["e"].setXLink(self.trace_plots["m"])
        view.setMinimumHeight(_TRACE_HEIGHT)
        return view

    def _build_scan(self) -> pg.GraphicsLayoutWidget:
        view = pg.GraphicsLayoutWidget(self)
        view.setAntialiasing(False)
        self.plots, self.points, self.error_bars = {}, {}, {}
        self.onsager_curves, self.kaufman_curves, self.tc_lines, self.current_lines = {}, {}, {}, {}
        for name, (row, col, title, label) in SCAN_PLOTS.items():
            plot = view.addPlot(row=row, col=col, title=title)
            self._fill_scan_plot(name, plot, label)
        self._build_legend(view)
        view.setMinimumHeight(_SCAN_HEIGHT)
        return view

    def _fill_scan_plot(self, name: str, plot: pg.PlotItem, label: str) -> None:
        _plain_numbers(plot)
        plot.setLabel("left", label)
        plot.setLabel("bottom", T_LABEL)
        vb = plot.getViewBox()
        vb.setAutoVisible(y=True)  # y follows what is visible in the T window
        self.onsager_curves[name] = plot.plot(pen=_pen(COLOURS["onsager"]), antialias=False, connect="finite")
        if name in ("e", "c"):
            self.kaufman_curves[name] = plot.plot(pen=_pen(COLOURS["kaufman"], dashed=True), antialias=False)
        self.tc_lines[name] = pg.InfiniteLine(angle=90, pen=_pen(COLOURS["tc"], dashed=True))
        self.current_lines[name] = pg.InfiniteLine(angle=90, pen=_pen(COLOURS["current"]))
        self.current_lines[name].setVisible(False)
        self.error_bars[name] = pg.ErrorBarItem(pen=_pen(COLOURS["data"]), beam=0.0)
        self.points[name] = pg.ScatterPlotItem(
            size=7, pen=pg.mkPen(None), brush=pg.mkBrush(COLOURS["data"]), antialias=False)
        for item in (self.tc_lines[name], self.current_lines[name], self.error_bars[name], self.points[name]):
            plot.addItem(item, ignoreBounds=isinstance(item, pg.InfiniteLine))
        self.plots[name] = plot

    def _build_legend(self, view: pg.GraphicsLayoutWidget) -> None:
        # one legend for the four scan plots, in its own row under them: over a plot it hid data
        self.legend = CellLegend(columns=5)
        view.addItem(self.legend, row=2, col=0, colspan=2)
        self.legend.addItem(self.points["e"], "simulation")
        self.legend.addItem(self.onsager_curves["e"], "Onsager, L = ∞")
        self.legend.addItem(self.kaufman_curves["e"], "Kaufman")
        # InfiniteLines have no legend sample: stand-ins with the same pens
        self.legend.addItem(pg.PlotDataItem(pen=_pen(COLOURS["tc"], dashed=True)), "T_c")
        self.legend.addItem(pg.PlotDataItem(pen=_pen(COLOURS["current"])), "current T")

    def _set_legend_text(self, item, text: str) -> None:
        label = self.legend.getLabel(item)
        if label is not None:
            label.setText(text)

    # ------------------------------------------------------------------ model and exact curves

    def set_model(self, size: int, coupling: float, field: float | None = None) -> None:
        """Show lattice size L, coupling J (and field h): clears the scan if they changed."""
        self.scan.set_model(size, coupling, field)  # validates; clears old bins on a change
        key = (self.scan.size, self.scan.coupling)
        if key == self._model:
            return
        self._model = key
        L, J = key
        tc = abs(J) * exact.TC
        for line in self.tc_lines.values():
            line.setValue(tc)
            line.setVisible(J != 0.0)
        curves = onsager_curves(J)
        for name, item in self.onsager_curves.items():
            item.setData(*curves.get(name, ((), ())))
        self._set_legend_text(self.points["e"], f"simulation, L = {L}")
        self._request_kaufman(key)
        self._reset_view()
        self.refresh()

    def _request_kaufman(self, key) -> None:
        self._show_kaufman(key, None)  # no stale curve of another L meanwhile
        if key in _kaufman_cache:
            self._show_kaufman(key, _kaufman_cache[key])
            return
        self._exact_worker.submit(_kaufman_job, key)
        self._set_legend_text(self.kaufman_curves["e"], f"Kaufman, L = {key[0]} (computing…)")

    def _kaufman_done(self, result) -> None:
        key, curves = result
        _kaufman_cache[key] = curves
        if key == self._model:  # else the model changed meanwhile; its own job follows
            self._show_kaufman(key, curves)

    def _kaufman_failed(self, message: str) -> None:  # a bug in the exact module must not kill the GUI
        self.status_label.setText(f"exact finite-size curves failed: {message}")

    def _show_kaufman(self, key, curves) -> None:
        if curves is None:
            for item in self.kaufman_curves.values():
                item.setData([], [])
            self._set_legend_text(self.kaufman_curves["e"], f"Kaufman, L = {key[0]} (n/a)")
            return
        t, e, c = curves
        self.kaufman_curves["e"].setData(t, e)
        self.kaufman_curves["c"].setData(t, c)
        self._set_legend_text(self.kaufman_curves["e"], f"Kaufman, L = {key[0]}")

    def kaufman_ready(self) -> bool:
        """True once the finite-size curves of the current model are shown (or n/a)."""
        return self._model in _kaufman_cache

    # ------------------------------------------------------------------ data in

    def add_samples(self, temperatures, e, m, algorithm: str | None = None) -> None:
        """Feed the scan (arrays in time order, sampled with `algorithm`); the plots follow
        within 0.1 s."""
        self.scan.add(temperatures, e, m, algorithm)
        self._schedule_redraw()

    def add_trace(self, sweeps, e, m, params=None) -> None:
        """Append measurements to the live traces (arrays of equal length), measured at
        `params` (a ModelParams; None keeps the last)."""
        if params is not None:
            self.trace_model = model_of(params)
        sweeps = np.atleast_1d(np.asarray(sweeps, dtype=np.float64))
        e = np.atleast_1d(np.asarray(e, dtype=np.float64))
        m = np.atleast_1d(np.asarray(m, dtype=np.float64))
        if not sweeps.shape == e.shape == m.shape or sweeps.ndim != 1:
            raise IsingLabError(f"sweeps, e and m differ in shape: {sweeps.shape}, {e.shape}, {m.shape}")
        if sweeps.size == 0:
            return
        run = self._current_run(sweeps)
        sweeps, e, m = sweeps[run], e[run], m[run]
        if sweeps.size == 0:
            return
        self._ring.extend(sweeps=sweeps, e=e, m=np.abs(m))
        self._start_staggered(self._trace_timer, self._redraw_timer)

    def break_traces(self, after_sweeps=None) -> None:
        """Start the live traces afresh (a new model, a reset): they never join across one.
        Points that arrive later but were measured at or before `after_sweeps` are dropped."""
        self.clear_traces()
        self._trace_after = after_sweeps

    def _current_run(self, sweeps) -> slice:
        """The part of a batch (in time order) that belongs to the run on show. A new sampler
        (L, algorithm or seed changed, a scene started) counts its sweeps from 0 again: where
        they go back, a new run starts and the traces begin afresh."""
        prev = -np.inf if self._trace_last is None else self._trace_last
        self._trace_last = float(sweeps[-1])
        back = np.flatnonzero(np.diff(sweeps, prepend=prev) <= 0)
        start = 0
        if back.size:
            start = int(back[-1])
            self.break_traces()
        if self._trace_after is not None:
            start = max(start, int(np.searchsorted(sweeps, self._trace_after, side="right")))
        return slice(start, None)

    def redraw_traces(self) -> None:
        """Show the ring's contents now (normally called by the 10 Hz throttle)."""
        self._trace_timer.stop()
        x = self._ring.view("sweeps")
        self.traces["e"].setData(x, self._ring.view("e"), skipFiniteCheck=True)
        self.traces["m"].setData(x, self._ring.view("m"), skipFiniteCheck=True)
        _fit_ranges_now(self.trace_plots.values())

    def trace_data(self) -> dict:
        """The live traces held now (drawn or not yet): sweeps, e and |m| arrays."""
        return {"sweeps": self._ring.view("sweeps").copy(), "e": self._ring.view("e").copy(),
                "m_abs": self._ring.view("m").copy()}

    # ------------------------------------------------------------------ the panel contract

    def state(self) -> dict:
        return {"inputs": input_values(self), "scan": self.scan.to_dict(),
                "trace_points": len(self._ring.view("sweeps")), "model": self.scan.model}

    def restore(self, state: dict) -> list[str]:
        return restore_inputs(self, state.get("inputs") or {})

    def data_sets(self) -> list[DataSet]:
        out = []
        series = self.trace_data()
        if len(series["sweeps"]):
            out.append(DataSet("observables_series", "observables time series (per spin)", self.trace_model,
                               series, TRACE_UNITS))
        res = self.scan.result()
        if res["T"].size:
            table = {"T": res["T"], "T_mean": res["T_mean"], "n": res["n"]}
            for name in ("m_abs", "e", "c", "chi"):
                table[name] = res[name]["mean"]
                table[f"{name}_err"] = res[name]["err"]
            out.append(DataSet("tscan", "temperature scan", self.scan.model, table,
                               {k: SCAN_UNITS[k.removesuffix("_err")] for k in table},
                               meta={"bin_width": self.scan.width}))
        return out

    def flush_redraws(self) -> None:
        """Draw whatever the throttles still hold back (before a figure is rendered)."""
        if self._trace_timer.isActive():
            self.redraw_traces()
        if self._redraw_timer.isActive():
            self.refresh()

    def set_equilibration(self, state, equilibrium: bool | None = None) -> None:
        """Say whether the samples arriving now count (core.equilibration.Equilibration; and the
        snapshot's `equilibrium`: False while the sweeps after a change settle)."""
        if not state.equilibrated:
            text = f"T-scan waits: {state.describe()}"
        elif equilibrium is False:
            text = "T-scan waits: equilibrating after a parameter change"
        else:
            text = "equilibrium: samples count"
        if text != self._equilibration:  # setText re-lays out the bar: only on a change
            self._equilibration = text
            self._schedule_redraw()  # the status line is written with the plots

    def set_current_temperature(self, temperature: float) -> None:
        """Move the current-T marker (None or nan hides it) with the next throttled redraw.

        A moving marker repaints all four plots, so it moves at <= 10 Hz like the points.
        """
        t = None if temperature is None else float(temperature)
        t = t if t is not None and math.isfinite(t) else None
        if t == self._current_t:
            return  # callers may send the same T every frame: no repaint then
        self._current_t = t
        self._schedule_redraw()

    def _schedule_redraw(self) -> None:
        self._start_staggered(self._redraw_timer, self._trace_timer)

    def _when_clear(self, timer: QTimer, redraw) -> None:
        """Redraw now unless the lattice got a frame this very event-loop turn: Qt would paint
        both in one pass, and the plots then wait for the GL frame's present (a stall)."""
        now = time.perf_counter()
        if now - self.lattice_frame_at < FRAME_GAP_S:
            timer.start(GAP_RETRY_MS)
            return
        self.redrawn_at = now
        redraw()

    @staticmethod
    def _start_staggered(timer: QTimer, other: QTimer) -> None:
        """Start a throttle timer half a period away from the other one: Qt paints every dirty
        widget of the window in one pass, and the traces and scan plots painted together
        block the event loop twice as long as either."""
        if timer.isActive():
            return
        delay = REDRAW_INTERVAL_MS
        if other.isActive():
            delay = (other.remainingTime() + REDRAW_INTERVAL_MS // 2) % REDRAW_INTERVAL_MS + REDRAW_INTERVAL_MS // 2
        timer.start(delay)

    def _move_marker(self) -> None:
        for line in self.current_lines.values():
            if self._current_t is not None:
                line.setValue(self._current_t)
            line.setVisible(self._current_t is not None)

    def shutdown(self) -> None:
        """Stop the exact-curve worker (a running Kaufman job finishes; queued ones are dropped)."""
        self._exact_worker.shutdown()

    def clear(self) -> None:
        """Forget the scan points (the button); live traces and exact curves stay."""
        self.scan.clear()
        self.refresh()

    def clear_traces(self) -> None:
        self._ring.clear()
        self._trace_timer.stop()
        for item in self.traces.values():
            item.setData([], [])

    # ------------------------------------------------------------------ drawing

    def refresh(self) -> None:
        """Redraw points and marker now (normally called by the 10 Hz throttle)."""
        self._redraw_timer.stop()
        self._move_marker()
        res = self.scan.result()
        t = res["T_mean"]  # where each bin's estimates belong (see TemperatureScan)
        beam = 0.3 * self.scan.width
        for name, points in self.points.items():
            y, err = res[name]["mean"], res[name]["err"]
            points.setData(x=t, y=y)
            self.error_bars[name].setData(x=t, y=y, top=err, bottom=err, beam=beam)
        counts = f"{t.size} temperature bins, {int(res['n'].sum())} samples"
        self.status_label.setText(f"{counts}; {self._equilibration}" if self._equilibration else counts)
        self._data_span = (t.min(), t.max()) if t.size else (None, None)
        self._fit_t_window()
        _fit_ranges_now(self.plots.values())

    def _reset_view(self) -> None:
        self._t_window = None
        self._fit_t_window()

    def _fit_t_window(self) -> None:
        """T window: the default range around T_c, widened to hold the data and current T."""
        j = abs(self.scan.coupling) or 1.0
        lo, hi = j * VIEW_RANGE[0], j * VIEW_RANGE[1]
        pad = 2 * self.scan.width
        for t0, t1 in (self._data_span, (self._current_t, self._current_t)):
            if t0 is not None:
                lo, hi = min(lo, t0 - pad), max(hi, t1 + pad)
        if self._t_window == (lo, hi):
            return  # unchanged: leave a user's zoom alone
        self._t_window = (lo, hi)
        for plot in self.plots.values():
            plot.setXRange(lo, hi, padding=0.0)
            plot.enableAutoRange(y=True)


def _fit_ranges_now(plots) -> None:
    """Fit the auto ranges now, not at paint time: a range fitted inside a paint dirties the
    axes again, and Qt paints the view once more (or twice) in the same event-loop turn."""
    for plot in plots:
        plot.getViewBox().prepareForPaint()


def _plain_numbers(plot: pg.PlotItem) -> None:
    """Tick labels in the plotted quantity's own units: pyqtgraph would show an |m| of 0.4 as
    400 with "(x0.001)" appended to the axis label."""
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)
