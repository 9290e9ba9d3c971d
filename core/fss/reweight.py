"""Ferrenberg-Swendsen multi-histogram reweighting of the runs of one lattice size.

Runs r at inverse temperatures beta_r, n_r samples each, statistical inefficiency
g_r = max(1, 2 tau_int(E)) (correlated samples count as n_r / g_r independent ones). The energy of
the zero-field ferromagnet is discrete (E = -J x an integer bond sum), so the histograms are exact:
no binning. With W(E) = sum_r H_r(E) / g_r and N'_s = sum of n_r / g_r over the runs at beta_s,
the density of states is

    Omega(E) = W(E) / D(E),   D(E) = sum_s N'_s exp(f_s - beta_s E),   exp(-f_s) = sum_E Omega(E) exp(-beta_s E).

The free energies f_s minimise the convex function (the MBAR form of the same equations)

    A(f) = sum_E W(E) ln D(E) - sum_s N'_s f_s,

solved by Newton's method with f fixed at the first state (the gauge), from a thermodynamic-
integration start. Any observable that is a function of (E, m) then reweights to any beta as

    <A>_beta = sum_E S_A(E) exp(-beta E) / D(E)  /  sum_E W(E) exp(-beta E) / D(E),

with S_A(E) = sum over samples at E of A / g_r. d<A>/dT = (<A E> - <A><E>) / T^2 needs no other sums,
since E is constant on a level. Runs at equal temperatures (the seeds) form one state.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..errors import IsingLabError
from ..stats import tau_int

MAX_NEWTON = 200
GRAD_TOL = 1e-10  # |dA/df_s| / N'_s at convergence
STEP_TOL = 1e-11  # ... or a Newton step this small (round-off: f is known to ~1e-12 at best)
LOOSE_GRAD_TOL = 1e-6  # what must hold after MAX_NEWTON steps
RANGE_WIDTHS = 1.0  # the reliable range reaches this many energy-histogram widths beyond the data
MAX_EXTENSION = 0.1  # ... but at most this fraction of T


@dataclass(frozen=True)
class Run:
    """One task's series: per-spin e and m at `temperature`, from seed index `seed`."""

    temperature: float
    seed: int
    e: np.ndarray
    m: np.ndarray


class _RunHistogram:
    """A run's sums on its energy levels (indices into the size's level table)."""

    def __init__(self, run: Run, n_spins: int, coupling: float, levels: np.ndarray):
        e_total = np.rint(run.e * n_spins / coupling) * coupling  # E = -J x (integer bond sum)
        idx = np.searchsorted(levels, e_total)
        tau = tau_int(run.e).tau if run.e.size >= 2 else 0.5
        self.g = max(1.0, 2.0 * tau) if math.isfinite(tau) else 1.0
        self.n = run.e.size
        self.beta = 1.0 / run.temperature
        self.temperature = run.temperature
        self.seed = run.seed
        uniq, inv = np.unique(idx, return_inverse=True)
        m = np.abs(run.m)
        m2 = m * m
        self.idx = uniq
        self.count = np.bincount(inv, minlength=uniq.size).astype(np.float64)
        self.s1 = np.bincount(inv, weights=m, minlength=uniq.size)
        self.s2 = np.bincount(inv, weights=m2, minlength=uniq.size)
        self.s4 = np.bincount(inv, weights=m2 * m2, minlength=uniq.size)
        self.mean_e = float(e_total.mean())
        self.var_e = float(e_total.var())


class MultiHistogram:
    """All runs of one size; `solve(seeds)` reweights the runs of the given seeds."""

    def __init__(self, size: int, runs: list, coupling: float = 1.0):
        if not runs:
            raise IsingLabError(f"L = {size}: no runs to reweight")
        self.size = int(size)
        self.n_spins = self.size ** 2
        self.coupling = float(coupling)
        energies = np.concatenate([np.rint(r.e * self.n_spins / coupling) * coupling for r in runs])
        self.levels = np.unique(energies)
        self.runs = [_RunHistogram(r, self.n_spins, self.coupling, self.levels) for r in runs]
        self.seeds = sorted({r.seed for r in self.runs})
        self.temperatures = sorted({r.temperature for r in self.runs})

    def solve(self, seeds=None, start: "Reweighted | None" = None) -> "Reweighted":
        """Reweight the runs of `seeds` (default all); `start`: a solution whose f seed Newton."""
        keep = [r for r in self.runs if seeds is None or r.seed in seeds]
        if not keep:
            raise IsingLabError(f"L = {self.size}: no runs left to reweight")
        n_levels = self.levels.size
        W = np.zeros(n_levels)
        S1 = np.zeros(n_levels)
        S2 = np.zeros(n_levels)
        S4 = np.zeros(n_levels)
        temps = sorted({r.temperature for r in keep})
        state = {t: i for i, t in enumerate(temps)}
        n_eff = np.zeros(len(temps))
        e_sum = np.zeros(len(temps))
        var_sum = np.zeros(len(temps))
        n_sum = np.zeros(len(temps))
        for r in keep:
            w = 1.0 / r.g
            np.add.at(W, r.idx, r.count * w)
            np.add.at(S1, r.idx, r.s1 * w)
            np.add.at(S2, r.idx, r.s2 * w)
            np.add.at(S4, r.idx, r.s4 * w)
            s = state[r.temperature]
            n_eff[s] += r.n * w
            e_sum[s] += r.mean_e * r.n
            var_sum[s] += r.var_e * r.n
            n_sum[s] += r.n
        used = W > 0.0
        E = self.levels[used]
        e_ref = float(np.sum(W[used] * E) / np.sum(W[used]))
        betas = 1.0 / np.array(temps)
        mean_e = e_sum / n_sum - e_ref
        if start is not None and len(start.temperatures) == len(temps) and start.temperatures == temps:
            f0 = start.f - start.f[0]
        else:  # thermodynamic integration: d(beta F)/d beta = <E>, trapezoids between states
            f0 = np.zeros(len(temps))
            for s in range(1, len(temps)):
                f0[s] = f0[s - 1] + (betas[s] - betas[s - 1]) * 0.5 * (mean_e[s] + mean_e[s - 1])
        f = _newton(E - e_ref, W[used], betas, n_eff, f0, self.size)
        sigma = np.sqrt(var_sum / n_sum)
        return Reweighted(self, temps, betas, n_eff, f, E - e_ref, e_ref, W[used], S1[used], S2[used], S4[used],
                          sigma)


def _objective(Es, W, betas, n_eff, f):
    X = (np.log(n_eff) + f)[None, :] - np.outer(Es, betas)
    logD = logsumexp(X, axis=1)
    return float(np.dot(W, logD) - np.dot(n_eff, f)), X, logD


def _newton(Es, W, betas, n_eff, f0, size):
    f = np.array(f0, dtype=np.float64)
    K = f.size
    if K == 1:
        return f
    A, X, logD = _objective(Es, W, betas, n_eff, f)
    for _ in range(MAX_NEWTON):
        P = np.exp(X - logD[:, None])
        WP = W[:, None] * P
        colsum = WP.sum(axis=0)
        grad = colsum - n_eff
        if np.max(np.abs(grad) / n_eff) < GRAD_TOL:
            return f
        H = np.diag(colsum) - P.T @ WP
        g1, H1 = grad[1:], H[1:, 1:]
        try:
            step = -np.linalg.solve(H1 + 1e-12 * np.eye(K - 1) * np.trace(H1) / (K - 1), g1)
        except np.linalg.LinAlgError:
            step = -g1 / np.maximum(np.diag(H1), 1e-300)
        slope = float(np.dot(g1, step))
        t = 1.0
        while True:
            trial = f.copy()
            trial[1:] += t * step
            A_new, X_new, logD_new = _objective(Es, W, betas, n_eff, trial)
            if A_new <= A + 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        if t < 1e-10:  # no descent left: as converged as double precision allows
            return f
        f, A, X, logD = trial, A_new, X_new, logD_new
        if np.max(np.abs(t * step)) < STEP_TOL:
            return f
    P = np.exp(X - logD[:, None])
    if np.max(np.abs((W[:, None] * P).sum(axis=0) - n_eff) / n_eff) < LOOSE_GRAD_TOL:
        return f
    raise IsingLabError(f"L = {size}: the multi-histogram equations did not converge "
                        f"(do the energy histograms of neighbouring temperatures overlap?)")


class Reweighted:
    """The solved free energies of one size (one selection of runs): observables at any T."""

    def __init__(self, mh, temps, betas, n_eff, f, Es, e_ref, W, S1, S2, S4, sigma_e):
        self.size = mh.size
        self.n_spins = mh.n_spins
        self.temperatures = list(temps)
        self.betas = betas
        self.f = f
        self._Es = Es
        self.e_ref = e_ref
        self._W, self._S1, self._S2, self._S4 = W, S1, S2, S4
        self._logD = logsumexp((np.log(n_eff) + f)[None, :] - np.outer(Es, betas), axis=1)
        lo, hi = temps[0], temps[-1]
        # one energy-histogram width beyond the data: |delta beta| = 1 / sigma_E, i.e. delta T = T^2 / sigma_E
        ext = [RANGE_WIDTHS * t * t / max(s, 1e-300) for t, s in ((lo, sigma_e[0]), (hi, sigma_e[-1]))]
        self.data_range = (lo, hi)
        self.range = (max(lo - min(ext[0], MAX_EXTENSION * lo), 1e-3), hi + min(ext[1], MAX_EXTENSION * hi))

    def observables(self, temperatures) -> dict:
        """Reweighted observables at each temperature (arrays): m_abs, m2, m4, u4, chi, c, e,
        their T-derivatives du4_dt, dm_abs_dt, dlnm_dt."""
        T = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
        Es = self._Es
        c = -np.outer(1.0 / T, Es) - self._logD[None, :]
        c -= c.max(axis=1, keepdims=True)
        w = np.exp(c)
        Z = w @ self._W
        mean = lambda S: (w @ S) / Z  # noqa: E731
        m1, m2, m4 = mean(self._S1), mean(self._S2), mean(self._S4)
        e1, e2 = mean(self._W * Es), mean(self._W * Es * Es)
        m1e, m2e, m4e = mean(self._S1 * Es), mean(self._S2 * Es), mean(self._S4 * Es)
        T2 = T * T
        dm1 = (m1e - m1 * e1) / T2
        dm2 = (m2e - m2 * e1) / T2
        dm4 = (m4e - m4 * e1) / T2
        N = float(self.n_spins)
        with np.errstate(divide="ignore", invalid="ignore"):
            u4 = 1.0 - m4 / (3.0 * m2 * m2)
            du4 = -(dm4 / (m2 * m2) - 2.0 * m4 * dm2 / (m2 ** 3)) / 3.0
            dlnm = dm1 / m1
        return {
            "e": (e1 + self.e_ref) / N, "c": (e2 - e1 * e1) / (N * T2),
            "m_abs": m1, "m2": m2, "m4": m4, "u4": u4,
            "chi": N * (m2 - m1 * m1) / T,
            "du4_dt": du4, "dm_abs_dt": dm1, "dlnm_dt": dlnm,
        }

    def value(self, name: str, temperature: float) -> float:
        return float(self.observables([temperature])[name][0])
