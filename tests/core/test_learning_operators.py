"""The local operator basis: sums, per-site features, the flip identity the pseudo-likelihood uses."""
import numpy as np
import pytest

from isinglab.core.errors import IsingLabError
from isinglab.core.learning import operators as ops
from isinglab.core.observables import bond_sum_and_magnetisation


def random_spins(n, L, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2, size=(n, L, L)) * 2 - 1).astype(np.int8)


@pytest.mark.parametrize("L", [2, 3, 8, 11])
def test_bond_sums_match_the_observables_module(L):
    x = random_spins(5, L, L)
    expected = [bond_sum_and_magnetisation(s)[0] for s in x]
    assert ops.bond_sums(x).tolist() == expected
    assert np.allclose(ops.energies(x, coupling=1.5, field=0.3),
                       [-1.5 * b - 0.3 * s.sum() for b, s in zip(expected, x)])


def test_basis_layout():
    basis = ops.basis(2)
    pairs = [op for op in basis if op.order == 2]
    assert len(pairs) == ((2 * 2 + 1) ** 2 - 1) // 2
    assert [op.offsets[1] for op in pairs[:2]] == [(1, 0), (0, 1)]  # nearest neighbours first
    groups = ops.groups(basis)
    assert list(groups) == ["h", "nn", "nnn", "pair(2,0)", "pair(2,1)", "pair(2,2)", "3-spin", "plaquette"]
    assert len(groups["3-spin"]) == 4 and len(groups["nn"]) == 2 and len(groups["pair(2,1)"]) == 4
    assert len({op.name for op in basis}) == len(basis)


def test_nearest_neighbour_sums_are_the_bond_sum():
    x = random_spins(4, 8, 1)
    basis = ops.basis(1)
    phi = ops.operator_sums(x, basis)
    nn = [i for i, op in enumerate(basis) if op.group == "nn"]
    assert phi[:, nn].sum(axis=1).tolist() == ops.bond_sums(x).tolist()
    h = [i for i, op in enumerate(basis) if op.group == "h"][0]
    assert phi[:, h].tolist() == x.sum(axis=(1, 2)).tolist()


def test_site_features_count_each_placement_once_per_member():
    x = random_spins(3, 7, 2)
    basis = ops.basis(3)
    f = ops.site_features(x, basis)
    phi = ops.operator_sums(x, basis)
    orders = np.array([op.order for op in basis])
    assert np.array_equal(f.sum(axis=1), phi * orders)


def test_flipping_one_spin_changes_the_model_by_twice_the_local_feature():
    """sum_o K_o phi_o(x) - sum_o K_o phi_o(x with x_i flipped) = 2 K.f_i(x): the PL identity."""
    rng = np.random.default_rng(3)
    L = 9
    x = random_spins(1, L, 4)
    basis = ops.basis(3)
    k = rng.normal(size=len(basis))
    f = ops.site_features(x, basis)[0]
    before = ops.operator_sums(x, basis)[0] @ k
    for site in rng.choice(L * L, 10, replace=False):
        y = x.copy()
        y[0].flat[site] *= -1
        after = ops.operator_sums(y, basis)[0] @ k
        assert before - after == pytest.approx(2.0 * f[site] @ k, abs=1e-9)


def test_kernel_is_symmetric_and_exact_couplings_are_ising():
    basis = ops.basis(2)
    exact = ops.exact_couplings(basis, 2.5, coupling=1.0, field=0.5)
    k = ops.kernel(exact, basis, 2)
    assert k.shape == (5, 5)
    assert np.array_equal(k, k[::-1, ::-1])
    assert k[2, 3] == k[3, 2] == k[2, 1] == k[1, 2] == pytest.approx(0.4)
    assert np.count_nonzero(k) == 4
    names = {op.name: v for op, v in zip(basis, exact)}
    assert names["h"] == pytest.approx(0.2) and names["plaquette"] == 0.0


@pytest.mark.parametrize("range_,size", [(0, 16), (3, 6), (7, 64), (1.5, 16)])
def test_bad_ranges_are_refused(range_, size):
    with pytest.raises(IsingLabError):
        ops.check_range(range_, size)


def test_bad_configuration_shapes_are_refused():
    with pytest.raises(IsingLabError, match="configurations"):
        ops.as_batch(np.ones((3, 4, 5), dtype=np.int8))
