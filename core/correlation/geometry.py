"""Where each quantity sits in a measurement row, and the radial / |k| bins the rows average over."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Where each quantity sits in one measurement row (all float64).

    Rows hold the fluctuation parts (the snapshot's own mean removed) so that sums of rows
    stay accurate; `m`, `m_abs`, `m2` restore the rest (see `_curves`).
    """

    size: int
    radial: bool

    @property
    def half(self) -> int:
        return self.size // 2 + 1

    @property
    def n_radial(self) -> int:
        return _radial_bins(self.size)[2].size if self.radial else 0

    @property
    def n_k(self) -> int:
        return _k_bins(self.size)[2].size

    def slices(self) -> dict:
        names = (("axis", self.half), ("proj", self.half), ("radial", self.n_radial),
                 ("sk", self.n_k), ("m", 1), ("m_abs", 1), ("m2", 1), ("s_kmin", 1))
        out, start = {}, 0
        for name, n in names:
            out[name] = slice(start, start + n)
            start += n
        return out

    @property
    def width(self) -> int:
        return sum(s.stop - s.start for s in self.slices().values())


@lru_cache(maxsize=8)
def _radial_bins(L: int):
    """(bin of every displacement, count per bin, mean |r| per bin) for |r| <= L/2."""
    d = np.minimum(np.arange(L), L - np.arange(L)).astype(np.float64)
    dist = np.hypot(d[:, None], d[None, :])
    idx = np.rint(dist).astype(np.int64)
    n_bins = L // 2 + 1
    idx[idx >= n_bins] = n_bins  # beyond L/2: partial shells, dropped
    counts = np.bincount(idx.ravel(), minlength=n_bins + 1)[:n_bins]
    mean_r = np.bincount(idx.ravel(), dist.ravel(), minlength=n_bins + 1)[:n_bins] / counts
    return idx.ravel(), counts.astype(np.float64), mean_r


@lru_cache(maxsize=8)
def _k_bins(L: int):
    """Bins of width 2 pi / L over the rfft2 half plane, k = 0 excluded (S(0) comes from m^2).

    Returns (bin of every rfft2 entry, its weight, mean |k| per bin, total weight per bin); the
    weight counts each interior rfft column twice (its mirror image -k). Bin b (|k| L / 2 pi
    rounds to b = 1 .. L/2) is stored at b - 1; index L/2 collects what is dropped.
    """
    ky = np.minimum(np.arange(L), L - np.arange(L)).astype(np.float64)
    kx = np.arange(L // 2 + 1, dtype=np.float64)
    n = np.hypot(ky[:, None], kx[None, :])
    weight = np.broadcast_to(_hermitian_weights(L), n.shape).ravel()
    b = np.rint(n).astype(np.int64).ravel()
    n_bins = L // 2
    idx = np.where((b >= 1) & (b <= n_bins), b - 1, n_bins)
    wsum = np.bincount(idx, weight, minlength=n_bins + 1)[:n_bins]
    mean_k = np.bincount(idx, weight * n.ravel(), minlength=n_bins + 1)[:n_bins] / wsum
    return idx, weight, mean_k * (2.0 * math.pi / L), wsum


def _full_row_sums(p: np.ndarray, L: int) -> np.ndarray:
    """sum over the full kx range of P(ky, kx), from the rfft half plane: the missing half is
    P(ky, -kx) = P(-ky, kx), the interior columns of row -ky."""
    inner = slice(1, L - L // 2)  # kx = 1 .. ceil(L/2) - 1
    q = p.sum(axis=1, dtype=np.float64)
    mirror = p[:, inner].sum(axis=1, dtype=np.float64)
    return q + mirror[(-np.arange(L)) % L]


def _hermitian_weights(L: int) -> np.ndarray:
    w = np.full(L // 2 + 1, 2.0)
    w[0] = 1.0
    if L % 2 == 0:
        w[-1] = 1.0
    return w
