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

from .atomics import compare_and_swap, load_acquire, store_release
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


@njit(inline="always", nogil=True, cache=True)
def _merge_row(sub, out, i):
    # site (i, 2x) has colour i % 2, (i, 2x + 1) the other: interleave two contiguous rows
    # (vectorised, 30x faster than choosing the colour per site)
    even, odd = sub[i & 1, i], sub[1 - (i & 1), i]
    row = out[i]
    for x in range(sub.shape[2]):
        row[2 * x] = even[x]
        row[2 * x + 1] = odd[x]


@njit(nogil=True, cache=True, parallel=True)
def merge(sub, out):
    """Sublattice layout -> (L, L) int8 lattice, written into out."""
    for i in prange(out.shape[0]):
        _merge_row(sub, out, i)
    return out


@njit(inline="always", nogil=True, cache=True)
def _row_bonds_and_magnetisation(sub, i):
    """Row i's share: s * (neighbour sum) over its colour-0 sites, and its spin sum.

    The side neighbour's wrap-around is taken out of the loops (as in `_phase_row`): without
    a modulo per site they vectorise, 8x faster, which matters as it runs once per chunk."""
    L, H = sub.shape[1], sub.shape[2]
    own, oth = sub[0, i], sub[1, i]
    up, dn = sub[1, i - 1 if i > 0 else L - 1], sub[1, i + 1 if i < L - 1 else 0]
    b = 0
    m = 0
    for x in range(H):  # the vertical bonds, the side neighbour at x, and the spin sum
        s = np.int32(own[x])
        b += s * (np.int32(up[x]) + np.int32(dn[x]) + np.int32(oth[x]))
        m += s + np.int32(oth[x])
    if (i & 1) == 0:  # the other side neighbour at x - 1; x = 0 wraps to H - 1
        b += np.int32(own[0]) * np.int32(oth[H - 1])
        for x in range(1, H):
            b += np.int32(own[x]) * np.int32(oth[x - 1])
    else:  # at x + 1; x = H - 1 wraps to 0
        for x in range(H - 1):
            b += np.int32(own[x]) * np.int32(oth[x + 1])
        b += np.int32(own[H - 1]) * np.int32(oth[0])
    return b, m


@njit(nogil=True, cache=True, parallel=True)
def bond_sum_and_magnetisation(sub):
    """(sum_<ij> s_i s_j over the 2N bonds, sum_i s_i): every bond joins a colour-0 site to a
    colour-1 site, so summing s * (neighbour sum) over colour 0 counts each bond once."""
    L = sub.shape[1]
    bonds = np.zeros(L, dtype=np.int64)
    mags = np.zeros(L, dtype=np.int64)
    for i in prange(L):
        bonds[i], mags[i] = _row_bonds_and_magnetisation(sub, i)
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


@njit(inline="always", nogil=True, cache=True)
def _phase_row(sub, thr, key, heatbath, i, phase):
    """Row i of colour phase % 2 in phase `phase` (= 2 * sweep + colour), reading the other
    colour's rows i - 1, i, i + 1."""
    L, H = sub.shape[1], sub.shape[2]
    c = phase & 1
    own, mid = sub[c, i], sub[1 - c, i]
    up, dn = sub[1 - c, i - 1 if i > 0 else L - 1], sub[1 - c, i + 1 if i < L - 1 else 0]
    rowbase = np.uint64(phase) * np.uint64(L * H) + np.uint64(i * H)
    if ((i + c) & 1) == 0:  # side neighbour at x - 1; x = 0 wraps to H - 1
        _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, 0, 1, H - 1)
        _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, 1, H, -1)
    else:  # side neighbour at x + 1; x = H - 1 wraps to 0
        _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, 0, H - 1, 1)
        _update_row(heatbath, own, mid, up, dn, thr, key, rowbase, H - 1, H, 1 - H)


@njit(nogil=True, cache=True, parallel=True)
def checkerboard_sweeps(sub, thr, key, sweep0, n_sweeps, heatbath):
    """n_sweeps Metropolis (or heat-bath) sweeps in place; sweep0 continues the random stream.

    One kernel for both rules (a per-row branch) so numba's cache holds one entry per signature;
    small lattices are run with one numba thread by the caller. Large lattices on several
    threads use `rows_until` instead, which gives the same result without barriers.
    """
    L = sub.shape[1]
    for t in range(n_sweeps):
        for c in range(2):
            for i in prange(L):
                _phase_row(sub, thr, key, heatbath, i, 2 * (sweep0 + t) + c)


@njit(inline="always", nogil=True, cache=True)
def _try_row(sub, thr, key, heatbath, state, phases, target, i, bonds, mags, out):
    """Take row i's next step if it is free and both neighbours have done as many; True if done."""
    L = sub.shape[1]
    s = load_acquire(state, i)
    p = s >> 1
    if p >= target or (s & 1) or (load_acquire(state, i - 1 if i > 0 else L - 1) >> 1) < p \
            or (load_acquire(state, i + 1 if i < L - 1 else 0) >> 1) < p:
        return False  # done, busy, or a neighbour is behind
    if not compare_and_swap(state, i, s, s + 1):
        return False  # another thread took it
    if p < phases:
        _phase_row(sub, thr, key, heatbath, i, p)
    else:
        bonds[i], mags[i] = _row_bonds_and_magnetisation(sub, i)
        if out.size:
            _merge_row(sub, out, i)
    store_release(state, i, 2 * (p + 1))
    return True


@njit(nogil=True, cache=True)
def rows_until(sub, thr, key, heatbath, state, phases, lo, hi, patience, bonds, mags, out):
    """One of several threads sharing the sweeps of a lattice, without barriers.

    state[i] = 2 * (steps done on row i) + 1 while a thread works on row i. Steps below
    `phases` are colour updates (step p = 2 * sweep + colour); if `bonds` is not empty, step
    `phases` measures the row (bonds[i], mags[i]) and copies it to out (unless out is empty).
    A row may take step p once both neighbours have done p steps: its inputs are final and
    nobody still reads what it overwrites. A thread claims a row with a compare-and-swap.

    This thread works forward through its own rows [lo, hi); when none of them can move it
    helps with the others, backward from lo - 1, i.e. from the far end of its neighbour's
    rows, away from where that thread is working. So a descheduled thread holds up only the
    rows that depend on the one it holds, and one thread alone finishes the job. Each site
    draws its random number from its own (phase, site) counter, so the order does not matter:
    the result equals `checkerboard_sweeps` bit for bit.

    Returns 0 when every row is done; after `patience` scans with nothing to do, 1 if this
    call moved no row at all and 2 if it did (the caller sleeps, longer each time it got 1,
    and calls again).
    """
    L = sub.shape[1]
    target = phases + (1 if bonds.size else 0)
    idle = 0
    progressed = False
    while True:
        moved = False
        for i in range(lo, hi):
            moved |= _try_row(sub, thr, key, heatbath, state, phases, target, i, bonds, mags, out)
        if not moved:
            for k in range(1, L - (hi - lo) + 1):
                i = lo - k + (L if lo - k < 0 else 0)
                moved |= _try_row(sub, thr, key, heatbath, state, phases, target, i, bonds, mags, out)
        if moved:
            idle = 0
            progressed = True
            continue
        finished = True
        for i in range(L):
            if load_acquire(state, i) >> 1 < target:
                finished = False
                break
        if finished:
            return 0
        idle += 1
        if idle >= patience:
            return 2 if progressed else 1


@njit(nogil=True, cache=True)
def measure_and_merge(sub, out):
    """(bond sum, magnetisation), and the merged lattice in out unless out is empty."""
    b, m = bond_sum_and_magnetisation(sub)
    if out.size:
        merge(sub, out)
    return b, m
