"""Swendsen-Wang multi-cluster updates for the 2D periodic Ising model (no field).

One update = one sweep: every bond is tested (activated with p = 1 - exp(-2 beta |J|) when
satisfied: aligned spins for J > 0, anti-aligned for J < 0), the clusters are found by union-find
and each cluster is flipped with probability 1/2.

Randomness: each update takes one key from the sequential stream rng_state. Site i owns its
left and up bonds (periodic) and tests them with the low and high 32 bits of draw64(key, i)
(p is thus resolved to 2**-32); the cluster rooted at r flips on the top bit of
draw64(key, N + r). Union by index (the smaller root wins) makes every root the smallest flat
index of its cluster whatever order the unions ran in, so results depend on the seed only, not on
the number of threads.

Caller-owned workspace: parent int32[N] (int64 for N >= 2**31), see `sw_workspace`. After a call it holds
the labels of the last update: parent[i] = smallest flat index in i's cluster (`sw_labels`).
"""
import numba
import numpy as np
from numba import njit, prange

from .rng import GAMMA, draw64, mix64

_S32 = np.uint64(32)
_S63 = np.uint64(63)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = 4294967296.0
_PARALLEL_MIN_N = 1 << 14  # below this, thread start-up costs more than it saves


def sw_workspace(L):
    """The parent array for an L x L lattice (int64 once flat indices outgrow int32)."""
    return np.empty(L * L, np.int32 if L * L < 2**31 else np.int64)


def sw_labels(parent, L):
    """(L, L) cluster labels of the last update (smallest flat index in each cluster), a copy."""
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
def _link(parent, a, b):
    """Merge the sets of a and b under the smaller root; returns that root."""
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra < rb:
        parent[rb] = ra
        return ra
    parent[ra] = rb
    return rb


@njit(nogil=True, cache=True)
def _bonds(s, i, j_left, j_up, ferro, key, thr):
    """(left, up) activation of site i's two bonds from one draw: satisfied and draw < p."""
    h = draw64(key, i)
    left = ((s[i] == s[j_left]) == ferro) and (h & _LOW32) < thr
    up = ((s[i] == s[j_up]) == ferro) and (h >> _S32) < thr
    return left, up


@njit(nogil=True, cache=True)
def _strip(s, parent, L, r0, r1, ferro, key, thr, flatten):
    """Label rows [r0, r1) with the bonds inside them (Hoshen-Kopelman scan), then, if flatten,
    point every site at its strip-local root. Reads and writes only the strip's parent entries.

    A site with one active bond copies that neighbour's parent (an earlier member of the same
    set, so parent[i] <= i stays true); only two active bonds to different parents need a union.
    Column 0's wrapping left bond is joined at the end of its row, row r0's up bonds by _seams."""
    n = L * L
    for r in range(r0, r1):
        base = r * L
        up_row = base - L if r > 0 else n - L
        prev = base
        for i in range(base, base + L):
            left, up = _bonds(s, i, i - 1 if i > base else base + L - 1, up_row + i - base,
                              ferro, key, thr)
            left = left and i > base
            up = up and r > r0
            cl = prev if left else i
            cu = parent[i - L] if up else i
            p = min(cl, cu)
            if left and up and cl != cu:
                p = _link(parent, cl, cu)
            parent[i] = p
            prev = p
        left, _ = _bonds(s, base, base + L - 1, up_row, ferro, key, thr)
        if left:
            _link(parent, base, base + L - 1)
    if flatten:
        for i in range(r0 * L, r1 * L):  # ascending: parent[parent[i]] is already final
            parent[i] = parent[parent[i]]


@njit(nogil=True, cache=True)
def _seams(s, parent, L, n_strips, ferro, key, thr, linked):
    """Join the up bonds of each strip's first row (row 0 wraps to row L-1), then point every
    strip root that got linked at its global root.

    With flattened strips every parent entry is the site itself or a strip root, before and
    after, so afterwards parent[parent[i]] is the global root of any site i. Unions keep
    parent[i] <= i in any case."""
    n = L * L
    n_linked = 0
    for k in range(n_strips):
        base = k * L // n_strips * L
        up_row = base - L if base > 0 else n - L
        for c in range(L):
            i = base + c
            _, up = _bonds(s, i, base + (c - 1 if c > 0 else L - 1), up_row + c, ferro, key, thr)
            if up:
                ri = _find(parent, i)
                rj = _find(parent, up_row + c)
                if ri != rj:
                    lo, hi = min(ri, rj), max(ri, rj)
                    parent[hi] = lo
                    linked[n_linked] = hi
                    n_linked += 1
    for k in range(n_linked):
        parent[linked[k]] = _find(parent, linked[k])


@njit(nogil=True, cache=True)
def _resolve_flip(s, parent, n, key, lo, hi):
    """Final labels and cluster flips for sites [lo, hi); returns the number of roots there.

    Ascending, parent[parent[i]] is the root: parent[i] <= i was resolved before (serial case),
    or is a strip root already pointing at its root (after `_seams`). Writes only entries that
    change, which no other strip reads (they are not strip roots)."""
    roots = 0
    for i in range(lo, hi):
        r = parent[i]
        g = parent[r]
        if g != r:
            parent[i] = g
        roots += g == i
        # flip +1 <-> -1 (xor with -2 in int8) on the root's bit, without a branch
        s[i] = s[i] ^ (np.int64(draw64(key, n + g) >> _S63) * -2)
    return roots


@njit(nogil=True, cache=True, parallel=True)
def _strips_parallel(s, parent, L, n_strips, ferro, key, thr):
    for k in prange(n_strips):
        _strip(s, parent, L, k * L // n_strips, (k + 1) * L // n_strips, ferro, key, thr, True)


@njit(nogil=True, cache=True, parallel=True)
def _resolve_parallel(s, parent, L, n_strips, key):
    roots = 0
    for k in prange(n_strips):
        roots += _resolve_flip(s, parent, L * L, key, k * L // n_strips * L,
                               (k + 1) * L // n_strips * L)
    return roots


@njit(nogil=True, cache=True)
def _update(s, parent, L, n_strips, ferro, key, thr, linked):
    """One SW update on n_strips row strips (1: no threads); returns the number of clusters."""
    if n_strips > 1:
        _strips_parallel(s, parent, L, n_strips, ferro, key, thr)
    else:  # no strip-local flattening: the ascending resolve pass flattens globally
        _strip(s, parent, L, 0, L, ferro, key, thr, False)
    _seams(s, parent, L, n_strips, ferro, key, thr, linked)
    if n_strips > 1:
        return _resolve_parallel(s, parent, L, n_strips, key)
    return _resolve_flip(s, parent, L * L, key, 0, L * L)


@njit(nogil=True, cache=True)
def swendsen_wang_strips(spins, beta, coupling, n_sweeps, rng_state, parent, n_strips):
    """`swendsen_wang_sweeps` for callers inside numba: n_strips >= 1 row strips (1: serial),
    at most L; results do not depend on it."""
    L = spins.shape[0]
    s = spins.reshape(L * L)
    thr = np.uint64((1.0 - np.exp(-2.0 * beta * abs(coupling))) * _TWO32)
    ferro = coupling >= 0
    linked = np.empty(n_strips * L, np.int64)
    roots = np.int64(0)
    z = rng_state[0]
    for _ in range(n_sweeps):
        z += GAMMA
        roots = _update(s, parent, L, n_strips, ferro, mix64(z), thr, linked)
    rng_state[0] = z
    return roots


def swendsen_wang_sweeps(spins, beta, coupling, n_sweeps, rng_state, parent, n_threads=0):
    """n_sweeps Swendsen-Wang updates of spins (C-contiguous int8 (L, L) of +-1, in place).

    coupling J may be negative (antiferromagnet). rng_state: uint64[1] sequential stream, advanced
    by one draw per update. parent: int32[L*L] workspace, left holding the last update's labels.
    n_threads: row strips run in parallel (0: numba's thread count; lattices under 2**14 sites
    always run serially); the result does not depend on it.
    Returns the number of clusters of the last update (int64; 0 if n_sweeps == 0).
    """
    L = spins.shape[0]
    if n_threads <= 0:
        n_threads = numba.get_num_threads()
    n_strips = min(L, n_threads) if L * L >= _PARALLEL_MIN_N else 1
    return swendsen_wang_strips(spins, beta, coupling, n_sweeps, rng_state, parent, n_strips)
