"""Lattice measurements on hand-made configurations and run summaries of synthetic series."""
import json
import math
import time

import numba
import numpy as np
import pytest

from isinglab.core.errors import IsingLabError
from isinglab.core.observables import (
    MeasurementBuffer,
    bond_sum_and_magnetisation,
    energy_per_spin,
    summarise,
)

KEYS = ("e", "m", "m_abs", "m2", "m4", "c", "chi", "u4")


def reference(spins):
    """Slow but obvious: each site's right and down bonds via np.roll."""
    s = spins.astype(np.int64)
    bonds = np.sum(s * (np.roll(s, -1, axis=1) + np.roll(s, -1, axis=0)))
    return int(bonds), int(s.sum())


def up(size):
    return np.ones((size, size), dtype=np.int8)


@pytest.mark.parametrize("size", [1, 2, 3, 8, 17])
def test_all_up(size):
    n = size * size
    assert bond_sum_and_magnetisation(up(size)) == (2 * n, n)
    assert bond_sum_and_magnetisation(-up(size)) == (2 * n, -n)


@pytest.mark.parametrize("size", [2, 4, 16])
def test_checkerboard(size):
    i, j = np.indices((size, size))
    spins = np.where((i + j) % 2 == 0, 1, -1).astype(np.int8)
    assert bond_sum_and_magnetisation(spins) == (-2 * size * size, 0)


def test_stripes_of_width_one():
    # Alternating rows: horizontal bonds all satisfied, vertical ones all broken.
    spins = np.where(np.arange(8)[:, None] % 2 == 0, 1, -1).astype(np.int8) * up(8)
    assert bond_sum_and_magnetisation(spins) == (0, 0)
    assert bond_sum_and_magnetisation(np.ascontiguousarray(spins.T)) == (0, 0)


@pytest.mark.parametrize("size", [2, 3, 8])
@pytest.mark.parametrize("where", [(0, 0), (-1, -1), (0, -1), (1, 1)])
def test_single_flipped_spin(size, where):
    spins = up(size)
    spins[where] = -1
    n = size * size
    assert bond_sum_and_magnetisation(spins) == (2 * n - 8, n - 2)


def test_two_by_two_counts_double_bonds():
    # L = 2: right and left neighbours are the same site, each appears twice as a bond.
    spins = np.array([[1, 1], [-1, -1]], dtype=np.int8)
    assert bond_sum_and_magnetisation(spins) == reference(spins) == (0, 0)
    spins = np.array([[1, -1], [1, 1]], dtype=np.int8)
    assert bond_sum_and_magnetisation(spins) == reference(spins) == (0, 2)


@pytest.mark.parametrize("size", [1, 2, 5, 16, 33, 128])
def test_random_configs_match_reference(size):
    rng = np.random.default_rng(size)
    for p_up in (0.1, 0.5, 0.9):
        spins = np.where(rng.random((size, size)) < p_up, 1, -1).astype(np.int8)
        assert bond_sum_and_magnetisation(spins) == reference(spins)


def test_energy_per_spin():
    spins = up(4)
    spins[1, 2] = -1
    bonds, mag = reference(spins)
    assert energy_per_spin(spins, 1.5, 0.25) == pytest.approx((-1.5 * bonds - 0.25 * mag) / 16)
    assert energy_per_spin(up(32)) == -2.0  # ground state, J = 1, h = 0


def test_kernel_speed_l1024():
    spins = np.where(np.random.default_rng(0).random((1024, 1024)) < 0.5, 1, -1).astype(np.int8)
    bond_sum_and_magnetisation(spins)  # compile / load from cache
    # One thread (the slowest case, and immune to other processes competing for cores).
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        best = min(_timed(bond_sum_and_magnetisation, spins) for _ in range(30))
    finally:
        numba.set_num_threads(threads)
    assert best < 1e-3


def _timed(f, *args):
    t0 = time.perf_counter()
    f(*args)
    return time.perf_counter() - t0


def test_summarise_constant_ordered_series():
    n, size, temp = 500, 16, 0.5
    e = np.full(n, -2.0)
    m = np.where(np.arange(n) % 7 < 3, 1.0, -1.0)  # |m| = 1 constant, sign flipping
    out = summarise(e, m, size, temp)
    assert out["u4"]["mean"] == pytest.approx(2.0 / 3.0, abs=1e-15) and out["u4"]["err"] == 0.0
    assert out["chi"] == {"mean": 0.0, "err": 0.0}
    assert out["c"] == {"mean": 0.0, "err": 0.0}
    assert out["e"] == {"mean": -2.0, "err": 0.0}
    assert out["m_abs"] == {"mean": 1.0, "err": 0.0}
    assert out["m2"]["mean"] == out["m4"]["mean"] == 1.0
    assert out["tau_int"]["e"] == 0.5 and out["samples"] == n
    json.dumps(out, allow_nan=False)  # plain floats, no nan


def test_summarise_gaussian_series():
    rng = np.random.default_rng(11)
    n, size, temp = 40_000, 8, 3.0
    spins = size * size
    var_e, sigma_m = 0.04, 0.2
    e = -1.0 + math.sqrt(var_e) * rng.standard_normal(n)
    m = sigma_m * rng.standard_normal(n)
    out = summarise(e, m, size, temp)

    def within(key, exact, k=4.0):
        assert abs(out[key]["mean"] - exact) < k * out[key]["err"], (key, out[key], exact)

    within("e", -1.0)
    within("m", 0.0)
    within("m_abs", sigma_m * math.sqrt(2 / math.pi))
    within("m2", sigma_m**2)
    within("m4", 3 * sigma_m**4)
    within("c", spins * var_e / temp**2)
    within("chi", spins * sigma_m**2 * (1 - 2 / math.pi) / temp)
    within("u4", 0.0)  # Gaussian magnetisation: Binder cumulant vanishes
    # Errors are honest, not inflated: iid data, so c's error ~ N sqrt(2/n) var / T^2.
    assert out["c"]["err"] == pytest.approx(spins * var_e * math.sqrt(2 / n) / temp**2, rel=0.3)
    assert abs(out["tau_int"]["e"] - 0.5) < 0.05
    assert set(KEYS) <= set(out)
    assert all(type(out[k]["mean"]) is float and type(out[k]["err"]) is float for k in KEYS)


def test_summarise_rejects_degenerate_input():
    with pytest.raises(IsingLabError, match="at least 2"):
        summarise([-1.0], [1.0], 8, 2.0)
    with pytest.raises(IsingLabError):
        summarise([], [], 8, 2.0)
    with pytest.raises(IsingLabError):
        summarise([1.0, 2.0], [1.0], 8, 2.0)
    with pytest.raises(IsingLabError):
        summarise([1.0, 2.0], [1.0, 0.5], 8, 0.0)
    out = summarise([-1.0, -1.5], [0.0, 0.0], 4, 2.0)  # tiny run, m = 0: still finite
    json.dumps(out, allow_nan=False)
    assert out["u4"]["mean"] == 0.0


def test_measurement_buffer():
    rng = np.random.default_rng(12)
    e, m = rng.standard_normal(5000), rng.standard_normal(5000)
    buf = MeasurementBuffer(capacity=4)
    for a, b in zip(e[:3000], m[:3000]):
        buf.append(a, b)
    buf.extend(e[3000:], m[3000:])
    assert len(buf) == 5000
    np.testing.assert_array_equal(buf.e, e)
    np.testing.assert_array_equal(buf.m, m)
    assert buf.summarise(8, 2.0) == summarise(e, m, 8, 2.0)
    capacity = buf._e.size
    assert 5000 <= capacity < 2 * 5000 + 4  # amortised doubling, not one slot per append
    buf.clear()
    assert len(buf) == 0 and buf.e.size == 0 and buf._e.size == capacity
    buf.append(-2.0, 1.0)
    assert buf.e.tolist() == [-2.0] and buf.m.tolist() == [1.0]
