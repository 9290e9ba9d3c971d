"""Measuring the lattice (energy, magnetisation) and summarising a run's time series.

Model: H = -J sum_<ij> s_i s_j - h sum_i s_i on an L x L periodic lattice, N = L^2 spins in
{+1, -1} (int8). Each of the 2N bonds is counted once:
bond_sum = sum_i s_i (s_right(i) + s_down(i)), so E = -J bond_sum - h M with M = sum_i s_i.
On L = 2 the right and left neighbours coincide, and that bond appears twice (as on any L).

Conventions of `summarise` (shared with the exact-results module), per measurement
e = E/N and m = M/N, <.> the time average:
  e      = <e>
  m      = <m>
  m_abs  = <|m|>
  m2     = <m^2>
  m4     = <m^4>
  c      = N (<e^2> - <e>^2) / T^2          specific heat per spin
  chi    = N (<m^2> - <|m|>^2) / T          susceptibility per spin, finite-lattice form: <m> = 0
                                             on a finite lattice at h = 0, so |m| replaces m
  u4     = 1 - <m^4> / (3 <m^2>^2)          Binder cumulant: 2/3 ordered, 0 Gaussian (disordered);
                                             defined as 0 when <m^2> = 0
Units: k_B = 1. Simple averages carry binned errors; c, chi and u4 carry block-jackknife errors.
Both use blocks of ~10 tau_int samples, so the error bars include the autocorrelation.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .kernels import threads_for  # importing kernels also selects a thread-safe layer
from .errors import IsingLabError
from .params import check_temperature
from .stats import MAX_JACKKNIFE_BLOCKS, binned_mean, choose_blocks, jackknife, tau_int


@njit(nogil=True, cache=True, parallel=True)
def _bond_sum_and_magnetisation(spins):
    """(bond_sum, M) of a 2-D periodic +-1 lattice, int64 sums, parallel over rows.

    The last column is handled outside the inner loop, so the hot loop has no modulo and
    vectorises; the row below wraps once per row.
    """
    rows, cols = spins.shape
    bonds = 0
    mag = 0
    for i in prange(rows):
        row = spins[i]
        down = spins[i + 1] if i + 1 < rows else spins[0]
        b = np.int64(0)
        m = np.int64(0)
        for j in range(cols - 1):
            s = np.int64(row[j])
            b += s * (np.int64(row[j + 1]) + np.int64(down[j]))
            m += s
        s = np.int64(row[cols - 1])
        b += s * (np.int64(row[0]) + np.int64(down[cols - 1]))
        m += s
        bonds += b
        mag += m
    return bonds, mag


def bond_sum_and_magnetisation(spins):
    """(bond_sum, M); small lattices run on one thread, whose start-up would otherwise dominate."""
    with threads_for(spins.size):
        return _bond_sum_and_magnetisation(spins)


def per_spin(bonds: int, mag: int, n: int, coupling: float, field: float) -> tuple[float, float]:
    """(E/N, M/N) from the bond sum and magnetisation: E = -J bond_sum - h M."""
    return (-coupling * bonds - field * mag) / n, mag / n


def energy_magnetisation(spins, coupling: float = 1.0, field: float = 0.0) -> tuple[float, float]:
    """(E/N, M/N) of a periodic +-1 lattice."""
    return per_spin(*bond_sum_and_magnetisation(spins), spins.size, coupling, field)


def energy_per_spin(spins, coupling: float = 1.0, field: float = 0.0) -> float:
    return energy_magnetisation(spins, coupling, field)[0]


def _entry(mean: float, err: float) -> dict:
    return {"mean": float(mean), "err": float(err)}


def _u4(m2: float, m4: float) -> float:
    return 1.0 - m4 / (3.0 * m2 * m2) if m2 > 0.0 else 0.0


def summarise(e, m, size: int, temperature: float) -> dict:
    """Means and errors of the observables of one run (see the module docstring).

    e, m: per-spin energy and magnetisation, one entry per measurement. Returns a JSON-ready
    dict of {"mean", "err"} entries plus "tau_int" ({"e", "m_abs"}) and "samples".
    """
    e = np.asarray(e, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    if e.ndim != 1 or e.shape != m.shape:
        raise IsingLabError(f"e and m must be 1-D series of equal length, got {e.shape} and {m.shape}")
    n = e.size
    if n < 2:
        raise IsingLabError(f"need at least 2 measurements to estimate errors, got {n}")
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(m))):
        raise IsingLabError("the energy or magnetisation series contains nan or inf")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise IsingLabError(f"lattice size L must be a positive integer, got {size!r}")
    t = check_temperature(temperature)
    spins = float(size) ** 2

    series = {"e": e, "m": m, "m_abs": np.abs(m), "m2": m * m, "m4": (m * m) ** 2}
    taus = {k: tau_int(v).tau for k, v in series.items()}  # one FFT each, reused for blocking
    out = {}
    for k, v in series.items():
        out[k] = _entry(*binned_mean(v, choose_blocks(n, taus[k])))

    def blocks(*names):
        return choose_blocks(n, max(taus[k] for k in names), max_blocks=MAX_JACKKNIFE_BLOCKS)

    # Variances are shift-invariant: centring on the first sample avoids cancellation in
    # <x^2> - <x>^2 and makes a constant series give exactly 0.
    de = e - e[0]
    out["c"] = _entry(*jackknife(lambda a, b: spins * (b - a * a) / t**2, [de, de * de], blocks("e")))
    # m^2 = |m|^2, so <m^2> - <|m|>^2 is the variance of |m|.
    da = series["m_abs"] - series["m_abs"][0]
    out["chi"] = _entry(*jackknife(lambda a, b: spins * (b - a * a) / t, [da, da * da], blocks("m_abs")))
    out["u4"] = _entry(*jackknife(_u4, [series["m2"], series["m4"]], blocks("m2", "m4")))

    out["tau_int"] = {"e": float(taus["e"]), "m_abs": float(taus["m_abs"])}
    out["samples"] = int(n)
    return out


class MeasurementBuffer:
    """Growing (e, m) series: preallocated arrays doubled when full (amortised O(1) append).

    `.e` and `.m` are views of the filled part; they go stale when the buffer grows or is
    cleared, so copy them to keep them.
    """

    def __init__(self, capacity: int = 1024):
        capacity = max(1, int(capacity))
        self._e = np.empty(capacity, dtype=np.float64)
        self._m = np.empty(capacity, dtype=np.float64)
        self._n = 0

    def _reserve(self, needed: int) -> None:
        if needed <= self._e.size:
            return
        cap = max(needed, 2 * self._e.size)
        for name in ("_e", "_m"):
            grown = np.empty(cap, dtype=np.float64)
            grown[: self._n] = getattr(self, name)[: self._n]
            setattr(self, name, grown)

    def append(self, e: float, m: float) -> None:
        self._reserve(self._n + 1)
        self._e[self._n] = e
        self._m[self._n] = m
        self._n += 1

    def extend(self, e, m) -> None:
        """Append many measurements at once (equal-length 1-D sequences)."""
        e = np.asarray(e, dtype=np.float64).ravel()
        m = np.asarray(m, dtype=np.float64).ravel()
        if e.size != m.size:
            raise IsingLabError(f"e and m differ in length: {e.size} and {m.size}")
        self._reserve(self._n + e.size)
        self._e[self._n : self._n + e.size] = e
        self._m[self._n : self._n + m.size] = m
        self._n += e.size

    @property
    def e(self) -> np.ndarray:
        return self._e[: self._n]

    @property
    def m(self) -> np.ndarray:
        return self._m[: self._n]

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        """Forget all measurements, keeping the allocated capacity."""
        self._n = 0

    def summarise(self, size: int, temperature: float) -> dict:
        return summarise(self.e, self.m, size, temperature)
