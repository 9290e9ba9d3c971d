"""The issue's baseline: a plain numba checkerboard Metropolis kernel.

Per-site np.random.random(), modulo neighbour indices, an int8 lattice, prange over rows, exp()
evaluated per site: the textbook kernel every speed-up in README is measured against.
"""
import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, nogil=True)
def baseline_sweeps(spins, beta, coupling, field, n_sweeps):
    L = spins.shape[0]
    for _ in range(n_sweeps):
        for colour in range(2):
            for i in prange(L):
                for j in range(L):
                    if (i + j) % 2 != colour:
                        continue
                    nn = (spins[(i - 1) % L, j] + spins[(i + 1) % L, j]
                          + spins[i, (j - 1) % L] + spins[i, (j + 1) % L])
                    de = 2.0 * spins[i, j] * (coupling * nn + field)
                    if np.random.random() < np.exp(-beta * de):
                        spins[i, j] = -spins[i, j]
