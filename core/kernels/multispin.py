"""Multi-spin coded (bit-packed) checkerboard Metropolis: 64 spins per uint64 word.

Layout
------
Site (i, j) of the L x L periodic lattice is black if (i + j) is even, white otherwise. Each
sublattice is an (L, L // 128) uint64 array; bit b of word k in row i holds the site of that
colour at column j = 2 * x + p with x = 64 * k + b, where p = i % 2 for black and
p = 1 - i % 2 for white. A set bit means spin up (+1). L must be a multiple of 128.

Neighbours of a site at (row i, lane x) of one colour all lie in the other colour's array:
up / down are rows i -/+ 1 at the same x (same word, same bit); left / right are row i at x and
at x - 1 when (i + colour) is even (colour 0 = black, 1 = white), else at x + 1. The shifted
lane is built from the word and its row neighbour with periodic wrap:
x - 1: (S << 1) | (S_prev >> 63);  x + 1: (S >> 1) | (S_next << 63).

Update of one colour
--------------------
a_n = spin XOR neighbour_n marks anti-aligned neighbours; full and half adders give their
count c (0..4) as three bit planes. Flipping spin s costs dE = 2 J (4 - 2 c) + 2 h s for either
sign of J (the sign lives in the table, so no extra XOR is needed), so each lane is in one of
10 classes 2 c + (s == +1) with acceptance p = min(1, exp(-beta dE)), stored as
round(p * 2**32) (ALWAYS = 2**32 when dE <= 0). Lanes of an ALWAYS class flip without random
bits; the others (dE > 0) accept iff a uniform 32-bit r < p, decided bit plane by bit plane,
MSB first, for 64 lanes at once: at the first plane b where r_b != p_b the lane accepts if
r_b = 0. Plane b of word w (flat index row * W + k) in half-sweep 2 sweep + colour reads
draw64(key, ((2 sweep + colour) L W + w) 32 + b); lanes still undecided after 32 planes have
r = p and reject (p is exact to 2**-33 by rounding). The result depends only on the key and
the sweep count, not on the thread count or the order in which words are done.

Implementation
--------------
Classes with the same p (both spins at h = 0) form one group; a row chunk of ~CHUNK_WORDS
words goes through passes over flat scratch arrays that LLVM vectorises (8 words per AVX-512
register): neighbour counts, one mask pass per group, then planes 0 .. FIXED_PLANES - 1 for
all words without branches (draws of words without random lanes go unused), then the ~5 % of
words with undecided lanes continue plane by plane until none is left. This gives the same
outcome as deciding each word alone with early exit. Chunks of one colour only read the
other colour, so they run in parallel (prange) from L = 512 on.

Public API
----------
pack(spins) -> (black, white); unpack(black, white, out=None) -> int8 (L, L)
flip_probability_table(beta, coupling, field) -> uint64[10]
multispin_sweeps(black, white, table, key, sweep0, n_sweeps) -> None (in place)
bond_sum_and_magnetisation_packed(black, white) -> (sum_i s_i (s_right + s_down), sum_i s_i)
neighbour_classes(black, white, colour) -> int8 (L, L) class per site (test helper)
"""
import functools
import math

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from .rng import GAMMA, mix64

ZERO = np.uint64(0)
ONE = np.uint64(1)
ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
SH1 = np.uint64(1)
SH8 = np.uint64(8)
SH7 = np.uint64(7)     # sign bit of the low byte of a column pair
SH15 = np.uint64(15)   # sign bit of its high byte
BYTE_DOWN = np.uint64(0xFF)       # int8 -1
BYTE_FLIP = np.uint64(0xFE)       # 0xFF - 0xFE = 0x01: int8 +1
SH63 = np.uint64(63)
N_PLANES = 32
N_CLASSES = 10
ALWAYS = np.uint64(1 << 32)
P_GAMMA = np.uint64((N_PLANES * int(GAMMA)) % (1 << 64))   # counter step between words
FIXED_PLANES = 10    # planes every word gets without branching; ~5 % of words need more
CHUNK_WORDS = 512    # words per task: amortises per-pass overheads, scratch stays in L1/L2
PARALLEL_MIN_WORDS = 2048   # from L = 512 on, sweeps use the thread pool
GROUP_TIERS = (2, 6, 10)   # group counts compiled for (h = 0: 2, small h: 5), padded


@intrinsic
def _ctpop(typingctx, x):
    """LLVM popcount (a single instruction on x86 with POPCNT)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


# ---------------------------------------------------------------- packing

# A row viewed as uint16 holds the column pair (2 x, 2 x + 1) in element x, low byte first
# (x86 and every numba target are little-endian). Column 2 x is black on even rows and white
# on odd rows, so a row pair is one lane of each colour: the loops below run over contiguous
# uint16 and vectorise.

@njit(nogil=True, cache=True)
def _row_sources(black, white, i):
    """(array holding the even columns of row i, array holding the odd columns)."""
    return (black, white) if i % 2 == 0 else (white, black)


@njit(nogil=True, cache=True)
def _pack_into(spins, black, white):
    L, W = black.shape
    pairs = spins.view(np.uint16)
    for i in range(L):
        even, odd = _row_sources(black, white, i)
        for k in range(W):
            e = ZERO
            o = ZERO
            for b in range(64):
                v = ~np.uint64(pairs[i, 64 * k + b])      # sign bit clear (+1) -> 1
                e |= ((v >> SH7) & ONE) << np.uint64(b)
                o |= ((v >> SH15) & ONE) << np.uint64(b)
            even[i, k] = e
            odd[i, k] = o


def pack(spins):
    """(L, L) int8 array of +1/-1 -> (black, white) uint64 arrays of shape (L, L // 128)."""
    spins = np.ascontiguousarray(spins, dtype=np.int8)
    L = spins.shape[0]
    assert spins.shape == (L, L) and L % 128 == 0, "multispin needs an L x L lattice, L % 128 == 0"
    black = np.empty((L, L // 128), np.uint64)
    white = np.empty((L, L // 128), np.uint64)
    _pack_into(spins, black, white)
    return black, white


@njit(nogil=True, cache=True)
def _unpack_into(black, white, out):
    L, W = black.shape
    pairs = out.view(np.uint16)
    for i in range(L):
        even, odd = _row_sources(black, white, i)
        for k in range(W):
            e = even[i, k]
            o = odd[i, k]
            for b in range(64):
                lo = BYTE_DOWN - BYTE_FLIP * ((e >> np.uint64(b)) & ONE)   # bit 1: 0x01, 0: 0xFF
                hi = BYTE_DOWN - BYTE_FLIP * ((o >> np.uint64(b)) & ONE)
                pairs[i, 64 * k + b] = np.uint16(lo | (hi << SH8))


def unpack(black, white, out=None):
    """(black, white) -> int8 (L, L) spins (+1/-1), written into out (C-contiguous) when given."""
    L = black.shape[0]
    if out is None:
        out = np.empty((L, L), np.int8)
    _unpack_into(black, white, out)
    return out


# ---------------------------------------------------------------- probabilities

def flip_probability_table(beta, coupling, field):
    """uint64[10]: entry 2 * c + (s == +1) is round(min(1, exp(-beta dE)) * 2**32), dE =
    2 J (4 - 2 c) + 2 h s with c anti-aligned neighbours; exactly ALWAYS (2**32) when dE <= 0."""
    table = np.empty(N_CLASSES, np.uint64)
    for c in range(5):
        for up in range(2):
            dE = 2.0 * coupling * (4 - 2 * c) + 2.0 * field * (1.0 if up else -1.0)
            if dE <= 0.0:
                q = 1 << 32
            else:
                # p < 1 never rounds up to "always": the class stays random
                q = min(int(round(math.exp(-beta * dE) * 2.0**32)), (1 << 32) - 1)
            table[2 * c + up] = np.uint64(q)
    return table


def _groups(table):
    """The lanes that need random bits, as groups of one threshold each.

    Returns (sel, planes): group q holds the lanes with
    ((s ^ sel[q,0]) | sel[q,1]) & (c0 ^ sel[q,2]) & (c1 ^ sel[q,3]) & (c2 ^ sel[q,4]) set
    (one c, one spin sign or either sign when both share a threshold, as at h = 0), and
    planes[q, b] is all ones iff bit 31 - b of its threshold is set. The group count is padded
    to a few sizes with empty groups (c0 = c2 = 1 never occurs) so that few kernels compile.
    """
    rows = []
    for c in range(5):
        p_dn, p_up = int(table[2 * c]), int(table[2 * c + 1])
        cbits = [ZERO if (c >> n) & 1 else ALL for n in range(3)]
        if p_dn == p_up and p_up != int(ALWAYS):
            rows.append(([ZERO, ALL] + cbits, p_up))
        else:
            for xs, p in ((ALL, p_dn), (ZERO, p_up)):
                if p != int(ALWAYS):
                    rows.append(([xs, ZERO] + cbits, p))
    n = next(g for g in GROUP_TIERS if g >= len(rows))
    sel = np.empty((n, 5), np.uint64)
    sel[:] = [ZERO, ALL, ZERO, ALL, ZERO]       # empty group: needs c0 = c2 = 1
    planes = np.zeros((n, N_PLANES), np.uint64)
    for q, (row, p) in enumerate(rows):
        sel[q] = row
        for b in range(N_PLANES):
            if (p >> (N_PLANES - 1 - b)) & 1:
                planes[q, b] = ALL
    return sel, planes


# ---------------------------------------------------------------- word-level logic

@njit(inline="always", nogil=True, cache=True)
def _anti_count(s, up, down, same, side):
    """Bit-sliced count (c0, c1, c2) of anti-aligned neighbours: 4 lane words in, 3 out."""
    a1 = s ^ up
    a2 = s ^ down
    a3 = s ^ same
    a4 = s ^ side
    x12 = a1 ^ a2
    s3 = x12 ^ a3                      # full adder on a1, a2, a3
    k3 = (a1 & a2) | (x12 & a3)
    c0 = s3 ^ a4                       # half adder with a4
    k4 = s3 & a4
    return c0, k3 ^ k4, k3 & k4


@njit(inline="always", nogil=True, cache=True)
def _side(prev, same, nxt, left):
    """The row neighbour at x - 1 (left) or x + 1, from the word and its row neighbours."""
    if left:
        return (same << SH1) | (prev >> SH63)
    return (same >> SH1) | (nxt << SH63)


@njit(inline="always", nogil=True, cache=True)
def _neighbours(O, i, k, L, W, left):
    """The four other-colour words around word k of row i (see the layout in the docstring)."""
    side = _side(O[i, k - 1 if k > 0 else W - 1], O[i, k], O[i, k + 1 if k < W - 1 else 0], left)
    return O[i - 1 if i > 0 else L - 1, k], O[i + 1 if i < L - 1 else 0, k], O[i, k], side


# ---------------------------------------------------------------- sweeps
#
# A chunk of rows is done in passes over flat scratch arrays (one word per entry) so that
# LLVM vectorises each pass over words (8 per AVX-512 register): classify every word, then
# FIXED_PLANES bit planes for every word without branches, then finish the few words with
# undecided lanes one by one. The outcome is the same as deciding each word alone.

@njit(nogil=True, cache=True)
def _load_rows(O, i0, nr, ob):
    """ob[1:] = rows i0 - 1 .. i0 + nr of O (periodic) flattened; ob[0] pads reads at w - 1."""
    L, W = O.shape
    top = (i0 - 1) % L
    bottom = (i0 + nr) % L
    for k in range(W):
        ob[1 + k] = O[top, k]
        ob[1 + (nr + 1) * W + k] = O[bottom, k]
    src = O.reshape(L * W)[i0 * W:]
    dst = ob[1 + W:]
    for w in range(nr * W):
        dst[w] = src[w]
    ob[0] = ZERO
    ob[(nr + 2) * W + 1] = ZERO


@njit(nogil=True, cache=True)
def _side_words(colour, i0, nr, W, ob, lm, nb):
    """lm[w] = all ones where the side neighbour is at x - 1 (else x + 1), nb[w] = the row
    word that neighbour's bit comes from, with the periodic wrap at the row ends."""
    n = nr * W
    for ii in range(nr):
        m = ALL if (i0 + ii + colour) % 2 == 0 else ZERO
        for k in range(W):
            lm[ii * W + k] = m
    # views at each offset keep every index the plain loop counter: an offset index could be
    # negative for numba, which would then wrap it and make LLVM gather
    prev, same, nxt = ob[W:], ob[W + 1:], ob[W + 2:]
    for w in range(n):
        nb[w] = (prev[w] & lm[w]) | (nxt[w] & ~lm[w])
    for ii in range(nr):
        first, last = ii * W, ii * W + W - 1
        if lm[first] == ALL:
            nb[first] = same[last]
        else:
            nb[last] = same[first]


@njit(nogil=True, cache=True)
def _count_chunk(S, O, colour, i0, nr, cnt, ob, lm, nb):
    """Anti-aligned neighbour counts, bit planes cnt[0..2], of the words of rows i0 .. i0 + nr - 1
    of S: one flat pass, vectorised over words."""
    L, W = S.shape
    _load_rows(O, i0, nr, ob)
    _side_words(colour, i0, nr, W, ob, lm, nb)
    s_ = S.reshape(L * W)[i0 * W:]
    up, same, down = ob[1:], ob[W + 1:], ob[2 * W + 1:]
    for w in range(nr * W):
        m = lm[w]
        side = (_side(nb[w], same[w], ZERO, True) & m) | (_side(ZERO, same[w], nb[w], False) & ~m)
        c0, c1, c2 = _anti_count(s_[w], up[w], down[w], same[w], side)
        cnt[0, w] = c0
        cnt[1, w] = c1
        cnt[2, w] = c2


@njit(nogil=True, cache=True)
def _group_masks(s_, cnt, sel, gm, und, acc, n):
    """gm[q] = lanes of group q (selectors sel[q], see _groups), und = their union (the random
    lanes), acc = the rest (accepted without random bits). One pass per group with its
    selector in registers: few pointers per loop, so LLVM vectorises each."""
    for w in range(n):
        und[w] = ZERO
    for q in range(gm.shape[0]):
        xs, ds, x0, x1, x2 = sel[q, 0], sel[q, 1], sel[q, 2], sel[q, 3], sel[q, 4]
        g = gm[q]
        for w in range(n):
            m = ((s_[w] ^ xs) | ds) & (cnt[0, w] ^ x0) & (cnt[1, w] ^ x1) & (cnt[2, w] ^ x2)
            g[w] = m
            und[w] |= m
    for w in range(n):
        acc[w] = ~und[w]


@njit(nogil=True, cache=True)
def _fixed_planes(gm, und, acc, z, planes, tag, n):
    """Planes 0 .. FIXED_PLANES - 1 for all n words, branch-free (vectorised over words)."""
    G = len(tag)   # compile-time: the group loop unrolls
    for b in range(FIXED_PLANES):
        zb = np.uint64(b) * GAMMA
        for w in range(n):
            r = mix64(z[w] + zb)
            t = ZERO
            for q in range(G):
                t |= gm[q, w] & planes[q, b]
            u = und[w]
            acc[w] |= u & t & ~r
            und[w] = u & ~(t ^ r)


@njit(nogil=True, cache=True)
def _finish_planes(gm, und, acc, z, planes, tag, n, idx):
    """Planes FIXED_PLANES .. 31 for the few words with undecided lanes, gathered into idx
    and stepped together (independent chains overlap); lanes undecided at the end reject."""
    G = len(tag)   # compile-time: the group loop unrolls
    m = 0
    for w in range(n):                  # branch-free compaction: pending words are rare
        idx[m] = w
        m += und[w] != ZERO
    for b in range(FIXED_PLANES, N_PLANES):
        if m == 0:
            break
        zb = np.uint64(b) * GAMMA
        pending = ZERO
        for j in range(m):
            w = idx[j]
            r = mix64(z[w] + zb)
            t = ZERO
            for q in range(G):
                t |= gm[q, w] & planes[q, b]
            u = und[w]
            acc[w] |= u & t & ~r
            u &= ~(t ^ r)
            und[w] = u
            pending |= u
        if pending == ZERO:
            break


@njit(nogil=True, cache=True)
def _update_chunk(S, O, colour, key, ctr0, sel, planes, tag, i0, nr):
    """Metropolis update of rows i0 .. i0 + nr - 1 of colour array S (other colour O).

    tag: a tuple as long as the group count, making that count a compile-time constant so
    the group loops unroll inside the vectorised word loops.
    """
    G = len(tag)
    W = S.shape[1]
    n = nr * W
    buf = np.empty((G + 8) * n + (nr + 2) * W + 2, np.uint64)   # one allocation per chunk
    gm = buf[:G * n].reshape((G, n))
    und = buf[G * n:(G + 1) * n]
    acc = buf[(G + 1) * n:(G + 2) * n]
    z = buf[(G + 2) * n:(G + 3) * n]
    lm = buf[(G + 3) * n:(G + 4) * n]
    nb = buf[(G + 4) * n:(G + 5) * n]
    cnt = buf[(G + 5) * n:(G + 8) * n].reshape((3, n))
    Sw = S[i0:i0 + nr].reshape(n)   # the chunk's rows are contiguous
    _count_chunk(S, O, colour, i0, nr, cnt, buf[(G + 8) * n:], lm, nb)
    _group_masks(Sw, cnt, sel, gm, und, acc, n)
    zc = key + (ctr0 + np.uint64(i0 * W)) * P_GAMMA
    for w in range(n):
        z[w] = zc + np.uint64(w) * P_GAMMA   # = key + counter(word w, plane 0) * GAMMA
    _fixed_planes(gm, und, acc, z, planes, tag, n)
    _finish_planes(gm, und, acc, z, planes, tag, n, lm.view(np.int64))   # lm is free now
    for w in range(n):
        Sw[w] ^= acc[w]


@njit(nogil=True, cache=True)
def _half_sweep_args(black, white, sweep, colour):
    """(S, O, ctr0) of one half-sweep: ctr0 = (2 sweep + colour) L W counts the earlier words."""
    L, W = black.shape
    ctr0 = (np.uint64(2) * np.uint64(sweep) + np.uint64(colour)) * np.uint64(L * W)
    if colour == 0:
        return black, white, ctr0
    return white, black, ctr0


@njit(parallel=True, nogil=True, cache=True)
def _sweeps(black, white, key, sweep0, n_sweeps, sel, planes, tag):
    """Half-sweeps in order black, white; within one, rows go in chunks of ~CHUNK_WORDS words,
    one chunk per task. Chunks only read the other colour, so any order gives one result."""
    L, W = black.shape
    rows = max(1, CHUNK_WORDS // W)
    for t in range(n_sweeps):
        for colour in range(2):
            S, O, ctr0 = _half_sweep_args(black, white, sweep0 + t, colour)
            for ch in prange((L + rows - 1) // rows):
                i0 = ch * rows
                _update_chunk(S, O, colour, key, ctr0, sel, planes, tag, i0, min(rows, L - i0))


@njit(nogil=True, cache=True)
def _sweeps_serial(black, white, key, sweep0, n_sweeps, sel, planes, tag):
    """_sweeps on the calling thread: small lattices, where waking a thread pool costs more
    than the sweep. Same chunks, same result."""
    L, W = black.shape
    rows = max(1, CHUNK_WORDS // W)
    for t in range(n_sweeps):
        for colour in range(2):
            S, O, ctr0 = _half_sweep_args(black, white, sweep0 + t, colour)
            for i0 in range(0, L, rows):
                _update_chunk(S, O, colour, key, ctr0, sel, planes, tag, i0, min(rows, L - i0))


def multispin_sweeps(black, white, table, key, sweep0, n_sweeps):
    """n_sweeps Metropolis sweeps (black then white half-sweeps) in place.

    table from flip_probability_table; key: np.uint64 stream key; sweep0: sweeps already done
    with this key, so consecutive calls continue one random stream.
    """
    sel, planes = _groups_cached(np.asarray(table, np.uint64).tobytes())
    run = _sweeps if black.size >= PARALLEL_MIN_WORDS else _sweeps_serial
    run(black, white, np.uint64(key), int(sweep0), int(n_sweeps), sel, planes, (0,) * len(sel))


@functools.lru_cache(maxsize=64)
def _groups_cached(table_bytes):
    """_groups per table (a Python loop of ~0.1 ms: not worth repeating every call)."""
    return _groups(np.frombuffer(table_bytes, np.uint64))


# ---------------------------------------------------------------- measurements

@njit(nogil=True, cache=True)
def bond_sum_and_magnetisation_packed(black, white):
    """(sum_i s_i (s_right + s_down), sum_i s_i) by popcount: every bond has one black end, so
    bond_sum = 2 N - 2 * (anti-aligned neighbours summed over black sites)."""
    L, W = black.shape
    anti = 0
    up_spins = 0
    for i in range(L):
        left = i % 2 == 0
        for k in range(W):
            s = black[i, k]
            up, down, same, side = _neighbours(white, i, k, L, W, left)
            # int64 sums: mixing uint64 with int would promote to float
            anti += np.int64(_ctpop(s ^ up) + _ctpop(s ^ down) + _ctpop(s ^ same) + _ctpop(s ^ side))
            up_spins += np.int64(_ctpop(s) + _ctpop(white[i, k]))
    n = L * L
    return 2 * n - 2 * anti, 2 * up_spins - n


def _class_selectors():
    """Selectors of the 10 single classes 2 c + (s == +1), in class order (see _groups)."""
    sel = np.empty((N_CLASSES, 5), np.uint64)
    for cls in range(N_CLASSES):
        c = cls >> 1
        sel[cls] = [ZERO if cls & 1 else ALL, ZERO] + [ZERO if (c >> n) & 1 else ALL for n in range(3)]
    return sel


@njit(nogil=True, cache=True)
def _classes(black, white, colour, sel):
    L, W = black.shape
    S, O = (black, white) if colour == 0 else (white, black)
    n = L * W
    gm = np.empty((N_CLASSES, n), np.uint64)
    cnt = np.empty((3, n), np.uint64)
    scratch = np.empty(4 * n + (L + 2) * W + 2, np.uint64)
    _count_chunk(S, O, colour, 0, L, cnt, scratch[4 * n:], scratch[:n], scratch[n:2 * n])
    _group_masks(S.reshape(n), cnt, sel, gm, scratch[2 * n:3 * n], scratch[3 * n:4 * n], n)
    out = np.full((L, L), -1, np.int8)
    for i in range(L):
        p = (i + colour) % 2
        for k in range(W):
            for b in range(64):
                for cls in range(N_CLASSES):
                    if (gm[cls, i * W + k] >> np.uint64(b)) & ONE:
                        out[i, 2 * (64 * k + b) + p] = cls
    return out


def neighbour_classes(black, white, colour):
    """int8 (L, L): class 2 c + (s == +1) at every site of the colour (0 black, 1 white), -1
    elsewhere, from the kernel's own classification pass (for tests against a plain lattice)."""
    return _classes(black, white, colour, _class_selectors())
