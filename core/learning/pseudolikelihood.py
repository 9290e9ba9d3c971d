"""Hamiltonian coefficients from samples by maximum pseudo-likelihood (Besag 1975).

The model ln p(x) = sum_o K_o phi_o(x) - ln Z (operators.py) has an intractable Z, but each
conditional p(x_i | rest) = sigmoid(2 K.f_i(x)) does not. Maximising the product of all
conditionals over all sites and samples is a convex logistic regression, consistent for K:
with enough samples it returns the couplings the data were drawn with (K_nn = J/T, rest 0).

Error bars: the sandwich (Godambe) covariance H^-1 V H^-1, with H the Hessian of the summed
negative log pseudo-likelihood and V the covariance of its per-configuration scores. Sites of
one configuration are strongly dependent, so V counts configurations, not sites; scores are
summed over blocks of consecutive samples so that the residual correlation between samples
taken ~2 tau apart is included too.

`fit_full_couplings` drops translation invariance: one J_ij per pair of sites and one h_i per
site, for small lattices, to show that the nearest-neighbour structure comes out of the data.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import expit

from ..errors import IsingLabError
from ..tasks import TaskState
from . import operators as ops_
from .datasets import generate
from .progress import SubTask

CHUNK_ROWS = 1 << 16  # site rows per pass: bounds the float64 working set to ~20 MB
BLOCK_SAMPLES = 10  # samples per score block (see the module docstring)
MIN_BLOCKS = 20
MAX_FULL_SIZE = 12  # the full J_ij fit has N(N+1)/2 parameters: N = 144 at most


@dataclass(frozen=True)
class PLFit:
    operators: tuple
    coefficients: np.ndarray
    covariance: np.ndarray
    temperature: float
    coupling: float
    field: float
    size: int
    samples: int
    range_: int
    seconds: float = 0.0

    @property
    def errors(self) -> np.ndarray:
        return np.sqrt(np.maximum(np.diag(self.covariance), 0.0))

    def exact(self) -> np.ndarray:
        return ops_.exact_couplings(self.operators, self.temperature, self.coupling, self.field)

    def groups(self) -> dict[str, dict]:
        """group -> {"mean", "err"}: the mean of the group's coefficients, error from the covariance."""
        out = {}
        for name, idx in ops_.groups(self.operators).items():
            w = np.zeros(len(self.operators))
            w[idx] = 1.0 / len(idx)
            var = max(float(w @ self.covariance @ w), 0.0)
            out[name] = {"mean": float(w @ self.coefficients), "err": math.sqrt(var)}
        return out

    def exact_groups(self) -> dict[str, float]:
        ex = self.exact()
        return {name: float(ex[idx].mean()) for name, idx in ops_.groups(self.operators).items()}

    def kernel(self) -> np.ndarray:
        return ops_.kernel(self.coefficients, self.operators, self.range_)

    def kernel_errors(self) -> np.ndarray:
        return ops_.kernel(self.errors, self.operators, self.range_)

    def to_json(self) -> dict:
        return {"size": self.size, "temperature": self.temperature, "beta": 1.0 / self.temperature,
                "samples": self.samples, "range": self.range_, "couplings": self.groups(),
                "exact": self.exact_groups(), "kernel": self.kernel().tolist(),
                "operators": {op.name: {"mean": float(c), "err": float(e)}
                              for op, c, e in zip(self.operators, self.coefficients, self.errors)}}


class _SiteData:
    """Per-site features as int8 rows, visited in float64 chunks of whole samples."""

    def __init__(self, spins, ops):
        x = ops_.as_batch(spins)
        self.n, L, _ = x.shape
        self.sites = L * L
        self.rows = ops_.site_features(x, ops).reshape(self.n * self.sites, len(ops))
        self.step = max(1, CHUNK_ROWS // self.sites) * self.sites

    def chunks(self):
        for a in range(0, self.rows.shape[0], self.step):
            yield a, self.rows[a:a + self.step].astype(np.float64)


def _evaluate(k, data: _SiteData, task: TaskState):
    """Mean over samples of -ln PL, its gradient and Hessian, in one pass over the data.

    -ln p(x_i | rest) = softplus(-2 K.f_i); the Hessian is 4 sigmoid(z) sigmoid(-z) f f^T.
    """
    loss, grad, hess = 0.0, np.zeros_like(k), np.zeros((k.size, k.size))
    for _, f in data.chunks():
        task.check()
        z = 2.0 * (f @ k)
        loss += np.logaddexp(0.0, -z).sum()
        p = expit(z)
        grad -= 2.0 * ((1.0 - p) @ f)
        hess += f.T @ (f * (4.0 * p * (1.0 - p))[:, None])
    return loss / data.n, grad / data.n, hess / data.n


class _Objective:
    """scipy's fun/jac and hess from one fused pass, cached for the last point."""

    def __init__(self, data: _SiteData, task: TaskState):
        self.data, self.task = data, task
        self._key, self._value, self.calls = None, None, 0

    def __call__(self, k):
        if self._key != k.tobytes():
            self.calls += 1
            self.task.progress(min(0.05 + 0.08 * self.calls, 0.9), "fitting")
            self._key, self._value = k.tobytes(), _evaluate(k, self.data, self.task)
        return self._value

    def fun(self, k):
        return self(k)[:2]

    def hess(self, k):
        return self(k)[2]


def _score_blocks(k, data: _SiteData, n_blocks: int) -> np.ndarray:
    """(n_blocks, F) summed scores of consecutive samples at the optimum."""
    per_sample = np.zeros((data.n, k.size))
    for a, f in data.chunks():
        r = -2.0 * expit(-2.0 * (f @ k))
        first, count = a // data.sites, f.shape[0] // data.sites
        per_sample[first:first + count] = (f * r[:, None]).reshape(count, data.sites, k.size).sum(axis=1)
    edges = np.linspace(0, data.n, n_blocks + 1).astype(int)
    return np.add.reduceat(per_sample, edges[:-1], axis=0)


def fit_pseudolikelihood(spins, temperature: float, coupling: float = 1.0, field: float = 0.0,
                         range_: int = 2, task: TaskState | None = None) -> PLFit:
    """Coefficients K_o of the local operator basis (operators.basis(range_)) with sandwich errors."""
    start = time.perf_counter()
    task = task or TaskState()
    x = ops_.as_batch(spins)
    n, L, _ = x.shape
    if n < 2:
        raise IsingLabError(f"the pseudo-likelihood fit needs at least 2 configurations, got {n}")
    range_ = ops_.check_range(range_, L)
    basis = ops_.basis(range_)
    task.progress(0.02, "features")
    data = _SiteData(x, basis)
    objective = _Objective(data, task)
    res = optimize.minimize(objective.fun, np.zeros(len(basis)), jac=True, hess=objective.hess,
                            method="trust-exact", options={"gtol": 1e-8, "maxiter": 100})
    k = res.x
    if not np.all(np.isfinite(k)):
        raise IsingLabError("the pseudo-likelihood fit diverged (all samples frozen in one state?)")
    task.progress(0.92, "error bars")
    hess = objective.hess(k) * n
    blocks = _score_blocks(k, data, min(n, max(MIN_BLOCKS, n // BLOCK_SAMPLES)))
    try:
        h_inv = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        raise IsingLabError("the operators are degenerate on these samples (frozen or too few); "
                            "sample at a higher temperature or take more samples") from None
    cov = h_inv @ (blocks.T @ blocks) @ h_inv
    task.progress(1.0, "done")
    return PLFit(tuple(basis), k, cov, float(temperature), float(coupling), float(field), L, n, range_,
                 time.perf_counter() - start)


def learn_couplings(size: int, temperature: float, samples: int, range_: int = 2, coupling: float = 1.0,
                    field: float = 0.0, seed: int = 0, algorithm: str = "auto",
                    task: TaskState | None = None) -> tuple[PLFit, "object"]:
    """Sample at one temperature, then fit: (fit, dataset)."""
    task = task or TaskState()
    ops_.check_range(range_, size)
    data = generate(size, [temperature], samples, coupling, field, seed, algorithm,
                    task=SubTask(task, 0.0, 0.5, "sampling"))
    fit = fit_pseudolikelihood(data.spins, temperature, coupling, field, range_, task=SubTask(task, 0.5, 1.0))
    return fit, data


# ----------------------------------------------------------------------------- full J_ij

@dataclass(frozen=True)
class FullFit:
    """J (N, N) symmetric with zero diagonal, h (N,), in units of K = J/T; sites in row-major order."""

    couplings: np.ndarray
    fields: np.ndarray
    size: int
    temperature: float
    samples: int

    def neighbour_mask(self) -> np.ndarray:
        """(N, N) True where sites i, j are nearest neighbours on the torus."""
        L = self.size
        r, c = np.divmod(np.arange(L * L), L)
        dr = np.abs(r[:, None] - r[None, :])
        dc = np.abs(c[:, None] - c[None, :])
        dr, dc = np.minimum(dr, L - dr), np.minimum(dc, L - dc)
        return dr + dc == 1


def fit_full_couplings(spins, temperature: float, l2: float = 1e-4, task: TaskState | None = None) -> FullFit:
    """Every J_ij and h_i by pseudo-likelihood, no symmetry assumed (a small L2 keeps rare pairs finite)."""
    task = task or TaskState()
    x = ops_.as_batch(spins)
    n, L, _ = x.shape
    if L > MAX_FULL_SIZE:
        raise IsingLabError(f"the full J_ij fit is for small lattices (L <= {MAX_FULL_SIZE}), got L = {L}")
    if n < 2:
        raise IsingLabError(f"the full J_ij fit needs at least 2 configurations, got {n}")
    N = L * L
    s = x.reshape(n, N).astype(np.float64)
    iu = np.triu_indices(N, 1)

    def unpack(p):
        J = np.zeros((N, N))
        J[iu] = p[: iu[0].size]
        return J + J.T, p[iu[0].size:]

    def fun(p):
        task.check()
        J, h = unpack(p)
        z = 2.0 * s * (s @ J + h)  # 2 x_i (local field)
        r = -2.0 * s * expit(-z)  # d loss / d field_i
        g = s.T @ r
        g = g + g.T
        loss = np.logaddexp(0.0, -z).sum() / n + 0.5 * l2 * (p @ p)
        return loss, np.concatenate([g[iu], r.sum(0)]) / n + l2 * p

    task.progress(0.1, "fitting J_ij")
    res = optimize.minimize(fun, np.zeros(iu[0].size + N), jac=True, method="L-BFGS-B",
                            options={"maxiter": 2000, "gtol": 1e-8})
    J, h = unpack(res.x)
    task.progress(1.0, "done")
    return FullFit(J, h, L, float(temperature), n)
