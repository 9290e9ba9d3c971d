"""First and second moments of a multivariate time series, kept per block for a jackknife.

MCRG estimates are smooth functions of means and covariances of many operator sums; the block
jackknife (leave one block of consecutive snapshots out) propagates their correlated errors,
including the autocorrelation of the chain, without any formula per estimator. Two independent
runs (the L and L/b lattices) are jackknifed together by leaving out block j of both: for
independent samples that gives the variance of the sum of their contributions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import IsingLabError

DEFAULT_BLOCKS = 20


@dataclass(frozen=True)
class Moments:
    """Mean vector and covariance matrix of one sample (or of a leave-one-out subsample)."""

    mean: np.ndarray  # (p,)
    cov: np.ndarray  # (p, p)


class BlockMoments:
    """Block sums of z and z z^T for an (n, p) series, centred on the column means (the
    covariances of raw operator sums are tiny differences of large second moments)."""

    def __init__(self, z: np.ndarray, n_blocks: int = DEFAULT_BLOCKS):
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2:
            raise IsingLabError(f"moments need an (n, p) series, got shape {z.shape}")
        n = z.shape[0]
        if not 2 <= n_blocks <= n:
            raise IsingLabError(f"need at least {n_blocks} samples for {n_blocks} jackknife blocks, got {n}")
        size = n // n_blocks
        z = z[n - size * n_blocks:]  # drop the earliest remainder, as core.stats does
        self.shift = z.mean(axis=0)
        d = (z - self.shift).reshape(n_blocks, size, -1)
        self.n_blocks, self.block_size = n_blocks, size
        self.s1 = d.sum(axis=1)  # (k, p)
        self.s2 = np.einsum("kia,kib->kab", d, d)  # (k, p, p)

    def _moments(self, s1: np.ndarray, s2: np.ndarray, count: int) -> Moments:
        m1 = s1 / count
        return Moments(self.shift + m1, s2 / count - np.outer(m1, m1))

    def full(self) -> Moments:
        return self._moments(self.s1.sum(axis=0), self.s2.sum(axis=0), self.n_blocks * self.block_size)

    def leave_out(self, j: int) -> Moments:
        count = (self.n_blocks - 1) * self.block_size
        return self._moments(self.s1.sum(axis=0) - self.s1[j], self.s2.sum(axis=0) - self.s2[j], count)


def jackknife_moments(func: Callable[..., np.ndarray], *samples: BlockMoments) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, error) of func(Moments, Moments, ...) -> array, leaving block j of every
    sample out together. nan replicates (an estimator undefined on a subsample) make that
    component's error nan rather than silently small."""
    k = samples[0].n_blocks
    if any(s.n_blocks != k for s in samples):
        raise IsingLabError("jackknifed samples must have the same number of blocks")
    estimate = np.asarray(func(*(s.full() for s in samples)), dtype=np.float64)
    reps = np.array([np.asarray(func(*(s.leave_out(j) for s in samples)), dtype=np.float64)
                     for j in range(k)])
    err = np.sqrt((k - 1) / k * np.sum((reps - reps.mean(axis=0)) ** 2, axis=0))
    return estimate, err


def as_entry(mean: float, err: float) -> dict:
    """{"mean", "err"} as plain floats (inf / nan stay; the CLI writes them as null)."""
    return {"mean": float(mean), "err": float(err)}
