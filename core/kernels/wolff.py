"""Wolff single-cluster updates for the 2D periodic Ising model (no field).

One Wolff "sweep" is a run of cluster updates that together flip at least N = L*L spins (the last
cluster may overshoot): as many flips as a Metropolis sweep could make at most.

Caller-owned workspace (allocate once per lattice size, see `wolff_workspace`):
  stack      int64[N]  pending sites, packed as (row << 32) | col so popping needs no division
  mark       int32[N]  id of the last cluster that visited each site; zero-initialised
  cluster_id int64[1]  id of the last grown cluster; zero-initialised
Once a cluster is grown, its sites are exactly those with mark == its id: marks are never cleared
between clusters (ids increase), only reset when the id would overflow int32.
"""
import numpy as np
from numba import njit

from .rng import GAMMA, mix64

_MAX_ID = 2**31 - 1
_LOW32 = np.int64(0xFFFFFFFF)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_TWO53 = 9007199254740992.0


def wolff_workspace(L):
    """(stack, mark, cluster_id) for an L x L lattice, ready for the kernels below."""
    n = L * L
    return np.empty(n, np.int64), np.zeros(n, np.int32), np.zeros(1, np.int64)


@njit(nogil=True, cache=True)
def _threshold(beta, coupling):
    """p_add = 1 - exp(-2 beta |J|) as a 53-bit integer threshold (p = 1 maps to 2**53: always)."""
    p = 1.0 - np.exp(-2.0 * beta * abs(coupling))
    return np.uint64(p * _TWO53)


@njit(nogil=True, cache=True)
def _neighbours(packed, L, n):
    """Flat index and (flat, packed) of the 4 neighbours of a packed site; edges wrap by
    comparison (no modulo or division)."""
    row = np.int64(1) << 32
    r = packed >> 32
    c = packed & _LOW32
    i = r * L + c
    if c > 0:
        jl, pl = i - 1, packed - 1
    else:
        jl, pl = i + L - 1, packed + L - 1
    if c < L - 1:
        jr, pr = i + 1, packed + 1
    else:
        jr, pr = i - L + 1, packed - L + 1
    if r > 0:
        ju, pu = i - L, packed - row
    else:
        ju, pu = i + n - L, packed + (L - 1) * row
    if r < L - 1:
        jd, pd = i + L, packed + row
    else:
        jd, pd = i - n + L, packed - (L - 1) * row
    return i, jl, pl, jr, pr, ju, pu, jd, pd


@njit(nogil=True, cache=True)
def _visit(s, stack, sp, j, packed, want, thr, z):
    """Add site j to the cluster if its bond is satisfied and activated.

    Branch-free: the spin and random tests are coin flips a branch predictor cannot learn, so
    always draw, always store (the unchanged value on rejection) and bump the stack top by 0/1.
    z is the SplitMix64 state kept in a register (next64 on the state array would make numba
    refcount the array at every draw). Returns the new stack top and state.
    """
    z += GAMMA
    ok = np.int64(s[j] == want) & np.int64((mix64(z) >> _S11) < thr)
    s[j] = s[j] ^ (ok * -2)  # +1 <-> -1 in two's complement int8 iff ok
    stack[sp] = packed  # in range: fewer than N sites are pending here
    return sp + ok, z


@njit(nogil=True, cache=True)
def _visit_marked(s, mark, stack, sp, j, packed, want, cid, thr, z):
    """`_visit` that also excludes and marks cluster members at push time (odd-L antiferromagnet,
    where a flipped member can still pass the spin test)."""
    if s[j] == want and mark[j] != cid:
        z += GAMMA
        if (mix64(z) >> _S11) < thr:
            s[j] = -s[j]
            mark[j] = cid
            stack[sp] = packed
            return sp + 1, z
    return sp, z


@njit(nogil=True, cache=True)
def _grow(s, L, thr, wsign, z, stack, mark, cid):
    """Grow and flip one cluster from a uniform random seed; returns its size and the state z.

    Spins flip when pushed. s[i] of a popped site is thus flipped: a ferromagnetic bond is
    satisfied by its original spin (-s[i]), an antiferromagnetic one by s[i]. For ferromagnets and
    even-L antiferromagnets flipped members fail that spin test, so marks only record the
    cluster and are written when a site is popped.
    """
    n = L * L
    z += GAMMA
    seed = np.int64(((mix64(z) >> _S32) * np.uint64(n)) >> _S32)  # multiply-high
    if wsign > 0 and L % 2 == 1:
        return _grow_marked(s, L, thr, seed, z, stack, mark, cid)
    s[seed] = -s[seed]
    r0 = seed // L
    stack[0] = (r0 << 32) | (seed - r0 * L)
    sp = 1
    size = 0
    while sp > 0:
        sp -= 1
        packed = stack[sp]
        i, jl, pl, jr, pr, ju, pu, jd, pd = _neighbours(packed, L, n)
        mark[i] = cid
        size += 1
        want = s[i] * wsign
        sp, z = _visit(s, stack, sp, jl, pl, want, thr, z)
        sp, z = _visit(s, stack, sp, jr, pr, want, thr, z)
        sp, z = _visit(s, stack, sp, ju, pu, want, thr, z)
        sp, z = _visit(s, stack, sp, jd, pd, want, thr, z)
    return size, z


@njit(nogil=True, cache=True)
def _grow_marked(s, L, thr, seed, z, stack, mark, cid):
    """`_grow` for the odd-L antiferromagnet: marks set at push time exclude members."""
    n = L * L
    s[seed] = -s[seed]
    mark[seed] = cid
    r0 = seed // L
    stack[0] = (r0 << 32) | (seed - r0 * L)
    sp = 1
    size = 0
    while sp > 0:
        sp -= 1
        i, jl, pl, jr, pr, ju, pu, jd, pd = _neighbours(stack[sp], L, n)
        size += 1
        want = s[i]
        sp, z = _visit_marked(s, mark, stack, sp, jl, pl, want, cid, thr, z)
        sp, z = _visit_marked(s, mark, stack, sp, jr, pr, want, cid, thr, z)
        sp, z = _visit_marked(s, mark, stack, sp, ju, pu, want, cid, thr, z)
        sp, z = _visit_marked(s, mark, stack, sp, jd, pd, want, cid, thr, z)
    return size, z


@njit(nogil=True, cache=True)
def _next_id(mark, cluster_id):
    """Id for the next cluster; on int32 overflow clear the marks and start again at 1."""
    cid = cluster_id[0] + 1
    if cid > _MAX_ID:
        mark[:] = 0
        cid = 1
    cluster_id[0] = cid
    return cid


@njit(nogil=True, cache=True)
def wolff_clusters(spins, beta, coupling, n_clusters, rng_state, stack, mark, cluster_id):
    """Grow and flip exactly n_clusters Wolff clusters; returns the number of flipped spins (int64).

    spins: C-contiguous int8 (L, L) of +-1, updated in place. coupling J may be negative
    (antiferromagnet). rng_state: uint64[1] sequential stream, advanced. stack/mark/cluster_id:
    see the module docstring; afterwards cluster_id[0] is the id of the last cluster.
    """
    L = spins.shape[0]
    s = spins.reshape(L * L)
    thr = _threshold(beta, coupling)
    wsign = -1 if coupling >= 0 else 1
    flipped = np.int64(0)
    z = rng_state[0]
    for _ in range(n_clusters):
        cid = _next_id(mark, cluster_id)
        size, z = _grow(s, L, thr, wsign, z, stack, mark, cid)
        flipped += size
    rng_state[0] = z
    return flipped


@njit(nogil=True, cache=True)
def wolff_sweeps(spins, beta, coupling, n_sweeps, rng_state, stack, mark, cluster_id):
    """Wolff updates until at least n_sweeps * L*L spins have flipped.

    Same arguments as `wolff_clusters`. Returns (n_clusters, n_flipped) as int64; the last
    cluster is the set of sites with mark == cluster_id[0] (see `last_cluster_mask`).

    Measuring at the end of such sweeps is biased: the sweep stops after a size-biased cluster,
    at a time that depends on the state (at L = 4, T = 1.5: <E>/N -1.993 instead of -1.951).
    The bias fades with L but for unbiased averages measure after a fixed number of clusters
    (`wolff_clusters` with e.g. the mean n_clusters per sweep of the thermalisation).
    """
    L = spins.shape[0]
    s = spins.reshape(L * L)
    thr = _threshold(beta, coupling)
    wsign = -1 if coupling >= 0 else 1
    target = np.int64(n_sweeps) * L * L
    n_clusters = np.int64(0)
    flipped = np.int64(0)
    z = rng_state[0]
    while flipped < target:
        cid = _next_id(mark, cluster_id)
        size, z = _grow(s, L, thr, wsign, z, stack, mark, cid)
        flipped += size
        n_clusters += 1
    rng_state[0] = z
    return n_clusters, flipped


def last_cluster_mask(mark, last_id, L):
    """Bool (L, L) mask of the sites in the cluster with id last_id (normally cluster_id[0])."""
    if last_id <= 0:
        return np.zeros((L, L), dtype=bool)
    return np.asarray(mark).reshape(L, L) == last_id
