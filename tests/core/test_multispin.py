"""The multi-spin coded Metropolis kernel (core/kernels/multispin.py).

Layout and neighbour logic against a plain int8 lattice (np.roll), the bit-plane acceptance
against a lane-by-lane reference of the same specification (bit-identical), and the physics
against an independent int8 Metropolis and Onsager's exact energy.
"""
import math

import numba
import numpy as np
import pytest
from numba import njit
from scipy.special import ellipk

from isinglab.core.kernels import multispin as ms
from isinglab.core.kernels.rng import draw64

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
KEY = np.uint64(0x5EED1234ABCD)


def random_spins(L, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(L, L))


def colour_mask(L, colour):
    return np.add.outer(np.arange(L), np.arange(L)) % 2 == colour


def reference_classes(spins, colour):
    """Class 2 c + (s == +1) with c anti-aligned neighbours, -1 off the colour."""
    s = spins.astype(np.int64)
    nn = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
    cls = 2 * ((4 - s * nn) // 2) + (s > 0)
    return np.where(colour_mask(len(s), colour), cls, -1).astype(np.int8)


def onsager_energy(T):
    """Energy per spin of the infinite square lattice (J = 1, h = 0)."""
    K = 1.0 / T
    k = 2.0 * math.sinh(2 * K) / math.cosh(2 * K) ** 2
    return -(1.0 / math.tanh(2 * K)) * (1 + 2 / math.pi * (2 * math.tanh(2 * K) ** 2 - 1) * ellipk(k * k))


def mean_and_error(x, n_bins=40):
    """Mean and its error from n_bins bin means (bins far longer than the autocorrelation)."""
    bins = x[: len(x) // n_bins * n_bins].reshape(n_bins, -1).mean(axis=1)
    return bins.mean(), bins.std(ddof=1) / math.sqrt(n_bins)


# ---------------------------------------------------------------- references

@njit(inline="always", cache=True)
def neighbour_sum(spins, i, j):
    L = spins.shape[0]
    return spins[(i - 1) % L, j] + spins[(i + 1) % L, j] + spins[i, (j - 1) % L] + spins[i, (j + 1) % L]


@njit(cache=True)
def lane_reference_sweeps(spins, table, key, sweep0, n_sweeps):
    """The kernel's specification one site at a time: every random site reads its full 32-bit r
    from bit x % 64 of the 32 plane draws of its word, and flips iff r < p."""
    L = spins.shape[0]
    W = L // 128
    for t in range(n_sweeps):
        for colour in range(2):
            ctr0 = (2 * (sweep0 + t) + colour) * L * W
            for i in range(L):
                for x in range(L // 2):
                    j = 2 * x + (i + colour) % 2
                    s = spins[i, j]
                    nn = neighbour_sum(spins, i, j)
                    q = table[4 - s * nn + (1 if s > 0 else 0)]       # 2 c + (s == +1)
                    if q == ms.ALWAYS:
                        spins[i, j] = -s
                        continue
                    r = np.uint64(0)
                    for b in range(32):
                        d = draw64(key, np.uint64(((ctr0 + i * W + x // 64) * 32) + b))
                        r = (r << np.uint64(1)) | ((d >> np.uint64(x % 64)) & np.uint64(1))
                    if r < q:
                        spins[i, j] = -s


@njit(cache=True)
def reference_metropolis(spins, beta, coupling, field, n_sweeps, seed, e_out, m_out):
    """Independent plain checkerboard Metropolis: numpy's generator, exp per site; energy and
    magnetisation per spin after every sweep into e_out, m_out (when long enough)."""
    np.random.seed(seed)
    L = spins.shape[0]
    for t in range(n_sweeps):
        for colour in range(2):
            for i in range(L):
                for j in range((i + colour) % 2, L, 2):
                    nn = neighbour_sum(spins, i, j)
                    dE = 2.0 * spins[i, j] * (coupling * nn + field)
                    if dE <= 0.0 or np.random.random() < math.exp(-beta * dE):
                        spins[i, j] = -spins[i, j]
        if t < len(e_out):
            bonds = 0
            mag = 0
            for i in range(L):
                for j in range(L):
                    bonds += spins[i, j] * (spins[(i + 1) % L, j] + spins[i, (j + 1) % L])
                    mag += spins[i, j]
            e_out[t] = (-coupling * bonds - field * mag) / (L * L)
            m_out[t] = mag / (L * L)


def run_reference(spins, T, coupling, field, n_therm, n_meas, seed=11):
    spins = spins.copy()
    e, m = np.empty(n_meas), np.empty(n_meas)
    reference_metropolis(spins, 1.0 / T, coupling, field, n_therm, seed, e[:0], m[:0])
    reference_metropolis(spins, 1.0 / T, coupling, field, n_meas, seed + 1, e, m)
    return e, m


def run_multispin(spins, T, coupling, field, n_therm, n_meas, key=KEY):
    black, white = ms.pack(spins)
    table = ms.flip_probability_table(1.0 / T, coupling, field)
    ms.multispin_sweeps(black, white, table, key, 0, n_therm)
    n = spins.size
    e, m = np.empty(n_meas), np.empty(n_meas)
    for t in range(n_meas):
        ms.multispin_sweeps(black, white, table, key, n_therm + t, 1)
        bonds, mag = ms.bond_sum_and_magnetisation_packed(black, white)
        e[t] = (-coupling * bonds - field * mag) / n
        m[t] = mag / n
    return e, m


def assert_agree(a, b, label):
    (ma, sa), (mb, sb) = a, b
    assert sa <= 0.002 and sb <= 0.002, f"{label}: error bars too wide ({sa:.4f}, {sb:.4f})"
    assert abs(ma - mb) < 4 * math.hypot(sa, sb), f"{label}: {ma:.5f} +- {sa:.5f} vs {mb:.5f} +- {sb:.5f}"


def neel(L):
    return np.where(colour_mask(L, 0), 1, -1).astype(np.int8)


# ---------------------------------------------------------------- layout and word logic

@pytest.mark.parametrize("L", [128, 256, 384])
def test_pack_unpack_round_trip(L):
    spins = random_spins(L, L)
    black, white = ms.pack(spins)
    assert black.shape == white.shape == (L, L // 128) and black.dtype == np.uint64
    assert np.array_equal(ms.unpack(black, white), spins)
    out = np.zeros((L, L), np.int8)
    assert ms.unpack(black, white, out) is out and np.array_equal(out, spins)


def test_pack_layout_bits():
    """Bit b of word k in row i is the site j = 2 (64 k + b) + p, p = i % 2 (black) or 1 - i % 2."""
    spins = -np.ones((128, 128), np.int8)
    spins[3, 2 * (64 * 0 + 5) + 1] = 1           # row 3, black lane x = 5
    spins[4, 2 * (64 * 0 + 63) + 1] = 1          # row 4, white lane x = 63
    black, white = ms.pack(spins)
    assert black[3, 0] == np.uint64(1 << 5) and not black[np.arange(128) != 3].any()
    assert white[4, 0] == np.uint64(1 << 63) and not white[np.arange(128) != 4].any()


def test_pack_rejects_bad_size():
    with pytest.raises(AssertionError):
        ms.pack(np.ones((64, 64), np.int8))


@pytest.mark.parametrize("L", [128, 256, 384])
@pytest.mark.parametrize("colour", [0, 1])
def test_neighbour_classes_match_plain_lattice(L, colour):
    for seed in range(3):
        spins = random_spins(L, 100 * seed + L + colour)
        black, white = ms.pack(spins)
        assert np.array_equal(ms.neighbour_classes(black, white, colour), reference_classes(spins, colour))


@pytest.mark.parametrize("L", [128, 256, 384])
def test_bond_sum_and_magnetisation(L):
    for spins in (random_spins(L, 7), np.ones((L, L), np.int8), neel(L)):
        s = spins.astype(np.int64)
        black, white = ms.pack(spins)
        bonds, mag = ms.bond_sum_and_magnetisation_packed(black, white)
        assert bonds == (s * (np.roll(s, -1, 0) + np.roll(s, -1, 1))).sum() and mag == s.sum()


def test_flip_probability_table():
    beta, J, h = 0.3, 1.0, 0.2
    table = ms.flip_probability_table(beta, J, h)
    for c in range(5):
        for up, s in ((0, -1.0), (1, 1.0)):
            dE = 2 * J * (4 - 2 * c) + 2 * h * s
            want = 1 << 32 if dE <= 0 else round(math.exp(-beta * dE) * 2**32)
            assert int(table[2 * c + up]) == want
    anti = ms.flip_probability_table(beta, -J, 0.0)
    ferro = ms.flip_probability_table(beta, J, 0.0)
    assert all(anti[2 * c + u] == ferro[2 * (4 - c) + u] for c in range(5) for u in range(2))


# ---------------------------------------------------------------- the update

@pytest.mark.parametrize("L, T, J, h", [(128, T_C, 1.0, 0.0), (256, 3.0, 1.0, 0.1),
                                        (384, 1.5, -1.0, 0.0), (256, 2.0, -1.0, 0.3)])
def test_kernel_is_bit_identical_to_lane_reference(L, T, J, h):
    spins = random_spins(L, 3)
    table = ms.flip_probability_table(1.0 / T, J, h)
    black, white = ms.pack(spins)
    ms.multispin_sweeps(black, white, table, KEY, 4, 3)
    lane_reference_sweeps(spins, table, KEY, 4, 3)
    assert np.array_equal(ms.unpack(black, white), spins)


def test_reproducible_and_thread_count_independent():
    spins = random_spins(512, 5)
    table = ms.flip_probability_table(1.0 / T_C, 1.0, 0.1)

    def run(key, threads, splits=(5,)):
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            black, white = ms.pack(spins)
            done = 0
            for n in splits:
                ms.multispin_sweeps(black, white, table, key, done, n)
                done += n
            return ms.unpack(black, white)
        finally:
            numba.set_num_threads(before)

    one = run(KEY, 1)
    assert np.array_equal(one, run(KEY, 1))
    assert np.array_equal(one, run(KEY, min(2, numba.config.NUMBA_NUM_THREADS)))
    assert np.array_equal(one, run(KEY, 1, splits=(3, 2)))       # sweep0 continues the stream
    assert not np.array_equal(one, run(KEY + np.uint64(1), 1))


def test_infinite_temperature_flips_every_spin():
    spins = random_spins(256, 9)
    black, white = ms.pack(spins)
    ms.multispin_sweeps(black, white, ms.flip_probability_table(0.0, 1.0, 0.5), KEY, 0, 1)
    assert np.array_equal(ms.unpack(black, white), -spins)


@pytest.mark.parametrize("beta", [0.006, 0.0866, 0.288, 0.726])    # p = e^-8 beta ~ .95 .5 .1 .003
def test_acceptance_rate_is_the_flip_probability(beta):
    """All up, h = 0: every black site has c = 0, so the black half-sweep flips each with
    p = exp(-8 beta), independently."""
    L = 256
    p = math.exp(-8 * beta)
    flipped = []
    for key in range(4):
        black, white = ms.pack(np.ones((L, L), np.int8))
        ms.multispin_sweeps(black, white, ms.flip_probability_table(beta, 1.0, 0.0), np.uint64(key), 0, 1)
        flipped.append(ms.unpack(black, white)[colour_mask(L, 0)] == -1)
    frac = np.mean(flipped)
    assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / np.size(flipped))


@pytest.mark.parametrize("start, J, h", [("up", 1.0, 0.0), ("down", 1.0, 0.1), ("neel", -1.0, 0.0)])
def test_ground_state_is_stable_at_low_temperature(start, J, h):
    L = 128
    spins = {"up": np.ones((L, L), np.int8), "down": -np.ones((L, L), np.int8), "neel": neel(L)}[start]
    black, white = ms.pack(spins)
    ms.multispin_sweeps(black, white, ms.flip_probability_table(50.0, J, h), KEY, 0, 200)
    assert np.array_equal(ms.unpack(black, white), spins)


# ---------------------------------------------------------------- physics

@pytest.mark.parametrize("T, start", [(3.0, "random"), (2.0, "up")])
def test_energy_matches_reference_and_onsager(T, start):
    L = 128
    spins = random_spins(L, 1) if start == "random" else np.ones((L, L), np.int8)
    e_ms, _ = run_multispin(spins, T, 1.0, 0.0, 1000, 20000)
    e_ref, _ = run_reference(spins, T, 1.0, 0.0, 500, 6000)
    ms_stat = mean_and_error(e_ms)
    assert_agree(ms_stat, mean_and_error(e_ref), f"energy at T = {T}")
    # far from T_c the L = 128 lattice differs from the infinite one by << the error bar
    assert abs(ms_stat[0] - onsager_energy(T)) < 4 * ms_stat[1]


def test_field_magnetises_like_reference():
    L, T, h = 128, 3.0, 0.1
    spins = random_spins(L, 2)
    e_ms, m_ms = run_multispin(spins, T, 1.0, h, 1000, 20000)
    e_ref, m_ref = run_reference(spins, T, 1.0, h, 500, 6000)
    m_stat = mean_and_error(m_ms)
    assert m_stat[0] > 20 * m_stat[1] > 0
    assert_agree(m_stat, mean_and_error(m_ref), "magnetisation at h = 0.1")
    assert_agree(mean_and_error(e_ms), mean_and_error(e_ref), "energy at h = 0.1")


def test_antiferromagnet_energy_equals_ferromagnet():
    """On the bipartite lattice J -> -J with the gauge s -> -s on one sublattice maps the models
    onto each other at h = 0: equal energies (from the Neel and the all-up states)."""
    L, T = 128, 2.0
    ferro = mean_and_error(run_multispin(np.ones((L, L), np.int8), T, 1.0, 0.0, 1000, 20000)[0])
    anti = mean_and_error(run_multispin(neel(L), T, -1.0, 0.0, 1000, 20000, key=np.uint64(99))[0])
    assert_agree(anti, ferro, "J = -1 vs J = +1 energy")
