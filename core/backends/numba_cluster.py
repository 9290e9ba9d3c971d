"""Wolff and Swendsen-Wang samplers (h = 0; J of either sign) on a plain (L, L) int8 lattice.

One Wolff sweep is a FIXED number of clusters n_c = N / <|C|>. After each parameter change the
sampler first runs calibration windows of WINDOW sweeps that each stop once N spins have flipped,
and measures the mean cluster size <|C|> per window; once two consecutive windows agree within
10% (the lattice has relaxed; at most MAX_WINDOWS windows) n_c is frozen. It must be frozen
because measuring whenever N spins have flipped is biased: that stopping rule favours states right
after a large cluster (at L = 4 it shifts e by 20%). One Swendsen-Wang sweep is one full update.
"""
from __future__ import annotations

import numpy as np

from ..kernels import swendsen_wang as sw
from ..kernels import wolff
from ..kernels.rng import stream_key
from ..observables import bond_sum_and_magnetisation
from ..params import ModelParams
from .base import Sampler

WINDOW = 10  # sweeps per calibration window
MAX_WINDOWS = 20


class ClusterSampler(Sampler):
    def __init__(self, params: ModelParams, spins: np.ndarray):
        super().__init__(params)
        self._rng = np.array([stream_key(self.params.seed, 2)], dtype=np.uint64)
        L = self.size
        if self.params.algorithm == "wolff":
            self._stack, self._mark, self._cluster_id = wolff.wolff_workspace(L)
        else:
            self._parent = sw.sw_workspace(L)
        self._has_cluster = False
        self._on_params()
        self.load(spins)

    def _on_params(self) -> None:
        self._window_means: list[float] = []  # mean cluster size per calibration window
        self._window = [0, 0, 0]  # clusters, flipped, sweeps of the window being filled
        self.clusters_per_sweep = None

    def load(self, spins: np.ndarray) -> None:
        self._spins = np.array(spins, dtype=np.int8, order="C", copy=True)
        self._has_cluster = False

    def sweep(self, n: int) -> int:
        p = self.params
        if p.algorithm == "wolff":
            flipped = self._wolff(n)
        else:
            sw.swendsen_wang_sweeps(self._spins, p.beta, p.coupling, n, self._rng, self._parent)
            flipped = n * self.n_spins  # every spin is updated (its cluster flips with p = 1/2)
        self.sweeps_done += n
        self._has_cluster = n > 0
        return int(flipped)

    def _wolff(self, n: int) -> int:
        p, ws = self.params, (self._rng, self._stack, self._mark, self._cluster_id)
        flipped = 0
        while self.clusters_per_sweep is None and n > 0:  # one sweep at a time: chunking-independent
            clusters, f = wolff.wolff_sweeps(self._spins, p.beta, p.coupling, 1, *ws)
            self._calibrate(clusters, f)
            flipped += f
            n -= 1
        if n > 0:
            flipped += wolff.wolff_clusters(self._spins, p.beta, p.coupling, n * self.clusters_per_sweep, *ws)
        return flipped

    def _calibrate(self, clusters: int, flipped: int) -> None:
        window = self._window
        window[0] += clusters
        window[1] += flipped
        window[2] += 1
        if window[2] < WINDOW:
            return
        means = self._window_means
        means.append(window[1] / window[0])
        self._window = [0, 0, 0]
        settled = len(means) >= 2 and abs(means[-1] - means[-2]) <= 0.1 * means[-1]
        if settled or len(means) >= MAX_WINDOWS:
            self.clusters_per_sweep = max(1, round(self.n_spins / means[-1]))

    def spins(self, out=None):
        if out is None:
            return self._spins.copy()
        out[...] = self._spins
        return out

    def bond_sum_and_magnetisation(self):
        b, m = bond_sum_and_magnetisation(self._spins)
        return int(b), int(m)

    def last_cluster(self):
        if self.params.algorithm != "wolff" or not self._has_cluster:
            return None
        return wolff.last_cluster_mask(self._mark, int(self._cluster_id[0]), self.size)
