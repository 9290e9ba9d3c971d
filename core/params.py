"""Model parameters and their validation: every entry point checks input here.

The ranges keep every observable finite: with T in [T_MIN, T_MAX], |J| and |h| at most
COUPLING_MAX and FIELD_MAX and T/|J| at most MAX_T_OVER_J, the Boltzmann factors, C = N var(e)/T^2,
chi = N var(|m|)/T and the exact references (Kaufman, Onsager, enumeration) are all finite numbers
(T = T_c exactly, where c and xi diverge, is the one documented exception). Work and memory limits
of a whole request live in core/limits.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .errors import IsingLabError
from .limits import available_memory_bytes

ALGORITHMS = ("metropolis", "heatbath", "wolff", "swendsen-wang", "multispin")
CLUSTER_ALGORITHMS = ("wolff", "swendsen-wang")
MAX_SIZE = 65536
MIN_SIZE = 4  # sampled lattices; on L = 2 every neighbour pair is a double bond (Metropolis is wrong there)
EXACT_MIN_SIZE = 2  # the exact references accept the degenerate L = 2, 3 tori
MULTISPIN_MULTIPLE = 128
T_MIN, T_MAX = 1e-3, 1e3  # temperature, units of J/k_B with |J| = 1 (k_B = 1)
COUPLING_MAX = 1e3  # |J|
FIELD_MAX = 1e3  # |h|
MAX_T_OVER_J = 1e6  # for J != 0: a weaker coupling is numerically J = 0 (use J = 0 for free spins)
MAX_SEED = 2**63


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
        check_coupling(self.coupling)
        check_field(self.field)
        check_ratio(self.temperature, self.coupling)
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
    if not T_MIN <= t <= T_MAX:
        raise IsingLabError(f"temperature T must be between {T_MIN:g} and {T_MAX:g} "
                            f"(where every observable is finite), got {t:g}")
    return t


def check_coupling(j) -> float:
    j = check_finite("coupling J", j)
    if abs(j) > COUPLING_MAX:
        raise IsingLabError(f"coupling J must be between -{COUPLING_MAX:g} and {COUPLING_MAX:g}, got {j:g}")
    return j


def check_field(h) -> float:
    h = check_finite("field h", h)
    if abs(h) > FIELD_MAX:
        raise IsingLabError(f"field h must be between -{FIELD_MAX:g} and {FIELD_MAX:g}, got {h:g}")
    return h


def check_ratio(t: float, j: float) -> None:
    """T/|J| at most MAX_T_OVER_J when J != 0 (T and J already checked)."""
    if j != 0.0 and t > MAX_T_OVER_J * abs(j):
        raise IsingLabError(f"T/|J| = {t / abs(j):.3g} is larger than the maximum {MAX_T_OVER_J:g} "
                            f"(J = {j:g} is numerically zero at T = {t:g}; use J = 0 for free spins)")


def check_model(temperature, coupling=1.0, field=0.0) -> tuple[float, float, float]:
    """(T, J, h) checked together: each in its range and T/|J| bounded."""
    t, j, h = check_temperature(temperature), check_coupling(coupling), check_field(field)
    check_ratio(t, j)
    return t, j, h


def check_algorithm(name: str) -> str:
    if name not in ALGORITHMS:
        raise IsingLabError(f"unknown algorithm {name!r}; choose one of: {', '.join(ALGORITHMS)}")
    return name


def check_seed(seed) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0 or seed >= MAX_SEED:
        raise IsingLabError(f"seed must be an integer in [0, 2^63), got {seed!r}")
    return seed


def check_size(size, algorithm: str = "metropolis") -> int:
    """L for `algorithm` (one of ALGORITHMS; anything else, e.g. "exact", gets only the range
    EXACT_MIN_SIZE..MAX_SIZE): the kernel's constraints and the memory of one sampler."""
    if not isinstance(size, int) or isinstance(size, bool):
        raise IsingLabError(f"lattice size L must be an integer, got {size!r}")
    lo = MIN_SIZE if algorithm in ALGORITHMS else EXACT_MIN_SIZE
    if size < lo:
        raise IsingLabError(f"lattice size L must be at least {lo}, got {size}")
    if size > MAX_SIZE:
        raise IsingLabError(f"lattice size L = {size} is larger than the maximum {MAX_SIZE}")
    if algorithm in ("metropolis", "heatbath") and size % 2:
        raise IsingLabError(f"{algorithm} uses a checkerboard update and needs an even L, got {size}")
    if algorithm == "multispin" and size % MULTISPIN_MULTIPLE:
        raise IsingLabError(
            f"multispin packs 64 spins of each sublattice row per word and needs L divisible by "
            f"{MULTISPIN_MULTIPLE}, got {size}"
        )
    if algorithm in ALGORITHMS:
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
