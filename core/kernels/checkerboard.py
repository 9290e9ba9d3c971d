"""Checkerboard single-spin-flip kernels on a sublattice-split layout: Metropolis and heat-bath.

Layout: `sub` has shape (2, L, L/2), int8. Site (i, j) has colour c = (i + j) % 2 and lives at
sub[c, i, j // 2]. Every neighbour of a colour-c site has the other colour, so a whole colour is
updated at once; splitting the colours makes each row of one colour contiguous, and the four
neighbours of sub[c, i, x] are sub[1-c, i-1, x], sub[1-c, i+1, x], sub[1-c, i, x] and
sub[1-c, i, x + d] with d = -1 when (i + c) is even and +1 when odd (periodic in every index).
Contiguous, branch-free rows let LLVM vectorise the loop including the random numbers.

Acceptance uses a 10-entry table of 32-bit thresholds indexed by (spin, neighbour sum), so no
exp() runs in the loop. Each site draws its own counter-based number with
counter = (2 * sweep + colour) * N/2 + i * L/2 + x: the trajectory depends on the seed only.
"""
import math

import numpy as np
from numba import njit, prange

from .rng import draw32

ALWAYS = np.uint64(1 << 32)  # above every 32-bit draw: always accept


def table_index(spin: int, nn: int) -> int:
    return ((spin + 1) >> 1) * 5 + ((nn + 4) >> 1)


def metropolis_table(beta: float, coupling: float, field: float) -> np.ndarray:
    """thr[k] = min(1, exp(-beta dE)) * 2^32 for dE = 2 s (J nn + h)."""
    thr = np.empty(10, dtype=np.uint64)
    for s in (-1, 1):
        for nn in (-4, -2, 0, 2, 4):
            de = 2.0 * s * (coupling * nn + field)
            thr[table_index(s, nn)] = ALWAYS if de <= 0 else _fixed32(math.exp(-beta * de))
    return thr


def heatbath_table(beta: float, coupling: float, field: float) -> np.ndarray:
    """thr[k] = P(s' = +1) * 2^32 = 2^32 / (1 + exp(-2 beta (J nn + h))), whatever the old spin."""
    thr = np.empty(10, dtype=np.uint64)
    for s in (-1, 1):
        for nn in (-4, -2, 0, 2, 4):
            x = -2.0 * beta * (coupling * nn + field)
            thr[table_index(s, nn)] = _fixed32(0.0 if x > 700 else 1.0 / (1.0 + math.exp(x)))
    return thr


def _fixed32(p: float) -> np.uint64:
    return np.uint64(min(int(round(p * 2.0**32)), 1 << 32))


@njit(nogil=True, cache=True)
def split(spins):
    """(L, L) int8 lattice -> (2, L, L/2) sublattice layout."""
    L = spins.shape[0]
    sub = np.empty((2, L, L // 2), dtype=np.int8)
    for i in range(L):
        for j in range(L):
            sub[(i + j) & 1, i, j >> 1] = spins[i, j]
    return sub


@njit(nogil=True, cache=True, parallel=True)
def merge(sub, out):
    """Sublattice layout -> (L, L) int8 lattice, written into out."""
    L = out.shape[0]
    for i in prange(L):
        for j in range(L):
            out[i, j] = sub[(i + j) & 1, i, j >> 1]
    return out


@njit(inline="always", nogil=True, cache=True)
def _neighbour_sum(mid, up, dn, x, xs):
    return np.int32(up[x]) + np.int32(dn[x]) + np.int32(mid[x]) + np.int32(mid[xs])


@njit(nogil=True, cache=True, parallel=True)
def bond_sum_and_magnetisation(sub):
    """(sum_<ij> s_i s_j over the 2N bonds, sum_i s_i): every bond joins a colour-0 site to a
    colour-1 site, so summing s * (neighbour sum) over colour 0 counts each bond once."""
    L, H = sub.shape[1], sub.shape[2]
    bonds = np.zeros(L, dtype=np.int64)
    mags = np.zeros(L, dtype=np.int64)
    for i in prange(L):
        own, oth = sub[0, i], sub[1, i]
        up, dn = sub[1, i - 1 if i > 0 else L - 1], sub[1, i + 1 if i < L - 1 else 0]
        d = -1 if (i & 1) == 0 else 1
        b = 0
        m = 0
        for x in range(H):
            xs = (x + d) % H
            b += np.int32(own[x]) * _neighbour_sum(oth, up, dn, x, xs)
            m += np.int32(own[x]) + np.int32(oth[x])
        bonds[i] = b
        mags[i] = m
    return bonds.sum(), mags.sum()


@njit(inline="always", nogil=True, cache=True)
def _select10(thr, k):
    """thr[k] as a chain of selects: unlike a table load (a gather) this lets LLVM vectorise."""
    t = thr[0]
    for q in range(1, 10):
        t = thr[q] if k == q else t
    return t


@njit(inline="always", nogil=True, cache=True)
def _metropolis_site(own, mid, up, dn, thr, key, rowbase, x, xs):
    s = own[x]
    nn = np.int32(up[x]) + np.int32(dn[x]) + np.int32(mid[x]) + np.int32(mid[xs])
    t = _select10(thr, ((np.int32(s) + 1) >> 1) * 5 + ((nn + 4) >> 1))
    own[x] = -s if draw32(key, rowbase + np.uint64(x)) < t else s


@njit(inline="always", nogil=True, cache=True)
def _heatbath_site(own, mid, up, dn, thr, key, rowbase, x, xs):
    nn = np.int32(up[x]) + np.int32(dn[x]) + np.int32(mid[x]) + np.int32(mid[xs])
    t = _select10(thr, 5 + ((nn + 4) >> 1))
    own[x] = np.int8(1) if draw32(key, rowbase + np.uint64(x)) < t else np.int8(-1)


@njit(nogil=True, cache=True)
def _metropolis_row(own, mid, up, dn, thr, key, rowbase, lo, hi, d):
    for x in range(lo, hi):  # contiguous and branch-free: vectorised
        _metropolis_site(own, mid, up, dn, thr, key, rowbase, x, x + d)


@njit(nogil=True, cache=True)
def _heatbath_row(own, mid, up, dn, thr, key, rowbase, lo, hi, d):
    for x in range(lo, hi):
        _heatbath_site(own, mid, up, dn, thr, key, rowbase, x, x + d)


@njit(inline="always", nogil=True, cache=True)
def _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, lo, hi, d):
    if heatbath:
        _heatbath_row(own, mid, up, dn, thr, key, rowbase, lo, hi, d)
    else:
        _metropolis_row(own, mid, up, dn, thr, key, rowbase, lo, hi, d)


@njit(nogil=True, cache=True, parallel=True)
def checkerboard_sweeps(sub, thr, key, sweep0, n_sweeps, heatbath):
    """n_sweeps Metropolis (or heat-bath) sweeps in place; sweep0 continues the random stream.

    One kernel for both rules (a per-row branch) so numba's cache holds one entry per signature;
    small lattices are run with one numba thread by the caller.
    """
    L, H = sub.shape[1], sub.shape[2]
    for t in range(n_sweeps):
        for c in range(2):
            base = np.uint64(2 * (sweep0 + t) + c) * np.uint64(L * H)
            for i in prange(L):
                own, mid = sub[c, i], sub[1 - c, i]
                up, dn = sub[1 - c, i - 1 if i > 0 else L - 1], sub[1 - c, i + 1 if i < L - 1 else 0]
                rowbase = base + np.uint64(i * H)
                if ((i + c) & 1) == 0:  # side neighbour at x - 1; x = 0 wraps to H - 1
                    _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, 0, 1, H - 1)
                    _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, 1, H, -1)
                else:  # side neighbour at x + 1; x = H - 1 wraps to 0
                    _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, 0, H - 1, 1)
                    _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, H - 1, H, 1 - H)


@njit(nogil=True, cache=True)
def advance(sub, thr, key, sweep0, n_sweeps, heatbath, out):
    """n_sweeps sweeps, then (bond sum, magnetisation); the merged lattice is written to out
    unless out is empty. One call per engine chunk, so the caller's thread stays outside
    Python (and its lock) for the whole chunk."""
    checkerboard_sweeps(sub, thr, key, sweep0, n_sweeps, heatbath)
    b, m = bond_sum_and_magnetisation(sub)
    if out.size:
        merge(sub, out)
    return b, m
