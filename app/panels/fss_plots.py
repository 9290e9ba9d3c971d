"""The finite-size scaling dock's plots (GUI thread, drawing only; the task grid is fss_grid.py).

`FssPlots` is a tab widget: U4(T) per L (measured points and reweighted
curves) with a zoom on the crossings; chi'(T) per L and chi'_max against L on log-log axes with
the fitted slope and the exact 7/4; the collapse chi' L^(-gamma/nu) against (T - T_c) L^(1/nu)
with T_c and nu set by sliders (the automatic fit's values by default, or by "Use fit"). Every
number drawn comes from an fss_analysis.FssResult computed on the analysis worker.
"""
from __future__ import annotations

import math

import isinglab.app.qt  # noqa: F401  (binding choice before pyqtgraph)
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QSplitter,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from isinglab.core import exact

from isinglab.app import ui as palette
from isinglab.app.panels.fss_analysis import (GAMMA_OVER_NU_EXACT, U_STAR_EXACT, FssResult, chi_max_points,
                                              slope_line)
from isinglab.app.panels.fss_grid import clipped_label, set_clipped
from isinglab.app.panels.plot_layout import MIN_PLOT_HEIGHT, DecadeAxis, scrolling

LINE_WIDTH = 2
SIZE_COLOURS = (palette.ORANGE, palette.BLUE, palette.MAGENTA, palette.TEAL, palette.YELLOW, palette.VIOLET,
                palette.PINK, palette.GREEN, palette.NAVY, palette.SKY, palette.PURPLE, palette.RED)
ZOOM_HALF_WIDTH = 0.04  # T around the crossings shown in the zoom, at least
TC_SLIDER = (2.0, 2.6)  # the collapse sliders' spans (the spin boxes beside them reach further)
NU_SLIDER = (0.5, 2.0)
SLIDER_STEPS = 1000
COLLAPSE_ROWS = 60  # the sliders' row and the fit's line under the collapse plot
PEAK_TITLE = f"χ′_max(L) · <span style='color:{palette.TEAL}'>7/4</span>"


def size_colour(index: int) -> str:
    return SIZE_COLOURS[index % len(SIZE_COLOURS)]


def _pen(colour: str, dashed: bool = False):
    return pg.mkPen(colour, width=LINE_WIDTH, style=Qt.DashLine if dashed else Qt.SolidLine)


def size_key(sizes) -> str:
    """"L = 8 16 32" with each size in its colour (rich text for titles); long lists shortened."""
    if not sizes:
        return ""
    shown = [(k, L) for k, L in enumerate(sizes)]
    if len(shown) > 8:
        shown = shown[:3] + [(None, "…")] + shown[-3:]
    parts = [str(L) if k is None else f"<span style='color:{size_colour(k)}'>{L}</span>" for k, L in shown]
    return "L = " + " ".join(parts)


# ----------------------------------------------------------------------------- per-size plot items


class _SizeItems:
    """The items of one size in one plot: points with error bars and a curve."""

    def __init__(self, plot: pg.PlotItem, colour: str):
        self.bars = pg.ErrorBarItem(pen=_pen(colour), beam=0.0)
        plot.addItem(self.bars)
        self.points = plot.plot([], [], pen=None, symbol="o", symbolSize=6, symbolBrush=colour, symbolPen=None)
        self.curve = plot.plot([], [], pen=_pen(colour))
        self.plot = plot

    def set(self, px, py, err, cx, cy) -> None:
        self.points.setData(px, py)
        err = np.nan_to_num(np.asarray(err, dtype=float))
        self.bars.setData(x=np.asarray(px, float), y=np.asarray(py, float), top=err, bottom=err)
        self.curve.setData(cx, cy, connect="finite")

    def remove(self) -> None:
        for item in (self.bars, self.points, self.curve):
            self.plot.removeItem(item)


def _plot(parent, title: str | None, bottom: str, left: str, **kwargs) -> tuple[pg.PlotWidget, pg.PlotItem]:
    widget = pg.PlotWidget(parent, **kwargs)
    plot = widget.getPlotItem()
    if title:
        plot.setTitle(title)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)  # U4 stays U4, not "U4 (x0.001)"
    return widget, plot


class FssPlots(QTabWidget):
    """The plot tabs; `draw(result)` shows an FssResult, the sliders redraw the collapse."""

    def __init__(self, use_fit_action, parent=None):
        super().__init__(parent)
        self.setObjectName("fssPlotTabs")
        self.result: FssResult | None = None
        self._items: dict = {}  # plot name -> {L: _SizeItems}
        self._sizes: tuple = ()
        self._collapse_user = False  # the sliders were moved: a new fit does not move them back
        self._syncing = False
        # each tab scrolls rather than squeeze its plots below a legible height (plot_layout)
        self.addTab(scrolling(self._build_binder(), MIN_PLOT_HEIGHT, self), "Binder U4")
        self.addTab(scrolling(self._build_chi(), MIN_PLOT_HEIGHT, self), "Susceptibility")
        self.addTab(scrolling(self._build_collapse(use_fit_action), MIN_PLOT_HEIGHT + COLLAPSE_ROWS, self),
                    "Collapse")
        self._frame_empty()

    def _frame_empty(self) -> None:
        """Axes for no data: around T_c, not an empty plot's 0..1."""
        wide, zoom = (exact.TC - 0.3, exact.TC + 0.3), (exact.TC - ZOOM_HALF_WIDTH, exact.TC + ZOOM_HALF_WIDTH)
        for plot, x, y in ((self.u4_plot, wide, (0.0, 0.7)), (self.zoom_plot, zoom, (0.5, 0.7)),
                           (self.chi_plot, wide, (0.0, 10.0)), (self.collapse_plot, (-2.0, 2.0), (0.0, 0.1))):
            plot.setXRange(*x, padding=0.0)
            plot.setYRange(*y, padding=0.0)
        self.peak_plot.setXRange(np.log10(8), np.log10(128), padding=0.05)  # view coordinates: log10
        self.peak_plot.setYRange(0.0, 2.0, padding=0.05)

    # ------------------------------------------------------------------ layout

    def _build_binder(self) -> QWidget:
        split = QSplitter(Qt.Horizontal, self)
        w, self.u4_plot = _plot(split, "U4(T)", "T [J/k_B]", "U4")
        split.addWidget(w)
        w, self.zoom_plot = _plot(split, "the crossings", "T [J/k_B]", "U4")
        split.addWidget(w)
        for plot in (self.u4_plot, self.zoom_plot):
            plot.addItem(pg.InfiniteLine(exact.TC, angle=90, pen=_pen(palette.GREY, dashed=True)), ignoreBounds=True)
        self.zoom_ustar = pg.InfiniteLine(U_STAR_EXACT, angle=0, pen=_pen(palette.GREY, dashed=True),
                                          label="U* exact", labelOpts={"position": 0.75, "color": palette.GREY})
        self.zoom_plot.addItem(self.zoom_ustar, ignoreBounds=True)
        self.zoom_tc = pg.InfiniteLine(exact.TC, angle=90, pen=_pen(palette.MAGENTA), label="T_c fit",
                                       labelOpts={"position": 0.1, "color": palette.MAGENTA})
        self.zoom_tc.setVisible(False)
        self.zoom_plot.addItem(self.zoom_tc, ignoreBounds=True)
        self.crossing_points = self.zoom_plot.plot([], [], pen=None, symbol="x", symbolSize=12,
                                                   symbolPen=_pen(palette.MAGENTA))
        self.crossing_bars = pg.ErrorBarItem(pen=_pen(palette.MAGENTA), beam=0.0)
        self.zoom_plot.addItem(self.crossing_bars)
        split.setSizes([600, 400])
        return split

    def _build_chi(self) -> QWidget:
        split = QSplitter(Qt.Horizontal, self)
        w, self.chi_plot = _plot(split, "χ′(T) per L", "T [J/k_B]", "χ′ = N(⟨m²⟩ − ⟨|m|⟩²)/T")
        self.chi_plot.addItem(pg.InfiniteLine(exact.TC, angle=90, pen=_pen(palette.GREY, dashed=True)),
                              ignoreBounds=True)
        split.addWidget(w)
        # log-log; decade labels only (pyqtgraph's own log axes overprint their minor labels)
        w, self.peak_plot = _plot(split, PEAK_TITLE, "L", "χ′_max",
                                  axisItems={side: DecadeAxis(side) for side in ("left", "bottom")})
        self.peak_plot.setLogMode(x=True, y=True)
        self.peak_bars = pg.ErrorBarItem(pen=_pen(palette.ORANGE), beam=0.0)
        self.peak_plot.addItem(self.peak_bars)
        self.peak_points = self.peak_plot.plot([], [], pen=None, symbol="o", symbolSize=8,
                                               symbolBrush=palette.ORANGE, symbolPen=None)
        self.peak_edge = self.peak_plot.plot([], [], pen=None, symbol="o", symbolSize=8, symbolBrush=None,
                                             symbolPen=_pen(palette.ORANGE))
        self.peak_fit = self.peak_plot.plot([], [], pen=_pen(palette.MAGENTA))
        self.peak_exact = self.peak_plot.plot([], [], pen=_pen(palette.TEAL, dashed=True))
        split.addWidget(w)
        split.setSizes([550, 450])
        return split

    def _build_collapse(self, use_fit_action) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        w, self.collapse_plot = _plot(box, None, "(T − T_c) L^(1/ν)", "χ′ L^(−γ/ν)")  # no title: height
        layout.addWidget(w, 1)
        row = QHBoxLayout()
        self.tc_spin, self.tc_slider = self._slider_pair(box, row, "T_c", "fssCollapseTcSpin", (0.5, 5.0), 4,
                                                         exact.TC, TC_SLIDER,
                                                         "T_c of the collapse (the fit's by default)")
        self.nu_spin, self.nu_slider = self._slider_pair(box, row, "ν", "fssCollapseNuSpin", (0.2, 3.0), 3, 1.0,
                                                         NU_SLIDER, "ν of the collapse (the fit's by default)")
        fit_button = QToolButton(box, objectName="fssUseFitButton")
        fit_button.setDefaultAction(use_fit_action)
        row.addWidget(fit_button)
        layout.addLayout(row)
        self.collapse_label = clipped_label(box, "fssCollapseLabel")
        layout.addWidget(self.collapse_label)
        return box

    def _slider_pair(self, parent, row, label, name, spin_range, decimals, value, span, tip):
        spin = QDoubleSpinBox(parent, objectName=name)
        spin.setRange(*spin_range)
        spin.setDecimals(decimals)
        spin.setSingleStep(10.0 ** -decimals * 10)
        spin.setValue(value)
        spin.setToolTip(tip)
        slider = QSlider(Qt.Horizontal, parent)
        slider.setRange(0, SLIDER_STEPS)
        slider.setToolTip(tip)
        slider.setProperty("span", span)
        row.addWidget(QLabel(label, parent))
        row.addWidget(slider, 1)
        row.addWidget(spin)
        slider.valueChanged.connect(lambda v, s=spin, sp=span: self._slider_moved(s, sp, v))
        spin.valueChanged.connect(lambda v, sl=slider, sp=span: self._spin_changed(sl, sp, v))
        self._set_slider(slider, span, value)
        return spin, slider

    @staticmethod
    def _set_slider(slider, span, value) -> None:
        lo, hi = span
        slider.blockSignals(True)
        slider.setValue(int(round((min(max(value, lo), hi) - lo) / (hi - lo) * SLIDER_STEPS)))
        slider.blockSignals(False)

    def _slider_moved(self, spin, span, v) -> None:
        lo, hi = span
        spin.setValue(lo + (hi - lo) * v / SLIDER_STEPS)

    def _spin_changed(self, slider, span, value) -> None:
        self._set_slider(slider, span, value)
        if not self._syncing:
            self._collapse_user = True
        self.draw_collapse()

    # ------------------------------------------------------------------ collapse parameters

    def collapse_values(self) -> dict:
        return {"tc": self.tc_spin.value(), "nu": self.nu_spin.value(), "gamma_over_nu": self.gamma_over_nu()}

    def gamma_over_nu(self) -> float:
        fit = self.fit()
        return fit["gamma_over_nu"] if fit is not None else GAMMA_OVER_NU_EXACT

    def fit(self) -> dict | None:
        """The automatic collapse fit of the current result: {tc, nu, gamma_over_nu, quality}."""
        a = self.result.analysis if self.result is not None else None
        if a is None:
            return None
        c = a["collapse"]
        values = {k: c[k]["mean"] for k in ("tc", "nu", "gamma_over_nu")}
        if not all(isinstance(v, float) and math.isfinite(v) for v in values.values()):
            return None
        return {**values, "quality": c["quality"]}

    def use_fit(self) -> None:
        """Set the sliders to the automatic fit (when there is one)."""
        fit = self.fit()
        if fit is None:
            return
        self._syncing = True
        try:
            self.tc_spin.setValue(fit["tc"])
            self.nu_spin.setValue(fit["nu"])
        finally:
            self._syncing = False
        self._collapse_user = False
        self.draw_collapse()

    def set_collapse(self, tc: float, nu: float) -> None:
        """Set the sliders as the user would (restore): a new fit no longer moves them."""
        self.tc_spin.setValue(tc)
        self.nu_spin.setValue(nu)
        self._collapse_user = True

    # ------------------------------------------------------------------ drawing

    def clear(self) -> None:
        self.result = None
        self._ensure_sizes(())
        for item in (self.crossing_points, self.peak_points, self.peak_edge, self.peak_fit, self.peak_exact):
            item.setData([], [])
        empty = np.zeros(0)
        for bars in (self.crossing_bars, self.peak_bars):
            bars.setData(x=empty, y=empty, top=empty, bottom=empty)
        self.zoom_tc.setVisible(False)
        set_clipped(self.collapse_label, "")
        self.peak_plot.setTitle(PEAK_TITLE)
        self._size_titles(())
        self._frame_empty()

    def _ensure_sizes(self, sizes: tuple) -> None:
        if sizes == self._sizes:
            return
        for per_plot in self._items.values():
            for items in per_plot.values():
                items.remove()
        self._items = {}
        for name, plot in (("u4", self.u4_plot), ("zoom", self.zoom_plot), ("chi", self.chi_plot),
                           ("collapse", self.collapse_plot)):
            self._items[name] = {L: _SizeItems(plot, size_colour(k)) for k, L in enumerate(sizes)}
        self._sizes = sizes
        self._size_titles(sizes)

    def _size_titles(self, sizes: tuple) -> None:
        """The sizes in their colours in the titles (legends would cover the curves)."""
        key = size_key(sizes)
        for plot, title in ((self.u4_plot, "U4(T)"), (self.chi_plot, "χ′(T)")):
            plot.setTitle(f"{title}{':  ' + key if key else ''}")

    def draw(self, result: FssResult) -> None:
        self.result = result
        self._ensure_sizes(tuple(result.sizes))
        for plot in (self.u4_plot, self.chi_plot, self.peak_plot, self.collapse_plot):
            plot.enableAutoRange()  # the zoom sets its own
        for L in result.sizes:
            pts = result.points.get(L)
            cur = result.curves.get(L)
            px = pts.t if pts is not None else []
            cx = cur.t if cur is not None else []
            for name, y, err, cy in (("u4", "u4", "u4_err", "u4"), ("zoom", "u4", "u4_err", "u4"),
                                     ("chi", "chi", "chi_err", "chi")):
                self._items[name][L].set(px, getattr(pts, y) if pts is not None else [],
                                         getattr(pts, err) if pts is not None else [],
                                         cx, getattr(cur, cy) if cur is not None else [])
        self._draw_zoom(result)
        self._draw_peaks(result)
        if not self._collapse_user:
            self.use_fit()
        self.draw_collapse()

    def _draw_zoom(self, result: FssResult) -> None:
        a = result.analysis
        if a is not None and a["crossings"]:
            t = np.array([c["t"]["mean"] for c in a["crossings"]], float)
            u = np.array([c["u4"]["mean"] for c in a["crossings"]], float)
            te = np.nan_to_num(np.array([c["t"]["err"] or 0.0 for c in a["crossings"]], float))
            ue = np.nan_to_num(np.array([c["u4"]["err"] or 0.0 for c in a["crossings"]], float))
            self.crossing_points.setData(t, u)
            self.crossing_bars.setData(x=t, y=u, left=te, right=te, top=ue, bottom=ue)
            tc = a["tc"]["mean"]
            self.zoom_tc.setValue(tc)
            self.zoom_tc.setVisible(math.isfinite(tc))
            centre = np.concatenate([t, [tc] if math.isfinite(tc) else []])
            lo, hi = float(centre.min()) - ZOOM_HALF_WIDTH, float(centre.max()) + ZOOM_HALF_WIDTH
        else:
            self.crossing_points.setData([], [])
            empty = np.zeros(0)
            self.crossing_bars.setData(x=empty, y=empty, top=empty, bottom=empty)
            self.zoom_tc.setVisible(False)
            lo, hi = exact.TC - ZOOM_HALF_WIDTH, exact.TC + ZOOM_HALF_WIDTH
        ys = [U_STAR_EXACT]
        for cur in result.curves.values():
            inside = (cur.t >= lo) & (cur.t <= hi) & np.isfinite(cur.u4)
            ys.extend(cur.u4[inside].tolist())
        span = max(max(ys) - min(ys), 0.02)
        self.zoom_plot.setXRange(lo, hi, padding=0.0)
        self.zoom_plot.setYRange(min(ys) - 0.05 * span, max(ys) + 0.05 * span, padding=0.0)

    def _draw_peaks(self, result: FssResult) -> None:
        """chi'_max against L, log-log: filled, the peaks inside their size's reliable range;
        open, those at its edge (left out of the fit). Error bars are drawn in view (log10)
        coordinates, which pyqtgraph's log mode does not transform."""
        L, v, err, interior = chi_max_points(result)
        ok = np.isfinite(v) & (v > 0)
        lx, ly = np.log10(L[ok]), np.log10(v[ok])
        inner = interior[ok]
        self.peak_points.setData(L[ok][inner], v[ok][inner])
        self.peak_edge.setData(L[ok][~inner], v[ok][~inner])
        e = np.nan_to_num(err[ok])
        top = np.log10(v[ok] + e) - ly
        bottom = ly - np.log10(np.maximum(v[ok] - e, 1e-3 * v[ok]))
        self.peak_bars.setData(x=lx, y=ly, top=top, bottom=bottom)
        a = result.analysis
        title = PEAK_TITLE
        if a is not None and a.get("gamma_over_nu_sizes"):
            g = a["gamma_over_nu"]
            use = np.isin(L, a["gamma_over_nu_sizes"])
            self.peak_fit.setData(*slope_line(L, v, g["mean"], use))
            title = (f"<span style='color:{palette.MAGENTA}'>γ/ν = {plus_minus(g, 3)}</span> · "
                     f"<span style='color:{palette.TEAL}'>7/4</span>")
        else:
            self.peak_fit.setData([], [])
        self.peak_exact.setData(*slope_line(L, v, GAMMA_OVER_NU_EXACT, interior))
        self.peak_plot.setTitle(title)

    def draw_collapse(self) -> None:
        result = self.result
        items = self._items.get("collapse", {})
        if result is None:
            set_clipped(self.collapse_label, "")
            return
        tc, nu, g = self.tc_spin.value(), self.nu_spin.value(), self.gamma_over_nu()
        for L, it in items.items():
            pts, cur = result.points.get(L), result.curves.get(L)
            sx, sy = float(L) ** (1.0 / nu), float(L) ** (-g)
            px = (pts.t - tc) * sx if pts is not None else []
            py = pts.chi * sy if pts is not None else []
            pe = pts.chi_err * sy if pts is not None else []
            cx = (cur.t - tc) * sx if cur is not None else []
            cy = cur.chi * sy if cur is not None else []
            it.set(px, py, pe, cx, cy)
        fit = self.fit()
        shown = f"shown: γ/ν = {g:.3f}"
        if fit is None:
            set_clipped(self.collapse_label, f"{shown} (exact: no fit yet)")
        else:
            c = result.analysis["collapse"]
            set_clipped(self.collapse_label,
                        f"{shown};  fit: T_c = {plus_minus(c['tc'])}, ν = {plus_minus(c['nu'])}, "
                        f"γ/ν = {plus_minus(c['gamma_over_nu'])}, S = {c['quality']:.3g}  "
                        f"(exact {exact.TC:.4f}, 1, 7/4)")


def plus_minus(entry: dict, digits: int = 4) -> str:
    mean, err = entry.get("mean"), entry.get("err")
    if not isinstance(mean, (int, float)) or not math.isfinite(mean):
        return "n/a"
    if not isinstance(err, (int, float)) or not math.isfinite(err):
        return f"{mean:.{digits}g}"
    return f"{mean:.{digits}g} ± {err:.2g}"
