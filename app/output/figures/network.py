"""The network panel as a paper figure: the Hamiltonian a model learned, group by group of local
operators, against the exact Ising couplings (K_nn = J/T, h/T, every other operator 0).

- pseudo-likelihood fit (Hamiltonian tab): each group's mean coefficient with its sandwich error
  bar, the exact value as a black bar;
- distilled classifier (Classifier tab): per class, the learned logit coefficients D relative to
  the reference class, K(T_y) - K(T_ref) exact for the nearest-neighbour group (line), and the
  other groups (which Bayes says vanish)."""
from __future__ import annotations

import numpy as np
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import MaxNLocator

from isinglab.app.output.figures.style import COLOURS, Style, lean, new_figure

SETS = ("network",)
GROUP_LABELS = {"nn": r"$K_\mathrm{nn}$", "nnn": r"$K_\mathrm{nnn}$", "h": "$h$", "plaquette": "plaq.",
                "3-spin": "3-spin"}


def draw(tables: dict, style: Style):
    doc = tables["network"].document or {}
    parts = [k for k in ("pl_fit", "distilled") if doc.get(k)]
    w = style.width
    if style.double:
        fig = new_figure(style, 0.4 * w)
        gs = GridSpec(1, max(1, len(parts)), figure=fig)
    else:
        fig = new_figure(style, 0.75 * w * max(1, len(parts)))
        gs = GridSpec(max(1, len(parts)), 1, figure=fig)
    for k, part in enumerate(parts):
        ax = fig.add_subplot(gs[k])
        (_pl_fit if part == "pl_fit" else _distilled)(ax, doc[part])
    return fig


def _num(v) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan


def _label(group: str) -> str:
    return GROUP_LABELS.get(group, group)


def _pl_fit(ax, fit: dict) -> None:
    groups = list((fit.get("couplings") or {}).keys())
    x = np.arange(len(groups))
    mean = np.array([_num((fit["couplings"][g] or {}).get("mean")) for g in groups])
    err = np.nan_to_num(np.array([_num((fit["couplings"][g] or {}).get("err")) for g in groups]))
    exact = np.array([_num((fit.get("exact") or {}).get(g)) for g in groups])
    ax.axhline(0.0, color=COLOURS["grey"], lw=0.5, zorder=0)
    ax.plot(x, exact, "_", ms=10, mew=1.2, color="black", label="exact")
    ax.errorbar(x, mean, yerr=err, fmt="o", ms=3, mew=0, elinewidth=0.8, color=COLOURS["data"],
                label="pseudo-likelihood")
    ax.set_xticks(x, [_label(g) for g in groups], rotation=30 if len(groups) > 5 else 0)
    ax.set_ylabel("coupling")
    temp, size = _num(fit.get("temperature")), fit.get("size")
    ax.set_title(f"$L = {size}$, $T = {temp:.4g}$, {fit.get('samples', '?')} samples")
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.legend(loc="upper right")


def _distilled(ax, dist: dict) -> None:
    classes = dist.get("classes") or []
    temps = np.array([_num(c.get("temperature")) for c in classes])
    groups = list((classes[0].get("couplings") or {}).keys()) if classes else []
    ax.axhline(0.0, color=COLOURS["grey"], lw=0.5, zorder=0)
    other_label = "other operators"
    for g in groups:
        learned = np.array([_num(((c.get("couplings") or {}).get(g) or {}).get("learned")) for c in classes])
        exact = np.array([_num(((c.get("couplings") or {}).get(g) or {}).get("exact")) for c in classes])
        main = g == "nn"
        if main:
            order = np.argsort(temps)
            ax.plot(temps[order], exact[order], color="black", lw=0.8, label=r"exact $\Delta K_\mathrm{nn}$")
        ax.plot(temps, learned, "o" if main else ".", ms=3.5 if main else 3, mew=0,
                color=COLOURS["data"] if main else COLOURS["grey"],
                label=r"learned $D_\mathrm{nn}$" if main else other_label)
        if not main:
            other_label = None
    ref = _num(dist.get("reference_temperature"))
    ax.set_xlabel(r"class temperature $T_y$ [$J/k_B$]")
    ax.set_ylabel(rf"$D$ relative to $T_\mathrm{{ref}} = {ref:.3g}$")
    lean(ax)
    ax.legend(loc="best")
