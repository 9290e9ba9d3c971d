"""Swendsen-Wang multi-cluster updates for the 2D periodic Ising model (no field).

One update = one sweep: every bond is tested (activated with p = 1 - exp(-2 beta |J|) when
satisfied: aligned spins for J > 0, anti-aligned for J < 0), the clusters are found by union-find
and each cluster is flipped with probability 1/2.

Randomness: each update takes one key from the sequential stream rng_state; bond (site i,
direction d: 0 right, 1 down) uses draw64(key, 2 i + d) and the cluster rooted at r flips on the
top bit of draw64(key, 2 N + r). Union by index (the smaller root wins) makes every root the
smallest flat index of its cluster, whatever order the unions ran in, so the result depends on
the seed only, not on the number of threads.

Caller-owned workspace: parent int32[N] (or int64). After a call it holds the cluster labels of
the last update: parent[i] = smallest flat index in i's cluster (see `sw_labels`).
"""
import numba
import numpy as np
from numba import njit, prange

from .rng import GAMMA, draw64, mix64

_S11 = np.uint64(11)
_S63 = np.uint64(63)
_TWO53 = 9007199254740992.0
_PARALLEL_MIN_N = 1 << 14  # below this, thread start-up costs more than it saves


def sw_workspace(L):
    """The parent array for an L x L lattice."""
    return np.empty(L * L, np.int32)


def sw_labels(parent, L):
    """(L, L) int cluster labels of the last update (smallest flat index in each cluster)."""
    return np.array(parent).reshape(L, L)


@njit(nogil=True, cache=True)
def _find(parent, x):
    """Root of x, halving the path on the way (parent[x] <= x always holds)."""
    while True:
        p = parent[x]
        if p == x:
            return x
        g = parent[p]
        parent[x] = g
        x = g


@njit(nogil=True, cache=True)
def _union(parent, a, b):
    """Merge the sets of a and b under the smaller root."""
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra < rb:
        parent[rb] = ra
    elif rb < ra:
        parent[ra] = rb


@njit(nogil=True, cache=True)
def _ok(s, a, b, ferro, key, counter, thr):
    """1 if the bond a-b is satisfied and its draw activates it, else 0 (branch-free: the draw
    is cheaper than a mispredicted branch)."""
    sat = np.int64((s[a] == s[b]) == ferro)
    return sat & np.int64((draw64(key, counter) >> _S11) < thr)


@njit(nogil=True, cache=True)
def _row(s, parent, L, base, has_up, ferro, key, thr):
    """Hoshen-Kopelman pass over one row: a site joins its left and up neighbours' sets through
    its own bonds (left = right bond of i-1, up = down bond of i-L if has_up). A site with one
    active bond just copies that neighbour's parent; only two active bonds need a union."""
    for i in range(base, base + L):
        left = _ok(s, i - 1, i, ferro, key, 2 * i - 2, thr) if i > base else 0
        up = _ok(s, i - L, i, ferro, key, 2 * (i - L) + 1, thr) if has_up else 0
        pl = parent[i - 1] if left else i
        pu = parent[i - L] if up else i
        parent[i] = min(pl, pu)
        if left & up and pl != pu:
            _union(parent, pl, pu)
    wrap = base + L - 1  # right bond of the last column, to the first
    if _ok(s, wrap, base, ferro, key, 2 * wrap, thr):
        _union(parent, wrap, base)


@njit(nogil=True, cache=True)
def _strip(s, parent, L, r0, r1, ferro, key, thr):
    """Label rows [r0, r1) using only the bonds inside them (all but the down bonds of the last
    row), then point every site at its strip-local root. Touches only the strip's entries."""
    for r in range(r0, r1):
        _row(s, parent, L, r * L, r > r0, ferro, key, thr)
    for i in range(r0 * L, r1 * L):  # ascending: parent[i] <= i is final when reached
        parent[i] = parent[parent[i]]


@njit(nogil=True, cache=True)
def _seams(s, parent, L, n_strips, ferro, key, thr, linked):
    """Join the down bonds from the last row of each strip (the last wraps to row 0), then point
    every strip root that got linked at its global root. Returns how many were linked.

    Every parent entry is a strip root or the site itself, so afterwards
    parent[parent[i]] is the global root of any site i."""
    n = L * L
    n_linked = 0
    for k in range(n_strips):
        r1 = (k + 1) * L // n_strips
        for i in range((r1 - 1) * L, r1 * L):
            j = i + L if i + L < n else i + L - n
            if _ok(s, i, j, ferro, key, 2 * i + 1, thr):
                ri = _find(parent, i)
                rj = _find(parent, j)
                if ri != rj:
                    lo, hi = min(ri, rj), max(ri, rj)
                    parent[hi] = lo
                    linked[n_linked] = hi
                    n_linked += 1
    for k in range(n_linked):
        parent[linked[k]] = _find(parent, linked[k])
    return n_linked


@njit(nogil=True, cache=True)
def _resolve_flip(s, parent, n, key, lo, hi):
    """Final labels and cluster flips for sites [lo, hi); returns the number of roots there.
    Writes only entries that change, which are never read by other strips (not roots)."""
    roots = 0
    flip_base = 2 * n
    for i in range(lo, hi):
        r = parent[i]
        g = parent[r]
        if g != r:
            parent[i] = g
        roots += g == i
        if draw64(key, flip_base + g) >> _S63:
            s[i] = -s[i]
    return roots


@njit(nogil=True, cache=True, parallel=True)
def _strips_parallel(s, parent, L, n_strips, ferro, key, thr):
    for k in prange(n_strips):
        _strip(s, parent, L, k * L // n_strips, (k + 1) * L // n_strips, ferro, key, thr)


@njit(nogil=True, cache=True, parallel=True)
def _resolve_parallel(s, parent, L, n_strips, key):
    roots = 0
    for k in prange(n_strips):
        roots += _resolve_flip(s, parent, L * L, key, k * L // n_strips * L,
                               (k + 1) * L // n_strips * L)
    return roots


@njit(nogil=True, cache=True)
def _update(s, parent, L, n_strips, ferro, key, thr, linked):
    """One SW update on n_strips strips (1: no threads); returns the number of clusters."""
    if n_strips > 1:
        _strips_parallel(s, parent, L, n_strips, ferro, key, thr)
    else:
        _strip(s, parent, L, 0, L, ferro, key, thr)
    _seams(s, parent, L, n_strips, ferro, key, thr, linked)
    if n_strips > 1:
        return _resolve_parallel(s, parent, L, n_strips, key)
    return _resolve_flip(s, parent, L * L, key, 0, L * L)


@njit(nogil=True, cache=True)
def _sweeps(spins, beta, coupling, n_sweeps, rng_state, parent, n_strips):
    L = spins.shape[0]
    s = spins.reshape(L * L)
    thr = np.uint64((1.0 - np.exp(-2.0 * beta * abs(coupling))) * _TWO53)
    ferro = coupling >= 0
    linked = np.empty(n_strips * L, np.int64)
    roots = np.int64(0)
    z = rng_state[0]
    for _ in range(n_sweeps):
        z += GAMMA
        roots = _update(s, parent, L, n_strips, ferro, mix64(z), thr, linked)
    rng_state[0] = z
    return roots


def swendsen_wang_sweeps(spins, beta, coupling, n_sweeps, rng_state, parent):
    """n_sweeps Swendsen-Wang updates of spins (C-contiguous int8 (L, L) of +-1, in place).

    coupling J may be negative (antiferromagnet). rng_state: uint64[1] sequential stream, advanced
    by one draw per update. parent: int32[L*L] workspace, left holding the last update's labels.
    Returns the number of clusters of the last update (int64; 0 if n_sweeps == 0).
    Lattices of at least 2**14 sites run on numba's threads (same result for any thread count).
    """
    L = spins.shape[0]
    n_strips = min(L, numba.get_num_threads()) if L * L >= _PARALLEL_MIN_N else 1
    return _sweeps(spins, beta, coupling, n_sweeps, rng_state, parent, n_strips)
