"""Renormalised couplings of a block-spin level by maximum pseudo-likelihood.

Model: -H/T = K_nn sum_<ij> s_i s_j + K_nnn sum_<<ij>> s_i s_j + K_p sum_plaquettes s s s s
+ h sum_i s_i. Given its neighbourhood, spin s_i is +-1 with P(s_i) = e^{s_i phi_i} / (2 cosh phi_i),
phi_i = K_nn nn_i + K_nnn nnn_i + K_p pq_i + h, where nn_i and nnn_i sum the 4 nearest and 4
diagonal neighbours and pq_i sums, over the 4 plaquettes holding i, the product of their other
three spins. Maximising sum_i log P(s_i | neighbours) (Besag's pseudo-likelihood: a logistic
regression of each spin on x_i = (nn, nnn, pq, 1)) is consistent and needs no partition function.

Every x_i takes one of 5^3 values, so a sample is summarised by a 250-bin histogram of (s, x)
and the exact log-pseudo-likelihood is minimised on it with scipy's trust-region Newton method.
Error bars: block jackknife over consecutive snapshots (each block its own histogram), which
includes both the correlation of neighbouring sites and that of successive snapshots.

When the blocks are (nearly) perfectly ordered, some direction of theta separates the data
(s_i theta.x_i >= 0 for every site), the likelihood grows without bound and the maximum lies at
infinity. A linear programme detects this before fitting, and the fit reports
"diverging coupling" instead of a meaningless large number.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import optimize
from scipy.special import expit, log_expit

from ..errors import IsingLabError
from .moments import as_entry

COUPLINGS = ("nn", "nnn", "plaquette", "h")
OK, DIVERGING, UNIDENTIFIABLE = "ok", "diverging coupling", "not identifiable"
_VALUES = np.arange(-4, 5, 2)  # a sum of four +-1
# design matrix of the 125 neighbourhoods, in histogram order (nn, nnn, pq), plus the field
DESIGN = np.array([(a, b, c, 1.0) for a in _VALUES for b in _VALUES for c in _VALUES], dtype=np.float64)
_SEPARATION_TOL = 1e-7
MIN_SIDE = 3  # on smaller lattices nn, nnn and plaquette neighbours coincide


@njit(nogil=True, cache=True)
def neighbourhood_counts(s, counts):
    """Add the (s_i, nn_i, nnn_i, pq_i) of every site of the periodic lattice s to counts, an
    int64 (2, 5, 5, 5) histogram indexed by ((s+1)/2, (nn+4)/2, (nnn+4)/2, (pq+4)/2).
    Runs on a copy padded by one site of periodic wrap, so the site loop has no modulo."""
    n = s.shape[0]
    p = np.empty((n + 2, n + 2), np.int32)
    for i in range(n + 2):
        si = (i - 1) % n
        p[i, 0] = s[si, n - 1]
        p[i, n + 1] = s[si, 0]
        for j in range(n):
            p[i, j + 1] = s[si, j]
    for i in range(1, n + 1):
        up, row, dn = p[i - 1], p[i], p[i + 1]
        for j in range(1, n + 1):
            l, r = row[j - 1], row[j + 1]
            nn = up[j] + dn[j] + l + r
            nnn = up[j - 1] + up[j + 1] + dn[j - 1] + dn[j + 1]
            pq = r * (up[j] * up[j + 1] + dn[j] * dn[j + 1]) + l * (up[j] * up[j - 1] + dn[j] * dn[j - 1])
            counts[(row[j] + 1) >> 1, (nn + 4) >> 1, (nnn + 4) >> 1, (pq + 4) >> 1] += 1
    return counts


def new_counts() -> np.ndarray:
    return np.zeros((2, 5, 5, 5), np.int64)


def _flat(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n_down, n_up) per neighbourhood, in DESIGN order."""
    c = np.asarray(counts, dtype=np.float64).reshape(2, -1)
    return c[0], c[1]


def neg_log_pl(theta: np.ndarray, counts: np.ndarray):
    """(value, gradient, Hessian) of the mean negative log-pseudo-likelihood."""
    down, up = _flat(counts)
    total = down.sum() + up.sum()
    phi = DESIGN @ theta
    value = -(up @ log_expit(2 * phi) + down @ log_expit(-2 * phi)) / total
    r = (up * expit(-2 * phi) - down * expit(2 * phi)) * 2 / total  # -dvalue/dphi
    w = 4 * (up + down) * expit(2 * phi) * expit(-2 * phi) / total
    return value, -DESIGN.T @ r, (DESIGN.T * w) @ DESIGN


def separating_direction(counts: np.ndarray) -> np.ndarray | None:
    """A theta with s theta.x >= 0 at every observed site and > 0 at some, if one exists
    (then the pseudo-likelihood has no finite maximum); else None. A small linear programme."""
    down, up = _flat(counts)
    rows = np.concatenate([DESIGN[up > 0], -DESIGN[down > 0]])  # s * x of observed sites
    if rows.size == 0:
        raise IsingLabError("no spins to fit couplings to")
    res = optimize.linprog(-rows.sum(axis=0), A_ub=-rows, b_ub=np.zeros(len(rows)),
                           bounds=[(-1.0, 1.0)] * DESIGN.shape[1], method="highs")
    if res.status == 0 and -res.fun > _SEPARATION_TOL * len(rows):
        return res.x
    return None


@dataclass
class CouplingFit:
    """Fitted (K_nn, K_nnn, K_p, h) with jackknife errors, or the reason there is no fit."""

    values: np.ndarray
    errors: np.ndarray
    status: str = OK
    message: str = ""
    sites: int = 0
    replicates: np.ndarray | None = None  # (k, 4) leave-one-block-out fits, block j left out in row j

    @property
    def ok(self) -> bool:
        return self.status == OK

    def __getitem__(self, name: str) -> tuple[float, float]:
        i = COUPLINGS.index(name)
        return float(self.values[i]), float(self.errors[i])

    def combination(self, weights) -> tuple[float, float]:
        """(value, jackknife error) of sum_a w_a theta_a, e.g. K_nn + 2 K_nnn = (1, 2, 0, 0)."""
        w = np.asarray(weights, dtype=np.float64)
        if self.replicates is None:
            return float("nan"), float("nan")
        return float(self.values @ w), jackknife_error(self.replicates @ w)

    def to_json(self) -> dict:
        out = {name: as_entry(*self[name]) for name in COUPLINGS}
        out["status"] = self.status
        if self.message:
            out["message"] = self.message
        return out


def _nan_fit(status: str, message: str, sites: int) -> CouplingFit:
    nan = np.full(len(COUPLINGS), np.nan)
    return CouplingFit(nan, nan.copy(), status, message, sites)


def fit_counts(counts: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """The maximum-pseudo-likelihood theta of one histogram (assumed not separable)."""
    res = optimize.minimize(lambda t: neg_log_pl(t, counts)[:2], np.zeros(4) if start is None else start,
                            jac=True, hess=lambda t: neg_log_pl(t, counts)[2], method="trust-exact",
                            options={"gtol": 1e-10, "maxiter": 200})
    return res.x


def fit_couplings(block_counts: np.ndarray) -> CouplingFit:
    """Fit couplings to a (k, 2, 5, 5, 5) stack of per-block histograms (k >= 2 blocks of
    consecutive snapshots); errors from the block jackknife."""
    block_counts = np.asarray(block_counts)
    if block_counts.ndim != 5 or block_counts.shape[1:] != (2, 5, 5, 5) or block_counts.shape[0] < 2:
        raise IsingLabError("couplings need histograms of at least 2 blocks of snapshots")
    total = block_counts.sum(axis=0)
    sites = int(total.sum())
    if separating_direction(total) is not None:
        return _nan_fit(DIVERGING, "diverging coupling: the blocks are (nearly) perfectly ordered, so the "
                        "pseudo-likelihood grows without bound and the couplings run to infinity", sites)
    theta = fit_counts(total)
    _, _, hess = neg_log_pl(theta, total)
    if np.linalg.eigvalsh(hess)[0] <= 1e-10 * max(1.0, np.abs(hess).max()):
        return _nan_fit(UNIDENTIFIABLE, "couplings not identifiable: the neighbourhood sums are "
                        "linearly dependent on this lattice", sites)
    k = block_counts.shape[0]
    reps = []
    for j in range(k):
        sub = total - block_counts[j]
        if separating_direction(sub) is not None:
            fit = _nan_fit(DIVERGING, "diverging coupling: leaving one block of snapshots out makes "
                           "the blocks perfectly ordered; the couplings are not finite within errors", sites)
            fit.values = theta
            return fit
        reps.append(fit_counts(sub, theta))
    reps = np.array(reps)
    return CouplingFit(theta, jackknife_error(reps), OK, "", sites, reps)


def jackknife_error(replicates: np.ndarray) -> np.ndarray:
    """Jackknife error from leave-one-block-out values (rows). Fits of several levels made from
    the same blocks pair up row by row, so differences between levels get their error too."""
    r = np.asarray(replicates, dtype=np.float64)
    k = r.shape[0]
    return np.sqrt((k - 1) / k * np.sum((r - r.mean(axis=0)) ** 2, axis=0))


def histogram(spins: np.ndarray) -> np.ndarray:
    """The (2, 5, 5, 5) neighbourhood histogram of one lattice (side >= 3)."""
    spins = np.ascontiguousarray(spins, dtype=np.int8)
    if spins.shape[0] < MIN_SIDE:
        raise IsingLabError(f"couplings need a lattice of side >= {MIN_SIDE}, got {spins.shape[0]}")
    return neighbourhood_counts(spins, new_counts())
