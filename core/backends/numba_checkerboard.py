"""Metropolis and heat-bath samplers on the sublattice-split checkerboard layout."""
from __future__ import annotations

import numpy as np

from ..kernels import PARALLEL_MIN_SITES
from ..kernels import checkerboard as cb
from ..kernels.rng import stream_key
from ..params import ModelParams
from .base import Sampler

_TABLES = {"metropolis": cb.metropolis_table, "heatbath": cb.heatbath_table}
_KERNELS = {"metropolis": cb.metropolis_sweeps, "heatbath": cb.heatbath_sweeps}


class CheckerboardSampler(Sampler):
    def __init__(self, params: ModelParams, spins: np.ndarray):
        super().__init__(params)
        self._key = stream_key(self.params.seed, 1)
        parallel, serial = _KERNELS[self.params.algorithm]
        self._sweeps = parallel if self.n_spins >= PARALLEL_MIN_SITES else serial
        self.load(spins)
        self._on_params()

    def _on_params(self) -> None:
        p = self.params
        self._thr = _TABLES[p.algorithm](p.beta, p.coupling, p.field)

    def load(self, spins: np.ndarray) -> None:
        self._sub = cb.split(np.ascontiguousarray(spins, dtype=np.int8))

    def sweep(self, n: int) -> int:
        self._sweeps(self._sub, self._thr, self._key, self.sweeps_done, n)
        self.sweeps_done += n
        return n * self.n_spins

    def spins(self, out=None):
        if out is None:
            out = np.empty((self.size, self.size), dtype=np.int8)
        return cb.merge(self._sub, out)

    def bond_sum_and_magnetisation(self):
        b, m = cb.bond_sum_and_magnetisation(self._sub)
        return int(b), int(m)
