"""Finite-size scaling of a sweep store: Binder crossings, peak scaling and a data collapse.

For each size L the runs are reweighted (reweight.MultiHistogram) onto a fine temperature grid
over the reliable range (the sampled temperatures plus one energy-histogram width at each end).
Every quantity below is computed once from all seeds and once per jackknife sample (all seeds but
one, the same seed left out of every size); its error is the jackknife error over seeds,
sqrt((n-1)/n sum_j (q_j - mean q_j)^2).

* Binder cumulant U4 = 1 - <m^4> / (3 <m^2>^2) per L; the crossing T*(L1, L2) of each pair of
  successive sizes inside the sampled temperatures (brentq on the reweighted curves) and the value
  U4 there.
* Peaks: chi'_max(L) with chi' = N (<m^2> - <|m|>^2) / T, max |dU4/dT| and max |d ln<|m|>/dT|;
  log-log slopes give gamma/nu and 1/nu (twice). A size whose peak lies on the edge of its
  reliable range is left out of that slope.
* Extrapolation: with U4 = U* + a t L^(1/nu) + b L^(-omega), the crossing of L1 and L2 sits at
  T* = T_c + K X, X = (L1^-omega - L2^-omega) / (L2^(1/nu) - L1^(1/nu)), and its value at
  U* + b Y, Y = L1^-omega + L1^(1/nu) X; weighted straight-line fits in X and Y give T_c and U*
  (1/nu from the dU4/dT slope, else d ln<|m|>/dT; omega = 7/4 by default, the 2D Ising correction from the
  analytic background of <m^2>). One pair: the crossing itself.
* Collapse: chi' L^(-gamma/nu) against (T - T_c) L^(1/nu). The quality S of Houdayer & Hartmann
  (each point against the other sizes' curves at the same x, S ~ 1 for a collapse within errors)
  is minimised over (T_c, nu, gamma/nu) by Nelder-Mead (scipy.optimize).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ..errors import IsingLabError
from ..limits import check_memory
from .reweight import MultiHistogram, Reweighted, Run

GRID_POINTS = 801  # temperatures per size on which the curves are tabulated
COLLAPSE_POINTS = 40  # points per size that enter the collapse quality
DEFAULT_OMEGA = 1.75
BYTES_PER_SAMPLE = 64  # e and m read back, and the arrays derived from them while histogramming
MIN_PARTNERED = 0.25  # a collapse must compare at least this share of its points


def jackknife_error(full: float, replicas) -> float:
    q = np.asarray(replicas, dtype=np.float64)
    n = q.size
    if n < 2 or not np.all(np.isfinite(q)):
        return math.nan
    return float(math.sqrt((n - 1) / n * np.sum((q - q.mean()) ** 2)))


def entry(full: float, replicas) -> dict:
    return {"mean": float(full), "err": jackknife_error(full, replicas)}


class SizeCurves:
    """One size: the reweighting from all seeds and from each jackknife sample, tabulated."""

    def __init__(self, size: int, runs: list, seeds: list):
        self.size = size
        self.mh = MultiHistogram(size, runs)
        self.full = self.mh.solve()
        self.replicas = [self.mh.solve([s for s in seeds if s != j], start=self.full) for j in seeds]
        self.range = self.full.range
        self.data_range = self.full.data_range
        self.grid = np.linspace(self.range[0], self.range[1], GRID_POINTS)
        self.curves = [self.full.observables(self.grid)] + [r.observables(self.grid) for r in self.replicas]

    def solutions(self) -> list[Reweighted]:
        return [self.full] + self.replicas

    def error(self, name: str) -> np.ndarray:
        reps = np.array([c[name] for c in self.curves[1:]])
        n = reps.shape[0]
        return np.sqrt((n - 1) / n * np.sum((reps - reps.mean(axis=0)) ** 2, axis=0))


def _peak(rw: Reweighted, grid: np.ndarray, values: np.ndarray, name: str, sign: float) -> tuple:
    """(T at the maximum of sign * name, the maximum, interior?) refined between grid points."""
    v = sign * values
    i = int(np.nanargmax(v))
    if i == 0 or i == grid.size - 1:
        return float(grid[i]), float(v[i]), False
    res = optimize.minimize_scalar(lambda t: -sign * rw.value(name, t), bounds=(grid[i - 1], grid[i + 1]),
                                   method="bounded", options={"xatol": 1e-9})
    if res.success and -res.fun >= v[i]:
        return float(res.x), float(-res.fun), True
    return float(grid[i]), float(v[i]), True


def _crossing(a: Reweighted, b: Reweighted, lo: float, hi: float, n: int = 801) -> float | None:
    """T in [lo, hi] where U4 of the smaller size a rises through U4 of the larger b (below T_c
    the larger lattice is the more ordered one); the steepest such crossing if several."""
    if not hi > lo:
        return None
    T = np.linspace(lo, hi, n)
    d = a.observables(T)["u4"] - b.observables(T)["u4"]
    ok = np.isfinite(d)
    up = np.nonzero(ok[:-1] & ok[1:] & (d[:-1] <= 0.0) & (d[1:] > 0.0))[0]
    if up.size == 0:
        return None
    i = max(up, key=lambda k: d[k + 1] - d[k])

    def diff(t):
        return a.value("u4", t) - b.value("u4", t)
    try:
        return float(optimize.brentq(diff, T[i], T[i + 1], xtol=1e-12))
    except ValueError:
        return float(T[i])


def _line_fit(x, y, w=None) -> tuple[float, float]:
    """Weighted least squares y = c0 + c1 x: (c0, c1)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    A = np.stack([np.ones_like(x), x], axis=1) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)
    return float(coef[0]), float(coef[1])


def _weights(errs) -> np.ndarray | None:
    e = np.asarray(errs, float)
    if e.size == 0 or not np.all(np.isfinite(e)) or np.any(e <= 0.0):
        return None
    return 1.0 / e ** 2


def extrapolate(sizes, t_cross, u_cross, inv_nu: float, omega: float, wt=None, wu=None) -> tuple[float, float]:
    """(T_c, U*) from the crossings of successive sizes (see the module docstring): weighted
    straight lines T* = T_c + K X and U4(T*) = U* + b Y."""
    L1 = np.array(sizes[:-1], float)
    L2 = np.array(sizes[1:], float)
    X = (L1 ** -omega - L2 ** -omega) / (L2 ** inv_nu - L1 ** inv_nu)
    Y = L1 ** -omega + L1 ** inv_nu * X
    return _line_fit(X, t_cross, wt)[0], _line_fit(Y, u_cross, wu)[0]


class Collapse:
    """Houdayer-Hartmann quality of chi' L^-gamma/nu against (T - T_c) L^(1/nu)."""

    def __init__(self, sizes: list, grids: list, values: list, errors: list, ranges: list):
        self.sizes = np.array(sizes, dtype=np.float64)
        self.grids, self.values, self.errors, self.ranges = grids, values, errors, ranges
        self.points = []
        for k, g in enumerate(grids):
            idx = np.linspace(0, g.size - 1, COLLAPSE_POINTS).round().astype(int)
            self.points.append(idx)

    def quality(self, params, replica_values=None) -> tuple[float, int]:
        tc, nu, gnu = params
        if not (nu > 0.05 and math.isfinite(tc) and math.isfinite(gnu)):
            return math.inf, 0
        values = self.values if replica_values is None else replica_values
        total, count, candidates = 0.0, 0, 0
        for k, L in enumerate(self.sizes):
            idx = self.points[k]
            T = self.grids[k][idx]
            x = (T - tc) * L ** (1.0 / nu)
            scale = L ** (-gnu)
            y = values[k][idx] * scale
            dy = self.errors[k][idx] * scale
            num = np.zeros_like(x)
            den = np.zeros_like(x)
            for j, L2 in enumerate(self.sizes):
                if j == k:
                    continue
                T2 = tc + x * L2 ** (-1.0 / nu)
                inside = (T2 >= self.ranges[j][0]) & (T2 <= self.ranges[j][1])
                s2 = L2 ** (-gnu)
                v = np.interp(T2, self.grids[j], values[j]) * s2
                ev = np.interp(T2, self.grids[j], self.errors[j]) * s2
                w = np.where(inside, 1.0 / np.maximum(ev, 1e-300) ** 2, 0.0)
                num += w * v
                den += w
            have = den > 0.0
            candidates += x.size
            if not np.any(have):
                continue
            Y = num[have] / den[have]
            dY2 = 1.0 / den[have]
            total += float(np.sum((y[have] - Y) ** 2 / (dy[have] ** 2 + dY2)))
            count += int(have.sum())
        if count < MIN_PARTNERED * candidates or count == 0:
            return math.inf, count
        return total / count, count

    def fit(self, start, replica_values=None) -> tuple[np.ndarray, float, int]:
        def f(p):
            q, _ = self.quality(p, replica_values)
            return q if math.isfinite(q) else 1e12
        tc0, nu0, g0 = start
        simplex = np.array([[tc0, nu0, g0], [tc0 + 0.002 * tc0, nu0, g0], [tc0, nu0 * 1.1, g0], [tc0, nu0, g0 + 0.1]])
        res = optimize.minimize(f, np.array(start, float), method="Nelder-Mead",
                                options={"initial_simplex": simplex, "xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        q, n = self.quality(res.x, replica_values)
        return res.x, q, n


def analyse(runs_by_size: dict, *, omega: float = DEFAULT_OMEGA) -> dict:
    """The finite-size scaling analysis of {L: [Run, ...]} (see the module docstring)."""
    sizes = sorted(runs_by_size)
    if len(sizes) < 2:
        raise IsingLabError(f"fss needs at least two lattice sizes, the store has {len(sizes)}"
                            + (f" (L = {sizes[0]})" if sizes else ""))
    seeds = sorted({r.seed for L in sizes for r in runs_by_size[L]})
    if len(seeds) < 2:
        raise IsingLabError("fss needs at least two seeds per point for jackknife errors, the store has "
                            f"{len(seeds)}")
    for L in sizes:
        temps = {r.temperature for r in runs_by_size[L]}
        if len(temps) < 2:
            raise IsingLabError(f"fss: L = {L} has runs at {len(temps)} temperature; at least two are needed")
    curves = [SizeCurves(L, runs_by_size[L], seeds) for L in sizes]
    n_rep = len(seeds)

    # ----------------------------------------------------------------- peaks per size
    per_size, peaks = [], {}
    for sc in curves:
        info = {"size": sc.size, "runs": len(sc.mh.runs), "temperatures": len(sc.mh.temperatures),
                "data_range": list(sc.data_range), "range": [float(sc.range[0]), float(sc.range[1])]}
        for name, key, sign in (("chi", "chi_max", 1.0), ("du4_dt", "du4_dt_max", -1.0),
                                ("dlnm_dt", "dlnm_dt_max", -1.0)):
            found = [_peak(rw, sc.grid, c[name], name, sign) for rw, c in zip(sc.solutions(), sc.curves)]
            t, v, interior = zip(*found)
            peaks[(sc.size, key)] = (np.array(t), np.array(v), interior[0])
            info[key] = entry(v[0], v[1:])
            info["t_" + key] = entry(t[0], t[1:])
            info[key + "_interior"] = bool(interior[0])
        per_size.append(info)

    def slope(key: str) -> dict | None:
        use = [L for L in sizes if peaks[(L, key)][2] and np.all(peaks[(L, key)][1] > 0)]
        if len(use) < 2:
            return None
        x = np.log(np.array(use, float))
        ys = np.array([np.log(peaks[(L, key)][1]) for L in use])  # (sizes, 1 + replicas)
        w = _weights(np.array([jackknife_error(y[0], y[1:]) for y in ys]))
        fits = [_line_fit(x, ys[:, r], w)[1] for r in range(1 + n_rep)]
        return {**entry(fits[0], fits[1:]), "sizes": use}

    gamma_nu = slope("chi_max")
    inv_nu_u = slope("du4_dt_max")
    inv_nu_m = slope("dlnm_dt_max")
    inv_nu = inv_nu_u if inv_nu_u is not None else inv_nu_m  # dU4/dT peaks of small L often lie beyond the data

    # ----------------------------------------------------------------- Binder crossings
    crossings = []
    cross_t = np.zeros((len(sizes) - 1, 1 + n_rep))
    cross_u = np.zeros_like(cross_t)
    for i in range(len(sizes) - 1):
        a, b = curves[i], curves[i + 1]
        lo, hi = max(a.data_range[0], b.data_range[0]), min(a.data_range[1], b.data_range[1])
        t = _crossing(a.full, b.full, lo, hi)
        if t is None:
            raise IsingLabError(f"fss: the Binder cumulants of L = {a.size} and L = {b.size} do not cross between "
                                f"T = {lo:g} and {hi:g}; the temperatures must bracket T_c")
        ts, us = [t], [0.5 * (a.full.value("u4", t) + b.full.value("u4", t))]
        wide = (max(a.range[0], b.range[0]), min(a.range[1], b.range[1]))
        for j, (ra, rb) in enumerate(zip(a.replicas, b.replicas)):
            tj = _crossing(ra, rb, lo, hi)
            if tj is None:
                tj = _crossing(ra, rb, *wide)
            if tj is None:
                raise IsingLabError(f"fss: without seed {seeds[j]} the Binder cumulants of L = {a.size} and "
                                    f"L = {b.size} do not cross; more sweeps or seeds are needed")
            ts.append(tj)
            us.append(0.5 * (ra.value("u4", tj) + rb.value("u4", tj)))
        cross_t[i], cross_u[i] = ts, us
        crossings.append({"sizes": [a.size, b.size], "t": entry(ts[0], ts[1:]), "u4": entry(us[0], us[1:])})

    # ----------------------------------------------------------------- extrapolation to T_c and U*
    nu_inv_est = inv_nu["mean"] if inv_nu is not None and inv_nu["mean"] > 0.1 else 1.0
    if len(crossings) >= 2:
        wt = _weights([c["t"]["err"] for c in crossings])
        wu = _weights([c["u4"]["err"] for c in crossings])
        fits = [extrapolate(sizes, cross_t[:, r], cross_u[:, r], nu_inv_est, omega, wt, wu) for r in range(1 + n_rep)]
        tcs, u4s = zip(*fits)
        tc, u4_star, extrapolated = entry(tcs[0], tcs[1:]), entry(u4s[0], u4s[1:]), True
    else:
        tc, u4_star, extrapolated = crossings[0]["t"], crossings[0]["u4"], False

    # ----------------------------------------------------------------- collapse of chi'
    grids = [sc.grid for sc in curves]
    errors = [np.maximum(sc.error("chi"), 1e-12 * np.abs(sc.curves[0]["chi"])) for sc in curves]
    ranges = [sc.range for sc in curves]
    collapse = Collapse(sizes, grids, [sc.curves[0]["chi"] for sc in curves], errors, ranges)
    g0 = gamma_nu["mean"] if gamma_nu is not None else 1.75
    start = (tc["mean"], 1.0 / nu_inv_est, g0)
    best, quality, n_points = collapse.fit(start)
    reps = [collapse.fit(best, [sc.curves[1 + j]["chi"] for sc in curves])[0] for j in range(n_rep)]
    reps = np.array(reps)
    collapse_out = {
        "tc": entry(best[0], reps[:, 0]), "nu": entry(best[1], reps[:, 1]),
        "gamma_over_nu": entry(best[2], reps[:, 2]), "quality": float(quality), "points": int(n_points),
        "observable": "chi' L^(-gamma/nu) against (T - T_c) L^(1/nu)",
    }

    out = {
        "tc": tc, "u4_star": u4_star,
        "gamma_over_nu": ({k: gamma_nu[k] for k in ("mean", "err")} if gamma_nu is not None
                          else dict(collapse_out["gamma_over_nu"])),
        "nu": dict(collapse_out["nu"]),
        "one_over_nu": inv_nu,
        "one_over_nu_from_du4": inv_nu_u,
        "one_over_nu_from_dlnm": inv_nu_m,
        "gamma_over_nu_method": "chi'_max slope" if gamma_nu is not None else "collapse (peaks outside the data)",
        "gamma_over_nu_sizes": gamma_nu["sizes"] if gamma_nu is not None else [],
        "extrapolated": extrapolated, "omega": float(omega),
        "crossings": crossings, "collapse": collapse_out, "sizes": per_size,
        "seeds": len(seeds),
    }
    return out


def runs_from_store(store) -> tuple[dict, dict]:
    """{L: [Run]} of the finished tasks of a SweepStore, and facts about the store."""
    params = store.parameters
    if float(params.get("field", 0.0)) != 0.0 or float(params.get("coupling", 1.0)) != 1.0:
        raise IsingLabError(f"{store.path}: fss analyses the zero-field ferromagnet (J = 1, h = 0)")
    finished = store.finished()
    if not finished:
        raise IsingLabError(f"{store.path} holds no finished tasks; run isinglab sweep first")
    samples = sum(int(a.get("sweeps") or 0) for a in finished.values())
    check_memory(f"fss: {len(finished)} tasks of {store.path}", samples * BYTES_PER_SAMPLE)
    runs: dict = {}
    for name, attrs in finished.items():
        try:
            L, t, k = int(attrs["size"]), float(attrs["temperature"]), int(attrs["seed_index"])
        except (KeyError, TypeError, ValueError):
            raise IsingLabError(f"{store.path}: task {name} lacks its size, temperature or seed index") from None
        e, m = store.read_series(name)
        runs.setdefault(L, []).append(Run(t, k, e, m))
    total = len(params.get("sizes", [])) * len(params.get("temperatures", [])) * int(params.get("seeds", 0) or 0)
    return runs, {"store": store.path, "tasks": total, "finished": len(finished),
                  "complete": total == len(finished), "algorithm": params.get("algorithm"),
                  "sweeps": params.get("sweeps")}
