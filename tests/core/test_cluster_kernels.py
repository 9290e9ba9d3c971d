"""Wolff and Swendsen-Wang kernels against exact enumeration, plus their bookkeeping.

Error bars come from bins of 100 successive measurements (cluster updates are autocorrelated),
every test asserts the error bar is small enough to mean something, and the chi-square machinery
is shown to reject a wrong temperature so that it can fail.
"""
import numpy as np
import pytest
from numba import njit
from scipy import stats

from isinglab.core.kernels.swendsen_wang import (
    sw_labels, sw_workspace, swendsen_wang_sweeps, swendsen_wang_strips)
from isinglab.core.kernels.wolff import (
    last_cluster_mask, wolff_clusters, wolff_sweeps, wolff_workspace)

TC = 2.269185314213022
BIN = 100


# ---------------------------------------------------------------- exact enumeration (small L)

def _all_states(L):
    """Every configuration of an L x L lattice as an int8 (2**(L*L), L, L) array."""
    codes = np.arange(2 ** (L * L), dtype=np.int64)
    bits = (codes[:, None] >> np.arange(L * L)) & 1
    return (1 - 2 * bits).astype(np.int8).reshape(-1, L, L)


def _energy(s, J):
    """Total energy of each state: every one of the 2N periodic bonds counted once."""
    s = s.astype(np.int64)
    bonds = s * (np.roll(s, -1, axis=-1) + np.roll(s, -1, axis=-2))
    return -J * bonds.sum(axis=(-1, -2))


def _stagger(L):
    return np.where(np.add.outer(np.arange(L), np.arange(L)) % 2 == 0, 1, -1)


def _order_parameter(s, J):
    """m (ferromagnet) or the staggered m (antiferromagnet), per configuration."""
    L = s.shape[-1]
    sign = _stagger(L) if J < 0 else 1
    return (s * sign).sum(axis=(-1, -2)) / (L * L)


def exact(L, T, J=1.0):
    """Exact <E>/N, <m^2> (staggered for J < 0) and {E: P(E)} on the periodic L x L lattice."""
    s = _all_states(L)
    e = _energy(s, J)
    w = np.exp(-(e - e.min()) / T)
    w /= w.sum()
    levels = np.unique(e)
    dist = {int(v): float(w[e == v].sum()) for v in levels}
    return (w * e).sum() / (L * L), (w * _order_parameter(s, J) ** 2).sum(), dist


# ---------------------------------------------------------------- sampling drivers

@njit
def _wolff_chain(spins, beta, J, n, clusters, state, stack, mark, cid, out):
    for k in range(n):
        wolff_clusters(spins, beta, J, clusters, state, stack, mark, cid)
        out[k] = spins


@njit
def _sw_chain(spins, beta, J, n, state, parent, out):
    for k in range(n):
        swendsen_wang_strips(spins, beta, J, 1, state, parent, 1)
        out[k] = spins


def sample(algorithm, L, T, J, n, seed=1, thermalize=500):
    """(n, L, L) snapshots, one per sweep, from an all-up start.

    A Wolff "sweep" (clusters until >= N spins flipped) ends at a state-dependent time: the
    crossing cluster is size-biased, and at L = 4 measuring there shifts <E>/N by ~0.04 (over
    100 sigma). So measurements use sweeps of a fixed cluster count, the mean count per sweep
    over the thermalisation sweeps, which samples the equilibrium distribution exactly.
    """
    spins = np.ones((L, L), np.int8)
    state = np.array([seed], np.uint64)
    out = np.empty((n, L, L), np.int8)
    if algorithm == "wolff":
        ws = wolff_workspace(L)
        n_clusters, _ = wolff_sweeps(spins, 1.0 / T, J, thermalize, state, *ws)
        clusters = max(1, round(n_clusters / thermalize))
        _wolff_chain(spins, 1.0 / T, J, n, clusters, state, *ws, out)
    else:
        parent = sw_workspace(L)
        swendsen_wang_sweeps(spins, 1.0 / T, J, thermalize, state, parent)
        _sw_chain(spins, 1.0 / T, J, n, state, parent, out)
    return out


def binned(x):
    """Mean and its standard error from bins of BIN successive values."""
    bins = x[: len(x) // BIN * BIN].reshape(-1, BIN).mean(axis=1)
    return bins.mean(), bins.std(ddof=1) / np.sqrt(len(bins))


def assert_close(x, exact_value, name, max_err):
    mean, err = binned(x)
    assert err <= max_err, f"{name}: error bar {err:.2g} above {max_err}"
    assert abs(mean - exact_value) <= 4 * err, (
        f"{name}: {mean:.5f} +- {err:.5f} vs exact {exact_value:.5f}")


# ---------------------------------------------------------------- thermodynamics vs exact

@pytest.mark.parametrize("algorithm", ["wolff", "sw"])
@pytest.mark.parametrize("J", [1.0, -1.0])
@pytest.mark.parametrize("T", [1.5, TC, 3.0])
def test_energy_and_order_parameter_match_enumeration(algorithm, J, T):
    L = 4
    e_exact, m2_exact, _ = exact(L, T, J)
    if J < 0:  # the bipartite gauge map: same energy as the ferromagnet, staggered m as m
        e_ferro, m2_ferro, _ = exact(L, T, 1.0)
        assert np.isclose(e_exact, e_ferro) and np.isclose(m2_exact, m2_ferro)
    snaps = sample(algorithm, L, T, J, 200_000, seed=1 if J > 0 else 2)
    assert_close(_energy(snaps, J) / L**2, e_exact, "e", 0.005)
    assert_close(_order_parameter(snaps, J) ** 2, m2_exact, "m^2", 0.005)


@pytest.mark.parametrize("algorithm", ["wolff", "sw"])
def test_frustrated_odd_antiferromagnet_matches_enumeration(algorithm):
    """L = 3 with J < 0 is not bipartite: the Wolff path that excludes members by mark."""
    L, T, J = 3, 1.5, -1.0
    e_exact, _, _ = exact(L, T, J)
    snaps = sample(algorithm, L, T, J, 100_000)
    assert_close(_energy(snaps, J) / L**2, e_exact, "e", 0.005)


# ---------------------------------------------------------------- energy histogram

def chi_square_p(energies, dist):
    """p-value of observed energy counts against exact probabilities; levels expecting fewer
    than 5 counts are pooled into one cell so the chi-square approximation holds."""
    n = len(energies)
    levels = np.array(sorted(dist))
    expected = n * np.array([dist[v] for v in levels])
    observed = np.array([(energies == v).sum() for v in levels])
    assert observed.sum() == n, "an energy outside the exact spectrum"
    rare = expected < 5
    exp_cells = np.append(expected[~rare], expected[rare].sum())
    obs_cells = np.append(observed[~rare], observed[rare].sum())
    chi2 = ((obs_cells - exp_cells) ** 2 / exp_cells).sum()
    return stats.chi2.sf(chi2, len(exp_cells) - 1)


def thinned_wolff_energies(T=TC, n=40_000, thin=5):
    # Chi-square assumes independent draws. Wolff at L = 4, T_c decorrelates the energy within
    # about one sweep, so keeping every 5th sweep leaves correlations of order exp(-5), well
    # below what 4e4 samples can resolve (checked below via the binned variance).
    snaps = sample("wolff", 4, T, 1.0, n * thin, seed=7)[::thin]
    return _energy(snaps, 1.0)


def test_wolff_energy_histogram_matches_enumeration():
    energies = thinned_wolff_energies()
    # Residual autocorrelation check: binned variance / naive variance ~ 2 tau_int ~ 1.
    _, err = binned(energies.astype(float))
    ratio = err**2 * len(energies) / energies.var()
    assert ratio < 1.3, f"thinned samples still correlated (2 tau_int ~ {ratio:.2f})"
    assert chi_square_p(energies, exact(4, TC)[2]) > 1e-4


def test_histogram_test_rejects_wrong_temperature():
    energies = thinned_wolff_energies(n=20_000)
    assert chi_square_p(energies, exact(4, 2.5)[2]) < 1e-4


# ---------------------------------------------------------------- reproducibility

def random_spins(L, seed):
    return np.where(np.random.default_rng(seed).random((L, L)) < 0.5, 1, -1).astype(np.int8)


def run_wolff(seed, L=16, sweeps=20):
    spins = random_spins(L, 0)
    wolff_sweeps(spins, 1 / TC, 1.0, sweeps, np.array([seed], np.uint64), *wolff_workspace(L))
    return spins


def run_sw(seed, L=16, sweeps=20, n_threads=0):
    spins = random_spins(L, 0)
    parent = sw_workspace(L)
    swendsen_wang_sweeps(spins, 1 / TC, 1.0, sweeps, np.array([seed], np.uint64), parent,
                         n_threads=n_threads)
    return spins, sw_labels(parent, L)


def test_same_seed_same_spins_different_seed_different():
    assert np.array_equal(run_wolff(3), run_wolff(3))
    assert not np.array_equal(run_wolff(3), run_wolff(4))
    assert np.array_equal(run_sw(3)[0], run_sw(3)[0])
    assert not np.array_equal(run_sw(3)[0], run_sw(4)[0])


def test_sw_result_independent_of_thread_count():
    # 128**2 sites is above the threshold where row strips run on threads.
    ref_spins, ref_labels = run_sw(5, L=128, sweeps=5, n_threads=1)
    for n_threads in (2, 3, 7, 128):  # 128: one row per strip, every vertical bond a seam
        spins, labels = run_sw(5, L=128, sweeps=5, n_threads=n_threads)
        assert np.array_equal(spins, ref_spins) and np.array_equal(labels, ref_labels)


# ---------------------------------------------------------------- cluster bookkeeping

def connected(mask):
    """Whether the True sites form one periodic nearest-neighbour component."""
    L = mask.shape[0]
    sites = set(zip(*np.nonzero(mask)))
    todo = [next(iter(sites))]
    seen = set(todo)
    while todo:
        r, c = todo.pop()
        for nb in (((r + 1) % L, c), ((r - 1) % L, c), (r, (c + 1) % L), (r, (c - 1) % L)):
            if nb in sites and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    return len(seen) == len(sites)


@pytest.mark.parametrize("L,J", [(16, 1.0), (16, -1.0), (5, -1.0)])
def test_last_cluster_is_what_flipped(L, J):
    spins = random_spins(L, 1)
    state = np.array([11], np.uint64)
    ws = wolff_workspace(L)
    sizes = []
    for _ in range(30):
        before = spins.copy()
        flipped = wolff_clusters(spins, 1 / TC, J, 1, state, *ws)
        mask = last_cluster_mask(ws[1], ws[2][0], L)
        assert mask.sum() == flipped
        assert np.array_equal(mask, spins != before)
        assert connected(mask)
        if L % 2 == 0:  # aligned (ferro) or staggered-aligned (antiferro) after the flip
            gauge = spins * (_stagger(L) if J < 0 else 1)
            assert len(np.unique(gauge[mask])) == 1
        sizes.append(flipped)
    assert max(sizes) > 1


def test_last_cluster_mask_after_sweeps():
    L = 32
    spins = random_spins(L, 2)
    ws = wolff_workspace(L)
    n_clusters, n_flipped = wolff_sweeps(spins, 1 / TC, 1.0, 3, np.array([5], np.uint64), *ws)
    assert n_flipped >= 3 * L * L and n_clusters >= 1 and ws[2][0] == n_clusters
    mask = last_cluster_mask(ws[1], ws[2][0], L)
    assert 1 <= mask.sum() <= n_flipped and connected(mask)
    assert len(np.unique(spins[mask])) == 1


def test_sw_labels_are_aligned_connected_clusters_named_by_their_first_site():
    L = 16
    spins, labels = run_sw(6, L=L, sweeps=3)
    flat = labels.ravel()
    roots = np.unique(flat)
    assert np.array_equal(flat[roots], roots)  # each label is a member of its own cluster
    for root in roots:
        mask = labels == root
        assert np.flatnonzero(mask)[0] == root
        assert connected(mask) and len(np.unique(spins[mask])) == 1


def test_cluster_id_overflow_resets_marks():
    L = 8
    spins = random_spins(L, 3)
    stack, mark, cid = wolff_workspace(L)
    cid[0] = 2**31 - 3
    mark[:] = 2**31 - 3  # stale marks that would alias the ids after wrapping
    state = np.array([9], np.uint64)
    for _ in range(5):
        before = spins.copy()
        flipped = wolff_clusters(spins, 1 / TC, 1.0, 1, state, stack, mark, cid)
        mask = last_cluster_mask(mark, cid[0], L)
        assert mask.sum() == flipped and np.array_equal(mask, spins != before)
    assert 1 <= cid[0] <= 3


# ---------------------------------------------------------------- limits

def test_zero_temperature_flips_whole_lattice():
    L = 8
    spins = np.ones((L, L), np.int8)
    n_clusters, n_flipped = wolff_sweeps(spins, 1 / 1e-3, 1.0, 3, np.array([1], np.uint64),
                                         *wolff_workspace(L))
    assert (n_clusters, n_flipped) == (3, 3 * L * L)
    assert (spins == -1).all()
    parent = sw_workspace(L)
    assert swendsen_wang_sweeps(spins, 1 / 1e-3, 1.0, 4, np.array([1], np.uint64), parent) == 1
    assert len(np.unique(spins)) == 1 and (parent == 0).all()


def test_infinite_temperature_clusters_are_single_sites():
    L = 8
    spins = random_spins(L, 4)
    n_clusters, n_flipped = wolff_sweeps(spins, 0.0, 1.0, 2, np.array([1], np.uint64),
                                         *wolff_workspace(L))
    assert n_clusters == n_flipped == 2 * L * L
    parent = sw_workspace(L)
    assert swendsen_wang_sweeps(spins, 0.0, 1.0, 1, np.array([1], np.uint64), parent) == L * L
