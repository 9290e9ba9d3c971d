"""The finite-size scaling dock's analysis, without Qt: what the plots and data sets show.

`analyse_board` runs on the panel's analysis worker (never the GUI thread) with a copy of the
board's finished runs. Per size it reweights all runs (core.fss.MultiHistogram, all seeds) onto a
grid over the reliable range, for the U4 and chi' curves; the measured points are the task
summaries, seeds combined (core.sweep.store.point_summary). Once there are two sizes with two
temperatures each, core.fss.analyse gives the crossings, T_c, U*, gamma/nu, nu and the collapse
fit with jackknife errors over seeds; until it can (too few seeds, no crossing yet), its one-line
reason is the result's `message`. The result is immutable: the GUI thread only draws it.
"""
from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from isinglab.core.errors import IsingLabError
from isinglab.core.fss import MultiHistogram, analyse
from isinglab.core.sweep.store import point_summary

CURVE_POINTS = 301  # per size: the reweighted curves drawn
TABLE_POINTS = 201  # the common T grid of the fss_binder and fss_chi data sets
U_STAR_EXACT = 0.61069  # Binder cumulant at T_c, square-lattice torus (docs/science/fss.md)
GAMMA_OVER_NU_EXACT = 1.75


@dataclass(frozen=True)
class SizeCurve:
    """One size's reweighted curves over its reliable range, and the chi' peak on them."""

    size: int
    t: np.ndarray
    u4: np.ndarray
    chi: np.ndarray
    range: tuple
    data_range: tuple
    chi_max: float
    t_chi_max: float
    interior: bool  # the peak is not at the edge of the reliable range


@dataclass(frozen=True)
class SizePoints:
    """One size's measured points (the task summaries, seeds combined), ascending in T."""

    size: int
    t: np.ndarray
    seeds: np.ndarray
    u4: np.ndarray
    u4_err: np.ndarray
    chi: np.ndarray
    chi_err: np.ndarray


@dataclass(frozen=True)
class FssResult:
    generation: int  # the board's generation (fss_sweep.SweepBoard) it was computed from
    version: int  # the board's data version it was computed from
    model: dict | None  # the sweep's parameters
    complete: bool  # no more data will come (the sweep or the load ended)
    sizes: tuple
    tasks: int  # finished tasks analysed
    points: dict = field(default_factory=dict)  # L -> SizePoints
    curves: dict = field(default_factory=dict)  # L -> SizeCurve
    analysis: dict | None = None  # core.fss.analyse(), or None
    message: str = ""  # why there is no analysis (yet), or a size without curves
    table_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    table_u4: dict = field(default_factory=dict)  # L -> U4 on table_t (nan outside its range)
    table_chi: dict = field(default_factory=dict)  # L -> chi' on table_t
    seconds: float = 0.0

    def headline(self) -> dict:
        """tc, u4_star, gamma_over_nu, nu: {mean, err}, or {} without an analysis."""
        if self.analysis is None:
            return {}
        return {k: dict(self.analysis[k]) for k in ("tc", "u4_star", "gamma_over_nu", "nu")}


def analyse_board(data) -> FssResult:
    """The analysis of a fss_sweep.BoardData (worker thread)."""
    t0 = time.perf_counter()
    runs = {L: list(r) for L, r in data.runs.items() if r}
    sizes = tuple(sorted(runs))
    points = _points(data.summaries)
    curves, tables, notes = {}, {}, []
    for L in sizes:
        if len({r.temperature for r in runs[L]}) < 2:
            continue
        try:
            curves[L], tables[L] = _curve(L, runs[L])
        except IsingLabError as exc:
            notes.append(str(exc))
    table_t = np.zeros(0)
    table_u4, table_chi = {}, {}
    if tables:
        lo = min(c.data_range[0] for c in curves.values())
        hi = max(c.data_range[1] for c in curves.values())
        table_t = np.linspace(lo, hi, TABLE_POINTS)
        for L, rw in tables.items():
            obs = rw.observables(table_t)
            inside = (table_t >= rw.range[0]) & (table_t <= rw.range[1])
            table_u4[L] = np.where(inside, obs["u4"], np.nan)
            table_chi[L] = np.where(inside, obs["chi"], np.nan)
    analysis, message = None, ""
    if len(curves) >= 2:
        try:
            analysis = analyse({L: runs[L] for L in sizes})
        except IsingLabError as exc:
            message = str(exc)
        except Exception as exc:  # a numerical corner of partial data: one line, and the log
            traceback.print_exc()
            message = f"the analysis failed: {type(exc).__name__}: {exc}".splitlines()[0]
    elif sizes:
        message = "the analysis needs two sizes with runs at two temperatures each"
    if notes and not message:
        message = notes[0]
    return FssResult(data.generation, data.version, dict(data.parameters) or None, data.complete, sizes,
                     sum(len(r) for r in runs.values()), points, curves, analysis, message,
                     table_t, table_u4, table_chi, time.perf_counter() - t0)


def _points(summaries) -> dict:
    finished = {i: {"size": L, "temperature": t, "summary": s} for i, (L, t, s) in enumerate(summaries)}
    by_size: dict = {}
    for p in point_summary(finished):
        by_size.setdefault(p["size"], []).append(p)
    out = {}
    for L, pts in by_size.items():
        def col(key, part):
            return np.array([p[key][part] if isinstance(p.get(key), dict) and p[key][part] is not None
                             else np.nan for p in pts], dtype=np.float64)
        out[L] = SizePoints(L, np.array([p["temperature"] for p in pts], dtype=np.float64),
                            np.array([p["seeds"] for p in pts]), col("u4", "mean"), col("u4", "err"),
                            col("chi", "mean"), col("chi", "err"))
    return out


def _curve(L: int, runs: list):
    rw = MultiHistogram(L, runs).solve()
    t = np.linspace(rw.range[0], rw.range[1], CURVE_POINTS)
    obs = rw.observables(t)
    chi = obs["chi"]
    ok = np.isfinite(chi)
    if np.any(ok):
        i = int(np.nanargmax(np.where(ok, chi, -np.inf)))
        peak, t_peak, interior = float(chi[i]), float(t[i]), 0 < i < t.size - 1
    else:
        peak, t_peak, interior = math.nan, math.nan, False
    return SizeCurve(L, t, obs["u4"], chi, tuple(map(float, rw.range)), tuple(map(float, rw.data_range)),
                     peak, t_peak, interior), rw


def chi_max_points(result: FssResult) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(L, chi'_max, its error, interior) per size: the analysis' refined peaks with jackknife
    errors when there is one, else the maxima of the reweighted curves (no errors)."""
    if result.analysis is not None:
        rows = result.analysis["sizes"]
        return (np.array([r["size"] for r in rows], float),
                np.array([_num(r["chi_max"]["mean"]) for r in rows]),
                np.array([_num(r["chi_max"]["err"]) for r in rows]),
                np.array([bool(r["chi_max_interior"]) for r in rows]))
    cs = [result.curves[L] for L in sorted(result.curves)]
    return (np.array([c.size for c in cs], float), np.array([c.chi_max for c in cs]),
            np.full(len(cs), np.nan), np.array([c.interior for c in cs], bool))


def slope_line(sizes, values, slope: float, use=None) -> tuple[np.ndarray, np.ndarray]:
    """The line chi = a L^slope through the points (least squares in log-log with the slope
    fixed), drawn over the sizes' span; empty without two usable points."""
    L = np.asarray(sizes, float)
    v = np.asarray(values, float)
    ok = np.isfinite(v) & (v > 0) & (L > 0)
    if use is not None:
        ok &= np.asarray(use, bool)
    if np.count_nonzero(ok) < 1 or not math.isfinite(slope):
        return np.zeros(0), np.zeros(0)
    log_a = float(np.mean(np.log(v[ok]) - slope * np.log(L[ok])))
    x = np.array([L[ok].min() / 1.2, L[ok].max() * 1.2]) if np.count_nonzero(ok) > 1 else L[ok] * [1 / 1.2, 1.2]
    return x, np.exp(log_a) * x ** slope


def _num(v) -> float:
    return float(v) if isinstance(v, (int, float)) and v is not None else math.nan


def json_safe(obj):
    """Numbers, lists and dicts with nan/inf as None and numpy types as Python (state, JSON)."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
