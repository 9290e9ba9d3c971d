"""The observables panel as a paper figure: the temperature scan (|m|, e, c, chi per bin with their
jackknife error bars) over Onsager's exact curves (L = infinity), Kaufman's exact finite-torus
e(T) and c(T) for the scan's L (dashed) and the exact T_c = 2 |J| / ln(1 + sqrt 2) (a dashed
vertical line); while there is no scan yet, the live traces e(t) and |m|(t) instead."""
from __future__ import annotations

import numpy as np
from matplotlib.gridspec import GridSpec

from isinglab.core import exact
from isinglab.core.exact_curves import kaufman_curves, onsager_curves
from isinglab.app.output.figures.style import COLOURS, Style, lean, new_figure

SETS = ("observables_series", "tscan")
SCAN = (("m_abs", r"$|m|$ per spin"), ("e", r"$e$ per spin [$J$]"), ("c", r"$c$ per spin [$k_B$]"),
        ("chi", r"$\chi$ per spin [$1/J$]"))
T_LABEL = r"$T$ [$J/k_B$]"
VIEW = (1.0, 3.6)  # T window in units of |J|, widened to hold the data
MAX_TRACE_POINTS = 400  # a trace of more points is drawn as its range and mean in ENVELOPE_BINS bins
ENVELOPE_BINS = 100


def select(tables: dict) -> dict:
    """The T-scan over the exact curves when there is one (the traces are a live diagnostic: they
    stay in the screen look and the data export); the traces when there is not."""
    return {"tscan": tables["tscan"]} if "tscan" in tables else tables


def draw(tables: dict, style: Style):
    series, scan = tables.get("observables_series"), tables.get("tscan")
    if scan is None:  # the traces alone: stacked in one column, side by side in two
        fig = new_figure(style, style.width * (0.36 if style.double else 0.8))
        gs = GridSpec(1, 2, figure=fig) if style.double else GridSpec(2, 1, figure=fig)
        ax_e = fig.add_subplot(gs[0])
        _traces(ax_e, fig.add_subplot(gs[1], sharex=None if style.double else ax_e), series)
        return fig
    cols = 4 if style.double else 2
    fig = new_figure(style, style.width * (0.3 if style.double else 0.98))
    gs = GridSpec(4 // cols, cols, figure=fig)
    axes = [fig.add_subplot(gs[k // cols, k % cols]) for k in range(4)]
    _scan(axes, scan)
    handles, labels = axes[1].get_legend_handles_labels()  # e has every kind of line
    fig.legend(handles, labels, loc="outside lower center", ncols=4 if style.double else 2)
    return fig


def _traces(ax_e, ax_m, t) -> None:
    x = t.column("sweeps").astype(float)
    for ax, key, label, colour in ((ax_e, "e", r"$e$ per spin [$J$]", COLOURS["e"]),
                                   (ax_m, "m_abs", r"$|m|$ per spin", COLOURS["m"])):
        y = t.column(key).astype(float)
        if x.size > MAX_TRACE_POINTS:  # more points than the axes can show apart: their range and mean
            xs, lo, hi, mean = _envelope(x, y, ENVELOPE_BINS)
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.35, lw=0, label="range")
            ax.plot(xs, mean, color=colour, lw=0.8, label="mean")
        else:
            ax.plot(x, y, color=colour, lw=0.6)
        ax.set_xlabel("sweeps")
        ax.set_ylabel(label)
        lean(ax)


def _envelope(x, y, bins: int):
    """Per bin of consecutive points: the middle x, the min, max and mean y."""
    edges = np.linspace(0, x.size, bins + 1).astype(int)
    parts = [slice(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    return tuple(np.array([f(v[p]) for p in parts]) for f, v in
                 ((np.mean, x), (np.min, y), (np.max, y), (np.mean, y)))


def _scan(axes, t) -> None:
    model = t.model or {}
    L, J = int(model.get("size") or 0), float(model.get("coupling", 1.0))
    field = float(model.get("field") or 0.0)
    T = t.column("T_mean")
    onsager = onsager_curves(J) if field == 0.0 else {}
    kaufman = kaufman_curves(L, J) if field == 0.0 and L >= 2 else None
    j = abs(J) or 1.0
    lo, hi = j * VIEW[0], j * VIEW[1]
    if T.size:
        pad = 2 * float(t.meta.get("bin_width") or 0.02)
        lo, hi = min(lo, float(T.min()) - pad), max(hi, float(T.max()) + pad)
    for ax, (name, label) in zip(axes, SCAN):
        if name in onsager:
            tt, yy = onsager[name]
            keep = (tt >= lo) & (tt <= hi)
            ax.plot(tt[keep], yy[keep], color=COLOURS["onsager"], label=r"Onsager, $L=\infty$")
        if kaufman is not None and name in ("e", "c"):
            tt, e, c = kaufman
            keep = (tt >= lo) & (tt <= hi)
            ax.plot(tt[keep], (e if name == "e" else c)[keep], "--", color=COLOURS["kaufman"],
                    label=f"Kaufman, $L={L}$")
        if J != 0.0:
            ax.axvline(j * exact.TC, ls=(0, (3, 2)), lw=0.8, color=COLOURS["tc"], label=r"$T_c$")
        y, err = t.column(name), t.column(f"{name}_err")
        ok = np.isfinite(y)
        ax.errorbar(T[ok], y[ok], yerr=np.nan_to_num(err[ok]), fmt="o", ms=2.5, mew=0, elinewidth=0.8,
                    color=COLOURS["data"], label=f"simulation, $L={L}$" if L else "simulation", zorder=3)
        ax.set_xlim(lo, hi)
        ax.set_xlabel(T_LABEL)
        ax.set_ylabel(label)
        lean(ax)
