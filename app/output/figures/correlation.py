"""The correlations panel as a paper figure: the connected G(r) along the axes (jackknife error
bars), its radial average and the projected C(t)/C(0) with the exponential fit that gives xi_exp
(and the power law that gives eta near T_c), semi-log; beside it xi_exp and xi_2nd per
temperature bin over Onsager's exact xi(T), sqrt(2/5) xi below T_c (where xi_2nd belongs), the
exact T_c and the L/4 line above which the lattice dominates; a star marks the exact xi at the
current bin's temperature (core.correlation.exact_xi)."""
from __future__ import annotations

import numpy as np
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import MaxNLocator

from isinglab.core import exact
from isinglab.core.correlation import FINITE_SIZE_FRACTION, exact_xi
from isinglab.core.exact_curves import onsager_xi_curves
from isinglab.core.correlation.fits import eta_model, one_particle, periodic_model, two_particle
from isinglab.app.output.figures.style import COLOURS, Style, lean, new_figure

SETS = ("correlation",)
T_RANGE = (0.5, 5.0)


def draw(tables: dict, style: Style):
    t = tables["correlation"]
    doc = t.document or {}
    res = doc.get("result") or {}
    w = style.width
    fig = new_figure(style, 0.5 * w if style.double else 1.6 * w)
    gs = GridSpec(1, 2, figure=fig) if style.double else GridSpec(2, 1, figure=fig)
    _g(fig.add_subplot(gs[0]), t, res)
    _xi(fig.add_subplot(gs[1]), t, res, doc.get("xi_points") or {})
    return fig


def _arr(d: dict, key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in (d.get(key) or [])], dtype=float)


def _positive(x, y):
    ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
    return x[ok], y[ok], ok


def _g(ax, t, res) -> None:
    r, g, err = t.column("r").astype(float), t.column("g").astype(float), t.column("g_err").astype(float)
    x, y, ok = _positive(r, g)
    lower = np.minimum(np.nan_to_num(err[ok]), 0.999 * y)  # a bar reaching 0 stops short of it on log axes
    ax.errorbar(x, y, yerr=(lower, np.nan_to_num(err[ok])), fmt="o", ms=2.5, mew=0, elinewidth=0.7,
                color=COLOURS["data"], label=r"$G(r)$ along the axes", zorder=3)
    rr, gr, _ = _positive(_arr(res, "r_radial"), _arr(res, "g_radial"))
    if rr.size:
        ax.plot(rr, gr, color=COLOURS["grey"], lw=0.8, label=r"$G(r)$ radial")
    tt, cc = _arr(res, "t"), _arr(res, "c")
    c0 = cc[0] if cc.size and np.isfinite(cc[0]) and cc[0] > 0 else 1.0
    xt, yt, _ = _positive(tt, cc / c0)
    ax.plot(xt, yt, "^", ms=2.5, mew=0, color=COLOURS["onsager"], label=r"$C(t)/C(0)$")
    size = int((t.model or {}).get("size") or res.get("size") or 0)
    fits = res.get("fits") or {}
    f = fits.get("xi_exp")
    if f and size:
        phi = two_particle if f.get("form") == "two-particle" else one_particle
        xs = np.linspace(*f["window"], 100)
        ys = periodic_model(phi, size, f["t0"])(xs, f["amplitude"], f["xi"]) / c0
        xs, ys, _ = _positive(xs, ys)
        ax.plot(xs, ys, color=COLOURS["onsager"], lw=1.0, label=rf"fit: $\xi_\mathrm{{exp}} = {f['xi']:.3g}$")
    f = fits.get("eta")
    if f and size:
        xs = np.linspace(*f["window"], 100)
        xs, ys, _ = _positive(xs, eta_model(xs, f["amplitude"], f["eta"], f["b"] / size))
        ax.plot(xs, ys, ls=(0, (3, 2)), color=COLOURS["tc"], lw=1.0, label=rf"fit: $\eta = {f['eta']:.3g}$")
    ax.set_yscale("log")
    ax.set_xlabel(r"$r,\ t$ [lattice spacings]")
    ax.set_ylabel(r"$G(r),\ C(t)/C(0)$")
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    temp = t.meta.get("temperature")
    if temp is not None:
        ax.set_title(f"$L = {size}$, $T = {temp:.4g}$, {t.meta.get('n_samples', '?')} snapshots")
    ax.legend(loc="upper right")


def _xi(ax, t, res, points: dict) -> None:
    model = t.model or {}
    L, J, h = int(model.get("size") or 0), float(model.get("coupling", 1.0)), float(model.get("field") or 0.0)
    j = abs(J) or 1.0
    if J != 0.0 and h == 0.0 and L:
        (tt, xi), (t2, xi2) = onsager_xi_curves(J, L)
        ax.plot(tt, xi, color=COLOURS["onsager"], label=r"Onsager $\xi$ (exact)")
        ax.plot(t2, xi2, ls=(0, (3, 2)), color=COLOURS["kaufman"], label=r"$\sqrt{2/5}\,\xi$")
        ax.axvline(j * exact.TC, ls=(0, (3, 2)), lw=0.8, color=COLOURS["tc"], label=r"$T_c$")
    if L:
        ax.axhline(FINITE_SIZE_FRACTION * L, ls=(0, (1, 1.5)), lw=0.8, color=COLOURS["size"], label="$L/4$")
    for name, marker, colour, label in (("xi_exp", "o", COLOURS["data"], r"$\xi_\mathrm{exp}$"),
                                        ("xi_2nd", "s", COLOURS["data2"], r"$\xi_\mathrm{2nd}$")):
        p = points.get(name) or {}
        x, y, e = _arr(p, "T"), _arr(p, "mean"), np.nan_to_num(_arr(p, "err"))
        if x.size:
            ax.errorbar(x, y, yerr=e, fmt=marker, ms=2.8, mew=0, elinewidth=0.7, color=colour, label=label, zorder=3)
    temp = t.meta.get("temperature")
    xi_now = exact_xi(temp, J, h) if temp is not None else None
    if xi_now is not None and np.isfinite(xi_now) and xi_now < 4 * max(L, 1):
        ax.plot([temp], [xi_now], marker="*", ms=6, color="black", ls="none", label=r"exact $\xi(T)$", zorder=4)
    ax.set_xlim(1.0 * j, 3.6 * j)
    ax.set_ylim(0.0, 0.5 * L if L else None)
    ax.set_xlabel(r"$T$ [$J/k_B$]")
    ax.set_ylabel(r"$\xi$ [lattice spacings]")
    lean(ax)
    ax.figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3)
