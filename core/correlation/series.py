"""A stream of snapshots of one (L, T, J, h), measured and accumulated until `result()`."""
from __future__ import annotations

import numpy as np

from ..errors import IsingLabError
from .accumulate import MIN_SAMPLES, BlockAccumulator
from .analysis import CorrelationResult, analyse
from .geometry import Layout
from .snapshot import _spins_array, measure


class CorrelationSeries:
    """Snapshots of one (L, T, J, h) accumulated for `result()`; not thread-safe."""

    def __init__(self, size: int, radial: bool = True, max_blocks: int = 64):
        self.layout = Layout(int(size), bool(radial))
        self.blocks = BlockAccumulator(self.layout, max_blocks)

    @property
    def n(self) -> int:
        return self.blocks.n

    def add(self, spins, coupling: float = 1.0) -> None:
        s = _spins_array(spins)
        if s.shape[0] != self.layout.size:
            raise IsingLabError(f"configuration of L = {s.shape[0]} added to an L = {self.layout.size} series")
        self.blocks.add(measure(s, coupling, self.layout.radial))

    def add_row(self, row: np.ndarray) -> None:
        self.blocks.add(row)

    def result(self, temperature: float, coupling: float = 1.0, field: float = 0.0) -> CorrelationResult:
        if self.n < MIN_SAMPLES:
            raise IsingLabError(f"{self.n} snapshots are too few for correlation estimates (need {MIN_SAMPLES})")
        b = self.blocks
        return analyse(b.block_means(), self.layout, temperature, coupling, field,
                       block_size=b.block_size, tau=b.tau(), n_samples=b.n)
