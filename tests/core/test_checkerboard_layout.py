"""The sublattice-split layout's merge and its bond-sum/magnetisation measurement, against
plain numpy on the (L, L) lattice (these run once per chunk on every checkerboard path)."""
import numpy as np
import pytest

from isinglab.core.kernels import checkerboard as cb


def _reference(spins):
    s = spins.astype(np.int64)
    bonds = (s * np.roll(s, 1, axis=0)).sum() + (s * np.roll(s, 1, axis=1)).sum()
    return int(bonds), int(s.sum())


def _lattices(size):
    rng = np.random.default_rng(size)
    i, j = np.indices((size, size))
    yield np.where(rng.random((size, size)) < 0.5, 1, -1).astype(np.int8)
    yield np.where(rng.random((size, size)) < 0.9, 1, -1).astype(np.int8)
    yield np.where((i + j) % 2 == 0, 1, -1).astype(np.int8)  # antiferromagnet: every bond -1
    yield np.where(j < size // 2, 1, -1).astype(np.int8)  # two vertical domain walls
    stripes = np.where(i % 2 == 0, 1, -1).astype(np.int8)
    yield stripes
    yield np.ascontiguousarray(stripes.T)


@pytest.mark.parametrize("size", [2, 4, 6, 16, 130])
def test_merge_inverts_split(size):
    for spins in _lattices(size):
        out = np.zeros_like(spins)
        np.testing.assert_array_equal(cb.merge(cb.split(spins), out), spins)


@pytest.mark.parametrize("size", [2, 4, 6, 16, 130])
def test_bond_sum_and_magnetisation_match_numpy(size):
    for spins in _lattices(size):
        b, m = cb.bond_sum_and_magnetisation(cb.split(spins))
        assert (int(b), int(m)) == _reference(spins)


def test_measure_and_merge_together():
    spins = next(_lattices(64))
    out = np.zeros_like(spins)
    b, m = cb.measure_and_merge(cb.split(spins), out)
    assert (int(b), int(m)) == _reference(spins)
    np.testing.assert_array_equal(out, spins)
    empty = np.empty((0, 0), np.int8)
    assert tuple(map(int, cb.measure_and_merge(cb.split(spins), empty))) == _reference(spins)
