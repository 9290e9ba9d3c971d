"""The multi-spin coded Metropolis sampler: 64 spins per machine word, bitwise neighbour counts."""
from __future__ import annotations

import numpy as np

from ..kernels import multispin as ms
from ..kernels.rng import stream_key
from ..params import ModelParams
from .base import Sampler


class MultispinSampler(Sampler):
    def __init__(self, params: ModelParams, spins: np.ndarray):
        super().__init__(params)
        self._key = stream_key(self.params.seed, 3)
        self.load(spins)
        self._on_params()

    def _on_params(self) -> None:
        p = self.params
        self._table = ms.flip_probability_table(p.beta, p.coupling, p.field)

    def load(self, spins: np.ndarray) -> None:
        self._black, self._white = ms.pack(np.ascontiguousarray(spins, dtype=np.int8))

    def sweep(self, n: int) -> int:
        ms.multispin_sweeps(self._black, self._white, self._table, self._key, self.sweeps_done, n)
        self.sweeps_done += n
        return n * self.n_spins

    def spins(self, out=None):
        return ms.unpack(self._black, self._white, out)

    def bond_sum_and_magnetisation(self):
        b, m = ms.bond_sum_and_magnetisation_packed(self._black, self._white)
        return int(b), int(m)
