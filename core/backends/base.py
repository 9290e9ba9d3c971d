"""The sampler protocol every backend implements, and what they share."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..errors import IsingLabError
from ..observables import per_spin
from ..params import ModelParams

INITIAL_STATES = ("random", "up", "down")


def initial_spins(size: int, state: str = "random", seed: int = 0) -> np.ndarray:
    """An (L, L) int8 configuration: hot start from the seed, or a cold start."""
    if state == "random":
        rng = np.random.default_rng([seed, 0x1517])
        return (rng.integers(0, 2, size=(size, size), dtype=np.int8) * 2 - 1).astype(np.int8)
    if state == "up":
        return np.ones((size, size), dtype=np.int8)
    if state == "down":
        return -np.ones((size, size), dtype=np.int8)
    raise IsingLabError(f"unknown initial state {state!r}; choose one of: {', '.join(INITIAL_STATES)}")


class Sampler(ABC):
    """Owns one lattice and advances it. Not thread-safe: one thread drives it (the engine's).

    A "sweep" is N = L^2 attempted single-spin updates for the local algorithms, one full
    Swendsen-Wang update, and Wolff cluster flips that together flip at least N spins.
    """

    backend = "numba"

    def __init__(self, params: ModelParams):
        self.params = params.validated()
        self.sweeps_done = 0

    @property
    def size(self) -> int:
        return self.params.size

    @property
    def n_spins(self) -> int:
        return self.params.size ** 2

    def set_params(self, params: ModelParams) -> None:
        """Change T, J or h in place (size and algorithm changes need a new sampler)."""
        params = params.validated()
        if params.size != self.params.size or params.algorithm != self.params.algorithm:
            raise IsingLabError("size and algorithm changes need a new sampler")
        self.params = params
        self._on_params()

    def _on_params(self) -> None:
        """Recompute whatever depends on T, J, h."""

    @abstractmethod
    def sweep(self, n: int) -> int:
        """Advance n sweeps; return the number of spins flipped (or attempted, for local moves)."""

    @abstractmethod
    def spins(self, out: np.ndarray | None = None) -> np.ndarray:
        """A copy of the lattice as (L, L) int8 (written into out when given)."""

    @abstractmethod
    def bond_sum_and_magnetisation(self) -> tuple[int, int]:
        """(sum over the 2N bonds of s_i s_j, sum_i s_i)."""

    @abstractmethod
    def load(self, spins: np.ndarray) -> None:
        """Replace the lattice with the given (L, L) +-1 configuration."""

    def energy_magnetisation(self) -> tuple[float, float]:
        """Per-spin energy and magnetisation of the current configuration."""
        return self._per_spin(*self.bond_sum_and_magnetisation())

    def _per_spin(self, bonds: int, mag: int) -> tuple[float, float]:
        return per_spin(bonds, mag, self.n_spins, self.params.coupling, self.params.field)

    def advance(self, n: int, copy_spins: bool) -> tuple[int, float, float, np.ndarray | None]:
        """n sweeps, then (flips, e, m, a spins copy if asked for): one engine chunk.

        Backends may do the measurement and the copy as part of the sweeps (the checkerboard
        sampler makes them the last step of its shared sweeps).
        """
        flips = self.sweep(n)
        e, m = self.energy_magnetisation()
        return flips, e, m, (self.spins() if copy_spins else None)

    def last_cluster(self) -> np.ndarray | None:
        """Boolean (L, L) mask of the last cluster flipped (cluster algorithms only)."""
        return None

    @property
    def kernel_name(self) -> str:
        return f"{self.backend}:{self.params.algorithm}"
