"""The block-spin RG panel as a paper figure: the measured RG flow in the (K_nn, K_nnn) plane
(points with jackknife error bars, an arrow per RG step) beside the reference flows at fixed
temperatures and the exact critical coupling K_c = ln(1 + sqrt 2) / 2 on the K_nn axis; below it,
when an MCRG estimate exists, T_c per matched lattice side and nu per RG step against the exact
T_c and nu = 1."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from isinglab.core import exact
from isinglab.app.output.figures.style import COLOURS, REFERENCE_COLOURS, Style, lean, new_figure

SETS = ("rg_couplings", "mcrg")
K_C = 0.5 * math.log1p(math.sqrt(2.0))  # = 1 / T_c for J = 1


def draw(tables: dict, style: Style):
    flow = tables.get("rg_couplings")
    doc = (flow.document or {}) if flow is not None else {}
    mcrg = doc.get("mcrg") or ((tables["mcrg"].document or {}).get("mcrg") if "mcrg" in tables else None)
    w, has_flow = style.width, flow is not None
    if style.double:
        height = (0.45 if has_flow else 0.3) * w
    else:
        height = (0.8 * w if has_flow else 0.0) + (0.4 * w if mcrg else 0.0)
    fig = new_figure(style, height)
    if style.double and has_flow and mcrg:
        gs = GridSpec(1, 3, figure=fig, width_ratios=(2, 1, 1))
        flow_ax, mcrg_axes = fig.add_subplot(gs[0, 0]), (fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[0, 2]))
    else:
        rows = int(has_flow) + int(bool(mcrg))
        gs = GridSpec(rows, 2, figure=fig, height_ratios=(2, 1) if rows == 2 else None)
        flow_ax = fig.add_subplot(gs[0, :]) if has_flow else None
        mcrg_axes = (fig.add_subplot(gs[rows - 1, 0]), fig.add_subplot(gs[rows - 1, 1])) if mcrg else None
    if flow_ax is not None:
        _flow(flow_ax, flow, doc.get("reference_flows") or [])
    if mcrg_axes is not None:
        _mcrg(mcrg_axes, mcrg)
    return fig


def _points(levels_json):
    """(K_nn, K_nnn, err_nn, err_nnn) arrays of the levels with a fit, from their JSON form."""
    rows = []
    for lv in levels_json:
        c = lv.get("couplings") or {}
        if c.get("status", "ok") != "ok":
            continue
        vals = [(c.get(k) or {}).get(f) for k in ("nn", "nnn") for f in ("mean", "err")]
        if all(isinstance(v, (int, float)) for v in vals):
            rows.append(vals)
    a = np.array(rows, dtype=float).reshape(-1, 4)
    return a[:, 0], a[:, 2], a[:, 1], a[:, 3]


def _trajectory(ax, x, y, ex, ey, colour, label, dashed=False):
    ax.errorbar(x, y, xerr=ex, yerr=ey, fmt="o", ms=3, mew=0, elinewidth=0.7, color=colour, zorder=3)
    ax.plot(x, y, ls=(0, (3, 2)) if dashed else "-", lw=0.8, color=colour, label=label)
    for i in range(len(x) - 1):
        if (x[i + 1], y[i + 1]) != (x[i], y[i]):
            ax.annotate("", xy=(0.5 * (x[i] + x[i + 1]) + 0.1 * (x[i + 1] - x[i]), 0.5 * (y[i] + y[i + 1]) + 0.1 * (y[i + 1] - y[i])),
                        xytext=(0.5 * (x[i] + x[i + 1]), 0.5 * (y[i] + y[i + 1])),
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=0.8, mutation_scale=7, shrinkA=0, shrinkB=0))


def _flow(ax, t, references) -> None:
    for ref, colour in zip(references, REFERENCE_COLOURS):
        x, y, ex, ey = _points(ref.get("levels") or [])
        temp = ref.get("temperature")
        name = "ref. $T_c$" if temp is not None and abs(temp - exact.TC) < 1e-9 else f"ref. $T={temp:g}$"
        if x.size:
            _trajectory(ax, x, y, ex, ey, colour, name, dashed=True)
    x, y = t.column("nn"), t.column("nnn")
    ex, ey = t.column("nn_err"), t.column("nnn_err")
    ok = np.isfinite(x) & np.isfinite(y)
    temp = (t.model or {}).get("temperature")
    label = f"$T = {temp:.4g}$" if temp is not None else "measured"
    if ok.any():
        _trajectory(ax, x[ok], y[ok], np.nan_to_num(ex[ok]), np.nan_to_num(ey[ok]), COLOURS["data"], label)
    ax.plot([K_C], [0.0], marker="*", ms=6, color="black", ls="none", label=r"$K_c$ (exact)", zorder=4)
    ax.axhline(0.0, color=COLOURS["grey"], lw=0.5, zorder=0)
    ax.set_xlabel(r"$K_\mathrm{nn}$")
    ax.set_ylabel(r"$K_\mathrm{nnn}$")
    lean(ax, 5, 4)
    ax.legend(loc="best", ncols=2)


def _mcrg(axes, res: dict) -> None:
    ax_tc, ax_nu = axes
    for ax, entries, key, xkey, exact_value, label, xlabel in (
            (ax_tc, res.get("match") or [], "tc", "side", exact.TC, r"$T_c$", "matched side"),
            (ax_nu, res.get("eigen") or [], "nu", "to", 1.0, r"$\nu$", "to side")):
        pts = [(e.get(xkey), (e.get(key) or {}).get("mean"), (e.get(key) or {}).get("err")) for e in entries]
        pts = np.array([p for p in pts if all(isinstance(v, (int, float)) for v in p)], float).reshape(-1, 3)
        ax.axhline(exact_value, ls=(0, (3, 2)), lw=0.8, color=COLOURS["kaufman"], label="exact")
        ax.errorbar(pts[:, 0], pts[:, 1], yerr=pts[:, 2], fmt="o", ms=3, mew=0, elinewidth=0.8,
                    color=COLOURS["data"], label="MCRG")
        ax.set_xscale("log", base=2)
        sides = sorted({int(v) for v in pts[:, 0]}) or [1]
        ax.set_xlim(sides[0] / 1.5, sides[-1] * 1.5)
        ax.xaxis.set_major_locator(FixedLocator(sides))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        ax.yaxis.set_major_locator(MaxNLocator(4))
    ax_tc.legend(loc="best")
