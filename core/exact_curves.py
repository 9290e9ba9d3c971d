"""Exact curves to draw under measured points: Onsager's infinite lattice and Kaufman's finite
torus on temperature grids fine enough to resolve the peak of c. Shared by the window's
observables panel and the publication figures (no Qt)."""
from __future__ import annotations

import numpy as np

from isinglab.core import exact
from isinglab.core.errors import IsingLabError

KAUFMAN_POINTS = 200  # scalar exact calls: ~1.5 ms each at L = 1024
ONSAGER_POINTS = 400  # uniform part; plus 2 x 100 log-spaced points at T_c for c's log peak
T_RANGE = (0.5, 5.0)  # exact curves span this, in units of |J|


def kaufman_grid(size: int, coupling: float) -> np.ndarray:
    """~200 temperatures: uniform over T_RANGE plus points packed around T_c.

    The finite-size peak of c is ~ T_c / L wide, far narrower than a uniform grid step for
    large L, so a third of the points cover T_c (1 +- 8/L).
    """
    j = abs(coupling)
    base = j * np.linspace(*T_RANGE, KAUFMAN_POINTS - KAUFMAN_POINTS // 3)
    half = min(8.0 / size, 0.3)
    near = j * exact.TC * np.linspace(1.0 - half, 1.0 + half, KAUFMAN_POINTS // 3)
    return np.unique(np.concatenate([base, near]))


def kaufman_curves(size: int, coupling: float):
    """(T, e, c) of the L x L torus, or None where Kaufman's solution does not apply.

    Runs on the worker thread. Loops over scalar temperatures, the documented exact API.
    """
    if coupling == 0.0:
        return None
    t = kaufman_grid(size, coupling)
    try:
        e = np.array([exact.kaufman_energy(size, x, coupling) for x in t])
        c = np.array([exact.kaufman_specific_heat(size, x, coupling) for x in t])
    except IsingLabError:  # e.g. J < 0 on odd L: frustrated, no exact solution
        return None
    return t, e, c


def onsager_curves(coupling: float):
    """Infinite-lattice {name: (T, y)}; |m| only for J > 0 (for J < 0 it is staggered)."""
    if coupling == 0.0:
        return {}
    # few points keep repaints cheap; log spacing resolves the peak of c down to |t| = 1e-5
    near = np.logspace(-5, -0.7, 100)
    uniform = np.linspace(*T_RANGE, ONSAGER_POINTS)
    t = abs(coupling) * np.unique(np.concatenate([uniform, exact.TC * (1 - near), exact.TC * (1 + near)]))
    c = exact.onsager_specific_heat(t, coupling)
    out = {"e": (t, exact.onsager_energy(t, coupling)), "c": (t, np.where(np.isfinite(c), c, np.nan))}
    if coupling > 0.0:
        out["m_abs"] = (t, exact.onsager_magnetisation(t, coupling))
    return out


def onsager_xi_curves(coupling: float, size: int):
    """(T, xi) of Onsager's exact xi (a gap at T_c) and (T, sqrt(2/5) xi) below T_c, where the
    second-moment length belongs; both cut at 4 L (the plots' range), empty for J = 0."""
    from isinglab.core.correlation import SECOND_MOMENT_RATIO_BELOW
    if coupling == 0.0:
        return (np.array([]), np.array([])), (np.array([]), np.array([]))
    j = abs(coupling)
    near = np.logspace(-4, -0.5, 120)
    t = j * np.unique(np.concatenate([np.linspace(*T_RANGE, 300), exact.TC * (1 - near), exact.TC * (1 + near)]))
    xi = exact.onsager_correlation_length(t, coupling)
    xi = np.where(np.isfinite(xi) & (xi < 4 * size), xi, np.nan)
    below = t < j * exact.TC
    return ((np.concatenate([t[below], [j * exact.TC], t[~below]]), np.concatenate([xi[below], [np.nan], xi[~below]])),
            (t[below], SECOND_MOMENT_RATIO_BELOW * xi[below]))
