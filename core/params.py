"""Model parameters and their validation: every entry point checks input here."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

from .errors import IsingLabError

ALGORITHMS = ("metropolis", "heatbath", "wolff", "swendsen-wang", "multispin")
CLUSTER_ALGORITHMS = ("wolff", "swendsen-wang")
MAX_SIZE = 65536


@dataclass(frozen=True)
class ModelParams:
    """L x L periodic square lattice with H = -J sum_<ij> s_i s_j - h sum_i s_i at temperature T."""

    size: int = 128
    temperature: float = 2.269185314213022
    coupling: float = 1.0
    field: float = 0.0
    algorithm: str = "metropolis"
    seed: int = 0

    @property
    def beta(self) -> float:
        return 1.0 / self.temperature

    def with_(self, **changes) -> "ModelParams":
        return replace(self, **changes)

    def validated(self) -> "ModelParams":
        check_temperature(self.temperature)
        check_finite("coupling J", self.coupling)
        check_finite("field h", self.field)
        check_algorithm(self.algorithm)
        check_size(self.size, self.algorithm)
        check_seed(self.seed)
        if self.coupling == 0.0 and self.algorithm in CLUSTER_ALGORITHMS:
            raise IsingLabError(f"{self.algorithm} needs a non-zero coupling J")
        if self.field != 0.0 and self.algorithm in CLUSTER_ALGORITHMS:
            raise IsingLabError(
                f"{self.algorithm} does not support a field (h = {self.field:g}); "
                "use metropolis, heatbath or multispin"
            )
        return self


def check_finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise IsingLabError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise IsingLabError(f"{name} must be finite, got {v}")
    return v


def check_temperature(t) -> float:
    t = check_finite("temperature T", t)
    if t <= 0.0:
        raise IsingLabError(f"temperature T must be > 0, got {t:g}")
    return t


def check_algorithm(name: str) -> str:
    if name not in ALGORITHMS:
        raise IsingLabError(f"unknown algorithm {name!r}; choose one of: {', '.join(ALGORITHMS)}")
    return name


def check_seed(seed) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0 or seed >= 2**63:
        raise IsingLabError(f"seed must be an integer in [0, 2^63), got {seed!r}")
    return seed


def check_size(size, algorithm: str = "metropolis") -> int:
    if not isinstance(size, int) or isinstance(size, bool):
        raise IsingLabError(f"lattice size L must be an integer, got {size!r}")
    if size < 2:
        raise IsingLabError(f"lattice size L must be at least 2, got {size}")
    if size > MAX_SIZE:
        raise IsingLabError(f"lattice size L = {size} is larger than the maximum {MAX_SIZE}")
    if algorithm in ("metropolis", "heatbath") and size % 2:
        raise IsingLabError(f"{algorithm} uses a checkerboard update and needs an even L, got {size}")
    if algorithm == "multispin" and size % 128:
        raise IsingLabError(
            f"multispin packs 64 spins of each sublattice row per word and needs L divisible by 128, got {size}"
        )
    need = lattice_bytes(size, algorithm)
    avail = available_memory_bytes()
    if avail is not None and need > 0.5 * avail:
        raise IsingLabError(
            f"an L = {size} lattice needs about {need / 2**30:.1f} GiB with {algorithm}, "
            f"more than half of the {avail / 2**30:.1f} GiB available"
        )
    return size


def lattice_bytes(size: int, algorithm: str) -> int:
    """Working memory of one sampler: spins plus the algorithm's scratch arrays."""
    n = size * size
    scratch = {"wolff": 12, "swendsen-wang": 4, "multispin": 0.25}.get(algorithm, 0)
    return int(n * (1 + scratch) + n)  # + one snapshot copy


def available_memory_bytes():
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
