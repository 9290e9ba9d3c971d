"""The whole spectrum of the MCRG's linearised RG matrix, step by step.

core.rg.mcrg measures, on the final run at (near) K_c, the six even operators S_a of
core.rg.operators at every blocking level. The linearised RG from level n to n + 1,
T_ab = dK_a^(n+1) / dK_b^(n), solves

    <S_a^(n+1) S_c^(n+1)>_c T_cb = <S_a^(n+1) S_b^(n)>_c      (Swendsen 1979)

and at the fixed point its eigenvalues are lambda_i = b^(y_i): y > 0 relevant (grows under
coarse-graining; for the even sector of the 2D Ising model only the thermal y_t = 1/nu = 1),
y < 0 irrelevant (shrinks; the next even exponent is y = -2 in theory, and truncating to six
operators and finitely many levels moves the measured ones). mcrg reports the leading
eigenvalue as nu; this module keeps all of them.

T is not symmetric, so eigenvalues can come as complex pairs; they are sorted by real part
(largest first), y_i = ln|lambda_i| / ln b, and `complex` counts those with an imaginary part.
Errors: the same block jackknife as every other MCRG figure (core.rg.moments), of the sorted
real parts and of y (a jackknife of sorted values assumes the order does not change between
replicates, which holds where the gaps are larger than the errors).
"""
from __future__ import annotations

import math

import numpy as np

from .moments import BlockMoments, Moments, jackknife_moments
from .operators import N_OPERATORS

COMPLEX_TOLERANCE = 1e-9  # |Im lambda| / |lambda| above this counts as complex
MIN_TARGET_SIDE = 8  # steps to a smaller lattice are left out: there the six operators alias


def column(level: int, op: int) -> int:
    """Column of operator `op` at blocking level `level` in the MCRG's moment vector."""
    return level * N_OPERATORS + op


def rg_matrix(big: Moments, n: int, ops: int = N_OPERATORS) -> np.ndarray:
    """T_ab of the step n -> n + 1 over the first `ops` operators (nan where it is singular)."""
    nxt = [column(n + 1, a) for a in range(ops)]
    cur = [column(n, b) for b in range(ops)]
    try:
        return np.linalg.solve(big.cov[np.ix_(nxt, nxt)], big.cov[np.ix_(nxt, cur)])
    except np.linalg.LinAlgError:
        return np.full((ops, ops), np.nan)


def eigenvalues(t: np.ndarray) -> np.ndarray:
    """Eigenvalues of T sorted by real part, largest first (complex; nan where T is not finite)."""
    if not np.all(np.isfinite(t)):
        return np.full(t.shape[0], np.nan, dtype=complex)
    ev = np.linalg.eigvals(t)
    return ev[np.argsort(-ev.real, kind="stable")]


def exponents(ev: np.ndarray, block: int) -> np.ndarray:
    """y_i = ln|lambda_i| / ln b."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.abs(ev)) / math.log(block)


def spectrum_steps(size: int, block: int, levels: int, min_side: int = MIN_TARGET_SIDE) -> list[int]:
    """The steps n -> n + 1 (n < levels) whose target side size / b^(n+1) is at least min_side."""
    return [n for n in range(levels) if size // block ** (n + 1) >= min_side]


def _estimates(big: Moments, block: int, steps, ops: int) -> np.ndarray:
    out = []
    for n in steps:
        ev = eigenvalues(rg_matrix(big, n, ops))
        out.append(np.concatenate([ev.real, exponents(ev, block)]))
    return np.concatenate(out) if out else np.zeros(0)


def spectrum(big: BlockMoments, block: int, size: int, levels: int, nu_levels=(),
             ops: int = N_OPERATORS) -> list[dict]:
    """Per RG step: the sorted eigenvalues of T, their exponents y, with jackknife errors.

    big: the block moments of the final MCRG run on the L x L lattice (levels 0..levels
    measured); nu_levels: the steps mcrg averages nu over (marked `used_for_nu`).
    """
    steps = spectrum_steps(size, block, levels)
    if not steps:
        return []
    est, err = jackknife_moments(lambda m: _estimates(m, block, steps, ops), big)
    full = big.full()
    out = []
    for i, n in enumerate(steps):
        lam, y = est[2 * ops * i:2 * ops * i + ops], est[2 * ops * i + ops:2 * ops * (i + 1)]
        lam_err, y_err = err[2 * ops * i:2 * ops * i + ops], err[2 * ops * i + ops:2 * ops * (i + 1)]
        ev = eigenvalues(rg_matrix(full, n, ops))
        imag = np.abs(ev.imag) > COMPLEX_TOLERANCE * np.abs(ev)
        out.append({"step": n, "from": size // block ** n, "to": size // block ** (n + 1),
                    "used_for_nu": n in nu_levels,
                    "lambda": [float(v) for v in lam], "lambda_err": [float(v) for v in lam_err],
                    "y": [float(v) for v in y], "y_err": [float(v) for v in y_err],
                    "relevant": int(np.sum(y > 0)), "irrelevant": int(np.sum(y < 0)), "complex": int(imag.sum())})
    return out
