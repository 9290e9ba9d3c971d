"""Per-snapshot measurements for MCRG: block a lattice level by level and take, at every level,
the operator sums of core.rg.operators and the magnetisation, in one compiled call."""
from __future__ import annotations

import numpy as np
from numba import njit

from ..kernels.rng import stream_key
from .blocking import TIE_TAG, check_blocking, check_rule, decimation_kernel, level_key, majority_kernel
from .operators import N_OPERATORS, operator_sums


@njit(nogil=True, cache=True)
def _measure(spins, b, levels, majority, base, stream, ops, mags):
    cur = spins
    for k in range(levels + 1):
        if k > 0:
            n = cur.shape[0] // b
            nxt = np.empty((n, n), np.int8)
            if majority:
                majority_kernel(cur, b, level_key(base, stream, np.uint64(k)), nxt)
            else:
                decimation_kernel(cur, b, nxt)
            cur = nxt
        operator_sums(cur, ops[k])
        mags[k] = np.sum(cur.astype(np.int64))


class LevelMeter:
    """Measures snapshots of one lattice size: `meter(spins, stream)` -> (ops, mags), where
    ops[k, a] is operator a summed over level k and mags[k] the level's spin sum."""

    def __init__(self, size: int, block: int, levels: int, rule: str, seed: int):
        check_rule(rule)
        check_blocking(size, block, levels)
        self.size, self.block, self.levels = size, block, levels
        self._majority = rule == "majority"
        self._base = stream_key(seed, TIE_TAG)

    def __call__(self, spins: np.ndarray, stream: int, ops=None, mags=None):
        if ops is None:
            ops = np.empty((self.levels + 1, N_OPERATORS), np.int64)
        if mags is None:
            mags = np.empty(self.levels + 1, np.int64)
        spins = np.ascontiguousarray(spins, dtype=np.int8)
        if not spins.flags.writeable:  # numba types read-only arrays apart; a copy unifies them
            spins = spins.copy()
        _measure(spins, self.block, self.levels, self._majority, self._base, np.uint64(stream), ops, mags)
        return ops, mags
