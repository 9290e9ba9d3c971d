"""Metropolis and heat-bath samplers on the sublattice-split checkerboard layout."""
from __future__ import annotations

import numpy as np

from ..kernels import thread_count, threads_for
from ..kernels import checkerboard as cb
from ..kernels.shared_sweeps import shared_sweeps
from ..kernels.rng import stream_key
from ..params import ModelParams
from .base import Sampler

_TABLES = {"metropolis": cb.metropolis_table, "heatbath": cb.heatbath_table}


class CheckerboardSampler(Sampler):
    def __init__(self, params: ModelParams, spins: np.ndarray):
        super().__init__(params)
        self._key = stream_key(self.params.seed, 1)
        self._heatbath = self.params.algorithm == "heatbath"
        self.load(spins)
        self._on_params()

    def _on_params(self) -> None:
        p = self.params
        self._thr = _TABLES[p.algorithm](p.beta, p.coupling, p.field)

    def load(self, spins: np.ndarray) -> None:
        self._sub = cb.split(np.ascontiguousarray(spins, dtype=np.int8))

    def sweep(self, n: int) -> int:
        self._sweeps(n)
        return n * self.n_spins

    def advance(self, n: int, copy_spins: bool):
        out = np.empty((self.size, self.size) if copy_spins else (0, 0), dtype=np.int8)
        b, m = self._sweeps(n, out)
        return n * self.n_spins, *self._per_spin(b, m), (out if copy_spins else None)

    def _sweeps(self, n: int, out: np.ndarray | None = None):
        """n sweeps; with `out`, then (bond sum, magnetisation) and the lattice copied to out."""
        threads = thread_count(self.n_spins)
        args = (self._sub, self._thr, self._key, self.sweeps_done, n, self._heatbath)
        if threads > 1:  # barrier-free: other threads go on while one is descheduled
            result = shared_sweeps(*args, threads, out, measure=out is not None)
        else:
            with threads_for(self.n_spins):
                cb.checkerboard_sweeps(*args)
                result = None if out is None else tuple(map(int, cb.measure_and_merge(self._sub, out)))
        self.sweeps_done += n
        return result

    def spins(self, out=None):
        if out is None:
            out = np.empty((self.size, self.size), dtype=np.int8)
        return cb.merge(self._sub, out)

    def bond_sum_and_magnetisation(self):
        with threads_for(self.n_spins):
            b, m = cb.bond_sum_and_magnetisation(self._sub)
        return int(b), int(m)
