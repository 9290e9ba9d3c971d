"""Even spin operators (coupling sums) of a periodic lattice, the MCRG coupling basis.

Each operator is the raw sum S_a = sum_i prod(spins of a shape placed at i) over the lattice,
so that a Hamiltonian -H/T = sum_a K_a S_a has S_a conjugate to K_a (the MCRG derivatives
d<X>/dK_a = <X S_a> - <X><S_a> need raw, not per-site, sums). Index order = OPERATORS.
"""
from __future__ import annotations

import numpy as np
from numba import njit


# name -> the pair offsets it sums over (the plaquette is a 4-spin term, handled on its own)
OPERATORS = ("nn", "nnn", "plaquette", "third", "knight", "diag2")
N_OPERATORS = len(OPERATORS)
_PAIR_OFFSETS = {
    "nn": ((0, 1), (1, 0)),
    "nnn": ((1, 1), (1, -1)),
    "third": ((0, 2), (2, 0)),
    "knight": ((1, 2), (2, 1), (1, -2), (2, -1)),
    "diag2": ((2, 2), (2, -2)),
}
# terms per site of each operator (its number of placements per lattice site)
TERMS_PER_SITE = tuple(1 if name == "plaquette" else len(_PAIR_OFFSETS[name]) for name in OPERATORS)


@njit(nogil=True, cache=True)
def operator_sums(s, out):
    """out[a] = S_a of the periodic (n, n) lattice s for a in OPERATORS order (int64).

    Works on a copy padded by 2 on every side (periodic wrap), so the loops index without
    modulo and the inner loop over j is contiguous.
    """
    n = s.shape[0]
    p = np.empty((n + 4, n + 4), np.int32)
    for i in range(n + 4):
        si = (i - 2) % n
        for j in range(2, n + 2):
            p[i, j] = s[si, j - 2]
        for j in (0, 1, n + 2, n + 3):
            p[i, j] = s[si, (j - 2) % n]
    acc = np.zeros(N_OPERATORS, np.int64)
    for i in range(2, n + 2):
        r0, r1, r2 = p[i], p[i + 1], p[i + 2]
        a0 = a1 = a2 = a3 = a4 = a5 = np.int32(0)  # int32 rows: the loop vectorises
        for j in range(2, n + 2):
            x = r0[j]
            a0 += x * (r0[j + 1] + r1[j])
            a1 += x * (r1[j + 1] + r1[j - 1])
            a2 += x * r0[j + 1] * r1[j] * r1[j + 1]
            a3 += x * (r0[j + 2] + r2[j])
            a4 += x * (r1[j + 2] + r2[j + 1] + r1[j - 2] + r2[j - 1])
            a5 += x * (r2[j + 2] + r2[j - 2])
        acc[0] += a0
        acc[1] += a1
        acc[2] += a2
        acc[3] += a3
        acc[4] += a4
        acc[5] += a5
    out[:] = acc
    return out


def operator_sums_py(spins: np.ndarray) -> np.ndarray:
    """Reference implementation with np.roll (tests compare the kernel against it)."""
    s = np.asarray(spins, dtype=np.int64)
    def shift(di, dj):
        return np.roll(np.roll(s, -di, axis=0), -dj, axis=1)
    out = np.zeros(N_OPERATORS, np.int64)
    for a, name in enumerate(OPERATORS):
        if name == "plaquette":
            out[a] = np.sum(s * shift(0, 1) * shift(1, 0) * shift(1, 1))
        else:
            out[a] = sum(np.sum(s * shift(di, dj)) for di, dj in _PAIR_OFFSETS[name])
    return out
